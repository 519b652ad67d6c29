/**
 * `mta550 tail` as users run it: live output before any stop, batch/live parity, state file faults,
 * summaries, signals and usage errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { watch } from '../run-cli.js';

const CLI = path.resolve('dist/src/cli.js');
const dir = mkdtempSync(path.join(tmpdir(), 'mta550-tailcli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (n: string) => path.join(dir, n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SAMPLE = readFileSync('samples/postfix/001-remote-550-providers.log', 'utf8');

function start(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'tail', ...(args.includes('--output') || args.includes('-o') ? [] : ['-o', 'records']), ...args], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, ...watch(child) };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const t0 = Date.now(); !cond() && Date.now() - t0 < ms; ) await sleep(50);
}

describe('mta550 tail', () => {
  it('writes events as their lines arrive, long before it is stopped', async () => {
    writeFileSync(p('live.log'), '');
    const t = start([p('live.log'), '--from-beginning', '--poll-interval', '50ms', '--year', '2024', '--records', 'events']);
    await sleep(300);
    appendFileSync(p('live.log'), SAMPLE);
    await until(() => t.out().split('\n').filter(Boolean).length >= 7);
    expect(t.out().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { recipient: string }).recipient)).toContain('dave.lee@example.org');
    t.child.kill('SIGTERM');
    expect(await t.exited).toBe(0);
    expect(t.err()).toMatch(/mta550: tail stopped: \d+ lines read, 7 event\(s\) written/);
  });

  it('gives what analyze gives over the same lines: the same events (ids too) and the same onset records', () => {
    const sample = 'samples/postfix/013-dmarc-after-relay-change.log.gz';
    const text = gunzipSync(readFileSync(sample));
    const batch = spawnSync(process.execPath, [CLI, 'analyze', '-', '-o', 'records', '--records', 'events,onsets', '--year', '2024', '-q'], { input: text, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28 });
    const live = spawnSync(process.execPath, [CLI, 'tail', '-', '-o', 'records', '--records', 'events,onsets', '--year', '2024', '-q'], { input: text, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28 });
    expect(live.status).toBe(0);
    const recs = (s: Buffer) => s.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const b = recs(batch.stdout);
    const l = recs(live.stdout);
    expect(b.filter((r) => r['type'] !== undefined).length).toBeGreaterThan(0); // the sample has an onset
    expect(l).toEqual(b);
  });

  it.each(['samples/exchange/001-exchange2019-fail-dsn.log', 'samples/exchange-online/001-get-messagetrace.json'])('gives what analyze gives over an Exchange input: %s', (sample) => {
    const text = readFileSync(sample);
    const args = ['-', '-o', 'records', '--records', 'events', '--codes', '5xx', '-q'];
    const batch = spawnSync(process.execPath, [CLI, 'analyze', ...args], { input: text, maxBuffer: 1 << 26 });
    const live = spawnSync(process.execPath, [CLI, 'tail', ...args], { input: text, maxBuffer: 1 << 26 });
    expect(live.status).toBe(0);
    const recs = (s: Buffer) => s.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs(batch.stdout).length).toBeGreaterThan(0);
    expect(recs(live.stdout)).toEqual(recs(batch.stdout));
  });

  it('gives what analyze gives over an app log (multi-line traces, JSON entries)', () => {
    for (const sample of ['samples/app/003-python-logging-smtplib.log', 'samples/app/002-node-json-loggers.log', 'samples/app/006-java-journald-interleaved.log']) {
      const text = readFileSync(sample);
      const args = ['-', '-o', 'records', '--records', 'events', '--codes', '5xx', '-q'];
      const batch = spawnSync(process.execPath, [CLI, 'analyze', ...args], { input: text, maxBuffer: 1 << 26 });
      const live = spawnSync(process.execPath, [CLI, 'tail', ...args], { input: text, maxBuffer: 1 << 26 });
      expect(live.status).toBe(0);
      const recs = (s: Buffer) => s.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string }).sort((x, y) => x.id.localeCompare(y.id));
      expect(recs(batch.stdout).length).toBeGreaterThan(0);
      expect(recs(live.stdout)).toEqual(recs(batch.stdout));
    }
  });

  it('writes the findings analyze finds (--records findings), at the stop and at each summary when they change', () => {
    for (const sample of ['samples/findings/001-app-retry-loop.log', 'samples/findings/002-postfix-poisoned-multi-recipient.log']) {
      const text = readFileSync(sample);
      const args = ['-', '-o', 'records', '--records', 'findings', '--codes', '5xx', '--year', '2024', '-q'];
      const batch = spawnSync(process.execPath, [CLI, 'analyze', ...args], { input: text, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26 });
      const live = spawnSync(process.execPath, [CLI, 'tail', ...args], { input: text, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26 });
      expect(live.status).toBe(0);
      const recs = (s: Buffer) => s.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; id: string });
      const b = recs(batch.stdout).filter((r) => r.type === 'finding');
      expect(b.length).toBeGreaterThan(0);
      expect(recs(live.stdout).filter((r) => r.type === 'finding')).toEqual(b);
    }
  });

  it('writes an app error being appended to a live log once its trace is complete', async () => {
    writeFileSync(p('app.log'), '2024-11-03 08:12:50,001 INFO app.web: started\n');
    const t = start([p('app.log'), '--from-beginning', '--poll-interval', '50ms', '--records', 'events', '--codes', '5xx']);
    await sleep(300);
    // The traceback arrives in two writes; the unit ends a second after its last line.
    appendFileSync(p('app.log'), '2024-11-03 08:12:55,104 ERROR app.mail: send failed\nTraceback (most recent call last):\n  File "/srv/app/mail.py", line 41, in send\n');
    await sleep(400);
    appendFileSync(p('app.log'), "    raise SMTPRecipientsRefused(senderrs)\nsmtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.1.1 <bob@example.org>: Recipient address rejected: User unknown')}\n");
    await until(() => t.out().trim() !== '', 10_000);
    const events = t.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { recipient: string; code: number; direction: string; source: { line: number } });
    expect(events.map((e) => [e.recipient, e.code, e.direction, e.source.line])).toEqual([['bob@example.org', 550, 'submission', 2]]);
    t.child.kill('SIGTERM');
    expect(await t.exited).toBe(0);
  });

  it('writes an app error from a log without times (console output) within seconds, not at exit', async () => {
    writeFileSync(p('console.log'), 'listening on :3000\n');
    const t = start([p('console.log'), '--from-beginning', '--poll-interval', '50ms', '--records', 'events', '--codes', '5xx']);
    await sleep(300);
    appendFileSync(p('console.log'), "Error: Message failed: 550 5.7.1 Message rejected as spam\n    at SMTPConnection._formatError (/srv/node_modules/nodemailer/lib/smtp-connection/index.js:798:19) {\n  code: 'EMESSAGE',\n  response: '550 5.7.1 Message rejected as spam',\n  responseCode: 550,\n  command: 'DATA'\n}\n");
    await until(() => t.out().trim() !== '', 10_000);
    expect(t.out().trim()).not.toBe('');
    const e = JSON.parse(t.out().trim().split('\n')[0]!) as { code: number; time: string | null; stage: string };
    expect(e).toMatchObject({ code: 550, time: null, stage: 'end_of_data' });
    t.child.kill('SIGTERM');
    expect(await t.exited).toBe(0);
  });

  it('says once that a corrupt state file is unusable, keeps running and rewrites it', async () => {
    writeFileSync(p('c.log'), SAMPLE);
    writeFileSync(p('corrupt.json'), '{"version":1,"files":[{"path":');
    const t = start([p('c.log'), '--state', p('corrupt.json'), '--checkpoint-every', '100ms', '--poll-interval', '50ms']);
    await until(() => readFileSync(p('corrupt.json'), 'utf8').includes('"identity"'));
    t.child.kill('SIGTERM');
    expect(await t.exited).toBe(0);
    expect(t.err().match(/state file .*corrupt\.json is unusable \(not valid JSON\)/g)).toHaveLength(1);
    expect(JSON.parse(readFileSync(p('corrupt.json'), 'utf8'))).toMatchObject({ version: 1, files: [{ path: p('c.log') }] });
  });

  it('keeps running when the state file cannot be written, and says so once', async () => {
    writeFileSync(p('d.log'), '');
    const t = start([p('d.log'), '--from-beginning', '--state', p('no-such-dir/state.json'), '--checkpoint-every', '100ms', '--poll-interval', '50ms', '--year', '2024', '--records', 'events']);
    await sleep(600);
    appendFileSync(p('d.log'), SAMPLE);
    await until(() => t.out().split('\n').filter(Boolean).length >= 7);
    t.child.kill('SIGTERM');
    expect(await t.exited).toBe(0);
    expect(t.out().split('\n').filter(Boolean)).toHaveLength(7);
    expect(t.err().match(/cannot write the state file .*no-such-dir\/state\.json: ENOENT.*still running/g)).toHaveLength(1);
  });

  it('writes summary records, survives SIGHUP, and stops on SIGINT', async () => {
    writeFileSync(p('s.log'), SAMPLE);
    const t = start([p('s.log'), '--from-beginning', '--summary-every', '200ms', '--poll-interval', '50ms', '--year', '2024', '--records', 'onsets']);
    await until(() => t.out().includes('"type":"summary"'));
    t.child.kill('SIGHUP');
    await sleep(300);
    t.child.kill('SIGINT');
    expect(await t.exited).toBe(0);
    const summaries = t.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; total: { lines: number; events: number }; memory: { rssMiB: number }; files: { path: string }[] });
    expect(summaries.length).toBeGreaterThanOrEqual(2);
    expect(summaries.every((s) => s.type === 'summary')).toBe(true);
    expect(summaries.at(-1)).toMatchObject({ total: { lines: SAMPLE.split('\n').length - 1, events: 7 }, files: [{ path: p('s.log') }] });
    expect(summaries.at(-1)!.memory.rssMiB).toBeGreaterThan(10);
    expect(t.err()).toContain('SIGHUP');
  });

  it.each([
    [[], /tail needs files to follow/],
    [['-', '--state', 'x.json'], /--state needs files/],
    [['a.log', '-'], /either files or standard input/],
    [['a.log', '--poll-interval', 'often'], /--poll-interval: "often" is not a duration/],
  ])('exits 2 on a usage error: %j', (args, message) => {
    const r = spawnSync(process.execPath, [CLI, 'tail', ...args], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('mta550 tail with its state file on a full disk', () => {
  it('keeps running, says so once, and still writes every event', { timeout: 30_000 }, () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tiny tmpfs: run it as root (CI does)');
    writeFileSync(p('full-src.log'), SAMPLE);
    const mnt = p('full');
    const out = p('full.out');
    const err = p('full.err');
    // SIGTERM once the events are out and the full disk was reported (not after a fixed time: a
    // loaded machine may take seconds to start node), then 1 s more of failing checkpoints.
    const script = [
      'set -e',
      `mkdir -p ${mnt}`,
      `mount -t tmpfs -o size=8k tmpfs ${mnt}`,
      `dd if=/dev/zero of=${mnt}/filler bs=1k count=64 2>/dev/null || true`,
      `${process.execPath} ${CLI} tail ${p('full-src.log')} --from-beginning --state ${mnt}/state.json --checkpoint-every 200ms --poll-interval 50ms --year 2024 --records events >${out} 2>${err} &`,
      'pid=$!',
      `for i in $(seq 1 600); do if [ "$(wc -l <${out})" -ge 7 ] && grep -q ENOSPC ${err}; then break; fi; sleep 0.05; done`,
      'sleep 1',
      'kill -TERM $pid',
      'code=0; wait $pid || code=$?',
      'exit $code',
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    const stderr = readFileSync(err, 'utf8');
    expect(stderr.match(/cannot write the state file .*state\.json: ENOSPC.*still running, will retry/g)).toHaveLength(1);
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean)).toHaveLength(7);
  });
});
