/**
 * Progress of a long batch run on a terminal (#13): one line, rewritten in place at most four times a
 * second, with the input, bytes and lines read, lines per second and, for an uncompressed file, the
 * share done and an estimate of the time left. Nothing unless standard error is a terminal, nothing
 * in CI, nothing with --quiet; the line is cleared before anything else is written there.
 */
import type { Writable } from 'node:stream';

const MiB = 1024 * 1024;

export interface ProgressOptions {
  /** Wall clock in ms (tests pin it). */
  now?: () => number;
  /** Terminal width: the line is cut to fit. */
  columns?: number;
  /** Minimum ms between two updates. */
  everyMs?: number;
}

export class ProgressLine {
  private readonly now: () => number;
  private readonly everyMs: number;
  private readonly columns: number;
  private last = -Infinity;
  private shown = false;
  private path = '';
  private startedAt = 0;

  constructor(
    private readonly stderr: Writable,
    /** Size of each input file in bytes, when known and uncompressed (for the share and the ETA). */
    private readonly sizes: ReadonlyMap<string, number>,
    options: ProgressOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.everyMs = options.everyMs ?? 250;
    this.columns = Math.max(40, options.columns ?? 100);
  }

  update(p: { path: string; bytes: number; lines: number }): void {
    const t = this.now();
    if (p.path !== this.path) {
      this.path = p.path;
      this.startedAt = t;
    } else if (t - this.last < this.everyMs) return;
    this.last = t;
    const secs = Math.max(0.001, (t - this.startedAt) / 1000);
    const rate = p.lines / secs;
    const size = this.sizes.get(p.path);
    let tail = '';
    if (size !== undefined && size > 0) {
      const share = Math.min(1, p.bytes / size);
      const left = share > 0 ? (secs / share) * (1 - share) : Infinity;
      tail = ` ${(share * 100).toFixed(0)}%${Number.isFinite(left) && p.bytes > 0 ? `, ${left < 60 ? `${left.toFixed(0)} s` : `${(left / 60).toFixed(1)} min`} left` : ''}`;
    }
    const text = `${p.path}: ${(p.bytes / MiB).toFixed(1)} MiB, ${p.lines.toLocaleString('en-US')} lines, ${Math.round(rate).toLocaleString('en-US')} lines/s${tail}`;
    const cut = text.length > this.columns - 1 ? `…${text.slice(text.length - this.columns + 2)}` : text;
    this.stderr.write(`\r\x1b[K${cut}`);
    this.shown = true;
  }

  /** Clears the line (before the report or a message goes to the terminal). */
  clear(): void {
    if (!this.shown) return;
    this.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

/** Whether a run may show progress: standard error is a terminal, not CI, not --quiet. */
export function wantsProgress(stderrIsTTY: boolean, quiet: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return stderrIsTTY && !quiet && (env.CI === undefined || env.CI === '' || env.CI === 'false') && env.TERM !== 'dumb';
}
