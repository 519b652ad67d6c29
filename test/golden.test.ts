/**
 * Every sample (a log, or an Exchange Online .json/.csv export) has a golden NDJSON file beside it (STYLE.md habit 5): the events
 * `mta550 analyze <sample> --output ndjson --year 2024 [args]` must produce. Extra arguments for a
 * sample go in `NNN-name.args` (one line). A sample without a golden file fails the suite; run
 * `npm run golden:update` to write them, then review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const FORMAT_DIRS = ['samples/postfix', 'samples/exim', 'samples/exchange', 'samples/exchange-online', 'samples/app', 'samples/findings'];
/** A sample's extension (Exchange Online exports are .json and .csv), and the path of its companions. */
const SAMPLE = /\.(?:log|log\.gz|json|csv)$/;
const companion = (file: string, ext: string) => file.replace(SAMPLE, ext);
const update = process.env.UPDATE_GOLDEN === '1';

for (const dir of FORMAT_DIRS) {
  const samples = readdirSync(dir).filter((f) => SAMPLE.test(f)).sort();
  describe(`golden: ${dir}`, () => {
    it('has samples', () => {
      expect(samples.length).toBeGreaterThan(0);
    });

    it('has no golden or args file without its sample', () => {
      const orphans = readdirSync(dir)
        .filter((f) => f.endsWith('.expected.ndjson') || f.endsWith('.args'))
        .filter((f) => {
          const base = f.replace(/\.(expected\.ndjson|args)$/, '');
          return !samples.some((s) => s.replace(SAMPLE, '') === base);
        });
      expect(orphans).toEqual([]);
    });

    it.each(samples)('%s', async (sample) => {
      const file = path.join(dir, sample);
      const golden = companion(file, '.expected.ndjson');
      const argsFile = companion(file, '.args');
      const extra = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').trim().split(/\s+/).filter(Boolean) : [];
      const { code, stdout, stderr } = await runCli(['analyze', file, '--output', 'records', ...(extra.includes('--records') ? [] : ['--records', 'events,onsets']), '--year', '2024', '--quiet', ...extra]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      if (update) writeFileSync(golden, stdout);
      if (!existsSync(golden)) throw new Error(`${golden} is missing: run npm run golden:update and review it`);
      const expected = readFileSync(golden, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
      const actual = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
      expect(actual).toEqual(expected);
    });
  });
}

describe('negative samples (samples/_negative): no events', () => {
  const dir = 'samples/_negative';
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  it('exist', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it.each(files)('%s', async (f) => {
    const { code, stdout } = await runCli(['analyze', path.join(dir, f), '--output', 'records', '--records', 'events,onsets', '--codes', '5xx', '--quiet']);
    expect(code).toBe(0);
    expect(stdout).toBe('');
  });
});
