/**
 * Exim mainlog envelopes (FORMATS.md 2.1):
 *
 *   2022-10-03 13:07:21 1kTq4w-0003Hb-Zr <body>
 *   2024-02-11 22:48:05.917 +0100 [21877] 1tBv7K-0000000AxQ3-0Fm2 <body>     (log_timezone, pid, ms)
 *   Aug 21 05:33:10 mx2 exim[4410]: <body>                                   (syslog, no inner time)
 *   Aug 21 05:33:10 mx2 exim[4410]: 2024-08-21 05:33:10 <body>               (syslog, inner time)
 *   mx.example.org exim[2864017]: 2022-04-06 10:11:52 <body>                 (host-first syslog)
 *   2020-05-18 21:02:36 mail.example.net exim[18342]: <body>
 *      14 LOG: MAIN REJECT  /  14   H=... rejected RCPT ...                  (stderr of a container)
 *
 * Exim splits what it sends to syslog at embedded newlines (a rejectlog copy with its header dump)
 * and every 870 characters, numbering the pieces: `exim[4410]: [1\18] 2024-08-21 05:33:10 <body>`,
 * then `[2\18] Envelope-from: <...>` ... `[18/18] ...`. The first piece is the entry; the others
 * continue it.
 *
 * Pure: no state, never throws.
 */
import type { Envelope, LogTime } from '../../src/model/records.js';
import { isAlnum } from '../chars.js';
import { lastPrefixMemo, parseEnvelope } from '../syslog/envelope.js';

/** `host exim[pid]: ` after a syslog timestamp, or at the start of a host-first line. */
const EXIM_TAG = /^(\S+) (exim4?|exim-\w+)\[(\d+)\]: /;
/** Indented stderr entry of a container: `   14   H=... rejected ...` (pid, then the body). */
const STDERR_BODY = /^\s+(\d+)\s{2,}(\S.*)$/;
/** The stderr block header `   14 LOG: MAIN REJECT` (its body follows on the next line). */
const STDERR_HEADER = /^\s*\d+ LOG: (?:MAIN|REJECT|PANIC)\b/;
/** Exim's numbering of the pieces of a split syslog message: `[i\\n] ` (ends at a newline) or `[i/n] `. */
const SYSLOG_PIECE = /^\[(\d+)[\\/](\d+)\] /;

export interface EximEntry {
  envelope: Envelope;
  /** The Exim message ID after the time (and pid), when there is one. */
  id: string | null;
  /** The entry's text after time, pid and ID. */
  body: string;
}

/**
 * The time at the start of an entry, remembered by its text (consecutive entries mostly share their
 * second), unless an offset follows a text that had none (`... 06:00:00 +0100 `): the scan runs.
 */
const parseEximTime = lastPrefixMemo(parseEximTimeText, (s, at) => {
  const next = s.charCodeAt(at);
  return next !== 43 /* + */ && next !== 45 /* - */;
});

/** The value of the ASCII digits s[i..i+n), or -1 when one is not a digit (what `\d{n}` accepts). */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k) - 48;
    if (!(c >= 0 && c <= 9)) return -1; // NaN past the end
    v = v * 10 + c;
  }
  return v;
}

/**
 * Reads `YYYY-MM-DD HH:MM:SS[.mmm][ ±hhmm] ` at the start of `s`, exactly as the pattern
 * `^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(?: ([+-])(\d{2})(\d{2}))? ` would
 * (scanned by hand: it runs for every new second of the log, and on every body that might hold an
 * inner time).
 */
