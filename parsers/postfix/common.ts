/**
 * Pieces shared by the Postfix daemon decoders: queue IDs, `name[ip]:port` host references,
 * `key=<value>` lists, reply codes and SMTP stages.
 */
import type { HostRef, Reply, Stage } from '../../src/model/records.js';
import { isAlnum, isDigit } from '../chars.js';

/** Short queue IDs: upper-case hex of variable length (7-13 seen; 5-20 accepted): isShortQueueId. */
/**
 * Long queue IDs (`enable_long_queue_ids`): 10 characters of the vowel-free base-52 alphabet (the
 * time), `z`, then the inode in base 51 (the same alphabet without `z`). Source: Postfix
 * mail_queue.h; FORMATS.md 1.2 marks it not verified in real logs, so we accept 1-10 inode chars.
 */
const LONG_QID = /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,10}$/;

export function isQueueId(s: string): boolean {
  return isShortQueueId(s, s.length) || LONG_QID.test(s);
}

/** s[0, end) is a short queue ID: 5 to 20 of `[0-9A-F]`. */
function isShortQueueId(s: string, end: number): boolean {
  if (end < 5 || end > 20) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c < 48 || c > 57) && (c < 65 || c > 70)) return false;
  }
  return true;
}

/** A numeric field's value (`size=`, `nrcpt=`, `delay=`), null when absent or not a number. */
export function toNumber(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Splits `QID: rest` or `NOQUEUE: rest`. Returns null when the message does not start with one.
 * `queueId` is null for NOQUEUE.
 */
export function splitQueueId(message: string): { queueId: string | null; rest: string } | null {
  // Every head we accept (NOQUEUE, short and long IDs) is letters and digits, so the first `: `
  // can only follow the first character outside them: find that one instead of searching the whole
  // message (most messages without a queue ID, `connect from ...`, fail at their first space).
  let colon = 0;
  while (colon <= 24 && isAlnum(message.charCodeAt(colon))) colon++;
  if (colon < 5 || colon > 24 || message.charCodeAt(colon) !== 58 /* : */ || message.charCodeAt(colon + 1) !== 32) return null;
  if (isShortQueueId(message, colon)) return { queueId: message.slice(0, colon), rest: message.slice(colon + 2) };
  const head = message.slice(0, colon);
  if (head === 'NOQUEUE') return { queueId: null, rest: message.slice(colon + 2) };
  if (!LONG_QID.test(head)) return null;
  return { queueId: head, rest: message.slice(colon + 2) };
}

/**
 * Parses `name[ip]`, `name[ip]:port`, `[ip]:port` or a bare name. For LMTP the bracket holds a
 * socket path (`mail.example.org[private/dovecot-lmtp]`).
 */
export function parseHostRef(token: string): HostRef {
  const open = token.indexOf('[');
  if (open < 0) return { name: token === '' ? null : token, ip: null, port: null };
  const close = token.indexOf(']', open);
  if (close < 0) return { name: open === 0 ? null : token.slice(0, open), ip: token.slice(open + 1) || null, port: null };
  const name = open === 0 ? null : token.slice(0, open);
  const ip = token.slice(open + 1, close) || null;
  let port: number | null = null;
  if (token.charCodeAt(close + 1) === 58 /* : */) {
    const p = Number(token.slice(close + 2));
    if (Number.isInteger(p) && p >= 0 && p <= 65535 && close + 2 < token.length) port = p;
  }
  return { name, ip, port };
}

/** Strips one pair of angle brackets: `<a@b>` -> `a@b`, `<>` -> ``. */
export function unbracket(value: string): string {
  if (value.length >= 2 && value.charCodeAt(0) === 60 && value.charCodeAt(value.length - 1) === 62) {
    return value.slice(1, -1);
  }
  return value;
}

/**
 * Where the pairs of the last `scanPairs` call lie in its input: for pair n, key start and end at
 * offsets[4n], [4n+1], value start and end at [4n+2], [4n+3]. One shared scan, valid until the next
 * call: the hot decoders read the few values they need in place (`pairValue`) instead of building a
 * Map of fresh key and value strings for every line.
 */
export interface PairScan {
  count: number;
  /** Where the scan ended (the index after the last value, or where the next key failed). */
  end: number;
  /** The offset of stopKey's value when the scan stopped before it, else null. */
  stoppedAt: number | null;
  offsets: Int32Array;
}

// 16 pairs; grown by doubling when a line has more (none of Postfix's own lines do).
const scan: PairScan = { count: 0, end: 0, stoppedAt: null, offsets: new Int32Array(64) };

function pushPair(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
  let o = scan.offsets;
  const at = scan.count * 4;
  if (at + 4 > o.length) {
    const grown = new Int32Array(o.length * 2);
    grown.set(o);
    scan.offsets = o = grown;
  }
  o[at] = keyStart;
  o[at + 1] = keyEnd;
  o[at + 2] = valueStart;
  o[at + 3] = valueEnd;
  scan.count++;
}

/**
 * Reads `key=value` pairs separated by `, ` (qmgr, delivery agents, postscreen) or by a single space
 * (smtpd's reject tail). A value in angle brackets runs to the first `>` followed by a separator, so
 * addresses with spaces or commas in a quoted local part survive. `stopKey` ends the scan before
 * that key and returns the offset of its value (used for `status=` whose value is free text).
 * Returns the shared scan (see PairScan): read it before the next call.
 */
export function scanPairs(s: string, start = 0, stopKey?: string): PairScan {
  scan.count = 0;
  scan.stoppedAt = null;
  let i = start;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq <= i) break;
    if (!isKeyName(s, i, eq)) break;
    if (stopKey !== undefined && eq - i === stopKey.length && s.startsWith(stopKey, i)) {
      scan.end = i;
      scan.stoppedAt = eq + 1;
      return scan;
    }
    let j = eq + 1;
    let valueEnd: number;
    if (s.charCodeAt(j) === 60 /* < */) {
      let close = s.indexOf('>', j);
      while (close >= 0 && !isValueEnd(s, close + 1)) close = s.indexOf('>', close + 1);
      if (close < 0) break;
      valueEnd = close + 1;
    } else {
      // The value runs to the first separator: a space, or `, ` (whose space is then the first one).
      let k = s.indexOf(' ', j);
      if (k < 0) k = s.length;
      else if (k > j && s.charCodeAt(k - 1) === 44 /* , */) k--;
      valueEnd = k;
    }
    pushPair(i, eq, j, valueEnd);
    j = valueEnd;
    if (j >= s.length) {
      scan.end = j;
      return scan;
    }
    if (s.charCodeAt(j) === 44 /* , */ && s.charCodeAt(j + 1) === 32) i = j + 2;
    else if (s.charCodeAt(j) === 32) i = j + 1;
    else {
      scan.end = j;
      return scan;
    }
  }
  scan.end = i;
  return scan;
}

