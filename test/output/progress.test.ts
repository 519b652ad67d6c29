/**
 * The progress line of long batch runs (#13 item 4): on a terminal only, not in CI, not with
 * --quiet; rewritten in place at most every 250 ms; cleared before the report.
 */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { ProgressLine, wantsProgress } from '../../src/output/progress.js';

function sink(): { w: Writable; text: () => string } {
  let t = '';
  return { w: new Writable({ write: (c: Buffer, _e, cb) => ((t += c.toString()), cb()) }), text: () => t };
}

describe('ProgressLine', () => {
  it('shows bytes, lines, lines/s, the share done and the time left, at most every 250 ms, and clears itself', () => {
    const s = sink();
    let now = 0;
    const p = new ProgressLine(s.w, new Map([['mail.log', 4 * 1024 * 1024]]), { now: () => now, columns: 120 });
    p.update({ path: 'mail.log', bytes: 0, lines: 0 });
    now = 1000;
    p.update({ path: 'mail.log', bytes: 1024 * 1024, lines: 10_000 });
    now = 1100;
    p.update({ path: 'mail.log', bytes: 2 * 1024 * 1024, lines: 20_000 }); // too soon: not shown
    p.clear();
    const parts = s.text().split('\r\x1b[K');
    expect(parts).toEqual(['', 'mail.log: 0.0 MiB, 0 lines, 0 lines/s 0%', 'mail.log: 1.0 MiB, 10,000 lines, 10,000 lines/s 25%, 3 s left', '']);
  });

  it('shows no share for compressed or unknown sizes, and cuts long lines to the terminal', () => {
    const s = sink();
    const p = new ProgressLine(s.w, new Map(), { now: () => 5, columns: 40 });
    p.update({ path: `/var/log/${'very-long-directory/'.repeat(5)}mail.log.gz`, bytes: 1, lines: 1 });
    const shown = s.text().replace('\r\x1b[K', '');
    expect(shown.length).toBeLessThanOrEqual(39);
    expect(shown.startsWith('…')).toBe(true);
    expect(shown).not.toMatch(/%/);
  });

  it('is wanted on a terminal only, not in CI, not with --quiet', () => {
    expect(wantsProgress(true, false, {})).toBe(true);
    expect(wantsProgress(false, false, {})).toBe(false);
    expect(wantsProgress(true, true, {})).toBe(false);
    expect(wantsProgress(true, false, { CI: 'true' })).toBe(false);
    expect(wantsProgress(true, false, { TERM: 'dumb' })).toBe(false);
  });

  it('analyze on a terminal: the progress line is cleared before the report, and absent with --quiet', async () => {
    const saved = process.env.CI;
    delete process.env.CI;
    try {
      const run = async (extra: string[]) => {
        const out = sink();
        const err = sink();
        const input = new PassThrough();
        input.end();
        const code = await main(['analyze', 'samples/postfix/013-dmarc-after-relay-change.log.gz', 'samples/postfix/001-remote-550-providers.log', '--year', '2024', '-o', 'json', ...extra], { stdin: input, stdout: out.w, stderr: err.w, stdoutIsTTY: false, stderrIsTTY: true, stdinHasData: false, cwd: process.cwd(), columns: 100 });
        return { code, err: err.text() };
      };
      const shown = await run([]);
      expect(shown.code).toBe(0);
      expect(shown.err).toMatch(/samples\/postfix\/001-remote-550-providers\.log: 0\.0 MiB, \d+ lines, [\d,]+ lines\/s \d+%/);
      expect(shown.err.endsWith('\r\x1b[K')).toBe(true);
      expect((await run(['--quiet'])).err).toBe('');
    } finally {
      if (saved !== undefined) process.env.CI = saved;
    }
  });
});
