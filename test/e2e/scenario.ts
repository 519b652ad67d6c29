/**
 * What every end-to-end scenario shares, whatever MTA writes the logs: the deterministic workload,
 * sending it, waiting, running the built CLI, and the truth mta550's events must equal (built from
 * the providers' journal, world.ts, and what our own MTA must refuse inbound).
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { expect } from 'vitest';
import type { RejectionEvent } from '../../src/model/event.js';
import { rng } from '../random.js';
import { watch } from '../run-cli.js';
import { PERSONAS, type World } from './world.js';

export const ROOT = process.env.MTA550_E2E_ROOT ?? '/var/tmp/mta550-e2e/root';
export const CLI = path.resolve('dist/src/cli.js');

/** Recipient domain to MX host (the personas of world.ts), before the migration. */
export const ROUTES: Readonly<Record<string, string>> = {
  'gmail.example': 'gmail-smtp-in.l.google.com',
  'outlook.example': 'example-net.mail.protection.outlook.com',
  'yahoo.example': 'mta5.am0.yahoodns.net',
  'corp.example.org': 'mx.corp.example.org',
  'refusing.example.net': 'mx.refusing.example.net',
  'migrating.example': 'gmail-smtp-in.l.google.com',
};
export const MAIN_DOMAINS = ['gmail.example', 'outlook.example', 'yahoo.example', 'corp.example.org'];
/** Where migrating.example moves mid-run. */
export const MIGRATED_TO = 'example-net.mail.protection.outlook.com';

/**
 * The local users of example.com on our MTA: the workload's senders, whose non-delivery
 * notifications are thrown away. alerts@ is left out on purpose, so its notifications bounce too
 * (a notification linked to its parent).
 */
export const LOCAL_USERS = ['postmaster', 'root', 'app', 'billing', 'blocked-bot0', 'blocked-bot1', 'blocked-bot2'];

/** The run's /etc/hosts: our MTA and the providers' MX names on loopback. */
export function hostsText(): string {
  return `127.0.0.1 localhost mx1.example.com mx1\n${PERSONAS.map((p) => `${p.ip} ${p.host}`).join('\n')}\n`;
}

export interface Message {
  from: string;
  to: string[];
  messageId: string;
  /** Sent from a client outside mynetworks (a relay attempt). */
  outsider?: boolean;
  /** Extra header fields. */
  headers?: Record<string, string>;
}

export interface Workload {
  before: Message[];
  after: Message[];
  inbound: Message[];
}

/** The deterministic workload: ~260 messages before and after the migration, plus inbound refusals. */
export function workload(): Workload {
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
  // A good recipient first, then an unknown local one (Postfix logs that refusal with the queue ID).
  for (let i = 0; i < 3; i++) inbound.push(message('sender@example.net', [`ok-${n + 1}@corp.example.org`, `nobody-${n + 1}@example.com`]));
  for (let i = 0; i < 4; i++) inbound.push({ ...message('outsider@example.net', [`someone-${n + 1}@elsewhere.example`]), outsider: true });
  return { before, after, inbound };
}

/** Submits messages to our MTA on 127.0.0.1:25 over three pooled connections. */
export async function send(messages: Message[], localAddress?: string): Promise<void> {
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
            ...(m.headers !== undefined ? { headers: m.headers } : {}),
          })
          .catch(() => undefined), // refusals by our own MTA are part of the scenario
      ),
    );
  } finally {
    transport.close();
  }
}

