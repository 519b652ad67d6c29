/**
 * The terminal text report (#13 item 5): every line fits the width (code points, escape codes not
 * counted), tables use a wider terminal's room, colour only on a terminal (NO_COLOR, --color,
 * FORCE_COLOR), and --top (old name --max-rows) limits every table's rows.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { stripAnsi, useColor, visibleWidth } from '../../src/output/ansi.js';
import { runCli } from '../run-cli.js';

const FORMAT_DIRS = ['samples/postfix', 'samples/exim', 'samples/exchange', 'samples/exchange-online', 'samples/app'];
const SAMPLE = /\.(?:log|log\.gz|json|csv)$/;
const samplesOf = (dir: string) =>
  readdirSync(dir)
    .filter((f) => SAMPLE.test(f))
    .sort()
    .map((f) => path.join(dir, f));

/** Columns of a line on a terminal: code points, not bytes or UTF-16 units. */
const columns = (line: string) => [...line].length;
const widest = (text: string) => Math.max(...text.split('\n').map(columns));

/** Runs the CLI in-process as if on a terminal (or not) of the given width, with its own environment. */
async function runAs(args: string[], io: { tty: boolean; columns?: number; env?: Record<string, string> }): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const input = new PassThrough();
  input.end('');
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        append(chunk.toString('utf8'));
        cb();
      },
    });
  const code = await main(args, {
    stdin: input,
    stdout: sink((s) => (stdout += s)),
    stderr: sink(() => {}),
    stdoutIsTTY: io.tty,
    stderrIsTTY: false,
    ...(io.columns !== undefined ? { columns: io.columns } : {}),
    env: io.env ?? {},
    stdinHasData: false,
    cwd: process.cwd(),
  });
  return { code, stdout };
}

/** The README's `samples/postfix/*.log` (013 is a 56,000-line .gz: the width test above reads it). */
const POSTFIX = samplesOf('samples/postfix').filter((f) => f.endsWith('.log'));
const report = (extra: string[] = []) => ['analyze', ...POSTFIX, '--year', '2024', '--output', 'text', '--quiet', ...extra];

describe('text report: width', () => {
  it.each(FORMAT_DIRS)('%s: every line fits 100 columns when no width is known (a pipe)', async (dir) => {
    const { code, stdout } = await runCli(['analyze', ...samplesOf(dir), '--year', '2024', '--codes', '5xx', '--output', 'text', '--quiet']);
    expect(code).toBe(0);
    const over = stdout.split('\n').filter((l) => columns(l) > 100);
    expect(over).toEqual([]);
    expect(stdout).toContain('Inputs');
  });

  it.each([80, 60, 40])('every line fits a %i-column terminal', async (width) => {
    const { stdout } = await runAs(report(['--codes', '5xx']), { tty: false, columns: width });
    expect(widest(stdout)).toBeLessThanOrEqual(width);
  });

  it('uses the room at 160 columns: every column on the row, next moves unwrapped', async () => {
    const narrow = (await runAs(report(), { tty: false, columns: 100 })).stdout;
    const wide = (await runAs(report(), { tty: false, columns: 160 })).stdout;
    expect(widest(wide)).toBeLessThanOrEqual(160);
    expect(widest(wide)).toBeGreaterThan(100);
    expect(wide).toMatch(/RECIPIENT DOMAIN +CAUSE +PROVIDER +STATUS +COUNT +RCPTS +RATE \(MESSAGES\) +FIRST SEEN +LAST SEEN/);
    expect(wide).toContain('  example.net          other_or_unclassified        other      5.7.1             9      2      11.1% of 18  2024-02-12 07:02:01Z  2024-02-12 08:21:32Z');
    expect(wide).toContain('recipient_unknown            recipient            21  Remove or correct the address at its source; check alias maps and recent domain migrations.');
    // At 100 the times and statuses move under the row, and the next moves wrap in their column.
    expect(narrow).not.toContain('FIRST SEEN');
    expect(narrow).toContain('      status 5.1.1 5.1.10; seen 2024-03-11 08:18:08Z to 2025-01-01 00:00:01Z');
    expect(narrow).toContain('      status 5.7.1; seen 2024-02-12 07:02:01Z to 08:21:32Z');
    expect(narrow.split('\n').length).toBeGreaterThan(wide.split('\n').length);
  });

  it('aligns numbers right under their headers', async () => {
    const { stdout } = await runAs(report(), { tty: false, columns: 100 });
    const lines = stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('  DOMAIN '));
    const end = (l: string, word: string) => l.indexOf(word) + word.length;
    const rejected = end(lines[header]!, 'REJECTED');
    for (const row of lines.slice(header + 1, header + 6)) {
      expect(row.slice(0, rejected)).toMatch(/\d$/);
      expect(row[rejected]).toBe(' ');
    }
  });

  it('cuts a domain too long for its column with …', async () => {
    const domain = `${'very-long-subdomain.'.repeat(4)}example.net`;
    const log =
      `Mar 11 08:15:42 mx1 postfix/smtp[4425]: 5D0B7F3A19: to=<dave@${domain}>, relay=mx.example.net[203.0.113.25]:25, delay=1.2, ` +
      `delays=0.1/0/0.6/0.5, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@${domain}>: User unknown (in reply to RCPT TO command))\n`;
    const { stdout } = await runCli(['analyze', '-', '--year', '2024', '--output', 'text', '--format', 'postfix'], log);
    expect(widest(stdout)).toBeLessThanOrEqual(100);
    expect(stdout).toMatch(/ {2}very-long-subdomain\.very-lo\S*… +recipient_unknown/);
  });
});

