/**
 * Pieces shared by the Postfix daemon decoders: queue IDs, `name[ip]:port` host references,
 * `key=<value>` lists, reply codes and SMTP stages.
 */
import type { HostRef, Reply, Stage } from '../../src/model/records.js';

/** Short queue IDs: upper-case hex of variable length (7-13 seen; 5-20 accepted). */
const SHORT_QID = /^[0-9A-F]{5,20}$/;
/**
 * Long queue IDs (`enable_long_queue_ids`): 10 characters of the vowel-free base-52 alphabet (the
 * time), `z`, then the inode in base 51 (the same alphabet without `z`). Source: Postfix
 * mail_queue.h; FORMATS.md 1.2 marks it not verified in real logs, so we accept 1-10 inode chars.
 */
const LONG_QID = /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,10}$/;

export function isQueueId(s: string): boolean {
  return SHORT_QID.test(s) || LONG_QID.test(s);
}

/**
 * Splits `QID: rest` or `NOQUEUE: rest`. Returns null when the message does not start with one.
 * `queueId` is null for NOQUEUE.
 */
export function splitQueueId(message: string): { queueId: string | null; rest: string } | null {
  const colon = message.indexOf(': ');
  if (colon < 5 || colon > 24) return null;
  const head = message.slice(0, colon);
  if (head === 'NOQUEUE') return { queueId: null, rest: message.slice(colon + 2) };
  if (!isQueueId(head)) return null;
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
 * Reads `key=value` pairs separated by `, ` (qmgr, delivery agents, postscreen) or by a single space
 * (smtpd's reject tail). A value in angle brackets runs to the first `>` followed by a separator, so
 * addresses with spaces or commas in a quoted local part survive. `stopKey` ends the scan before
 * that key and returns the offset of its value (used for `status=` whose value is free text).
 */
export function scanKeyValues(
  s: string,
  start = 0,
  stopKey?: string,
): { values: Map<string, string>; end: number; stoppedAt: number | null } {
  const values = new Map<string, string>();
  let i = start;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq <= i) break;
    if (!isKeyName(s, i, eq)) break;
    const key = s.slice(i, eq);
    if (key === stopKey) return { values, end: i, stoppedAt: eq + 1 };
    let j = eq + 1;
    let value: string;
    if (s.charCodeAt(j) === 60 /* < */) {
      let close = s.indexOf('>', j);
      while (close >= 0 && !isValueEnd(s, close + 1)) close = s.indexOf('>', close + 1);
      if (close < 0) break;
      value = s.slice(j, close + 1);
      j = close + 1;
    } else {
      // The value runs to the first separator: a space, or `, ` (whose space is then the first one).
      let k = s.indexOf(' ', j);
      if (k < 0) k = s.length;
      else if (k > j && s.charCodeAt(k - 1) === 44 /* , */) k--;
      value = s.slice(j, k);
      j = k;
    }
    values.set(key, value);
    if (j >= s.length) return { values, end: j, stoppedAt: null };
    if (s.startsWith(', ', j)) i = j + 2;
    else if (s.charCodeAt(j) === 32) i = j + 1;
    else return { values, end: j, stoppedAt: null };
  }
  return { values, end: i, stoppedAt: null };
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

/** Reply code (`550`), optional `-`/space, optional enhanced status (`5.7.26`, also `#5.1.0`). */
const REPLY_HEAD = /^([2-5]\d\d)(?:[ -]#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$))?/;
/** An enhanced status alone at the start (cleanup milter rejects: `5.7.1 Spam message rejected`). */
const ENHANCED_HEAD = /^#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$)/;

/** Splits an SMTP reply into code, enhanced status and the full text; every part may be missing. */
export function parseReply(text: string): Reply {
  const m = REPLY_HEAD.exec(text);
  if (m !== null) return { code: Number(m[1]), enhanced: m[2] ?? null, text };
  const e = ENHANCED_HEAD.exec(text);
  if (e !== null) return { code: null, enhanced: e[1]!, text };
  return { code: null, enhanced: null, text };
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
