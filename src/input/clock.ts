/**
 * Puts a year on BSD syslog timestamps (FORMATS.md 0.2). One clock per input file.
 *
 * - The first yearless line takes the anchor's year: `--year` as given (the year of the first line),
 *   else the file's mtime (its last line was written just before it) or, for stdin, now; a date more
 *   than a day ahead of an mtime/now anchor belongs to the previous year.
 * - Every later line takes the year that puts it nearest to the line before it, so Dec -> Jan steps
 *   the year forward while an hour back (DST fall-back, out-of-order writes) does not.
 * - Lines with their own year (RFC 3339) reset the reference, so mixed files stay consistent.
 * - Dates are built after the year is chosen; a Feb 29 falls back to the nearest earlier leap year
 *   instead of rolling into March.
 *
 * BSD timestamps are local time of the log host; we read them in this process's time zone (set TZ to
 * analyse logs of a host in another zone).
 */
import type { LogTime } from '../model/records.js';
import type { YearSource } from '../model/event.js';

export type YearAnchor =
  | { kind: 'explicit'; year: number }
  | { kind: 'mtime'; epochMs: number }
  | { kind: 'now'; epochMs: number };

/** How far ahead of an mtime anchor a line may be before we call it last year: clock skew between hosts. */
const AHEAD_TOLERANCE_MS = 24 * 3600 * 1000;

export interface ResolvedTime {
  epochMs: number | null;
  yearSource: YearSource;
}

type Bsd = Extract<LogTime, { kind: 'bsd' }>;

function build(year: number, t: Bsd): number | null {
  const d = new Date(year, t.month - 1, t.day, t.hour, t.minute, t.second, t.ms);
  if (d.getMonth() !== t.month - 1 || d.getDate() !== t.day) return null;
  return d.getTime();
}

export class YearClock {
  private previous: number | null = null;
  /** The last BSD hour resolved (`month/day/hour`) and its start: lines in the same hour reuse it. */
  private hourKey = -1;
  private hourStart = 0;
  private readonly warned = new Set<string>();
  /** Warnings for the run summary (each said once per file). */
  readonly warnings: string[] = [];

  constructor(private readonly anchor: YearAnchor) {}

  private warn(key: string, text: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push(text);
  }

  resolve(time: LogTime): ResolvedTime {
    if (time.kind === 'none') return { epochMs: null, yearSource: 'none' };
    if (time.kind === 'absolute') {
      // A time no Date can hold (a JSON log's `time: 1e20`) is no time: never a crash later.
      if (!Number.isFinite(time.epochMs) || Math.abs(time.epochMs) > 8.64e15) return { epochMs: null, yearSource: 'none' };
      this.previous = time.epochMs;
      this.hourKey = -1;
      return { epochMs: time.epochMs, yearSource: 'logged' };
    }
    const key = (time.month * 32 + time.day) * 24 + time.hour;
    let epochMs: number;
    if (key === this.hourKey && this.previous !== null) {
      // Same hour as the line before: same year, and building a Date per line is the clock's main cost.
      epochMs = this.hourStart + time.minute * 60_000 + time.second * 1000 + time.ms;
    } else {
      epochMs = this.previous === null ? this.first(time) : this.nearest(time, this.previous);
      this.hourKey = key;
      this.hourStart = epochMs - (time.minute * 60_000 + time.second * 1000 + time.ms);
    }
    if (this.anchor.kind !== 'explicit' && epochMs > this.anchor.epochMs + AHEAD_TOLERANCE_MS) {
      this.warn(
        'ahead',
        `year inference: lines run past the ${this.anchor.kind === 'mtime' ? "file's modification time" : 'current time'}; ` +
          'the file may span more than a year or its mtime was changed (use --year)',
      );
    }
    this.previous = epochMs;
    return { epochMs, yearSource: this.anchor.kind };
  }

  private first(t: Bsd): number {
    if (this.anchor.kind === 'explicit') return this.fallback(this.anchor.year, t);
    const anchorYear = new Date(this.anchor.epochMs).getFullYear();
    const thisYear = build(anchorYear, t);
    if (thisYear === null) return this.fallback(anchorYear, t);
    if (thisYear <= this.anchor.epochMs + AHEAD_TOLERANCE_MS) return thisYear;
    return this.fallback(anchorYear - 1, t);
  }

  private nearest(t: Bsd, reference: number): number {
    const refYear = new Date(reference).getFullYear();
    let best: number | null = null;
    for (const year of [refYear - 1, refYear, refYear + 1]) {
      const candidate = build(year, t);
      if (candidate === null) continue;
      if (best === null || Math.abs(candidate - reference) < Math.abs(best - reference)) best = candidate;
    }
    return best ?? this.fallback(refYear, t);
  }

  /** The date in `year`, or (Feb 29) in the nearest earlier year where it exists. */
  private fallback(year: number, t: Bsd): number {
    for (let y = year; y > year - 8; y--) {
      const d = build(y, t);
      if (d !== null) {
        if (y !== year) this.warn('leap', `year inference: Feb 29 does not exist in ${year}; placed in ${y}`);
        return d;
      }
    }
    // Day 31 of a 30-day month: not a real date in any year. Keep the line, clamp to the month's end.
    return new Date(year, t.month, 0, t.hour, t.minute, t.second, t.ms).getTime();
  }
}
