/**
 * `--codes`: which reply codes count as rejections. Items are exact codes (`550`) or patterns with
 * `x` for any digit (`5xx`, `55x`), comma- or space-separated. Default `550`.
 */
import { Mta550Error } from '../errors.js';

export interface CodeFilter {
  /** The items as given, for reports. */
  readonly items: readonly string[];
  matches(code: number): boolean;
}

const ITEM = /^[2-5][0-9x][0-9x]$/;

export function parseCodes(spec: string | readonly string[]): CodeFilter {
  const raw = (Array.isArray(spec) ? spec.join(',') : (spec as string))
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (raw.length === 0) throw new Mta550Error('usage', '--codes needs at least one code, such as 550 or 5xx');
  for (const item of raw) {
    if (!ITEM.test(item)) {
      throw new Mta550Error('usage', `--codes: "${item}" is not a reply code or pattern (examples: 550, 554, 55x, 5xx)`);
    }
  }
  const patterns = raw.map((item) => (code: number) => {
    const s = String(code);
    return s.length === 3 && [...item].every((c, i) => c === 'x' || c === s[i]);
  });
  return { items: raw, matches: (code) => patterns.some((p) => p(code)) };
}