function parseEximTimeText(s: string): { time: LogTime; length: number } | null {
  const y = digits(s, 0, 4);
  if (y < 0 || s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 /* : */ || s.charCodeAt(16) !== 58) return null;
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  if (mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return null;
  let at = 19;
  let ms = 0;
  if (s.charCodeAt(at) === 46 /* . */) {
    // `.mmm` needs its three digits; without them the pattern has no other way to reach its space.
    ms = digits(s, 20, 3);
    if (ms < 0) return null;
    at = 23;
  }
  if (s.charCodeAt(at) !== 32) return null;
  let epochMs: number;
  const sign = s.charCodeAt(at + 1);
  const oh = digits(s, at + 2, 2);
  const om = digits(s, at + 4, 2);
  if ((sign === 43 /* + */ || sign === 45) && oh >= 0 && om >= 0 && s.charCodeAt(at + 6) === 32) {
    const offset = (oh * 60 + om) * 60_000 * (sign === 45 ? -1 : 1);
    epochMs = Date.UTC(y, mo - 1, d, h, mi, se, ms) - offset;
    at += 7;
  } else {
    // Exim logs local time unless log_timezone is set: read as this process's zone (TZ).
    epochMs = localMs(y, mo, d, h, mi, se, ms);
    at += 1;
  }
  if (Number.isNaN(epochMs)) return null;
  return { time: { kind: 'absolute', epochMs }, length: at };
}

/** The local hour last converted (`((y * 100 + mo) * 100 + d) * 100 + h`, -1 for none) and its first millisecond. */
let hourKey = -1;
let hourStartMs = 0;

/**
 * `new Date(y, mo - 1, d, h, mi, se, ms).getTime()`, with one `Date` conversion per hour instead of
 * one per second: within an hour whose zone offset does not change, the local time maps to its hour's
 * start plus the minutes, seconds and milliseconds. An hour with a change (its last millisecond is
 * not 3,599,999 ms after its first: a DST switch) and out-of-range minutes or seconds (which roll over
 * into another hour) take the full conversion. Like the time memo, it assumes TZ does not change
 * while the process runs.
 */
function localMs(y: number, mo: number, d: number, h: number, mi: number, se: number, ms: number): number {
  if (mi > 59 || se > 59) return new Date(y, mo - 1, d, h, mi, se, ms).getTime();
  const key = ((y * 100 + mo) * 100 + d) * 100 + h;
  if (key !== hourKey) {
    const start = new Date(y, mo - 1, d, h, 0, 0, 0).getTime();
    const end = new Date(y, mo - 1, d, h, 59, 59, 999).getTime();
    if (end - start !== 3_599_999) return new Date(y, mo - 1, d, h, mi, se, ms).getTime();
    hourKey = key;
    hourStartMs = start;
  }
  return hourStartMs + mi * 60_000 + se * 1000 + ms;
}

/**
 * True when s[start..end) is a whole Exim message ID, without a slice: base 62 in the forms 6-6-2
 * (up to 4.96) and 6-11-4 (from 4.97).
 */
export function isEximIdAt(s: string, start: number, end: number): boolean {
  const length = end - start;
  // 6-6-2 (16 characters) or 6-11-4 (23): the second dash is at 13 or 18.
  const dash = length === 16 ? 13 : length === 23 ? 18 : -1;
  if (dash < 0 || s.charCodeAt(start + 6) !== 45 || s.charCodeAt(start + dash) !== 45) return false;
  for (let k = start; k < end; k++) {
    if (k !== start + 6 && k !== start + dash && !isAlnum(s.charCodeAt(k))) return false;
  }
  return true;
}

/** `[pid] ` at lastIndex (sticky: read in place, without slicing the line). */
const PID_AT = /\[(\d+)\] /y;

/**
 * An entry's envelope, ID and body from what follows the time, `s` from `from` on: `[pid] `, then
 * an Exim ID when the first word is one. Works on offsets: the body is the only slice most lines need.
 */
function entry(time: LogTime, host: string | null, program: string | null, pid: number | null, line: string, from: number): EximEntry {
  let t = time;
  let s = line;
  let at = from;
  // An inner time (a syslog-wrapped line that repeats Exim's own) starts with `dddd-`; an ID cannot
  // (its dash is the seventh character), so most lines skip the look-up.
  const first = s.charCodeAt(at);
  if (first >= 48 && first <= 57 && s.charCodeAt(at + 4) === 45 /* - */) {
    s = s.slice(at);
    at = 0;
    const inner = parseEximTime(s);
    if (inner !== null) {
      t = inner.time;
      at = inner.length;
    }
  }
  let entryPid = pid;
  if (s.charCodeAt(at) === 91 /* [ */) {
    PID_AT.lastIndex = at;
    const p = PID_AT.exec(s);
    if (p !== null) {
      entryPid = Number(p[1]);
      at += p[0].length;
    }
  }
  const space = s.indexOf(' ', at);
  const idEnd = space < 0 ? s.length : space;
  let id: string | null = null;
  let body: string;
  if (isEximIdAt(s, at, idEnd)) {
    id = s.slice(at, idEnd);
    body = space < 0 ? '' : s.slice(space + 1);
  } else {
    body = s.slice(at);
  }
  return {
    envelope: { time: t, host, program, pid: entryPid, container: null, message: body },
    id,
    body,
  };
}

export type EximLine =
  | { type: 'entry'; entry: EximEntry }
  | { type: 'stderr-header' }
  /** A later piece of a syslog message Exim split (`[2\\18] Envelope-from: ...`). */
  | { type: 'syslog-piece' }
  | { type: 'other-program'; program: string; envelope: Envelope }
  | { type: 'none' };

/** An entry Exim sent through syslog: the first piece of a split message is the entry, the others continue it. */
function syslogEntry(time: LogTime, host: string | null, program: string, pid: number | null, rest: string): EximLine {
  const piece = SYSLOG_PIECE.exec(rest);
  if (piece === null) return { type: 'entry', entry: entry(time, host, program, pid, rest, 0) };
  if (piece[1] !== '1') return { type: 'syslog-piece' };
  return { type: 'entry', entry: entry(time, host, program, pid, rest, piece[0].length) };
}

/**
 * EXIM_TAG at `from` in `s`. Its `\S+ ` can only end at the first space, so a line without `exim`
 * right after its first space skips the pattern (most mainlog lines).
 */
function eximTag(s: string, from: number): RegExpExecArray | null {
  const space = s.indexOf(' ', from);
  return space > from && s.startsWith('exim', space + 1) ? EXIM_TAG.exec(s.slice(from)) : null;
}

/** Splits one mainlog line into its envelope, Exim ID and body. */
export function parseEximLine(line: string): EximLine {
  const t = parseEximTime(line);
  if (t !== null) {
    // `2020-05-18 21:02:36 mail.example.net exim[18342]: body`
    const tag = eximTag(line, t.length);
    if (tag !== null) return syslogEntry(t.time, tag[1]!, tag[2]!, Number(tag[3]), line.slice(t.length + tag[0].length));
    return { type: 'entry', entry: entry(t.time, null, null, null, line, t.length) };
  }
  const hostFirst = eximTag(line, 0);
  if (hostFirst !== null) {
    return syslogEntry({ kind: 'none' }, hostFirst[1]!, hostFirst[2]!, Number(hostFirst[3]), line.slice(hostFirst[0].length));
  }
  const syslog = parseEnvelope(line);
  if (syslog !== null && syslog.program !== null) {
    if (/^exim(?:4|-\w+)?$/.test(syslog.program)) {
      return syslogEntry(syslog.time, syslog.host, syslog.program, syslog.pid, syslog.message);
    }
    return { type: 'other-program', program: syslog.program, envelope: syslog };
  }
  if (STDERR_HEADER.test(line)) return { type: 'stderr-header' };
  const stderr = STDERR_BODY.exec(line);
  if (stderr !== null) return { type: 'entry', entry: entry({ kind: 'none' }, null, null, Number(stderr[1]), stderr[2]!, 0) };
  return { type: 'none' };
}
