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
import nodemailer from 'nodemailer';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RejectionEvent } from '../../src/model/event.js';
import { startPostfix, type PostfixInstance } from './postfix.js';
import { startSyslog, type Syslog } from './syslog.js';
import { PERSONAS, startWorld, type World } from './world.js';

const ROOT = process.env.MTA550_E2E_ROOT ?? '/var/tmp/mta550-e2e/root';
const CLI = path.resolve('dist/src/cli.js');

/** mulberry32, so the workload is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES: Record<string, string> = {
  'gmail.example': 'gmail-smtp-in.l.google.com',
  'outlook.example': 'example-net.mail.protection.outlook.com',
  'yahoo.example': 'mta5.am0.yahoodns.net',
  'corp.example.org': 'mx.corp.example.org',
  'refusing.example.net': 'mx.refusing.example.net',
  'migrating.example': 'gmail-smtp-in.l.google.com',
};
const MAIN_DOMAINS = ['gmail.example', 'outlook.example', 'yahoo.example', 'corp.example.org'];

interface Message {
  from: string;
  to: string[];
  messageId: string;
  /** Sent from a client outside mynetworks (a relay attempt). */
  outsider?: boolean;
}

/** The deterministic workload: ~260 messages before and after the migration, plus inbound refusals. */
function workload(): { before: Message[]; after: Message[]; inbound: Message[] } {
  const r = rng(550);
  let n = 0;
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
  const message = (from: string, to: string[]): Message => ({ from, to, messageId: `e2e-${++n}@example.com` });
  const kindFor = (): string => {
    const x = r();
    return x < 0.7 ? 'ok' : x < 0.82 ? 'nouser' : x < 0.87 ? 'full' : 'grey';
  };
  const before: Message[] = [];
  for (let i = 0; i < 180; i++) {
    const count = r() < 0.25 ? 2 + Math.floor(r() * 3) : 1;
    const to = Array.from({ length: count }, () => `${kindFor()}-${n + 1}-${Math.floor(r() * 1e6)}@${pick(MAIN_DOMAINS)}`);
    before.push(message(pick(['app@example.com', 'billing@example.com']), [...new Set(to)]));
  }
  for (let i = 0; i < 12; i++) before.push(message('app@example.com', [`${pick(['dmarc', 'spam'])}-${n + 1}@${pick(MAIN_DOMAINS)}`]));
  for (let i = 0; i < 3; i++) before.push(message(`blocked-bot${i}@example.com`, [`ok-${n + 1}@${pick(MAIN_DOMAINS)}`, `ok-${n + 1}b@${pick(MAIN_DOMAINS)}`]));
  for (let i = 0; i < 2; i++) before.push(message('alerts@example.com', [`ops-${n + 1}@refusing.example.net`]));
  // The migrating domain: every address works at the old provider.
  for (let i = 0; i < 30; i++) before.push(message('app@example.com', [`${i % 3 === 0 ? 'stale' : 'ok'}-${n + 1}@migrating.example`]));
  const after: Message[] = [];
  for (let i = 0; i < 30; i++) after.push(message('app@example.com', [`${i % 3 === 0 ? 'stale' : 'ok'}-${n + 1}@migrating.example`]));
  const inbound: Message[] = [];
  for (let i = 0; i < 6; i++) inbound.push(message('sender@example.net', [`nobody-${n + 1}@example.com`]));
  // A good recipient first, then an unknown local one: Postfix logs the refusal with the queue ID.
  for (let i = 0; i < 3; i++) inbound.push(message('sender@example.net', [`ok-${n + 1}@corp.example.org`, `nobody-${n + 1}@example.com`]));
  for (let i = 0; i < 4; i++) inbound.push({ ...message('outsider@example.net', [`someone-${n + 1}@elsewhere.example`]), outsider: true });
  return { before, after, inbound };
}

