/**
 * Ruby Net::SMTP errors in application logs (FORMATS.md 4). The mail gem and ActionMailer send
 * through Net::SMTP and let its exceptions through, so the class is always Net::SMTP's:
 *
 *   Net::SMTPFatalError: 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown
 *     File "/usr/local/bundle/gems/net-smtp-0.5.0/lib/net/smtp.rb", line 1004, in check_response   (Rollbar)
 *   /usr/local/bundle/gems/net-smtp-0.5.0/lib/net/smtp.rb:1004:in `check_response'              (Airbrake; 3.4: 'Net::SMTP#check_response')
 *   Net::SMTPFatalError (550 5.7.1 <bob@example.org>: Relay access denied                       (Rails)
 *   ):
 *   .../net/smtp.rb:1004:in 'check_response': 550 5.1.1 ... (Net::SMTPFatalError)              (uncaught)
 *   #<Net::SMTPFatalError: 550 5.1.1 ...>                                                      (inspect)
 *
 * net-smtp (lib/net/smtp.rb): `Response#exception_class` picks the class from the code (4xx
 * SMTPServerBusy, 50x SMTPSyntaxError, 53x SMTPAuthenticationError, other 5xx SMTPFatalError); the
 * message is `Response#message`, the reply's **first line** with its code and a trailing "\n" (so
 * Rails' `):` lands on the next line). `check_continue` (DATA not answered 354) raises
 * SMTPUnknownError `could not get 3xx (554: <whole reply>)`. Old net/smtp's `rcptto_list` raised
 * SMTPAuthenticationError `failed to deliver for "bob@example.org"` for 53x recipient replies.
 *
 * Stage: from the net/smtp frames when present (`rcptto`, `mailfrom`, `check_continue`, `data`...),
 * else from the reply text (`Recipient address rejected`), else unknown.
 *
 * Pure: no state, never throws, linear in the unit's length.
 */
import type { AppRecipientError, Reply, Stage } from '../../src/model/records.js';
import type { AppErrorFields, AppUnit, EcosystemParser } from './types.js';
import { addressesIn, bareMessageId, bracketedAddresses, relayFromFields, replyOf, startsWithReply, str } from './reply.js';

/** Net::SMTP's error classes (net-smtp 0.5, and the stdlib net/smtp before it). */
const CLASSES = new Set([
  'Net::SMTPFatalError',
  'Net::SMTPServerBusy',
  'Net::SMTPSyntaxError',
  'Net::SMTPAuthenticationError',
  'Net::SMTPUnknownError',
  'Net::SMTPUnsupportedCommand',
]);

/** Net::SMTP methods in the backtrace and the command whose reply they checked. */
const METHOD_STAGE: readonly [string, Stage][] = [
  // check_continue is only called on the reply to DATA; `data` itself checks the reply to the dot.
  ['check_continue', 'data'],
  ['rcptto', 'rcpt'],
  ['mailfrom', 'mail'],
  ['data', 'end_of_data'],
  ['check_auth_response', 'auth'],
  ['check_auth_continue', 'auth'],
  ['auth', 'auth'],
  ['authenticate', 'auth'],
  ['auth_plain', 'auth'],
  ['auth_login', 'auth'],
  ['auth_cram_md5', 'auth'],
  ['send_command_with_continuations', 'auth'],
  ['starttls', 'starttls'],
  ['ehlo', 'helo'],
  ['helo', 'helo'],
  ['do_helo', 'helo'],
  ['do_start', 'connect'],
];

const PHRASE_STAGE: readonly [string, Stage][] = [
  ['recipient address rejected', 'rcpt'],
  ['relay access denied', 'rcpt'],
  ['sender address rejected', 'mail'],
];

/** Field names JSON loggers (lograge, semantic_logger, Sidekiq) give the class, message and backtrace. */
const CLASS_FIELDS = ['class', 'name', 'exception_class', 'error_class', 'type', 'exception'];
const MESSAGE_FIELDS = ['message', 'error_message', 'exception_message', 'msg'];
const BACKTRACE_FIELDS = ['backtrace', 'stack_trace', 'stacktrace', 'error_backtrace', 'stack'];

