/**
 * Smoke test of the ClickHouse harness (clickhouse.ts), to be replaced by the test that ingests
 * mta550's NDJSON: a real ClickHouse 18.16 starts, takes JSONEachRow and answers SQL. It also pins
 * down what 18.16's JSONEachRow does with the shapes of mta550's flat ECS output (dotted keys,
 * `@timestamp` in ISO 8601 with milliseconds and Z, arrays, nulls, nested objects, unknown keys).
 */
import { mkdtempSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouse, type ClickHouse } from './clickhouse.js';
import { ROOT } from './scenario.js';

let ch: ClickHouse | undefined;
let startMs = 0;
const db = () => ch!;
const rows = (body: string) =>
  body
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const BEST_EFFORT = { date_time_input_format: 'best_effort' };

beforeAll(async () => {
  if (process.env.MTA550_E2E_NAMESPACE !== '1') throw new Error('run the end-to-end suite with npm run test:e2e (it needs its own network and mount namespaces)');
  const t0 = Date.now();
  ch = await startClickHouse(ROOT, mkdtempSync('/tmp/mta550-e2e-clickhouse-'));
  startMs = Date.now() - t0;
}, 60_000);

afterAll(async () => {
  await ch?.stop();
});

describe('real ClickHouse 18.16', () => {
  it('starts quickly and answers over HTTP', async () => {
    expect(startMs).toBeLessThan(15_000);
    expect((await db().query('SELECT version()')).trim()).toMatch(/^18\.16\./);
    expect((await db().query('SELECT 1 + 1 FORMAT TabSeparated')).trim()).toBe('2');
  });

  it('maps dotted JSON keys to back-quoted columns and parses ISO 8601 into DateTime with best_effort', async () => {
    await db().query('CREATE TABLE t (`event.code` String, `n` UInt32, ts DateTime) ENGINE = MergeTree ORDER BY ts');
    const ndjson = [
      { 'event.code': '550', n: 1, ts: '2024-03-04T10:30:33.000Z' },
      { 'event.code': '552', n: 2, ts: '2024-03-04T12:30:34.999+02:00' },
      { 'event.code': '554', n: 3, ts: '2024-03-04T10:30:35Z' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    // The default parser (basic) reads `YYYY-MM-DD hh:mm:ss` and stops at the fraction or the Z.
    await expect(db().insertJsonEachRow('t', ndjson)).rejects.toThrow(/Cannot parse input/);
    await db().insertJsonEachRow('t', ndjson, BEST_EFFORT);
    const got = rows(await db().query('SELECT `event.code`, n, toString(ts) AS ts, toUnixTimestamp(ts) AS u FROM t ORDER BY n FORMAT JSONEachRow'));
    // The server runs in UTC; the fraction is dropped (DateTime has seconds), offsets are applied.
    expect(got).toEqual([
      { 'event.code': '550', n: 1, ts: '2024-03-04 10:30:33', u: 1709548233 },
      { 'event.code': '552', n: 2, ts: '2024-03-04 10:30:34', u: 1709548234 },
      { 'event.code': '554', n: 3, ts: '2024-03-04 10:30:35', u: 1709548235 },
    ]);
    expect((await db().query("SELECT count() FROM t WHERE `event.code` = '552' FORMAT TabSeparated")).trim()).toBe('1');
  });

  it('keeps @timestamp with its milliseconds through a String column and MATERIALIZED columns (no DateTime64 in 18.16)', async () => {
    await expect(db().query('SELECT toDateTime64(now(), 3)')).rejects.toThrow(/Unknown function/);
    await db().query(`CREATE TABLE ts (
      \`@timestamp\` String,
      \`event.code\` String,
      time DateTime MATERIALIZED parseDateTimeBestEffort(\`@timestamp\`),
      ms UInt16 MATERIALIZED toUInt16(substring(\`@timestamp\`, 21, 3))
    ) ENGINE = MergeTree ORDER BY time`);
    await db().insertJsonEachRow('ts', '{"@timestamp":"2024-03-04T10:30:33.123Z","event.code":"550"}\n{"@timestamp":"2024-03-04T10:30:33.045Z","event.code":"551"}\n');
    const got = rows(await db().query('SELECT `@timestamp`, toString(time) AS time, ms FROM ts ORDER BY time, ms FORMAT JSONEachRow'));
    expect(got).toEqual([
      { '@timestamp': '2024-03-04T10:30:33.045Z', time: '2024-03-04 10:30:33', ms: 45 },
      { '@timestamp': '2024-03-04T10:30:33.123Z', time: '2024-03-04 10:30:33', ms: 123 },
    ]);
  });

  it('ingests arrays of strings into Array(String); dotted array columns with one prefix form a Nested structure', async () => {
    await db().query(
      'CREATE TABLE a (`event.code` String, tags Array(String), `mta550.subtype` String, `mta550.hosts` Array(String), `mta550.rcpts` Array(String)) ENGINE = MergeTree ORDER BY `event.code`',
    );
    await db().insertJsonEachRow(
      'a',
      '{"event.code":"1","tags":["x","y\\u00e9"],"mta550.subtype":"s","mta550.hosts":["h1","h2"],"mta550.rcpts":["r1","r2"]}\n{"event.code":"2","tags":[]}\n',
    );
    expect(rows(await db().query('SELECT `event.code`, tags, `mta550.hosts`, `mta550.rcpts`, length(tags) AS l FROM a ORDER BY `event.code` FORMAT JSONEachRow'))).toEqual([
      { 'event.code': '1', tags: ['x', 'yé'], 'mta550.hosts': ['h1', 'h2'], 'mta550.rcpts': ['r1', 'r2'], l: '2' },
      { 'event.code': '2', tags: [], 'mta550.hosts': [], 'mta550.rcpts': [], l: '0' },
    ]);
    // `mta550.hosts` and `mta550.rcpts` are the Nested `mta550`: arrays of different lengths (a
    // missing key is an empty array) are refused, whatever the engine.
    await expect(db().insertJsonEachRow('a', '{"event.code":"3","mta550.hosts":["h1"],"mta550.rcpts":["r1","r2"]}')).rejects.toThrow(/different array sizes/);
    await expect(db().insertJsonEachRow('a', '{"event.code":"3","mta550.hosts":["h1"]}')).rejects.toThrow(/different array sizes/);
    // null is not an array, nor an element of Array(String).
    await expect(db().insertJsonEachRow('a', '{"event.code":"3","tags":null}')).rejects.toThrow(/expected \[/);
    await expect(db().insertJsonEachRow('a', '{"event.code":"3","tags":["x",null]}')).rejects.toThrow(/expected opening quote/);
    await db().query('CREATE TABLE an (s String, v Array(Nullable(String))) ENGINE = MergeTree ORDER BY s');
    await db().insertJsonEachRow('an', '{"s":"1","v":["x",null]}');
    expect(rows(await db().query('SELECT v FROM an FORMAT JSONEachRow'))).toEqual([{ v: ['x', null] }]);
  });

  it('takes null only into Nullable columns; a missing key gets the type default (NULL when Nullable)', async () => {
    await db().query('CREATE TABLE n (`event.code` String, `source.ip` Nullable(String), `event.count` Nullable(UInt32), `x.n` UInt32) ENGINE = MergeTree ORDER BY `event.code`');
    await db().insertJsonEachRow('n', '{"event.code":"1","source.ip":null,"event.count":null}\n{"event.code":"2","source.ip":"192.0.2.1","event.count":7,"x.n":"8"}\n{"event.code":"3"}\n');
    expect(rows(await db().query('SELECT * FROM n ORDER BY `event.code` FORMAT JSONEachRow'))).toEqual([
      { 'event.code': '1', 'source.ip': null, 'event.count': null, 'x.n': 0 },
      { 'event.code': '2', 'source.ip': '192.0.2.1', 'event.count': 7, 'x.n': 8 },
      // Missing keys: NULL for Nullable, 0 / '' / [] otherwise (DEFAULT expressions are not applied).
      { 'event.code': '3', 'source.ip': null, 'event.count': null, 'x.n': 0 },
    ]);
    await expect(db().insertJsonEachRow('n', '{"event.code":null}')).rejects.toThrow(/expected opening quote/);
    // A JSON number is not a String.
    await expect(db().insertJsonEachRow('n', '{"event.code":550}')).rejects.toThrow(/expected opening quote/);
  });

  it('refuses nested objects and unknown keys unless told to skip (or, one level deep, to flatten) them', async () => {
    await db().query('CREATE TABLE o (`event.code` String, `mta550.subtype` String) ENGINE = MergeTree ORDER BY `event.code`');
    await expect(db().insertJsonEachRow('o', '{"event.code":"1","mta550":{"subtype":"a"}}')).rejects.toThrow(/Unknown field found while parsing JSONEachRow format: mta550/);
    await expect(db().insertJsonEachRow('o', '{"event.code":"1","other":"a"}')).rejects.toThrow(/Unknown field found while parsing JSONEachRow format: other/);
    // Nothing of a refused insert is kept.
    expect((await db().query('SELECT count() FROM o')).trim()).toBe('0');
    await db().insertJsonEachRow('o', '{"event.code":"2","other":"a","deep":{"x":[1,{"y":null}]},"mta550":{"subtype":"b"}}', { input_format_skip_unknown_fields: 1 });
    await db().insertJsonEachRow('o', '{"event.code":"3","mta550":{"subtype":"c"}}', { input_format_import_nested_json: 1 });
    expect(rows(await db().query('SELECT * FROM o ORDER BY `event.code` FORMAT JSONEachRow'))).toEqual([
      { 'event.code': '2', 'mta550.subtype': '' },
      { 'event.code': '3', 'mta550.subtype': 'c' },
    ]);
  });
});
