/**
 * Nodemailer's SMTP errors (FORMATS.md 4) as Node applications log them: the error printed by
 * `console.error(err)` (message, `    at SMTPConnection._formatError (...)` frames, then the
 * util.inspect'ed own properties `{ code: 'EENVELOPE', response: '550 ...', responseCode: 550,
 * command: 'RCPT TO', rejected: [...], rejectedErrors: [...] }`), the same error serialised by a JSON
 * logger (pino's `err`: type, message, stack and the same properties, handed over as `unit.fields`),
 * 0.x's `[RecipientError: ...] name: 'RecipientError', data: '550 ...', stage: 'rcpt'`, and the
 * `info` of a send that went out to some recipients only (`accepted`, `rejected`, `rejectedErrors`,
 * a 250 `response`, `messageId`).
 *
 * Message templates and properties are Nodemailer's own (lib/smtp-connection/index.js,
 * `_formatError(message, code, response, command)`): the message is the template, then `: ` and
 * the server's reply as received, continuation lines of a multi-line reply joined with `\n`
 * (checked against Nodemailer 10 and smtp-server by a throwaway script, see the tests' shapes).
 */
import type { AppRecipientError, Reply, Stage } from '../../src/model/records.js';
import { addressesIn, bareMessageId, relayFromFields, replyCode, replyOf, stageOf, startsWithReply } from './reply.js';
import type { AppErrorFields, AppUnit, EcosystemParser } from './types.js';

type Props = Record<string, unknown>;

/** One message template of `_formatError`, and the stage it speaks of when no `command` is logged. */
interface Template {
  text: string;
  stage: Stage;
  /** Nodemailer's own wording: found alone, it is evidence enough. */
  strong: boolean;
  /** `Invalid greeting. response=R: R`: the reply is echoed after the template and after `: `. */
  echo?: boolean;
}

/** Newest first where one template is a prefix of another (the longer one wins a tie). */
const TEMPLATES: readonly Template[] = [
  { text: "Can't send mail - all recipients were rejected", stage: 'rcpt', strong: true },
  { text: 'Recipient command failed', stage: 'rcpt', strong: true },
  { text: 'Mail command failed', stage: 'mail', strong: true },
  // 0.x (simplesmtp): `Mail from command failed - 550 ...`
  { text: 'Mail from command failed', stage: 'mail', strong: true },
  { text: 'Data command failed', stage: 'data', strong: false },
  // LMTP: one reply per recipient after the final dot.
  { text: 'Message failed for recipient', stage: 'end_of_data', strong: true },
  { text: 'Message failed', stage: 'end_of_data', strong: false },
  { text: 'Invalid login sequence while waiting for', stage: 'auth', strong: true },
  { text: 'Invalid login', stage: 'auth', strong: false },
  { text: 'Internationalized mailbox name not allowed', stage: 'unknown', strong: false },
  { text: 'Invalid greeting. response=', stage: 'connect', strong: true, echo: true },
  { text: 'Invalid HELO. response=', stage: 'helo', strong: true, echo: true },
  { text: 'Invalid LHLO. response=', stage: 'helo', strong: true, echo: true },
  { text: 'Server terminates connection. response=', stage: 'helo', strong: true, echo: true },
  { text: 'Could not reset session state. response=', stage: 'unknown', strong: true, echo: true },
  { text: 'Error upgrading connection with STARTTLS', stage: 'starttls', strong: true },
  { text: 'Server closed the connection', stage: 'connect', strong: false },
  { text: 'Connection closed unexpectedly', stage: 'connect', strong: false },
];

/** The template whose error may carry no reply at all (Nodemailer before 1.x stopped there). */
const ALL_REJECTED = TEMPLATES[0]!;

/** Substrings only Nodemailer (or an inspected Nodemailer error) prints. */
const MARKERS = [
  "Can't send mail - all recipients were rejected",
  'Recipient command failed',
  'Mail command failed',
  'Mail from command failed',
  'Message failed for recipient',
  'SMTPConnection',
  'smtp-connection',
  'nodemailer',
  'EENVELOPE',
  'EMESSAGE',
  'RecipientError',
  'rejectedErrors',
];

