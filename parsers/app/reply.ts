/**
 * Helpers every ecosystem parser needs: SMTP replies as applications print them (multi-line replies
 * joined with CRLF, `\r\n` escapes, Python bytes literals), addresses, commands.
 */
import type { HostRef, Reply, Stage } from '../../src/model/records.js';
import { parseReply, stageFromCommand } from '../postfix/common.js';

/** A reply line of a transcript or a wrapped reply: its code, then a space, a dash or the end. */
export const REPLY_LINE_START = /^([2-5]\d\d)(?:[ -]|$)/;

/** A new log record's timestamp in a trace (`2024-03-14 09:12:05.123`, `09:12:05.123`). */
export const RECORD_TIMESTAMP = /^(?:\d{4}-\d\d-\d\d[ T]|\d\d:\d\d:\d\d)/;

/** `550-5.1.1 first line` / `550 5.1.1 last line`: the code and separator of one reply line. */
const REPLY_LINE = /^([2-5]\d\d)([ -])/;

/**
 * One reply from the text an application logged: CRLF, LF or literal `\r\n`/`\n` escapes between
 * the lines of a multi-line reply are joined with a space (the way MTAs log them), surrounding quotes
 * and whitespace dropped. Code and enhanced status come from the first line.
 */
export function replyOf(text: string): Reply {
  const lines = text
    .replace(/\\r\\n|\\n|\\r/g, '\n')
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const joined = lines.join(' ');
  return parseReply(joined);
}

/** True when `text` starts with a reply line (`550 ...`, `550-...`). */
export function startsWithReply(text: string): boolean {
  return REPLY_LINE.test(text);
}

/** An SMTP reply's code from a decimal string or number within 200..599, else null. */
export function replyCode(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{3}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isInteger(n) && n >= 200 && n <= 599 ? n : null;
}

/** `RCPT TO`, `MAIL FROM`, `DATA`, `rcpt`, `RCPT TO:<x>`, Nodemailer's stage words: the SMTP stage. */
export function stageOf(command: string | null | undefined): Stage {
  if (command === null || command === undefined) return 'unknown';
  const c = command.trim().toUpperCase();
  if (c.startsWith('RCPT')) return 'rcpt';
  if (c.startsWith('MAIL')) return 'mail';
  if (c === 'DATA' || c === 'MESSAGE' || c === 'BDAT') return 'data';
  if (c === 'END OF DATA' || c === 'END-OF-DATA' || c === '.') return 'end_of_data';
  if (c === 'EHLO' || c === 'HELO' || c === 'GREETING') return 'helo';
  if (c === 'AUTH' || c.startsWith('AUTH ')) return 'auth';
  if (c === 'STARTTLS') return 'starttls';
  if (c === 'CONN' || c === 'CONNECT' || c === 'CONNECTION') return 'connect';
  const s = stageFromCommand(command.trim());
  return s === 'other' ? 'unknown' : s;
}

/**
 * Addresses in a piece of text, in order, without duplicates, lower-cased domain kept as written:
 * `<bob@example.org>`, `'bob@example.org'`, bare `bob@example.org`. A linear scan around each `@`.
 */
export function addressesIn(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let from = 0;
  for (;;) {
    const at = text.indexOf('@', from);
    if (at < 0) break;
    let s = at;
    while (s > 0 && isLocalChar(text.charCodeAt(s - 1))) s--;
    let e = at + 1;
    while (e < text.length && isDomainChar(text.charCodeAt(e))) e++;
    // A domain does not end with a dot (the end of a sentence).
    while (e > at + 1 && text.charCodeAt(e - 1) === 46) e--;
    from = at + 1;
    // A domain has a dot inside it (looked for within the domain only: linear in the text).
    let dot = false;
    for (let i = at + 1; i < e && !dot; i++) dot = text.charCodeAt(i) === 46;
    if (s === at || e === at + 1 || !dot) continue;
    const addr = text.slice(s, e);
    if (!seen.has(addr)) {
      seen.add(addr);
      out.push(addr);
    }
  }
  return out;
}

function isLocalChar(c: number): boolean {
  // letters, digits and the atext specials commonly seen: . _ % + - = '
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 61 || c > 127;
}

function isDomainChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45 || c > 127;
}

/** A Message-ID without its angle brackets and surrounding quotes/space, or null when empty. */
export function bareMessageId(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim().replace(/^['"]|['"]$/g, '').replace(/^<|>$/g, '').trim();
  return t === '' ? null : t;
}

/** A string field of a structured entry (`fields`), or null. */
export function str(fields: Readonly<Record<string, unknown>> | null, ...names: string[]): string | null {
  if (fields === null) return null;
  for (const n of names) {
    const v = fields[n];
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}

/** The address a reply is about: the first `<x@y>`, else the first bare address. Linear. */
export function addressOfReply(text: string): string | null {
  let from = 0;
  for (;;) {
    const gt = text.indexOf('>', from);
    if (gt < 0) break;
    const lt = text.lastIndexOf('<', gt);
    if (lt >= from) {
      const inner = text.slice(lt + 1, gt);
      if (inner.includes('@') && !inner.includes(' ')) return inner;
    }
    from = gt + 1;
  }
  return addressesIn(text)[0] ?? null;
}

/** The addresses of a reply written in angle brackets (`<bob@example.org>`), in order. */
export function bracketedAddresses(text: string): string[] {
  return addressesIn(text).filter((a) => text.includes(`<${a}>`));
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * The SMTP server an app logged beside its error, from the first of `hostKeys` that holds a string
 * (`accept` may refuse a value) and the first of `portKeys` that holds a port; an IP address goes
 * to `ip`, a name to `name`.
 */
export function relayFromFields(
  fields: Readonly<Record<string, unknown>> | null,
  hostKeys: readonly string[],
  portKeys: readonly string[],
  accept: (key: string, value: string) => boolean = () => true,
): HostRef | null {
  if (fields === null) return null;
  for (const k of hostKeys) {
    const v = fields[k];
    if (typeof v !== 'string' || v === '' || !accept(k, v)) continue;
    const p = portKeys.map((pk) => fields[pk]).find((x) => x !== undefined && x !== null);
    const port = typeof p === 'number' && Number.isInteger(p) ? p : typeof p === 'string' && /^\d{1,5}$/.test(p) ? Number(p) : null;
    const ip = IPV4.test(v) || v.includes(':');
    return { name: ip ? null : v, ip: ip ? v : null, port };
  }
  return null;
}