/** Where the last pair named `key` lies in the scan's offsets (a Map's last-set-wins), or -1. */
function lastPair(s: string, p: PairScan, key: string): number {
  const o = p.offsets;
  for (let at = (p.count - 1) * 4; at >= 0; at -= 4) {
    if (o[at + 1]! - o[at]! === key.length && s.startsWith(key, o[at]!)) return at;
  }
  return -1;
}

/** The value of the last pair named `key` in the scan of `s`, or undefined. */
export function pairValue(s: string, p: PairScan, key: string): string | undefined {
  const at = lastPair(s, p, key);
  return at < 0 ? undefined : s.slice(p.offsets[at + 2], p.offsets[at + 3]);
}

/** Whether the scan of `s` holds a pair named `key`. */
export function hasPair(s: string, p: PairScan, key: string): boolean {
  return lastPair(s, p, key) >= 0;
}

/** `scanPairs` as a Map of key to value (a repeated key keeps its last value). */
export function scanKeyValues(
  s: string,
  start = 0,
  stopKey?: string,
): { values: Map<string, string>; end: number; stoppedAt: number | null } {
  const p = scanPairs(s, start, stopKey);
  const values = new Map<string, string>();
  const o = p.offsets;
  for (let n = 0; n < p.count; n++) values.set(s.slice(o[n * 4], o[n * 4 + 1]), s.slice(o[n * 4 + 2], o[n * 4 + 3]));
  return { values, end: p.end, stoppedAt: p.stoppedAt };
}

function isValueEnd(s: string, i: number): boolean {
  if (i >= s.length) return true;
  const c = s.charCodeAt(i);
  return c === 44 /* , */ || c === 32 /* space */ || c === 58 /* : */;
}

/** `[a-z_]+` over s[from, to). */
function isKeyName(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if ((c < 97 || c > 122) && c !== 95) return false;
  }
  return to > from;
}