/** `code` values `_formatError` gives errors that may carry a server reply. */
const CODES: ReadonlySet<string> = new Set(['EENVELOPE', 'EMESSAGE', 'EAUTH', 'EPROTOCOL', 'ECONNECTION', 'ETLS']);

/** 0.x error names (simplesmtp's `_onError(err, type, data)`) and their stage. */
const NAME_STAGE: Readonly<Record<string, Stage>> = {
  RecipientError: 'rcpt',
  SenderError: 'mail',
  DataError: 'data',
  AuthError: 'auth',
};

/** A reply at this position: three digits, then a space or `-`. */
const REPLY_AT = /[2-5]\d\d[ -]/y;
const REPLY_CONT = /^[2-5]\d\d-/;

export const nodemailerParser: EcosystemParser = {
  ecosystem: 'nodemailer',
  claims(unit: AppUnit): boolean {
    const t = unit.text;
    if (MARKERS.some((m) => t.includes(m))) return true;
    if (t.includes('Error: Message failed') || t.includes('Error: Invalid login') || t.includes('Error: Data command failed')) return true;
    const f = unit.fields;
    if (f === null) return false;
    const code = f['code'];
    return Array.isArray(f['rejectedErrors']) || (typeof code === 'string' && CODES.has(code)) || (typeof f['responseCode'] === 'number' && typeof f['command'] === 'string');
  },
  parse: parseUnit,
};

function parseUnit(unit: AppUnit): AppErrorFields | null {
  const text = unit.text;
  const fields = unit.fields;
  const scan = scanInspect(text);
  const prop = (k: string): unknown => (fields !== null && fields[k] !== undefined && fields[k] !== null ? fields[k] : scan.top[k]);
  const pstr = (k: string): string | null => {
    const v = prop(k);
    return typeof v === 'string' && v !== '' ? v : null;
  };

  // Where the error's own message is: the text before its properties, plus a logged `message`.
  let header = text.slice(0, scan.firstPropAt);
  const message = pstr('message');
  if (message !== null && !header.includes(message)) header += '\n' + message;
  const found = findTemplate(header);
  const evidence = MARKERS.some((m) => text.includes(m)) || (typeof prop('code') === 'string' && CODES.has(prop('code') as string));
  const tpl = found !== null && (found.t.strong || evidence || header.slice(Math.max(0, found.at - 7), found.at) === 'Error: ') ? found : null;

  // The reply: `response` (1.x and later), `data` (0.x), else what follows the template.
  const response = replyString(pstr('response')) ?? replyString(pstr('data'));
  let reply: Reply | null = response !== null ? replyOf(response) : null;
  let fromHeader: { reply: Reply; between: string } | null = null;
  if (reply === null && tpl !== null) {
    fromHeader = headerReply(header, tpl.at + tpl.t.text.length, tpl.t);
    if (fromHeader !== null) reply = fromHeader.reply;
  }
  if (reply !== null && reply.code === null) {
    const rc = replyCode(prop('responseCode'));
    if (rc !== null) reply = { ...reply, code: rc };
  }

  const entries = rejectedEntries(fields, scan);
  const rejected = stringList(prop('rejected'));
  const accepted = stringList(prop('accepted'));
  const code = pstr('code');
  const command = pstr('command');
  const messageId = bareMessageId(prop('messageId')) ?? sendErrorMessageId(text);
  const sender = senderOf(fields, scan);
  const relay = relayFromFields(fields, ['host'], ['port']);

  // A send that went out, with some recipients refused: the info object.
  const isInfo = tpl === null && entries.length > 0 && (reply === null || (reply.code !== null && reply.code < 300) || (accepted.length > 0 && code === null));
  if (isInfo) {
    const recipients = entryRecipients(entries, rejected);
    const first = recipients.find((r) => r.reply !== null && r.reply.code !== null);
    if (first === undefined || first.reply === null) return null;
    const e0 = entries[0]!;
    const code0 = typeof e0['code'] === 'string' ? e0['code'] : null;
    const stage0 = stageFor(typeof e0['command'] === 'string' ? e0['command'] : null, code0, null, null, null);
    return {
      library: 'nodemailer',
      exception: code0,
      reply: first.reply,
      codeCandidates: null,
      // Recipients refused in a send that went out were refused at RCPT (or, over LMTP, after the dot).
      stage: stage0 === 'unknown' ? 'rcpt' : stage0,
      recipients,
      accepted,
      sender,
      messageId,
      relay,
    };
  }

  if (reply === null) {
    if (tpl?.t !== ALL_REJECTED) return null;
    // Old versions stop at `... were rejected`: no reply, only the message.
    reply = { code: null, enhanced: null, text: lineFrom(header, tpl.at).trim() };
  } else if (reply.code === null || reply.code < 400) {
    if (tpl?.t !== ALL_REJECTED || reply.code !== null) return null;
  }

  const name = pstr('name');
  const stage = stageFor(command, code, tpl?.t ?? null, pstr('stage'), name);

  let recipients: AppRecipientError[] = entryRecipients(entries, rejected);
  if (recipients.length === 0 && rejected.length > 0) {
    const named = new Set(addressesIn(reply.text));
    const only = rejected.length === 1;
    recipients = rejected.map((address) => ({ address, reply: only || named.has(address) ? reply : null }));
  }
  if (recipients.length === 0) {
    const named = pstr('recipient') ?? (fromHeader !== null && tpl?.t.text === 'Message failed for recipient' ? addressesIn(fromHeader.between)[0] ?? null : null);
    if (named !== null) recipients = [{ address: named, reply }];
    else if (stage === 'rcpt') recipients = addressesIn(reply.text).map((address) => ({ address, reply }));
  }

  return {
    library: 'nodemailer',
    exception: code ?? (name !== null && name !== 'Error' ? name : null) ?? (tpl !== null ? classBefore(header, tpl.at) : null) ?? pstr('type') ?? name,
    reply,
    codeCandidates: null,
    stage,
    recipients,
    accepted,
    sender: sender ?? (stage === 'mail' ? addressesIn(reply.text)[0] ?? null : null),
    messageId,
    relay,
  };
}