async function send(messages: Message[], localAddress?: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: 25,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 3,
    ...(localAddress !== undefined ? { localAddress } : {}),
  });
  try {
    await Promise.all(
      messages.map((m) =>
        transport
          .sendMail({
            envelope: { from: m.from, to: m.to },
            from: m.from,
            to: m.to,
            subject: `e2e ${m.messageId}`,
            text: 'An end-to-end test message.\n',
            messageId: `<${m.messageId}>`,
          })
          .catch(() => undefined), // refusals by our own smtpd are part of the scenario
      ),
    );
  } finally {
    transport.close();
  }
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function analyze(file: string): { events: RejectionEvent[]; report: { inputs: { malformed: number; lines: number; records: number }[] } } {
  const ndjson = execFileSync(process.execPath, [CLI, 'analyze', file, '--codes', '5xx', '--output', 'ndjson', '--quiet'], { encoding: 'utf8' });
  const json = execFileSync(process.execPath, [CLI, 'analyze', file, '--codes', '5xx', '--output', 'json'], { encoding: 'utf8' });
  return {
    events: ndjson.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RejectionEvent),
    report: JSON.parse(json) as { inputs: { malformed: number; lines: number; records: number }[] },
  };
}

interface Truth {
  recipient: string;
  code: number;
  enhanced: string | null;
  stage: string;
  outcome: string;
  /** Null where the message is one Postfix made (a non-delivery notification): not checked. */
  messageId: string | null;
  sender: string;
  subtype: string;
}

const key = (t: { recipient: string | null; code: number | null; stage: string; outcome: string }) => `${t.recipient} ${t.code} ${t.stage} ${t.outcome}`;

