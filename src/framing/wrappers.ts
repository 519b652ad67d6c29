/**
 * Log lines that arrive wrapped in JSON (FORMATS.md 0.3, 0.4): `journalctl -o json` exports and
 * Docker's json-file driver. Each is unwrapped into the plain syslog-style line the MTA parsers
 * read, so no parser knows about containers or journals.
 *
 * - journald: one object per line; the envelope is rebuilt from `__REALTIME_TIMESTAMP` (µs since the
 *   epoch, a decimal string: exact, so no year inference), `_HOSTNAME`, `SYSLOG_IDENTIFIER` and
 *   `_PID`/`SYSLOG_PID`; `MESSAGE` may be an array of byte values (not valid UTF-8) or null (over
 *   4096 bytes without `journalctl -a`: kept, counted as `messageMissing`). Any field may be an
 *   array when it had several values: the first one is used.
 * - Docker json-file: `{"log": "...\n", "stream": "stdout", "time": "..."}`; a line over 16 KiB is
 *   split into records whose `log` lacks the final newline, joined here until one ends with it. A
 *   yearless BSD timestamp inside is replaced by Docker's exact `time`.
 */
import type { Line } from './lines.js';

export type Wrapper = 'journald' | 'docker';

/** A BSD syslog timestamp at the start of a line (no year, no zone): see `docker()`. */
const BSD_PREFIX = /^\p{L}{3,5}\.? {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})? /u;

/** Docker's `time`: RFC 3339 in UTC with 0-9 fraction digits. */
const DOCKER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** Most bytes of a Docker line joined from pieces (1 MiB); beyond it the line is cut and counted. */
const MAX_JOINED = 1024 * 1024;

export type Unwrapped =
  | { kind: 'line'; text: string; line: Line }
  | { kind: 'held' }
  | { kind: 'malformed'; reason: string; line: Line };

/** The wrapper of a sample of lines: the first line that is not blank decides. */
export function sniffWrapper(sample: readonly string[]): Wrapper | null {
  const first = sample.find((l) => l.trim() !== '');
  if (first === undefined || !first.startsWith('{')) return null;
  let o: unknown;
  try {
    o = JSON.parse(first);
  } catch {
    return null;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  if ('__REALTIME_TIMESTAMP' in r || ('MESSAGE' in r && ('SYSLOG_IDENTIFIER' in r || '_PID' in r || '__CURSOR' in r))) return 'journald';
  if (typeof r['log'] === 'string' && ('stream' in r || 'time' in r)) return 'docker';
  return null;
}

function first(v: unknown): unknown {
  return Array.isArray(v) && !v.every((x) => typeof x === 'number') ? v[0] : v;
}

function text(v: unknown): string | null {
  const x = first(v);
  if (typeof x === 'string') return x;
  if (typeof x === 'number') return String(x);
  // A byte array: the journal's way of exporting values that are not valid UTF-8.
  if (Array.isArray(x)) return Buffer.from(x.filter((b): b is number => typeof b === 'number' && b >= 0 && b <= 255)).toString('utf8');
  return null;
}

/** µs since the epoch as an RFC 3339 UTC timestamp with µs. */
function isoMicros(us: string): string | null {
  if (!/^\d{1,19}$/.test(us)) return null;
  const big = BigInt(us);
  const ms = Number(big / 1000n);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  const micros = String(Number(big % 1_000_000n)).padStart(6, '0');
  return d.toISOString().slice(0, 19) + '.' + micros + 'Z';
}

export class Unwrapper {
  /** Records whose MESSAGE was null (journald without -a). */
  messageMissing = 0;
  /** Docker lines cut at the join cap. */
  truncated = 0;
  private pieces: string[] = [];
  private piecesLength = 0;
  private firstPiece: Line | null = null;

  constructor(readonly kind: Wrapper) {}

  /** The first piece of a Docker line still being joined, or null: a checkpoint must not pass it. */
  get heldLine(): Line | null {
    return this.firstPiece;
  }

  unwrap(line: Line): Unwrapped {
    if (line.text.trim() === '') return { kind: 'line', text: '', line };
    let o: unknown;
    try {
      o = JSON.parse(line.text);
    } catch {
      return { kind: 'malformed', reason: `not a JSON object (${this.kind} input)`, line };
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
      return { kind: 'malformed', reason: `not a JSON object (${this.kind} input)`, line };
    }
    return this.kind === 'journald' ? this.journald(o as Record<string, unknown>, line) : this.docker(o as Record<string, unknown>, line);
  }

  private journald(r: Record<string, unknown>, line: Line): Unwrapped {
    const us = text(r['__REALTIME_TIMESTAMP']);
    const time = us === null ? null : isoMicros(us);
    if (time === null) return { kind: 'malformed', reason: 'journald record without a valid __REALTIME_TIMESTAMP', line };
    const host = text(r['_HOSTNAME']) ?? '-';
    const tag = text(r['SYSLOG_IDENTIFIER']) ?? text(r['_COMM']) ?? '-';
    const pid = text(r['_PID']) ?? text(r['SYSLOG_PID']);
    let message = text(r['MESSAGE']);
    if (message === null) {
      this.messageMissing++;
      message = '';
    }
    // Journal messages may carry a trailing newline (printed by the program); the envelope ends at it.
    message = message.replace(/\r?\n$/, '');
    const clean = (s: string) => s.replace(/\s/g, '_');
    return { kind: 'line', text: `${time} ${clean(host)} ${clean(tag)}${pid === null ? '' : `[${pid}]`}: ${message}`, line };
  }

  private docker(r: Record<string, unknown>, line: Line): Unwrapped {
    const log = r['log'];
    if (typeof log !== 'string') return { kind: 'malformed', reason: 'Docker record without a "log" string', line };
    if (this.firstPiece === null) this.firstPiece = line;
    if (this.piecesLength < MAX_JOINED) {
      this.pieces.push(log);
      this.piecesLength += log.length;
    }
    if (!log.endsWith('\n')) return { kind: 'held' };
    let joined = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
    if (joined.length > MAX_JOINED) {
      joined = joined.slice(0, MAX_JOINED);
      this.truncated++;
    }
    const start = this.firstPiece;
    this.pieces = [];
    this.piecesLength = 0;
    this.firstPiece = null;
    let text = joined.replace(/\r?\n$/, '');
    // A BSD timestamp inside (Postfix's maillog_file to stdout) has no year and the container's
    // zone; Docker's own time of the same line is exact UTC, so it replaces it.
    const time = r['time'];
    if (typeof time === 'string' && DOCKER_TIME.test(time)) {
      const m = BSD_PREFIX.exec(text);
      if (m !== null) text = time + ' ' + text.slice(m[0].length);
    }
    return { kind: 'line', text, line: { ...line, offset: start.offset, number: start.number } };
  }

  /** A Docker line still unfinished when the input ends: returned as it is. */
  end(): Unwrapped | null {
    if (this.firstPiece === null) return null;
    const start = this.firstPiece;
    const joined = this.pieces.join('');
    this.pieces = [];
    this.piecesLength = 0;
    this.firstPiece = null;
    return { kind: 'line', text: joined, line: start };
  }
}