/** The stage of the reply: the command Nodemailer names, else what the message or 0.x name says. */
function stageFor(command: string | null, code: string | null, tpl: Template | null, stageProp: string | null, name: string | null): Stage {
  const dataCmd = command === null || command.trim().toUpperCase() === 'DATA';
  // `Message failed` (EMESSAGE) answers the message itself, after the final dot; `Data command
  // failed` (EENVELOPE, also command DATA) answers the DATA command.
  if (dataCmd && (code === 'EMESSAGE' || tpl?.stage === 'end_of_data')) return 'end_of_data';
  if (command !== null) {
    const s = stageOf(command);
    if (s !== 'unknown') return s;
  }
  if (stageProp !== null) {
    const s = stageOf(stageProp);
    if (s !== 'unknown') return s;
  }
  if (name !== null && NAME_STAGE[name] !== undefined) return NAME_STAGE[name]!;
  if (tpl !== null && tpl.stage !== 'unknown') return tpl.stage;
  if (code === 'EAUTH') return 'auth';
  return 'unknown';
}

/** The earliest template in the text (the outer error's message comes before its nested ones). */
function findTemplate(s: string): { t: Template; at: number } | null {
  let best: { t: Template; at: number } | null = null;
  for (const t of TEMPLATES) {
    const at = s.indexOf(t.text);
    if (at < 0) continue;
    if (best === null || at < best.at || (at === best.at && t.text.length > best.t.text.length)) best = { t, at };
  }
  return best;
}

/**
 * The reply after a template: on the template's line after `: `, ` - ` or `=`, then the lines of a
 * multi-line reply (`550-...` is followed by `550 ...`). `between` is the text from the template
 * to the reply (`for recipient bob@example.org`).
 */