interface Run {
  world: World;
  postfix: PostfixInstance;
  syslog: Syslog | null;
  migratedAt: number;
  /** The log files this run wrote, by name. */
  logs: Record<string, string>;
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
  try {
    await waitFor('Postfix to listen', () => {
      try {
        execFileSync('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/25'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    }, 20_000);
    await send(sent.before);
    await send(sent.inbound.filter((m) => !m.outsider));
    await send(sent.inbound.filter((m) => m.outsider), '127.0.0.9');
    // Wait for everything but the refusing domain (it expires after maximal_queue_lifetime).
    await waitFor('the first phase to be delivered', () => postfix.queued() <= 2, 90_000);
    const migratedAt = Date.now();
    postfix.route('migrating.example', 'example-net.mail.protection.outlook.com');
    await new Promise((r) => setTimeout(r, 1500)); // the reload reaches every smtp process
    await send(sent.after);
    await waitFor('the queue to drain (deferrals expire after 25 s)', () => postfix.queued() === 0, 120_000);
    await new Promise((r) => setTimeout(r, 1500)); // the last lines reach the logs
    const logs: Record<string, string> =
      syslog === null ? { maillog_file: postfix.maillog } : { 'syslog (BSD timestamps)': syslog.traditional, 'syslog (RFC 3339)': syslog.rfc3339 };
    // Kept beside the logs for whoever debugs a failure.
    writeFileSync(path.join(base, 'journal.json'), JSON.stringify({ migratedAt, journal: world.journal, sent }, null, 1));
    return { world, postfix, syslog, migratedAt, logs };
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
  writeFileSync(hosts, `127.0.0.1 localhost mx1.example.com mx1\n${PERSONAS.map((p) => `${p.ip} ${p.host}`).join('\n')}\n`);
  execFileSync('mount', ['--bind', hosts, '/etc/hosts']);
  runs.maillog_file = await scenario('maillog_file');
  runs.syslog = await scenario('syslog');
}, 400_000);

/** What mta550 must report, built from the providers' journal and the workload. */
function truth(world: World): Truth[] {
  const byRecipient = new Map<string, Message>();
  for (const m of [...sent.before, ...sent.after, ...sent.inbound]) for (const t of m.to) byRecipient.set(t, m);
  const byMessageRecipients = new Map<string, Message>();
  for (const m of [...sent.before, ...sent.after]) byMessageRecipients.set(m.from + '>' + m.to.join(','), m);
  const out: Truth[] = [];
  const enhancedOf = (lines: string[]) => /^([245]\.\d{1,3}\.\d{1,3})/.exec(lines[0] ?? '')?.[1] ?? null;
  const subtypeOf = (kind: string, code: number) =>
    kind === 'nouser' || kind === 'stale' ? 'recipient_unknown' : kind === 'full' ? 'mailbox_full' : kind === 'dmarc' ? 'sender_auth_failed' : kind === 'spam' ? 'spam_content' : code === 550 ? '?' : '?';
  for (const j of world.journal) {
    if (j.code < 500) continue;
    if (j.stage === 'connect') continue; // deferrals: checked separately
    if (j.stage === 'mail') {
      // A refused MAIL FROM refuses every recipient of the transaction for that server.
      const m = [...sent.before].find((x) => x.from === j.sender)!;
      for (const rcpt of m.to.filter((t) => ROUTES[t.split('@')[1]!] === j.server)) {
        out.push({ recipient: rcpt, code: j.code, enhanced: enhancedOf(j.lines), stage: 'mail', outcome: 'bounced', messageId: m.messageId, sender: m.from, subtype: 'sender_blocked_by_recipient' });
      }
      continue;
    }
    const m = byRecipient.get(j.recipient!)!;
    const kind = j.recipient!.split('-')[0]!;
    out.push({ recipient: j.recipient!, code: j.code, enhanced: enhancedOf(j.lines), stage: j.stage, outcome: 'bounced', messageId: m.messageId, sender: m.from, subtype: subtypeOf(kind, j.code) });
  }
  // alerts@example.com does not exist here: the notification of each expired message bounces locally.
  for (const m of sent.before.filter((x) => x.from === 'alerts@example.com')) {
    void m;
    out.push({ recipient: 'alerts@example.com', code: 550, enhanced: '5.1.1', stage: 'unknown', outcome: 'bounced', messageId: null, sender: '', subtype: 'recipient_unknown' });
  }
  for (const m of sent.inbound) {
    for (const rcpt of m.to) {
      if (rcpt.startsWith('nobody-')) out.push({ recipient: rcpt, code: 550, enhanced: '5.1.1', stage: 'rcpt', outcome: 'rejected', messageId: null, sender: m.from, subtype: 'recipient_unknown' });
      if (m.outsider) out.push({ recipient: rcpt, code: 550, enhanced: '5.7.1', stage: 'rcpt', outcome: 'rejected', messageId: null, sender: m.from, subtype: 'relay_denied' });
    }
  }
  return out;
}

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
    let report: { inputs: { malformed: number; lines: number; records: number }[] };
    beforeAll(() => {
      run = runs[mode]!;
      ({ events, report } = analyze(run.logs[name]!));
    });

    it('reads every line (no malformed line)', () => {
      expect(report.inputs[0]!.malformed).toBe(0);
      expect(report.inputs[0]!.records).toBeGreaterThan(500);
    });

    it('finds exactly the refusals the providers and our smtpd gave (recipient, code, stage, outcome)', () => {
      const expected = truth(run.world).map(key).sort();
      const got = events.filter((e) => e.outcome !== 'deferred').map((e) => key({ ...e, code: e.code })).sort();
      expect(got).toEqual(expected);
    });

    it('gives each refusal its enhanced status, Message-ID, sender and cause', () => {
      const byKey = new Map(truth(run.world).map((t) => [key(t), t]));
      for (const e of events.filter((x) => x.outcome !== 'deferred')) {
        const t = byKey.get(key(e))!;
        expect({ r: e.recipient, enhanced: e.enhancedStatus, messageId: t.messageId === null ? null : e.messageId, sender: e.sender, subtype: e.classification?.subtype }).toEqual({
          r: t.recipient,
          enhanced: t.enhanced,
          messageId: t.messageId,
          sender: t.sender,
          subtype: t.subtype,
        });
      }
    });

    it('reports the outcome of the other recipients of the same message', () => {
      const journalOk = new Set(run.world.journal.filter((j) => j.code === 250 && j.stage === 'end_of_data').map((j) => j.recipient));
      let checked = 0;
      for (const e of events.filter((x) => x.direction === 'outbound' && x.outcome === 'bounced')) {
        for (const o of e.message!.otherRecipients) {
          const status = journalOk.has(o.address) ? 'sent' : 'bounced';
          expect(`${o.address} ${o.status}`).toBe(`${o.address} ${status}`);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(10);
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
      const stale = events.filter((e) => e.recipientDomain === 'migrating.example');
      expect(stale.length).toBe(10);
      for (const e of stale) {
        expect(e).toMatchObject({ code: 550, enhancedStatus: '5.1.10', classification: { provider: 'microsoft', subtype: 'recipient_unknown' } });
        expect(Date.parse(e.time!)).toBeGreaterThanOrEqual(Math.floor(run.migratedAt / 1000) * 1000);
      }
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
