import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEAP_GROWTH_PERCENT, heapGrowthPercent } from '../src/heap.js';

const CLI = path.resolve('dist/src/cli.js');
const SAMPLE = 'samples/postfix/001-remote-550-providers.log';

function run(env: Record<string, string | undefined>) {
  const r = spawnSync(process.execPath, [CLI, 'analyze', SAMPLE, '--output', 'json'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('MTA550_HEAP_GROWTH', () => {
  it('defaults when unset or empty, takes whole percents from 0 to 400', () => {
    expect(heapGrowthPercent(undefined)).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(heapGrowthPercent('')).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(heapGrowthPercent('  ')).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(heapGrowthPercent('0')).toBe(0);
    expect(heapGrowthPercent(' 50 ')).toBe(50);
    expect(heapGrowthPercent('400')).toBe(400);
  });

  it.each(['abc', '-5', '1.5', '401', '30%', '0x10'])('refuses %j with a message that names the variable', (v) => {
    expect(() => heapGrowthPercent(v)).toThrow(/^MTA550_HEAP_GROWTH must be a whole number of percent from 0 \(V8 decides\) to 400, got '/);
  });

  it('a bad value is a usage error (exit 2, one line, nothing on stdout)', () => {
    const r = run({ MTA550_HEAP_GROWTH: 'lots' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("mta550: MTA550_HEAP_GROWTH must be a whole number of percent from 0 (V8 decides) to 400, got 'lots'\n");
  });

  it('gives the same output whatever the growth', () => {
    const base = run({ MTA550_HEAP_GROWTH: undefined });
    expect(base.code).toBe(0);
    for (const v of ['0', '10', '400']) {
      const r = run({ MTA550_HEAP_GROWTH: v });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(base.stdout);
    }
  });

  it("this Node's V8 still has the flag it sets (setFlagsFromString ignores unknown flags silently)", () => {
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(options).toMatch(/^\s*--heap-growing-percent\b/m);
  });
});
