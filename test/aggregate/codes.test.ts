import { describe, expect, it } from 'vitest';
import { parseCodes } from '../../src/aggregate/codes.js';

describe('--codes', () => {
  it.each([
    ['550', [550], [551, 554, 450]],
    ['5xx', [500, 550, 554, 599], [450, 250]],
    ['550,554', [550, 554], [552]],
    ['550 554', [550, 554], [552]],
    ['55x', [550, 552, 554], [504, 450]],
  ])('%s', (spec, yes, no) => {
    const f = parseCodes(spec);
    for (const c of yes) expect(f.matches(c)).toBe(true);
    for (const c of no) expect(f.matches(c)).toBe(false);
  });

  it.each([['abc'], ['55'], ['5555'], ['650'], ['']])('rejects %j as a usage error', (spec) => {
    expect(() => parseCodes(spec)).toThrowError(expect.objectContaining({ code: 'usage' }));
  });
});
