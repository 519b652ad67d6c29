import { describe, expect, it } from 'vitest';
import { YearClock, type YearAnchor } from '../../src/input/clock.js';
import type { LogTime } from '../../src/model/records.js';

// The suite runs with TZ=UTC (test/vitest.config.ts), so local time = UTC here.
const bsd = (month: number, day: number, hour = 12, minute = 0, second = 0): LogTime => ({
  kind: 'bsd',
  month,
  day,
  hour,
  minute,
  second,
  ms: 0,
});
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function run(anchor: YearAnchor, times: LogTime[]): { times: (string | null)[]; warnings: string[] } {
  const clock = new YearClock(anchor);
  return { times: times.map((t) => iso(clock.resolve(t).epochMs)), warnings: clock.warnings };
}

const mtime = (s: string): YearAnchor => ({ kind: 'mtime', epochMs: Date.parse(s) });

describe('YearClock', () => {
  it('takes the mtime year for dates before the anchor', () => {
    expect(run(mtime('2024-03-12T00:00:00Z'), [bsd(3, 11)]).times).toEqual(['2024-03-11T12:00:00.000Z']);
  });

  it('puts a month ahead of the mtime anchor in the previous year', () => {
    expect(run(mtime('2024-02-01T00:00:00Z'), [bsd(11, 20)]).times).toEqual(['2023-11-20T12:00:00.000Z']);
  });

  it('allows a day of clock skew ahead of the anchor', () => {
    expect(run(mtime('2024-03-11T10:00:00Z'), [bsd(3, 11, 23)]).times).toEqual(['2024-03-11T23:00:00.000Z']);
  });

  it('steps the year forward at Dec -> Jan within a file', () => {
    const r = run(mtime('2025-01-01T01:00:00Z'), [bsd(12, 31, 23, 59, 58), bsd(1, 1, 0, 0, 1), bsd(1, 1, 0, 10)]);
    expect(r.times).toEqual(['2024-12-31T23:59:58.000Z', '2025-01-01T00:00:01.000Z', '2025-01-01T00:10:00.000Z']);
    expect(r.warnings).toEqual([]);
  });

  it('does not step the year for an hour back (DST fall-back, out-of-order writes)', () => {
    const r = run(mtime('2024-10-28T00:00:00Z'), [bsd(10, 27, 2, 30), bsd(10, 27, 2, 5), bsd(10, 27, 2, 40)]);
    expect(r.times).toEqual(['2024-10-27T02:30:00.000Z', '2024-10-27T02:05:00.000Z', '2024-10-27T02:40:00.000Z']);
  });

  it('uses --year as the year of the first line, then steps at Dec -> Jan', () => {
    const r = run({ kind: 'explicit', year: 2019 }, [bsd(12, 31), bsd(1, 1)]);
    expect(r.times).toEqual(['2019-12-31T12:00:00.000Z', '2020-01-01T12:00:00.000Z']);
  });

  it('anchors stdin on now', () => {
    expect(run({ kind: 'now', epochMs: Date.parse('2026-11-27T12:00:00Z') }, [bsd(11, 27, 11)]).times).toEqual(['2026-11-27T11:00:00.000Z']);
  });

  it('places Feb 29 in a leap year instead of rolling into March', () => {
    const r = run(mtime('2025-03-10T00:00:00Z'), [bsd(2, 29)]);
    expect(r.times).toEqual(['2024-02-29T12:00:00.000Z']);
    expect(r.warnings).toEqual(['year inference: Feb 29 does not exist in 2025; placed in 2024']);
  });

  it('keeps Feb 29 of the anchor year when it is a leap year', () => {
    expect(run(mtime('2024-03-01T00:00:00Z'), [bsd(2, 29)]).times).toEqual(['2024-02-29T12:00:00.000Z']);
  });

  it('follows lines that carry their own year (mixed RFC 3339 and BSD)', () => {
    const r = run(mtime('2030-01-01T00:00:00Z'), [
      { kind: 'absolute', epochMs: Date.parse('2021-06-01T10:00:00Z') },
      bsd(6, 1, 10, 5),
    ]);
    expect(r.times).toEqual(['2021-06-01T10:00:00.000Z', '2021-06-01T10:05:00.000Z']);
  });

  it('reports whether the year was logged, explicit, mtime or now', () => {
    const clock = new YearClock(mtime('2024-03-12T00:00:00Z'));
    expect(clock.resolve(bsd(3, 11)).yearSource).toBe('mtime');
    expect(clock.resolve({ kind: 'absolute', epochMs: 0 }).yearSource).toBe('logged');
    expect(clock.resolve({ kind: 'none' })).toEqual({ epochMs: null, yearSource: 'none' });
  });

  it('warns once when lines run past the mtime (a file spanning over a year)', () => {
    const r = run(mtime('2024-03-12T00:00:00Z'), [bsd(3, 11), bsd(7, 1), bsd(11, 1), bsd(12, 1)]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/may span more than a year/);
  });

  it('keeps an impossible day (Apr 31) instead of throwing', () => {
    expect(run({ kind: 'explicit', year: 2024 }, [bsd(4, 31)]).times).toEqual(['2024-04-30T12:00:00.000Z']);
  });
});
