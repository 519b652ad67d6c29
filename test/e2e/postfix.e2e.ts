/**
 * Real Postfix writes the logs; mta550 must find exactly what happened.
 *
 * A deterministic workload goes through a private Postfix to scripted providers on loopback
 * (world.ts), including a domain migrated mid-run from the Google-like to the Microsoft-like server;
 * inbound refusals come from Postfix's own smtpd. The truth is what the providers' journal says they
 * answered (and what our smtpd must refuse); mta550's events from the maillog_file, the classic
 * syslog file and the RFC 3339 syslog file must equal it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RejectionEvent } from '../../src/model/event.js';
import { startPostfix, type PostfixInstance } from './postfix.js';
import { analyze, startTail, expectDetails, expectMigration, expectTailedEqual, expectOtherRecipients, hostsText, key, listening, MIGRATED_TO, ROOT, ROUTES, send, truth, waitFor, workload, type Report, type TruthProfile } from './scenario.js';
import { startSyslog, type Syslog } from './syslog.js';
import { startWorld, type World } from './world.js';

/** How Postfix reports what it refuses or fails itself. */
const POSTFIX: TruthProfile = {
  // The local bounce of a notification: `status=bounced (unknown user: "alerts")`, dsn=5.1.1.
  notification: { code: 550, enhanced: '5.1.1', stage: 'unknown', subtype: 'recipient_unknown' },
  unknownLocal: { enhanced: '5.1.1', subtype: 'recipient_unknown' },
  relay: { enhanced: '5.7.1', subtype: 'relay_denied' },
  // A 550 greeting defers the message until it expires (checked on its own below).
  greetingBounce: null,
};

interface Run {
  world: World;
  postfix: PostfixInstance;
  syslog: Syslog | null;
  migratedAt: number;
  /** The log files this run wrote, by name. */
  logs: Record<string, string>;
  /** What `mta550 tail` wrote while following each log file during the run. */
  tailed: Record<string, { code: number | null; events: RejectionEvent[]; stderr: string }>;
}

const sent = workload();
const runs: Partial<Record<'maillog_file' | 'syslog', Run>> = {};
let dir: string;

/** One pass of the workload through a fresh Postfix and a fresh remote world. */
async function scenario(mode: 'maillog_file' | 'syslog'): Promise<Run> {
  const base = path.join(dir, mode);
  const world = await startWorld();
  const syslog = mode === 'syslog' ? await startSyslog(ROOT, path.join(base, 'syslog')) : null;
  const postfix = startPostfix(ROOT, path.join(base, 'postfix'), ROUTES, { maillog: mode === 'maillog_file' });
  const logs: Record<string, string> =
    syslog === null ? { maillog_file: postfix.maillog } : { 'syslog (BSD timestamps)': syslog.traditional, 'syslog (RFC 3339)': syslog.rfc3339 };
  const tails = Object.entries(logs).map(([name, file]) => [name, startTail([file])] as const);
  try {
    await listening('Postfix');
    await send(sent.before);
    await send(sent.inbound.filter((m) => !m.outsider));
    await send(sent.inbound.filter((m) => m.outsider), '127.0.0.9');
    // Wait for everything but the refusing domain (it expires after maximal_queue_lifetime).
    await waitFor('the first phase to be delivered', () => postfix.queued() <= 2, 90_000);
    const migratedAt = Date.now();
    postfix.route('migrating.example', MIGRATED_TO);
    await new Promise((r) => setTimeout(r, 1500)); // the reload reaches every smtp process
    await send(sent.after);
    await waitFor('the queue to drain (deferrals expire after 25 s)', () => postfix.queued() === 0, 120_000);
    await new Promise((r) => setTimeout(r, 1500)); // the last lines reach the logs
    const tailed: Run['tailed'] = {};
    for (const [name, t] of tails) tailed[name] = await t.stop();
    // Kept beside the logs for whoever debugs a failure.
    writeFileSync(path.join(base, 'journal.json'), JSON.stringify({ migratedAt, journal: world.journal, sent }, null, 1));
    return { world, postfix, syslog, migratedAt, logs, tailed };
  } finally {
    postfix.stop();
    await syslog?.stop();
    await world.close();
  }
}

beforeAll(async () => {
  if (process.env.MTA550_E2E_NAMESPACE !== '1') throw new Error('run the end-to-end suite with npm run test:e2e (it needs its own network and mount namespaces)');
  dir = mkdtempSync('/tmp/mta550-e2e-postfix-');
  chmodSync(dir, 0o755); // the MTA daemons run as their own users
  const hosts = path.join(dir, 'hosts');
  writeFileSync(hosts, hostsText());
  execFileSync('mount', ['--bind', hosts, '/etc/hosts']);
  runs.maillog_file = await scenario('maillog_file');
  runs.syslog = await scenario('syslog');
}, 400_000);