function headerReply(s: string, from: number, t: Template): { reply: Reply; between: string } | null {
  const eol = lineEnd(s, from);
  let start = -1;
  for (let i = from; i < eol; i++) {
    const c = s.charCodeAt(i - 1);
    if (!((c === 32 && (s.charCodeAt(i - 2) === 58 || s.charCodeAt(i - 2) === 45)) || c === 61)) continue;
    REPLY_AT.lastIndex = i;
    if (REPLY_AT.test(s)) {
      start = i;
      break;
    }
  }
  if (start < 0) return null;
  const lines = [s.slice(start, eol).trimEnd()];
  let pos = eol;
  while (pos < s.length && REPLY_CONT.test(lines[lines.length - 1]!)) {
    const next = lineEnd(s, pos + 1);
    const line = s.slice(pos + 1, next).trim();
    if (!startsWithReply(line)) break;
    lines.push(line);
    pos = next;
  }
  let raw = lines.join('\n');
  if (t.echo === true) {
    // `response=R: R`: keep one copy.
    const half = (raw.length - 2) / 2;
    if (Number.isInteger(half) && raw.slice(half, half + 2) === ': ' && raw.slice(0, half) === raw.slice(half + 2)) raw = raw.slice(0, half);
  }
  return { reply: replyOf(raw), between: s.slice(from, start) };
}

/** `Error` / `RecipientError` written just before the template (`Error: Can't send mail...`). */
function classBefore(s: string, at: number): string | null {
  if (s.slice(at - 2, at) !== ': ') return null;
  let b = at - 2;
  while (b > 0 && isIdentChar(s.charCodeAt(b - 1))) b--;
  const name = s.slice(b, at - 2);
  return name !== '' && /^[A-Za-z_$]/.test(name) ? name : null;
}

/** Nodemailer's own log line `Send error for <id>: ...` names the Message-ID. */
function sendErrorMessageId(text: string): string | null {
  const at = text.indexOf('Send error for <');
  if (at < 0) return null;
  const end = text.indexOf('>', at);
  const eol = lineEnd(text, at);
  return end > 0 && end < eol ? bareMessageId(text.slice(at + 15, end + 1)) : null;
}

function replyString(v: string | null): string | null {
  return v !== null && startsWithReply(v.trimStart()) ? v.trim() : null;
}

function stringList(v: unknown): string[] {
  if (typeof v === 'string' && v.includes('@')) return [v];
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === 'string' && x !== '');
}

/** The per-recipient errors (`rejectedErrors`), from the JSON fields or the inspected text. */
function rejectedEntries(fields: Readonly<Record<string, unknown>> | null, scan: Scan): Props[] {
  const v = fields?.['rejectedErrors'];
  if (Array.isArray(v)) return v.filter((e): e is Props => typeof e === 'object' && e !== null && !Array.isArray(e));
  return scan.groups;
}

/** Each refused recipient with its own reply: `recipient` (Nodemailer 6+), else `rejected[i]`, else the reply's address. */
function entryRecipients(entries: Props[], rejected: string[]): AppRecipientError[] {
  const out: AppRecipientError[] = [];
  entries.forEach((e, i) => {
    const response = typeof e['response'] === 'string' ? replyString(e['response']) : null;
    const reply = response !== null ? replyOf(response) : null;
    const address =
      (typeof e['recipient'] === 'string' && e['recipient'] !== '' ? e['recipient'] : null) ??
      (rejected.length === entries.length ? rejected[i] ?? null : null) ??
      (reply !== null ? addressesIn(reply.text)[0] ?? null : null);
    if (address !== null) out.push({ address, reply });
  });
  return out;
}

function senderOf(fields: Readonly<Record<string, unknown>> | null, scan: Scan): string | null {
  const env = fields?.['envelope'];
  const candidates: unknown[] = [
    typeof env === 'object' && env !== null ? (env as Props)['from'] : undefined,
    scan.envelope['from'],
    fields?.['from'],
  ];
  for (const c of candidates) {
    if (typeof c === 'string') {
      const a = addressesIn(c)[0];
      if (a !== undefined) return a;
    }
  }
  return null;
}

/** The SMTP server, when the application logged `host` (and `port`) next to the error. */

function lineEnd(s: string, from: number): number {
  const e = s.indexOf('\n', from);
  return e < 0 ? s.length : e;
}