export const rubyParser: EcosystemParser = {
  ecosystem: 'ruby',
  claims(unit: AppUnit): boolean {
    if (unit.text.includes('Net::SMTP')) return true;
    const c = str(unit.fields, ...CLASS_FIELDS);
    return c !== null && c.startsWith('Net::SMTP');
  },
  parse(unit: AppUnit): AppErrorFields | null {
    try {
      return parseRuby(unit);
    } catch {
      return null;
    }
  },
};

interface Header {
  cls: string;
  /** Index of the exception's line (-1: found in the fields). */
  line: number;
  /** The exception's message as logged (its first line, or more for SMTPUnknownError). */
  message: string;
  /** Index of the line after the message, where frames start. */
  next: number;
}

function parseRuby(unit: AppUnit): AppErrorFields | null {
  const lines = unit.text.split('\n');
  const h = headerIn(lines) ?? headerFromFields(unit, lines);
  if (h === null) return null;

  let reply: Reply;
  let stage: Stage | null = null;
  let recipients: AppRecipientError[] | null = null;
  const unknown = /^could not get 3xx \(([2-5]\d\d): ?/.exec(h.message);
  if (unknown !== null) {
    // The whole reply to DATA follows the status, up to the closing parenthesis.
    reply = replyOf(stripClosing(h.message.slice(unknown[0].length)));
    if (reply.code === null) reply = { ...reply, code: Number(unknown[1]) };
    stage = 'data';
  } else if (startsWithReply(h.message)) {
    reply = replyOf(h.message);
  } else if (h.cls === 'Net::SMTPAuthenticationError' && h.message.startsWith('failed to deliver for ')) {
    reply = { code: null, enhanced: null, text: h.message };
    stage = 'rcpt';
    recipients = addressesIn(h.message).map((address) => ({ address, reply: null }));
  } else {
    return null;
  }

  stage ??= stageOf(h, lines, unit.fields, reply);
  let sender: string | null = null;
  if (recipients === null) {
    if (stage === 'rcpt') recipients = addressesIn(reply.text).map((address) => ({ address, reply }));
    else if (stage === 'mail' || stage === 'auth' || stage === 'helo' || stage === 'connect' || stage === 'starttls') recipients = [];
    else recipients = bracketedAddresses(reply.text).map((address) => ({ address, reply }));
  }
  if (stage === 'mail') sender = addressesIn(reply.text)[0] ?? null;

  return {
    library: 'Net::SMTP',
    exception: h.cls,
    reply,
    codeCandidates: null,
    stage,
    recipients,
    accepted: [],
    sender,
    messageId: bareMessageId(str(unit.fields, 'message_id', 'messageId', 'message-id', 'Message-ID')),
    relay: relayFromFields(unit.fields, ['smtp_host', 'smtp_address', 'mail_host', 'relay_host', 'relay'], ['smtp_port', 'mail_port']),
  };
}

/** Drops the `)`, `))` or `)):` that closes SMTPUnknownError's `could not get 3xx (...)`. */
function stripClosing(s: string): string {
  let t = s.trimEnd();
  if (t.endsWith(':')) t = t.slice(0, -1);
  for (let k = 0; k < 2 && t.endsWith(')'); k++) t = t.slice(0, -1).trimEnd();
  return t;
}

// ---------------------------------------------------------------- the exception line

/**
 * At most this many `Net::SMTP...` class names are looked at per unit: reading the message around
 * one may scan its line, so the cap keeps hostile units linear. A real unit names the class once or twice.
 */
const MAX_CANDIDATES = 16;

function headerIn(lines: string[]): Header | null {
  let tries = 0;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    let from = 0;
    for (;;) {
      const at = line.indexOf('Net::SMTP', from);
      if (at < 0) break;
      from = at + 9;
      let e = at + 9;
      const max = Math.min(line.length, at + 40);
      while (e < max && isWordChar(line.charCodeAt(e))) e++;
      const cls = line.slice(at, e);
      if (!CLASSES.has(cls)) continue;
      if (++tries > MAX_CANDIDATES) return null;
      const h = messageAt(lines, li, at, e, cls);
      if (h !== null) return h.message.startsWith('could not get 3xx (') ? withReplyLines(h, lines) : h;
    }
  }
  return null;
}

