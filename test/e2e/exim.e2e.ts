/**
 * Real Exim writes the logs; mta550 must find exactly what happened.
 *
 * The Postfix scenario's workload (scenario.ts) goes through a private Exim 4.96 (exim.ts) to the
 * same scripted providers (world.ts), including the mid-run migration of a domain from the
 * Google-like to the Microsoft-like server; inbound refusals come from Exim's own RCPT ACL (and, for
 * two Exim-only messages, its DATA ACL). Exim logs to its mainlog and, in the same run, through
 * syslog to a private rsyslogd (classic and RFC 3339 files). mta550's events from each of the three
 * must equal the providers' journal.
 *
 * Where Exim differs from Postfix, the test says what Exim actually does: a 550 greeting fails the
 * recipients at once (`**`, no deferral), an inbound RCPT refusal carries no code (550 inferred), a
 * notification that cannot be delivered names no enhanced status (`Unrouteable address`), and with
 * its default syslog_duplication every refusal reaches syslog twice (the refusal after DATA the
 * second time split into numbered pieces with its header dump).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeEximLine } from '../../parsers/exim/index.js';
import type { RejectionEvent } from '../../src/model/event.js';
import { startExim, type EximInstance } from './exim.js';
import { analyze, startTail, expectDetails, expectMigration, expectTailedEqual, expectOtherRecipients, hostsText, key, listening, LOCAL_USERS, MIGRATED_TO, ROOT, ROUTES, send, truth, waitFor, workload, type Message, type Report, type Truth, type TruthProfile } from './scenario.js';
import { startSyslog } from './syslog.js';
import { startWorld, type World } from './world.js';

/** How Exim reports what it refuses or fails itself. */
const EXIM: TruthProfile = {
  // `** alerts@example.com: Unrouteable address`: no reply, so 550 inferred and no enhanced status.
  notification: { code: 550, enhanced: null, stage: 'unknown', subtype: 'recipient_unknown' },
  // `rejected RCPT <nobody-1@example.com>: Unrouteable address` (verify = recipient) and
  // `rejected RCPT <someone@elsewhere.example>: relay not permitted`: no code logged, 550 inferred.
  unknownLocal: { enhanced: null, subtype: 'recipient_unknown' },
  relay: { enhanced: null, subtype: 'relay_denied' },
  // A 5xx greeting is a permanent error in Exim: every recipient for that host fails at once.
  greetingBounce: { subtype: 'other_or_unclassified' },
};

/** The truth of this run: the shared workload's, and the Exim-only refusals after DATA (one per message). */
function expected(world: World): Truth[] {
  const afterData = refusedAfterData.map((m): Truth => ({
    recipient: null,
    code: 550,
    enhanced: '5.7.1',
    stage: 'end_of_data',
    outcome: 'rejected',
    messageId: null,
    sender: m.from,
    subtype: 'content_policy',
  }));
  return [...truth(world, sent, EXIM), ...afterData];
}

/**
 * What real Exim writes that mta550 leaves unsupported, by body (after time and Exim ID). The host
 * line of a refused greeting is followed by the address's own `**` line with the same reply.
 */
const NOT_REFUSALS = [
  /^exim [\d.]+ daemon started: pid=\d+, /,
  /^(Start|End) queue run: pid=\d+$/,
  /^Spool file for \S+ is locked \(another process is handling this message\)$/,
  /^\S+@\S+: error ignored$/,
  /^H=\S+ \[[\d.]+\]: SMTP error from remote mail server after initial connection: 550 /,
];

const LOG_NAMES = ['mainlog', 'syslog (BSD timestamps)', 'syslog (RFC 3339)'] as const;

interface Run {
  world: World;
  migratedAt: number;
  logs: Record<(typeof LOG_NAMES)[number], string>;
  paniclog: string;
  rejectlog: string;
  /** What `mta550 tail` wrote while following each log during the run. */
  tailed: Record<string, { code: number | null; events: RejectionEvent[]; stderr: string }>;
}

const sent = workload();
/** Exim only: messages our DATA ACL refuses (their rejectlog copy carries the envelope and headers). */
const refusedAfterData: Message[] = [1, 2].map((i) => ({
  from: 'sender@example.net',
  to: [`ok-data${i}@corp.example.org`, `ok-data${i}b@yahoo.example`],
  messageId: `e2e-data-${i}@example.com`,
  headers: { 'X-E2E-Refuse': 'yes' },
}));
let run: Run;
let dir: string;