function lineFrom(s: string, at: number): string {
  return s.slice(at, lineEnd(s, at));
}

// ---------------------------------------------------------------- util.inspect reader

interface Scan {
  /** The outer object's properties (first occurrence of each key outside the containers below). */
  top: Props;
  /** One entry per error in `rejectedErrors: [ ... ]`. */
  groups: Props[];
  /** `envelope: { from, to }` of an info object. */
  envelope: Props;
  /** Where the first property of the outer object starts (the text before it is the message). */
  firstPropAt: number;
}

/**
 * The properties util.inspect (or pino-pretty) printed after an error or around an info object:
 * `key: 'string'` (single, double or backtick quotes; long strings split into `'...' +` pieces),
 * numbers, literals and arrays of those. Keys are found at line starts and after `{`, `,`, `]`;
 * messages and stack frames in between are skipped. One pass, no backtracking: each string is read
 * once, and a string that does not close on its line ends the attempt there.
 */
function scanInspect(s: string): Scan {
  const top: Props = {};
  const groups: Props[] = [];
  const envelope: Props = {};
  let firstPropAt = s.length;
  let depth = 0;
  let container: string | null = null;
  let containerDepth = -1;
  let group: Props | null = null;
  let boundary = true;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 123 || c === 91) {
      if (container === 'rejectedErrors' && c === 123 && depth === containerDepth + 1) {
        group = {};
        groups.push(group);
      }
      depth++;
      boundary = true;
      i++;
      continue;
    }
    if (c === 125 || c === 93) {
      if (depth > 0) depth--;
      if (container !== null && depth <= containerDepth) {
        container = null;
        group = null;
      }
      boundary = c === 93;
      i++;
      continue;
    }
    if (c === 10 || c === 44) {
      boundary = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (boundary && (isIdentStart(c) || c === 34)) {
      const key = readKey(s, i);
      if (key !== null) {
        const v = parseValue(s, key.end);
        if (v.ok && endsValue(s, v.end)) {
          if (container === null) {
            if (!(key.name in top)) top[key.name] = v.value;
            if (i < firstPropAt) firstPropAt = i;
          } else if (container === 'rejectedErrors' && group !== null && depth >= containerDepth + 2) {
            if (!(key.name in group)) group[key.name] = v.value;
          } else if (container === 'envelope' && depth === containerDepth + 1) {
            if (!(key.name in envelope)) envelope[key.name] = v.value;
          }
          i = v.end;
          boundary = false;
          continue;
        }
        const open = s.charCodeAt(key.end);
        if (container === null && (open === 91 || open === 123) && (key.name === 'rejectedErrors' || key.name === 'envelope')) {
          container = key.name;
          containerDepth = depth;
        }
        i = Math.max(key.end, v.end);
        boundary = false;
        continue;
      }
    }
    boundary = false;
    i++;
  }
  return { top, groups, envelope, firstPropAt };
}

/** `key: ` or `"key": ` at i: the name and where its value starts. */
function readKey(s: string, i: number): { name: string; end: number } | null {
  const quoted = s.charCodeAt(i) === 34;
  let j = quoted ? i + 1 : i;
  if (!isIdentStart(s.charCodeAt(j))) return null;
  j++;
  while (j < s.length && isIdentChar(s.charCodeAt(j))) j++;
  const name = s.slice(quoted ? i + 1 : i, j);
  if (quoted) {
    if (s.charCodeAt(j) !== 34) return null;
    j++;
  }
  if (s.charCodeAt(j) !== 58 || s.charCodeAt(j + 1) !== 32) return null;
  j += 2;
  while (s.charCodeAt(j) === 32) j++;
  return { name, end: j };
}

interface Parsed {
  ok: boolean;
  value: unknown;
  /** After the value; on failure, how far the attempt read (the scan resumes there). */
  end: number;
}

const FAIL_AT = (end: number): Parsed => ({ ok: false, value: undefined, end });