/** The message around the class name at `at..e` of line `li`, in whichever form it was printed. */
function messageAt(lines: string[], li: number, at: number, e: number, cls: string): Header | null {
  const line = lines[li]!;
  const rest = line.slice(e);
  // `path:1004:in 'check_response': 550 5.1.1 ... (Net::SMTPFatalError)`: Ruby's own report.
  if (rest.trim() === ')' && line.slice(at - 2, at) === ' (') {
    const inAt = line.lastIndexOf(':in ', at);
    const colon = inAt < 0 ? -1 : line.indexOf("': ", inAt);
    if (colon < 0 || colon > at) return null;
    return { cls, line: li, message: line.slice(colon + 3, at - 2).trim(), next: li + 1 };
  }
  // `Net::SMTPFatalError: 550 ...`, `#<Net::SMTPFatalError: 550 ...>`, Ruby 3.4's `#<...: "550 ...\n">`.
  if (rest.startsWith(': ')) {
    let m = rest.slice(2).trim();
    const inspect = line.slice(at - 2, at) === '#<';
    if (m.startsWith('"')) m = unquote(m);
    else if (inspect && m.endsWith('>')) m = m.slice(0, -1).trimEnd();
    return { cls, line: li, message: m, next: li + 1 + (inspect && lines[li + 1]?.trim() === '>' ? 1 : 0) };
  }
  // Rails: `Net::SMTPFatalError (550 ...` then `):` on the next line (the reply's own newline).
  if (rest.startsWith(' (')) {
    let m = rest.slice(2).trimEnd();
    let next = li + 1;
    if (m.endsWith('):')) m = m.slice(0, -2);
    else if (lines[next]?.trim() === '):') next++;
    return { cls, line: li, message: m.trim(), next };
  }
  return null;
}

/**
 * SMTPUnknownError's message holds the whole reply to DATA, a line each: the reply lines that follow
 * the exception line, and the `)` / `)):` closing it. At most 64 lines (a multi-line reply is a few).
 */
function withReplyLines(h: Header, lines: string[]): Header {
  let m = h.message;
  let next = h.next;
  while (next < lines.length && next - h.line <= 64 && startsWithReply(lines[next]!.trim())) m += '\n' + lines[next++]!.trim();
  if (lines[next]?.trim().startsWith(')')) next++;
  return { ...h, message: m, next };
}

/** A JSON entry whose class is only in a field: the message from a field or the text's reply line. */
function headerFromFields(unit: AppUnit, lines: string[]): Header | null {
  const cls = str(unit.fields, ...CLASS_FIELDS);
  if (cls === null || !CLASSES.has(cls)) return null;
  for (const n of MESSAGE_FIELDS) {
    const v = unit.fields?.[n];
    if (typeof v === 'string' && (startsWithReply(v.trim()) || v.startsWith('could not get 3xx') || v.startsWith('failed to deliver for'))) {
      return { cls, line: -1, message: v.trim(), next: 0 };
    }
  }
  for (const l of lines) {
    const t = l.trim();
    if (startsWithReply(t)) return { cls, line: -1, message: t, next: 0 };
  }
  return null;
}

/** Ruby's `"..."` inspect form: the first line of the unescaped string. */
function unquote(s: string): string {
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') break;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === 'n' || n === 'r') break;
    if (n !== undefined) out += n === 't' ? ' ' : n;
  }
  return out.trim();
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

// ---------------------------------------------------------------- frames and stage