/*
 * Reply heads, read by hand (parseReply runs on most delivery and reject lines) exactly as these
 * patterns would:
 *   reply:    /^([2-5]\d\d)(?:[ -]#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$))?/  (`550 5.7.26`, `550-5.7.26`)
 *   enhanced: /^#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$)/  (cleanup milter rejects: `5.7.1 Spam message rejected`)
 * Neither can backtrack into another reading: each digit run must be whole (a 4th digit is neither
 * `.` nor a boundary), and `#` is not a class digit.
 */

/** Splits an SMTP reply into code, enhanced status and the full text; every part may be missing. */
export function parseReply(text: string): Reply {
  const c0 = text.charCodeAt(0);
  if (c0 >= 50 && c0 <= 53 && isDigit(text.charCodeAt(1)) && isDigit(text.charCodeAt(2))) {
    const code = (c0 - 48) * 100 + (text.charCodeAt(1) - 48) * 10 + (text.charCodeAt(2) - 48);
    let enhanced: string | null = null;
    const sep = text.charCodeAt(3);
    if (sep === 32 || sep === 45 /* - */) {
      const at = text.charCodeAt(4) === 35 /* # */ ? 5 : 4;
      const end = enhancedEnd(text, at);
      if (end >= 0) enhanced = text.slice(at, end);
    }
    return { code, enhanced, text };
  }
  const at = c0 === 35 /* # */ ? 1 : 0;
  const end = enhancedEnd(text, at);
  if (end >= 0) return { code: null, enhanced: text.slice(at, end), text };
  return { code: null, enhanced: null, text };
}

/** The end of `[245]\.\d{1,3}\.\d{1,3}` at `i` when a boundary (`[\s;,:]` or the end) follows, else -1. */
function enhancedEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if ((c !== 50 && c !== 52 && c !== 53) || s.charCodeAt(i + 1) !== 46 /* . */) return -1;
  let j = digitRunEnd(s, i + 2);
  if (j < 0 || s.charCodeAt(j) !== 46) return -1;
  j = digitRunEnd(s, j + 1);
  if (j < 0) return -1;
  if (j < s.length) {
    const b = s.charCodeAt(j);
    const boundary = b === 32 || b === 59 /* ; */ || b === 44 /* , */ || b === 58 /* : */ || (b >= 9 && b <= 13) || (b >= 128 && /\s/.test(s[j]!));
    if (!boundary) return -1;
  }
  return j;
}

/** The end of the run of 1 to 3 digits at `i`, or -1 (no digit, or a longer run). */
function digitRunEnd(s: string, i: number): number {
  let j = i;
  while (isDigit(s.charCodeAt(j))) j++;
  return j > i && j - i <= 3 ? j : -1;
}

/** smtpd/cleanup stage words (`RCPT from ...`, `END-OF-MESSAGE from ...`, `header ...`). */
const STAGE_WORDS: ReadonlyMap<string, Stage> = new Map<string, Stage>([
  ['CONNECT', 'connect'],
  ['EHLO', 'helo'],
  ['HELO', 'helo'],
  ['STARTTLS', 'starttls'],
  ['AUTH', 'auth'],
  ['MAIL', 'mail'],
  ['RCPT', 'rcpt'],
  ['DATA', 'data'],
  // BDAT is CHUNKING's DATA: smtpd logs its refusals (e.g. 5.5.3 multi-recipient bounce) as BDAT.
  ['BDAT', 'data'],
  ['END-OF-MESSAGE', 'end_of_data'],
  ['VRFY', 'vrfy'],
  ['ETRN', 'etrn'],
  // cleanup header_checks / body_checks run on the message content, i.e. at end of DATA.
  ['header', 'end_of_data'],
  ['body', 'end_of_data'],
  ['mime-header', 'end_of_data'],
  ['nested-header', 'end_of_data'],
]);

export function stageFromWord(word: string): Stage {
  return STAGE_WORDS.get(word) ?? 'other';
}

/** The command named in the smtp client's `(in reply to X command)`. */
const REPLY_TO_COMMAND: ReadonlyMap<string, Stage> = new Map<string, Stage>([
  ['RCPT TO', 'rcpt'],
  ['MAIL FROM', 'mail'],
  ['DATA', 'data'],
  ['end of DATA', 'end_of_data'],
  ['BDAT', 'end_of_data'],
  ['EHLO', 'helo'],
  ['HELO', 'helo'],
  ['LHLO', 'helo'],
  ['STARTTLS', 'starttls'],
  ['AUTH', 'auth'],
]);

export function stageFromCommand(command: string): Stage {
  return REPLY_TO_COMMAND.get(command) ?? 'other';
}
