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
import { lastPrefixMemo, parseEnvelope } from '../syslog/envelope.js';

const EXIM_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(?: ([+-])(\d{2})(\d{2}))? /;
/** `host exim[pid]: ` after a syslog timestamp, or at the start of a host-first line. */
const EXIM_TAG = /^(\S+) (exim4?|exim-\w+)\[(\d+)\]: /;
/** Indented stderr entry of a container: `   14   H=... rejected ...` (pid, then the body). */
const STDERR_BODY = /^\s+(\d+)\s{2,}(\S.*)$/;
/** The stderr block header `   14 LOG: MAIN REJECT` (its body follows on the next line). */
const STDERR_HEADER = /^\s*\d+ LOG: (?:MAIN|REJECT|PANIC)\b/;
/** Exim's numbering of the pieces of a split syslog message: `[i\\n] ` (ends at a newline) or `[i/n] `. */
const SYSLOG_PIECE = /^\[(\d+)[\\/](\d+)\] /;
/** The message ID forms: 6-6-2 up to 4.96 and 6-11-4 from 4.97 (base 62). */
export const EXIM_ID = /^[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{11}-[0-9A-Za-z]{4})$/;

export interface EximEntry {
  envelope: Envelope;
  /** The Exim message ID after the time (and pid), when there is one. */
  id: string | null;
  /** The entry's text after time, pid and ID. */
  body: string;
}

/**
 * The time at the start of an entry, remembered by its text (consecutive entries mostly share their
 * second), unless an offset follows a text that had none (`... 06:00:00 +0100 `): the pattern runs.
 */
const parseEximTime = lastPrefixMemo(parseEximTimeText, (s, at) => {
  const next = s.charCodeAt(at);
  return next !== 43 /* + */ && next !== 45 /* - */;
});

function parseEximTimeText(s: string): { time: LogTime; length: number } | null {
  const m = EXIM_TIME.exec(s);
  if (m === null) return null;
  const [, y, mo, d, h, mi, se, fr, sign, oh, om] = m;
  const ms = fr === undefined ? 0 : Number(fr);
  let epochMs: number;
  if (sign === undefined) {
    // Exim logs local time unless log_timezone is set: read as this process's zone (TZ).
    epochMs = new Date(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms).getTime();
  } else {
    const offset = (Number(oh) * 60 + Number(om)) * 60_000 * (sign === '-' ? -1 : 1);
    epochMs = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms) - offset;
  }
  if (Number.isNaN(epochMs)) return null;
  return { time: { kind: 'absolute', epochMs }, length: m[0].length };
}

/** Reads `[pid] ` and an Exim ID at the start of the body. */
function splitBody(rest: string): { pid: number | null; id: string | null; body: string } {
  let pid: number | null = null;
  let s = rest;
  const p = /^\[(\d+)\] /.exec(s);
  if (p !== null) {
    pid = Number(p[1]);
    s = s.slice(p[0].length);
  }
  const space = s.indexOf(' ');
  const first = space < 0 ? s : s.slice(0, space);
  if (EXIM_ID.test(first)) return { pid, id: first, body: space < 0 ? '' : s.slice(space + 1) };
  return { pid, id: null, body: s };
}

function entry(time: LogTime, host: string | null, program: string | null, pid: number | null, rest: string): EximEntry {
  let t = time;
  let s = rest;
  const inner = parseEximTime(s);
  if (inner !== null) {
    t = inner.time;
    s = s.slice(inner.length);
  }
  const b = splitBody(s);
  return {
    envelope: { time: t, host, program, pid: b.pid ?? pid, container: null, message: b.body },
    id: b.id,
    body: b.body,
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
  if (piece === null) return { type: 'entry', entry: entry(time, host, program, pid, rest) };
  if (piece[1] !== '1') return { type: 'syslog-piece' };
  return { type: 'entry', entry: entry(time, host, program, pid, rest.slice(piece[0].length)) };
}

/** Splits one mainlog line into its envelope, Exim ID and body. */
export function parseEximLine(line: string): EximLine {
  const t = parseEximTime(line);
  if (t !== null) {
    const rest = line.slice(t.length);
    // `2020-05-18 21:02:36 mail.example.net exim[18342]: body`
    const tag = EXIM_TAG.exec(rest);
    if (tag !== null) return syslogEntry(t.time, tag[1]!, tag[2]!, Number(tag[3]), rest.slice(tag[0].length));
    return { type: 'entry', entry: entry(t.time, null, null, null, rest) };
  }
  const hostFirst = EXIM_TAG.exec(line);
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
  if (stderr !== null) return { type: 'entry', entry: entry({ kind: 'none' }, null, null, Number(stderr[1]), stderr[2]!) };
  return { type: 'none' };
}