export async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until something accepts connections on 127.0.0.1:25. */
export function listening(what: string): Promise<void> {
  return waitFor(
    `${what} to listen`,
    () => {
      try {
        execFileSync('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/25'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    },
    20_000,
  );
}

export interface Report {
  inputs: { malformed: number; lines: number; records: number; format?: string }[];
}

/** `mta550 tail` following log files while an MTA writes them; `stop()` ends it cleanly and returns its events. */
export function startTail(
  files: readonly string[],
  records: 'events' | 'onsets' = 'events',
): { stop: () => Promise<{ code: number | null; events: RejectionEvent[]; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, 'tail', ...files, '-o', 'records', '--from-beginning', '--codes', '5xx', '--records', records, '--poll-interval', '100ms', '--max-wait', '2s', '-q'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w = watch(child);
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 2500)); // longer than --max-wait: everything read is out
      child.kill('SIGTERM');
      const code = await w.exited;
      return { code, events: w.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RejectionEvent), stderr: w.err() };
    },
  };
}

/** What `mta550 tail` wrote while following a log during the run equals `analyze` afterwards, ids included. */
export function expectTailedEqual(tailed: { code: number | null; events: RejectionEvent[]; stderr: string }, events: RejectionEvent[]): void {
  expect(tailed.code).toBe(0);
  expect(tailed.stderr).toBe('');
  const core = (e: RejectionEvent) => `${e.id} ${e.queueId} ${e.recipient} ${e.code} ${e.enhancedStatus} ${e.stage} ${e.outcome} ${e.messageId} ${e.sender} ${e.classification?.subtype}`;
  expect(tailed.events.map(core).sort()).toEqual(events.map(core).sort());
}

/** The migrated domain's stale addresses got 5.1.10 from the Microsoft-like server, only after the route changed. */
export function expectMigration(events: RejectionEvent[], migratedAt: number): void {
  const stale = events.filter((e) => e.recipientDomain === 'migrating.example');
  expect(stale.length).toBe(10);
  for (const e of stale) {
    expect(e).toMatchObject({ code: 550, enhancedStatus: '5.1.10', classification: { provider: 'microsoft', subtype: 'recipient_unknown' } });
    expect(Date.parse(e.time!)).toBeGreaterThanOrEqual(Math.floor(migratedAt / 1000) * 1000);
  }
}

/** mta550's events (NDJSON) and report (JSON) for one log file, from the built CLI. */
export function analyze(file: string): { events: RejectionEvent[]; report: Report } {
  const ndjson = execFileSync(process.execPath, [CLI, 'analyze', file, '--codes', '5xx', '--output', 'records', '--records', 'events', '--quiet'], { encoding: 'utf8' });
  const json = execFileSync(process.execPath, [CLI, 'analyze', file, '--codes', '5xx', '--output', 'json'], { encoding: 'utf8' });
  return {
    events: ndjson.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RejectionEvent),
    report: JSON.parse(json) as Report,
  };
}

export interface Truth {
  /** Null for a refusal of a whole message after DATA. */
  recipient: string | null;
  code: number;
  enhanced: string | null;
  stage: string;
  outcome: string;
  /** Null where the message is one the MTA made (a non-delivery notification) or never queued: not checked. */
  messageId: string | null;
  sender: string;
  subtype: string;
}

export const key = (t: { recipient: string | null; code: number | null; stage: string; outcome: string }) => `${t.recipient} ${t.code} ${t.stage} ${t.outcome}`;

/** What differs between MTAs for the same workload: how they report what they refuse or fail themselves. */
export interface TruthProfile {
  /** The failure of each notification sent to alerts@example.com (no such local user). */
  notification: Pick<Truth, 'code' | 'enhanced' | 'stage' | 'subtype'>;
  /** Our MTA refusing an unknown local recipient, and a relay attempt. */
  unknownLocal: Pick<Truth, 'enhanced' | 'subtype'>;
  relay: Pick<Truth, 'enhanced' | 'subtype'>;
  /**
   * A 550 greeting: null when the MTA defers the message until it expires (Postfix: checked
   * separately), else the subtype of the bounce it gives at once (Exim).
   */
  greetingBounce: { subtype: string } | null;
}

