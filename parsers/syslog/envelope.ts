/**
 * The syslog-style envelope shared by every MTA that logs through syslog (FORMATS.md 0.1):
 *
 *   [container |] <timestamp> <host> <tag>[<pid>]: <message>
 *
 * Timestamps: BSD syslog (`Oct  3 14:22:07`, `Sep 09 ...`, `Nov 8 ...`, localised month names,
 * optional fraction), RFC 3339 (`2023-11-14T09:05:12.318724+00:00`, `2022-03-09T11:42:50+02:00`,
 * journalctl's `+0100`). Postfix's own maillog_file writes the BSD shape with a zero-padded day and a
 * short host. Pure: no state, never throws.
 */
import type { Envelope, LogTime } from '../../src/model/records.js';

/**
 * Month abbreviations: English first, then the localised forms journalctl and syslog daemons print
 * under de, fr, es, it, nl and pt locales (lower-cased, trailing dot removed). No two languages use
 * one token for different months, so one table serves all.
 */
const MONTHS: ReadonlyMap<string, number> = new Map<string, number>([
  ['jan', 1], ['feb', 2], ['mar', 3], ['apr', 4], ['may', 5], ['jun', 6],
  ['jul', 7], ['aug', 8], ['sep', 9], ['oct', 10], ['nov', 11], ['dec', 12],
  // de
  ['mär', 3], ['mrz', 3], ['mai', 5], ['okt', 10], ['dez', 12],
  // fr
  ['janv', 1], ['févr', 2], ['fevr', 2], ['mars', 3], ['avr', 4], ['juin', 6], ['juil', 7],
  ['août', 8], ['aout', 8], ['sept', 9], ['déc', 12],
  // es / it / pt / nl
  ['ene', 1], ['abr', 4], ['ago', 8], ['dic', 12], ['gen', 1], ['mag', 5], ['giu', 6], ['lug', 7],
  ['set', 9], ['ott', 10], ['fev', 2], ['out', 10], ['mrt', 3], ['mei', 5],
]);

/** Month word, 1-2 digit day (space-, zero- or un-padded), time with optional fraction. */
const BSD_TIME = /^(\p{L}{3,5})\.? {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? /u;

/** RFC 3339 / ISO 8601 with `T`, optional fraction, `Z` or an offset with or without a colon. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})? /;

/** `name | ` as printed by docker compose v1 and v2 in front of each container line. */
export const CONTAINER_PREFIX = /^([A-Za-z0-9][A-Za-z0-9_.-]*) +\| /;

/** Level words a syslog parse must not take for a host name (an app's `2024-... ERROR mailer: ...`). */
export const LEVEL_WORDS: ReadonlySet<string> = new Set(['ERROR', 'WARN', 'WARNING', 'INFO', 'DEBUG', 'TRACE', 'FATAL', 'CRITICAL', 'SEVERE', 'NOTICE', 'error', 'warn', 'info', 'debug']);

/**
 * `tag[pid]: ` or `tag: ` after the host, as the pattern `^([^\s[\]:]+)(?:\[(\d{1,10})\])?: ` would
 * read it (parseTag scans it by hand: it runs on every line). The tag has no spaces, brackets or colons.
 */

function fractionMs(fraction: string | undefined): number {
  if (fraction === undefined) return 0;
  return Math.floor(Number((fraction + '00').slice(0, 3)));
}

/**
 * Remembers the last result of a parser that reads a prefix of its input (a timestamp): consecutive
 * lines of a log mostly share their second, so a line that starts with the text the last call read
 * gets the same (never mutated) result without a regex. Sound when the text read ends where the
 * pattern requires it to (a separator), so any line starting with it reads the same; `reuse` can
 * refuse a line where the pattern could read further (an optional part that follows).
 */
export function lastPrefixMemo<T extends { length: number }>(parse: (s: string) => T | null, reuse: (s: string, at: number) => boolean = () => true): (s: string) => T | null {
  let lastText = '';
  let lastResult: T | null = null;
  return (s) => {
    if (lastResult !== null && s.startsWith(lastText) && reuse(s, lastText.length)) return lastResult;
    const r = parse(s);
    if (r !== null) {
      lastText = s.slice(0, r.length);
      lastResult = r;
    }
    return r;
  };
}

/** Parses the timestamp at the start of `s`; returns it and the length consumed (0 when none). */
export const parseTimestamp: (s: string) => { time: LogTime; length: number } | null = lastPrefixMemo(parseTimestampText);

type BsdTime = Extract<LogTime, { kind: 'bsd' }>;

/**
 * The last BSD timestamp read, with its text up to the second (`Mar 11 06:00:`): a log's clock
 * moves by seconds, so most lines the whole-prefix memo misses share this much and need no regex.
 */
let lastBsdMinute: { text: string; time: BsdTime } | null = null;

function parseTimestampText(s: string): { time: LogTime; length: number } | null {
  const first = s.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    const m = ISO_TIME.exec(s);
    if (m === null) return null;
    const [, y, mo, d, h, mi, se, fr, zone] = m;
    const ms = fractionMs(fr);
    let epochMs: number;
    if (zone === undefined) {
      // No offset: the writer's local time; we can only assume ours (documented in the README).
      epochMs = new Date(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms).getTime();
    } else {
      epochMs = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms);
      if (zone !== 'Z') {
        const sign = zone[0] === '-' ? -1 : 1;
        const digits = zone.slice(1).replace(':', '');
        const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
        epochMs -= sign * offsetMin * 60_000;
      }
    }
    if (Number.isNaN(epochMs)) return null;
    return { time: { kind: 'absolute', epochMs }, length: m[0].length };
  }
  const minute = lastBsdMinute;
  if (minute !== null && s.startsWith(minute.text)) {
    // Same month, day, hour and minute as the last BSD timestamp read, which BSD_TIME reads one way
    // only (each part ends at a character the next cannot take): when two digits and a space
    // follow, the pattern reads exactly those as the second, with no fraction.
    const at = minute.text.length;
    const s1 = s.charCodeAt(at) - 48;
    const s2 = s.charCodeAt(at + 1) - 48;
    if (s1 >= 0 && s1 <= 9 && s2 >= 0 && s2 <= 9 && s.charCodeAt(at + 2) === 32) {
      const t = minute.time;
      return {
        time: { kind: 'bsd', month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: s1 * 10 + s2, ms: 0 },
        length: at + 3,
      };
    }
  }
  const m = BSD_TIME.exec(s);
  if (m === null) return null;
  const [, monthWord, d, h, mi, se, fr] = m;
  const month = MONTHS.get(monthWord!.toLowerCase());
  if (month === undefined) return null;
  const day = Number(d);
  if (day < 1 || day > 31) return null;
  const time: BsdTime = { kind: 'bsd', month, day, hour: +h!, minute: +mi!, second: +se!, ms: fractionMs(fr) };
  const length = m[0].length;
  // The text before the second: the match less `ss`, the fraction with its dot, and the space.
  lastBsdMinute = { text: s.slice(0, length - 3 - (fr === undefined ? 0 : fr.length + 1)), time };
  return { time, length };
}