function parseValue(s: string, i: number): Parsed {
  const c = s.charCodeAt(i);
  if (c === 39 || c === 34 || c === 96) return parseStrings(s, i);
  if (c === 91) return parseArray(s, i);
  if ((c >= 48 && c <= 57) || c === 45) {
    let j = c === 45 ? i + 1 : i;
    const d = j;
    while (j < s.length && isDigit(s.charCodeAt(j))) j++;
    return j > d ? { ok: true, value: Number(s.slice(i, j)), end: j } : FAIL_AT(i);
  }
  for (const [word, value] of LITERALS) {
    if (s.startsWith(word, i) && !isIdentChar(s.charCodeAt(i + word.length))) return { ok: true, value, end: i + word.length };
  }
  return FAIL_AT(i);
}

const LITERALS: readonly (readonly [string, unknown])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['undefined', null],
];

/** `'a' +\n    'b'`: one string from its pieces. */
function parseStrings(s: string, i: number): Parsed {
  let out = '';
  let at = i;
  for (;;) {
    const one = parseString(s, at);
    if (!one.ok) return one;
    out += one.value as string;
    let k = one.end;
    while (k < s.length && isSpace(s.charCodeAt(k))) k++;
    if (s.charCodeAt(k) !== 43) return { ok: true, value: out, end: one.end };
    k++;
    while (k < s.length && isSpace(s.charCodeAt(k))) k++;
    const q = s.charCodeAt(k);
    if (q !== 39 && q !== 34 && q !== 96) return { ok: true, value: out, end: one.end };
    at = k;
  }
}

/** One quoted string on one line, escapes (`\n`, `\r`, `\'`, `\\`, `\xHH`, `\uHHHH`) decoded. */
function parseString(s: string, i: number): Parsed {
  const q = s.charCodeAt(i);
  let out = '';
  let from = i + 1;
  let j = i + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 10) return FAIL_AT(j);
    if (c === q) return { ok: true, value: out + s.slice(from, j), end: j + 1 };
    if (c === 92) {
      out += s.slice(from, j);
      const e = s.charAt(j + 1);
      let skip = 2;
      if (e === 'n') out += '\n';
      else if (e === 'r') out += '\r';
      else if (e === 't') out += '\t';
      else if (e === 'x' || e === 'u') {
        const len = e === 'x' ? 2 : 4;
        const hex = s.slice(j + 2, j + 2 + len);
        if (hex.length === len && /^[0-9a-fA-F]+$/.test(hex)) {
          out += String.fromCharCode(parseInt(hex, 16));
          skip = 2 + len;
        } else out += e;
      } else out += e;
      j += skip;
      from = j;
      continue;
    }
    j++;
  }
  return FAIL_AT(j);
}

/** `[ 'a', 'b' ]`, also spread over lines; `... 3 more items` ends it. Anything else: not simple. */
function parseArray(s: string, i: number): Parsed {
  const out: unknown[] = [];
  let j = i + 1;
  for (;;) {
    while (j < s.length && (isSpace(s.charCodeAt(j)) || s.charCodeAt(j) === 44)) j++;
    if (j >= s.length) return FAIL_AT(i);
    const c = s.charCodeAt(j);
    if (c === 93) return { ok: true, value: out, end: j + 1 };
    if (s.startsWith('... ', j)) {
      const close = s.indexOf(']', j);
      const eol = lineEnd(s, j);
      if (close < 0 || close > eol) return FAIL_AT(i);
      return { ok: true, value: out, end: close + 1 };
    }
    if (c !== 39 && c !== 34 && c !== 96 && !isDigit(c)) return FAIL_AT(i);
    const v = parseValue(s, j);
    if (!v.ok) return FAIL_AT(i);
    out.push(v.value);
    j = v.end;
  }
}

/** After a value: spaces, then `,`, a closing bracket, a line end or the end. */
function endsValue(s: string, i: number): boolean {
  let k = i;
  while (k < s.length && (s.charCodeAt(k) === 32 || s.charCodeAt(k) === 9 || s.charCodeAt(k) === 13)) k++;
  if (k >= s.length) return true;
  const c = s.charCodeAt(k);
  return c === 44 || c === 125 || c === 93 || c === 10;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
