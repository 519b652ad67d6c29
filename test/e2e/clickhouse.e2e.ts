/**
 * mta550's flat NDJSON in a real ClickHouse (Debian's 18.16, clickhouse.ts), with the table, view
 * and queries of docs/clickhouse.sql exactly as the file has them (so the docs cannot drift): the
 * bundled Postfix and Exim samples (013 with its onsets among them) go through
 * `mta550 analyze --output ndjson --ecs=false --codes 5xx --records events,onsets,groups,attempts`
 * into the table, and the answers of the docs' queries must equal mta550's own report
 * (`--output json`) for the same input: every group's count, distinct recipients, first and last
 * seen; the totals; per-minute counts that add up to the total and to each subtype's count; the
 * delivery units behind the rates; the onset records. The last block pins the 18.16 behaviour that
 * docs/clickhouse.md warns about, with mta550's own rows.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/aggregate/report.js';
import { startClickHouse, type ClickHouse } from './clickhouse.js';
import { CLI, ROOT } from './scenario.js';

const SQL_FILE = path.resolve('docs/clickhouse.sql');
/** The statements of docs/clickhouse.sql, in file order. */
const NAMES = ['table', 'units_view', 'groups', 'totals', 'rejections_per_minute', 'unit_failure_rate_per_minute', 'units_by_domain', 'onsets'];
const INSERT_SETTINGS = { input_format_skip_unknown_fields: 1 };

const samples = (dir: string, ext: string) =>
  readdirSync(path.resolve('samples', dir))
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => path.resolve('samples', dir, f));
/** Every bundled Postfix and Exim log: 21 inputs, 13,700 rows (the 56,000 lines of 013 give most of them). */
const INPUTS = [...samples('postfix', '.log'), path.resolve('samples/postfix/013-dmarc-after-relay-change.log.gz'), ...samples('exim', '.log')];
const COMMON = ['--year', '2024', '--codes', '5xx', '--quiet'];

type Row = Record<string, unknown>;
const parseRows = (body: string): Row[] =>
  body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
/** 18.16's JSONEachRow quotes 64-bit integers (every count()). */
const n = (v: unknown) => Number(v);

/** The named statements of docs/clickhouse.sql: each follows a `-- name: x` line, up to the next. */
function statements(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(/^-- name: *(\S+) *$/m);
  for (let i = 1; i < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!.trim().replace(/;$/, ''));
  return out;
}

let ch: ClickHouse | undefined;
const db = () => ch!;
let sql: Map<string, string>;
let ndjson: string;
let flat: Row[];
let report: Report;
const timings: Record<string, number> = {};

/** One of the docs' queries, its rows as JSON. */
async function docsQuery(name: string): Promise<Row[]> {
  const q = sql.get(name);
  if (q === undefined) throw new Error(`docs/clickhouse.sql has no query "${name}"`);
  return parseRows(await db().query(`${q}\nFORMAT JSONEachRow`));
}

const rejections = () => flat.filter((r) => r['event.dataset'] === 'mta550.rejection');

beforeAll(async () => {
  if (process.env.MTA550_E2E_NAMESPACE !== '1') throw new Error('run the end-to-end suite with npm run test:e2e (it needs its own network and mount namespaces)');
  let t = Date.now();
  const cli = async (args: string[]) => (await promisify(execFile)(process.execPath, [CLI, 'analyze', ...INPUTS, ...COMMON, ...args], { encoding: 'utf8', maxBuffer: 512 << 20 })).stdout;
  const [out, json] = await Promise.all([cli(['--output', 'ndjson', '--ecs=false', '--records', 'events,onsets,groups,attempts']), cli(['--output', 'json'])]);
  ndjson = out;
  report = JSON.parse(json) as Report;
  flat = parseRows(ndjson);
  timings.mta550 = Date.now() - t;

  t = Date.now();
  ch = await startClickHouse(ROOT, mkdtempSync('/tmp/mta550-e2e-clickhouse-'));
  timings.start = Date.now() - t;

  t = Date.now();
  sql = statements(readFileSync(SQL_FILE, 'utf8'));
  await db().query(sql.get('table')!);
  await db().query(sql.get('units_view')!);
  await db().insertJsonEachRow('mta550_events', ndjson, INSERT_SETTINGS);
  timings.ingest = Date.now() - t;
}, 120_000);