beforeAll(async () => {
  if (process.env.MTA550_E2E_NAMESPACE !== '1') throw new Error('run the end-to-end suite with npm run test:e2e (it needs its own network and mount namespaces)');
  dir = mkdtempSync('/tmp/mta550-e2e-exim-');
  chmodSync(dir, 0o755); // Exim's processes run as Debian-exim
  const world = await startWorld();
  const syslog = await startSyslog(ROOT, path.join(dir, 'syslog'));
  let exim: EximInstance | null = null;
  try {
    exim = await startExim(ROOT, path.join(dir, 'exim'), ROUTES, { localUsers: LOCAL_USERS, hosts: hostsText(), syslog: true });
    const e = exim;
    const files = { mainlog: e.mainlog, 'syslog (BSD timestamps)': syslog.traditional, 'syslog (RFC 3339)': syslog.rfc3339 };
    const tails = Object.entries(files).map(([name, file]) => [name, startTail([file])] as const);
    await listening('Exim');
    await send(sent.before);
    await send(sent.inbound.filter((m) => !m.outsider));
    await send(refusedAfterData);
    await send(sent.inbound.filter((m) => m.outsider), '127.0.0.9');
    // Greylisted recipients are retried by the next queue runs; the refusing server bounces at once.
    await waitFor('the first phase to be delivered', () => e.queued() === 0, 90_000);
    const migratedAt = Date.now();
    e.route('migrating.example', MIGRATED_TO);
    await send(sent.after);
    await waitFor('the queue to drain', () => e.queued() === 0, 90_000);
    await new Promise((r) => setTimeout(r, 1500)); // the last lines reach the logs
    writeFileSync(path.join(dir, 'journal.json'), JSON.stringify({ migratedAt, journal: world.journal, sent }, null, 1));
    const tailed: Run['tailed'] = {};
    for (const [name, t] of tails) tailed[name] = await t.stop();
    run = { world, migratedAt, logs: files, paniclog: e.paniclog, rejectlog: e.rejectlog, tailed };
  } finally {
    await exim?.stop();
    await syslog.stop();
    await world.close();
  }
}, 300_000);