/** What mta550 must report, built from the providers' journal and the workload. */
export function truth(world: World, sent: Workload, profile: TruthProfile): Truth[] {
  const byRecipient = new Map<string, Message>();
  for (const m of [...sent.before, ...sent.after, ...sent.inbound]) for (const t of m.to) byRecipient.set(t, m);
  const out: Truth[] = [];
  const enhancedOf = (lines: string[]) => /^([245]\.\d{1,3}\.\d{1,3})/.exec(lines[0] ?? '')?.[1] ?? null;
  const subtypeOf = (kind: string) =>
    kind === 'nouser' || kind === 'stale' ? 'recipient_unknown' : kind === 'full' ? 'mailbox_full' : kind === 'dmarc' ? 'sender_auth_failed' : kind === 'spam' ? 'spam_content' : '?';
  for (const j of world.journal) {
    if (j.code < 500) continue;
    if (j.stage === 'connect') continue; // below
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
    out.push({ recipient: j.recipient!, code: j.code, enhanced: enhancedOf(j.lines), stage: j.stage, outcome: 'bounced', messageId: m.messageId, sender: m.from, subtype: subtypeOf(kind) });
  }
  if (profile.greetingBounce !== null) {
    // A server that refuses the greeting fails every recipient routed to it (and the journal has one
    // entry per connection, whatever the number of messages).
    const greetings = new Map(world.journal.filter((j) => j.stage === 'connect' && j.code >= 500).map((j) => [j.server, j]));
    for (const m of [...sent.before, ...sent.after]) {
      for (const rcpt of m.to) {
        const j = greetings.get(ROUTES[rcpt.split('@')[1]!]!);
        if (j === undefined) continue;
        out.push({ recipient: rcpt, code: j.code, enhanced: enhancedOf(j.lines), stage: 'connect', outcome: 'bounced', messageId: m.messageId, sender: m.from, subtype: profile.greetingBounce.subtype });
      }
    }
  }
  // alerts@example.com does not exist here: the notification of each refused message bounces locally.
  for (const m of sent.before.filter((x) => x.from === 'alerts@example.com')) {
    void m;
    out.push({ recipient: 'alerts@example.com', outcome: 'bounced', messageId: null, sender: '', ...profile.notification });
  }
  for (const m of sent.inbound) {
    for (const rcpt of m.to) {
      if (rcpt.startsWith('nobody-')) out.push({ recipient: rcpt, code: 550, stage: 'rcpt', outcome: 'rejected', messageId: null, sender: m.from, ...profile.unknownLocal });
      if (m.outsider) out.push({ recipient: rcpt, code: 550, stage: 'rcpt', outcome: 'rejected', messageId: null, sender: m.from, ...profile.relay });
    }
  }
  return out;
}

/** Every event's enhanced status, Message-ID (where the truth knows it), sender and cause equal the truth row with its key. */
export function expectDetails(events: readonly RejectionEvent[], rows: readonly Truth[]): void {
  const byKey = new Map(rows.map((t) => [key(t), t]));
  for (const e of events) {
    const t = byKey.get(key(e))!;
    expect({ r: e.recipient, enhanced: e.enhancedStatus, messageId: t.messageId === null ? null : e.messageId, sender: e.sender, subtype: e.classification?.subtype }).toEqual({
      r: t.recipient,
      enhanced: t.enhanced,
      messageId: t.messageId,
      sender: t.sender,
      subtype: t.subtype,
    });
  }
}

/** Each event's other recipients have the outcome the providers' journal says (delivered or not). */
export function expectOtherRecipients(events: readonly RejectionEvent[], world: World): void {
  const journalOk = new Set(world.journal.filter((j) => j.code === 250 && j.stage === 'end_of_data').map((j) => j.recipient));
  let checked = 0;
  for (const e of events) {
    for (const o of e.message!.otherRecipients) {
      const status = journalOk.has(o.address) ? 'sent' : 'bounced';
      expect(`${o.address} ${o.status}`).toBe(`${o.address} ${status}`);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(10);
}