/**
 * Splits a syslog line into its envelope. Returns null when the line has no recognisable
 * timestamp + host + tag (callers then try the header-less form).
 */
export function parseEnvelope(line: string): Envelope | null {
  let rest = line;
  let container: string | null = null;
  if (mayHaveContainerPrefix(rest)) {
    const c = CONTAINER_PREFIX.exec(rest);
    if (c !== null) {
      container = c[1]!;
      rest = rest.slice(c[0].length);
    }
  }
  const ts = parseTimestamp(rest);
  if (ts === null) return null;
  const hostAt = ts.length;
  const space = rest.indexOf(' ', hostAt);
  if (space <= hostAt) return null;
  const host = rest.slice(hostAt, space);
  const tag = parseTag(rest, space + 1);
  if (tag === null) return null;
  return {
    time: ts.time,
    host,
    program: rest.slice(space + 1, tag.programEnd),
    pid: tag.pid,
    container,
    message: rest.slice(tag.messageAt),
  };
}

/**
 * Whether `s` can start with a compose prefix (`name | `): the first space run is followed by `|`.
 * Most lines start with a timestamp, where it is not; the pattern then need not run.
 */
function mayHaveContainerPrefix(s: string): boolean {
  let i = s.indexOf(' ');
  if (i <= 0) return false;
  while (s.charCodeAt(i) === 32) i++;
  return s.charCodeAt(i) === 124 /* | */;
}

/**
 * TAG (`tag[pid]: ` or `tag: `) read at `from` without a regex: the tag runs to the first white
 * space, bracket or colon; then an optional `[digits]` (1 to 10) and `: `.
 */
function parseTag(s: string, from: number): { programEnd: number; pid: number | null; messageAt: number } | null {
  let i = from;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 91 /* [ */ || c === 93 /* ] */ || c === 58 /* : */ || c === 32 || (c >= 9 && c <= 13)) break;
    // Non-ASCII: white space by the pattern's own definition ends the tag.
    if (c >= 128 && /\s/.test(s[i]!)) break;
  }
  if (i === from) return null;
  const programEnd = i;
  let pid: number | null = null;
  if (s.charCodeAt(i) === 91) {
    // The value is summed as the digits are read (up to 10 digits: exact in a double), no copy.
    let j = i + 1;
    let value = 0;
    while (j < s.length && j - i - 1 < 11 && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) {
      value = value * 10 + (s.charCodeAt(j) - 48);
      j++;
    }
    const digits = j - i - 1;
    if (digits < 1 || digits > 10 || s.charCodeAt(j) !== 93) return null;
    pid = value;
    i = j + 1;
  }
  if (s.charCodeAt(i) !== 58 || s.charCodeAt(i + 1) !== 32) return null;
  return { programEnd, pid, messageAt: i + 2 };
}

/** The envelope of a line that carries no header at all (an excerpt pasted from a ticket). */
export function bareEnvelope(message: string): Envelope {
  return { time: { kind: 'none' }, host: null, program: null, pid: null, container: null, message };
}
