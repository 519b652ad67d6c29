/**
 * The onset, from a real MTA's log: a recipient domain migrates from the Google-like to the
 * Microsoft-like server, whose directory lacks some of the old mailboxes (5.1.10). mta550 must
 * report an onset of recipient_unknown for that domain, at the migration, with the relay change
 * named as its cause, and nothing before it.
 *
 * An onset needs an hour of baseline (ONSETS.md: cold start), so the MTA (Postfix, then Exim) runs on a clock the test
 * moves (libfaketime, clock.ts): one minute of log per batch of 38 messages, 80 minutes of normal
 * traffic (30 messages a minute to the domain: a baseline needs about 2,000 of them), the route change, then 20 minutes in which a third of the migrated domain's addresses
 * are stale. Other Microsoft-like mail carries a small stale share all along (its provider's
 * baseline).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OnsetRecord } from '../../src/onset/engine.js';
import { FakeClock } from './clock.js';
import { startExim } from './exim.js';
import { startPostfix } from './postfix.js';
import { CLI, hostsText, listening, LOCAL_USERS, MIGRATED_TO, ROOT, ROUTES, send, startTail, waitFor, type Message } from './scenario.js';
import { startWorld, type World } from './world.js';

const BEFORE_MINUTES = 80;
const AFTER_MINUTES = 20;

/** One minute of traffic: the migrating domain, other Microsoft-like mail, Google-like mail. */
function minute(m: number, after: boolean): Message[] {
  const out: Message[] = [];
  const msg = (to: string, i: number): Message => ({ from: 'app@example.com', to: [to], messageId: `onset-${m}-${i}@example.com` });
  for (let i = 0; i < 30; i++) out.push(msg(`${after && i % 3 === 0 ? 'stale' : 'ok'}-${m}-${i}@migrating.example`, i));
  // About 3% of the other Microsoft-like mail goes to stale mailboxes, before and after.
  for (let i = 30; i < 35; i++) out.push(msg(`${(m * 5 + i) % 33 === 0 ? 'stale' : 'ok'}-${m}-${i}@outlook.example`, i));
  for (let i = 35; i < 38; i++) out.push(msg(`ok-${m}-${i}@gmail.example`, i));
  return out;
}

interface Run {
  world: World;
  log: string;
  /** MTA (fake) time of the route change. */
  migratedAt: number;
  startedAt: number;
  /** What `mta550 tail --records onsets` wrote while following the log during the run. */
  tailed: { code: number | null; events: unknown[]; stderr: string };
}

type Mta = 'postfix' | 'exim';
const runs: Partial<Record<Mta, Run>> = {};
let dir: string;

interface Started {
  log: string;
  route(domain: string, host: string): void;
  queued(): number;
  stop(): Promise<void>;
}

async function start(mta: Mta, base: string, clock: FakeClock): Promise<Started> {
  if (mta === 'postfix') {
    const p = startPostfix(ROOT, path.join(base, 'postfix'), ROUTES, { maillog: true, clock });
    return { log: p.maillog, route: (d, h) => p.route(d, h), queued: () => p.queued(), stop: async () => p.stop() };
  }
  const e = await startExim(ROOT, path.join(base, 'exim'), ROUTES, { localUsers: LOCAL_USERS, hosts: hostsText(), syslog: false, clock });
  return { log: e.mainlog, route: (d, h) => e.route(d, h), queued: () => e.queued(), stop: () => e.stop() };
}

async function scenario(mta: Mta): Promise<Run> {
  const base = path.join(dir, mta);
  mkdirSync(base, { recursive: true });
  chmodSync(base, 0o755);
  const world = await startWorld();
  const clock = new FakeClock(ROOT, base);
  const server = await start(mta, base, clock);
  const tail = startTail([server.log], 'onsets');
  try {
    await listening(mta);
    const startedAt = clock.now();
    let migratedAt = 0;
    for (let m = 0; m < BEFORE_MINUTES + AFTER_MINUTES; m++) {
      if (m === BEFORE_MINUTES) {
        await waitFor('the baseline traffic to be delivered', () => server.queued() === 0, 60_000);
        migratedAt = clock.now();
        server.route('migrating.example', MIGRATED_TO);
        await new Promise((r) => setTimeout(r, 1500)); // a Postfix reload reaches every smtp process
      }
      await send(minute(m, m >= BEFORE_MINUTES));
      await waitFor('the minute to be delivered', () => server.queued() === 0, 60_000);
      clock.advance(60_000);
    }
    await new Promise((r) => setTimeout(r, 1000)); // the last lines reach the log
    const tailed = await tail.stop();
    writeFileSync(path.join(base, 'journal.json'), JSON.stringify({ startedAt, migratedAt, journal: world.journal }, null, 1));
    return { world, log: server.log, migratedAt, startedAt, tailed };
  } finally {
    await server.stop();
    await world.close();
  }
}