describe('text report: colour', () => {
  const SGR = /\x1b\[[0-9;]*m/;

  it('is used on a terminal, with widths measured without escape codes', async () => {
    const plain = (await runAs(report(), { tty: false, columns: 100 })).stdout;
    const coloured = (await runAs(report(), { tty: true, columns: 100 })).stdout;
    expect(coloured).toMatch(SGR);
    expect(coloured).toContain('\x1b[1mRefused by remote servers (outbound)\x1b[0m');
    expect(coloured.split('\n').some((l) => columns(l) > 100)).toBe(true);
    expect(Math.max(...coloured.split('\n').map(visibleWidth))).toBeLessThanOrEqual(100);
    expect(stripAnsi(coloured)).toBe(plain);
  });

  it.each([
    ['piped', { tty: false }, []],
    ['NO_COLOR=1 on a terminal', { tty: true, env: { NO_COLOR: '1' } }, []],
    ['NO_COLOR=anything on a terminal', { tty: true, env: { NO_COLOR: 'false' } }, []],
    ['--color never on a terminal', { tty: true }, ['--color', 'never']],
    ['FORCE_COLOR=0 on a terminal', { tty: true, env: { FORCE_COLOR: '0' } }, []],
    ['TERM=dumb', { tty: true, env: { TERM: 'dumb' } }, []],
  ] as const)('is not used when %s', async (_name, io, extra) => {
    const { stdout } = await runAs(report([...extra]), { ...io, columns: 100 });
    expect(stdout).not.toContain('\x1b');
  });

  it.each([
    ['NO_COLOR is empty on a terminal', { tty: true, env: { NO_COLOR: '' } }, []],
    ['--color always through a pipe', { tty: false }, ['--color', 'always']],
    ['FORCE_COLOR=1 through a pipe', { tty: false, env: { FORCE_COLOR: '1' } }, []],
  ] as const)('is used when %s', async (_name, io, extra) => {
    const { stdout } = await runAs(report([...extra]), { ...io, columns: 100 });
    expect(stdout).toMatch(SGR);
  });

  it.each(['json', 'ndjson', 'records'])('never colours --output %s', async (output) => {
    const args = ['analyze', POSTFIX[0]!, '--year', '2024', '--output', output, '--color', 'always', '--quiet'];
    const { stdout } = await runAs(args, { tty: true, columns: 100, env: { FORCE_COLOR: '1' } });
    expect(stdout.length).toBeGreaterThan(0);
    expect(stdout).not.toContain('\x1b');
  });

  it('decides as no-color.org and FORCE_COLOR ask', () => {
    expect(useColor('auto', true, {})).toBe(true);
    expect(useColor('auto', false, {})).toBe(false);
    expect(useColor('auto', true, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(useColor('auto', false, { FORCE_COLOR: '' })).toBe(true);
    expect(useColor('auto', false, { FORCE_COLOR: 'false' })).toBe(false);
    expect(useColor('always', false, { NO_COLOR: '1' })).toBe(true);
    expect(useColor('never', true, { FORCE_COLOR: '1' })).toBe(false);
  });
});

describe('text report: --top', () => {
  it('limits the rows of every table, with a line for the rest', async () => {
    const { stdout } = await runCli(report(['--top', '2']));
    expect(stdout).toContain('  … and 14 more groups with 19 rejections (--output json lists all)');
    expect(stdout).toContain('  … and 4 more groups with 7 rejections (--output json lists all)');
    expect(stdout).toContain('  … and 10 more causes with 22 rejections');
    expect(stdout).toContain('  … and 9 more domains');
    const causes = stdout.split('\n\n').find((s) => s.startsWith('Causes and next moves'))!;
    expect(causes.split('\n').filter((l) => /^ {2}[a-z_]+ +\S+ +\d+/.test(l))).toHaveLength(2);
  });

  it('keeps --max-rows as its old name', async () => {
    expect((await runCli(report(['--max-rows', '3']))).stdout).toBe((await runCli(report(['--top', '3']))).stdout);
  });

  it.each(['0', '-1', '2.5', 'all'])('refuses --top %s', async (value) => {
    const r = await runCli(report(['--top', value]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--top takes a whole number of rows');
  });

  it("applies to aggregate's text report", async () => {
    const ndjson = (await runCli(['analyze', ...POSTFIX, '--year', '2024', '--output', 'ndjson', '--records', 'events,attempts', '--quiet'])).stdout;
    const r = await runCli(['aggregate', '-', '--output', 'text', '--top', '2', '--quiet'], ndjson);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('more groups with');
    expect(r.stdout).toContain('more causes with');
    expect(widest(r.stdout)).toBeLessThanOrEqual(100);
  });
});
