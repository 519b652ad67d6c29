/**
 * The built command as a user runs it: exit codes, messages, pipes, compression, stdin.
 * (`npm test` builds dist/ first: see the pretest script.)
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const CLI = path.resolve('dist/src/cli.js');
const exec = promisify(execFile);
let tmp: string;

const LOG = [
  'Mar 11 08:15:40 mx1 postfix/smtpd[4417]: 5D0B7F3A19: client=web01.example.com[192.0.2.21]',
  'Mar 11 08:15:40 mx1 postfix/cleanup[4420]: 5D0B7F3A19: message-id=<20240311081540.7f3a@example.com>',
  'Mar 11 08:15:40 mx1 postfix/qmgr[1102]: 5D0B7F3A19: from=<alice@example.com>, size=4821, nrcpt=1 (queue active)',
  'Mar 11 08:15:42 mx1 postfix/smtp[4425]: 5D0B7F3A19: to=<dave@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@example.net>: User unknown (in reply to RCPT TO command))',
  'Mar 11 08:15:42 mx1 postfix/qmgr[1102]: 5D0B7F3A19: removed',
  'Mar 11 08:16:01 mx1 postfix/smtpd[4417]: NOQUEUE: reject: RCPT from unknown[203.0.113.77]: 554 5.7.1 Service unavailable; Client host [203.0.113.77] blocked using bl.example.org; from=<x@example.org> to=<bob@example.com> proto=ESMTP helo=<pc7>',
].join('\n') + '\n';

function run(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: input ?? '', encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mta550-cli-'));
  writeFileSync(path.join(tmp, 'mail.log'), LOG);
  writeFileSync(path.join(tmp, 'mail.log.1.gz'), gzipSync(LOG));
  for (const [ext, tool] of [['bz2', 'bzip2'], ['xz', 'xz'], ['zst', 'zstd']] as const) {
    writeFileSync(path.join(tmp, `mail.log.3.${ext}`), spawnSync(tool, ['-c'], { input: LOG }).stdout);
  }
  writeFileSync(path.join(tmp, 'broken.log.bz2'), Buffer.from('BZh91AY&SY\u0000\u0001', 'latin1'));
  // A gzip file cut in the middle: the lines before the cut are still read.
  const gz = gzipSync(Array.from({ length: 400 }, (_, i) => LOG.replace(/5D0B7F3A19/g, (0x5d0b7f3a19 + i).toString(16).toUpperCase())).join(''));
  writeFileSync(path.join(tmp, 'cut.log.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('mta550 analyze (built CLI)', () => {
  it('writes NDJSON when stdout is not a terminal', () => {
    const r = run(['analyze', path.join(tmp, 'mail.log'), '--year', '2024']);
    expect(r.code).toBe(0);
    // ECS documents: the rejection, then the summary of its group.
    const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { email?: { to: { address: string[] } }; event: { code?: string; kind: string }; mta550: { record: string } });
    const events = docs.filter((d) => d.mta550.record === 'rejection');
    expect(events.map((e) => [e.email!.to.address[0], e.event.code])).toEqual([['dave@example.net', '550']]);
    expect(docs.map((d) => `${d.event.kind} ${d.mta550.record}`)).toEqual(['event rejection', 'metric group']);
    expect(r.stderr).toBe(''); // the line accounting goes to stderr only when it is a terminal
  });

  it('reads a short standard input that was written and closed at once (nothing lost in sniffing its first bytes)', async () => {
    const r = await runCli(['analyze', '-', '--output', 'records', '--records', 'events', '--year', '2024', '-q'], LOG);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"recipient":"dave@example.net"');
  });

  it('widens to every 5xx with --codes 5xx', () => {
    const r = run(['analyze', path.join(tmp, 'mail.log'), '--codes', '5xx', '-o', 'records', '--records', 'events', '-q']);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stderr).toBe('');
  });

  it('reads gzip by content, and equal events come from the plain and the gzipped file', () => {
    const plain = run(['analyze', path.join(tmp, 'mail.log'), '-o', 'records', '--year', '2024', '-q']);
    const gz = run(['analyze', path.join(tmp, 'mail.log.1.gz'), '-o', 'records', '--year', '2024', '-q']);
    const strip = (s: string) => s.trim().split('\n').map((l) => {
      const { source, ...rest } = JSON.parse(l) as { source: { file: string } };
      return { ...rest, source: { ...source, file: null } };
    });
    // Same content, same identity and offsets: the rotated, compressed copy keeps its event ids.
    expect(strip(gz.stdout)).toEqual(strip(plain.stdout));
    const piped = run(['analyze', '-', '-o', 'records', '--year', '2024', '-q'], LOG);
    expect(strip(piped.stdout)).toEqual(strip(plain.stdout));
  });

  it('reads - (standard input), plain or gzipped', () => {
    expect(run(['analyze', '-', '-o', 'records', '-q'], LOG).stdout).toContain('"recipient":"dave@example.net"');
    expect(run(['analyze', '-', '-o', 'records', '-q'], gzipSync(LOG)).stdout).toContain('"recipient":"dave@example.net"');
  });

  it('reads - among named files (stdin last)', () => {
    const r = run(['analyze', '-', path.join(tmp, 'mail.log'), '-o', 'json', '-q'], LOG);
    expect((JSON.parse(r.stdout) as { inputs: { path: string }[] }).inputs.map((i) => i.path)).toEqual([path.join(tmp, 'mail.log'), '-']);
  });

  it('reads piped standard input when no input is named', () => {
    expect(run(['analyze', '-o', 'records', '-q'], LOG).stdout).toContain('"source":{"format":"postfix","file":"-","line":4,"offset":302,');
  });

  it('prints the text report with --output text', () => {
    const r = run(['analyze', path.join(tmp, 'mail.log'), '--year', '2024', '-o', 'text']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mta550: 1 rejection (550) in 1 input, 6 lines');
    expect(r.stdout).toContain('dave@example.net: 550 5.1.1 <dave@example.net>: User unknown');
  });

  it('prints the report as JSON with --output json', () => {
    const r = run(['analyze', path.join(tmp, 'mail.log'), '--year', '2024', '-o', 'json']);
    const report = JSON.parse(r.stdout) as { totals: { events: number }; inputs: { lines: number }[] };
    expect(report.totals.events).toBe(1);
    expect(report.inputs[0]!.lines).toBe(6);
  });

  it('exits 1 with one clear message for a missing file', () => {
    const r = run(['analyze', path.join(tmp, 'missing.log')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mta550: cannot read ${path.join(tmp, 'missing.log')}: no such file or directory\n`);
    expect(r.stdout).toBe('');
  });

  it.each(['bz2', 'xz', 'zst'])('reads a .%s file (by content, through the system tool) with the same event ids', (ext) => {
    const plain = run(['analyze', path.join(tmp, 'mail.log'), '-o', 'records', '--year', '2024', '-q']);
    const packed = run(['analyze', path.join(tmp, `mail.log.3.${ext}`), '-o', 'records', '--year', '2024', '-q']);
    expect(packed.code).toBe(0);
    const ids = (s: string) => s.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids(packed.stdout)).toEqual(ids(plain.stdout));
    const piped = run(['analyze', '-', '-o', 'records', '--year', '2024', '-q'], readFileSync(path.join(tmp, `mail.log.3.${ext}`)));
    expect(ids(piped.stdout)).toEqual(ids(plain.stdout));
  });

  it('names the missing tool and the package to install when a decompressor is absent', () => {
    const r = spawnSync(process.execPath, [CLI, 'analyze', path.join(tmp, 'mail.log.3.zst'), '-q'], { encoding: 'utf8', env: { PATH: '/nonexistent', TZ: 'UTC' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/zstd-compressed, and the zstd command is not installed \(apt-get install zstd, or: zstd -dc .* \| mta550 analyze -\)/);
  });

  it('reads everything before the damage of a corrupt or truncated file, then exits 1 with one message', () => {
    const bz = run(['analyze', path.join(tmp, 'broken.log.bz2'), path.join(tmp, 'mail.log'), '-o', 'records', '-q']);
    expect(bz.code).toBe(1);
    expect(bz.stderr).toMatch(/^mta550: cannot read .*broken\.log\.bz2: bzip2 -dc failed/);
    expect(bz.stdout).toContain('"recipient":"dave@example.net"'); // the other input was still read
    const cut = run(['analyze', path.join(tmp, 'cut.log.gz'), '-o', 'json', '-q']);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/^mta550: cannot read .*cut\.log\.gz: the gzip data ends early \(truncated file\)/);
    const report = JSON.parse(cut.stdout) as { inputs: { lines: number; error: string }[] };
    expect(report.inputs[0]!.lines).toBeGreaterThan(100);
    expect(report.inputs[0]!.error).toMatch(/truncated/);
  });

  it.each([
    [['analyze', '--output', 'xml'], /Invalid values/],
    [['analyze', '--codes', 'abc'], /--codes: "abc" is not a reply code/],
    [['analyze', '--year', '12'], /--year: "12" is not a year/],
    [['analyze', '--idle-timeout', 'soon'], /--idle-timeout: "soon" is not a duration/],
    [['analyze', '--no-such-option'], /Unknown argument/],
    [['frobnicate'], /Unknown argument|name a command/],
    [[], /name a command/],
  ])('exits 2 on a usage error: %j', (args, message) => {
    const r = run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("Try 'mta550 --help'");
  });

  it('prints help and version with exit 0', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('mta550 analyze');
    const analyzeHelp = run(['analyze', '--help']);
    expect(analyzeHelp.stdout).toContain('--codes');
    const version = run(['--version']);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });

  it('exits 0 quietly when the reader closes the pipe (| head -1)', async () => {
    const big = path.join(tmp, 'big.log');
    writeFileSync(big, LOG.repeat(20_000));
    const { stdout, stderr } = await exec('bash', [
      '-c',
      `set -o pipefail; node ${JSON.stringify(CLI)} analyze ${JSON.stringify(big)} --output ndjson | head -1; echo "status=$?"`,
    ]);
    expect(stderr).toBe('');
    const [first, status] = stdout.trim().split('\n');
    expect(JSON.parse(first!)).toMatchObject({ email: { to: { address: ['dave@example.net'] } } });
    expect(status).toBe('status=0');
  });

  it('mta550 analyze samples/postfix/*.log --output ndjson | head -1 exits 0 quietly', async () => {
    const { stdout, stderr } = await exec('bash', ['-c', `set -o pipefail; node ${JSON.stringify(CLI)} analyze samples/postfix/*.log --output ndjson | head -1; echo "status=$?"`]);
    expect(stderr).toBe('');
    const [first, status] = stdout.trim().split('\n');
    expect(JSON.parse(first!)).toHaveProperty('email.to.address');
    expect(status).toBe('status=0');
  });

  it('analyses the bundled samples when no input is given and stdin is not a pipe', () => {
    const r = spawnSync(process.execPath, [CLI, 'analyze', '--output', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('no input given: analysing the bundled samples');
    const report = JSON.parse(r.stdout) as { inputs: { path: string }[]; totals: { events: number } };
    expect(report.inputs.length).toBeGreaterThan(1);
    expect(report.inputs.every((i) => i.path.startsWith('samples/'))).toBe(true);
    expect(report.totals.events).toBeGreaterThan(0);
  });

  it('reads a rotated set oldest first, so a message crossing the rotation stays whole', () => {
    const dir = mkdtempSync(path.join(tmp, 'rot-'));
    const lines = LOG.split('\n');
    writeFileSync(path.join(dir, 'mail.log.1'), lines.slice(0, 3).join('\n') + '\n');
    writeFileSync(path.join(dir, 'mail.log'), lines.slice(3).join('\n'));
    const r = run(['analyze', path.join(dir, 'mail.log'), path.join(dir, 'mail.log.1'), '-o', 'records', '--records', 'events', '--year', '2024', '-q']);
    const e = JSON.parse(r.stdout.trim()) as { messageId: string; sender: string; message: { complete: boolean } };
    expect(e).toMatchObject({ messageId: '20240311081540.7f3a@example.com', sender: 'alice@example.com', message: { complete: true } });
  });

  it('chooses the format per input, so a directory mixing Postfix and Exim logs works', () => {
    const dir = mkdtempSync(path.join(tmp, 'mixed-'));
    copyFileSync('samples/postfix/001-remote-550-providers.log', path.join(dir, 'mail.log'));
    copyFileSync('samples/exim/001-remote-550.log', path.join(dir, 'mainlog'));
    const r = run(['analyze', dir, '-o', 'json', '--year', '2024']);
    const report = JSON.parse(r.stdout) as { inputs: { path: string; format: string; formatChoice: string }[]; totals: { events: number } };
    expect(report.inputs.map((i) => [path.basename(i.path), i.format, i.formatChoice])).toEqual([
      ['mail.log', 'postfix', 'sniffed'],
      ['mainlog', 'exim', 'sniffed'],
    ]);
    expect(report.totals.events).toBe(7 + 5);
  });

  it('reads every input as the --format given', () => {
    const r = run(['analyze', 'samples/exim/001-remote-550.log', '--format', 'postfix', '-o', 'json']);
    const input = (JSON.parse(r.stdout) as { inputs: { format: string | null; formatChoice: string; malformed: number; lines: number }[] }).inputs[0]!;
    expect(input).toMatchObject({ format: null, formatChoice: 'forced' });
    expect(input.malformed).toBe(input.lines);
  });

  it('writes only onset records with --records onsets, and none with --no-onsets', () => {
    const sample = 'samples/postfix/013-dmarc-after-relay-change.log.gz';
    const onsets = run(['analyze', sample, '--year', '2024', '-o', 'records', '--records', 'onsets']);
    const records = onsets.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(['onset', 'attribute_change', 'incident', 'new_series_elevated', 'recovery']));
    expect(run(['analyze', sample, '--year', '2024', '-o', 'records', '--records', 'onsets', '--no-onsets']).stdout).toBe('');
    const events = run(['analyze', sample, '--year', '2024', '-o', 'records', '--records', 'events']).stdout.trim().split('\n');
    expect(events.every((l) => !('type' in (JSON.parse(l) as object)))).toBe(true);
  });

  it('names a directory input and reads its files', () => {
    const dir = mkdtempSync(path.join(tmp, 'dir-'));
    copyFileSync(path.join(tmp, 'mail.log'), path.join(dir, 'mail.log'));
    const r = run(['analyze', dir, '-o', 'json']);
    expect((JSON.parse(r.stdout) as { inputs: unknown[] }).inputs).toHaveLength(1);
  });
});

describe('mta550 explain (built CLI)', () => {
  it('explains one reply as text', () => {
    const r = run(['explain', '550 5.7.1 <bob@example.net>: Relay access denied', '--stage', 'rcpt']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cause: +relay_denied$/m);
    expect(r.stdout).toMatch(/^who acts: +relay\/submission$/m);
    expect(r.stdout).toMatch(/^confidence: +high$/m);
    expect(r.stdout).toMatch(/^next move: +Fix submission server/m);
  });

  it('reads the reply from standard input and answers JSON', () => {
    const r = run(['explain', '--output', 'json', '--remote-host', 'example-com.mail.protection.outlook.com'], '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ subtype: 'recipient_unknown', provider: 'microsoft', providerVia: 'host', confidence: 'high' });
  });

  it('answers one NDJSON object per input line with --lines', () => {
    const r = run(['explain', '--lines'], '550 5.1.1 <a@example.com>: user unknown\n\n552 5.2.2 Mailbox full\n554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org\n');
    const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { input: string; subtype: string });
    expect(answers.map((a) => a.subtype)).toEqual(['recipient_unknown', 'mailbox_full', 'blocklisted']);
    expect(answers[1]!.input).toBe('552 5.2.2 Mailbox full');
  });

  it('answers each line of --lines as it arrives (a stream, not a batch)', async () => {
    const { spawn } = await import('node:child_process');
    const { watch } = await import('./run-cli.js');
    const child = spawn(process.execPath, [CLI, 'explain', '--lines'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const w = watch(child);
    child.stdin.write('550 5.1.1 <a@example.com>: user unknown\r\n');
    for (let i = 0; i < 100 && !w.out().includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
    expect((JSON.parse(w.out().split('\n')[0]!) as { subtype: string }).subtype).toBe('recipient_unknown'); // stdin still open
    child.stdin.end('552 5.2.2 Mailbox full\n');
    expect(await w.exited).toBe(0);
    expect(w.out().trim().split('\n')).toHaveLength(2);
  });

  it('exits 2 without a reply', () => {
    const r = spawnSync(process.execPath, [CLI, 'explain'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('explain needs a reply text');
  });
});