beforeAll(async () => {
  if (process.env.MTA550_E2E_NAMESPACE !== '1') throw new Error('run the end-to-end suite with npm run test:e2e (it needs its own network and mount namespaces)');
  dir = mkdtempSync('/tmp/mta550-e2e-onset-');
  chmodSync(dir, 0o755); // the MTA daemons run as their own users
  const hosts = path.join(dir, 'hosts');
  writeFileSync(hosts, hostsText());
  execFileSync('mount', ['--bind', hosts, '/etc/hosts']);
  runs.postfix = await scenario('postfix');
  runs.exim = await scenario('exim');
}, 400_000);

const onsets = (file: string): OnsetRecord[] =>
  execFileSync(process.execPath, [CLI, 'analyze', file, '--codes', '5xx', '--output', 'records', '--records', 'onsets', '--quiet'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as OnsetRecord);

describe.each(['postfix', 'exim'] as const)('real %s on a moved clock: the onset of a domain migration', (mta) => {
  let run: Run;
  beforeAll(() => {
    run = runs[mta]!;
  });

  it('logged the run on the moved clock (100 minutes of log)', () => {
    const stale = run.world.journal.filter((j) => j.recipient?.endsWith('@migrating.example') && j.code === 550);
    expect(stale).toHaveLength(AFTER_MINUTES * 10);
    expect(run.migratedAt - run.startedAt).toBeGreaterThanOrEqual(BEFORE_MINUTES * 60_000);
  });

  it('reports an onset of recipient_unknown at the migrated domain, at the migration, with the relay change as its cause', () => {
    const records = onsets(run.log);
    const domain = records.filter((r) => r.type === 'onset' && r.series.recipientDomain === 'migrating.example');
    expect(domain, JSON.stringify(records.map((r) => r.summary), null, 1)).toHaveLength(1);
    const o = domain[0]!;
    expect(o.series).toMatchObject({ level: 'rcpt_domain', subtype: 'recipient_unknown' });
    // Found within 10 minutes of log time of the route change, its onset within 2 minutes of it.
    const onsetAt = Date.parse(o.onsetAt!);
    expect(Math.abs(onsetAt - run.migratedAt)).toBeLessThanOrEqual(2 * 60_000);
    expect(Date.parse(o.detectedAt) - run.migratedAt).toBeLessThanOrEqual(10 * 60_000);
    expect(o.attribution?.top).toMatchObject({ from: 'gmail-smtp-in.l.google.com', to: MIGRATED_TO });
    expect(o.attribution?.top?.attribute).toMatch(/^relay/);
    expect(o.summary).toContain(`coincides with relay change gmail-smtp-in.l.google.com -> ${MIGRATED_TO}`);
    expect(o.before!.rate).toBeLessThan(0.02);
    // The rate at detection is a sample of the first stale refusals (a third of the addresses): at least
    // 5 failures in its excursion, far above the baseline.
    expect(o.after!.rate).toBeGreaterThanOrEqual(0.15);
    expect(o.after!.rate / o.before!.rate).toBeGreaterThan(10);
  });

  it('raises nothing during the 80 minutes of normal traffic', () => {
    const early = onsets(run.log).filter((r) => r.type !== 'recovery' && Date.parse(r.detectedAt) < run.migratedAt);
    expect(early).toEqual([]);
  });

  it('gives the same onset records when tailing the live log during the run (the MTA clock 100 minutes ahead of the wall clock)', () => {
    expect(run.tailed.code).toBe(0);
    expect(run.tailed.stderr).toBe('');
    const batch = onsets(run.log);
    expect(batch.length).toBeGreaterThan(0);
    const core = (r: OnsetRecord) => `${r.type} ${r.id} ${r.series.key} ${r.onsetAt} ${r.detectedAt} ${r.attribution?.top?.to ?? '-'}`;
    expect((run.tailed.events as OnsetRecord[]).map(core).sort()).toEqual(batch.map(core).sort());
  });
});