function stageOf(h: Header, lines: string[], fields: AppUnit['fields'], reply: Reply): Stage {
  const methods = new Set<string>();
  const frameLines: string[] = ownFrames(lines, h.next);
  // The uncaught form carries the innermost frame on the exception's own line.
  if (h.line >= 0) frameLines.push(lines[h.line]!);
  for (const n of BACKTRACE_FIELDS) {
    const v = fields?.[n];
    if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') frameLines.push(x);
  }
  for (const l of frameLines) {
    const m = netSmtpMethod(l);
    if (m !== null) methods.add(m);
  }
  for (const [method, stage] of METHOD_STAGE) if (methods.has(method)) return stage;
  const lower = reply.text.toLowerCase();
  for (const [phrase, stage] of PHRASE_STAGE) if (lower.includes(phrase)) return stage;
  // RFC 4954: 534/535 answer AUTH only (530 also answers MAIL when authentication is required).
  if (reply.code === 535 || reply.code === 534) return 'auth';
  return 'unknown';
}

/**
 * The exception's own backtrace: the lines from `from` up to the next exception's header (a
 * `Class: message` or `Class (message` line after the frames, as when a unit holds a second error
 * pasted after the first), so a later error's frames cannot decide this one's stage.
 */
function ownFrames(lines: string[], from: number): string[] {
  let end = from;
  while (end < lines.length && !isExceptionHead(lines[end]!)) end++;
  return lines.slice(from, end);
}

/** `Net::SMTPFatalError: 550 ...`, `Foo::BarError (msg`, after optional `[tag] ` groups: a new exception. */
function isExceptionHead(line: string): boolean {
  let i = 0;
  // Rails' tags (`[request-id] `), a few at most.
  for (let n = 0; n < 4 && line.charCodeAt(i) === 91; n++) {
    const close = line.indexOf('] ', i);
    if (close < 0 || close - i > 80) break;
    i = close + 2;
  }
  while (line.charCodeAt(i) === 32) i++;
  const c0 = line.charCodeAt(i);
  if (!(c0 >= 65 && c0 <= 90)) return false;
  let e = i;
  while (e < line.length && (isWordChar(line.charCodeAt(e)) || line.charCodeAt(e) === 58)) e++;
  // The class token may end with the `:` of `Class: message`.
  const token = line.slice(i, line.charCodeAt(e - 1) === 58 && line.charCodeAt(e) === 32 ? e - 1 : e);
  const after = line.slice(i + token.length, i + token.length + 2);
  if (after !== ': ' && after !== ' (') return false;
  return token.includes('::') || token.endsWith('Error') || token.endsWith('Exception');
}

/**
 * The method of a frame in net/smtp (`net/smtp.rb`, `net/smtp/auth_plain.rb`), or null:
 * `.../net/smtp.rb:1004:in `check_response'`, `...:in 'Net::SMTP#rcptto'`, `... in 'block in rcptto_list'`,
 * `File ".../net/smtp.rb", line 1004, in check_response` (Rollbar).
 */
function netSmtpMethod(line: string): string | null {
  const net = line.indexOf('net/smtp');
  if (net < 0) return null;
  let name: string;
  const file = line.indexOf('File "');
  if (file >= 0) {
    const q = line.indexOf('"', file + 6);
    const i = q < 0 ? -1 : line.indexOf(', in ', q);
    if (i < 0) return null;
    name = line.slice(i + 5).trim();
  } else {
    const i = line.indexOf(':in ', net);
    if (i < 0) return null;
    name = line.slice(i + 4).trim();
    const open = name.charAt(0);
    if (open === '`' || open === "'") {
      const close = name.indexOf("'", 1);
      name = name.slice(1, close < 0 ? undefined : close);
    }
  }
  // `block in rcptto_list`, `block (2 levels) in data`, `rescue in ...`: the method after the last ` in `.
  const inAt = name.lastIndexOf(' in ');
  if (inAt >= 0) name = name.slice(inAt + 4);
  const sep = Math.max(name.lastIndexOf('#'), name.lastIndexOf('.'));
  return sep >= 0 ? name.slice(sep + 1) : name;
}