afterAll(async () => {
  await ch?.stop();
  // The configuration and the server's logs stay for a look after a failure; the 18 MB of data go.
  if (ch !== undefined) rmSync(path.join(ch.dir, 'data'), { recursive: true, force: true });
  console.log(`clickhouse.e2e: mta550 ${timings.mta550} ms, server start ${timings.start} ms, create + ingest ${timings.ingest} ms`);
});

describe('mta550 NDJSON in ClickHouse 18.16, with docs/clickhouse.sql', () => {
  it('runs every statement of the docs file; the table takes every record of the flat output', async () => {
    expect([...sql.keys()]).toEqual(NAMES);
    expect((await db().query('SELECT version()')).trim()).toMatch(/^18\.16\./);
    // What went in: several record kinds and enough of each to mean something.
    const byDataset = new Map<string, number>();
    for (const r of flat) byDataset.set(r['event.dataset'] as string, (byDataset.get(r['event.dataset'] as string) ?? 0) + 1);
    expect(byDataset.get('mta550.rejection')).toBe(report.totals.events);
    expect(byDataset.get('mta550.onset')).toBe(report.onsets.length);
    expect(byDataset.get('mta550.group')).toBe(report.groups.length);
    expect(report.totals.events).toBeGreaterThan(400);
    expect(report.onsets.length).toBeGreaterThan(0);
    expect(byDataset.get('mta550.delivery')).toBeGreaterThan(10_000);
    expect(new Set(rejections().map((r) => r['mta550.source.format']))).toEqual(new Set(['postfix', 'exim']));
    const stored = parseRows(await db().query('SELECT `event.dataset` AS dataset, count() AS rows FROM mta550_events GROUP BY dataset FORMAT JSONEachRow'));
    expect(new Map(stored.map((r) => [r.dataset as string, n(r.rows)]))).toEqual(byDataset);
    // Every statement parses and answers (the comparisons follow).
    for (const name of NAMES.slice(2)) expect((await docsQuery(name)).length).toBeGreaterThan(0);
  });

  it('groups: every group of the report, with its count, distinct recipients and senders, first and last seen', async () => {
    const got = await docsQuery('groups');
    expect(report.groups.some((g) => g.recipientDomain === '(other)')).toBe(false);
    expect(got).toHaveLength(report.groups.length);
    const key = (domain: unknown, direction: unknown, subtype: unknown) => JSON.stringify([domain, direction, subtype]);
    const byKey = new Map(got.map((r) => [key(r.recipient_domain, r.direction, r.subtype), r]));
    // The exact distinct recipients and senders of a group, from the rows themselves (the report
    // stops counting at 256).
    const exact = new Map<string, { recipients: Set<string>; senders: Set<string> }>();
    for (const r of rejections()) {
      const k = key(r['destination.domain'] ?? null, r['email.direction'], r['mta550.subtype'] ?? 'other_or_unclassified');
      if (!exact.has(k)) exact.set(k, { recipients: new Set(), senders: new Set() });
      for (const a of (r['email.to.address'] as string[] | undefined) ?? []) exact.get(k)!.recipients.add(a);
      for (const a of (r['email.from.address'] as string[] | undefined) ?? []) exact.get(k)!.senders.add(a);
    }
    let capped = 0;
    for (const g of report.groups) {
      const k = key(g.recipientDomain, g.direction, g.subtype);
      const r = byKey.get(k);
      expect(r, k).toBeDefined();
      expect({ k, count: n(r!.rejections), firstSeen: r!.first_seen, lastSeen: r!.last_seen }).toEqual({ k, count: g.count, firstSeen: g.firstSeen, lastSeen: g.lastSeen });
      if (g.recipientsCapped) {
        // A lower bound in the report; SQL counts them all.
        capped++;
        expect(n(r!.recipients)).toBeGreaterThan(g.recipients);
      } else expect({ k, recipients: n(r!.recipients) }).toEqual({ k, recipients: g.recipients });
      // The report has no flag for capped senders: 256 means at least 256.
      if (g.senders === 256) expect(n(r!.senders)).toBeGreaterThanOrEqual(256);
      else expect({ k, senders: n(r!.senders) }).toEqual({ k, senders: g.senders });
      expect({ k, recipients: n(r!.recipients), senders: n(r!.senders) }).toEqual({ k, recipients: exact.get(k)!.recipients.size, senders: exact.get(k)!.senders.size });
    }
    // 013's DMARC group has more than 256 recipients; a group without a time has NULL first/last seen.
    expect(capped).toBeGreaterThan(0);
    expect(report.groups.some((g) => g.firstSeen === null)).toBe(true);
  });

  it('totals: every rejection, by direction, the time they span', async () => {
    const [t] = await docsQuery('totals');
    const withoutTime = rejections().filter((r) => r['mta550.time_missing'] === true).length;
    expect(withoutTime).toBeGreaterThan(0);
    expect({ rejections: n(t!.rejections), outbound: n(t!.outbound), inbound: n(t!.inbound), withoutTime: n(t!.without_time), first: t!.first_seen, last: t!.last_seen }).toEqual({
      rejections: report.totals.events,
      outbound: report.totals.byDirection.outbound,
      inbound: report.totals.byDirection.inbound,
      withoutTime,
      first: report.totals.firstSeen,
      last: report.totals.lastSeen,
    });
  });

  it('rejections per minute add up to the total, and per subtype to the report subtypes', async () => {
    const rows = await docsQuery('rejections_per_minute');
    const sum = rows.reduce((s, r) => s + n(r.rejections), 0);
    expect(sum).toBe(report.totals.events);
    const bySubtype = new Map<string, number>();
    for (const r of rows) bySubtype.set(r.subtype as string, (bySubtype.get(r.subtype as string) ?? 0) + n(r.rejections));
    expect(bySubtype).toEqual(new Map(report.subtypes.map((s) => [s.subtype, s.count])));
    // Lines without a time are the NULL minute; every other minute is a minute.
    const untimed = rows.filter((r) => r.minute === null).reduce((s, r) => s + n(r.rejections), 0);
    expect(untimed).toBe(rejections().filter((r) => r['mta550.time_missing'] === true).length);
    for (const r of rows) if (r.minute !== null) expect(r.minute).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:00$/);
    // Per minute and subtype, from the rows themselves.
    const mine = new Map<string, number>();
    for (const r of rejections()) {
      if (r['mta550.time_missing'] === true) continue;
      const k = `${(r['@timestamp'] as string).slice(0, 16).replace('T', ' ')}:00|${(r['mta550.subtype'] as string | undefined) ?? 'other_or_unclassified'}`;
      mine.set(k, (mine.get(k) ?? 0) + 1);
    }
    expect(new Map(rows.filter((r) => r.minute !== null).map((r) => [`${r.minute as string}|${r.subtype as string}`, n(r.rejections)]))).toEqual(mine);
  });

  it('delivery units: per minute they add up to the report units; per domain they are the denominators of the group rates', async () => {
    const perMinute = await docsQuery('unit_failure_rate_per_minute');
    const units = perMinute.reduce((s, r) => s + n(r.units), 0);
    const failed = perMinute.reduce((s, r) => s + n(r.failed_units), 0);
    expect({ total: units, failed }).toEqual(report.units);
    expect(report.units.failed).toBeGreaterThan(100);
    for (const r of perMinute) expect(r.failure_rate).toBeCloseTo(n(r.failed_units) / n(r.units), 12);

    const byDomain = new Map((await docsQuery('units_by_domain')).map((r) => [r.recipient_domain as string, r]));
    const failedByDomain = new Map<string, number>();
    let compared = 0;
    for (const g of report.groups) {
      if (g.units === null) continue;
      const r = byDomain.get(g.recipientDomain!);
      expect({ domain: g.recipientDomain, units: r === undefined ? 0 : n(r.units) }).toEqual({ domain: g.recipientDomain, units: g.units });
      failedByDomain.set(g.recipientDomain!, (failedByDomain.get(g.recipientDomain!) ?? 0) + g.failedUnits!);
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
    // A unit fails with one subtype: the failed units of a domain are its groups' failed units together.
    for (const [domain, f] of failedByDomain) expect({ domain, failed: n(byDomain.get(domain)?.failed_units ?? 0) }).toEqual({ domain, failed: f });
  });

  it('onsets: the report onsets, one row each', async () => {
    const rows = await docsQuery('onsets');
    expect(rows).toHaveLength(report.onsets.length);
    const mine = (o: Report['onsets'][number]) => JSON.stringify([o.id, o.type, o.detectedAt, o.onsetAt, o.series.recipientDomain ?? null, o.series.subtype, o.confidence]);
    const theirs = (r: Row) => JSON.stringify([r.id, r.type, r.detected_at, r.onset_at, r.recipient_domain, r.subtype, r.confidence]);
    expect(rows.map(theirs).sort()).toEqual(report.onsets.map(mine).sort());
    expect(rows.some((r) => r.type === 'onset' && r.recipient_domain === 'gmail.example' && r.subtype === 'sender_auth_failed')).toBe(true);
  });
});