const LOGS = [
  ['maillog_file', 'maillog_file'],
  ['syslog', 'syslog (BSD timestamps)'],
  ['syslog', 'syslog (RFC 3339)'],
] as const;

describe('real Postfix', () => {
  it.each(['maillog_file', 'syslog'] as const)('sent the workload and the providers answered as scripted (%s run)', (mode) => {
    const world = runs[mode]!.world;
    const refusals = world.journal.filter((j) => j.code >= 500);
    expect(refusals.length).toBeGreaterThan(40);
    expect(world.journal.some((j) => j.code === 550 && j.lines[0]!.startsWith('5.1.10'))).toBe(true);
    expect(world.journal.filter((j) => j.stage === 'connect').length).toBeGreaterThanOrEqual(2);
  });

  describe.each(LOGS)('events from the %s run, %s', (mode, name) => {
    let run: Run;
    let events: RejectionEvent[];
    let report: Report;
    beforeAll(() => {
      run = runs[mode]!;
      ({ events, report } = analyze(run.logs[name]!));
    });

    it('gives the same events when tailing the live log during the run as when analysing it afterwards (ids too)', () => {
      expectTailedEqual(runs[mode]!.tailed[name]!, events);
    });

    it('reads every line (no malformed line)', () => {
      expect(report.inputs[0]!.malformed).toBe(0);
      expect(report.inputs[0]!.records).toBeGreaterThan(500);
    });

    it('finds exactly the refusals the providers and our smtpd gave (recipient, code, stage, outcome)', () => {
      const expected = truth(run.world, sent, POSTFIX).map(key).sort();
      const got = events.filter((e) => e.outcome !== 'deferred').map((e) => key({ ...e, code: e.code })).sort();
      expect(got).toEqual(expected);
    });

    it('gives each refusal its enhanced status, Message-ID, sender and cause', () => {
      expectDetails(events.filter((x) => x.outcome !== 'deferred'), truth(run.world, sent, POSTFIX));
    });

    it('reports the outcome of the other recipients of the same message', () => {
      expectOtherRecipients(events.filter((x) => x.direction === 'outbound' && x.outcome === 'bounced'), run.world);
    });

    it('keeps the 550 greeting of a refusing server as a deferral that ended expired', () => {
      const deferred = events.filter((e) => e.outcome === 'deferred');
      const recipients = new Set(deferred.map((e) => e.recipient));
      expect([...recipients].sort()).toEqual(sent.before.filter((m) => m.to[0]!.endsWith('@refusing.example.net')).map((m) => m.to[0]).sort());
      for (const e of deferred) {
        expect(e).toMatchObject({ code: 550, stage: 'connect', remote: { name: 'mx.refusing.example.net', ip: '127.0.0.6' } });
        expect(e.message?.recipientFinalStatus).toBe('expired');
      }
    });

    it('links the notification that bounced to the message that expired', () => {
      const deferredIds = new Set(events.filter((e) => e.outcome === 'deferred').map((e) => e.queueId));
      const notifications = events.filter((e) => e.recipient === 'alerts@example.com');
      expect(notifications).toHaveLength(2);
      for (const e of notifications) {
        expect(e.message?.links.relation).toBe('non_delivery_notification');
        expect(deferredIds.has(e.message!.links.parentQueueId)).toBe(true);
        expect(e).toMatchObject({ codeInferred: true, enhancedStatusSource: 'dsn', sender: '' });
      }
    });

    it('names the providers that answered', () => {
      const providers = new Set(events.filter((e) => e.direction === 'outbound').map((e) => e.classification?.provider));
      expect([...providers].sort()).toEqual(expect.arrayContaining(['google', 'microsoft', 'yahoo', 'other']));
      expect(events.filter((e) => e.direction === 'inbound').every((e) => e.classification?.provider === 'self')).toBe(true);
    });

    it('sees the migration: 5.1.10 from the Microsoft-like server only after the route changed', () => {
      expectMigration(events, run.migratedAt);
    });
  });

  it('gives the same events from the classic and the RFC 3339 syslog file of one run', () => {
    const summary = (file: string) =>
      analyze(file)
        .events.map((e) => `${e.queueId} ${e.recipient} ${e.code} ${e.enhancedStatus} ${e.stage} ${e.outcome} ${e.messageId} ${e.classification?.subtype}`)
        .sort();
    const logs = runs.syslog!.logs;
    const classic = summary(logs['syslog (BSD timestamps)']!);
    expect(classic.length).toBeGreaterThan(40);
    expect(summary(logs['syslog (RFC 3339)']!)).toEqual(classic);
    writeFileSync(path.join(dir, 'events.txt'), classic.join('\n'));
    expect(readFileSync(runs.maillog_file!.logs.maillog_file!, 'utf8')).toContain('postfix/master');
  });
});
