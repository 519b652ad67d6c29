/**
 * Broken files and environments (#12 point 4), each with one clear message and a documented exit
 * code; the line accounting adds up on every sample and every generated log (#12 point 1).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCodes } from '../../src/aggregate/codes.js';
import { runPipeline, type InputSummary } from '../../src/pipeline.js';
import { scenarioLog } from '../onset/scenario-log.js';
import { watch } from '../run-cli.js';

const CLI = path.resolve('dist/src/cli.js');
const dir = mkdtempSync(path.join(tmpdir(), 'mta550-broken-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (n: string) => path.join(dir, n);
const SAMPLE = readFileSync('samples/postfix/001-remote-550-providers.log');

function run(args: string[], input: string | Buffer = '') {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const balanced = (i: InputSummary) => i.lines === i.records + i.unsupported + i.otherPrograms + i.malformed + i.blank + i.continuation + i.joined;

async function summaries(files: string[]): Promise<InputSummary[]> {
  const r = await runPipeline(
    files.map((f) => ({ kind: 'file' as const, path: f })),
    { codes: parseCodes('5xx'), year: 2024, stdin: new PassThrough() },
    { event: () => undefined, outcome: () => undefined },
  );
  return r.inputs;
}

describe('the line accounting adds up', () => {
  const samples = readdirSync('samples').flatMap((d) =>
    readdirSync(path.join('samples', d))
      .filter((f) => /\.log(\.gz)?$/.test(f))
      .map((f) => path.join('samples', d, f)),
  );

  it.each(samples)('%s: lines = decoded + unsupported + other programs + malformed + blank + continuation + joined', async (file) => {
    const [s] = await summaries([file]);
    expect(s!.lines).toBeGreaterThan(0);
    expect(balanced(s!)).toBe(true);
  });

  it('on generated logs (the onset scenario generator and the benchmark generator)', async () => {
    const { text } = scenarioLog({ seed: 3, minutes: 120, perMinute: { 'gmail.example': 20, 'corp.example.org': 3 }, baseRate: 0.01 });
    writeFileSync(p('scenario.log'), text);
    const { generate } = (await import('../../bench/generate.mjs')) as { generate: (f: string, n: number, seed: number) => Promise<void> };
    await generate(p('bench.log'), 20_000, 7);
    const out = await summaries([p('scenario.log'), p('bench.log')]);
    expect(out.map((s) => s.lines)).toEqual([text.split('\n').filter((l) => l !== '').length, 20_000]);
    expect(out.every(balanced)).toBe(true);
  });
});

describe('broken inputs', () => {
  it('invalid UTF-8: decoded with replacement, counted, and the events still found', () => {
    const bad = Buffer.concat([Buffer.from('Mar 11 08:15:39 mx1 postfix/smtpd[1]: connect from caf\xe9.example[192.0.2.9]\n', 'latin1'), SAMPLE]);
    writeFileSync(p('latin1.log'), bad);
    const r = run(['analyze', p('latin1.log'), '-o', 'json', '--year', '2024']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { inputs: InputSummary[]; totals: { events: number } };
    expect(report.inputs[0]).toMatchObject({ invalidUtf8: 1 });
    expect(run(['analyze', p('latin1.log'), '-o', 'records', '--records', 'events', '-q']).stdout.trim().split('\n')).toHaveLength(7);
  });

  it('a binary file given by mistake: skipped with one warning, the other inputs read, exit 0', () => {
    writeFileSync(p('a.out'), Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(4000)]));
    writeFileSync(p('random.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const r = run(['analyze', p('a.out'), p('random.bin'), 'samples/postfix/001-remote-550-providers.log', '-o', 'records', '--records', 'events', '-q']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([`mta550: ${p('a.out')} is not a text file (binary content): skipped`, `mta550: ${p('random.bin')} is not a text file (binary content): skipped`]);
    expect(r.stdout.trim().split('\n')).toHaveLength(7);
  });

  it('a log with a run of NUL bytes after a crash is still read as text', () => {
    writeFileSync(p('crashed.log'), Buffer.concat([SAMPLE.subarray(0, 2000), Buffer.alloc(300), SAMPLE.subarray(2000)]));
    const r = run(['analyze', p('crashed.log'), '-o', 'json', '--year', '2024']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { inputs: InputSummary[] }).inputs[0]!.skipped).toBeNull();
  });

  it('permission denied: one message naming the file and the group to join, exit 1', () => {
    writeFileSync(p('secret.log'), SAMPLE);
    chmodSync(p('secret.log'), 0o600);
    chmodSync(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    // As root every file is readable: run the CLI as nobody (setpriv, util-linux) to see the refusal.
    const r = asRoot
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'analyze', p('secret.log')], { encoding: 'utf8' })
      : spawnSync(process.execPath, [CLI, 'analyze', p('secret.log')], { encoding: 'utf8' });
    if (!asRoot) chmodSync(p('secret.log'), 0o000);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`mta550: cannot read ${p('secret.log')}: permission denied (run as root or as a member of the group that owns it, often adm)\n`);
  });

  it('a directory symlink loop under ** is walked once', () => {
    mkdirSync(p('logs/a'), { recursive: true });
    writeFileSync(p('logs/a/mail.log'), SAMPLE);
    symlinkSync('..', p('logs/a/up'));
    const r = run(['analyze', `${p('logs')}/**/*.log`, '-o', 'json', '--year', '2024']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { inputs: InputSummary[] }).inputs.map((i) => i.path)).toEqual([p('logs/a/mail.log')]);
  });

  it('a file that vanishes between listing and reading: the others are read, the error is said, exit 1', async () => {
    writeFileSync(p('ok.log'), SAMPLE);
    const r = await runPipeline(
      [{ kind: 'file', path: p('gone.log') }, { kind: 'file', path: p('ok.log') }],
      { codes: parseCodes('550'), year: 2024, stdin: new PassThrough() },
      { event: () => undefined, outcome: () => undefined },
    );
    expect(r.inputs.map((i) => [path.basename(i.path), i.error ?? null])).toEqual([
      ['gone.log', `cannot read ${p('gone.log')}: no such file or directory`],
      ['ok.log', null],
    ]);
    expect(r.eventsEmitted).toBe(7);
  });

  it('huge input through stdin: 300,000 lines counted to the last', async () => {
    const { generate } = (await import('../../bench/generate.mjs')) as { generate: (f: string, n: number, seed: number) => Promise<void> };
    await generate(p('huge.log'), 300_000, 11);
    const r = run(['analyze', '-', '-o', 'json', '--year', '2024', '--codes', '5xx'], readFileSync(p('huge.log')));
    expect(r.code).toBe(0);
    const s = (JSON.parse(r.stdout) as { inputs: InputSummary[] }).inputs[0]!;
    expect(s.lines).toBe(300_000);
    expect(balanced(s)).toBe(true);
  }, 120_000);
});

describe('exit codes (README table)', () => {
  const README = readFileSync('README.md', 'utf8');
  const table = [...README.matchAll(/^\| `(\d+)` \| (.+) \|$/gm)].map((m) => Number(m[1]));

  it('the README documents 0, 1, 2, 3, 130 and 143', () => {
    expect(table).toEqual([0, 1, 2, 3, 130, 143]);
  });

  it('0 ok, 1 unreadable input, 2 usage error, 3 malformed lines under --strict', () => {
    writeFileSync(p('mixed.log'), Buffer.concat([SAMPLE, Buffer.from('this is not a mail log line\n')]));
    expect(run(['analyze', 'samples/postfix/001-remote-550-providers.log', '-q']).code).toBe(0);
    expect(run(['analyze', p('nope.log')]).code).toBe(1);
    expect(run(['analyze', '--codes', 'x']).code).toBe(2);
    const lenient = run(['analyze', p('mixed.log'), '-o', 'records', '-q']);
    expect(lenient.code).toBe(0);
    const strict = run(['analyze', p('mixed.log'), '-o', 'records', '--strict', '-q']);
    expect(strict.code).toBe(3);
    expect(strict.stdout).toBe(lenient.stdout); // the output is still written
    expect(strict.stderr).toBe('mta550: --strict: 1 malformed line(s) in 1 input(s) (the report lists the first ones)\n');
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s during a batch run: the report of what was read is written, exit %i', async (signal, code) => {
    const child = spawn(process.execPath, [CLI, 'analyze', '-', '-o', 'json', '--year', '2024'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    const w = watch(child);
    // An endless stream (the input never ends): the signal is the only way out.
    const feed = setInterval(() => child.stdin.write(SAMPLE), 20);
    await new Promise((r) => setTimeout(r, 800));
    child.kill(signal);
    const status = await w.exited;
    clearInterval(feed);
    expect(status).toBe(code);
    expect(w.err()).toContain(`mta550: interrupted by ${signal}: the output covers the lines read until then`);
    const report = JSON.parse(w.out()) as { inputs: InputSummary[] };
    expect(report.inputs[0]!.lines).toBeGreaterThan(0);
  });
});