describe('what 18.16 does with mta550 output that the docs table avoids (docs/clickhouse.md, caveats)', () => {
  const first = (pred: (r: Row) => boolean) => JSON.stringify(flat.find(pred));

  it('refuses the keys the table leaves out, unless told to skip them', async () => {
    await db().query('CREATE TABLE strict AS mta550_events');
    await expect(db().insertJsonEachRow('strict', ndjson)).rejects.toThrow(/Unknown field found while parsing JSONEachRow format: related\.(hosts|ip)/);
    expect((await db().query('SELECT count() FROM strict')).trim()).toBe('0');
  });

  it('refuses the nested ECS documents (--ecs), even with input_format_import_nested_json', async () => {
    const nested = execFileSync(process.execPath, [CLI, 'analyze', INPUTS[0]!, ...COMMON, '--output', 'ndjson', '--records', 'events'], { encoding: 'utf8' });
    await expect(db().insertJsonEachRow('strict', nested)).rejects.toThrow(/Unknown field found while parsing JSONEachRow format: ecs/);
    await expect(db().insertJsonEachRow('strict', nested, { input_format_import_nested_json: 1 })).rejects.toThrow(/Unknown field found while parsing JSONEachRow format: email\.from/);
  });

  it('reads array columns named prefix.name of one prefix as one Nested structure of equal lengths (related.hosts and related.ip), not those with two dots (email.from.address, email.to.address)', async () => {
    const unequal = first((r) => Array.isArray(r['related.hosts']) && Array.isArray(r['related.ip']) && (r['related.hosts'] as unknown[]).length !== (r['related.ip'] as unknown[]).length);
    await db().query('CREATE TABLE rel (`event.id` String, `related.hosts` Array(String), `related.ip` Array(String)) ENGINE = MergeTree ORDER BY `event.id`');
    await expect(db().insertJsonEachRow('rel', unequal, INSERT_SETTINGS)).rejects.toThrow(/Nested data structure 'related' .*different array sizes/);
    // A missing key is an empty array, of a different length too.
    const hostsOnly = first((r) => Array.isArray(r['related.hosts']) && r['related.ip'] === undefined);
    await expect(db().insertJsonEachRow('rel', hostsOnly, INSERT_SETTINGS)).rejects.toThrow(/different array sizes/);
    // mta550 has rejections with a sender and no recipient, and the other way round: the docs
    // table took them (the main insert), with [] for the missing one.
    const fromOnly = rejections().filter((r) => r['email.from.address'] !== undefined && r['email.to.address'] === undefined).map((r) => r['event.id'] as string);
    const toOnly = rejections().filter((r) => r['email.from.address'] === undefined && r['email.to.address'] !== undefined).map((r) => r['event.id'] as string);
    expect(fromOnly.length).toBeGreaterThan(0);
    expect(toOnly.length).toBeGreaterThan(0);
    const ids = [...fromOnly, ...toOnly].map((id) => `'${id}'`).join(', ');
    const stored = parseRows(await db().query(`SELECT \`event.id\` AS id, length(\`email.from.address\`) AS f, length(\`email.to.address\`) AS t FROM mta550_events WHERE id IN (${ids}) FORMAT JSONEachRow`));
    const lengths = (id: string, from: number, to: number): [string, number[]] => [id, [from, to]];
    expect(new Map(stored.map((r) => lengths(r.id as string, n(r.f), n(r.t))))).toEqual(new Map([...fromOnly.map((id) => lengths(id, 1, 0)), ...toOnly.map((id) => lengths(id, 0, 1))]));
  });

  it('takes mta550 explicit nulls only into Nullable columns, and its JSON numbers not into String', async () => {
    await db().query('CREATE TABLE notnull (`event.id` String, `mta550.action` String, `mta550.code` String) ENGINE = MergeTree ORDER BY `event.id`');
    const withNull = first((r) => r['event.dataset'] === 'mta550.rejection' && r['mta550.action'] === null);
    await expect(db().insertJsonEachRow('notnull', withNull, INSERT_SETTINGS)).rejects.toThrow(/expected opening quote/);
    // event.code is the reply code as a string, mta550.code the same as a number.
    const numbered = first((r) => r['event.dataset'] === 'mta550.rejection' && typeof r['mta550.action'] === 'string' && typeof r['mta550.code'] === 'number');
    await expect(db().insertJsonEachRow('notnull', numbered, INSERT_SETTINGS)).rejects.toThrow(/expected opening quote/);
    // The other way round works: a quoted number goes into a number column.
    await db().query('CREATE TABLE num (`event.id` String, `mta550.code` UInt16) ENGINE = MergeTree ORDER BY `event.id`');
    await db().insertJsonEachRow('num', '{"event.id":"x","mta550.code":"550"}');
    expect((await db().query('SELECT `mta550.code` FROM num')).trim()).toBe('550');
  });

  it('reads @timestamp into a DateTime only with best_effort, to the second; there is no DateTime64', async () => {
    await db().query('CREATE TABLE dt (`@timestamp` DateTime, `event.id` String) ENGINE = MergeTree ORDER BY `@timestamp`');
    const withMs = first((r) => r['event.dataset'] === 'mta550.rejection' && r['mta550.time_missing'] !== true && !(r['@timestamp'] as string).endsWith('.000Z'));
    await expect(db().insertJsonEachRow('dt', withMs, INSERT_SETTINGS)).rejects.toThrow(/Cannot parse input/);
    await db().insertJsonEachRow('dt', withMs, { ...INSERT_SETTINGS, date_time_input_format: 'best_effort' });
    const [row] = parseRows(await db().query('SELECT toUnixTimestamp(`@timestamp`) AS u FROM dt FORMAT JSONEachRow'));
    expect(n(row!.u)).toBe(Math.floor(Date.parse(JSON.parse(withMs)['@timestamp'] as string) / 1000));
    await expect(db().query('SELECT toDateTime64(now(), 3)')).rejects.toThrow(/Unknown function/);
  });

  it('quotes 64-bit integers in JSONEachRow output', async () => {
    const [row] = parseRows(await db().query("SELECT count() AS c, toUInt32(1) AS small FROM mta550_events WHERE `event.dataset` = 'mta550.onset' FORMAT JSONEachRow"));
    expect(row).toEqual({ c: String(report.onsets.length), small: 1 });
  });
});