describe('real Exim', () => {
  it('sent the workload and the providers answered as scripted', () => {
    const refusals = run.world.journal.filter((j) => j.code >= 500);
    expect(refusals.length).toBeGreaterThan(40);
    expect(run.world.journal.some((j) => j.code === 550 && j.lines[0]!.startsWith('5.1.10'))).toBe(true);
    // Exim does not retry a 5xx greeting: one connection per message to the refusing server.
    expect(run.world.journal.filter((j) => j.stage === 'connect')).toHaveLength(2);
    // Every greylisted recipient was retried and accepted.
    const grey = run.world.journal.filter((j) => j.code === 450).map((j) => j.recipient);
    expect(grey.length).toBeGreaterThan(5);
    const ok = new Set(run.world.journal.filter((j) => j.code === 250 && j.stage === 'end_of_data').map((j) => j.recipient));
    expect(grey.filter((r) => !ok.has(r))).toEqual([]);
  });

  it('ran with its -C configuration trusted (nothing in the paniclog)', () => {
    expect(existsSync(run.paniclog) ? readFileSync(run.paniclog, 'utf8') : '').toBe('');
    expect(readFileSync(run.logs.mainlog, 'utf8')).not.toContain('lost privilege');
  });

  describe.each(LOG_NAMES)('events from the %s', (name) => {
    let events: RejectionEvent[];
    let report: Report;
    beforeAll(() => {
      ({ events, report } = analyze(run.logs[name]));
    });

    it('gives the same events when tailing the live log during the run as when analysing it afterwards (ids too)', () => {
      expectTailedEqual(run.tailed[name]!, events);
    });

    it('reads every line as Exim (no malformed line)', () => {
      expect(report.inputs[0]).toMatchObject({ format: 'exim', malformed: 0 });
      expect(report.inputs[0]!.records).toBeGreaterThan(500);
    });

    it('leaves unsupported only lines that refuse nothing (a new shape fails here)', () => {
      const shapes: string[] = [];
      for (const line of readFileSync(run.logs[name], 'utf8').split('\n')) {
        const d = decodeEximLine(line);
        if (d.type === 'unsupported' && !NOT_REFUSALS.some((re) => re.test(d.envelope.message))) shapes.push(line);
      }
      expect(shapes).toEqual([]);
    });

    it('finds exactly the refusals the providers and our ACL gave (recipient, code, stage, outcome)', () => {
      const got = events.map((e) => key(e)).sort();
      expect(got).toEqual(expected(run.world).map(key).sort());
    });

    it('gives each refusal its enhanced status, Message-ID, sender and cause', () => {
      expectDetails(events, expected(run.world));
    });

    it('reports the outcome of the other recipients of the same message', () => {
      const outbound = events.filter((x) => x.direction === 'outbound');
      for (const e of outbound) expect(e.message?.complete).toBe(true);
      expectOtherRecipients(outbound, run.world);
    });

    it('fails the recipients of the server that refused the greeting at once, at the connect stage', () => {
      const refused = events.filter((e) => e.recipientDomain === 'refusing.example.net');
      expect(refused.map((e) => e.recipient).sort()).toEqual(sent.before.filter((m) => m.to[0]!.endsWith('@refusing.example.net')).map((m) => m.to[0]).sort());
      for (const e of refused) {
        expect(e).toMatchObject({ code: 550, codeInferred: false, enhancedStatus: '5.7.1', stage: 'connect', outcome: 'bounced', remote: { name: 'mx.refusing.example.net', ip: '127.0.0.6' } });
        expect(e.reply).toBe('550 5.7.1 Service refused; client 127.0.0.1 blocked');
        expect(e.message?.recipientFinalStatus).toBe('bounced');
      }
      // No deferral carries a 5xx: greylisting (450) is retried and is not a refusal.
      expect(events.filter((e) => e.outcome === 'deferred')).toEqual([]);
    });

    it('links the notification that bounced to the message it reports on (<= <> R=parent)', () => {
      const refusedIds = new Set(events.filter((e) => e.recipientDomain === 'refusing.example.net').map((e) => e.queueId));
      const notifications = events.filter((e) => e.recipient === 'alerts@example.com');
      expect(notifications).toHaveLength(2);
      for (const e of notifications) {
        expect(e.message?.links.relation).toBe('non_delivery_notification');
        expect(refusedIds.has(e.message!.links.parentQueueId)).toBe(true);
        expect(e).toMatchObject({ codeInferred: true, enhancedStatus: null, sender: '', reply: 'Unrouteable address', remote: null });
      }
    });

    it('names the providers that answered', () => {
      const providers = new Set(events.filter((e) => e.direction === 'outbound').map((e) => e.classification?.provider));
      expect([...providers].sort()).toEqual(expect.arrayContaining(['google', 'microsoft', 'yahoo', 'other']));
      expect(events.filter((e) => e.direction === 'inbound').every((e) => e.classification?.provider === 'self')).toBe(true);
    });

    it('infers 550 for the inbound RCPT refusals, which Exim logs without a code', () => {
      const inbound = events.filter((e) => e.direction === 'inbound' && e.stage === 'rcpt');
      expect(inbound).toHaveLength(sent.inbound.filter((m) => m.outsider || m.to.some((t) => t.startsWith('nobody-'))).length);
      for (const e of inbound) {
        const outsider = e.recipient!.startsWith('someone-');
        expect(e).toMatchObject({ code: 550, codeInferred: true, outcome: 'rejected', action: 'rejected RCPT', queueId: null, client: { ip: outsider ? '127.0.0.9' : '127.0.0.1' } });
        expect(e.reply).toBe(outsider ? 'relay not permitted' : 'Unrouteable address');
      }
    });

    it('takes the code of a refusal after DATA from the ACL message, with the Exim ID it was given', () => {
      const afterData = events.filter((e) => e.action === 'rejected after DATA');
      expect(afterData).toHaveLength(refusedAfterData.length);
      for (const e of afterData) {
        expect(e).toMatchObject({ direction: 'inbound', code: 550, codeInferred: false, enhancedStatus: '5.7.1', stage: 'end_of_data', recipient: null, reply: '550 5.7.1 Message refused by content policy' });
        expect(e.queueId).toMatch(/^\w{6}-\w{6}-\w{2}$/);
      }
    });

    it('sees the migration: 5.1.10 from the Microsoft-like server only after the route changed', () => {
      expectMigration(events, run.migratedAt);
    });
  });

  it('gives the same events from the mainlog and both syslog files of the run', () => {
    const summary = (file: string) =>
      analyze(file)
        .events.map((e) => `${e.time} ${e.queueId} ${e.recipient} ${e.code} ${e.enhancedStatus} ${e.stage} ${e.outcome} ${e.messageId} ${e.classification?.subtype}`)
        .sort();
    const mainlog = summary(run.logs.mainlog);
    expect(mainlog.length).toBeGreaterThan(40);
    expect(summary(run.logs['syslog (BSD timestamps)'])).toEqual(mainlog);
    expect(summary(run.logs['syslog (RFC 3339)'])).toEqual(mainlog);
    writeFileSync(path.join(dir, 'events.txt'), mainlog.join('\n'));
    // ...although syslog got every refusal twice (main and reject log copies, syslog_duplication).
    const copies = (text: string) => text.split('\n').filter((l) => / rejected (RCPT|after DATA)/.test(l)).length;
    expect(copies(readFileSync(run.logs.mainlog, 'utf8'))).toBe(15);
    expect(copies(readFileSync(run.logs['syslog (BSD timestamps)'], 'utf8'))).toBe(30);
    // The rejectlog holds the inbound refusals only (those after DATA with their envelope and headers).
    const rejectlog = readFileSync(run.rejectlog, 'utf8');
    expect(rejectlog.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d .* rejected /gm)).toHaveLength(15);
    expect(rejectlog).toContain('Envelope-from: <sender@example.net>');
  });
});
