/**
 * PHP mail libraries' SMTP errors (FORMATS.md 4, PHP):
 *
 * - PHPMailer: the SMTP debug output (`CLIENT -> SERVER: RCPT TO:<x>`, `SERVER -> CLIENT: 550 ...`,
 *   `SMTP ERROR: RCPT TO command failed: 550 ...`) and its error messages (`SMTP Error: The following
 *   recipients failed: x: detail`, `The following From address failed: ...`, `SMTP server error: DATA END
 *   command failed Detail: ... SMTP code: 550 Additional SMTP info: 5.7.1`, `SMTP Error: Could not
 *   authenticate.`), as PHPMailer 6 (src/SMTP.php sendCommand, src/PHPMailer.php smtpSend/setError) writes them.
 * - SwiftMailer and Symfony Mailer: `Expected response code 250 but got code "550", with message "..."`
 *   (Swift_Transport_AbstractSmtpTransport::assertResponseCode keeps the reply's CRLF, so Swift's closing
 *   quote lands on the next line; Symfony's SmtpTransport::assertResponseCode trims it and quotes the
 *   expected codes: `"250/251/252"`), plain, as PHP fatal errors, in Laravel lines and in Monolog JSON.
 * - laminas-mail (and Zend Framework's zend-mail / Zend_Mail): `Protocol\Exception\RuntimeException`
 *   whose message is the reply without its code (AbstractProtocol::_expect).
 */
import type { Reply, Stage } from '../../src/model/records.js';
import { addressesIn, bareMessageId, replyCode, replyOf, stageOf, str } from './reply.js';
import type { AppErrorFields, AppUnit, EcosystemParser } from './types.js';

type Library = 'PHPMailer' | 'SwiftMailer' | 'Symfony Mailer' | 'Laminas';

/**
 * Lines an exception message may span (a multi-line SMTP reply kept inside the message) before we stop
 * looking for its end: RFC 5321 sets no limit, but real replies (Gmail's 550-5.1.1 is 4 lines, Microsoft's
 * up to 3) stay well under 16.
 */
const MAX_MESSAGE_LINES = 16;

/**
 * Lines of PHPMailer's failed-recipients list read (one per refused recipient, more for multi-line
 * replies): a bulk send to a stale list may refuse hundreds; 4096 keeps a hostile unit's work bounded.
 */
const MAX_RECIPIENT_LINES = 4096;

// ---------------------------------------------------------------- the parser

/** PHPMailer, SwiftMailer, Symfony Mailer and laminas-mail (`ecosystem: 'php'`). */
export const phpParser: EcosystemParser = {
  ecosystem: 'php',
  claims(unit: AppUnit): boolean {
    const t = unit.text;
    if (CLAIM_MARKERS.some((m) => t.includes(m))) return true;
    const cls = str(unit.fields, 'class');
    return cls !== null && CLASS_MARKERS.some((m) => cls.includes(m));
  },
  parse(unit: AppUnit): AppErrorFields | null {
    try {
      return parsePhp(unit);
    } catch {
      // A parser never throws on data (STYLE.md habit 1); a bug here must not stop a run.
      return null;
    }
  },
};

/** Substrings that only these libraries print (cheap claim test). */
const CLAIM_MARKERS = [
  'Expected response code ',
  'Failed to authenticate on SMTP server',
  'SMTP ERROR: ',
  'SMTP Error: ',
  'SERVER -> CLIENT: ',
  'recipients failed: ',
  'From address failed: ',
  'SMTP server error: ',
  'PHPMailer',
  'phpmailerException',
  'Mail\\Protocol\\',
  'Mail\\\\Protocol\\\\',
  'Zend_Mail_Protocol',
];

const CLASS_MARKERS = ['Mailer', 'Swift_', 'Mail\\Protocol', 'Zend_Mail'];

function parsePhp(unit: AppUnit): AppErrorFields | null {
  const fields = unit.fields;
  let text = unit.text;
  // A JSON entry whose decoder put only part of the error in the text: the exception's own message.
  const fieldMessage = str(fields, 'message');
  if (fieldMessage !== null && !text.includes(fieldMessage.slice(0, 60))) text = text === '' ? fieldMessage : `${text}\n${fieldMessage}`;
  text = unescape(text);
  const fieldClass = str(fields, 'class');
  const cls = fieldClass === null ? null : unescape(fieldClass);
  const messageId = bareMessageId(str(fields, 'messageId', 'message_id', 'messageID', 'Message-ID'));

  const out =
    parseTransportException(text, cls) ?? parseLaminas(text, cls) ?? parsePhpMailer(text, cls);
  if (out === null) return null;
  if (out.messageId === null && messageId !== null) out.messageId = messageId;
  return out;
}

// ---------------------------------------------------------------- shared text helpers

/**
 * JSON left escaped in the text (a Monolog entry double-encoded in another entry's `message`, Laravel's
 * context JSON): `\"` -> `"`, `\/` -> `/`, runs of backslashes -> one (class names `Symfony\\Component`).
 * Literal `\r\n` escapes stay for replyOf to read.
 */
function unescape(t: string): string {
  if (!t.includes('\\')) return t;
  // A linear scan: a regex over runs of backslashes backtracks polynomially on long runs.
  let out = '';
  let from = 0;
  for (let i = t.indexOf('\\'); i >= 0; i = t.indexOf('\\', from)) {
    let j = i;
    while (j < t.length && t.charCodeAt(j) === 92) j++;
    const next = t.charCodeAt(j);
    out += t.slice(from, i) + (next === 34 || next === 47 ? '' : '\\');
    from = j;
  }
  return out + t.slice(from);
}

/** The text's lines without their CR. */
function linesOf(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

const FRAME_LINE = /^#\d+ /;
const REPLY_LINE = /^[2-5]\d\d[ -]/;
const REPLY_CONTINUES = /^[2-5]\d\d-/;

/** A line that ends an exception message: the `in file:line` line, the stack trace, a new entry. */
function isTrailerLine(line: string): boolean {
  const t = line.trim();
  return (
    t === '' ||
    FRAME_LINE.test(t) ||
    t.startsWith('in /') ||
    t.startsWith('at /') ||
    t.startsWith('Stack trace:') ||
    t.startsWith('[stacktrace]') ||
    t.startsWith('thrown in') ||
    t.startsWith('Next ') ||
    t.startsWith('PHP ') ||
    t.startsWith('"') ||
    t.startsWith('{"')
  );
}

/**
 * Where a message ends inside one line: before PHP's ` in /path/file.php:457`, Laravel's
 * ` at /path/file.php:457)`, Symfony's `" at /path/file.php line 342` or a Laravel context ` {"exception":`.
 * -1 when the line has none of them.
 */
function trailerCut(line: string): number {
  let cut = -1;
  const consider = (k: number): void => {
    if (k >= 0 && (cut < 0 || k < cut)) cut = k;
  };
  for (const marker of [' in /', ' at /']) {
    const k = line.indexOf(marker);
    if (k >= 0 && line.indexOf('.php', k) > 0) consider(line.charCodeAt(k - 1) === 34 ? k - 1 : k);
  }
  consider(line.indexOf(' {"exception"'));
  return cut;
}

/** An exception message from `start` up to its `in file:line`, stack trace or next entry. */
function messageFrom(text: string, start: number, maxLines = MAX_MESSAGE_LINES): string {
  const out: string[] = [];
  let i = start;
  for (let n = 0; n < maxLines && i <= text.length; n++) {
    let e = text.indexOf('\n', i);
    if (e < 0) e = text.length;
    let line = text.slice(i, e);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (n > 0 && (isTrailerLine(line) || isLogLine(line))) break;
    const cut = trailerCut(line);
    if (cut >= 0) {
      out.push(line.slice(0, cut));
      break;
    }
    out.push(line);
    i = e + 1;
  }
  return out.join('\n').trim();
}

/** A new log entry: an ISO date (PHPMailer's echo debug output) or a bracketed one (error_log, Laravel). */
const LOG_LINE_HEAD = /^\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d|^\[\d\d-[A-Z][a-z]{2}-\d{4} /;
function isLogLine(line: string): boolean {
  return LOG_LINE_HEAD.test(line);
}

interface Frame {
  method: string;
  args: string;
}

/**
 * PHP stack frames (`#0 /path/file.php(457): Class->method('arg...', Array)`), nearest first. PHP 8
 * escapes control characters in string arguments (`'\r\n.\r\n'`) and cuts them at 15 characters;
 * `zend.exception_ignore_args` (on in production php.ini) drops them.
 */
function framesOf(lines: readonly string[]): Frame[] {
  const frames: Frame[] = [];
  for (const line of lines) {
    const t = line.trimStart();
    if (!FRAME_LINE.test(t)) continue;
    let k = t.indexOf('): ');
    if (k < 0) k = t.indexOf(']: ');
    const call = k < 0 ? t.slice(t.indexOf(' ') + 1) : t.slice(k + 3);
    const paren = call.indexOf('(');
    if (paren < 0) continue;
    const head = call.slice(0, paren);
    const arrow = Math.max(head.lastIndexOf('->'), head.lastIndexOf('::'));
    const method = arrow < 0 ? head : head.slice(arrow + 2);
    const close = call.lastIndexOf(')');
    frames.push({ method, args: close > paren ? call.slice(paren + 1, close) : call.slice(paren + 1) });
  }
  return frames;
}

/** The identifier (class name with namespace separators) at `pos`. */
function identAt(text: string, pos: number): string {
  let e = pos;
  while (e < text.length) {
    const c = text.charCodeAt(e);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 92;
    if (!ok) break;
    e++;
  }
  return text.slice(pos, e);
}

/** The first class name starting with `prefix` and ending in `Exception`, with where it ends. */
function findClass(text: string, prefix: string): { name: string; end: number } | null {
  let from = 0;
  for (;;) {
    const k = text.indexOf(prefix, from);
    if (k < 0) return null;
    const name = identAt(text, k);
    if (name.endsWith('Exception')) return { name, end: k + name.length };
    from = k + Math.max(name.length, 1);
  }
}

/** Words servers put in refusals that name the command refused (Postfix's smtpd_*_restrictions). */
function stageFromText(text: string): Stage | null {
  if (text.includes('Recipient address rejected')) return 'rcpt';
  if (text.includes('Sender address rejected')) return 'mail';
  return null;
}

function result(library: Library, exception: string | null, reply: Reply, stage: Stage): AppErrorFields {
  return {
    library,
    exception,
    reply,
    codeCandidates: null,
    stage,
    recipients: [],
    accepted: [],
    sender: null,
    messageId: null,
    relay: null,
  };
}

/** Recipients (rcpt) or the sender (mail) named in a refusal's reply. */
function addressesFromReply(out: AppErrorFields): void {
  const addrs = addressesIn(out.reply.text);
  if (out.stage === 'rcpt') out.recipients = addrs.map((address) => ({ address, reply: out.reply }));
  else if (out.stage === 'mail' && addrs[0] !== undefined) out.sender = addrs[0];
}

/** A 2xx or 3xx reply is not a refusal: only 4xx and 5xx (and replies without a code) are kept. */
function isRefusal(reply: Reply): boolean {
  return reply.code === null || reply.code >= 400;
}

// ---------------------------------------------------------------- SwiftMailer and Symfony Mailer

/** `Expected response code 250 but got code "550", with message "` (Swift) or `"250/251/252"` (Symfony). */
const EXPECTED_AT = /Expected response code ("?)(\d{3}(?:\/\d{3})*)"? but got code "(\d{1,3})", with message "/y;

interface ExpectedHead {
  quoted: boolean;
  expected: number[];
  got: number | null;
  /** Where the reply starts. */
  start: number;
}

function findExpected(text: string): ExpectedHead | null {
  const marker = 'Expected response code ';
  for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) {
    EXPECTED_AT.lastIndex = i;
    const m = EXPECTED_AT.exec(text);
    if (m === null) continue;
    return {
      quoted: m[1] === '"',
      expected: m[2]!.split('/').map(Number),
      got: replyCode(m[3]),
      start: i + m[0].length,
    };
  }
  return null;
}

/** True when every line of a reply after the first is itself a reply line (`550-...`, `550 ...`). */
function looksLikeReply(segment: string): boolean {
  const lines = segment
    .replace(/\\r\\n|\\n|\\r/g, '\n')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.slice(1).every((l) => REPLY_LINE.test(l));
}

/**
 * Where the quoted reply that starts at `start` ends. Symfony: at `".` (it trims the reply, then adds
 * `".`). Swift: at a line break followed by `"` (the reply's own CRLF), or the literal `\n"` of an escaped
 * one. Else the last quote of the first line, else its end.
 */
function replyEnd(text: string, start: number, symfony: boolean): number {
  const candidates: number[] = [];
  if (symfony) candidates.push(text.indexOf('".', start));
  else {
    let best = -1;
    for (let j = text.indexOf('\n', start); j >= 0; j = text.indexOf('\n', j + 1)) {
      if (text.charCodeAt(j + 1) === 34) {
        best = j;
        break;
      }
    }
    const lit = text.indexOf('\\n"', start);
    if (lit >= 0 && (best < 0 || lit < best)) best = lit;
    candidates.push(best);
  }
  for (const c of candidates) if (c >= start && looksLikeReply(text.slice(start, c))) return c;
  let eol = text.indexOf('\n', start);
  if (eol < 0) eol = text.length;
  const q = text.lastIndexOf('"', eol - 1);
  return q >= start ? q : eol;
}

/**
 * The stage from the codes the library expected: 251/252 only answer RCPT, 354 only DATA, 235/334 only
 * AUTH. 250 (MAIL FROM, end of DATA, EHLO, RSET) and 220 (greeting, STARTTLS) need the stack frames.
 */
function stageFromExpected(codes: readonly number[]): Stage | null {
  if (codes.includes(251) || codes.includes(252)) return 'rcpt';
  if (codes.includes(354)) return 'data';
  if (codes.includes(235) || codes.includes(334)) return 'auth';
  if (codes.includes(221)) return 'unknown';
  return null;
}

/** The SMTP command a string argument of executeCommand() starts with. */
function stageFromCommandArg(args: string, expected: readonly number[]): Stage | null {
  const a = args.replace(/^'/, '');
  const u = a.toUpperCase();
  if (u.startsWith('MAIL FROM')) return 'mail';
  if (u.startsWith('RCPT TO')) return 'rcpt';
  // Swift pipelines MAIL FROM and RCPT TO and reads their replies when it sends DATA: a 250 expected
  // while sending DATA is the pipelined MAIL FROM's (its refused RCPTs are collected, not thrown).
  if (u.startsWith('DATA')) return expected.includes(354) ? 'data' : 'mail';
  if (a.startsWith('\\r\\n.') || a.startsWith('.\\r\\n') || a.startsWith('\r\n.') || a === '.') return 'end_of_data';
  if (u.startsWith('EHLO') || u.startsWith('HELO')) return 'helo';
  if (u.startsWith('STARTTLS')) return 'starttls';
  if (u.startsWith('AUTH')) return 'auth';
  if (u.startsWith('QUIT') || u.startsWith('RSET') || u.startsWith('NOOP')) return 'unknown';
  return null;
}

/**
 * The stage from the nearest frame that names it: SwiftMailer's and Symfony's doMailFromCommand,
 * doRcptToCommand, doDataCommand, streamMessage, doSend (DATA and the final dot), doHeloCommand...
 */
function stageFromTransportFrames(frames: readonly Frame[], expected: readonly number[]): Stage | null {
  for (const f of frames) {
    switch (f.method) {
      case 'executeCommand': {
        const s = stageFromCommandArg(f.args, expected);
        if (s !== null) return s;
        break;
      }
      case 'doRcptToCommand':
        return 'rcpt';
      case 'doMailFromCommand':
        return 'mail';
      case 'doDataCommand':
        return expected.includes(354) ? 'data' : 'mail';
      case 'streamMessage':
        return 'end_of_data';
      case 'doSend':
        if (expected.includes(354)) return 'data';
        if (expected.includes(250)) return 'end_of_data';
        return null;
      case 'doHeloCommand':
      case 'doEhloCommand':
        return expected.includes(220) ? 'starttls' : 'helo';
      case 'authenticate':
      case 'handleAuth':
      case 'afterEhlo':
        return 'auth';
      case 'readGreeting':
        return 'connect';
      case 'start':
      case 'initialize':
        if (expected.includes(220)) return 'connect';
        break;
      case 'ping':
      case 'stop':
      case 'reset':
        return 'unknown';
      default:
        break;
    }
  }
  return null;
}

function transportClass(text: string, cls: string | null, symfony: boolean): string | null {
  if (cls !== null && (cls.includes('Mailer') || cls.startsWith('Swift_'))) return cls;
  const found = symfony ? findClass(text, 'Symfony\\Component\\Mailer\\Exception\\') : findClass(text, 'Swift_');
  // The mailer's exception wrapped by another one and logged as that (Messenger's
  // HandlerFailedException): the class the entry logged.
  return found?.name ?? cls;
}

function parseTransportException(text: string, cls: string | null): AppErrorFields | null {
  const auth = text.includes('Failed to authenticate on SMTP server');
  const head = findExpected(text);
  if (head === null && !auth) return null;
  const symfonyHint =
    text.includes('Symfony\\Component\\Mailer') || (cls !== null && cls.includes('Symfony')) || text.includes('using the following authenticators');
  const swiftHint = text.includes('Swift_') || (cls !== null && cls.startsWith('Swift_')) || text.includes('possible authenticators');
  const symfony = symfonyHint || (!swiftHint && head !== null && head.quoted);
  const library: Library = symfony ? 'Symfony Mailer' : 'SwiftMailer';
  const exception = transportClass(text, cls, symfony);

  if (head === null) {
    // Authentication failed without a reply in the message (SwiftMailer 5: `... using 2 possible
    // authenticators`): the library's message stands in for the reply.
    const k = text.indexOf('Failed to authenticate on SMTP server');
    return result(library, exception, { code: null, enhanced: null, text: messageFrom(text, k) }, 'auth');
  }

  const end = replyEnd(text, head.start, symfony);
  let reply = replyOf(text.slice(head.start, end));
  if (reply.code === null && head.got !== null) reply = { ...reply, code: head.got };
  if (!isRefusal(reply)) return null;

  const frames = framesOf(linesOf(text));
  let stage: Stage | null = auth ? 'auth' : stageFromExpected(head.expected);
  stage ??= stageFromTransportFrames(frames, head.expected);
  stage ??= stageFromText(reply.text);
  stage ??= head.expected.includes(220) ? 'connect' : 'unknown';

  const out = result(library, exception, reply, stage);
  addressesFromReply(out);
  return out;
}

// ---------------------------------------------------------------- laminas-mail / zend-mail

const LAMINAS_PREFIXES = ['Laminas\\Mail\\Protocol\\', 'Zend\\Mail\\Protocol\\', 'Zend_Mail_Protocol_'];

/** `_expect(354, 120)`: laminas-mail's expected code and timeout, which tell DATA from its final dot. */
const EXPECT_ARGS = /^(\d{3}|Array), (\d+)/;

/** laminas-mail's Smtp protocol methods (Smtp::rcpt, mail, data, ehlo, helo; Auth\Login::auth...). */
function stageFromLaminasFrames(frames: readonly Frame[]): Stage | null {
  for (const f of frames) {
    switch (f.method) {
      case '_expect': {
        const m = EXPECT_ARGS.exec(f.args);
        if (m === null) break;
        // Smtp::data(): `_expect(354, 120)` after DATA, `_expect(250, 600)` after the final dot;
        // Smtp::helo(): `_expect(220, 300)` for the greeting, `_expect(220, 180)` after STARTTLS.
        if (m[1] === '354') return 'data';
        if (m[1] === '250' && m[2] === '600') return 'end_of_data';
        if (m[1] === '220') return m[2] === '180' ? 'starttls' : 'connect';
        break;
      }
      case 'rcpt':
        return 'rcpt';
      case 'mail':
        return 'mail';
      case 'ehlo':
        return 'helo';
      case 'auth':
        return 'auth';
      case 'data':
      case 'helo':
      case 'rset':
      case 'quit':
      case 'noop':
        return 'unknown';
      default:
        break;
    }
  }
  return null;
}

function parseLaminas(text: string, cls: string | null): AppErrorFields | null {
  let exception: string | null = null;
  let message: string | null = null;
  for (const prefix of LAMINAS_PREFIXES) {
    const found = findClass(text, prefix);
    if (found === null) continue;
    exception = found.name;
    let pos = found.end;
    if (text.startsWith('(code: ', pos)) {
      const close = text.indexOf(')', pos);
      pos = close < 0 ? pos : close + 1;
    }
    if (text.startsWith(': "', pos)) pos += 3;
    else if (text.startsWith(': ', pos)) pos += 2;
    else continue;
    message = messageFrom(text, pos);
    break;
  }
  if (cls !== null && LAMINAS_PREFIXES.some((p) => cls.startsWith(p))) {
    exception ??= cls;
    if (message === null) {
      const lines = linesOf(text).filter((l) => l.trim() !== '');
      message = lines[lines.length > 1 ? 1 : 0] ?? null;
    }
  }
  if (exception === null || message === null || message === '') return null;
  if (message.endsWith('"')) message = message.slice(0, -1);

  const frames = framesOf(linesOf(text));
  const reply = replyOf(message);
  // The protocol exception also carries connection errors (`Could not read from host`): a reply has its
  // enhanced status, or was thrown by _expect().
  const fromExpect = frames.some((f) => f.method === '_expect');
  if (reply.enhanced === null && !fromExpect) return null;
  if (!isRefusal(reply) || (reply.enhanced !== null && reply.enhanced.startsWith('2.'))) return null;

  let stage = stageFromLaminasFrames(frames);
  stage ??= stageFromText(reply.text) ?? 'unknown';
  const out = result('Laminas', exception, reply, stage);
  addressesFromReply(out);
  return out;
}

// ---------------------------------------------------------------- PHPMailer

interface Refusal {
  stage: Stage;
  /** The address of `RCPT TO:<x>` when the debug output shows the command. */
  address: string | null;
  reply: Reply;
}

interface FailedRecipient {
  address: string;
  detail: string;
}

/** `Connection: opening to smtp.example.com:587, timeout=300, errno=0, errstr=` (SMTPDebug 3). */
function relayFrom(line: string): { name: string | null; ip: string | null; port: number | null } | null {
  const k = line.indexOf('Connection: opening to ');
  if (k < 0) return null;
  let target = line.slice(k + 'Connection: opening to '.length);
  const comma = target.indexOf(',');
  if (comma >= 0) target = target.slice(0, comma);
  target = target.trim();
  const scheme = target.indexOf('://');
  if (scheme >= 0) target = target.slice(scheme + 3);
  let port: number | null = null;
  const colon = target.lastIndexOf(':');
  if (colon > 0 && /^\d{1,5}$/.test(target.slice(colon + 1)) && (target.startsWith('[') || target.indexOf(':') === colon)) {
    port = Number(target.slice(colon + 1));
    target = target.slice(0, colon);
  }
  target = target.replace(/^\[|\]$/g, '');
  if (target === '') return null;
  const isIp = /^\d{1,3}(?:\.\d{1,3}){3}$/.test(target) || target.includes(':');
  return { name: isIp ? null : target, ip: isIp ? target : null, port };
}

/** PHPMailer's command names (SMTP::sendCommand's first argument) and the lines it sends. */
function stageOfPhpMailerCommand(cmd: string): Stage {
  const c = cmd.trim().toUpperCase();
  const word = c.split(' ')[0]!;
  if (c === 'DATA END' || c === '.') return 'end_of_data';
  if (word === 'EHLO' || word === 'HELO') return 'helo';
  if (word === 'STARTTLS') return 'starttls';
  if (c === 'USERNAME' || c === 'PASSWORD' || c === 'USER & PASSWORD' || c === '[CREDENTIALS HIDDEN]') return 'auth';
  if (c === 'QUIT' || c === 'RSET' || c === 'NOOP' || c === 'VRFY' || c === 'TURN') return 'unknown';
  return stageOf(c);
}

/** The address in `RCPT TO:<x>` / `MAIL FROM:<x>`. */
function pathOf(cmd: string): string | null {
  const lt = cmd.indexOf('<');
  const gt = cmd.indexOf('>', lt + 1);
  if (lt < 0 || gt < 0) return null;
  const a = cmd.slice(lt + 1, gt).trim();
  return a === '' ? null : a;
}

/** A reply that starts on `lines[i]` after `first`, with its `550-` continuation lines. */
function gatherReply(lines: readonly string[], i: number, first: string): { text: string; next: number } {
  const parts = [first.trim()];
  let j = i + 1;
  while (j < lines.length && REPLY_CONTINUES.test(parts[parts.length - 1]!) && parts.length < MAX_MESSAGE_LINES) {
    const t = stripEcho(lines[j]!);
    if (!REPLY_LINE.test(t)) break;
    parts.push(t);
    j++;
  }
  return { text: parts.join('\n'), next: j };
}

/** A debug output line without PHPMailer's echo prefix (`2023-09-18 06:41:03<TAB>`) and indentation. */
const ECHO_PREFIX = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s/;
function stripEcho(line: string): string {
  return line.replace(ECHO_PREFIX, '').trim();
}

/** Lines of PHPMailer's own that follow its failed-recipients message in debug output and echoes. */
const PHPMAILER_LINES = ['SMTP Error', 'SMTP ERROR', 'Mailer Error', 'CLIENT -> SERVER', 'SERVER -> CLIENT', 'Connection: ', 'Message could not be sent', 'Message has been sent'];

/** `x@example.org: detail` at the start of a line of PHPMailer's failed-recipients list. */
function recipientHead(line: string): FailedRecipient | null {
  const t = line.trim();
  let k = t.indexOf(': ');
  if (k < 0 && t.endsWith(':')) k = t.length - 1;
  if (k <= 0) return null;
  const token = t.slice(0, k);
  if (token.includes(' ') || addressesIn(token)[0] !== token) return null;
  return { address: token, detail: t.slice(k + 1).trim() };
}

/**
 * `SMTP Error: The following recipients failed: a@example.org: <reply without its code>` then, the
 * reply's own CRLF ending each, the next recipients (`b@example.org: ...`) or the further lines of a
 * multi-line reply. PHPMailer 5.2 before 5.2.10 listed bare addresses separated by commas.
 */
function failedRecipients(text: string, start: number): FailedRecipient[] {
  const message = messageFrom(text, start, MAX_RECIPIENT_LINES);
  const out: FailedRecipient[] = [];
  for (const raw of message.split('\n')) {
    const line = stripEcho(raw);
    if (line === '') continue;
    if (PHPMAILER_LINES.some((m) => line.includes(m))) break;
    const head = recipientHead(line);
    if (head !== null) out.push(head);
    else if (out.length > 0) {
      const last = out[out.length - 1]!;
      last.detail = last.detail === '' ? line : `${last.detail}\n${line}`;
    } else {
      for (const address of addressesIn(line)) out.push({ address, detail: '' });
    }
  }
  return out;
}

/**
 * `SMTP server error: DATA END command failed Detail: Message rejected SMTP code: 550 Additional SMTP
 * info: 5.7.1` (PHPMailer::setError): the reply rebuilt from its parts, the code and enhanced status put
 * back in front of the detail the way the server sent them.
 */
function serverError(text: string): { stage: Stage; reply: Reply } | null {
  const marker = 'SMTP server error: ';
  const k = text.indexOf(marker);
  if (k < 0) return null;
  const rest = text.slice(k + marker.length, k + marker.length + 4096);
  const cmdEnd = rest.indexOf(' command failed');
  if (cmdEnd < 0 || cmdEnd > 40) return null;
  const stage = stageOfPhpMailerCommand(rest.slice(0, cmdEnd));
  const d = rest.indexOf('Detail: ', cmdEnd);
  const c = rest.indexOf('SMTP code: ', cmdEnd);
  let detail = '';
  if (d >= 0) {
    let dEnd = c > d ? c : rest.indexOf('Additional SMTP info: ', d);
    if (dEnd < 0) dEnd = messageFrom(rest, d).length + d;
    detail = rest.slice(d + 'Detail: '.length, dEnd);
  }
  const code = c >= 0 ? replyCode(rest.slice(c + 'SMTP code: '.length, c + 'SMTP code: '.length + 3)) : null;
  const e = rest.indexOf('Additional SMTP info: ', cmdEnd);
  const enhancedMatch = e >= 0 ? /^[245]\.\d{1,3}\.\d{1,3}/.exec(rest.slice(e + 'Additional SMTP info: '.length)) : null;
  const enhanced = enhancedMatch === null ? null : enhancedMatch[0];
  const lines = detail
    .split('\n')
    .map((l) => stripEcho(l))
    .filter((l) => l !== '');
  const parts = [code === null ? null : String(code), enhanced, lines.join(' ')].filter((p): p is string => p !== null && p !== '');
  if (parts.length === 0) return null;
  const reply = replyOf(parts.join(' '));
  return { stage, reply: code === null ? reply : { ...reply, code } };
}

/** Entities of PHPMailer's `html` debug output (htmlentities), and its `<br>`. */
function decodeHtml(t: string): string {
  if (!t.includes('&') && !t.includes('<br')) return t;
  return t
    .replace(/<br ?\/?>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The message of a PHPMailer error with no reply in it (`SMTP Error: Could not authenticate.`). */
function lineText(text: string, marker: string): string {
  const k = text.indexOf(marker);
  return k < 0 ? marker : messageFrom(text, k).split('\n')[0]!.trim();
}

function phpMailerClass(text: string, cls: string | null): string | null {
  if (cls !== null && (cls.includes('PHPMailer') || cls === 'phpmailerException')) return cls;
  if (text.includes('PHPMailer\\PHPMailer\\Exception')) return 'PHPMailer\\PHPMailer\\Exception';
  if (text.includes('phpmailerException')) return 'phpmailerException';
  return null;
}

function parsePhpMailer(rawText: string, cls: string | null): AppErrorFields | null {
  // A debug entry that is only the server's reply: PHPMailer always logs the failure again as
  // `SMTP ERROR: <CMD> command failed: <reply>` (level 1, below the replies' level 2), which names the
  // command; the reply entry alone would count the same refusal twice (SMTPDebug output through
  // error_log writes each debug line as its own entry).
  if (cls === null && rawText.startsWith('SERVER -> CLIENT: ') && !rawText.includes('SMTP ERROR') && !rawText.includes('SMTP Error') && !rawText.includes('CLIENT -> SERVER')) return null;
  const text = decodeHtml(rawText);
  const lines = linesOf(text);
  const refusals: Refusal[] = [];
  const accepted: string[] = [];
  const acceptedSeen = new Set<string>();
  let sender: string | null = null;
  let messageId: string | null = null;
  let relay: AppErrorFields['relay'] = null;
  let lastCmd: string | null = null;
  let curStage: Stage = 'unknown';

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let k = line.indexOf('CLIENT -> SERVER: ');
    if (k >= 0) {
      const cmd = line.slice(k + 'CLIENT -> SERVER: '.length).trim();
      if (curStage === 'data' && cmd !== '.') {
        // The message's own lines, up to the final dot.
        if (cmd.toLowerCase().startsWith('message-id:')) messageId ??= bareMessageId(cmd.slice(11));
        continue;
      }
      const s = stageOfPhpMailerCommand(cmd);
      // AUTH LOGIN's base64 lines keep the stage of the AUTH command before them.
      if (s !== 'unknown' || curStage !== 'auth' || /^(?:QUIT|RSET|NOOP)/i.test(cmd)) curStage = s;
      lastCmd = cmd;
      if (s === 'mail') sender ??= pathOf(cmd);
      continue;
    }
    k = line.indexOf('SERVER -> CLIENT: ');
    if (k >= 0) {
      const g = gatherReply(lines, i, line.slice(k + 'SERVER -> CLIENT: '.length));
      i = g.next - 1;
      const reply = replyOf(g.text);
      if (reply.code === null) continue;
      const address = curStage === 'rcpt' && lastCmd !== null ? pathOf(lastCmd) : null;
      if (reply.code >= 400) refusals.push({ stage: curStage, address, reply });
      else if (reply.code < 300 && address !== null && !acceptedSeen.has(address)) {
        acceptedSeen.add(address);
        accepted.push(address);
      }
      continue;
    }
    k = line.indexOf('SMTP ERROR: ');
    if (k >= 0) {
      const rest = line.slice(k + 'SMTP ERROR: '.length);
      const f = rest.indexOf(' command failed: ');
      if (f < 0 || f > 40) continue;
      const g = gatherReply(lines, i, rest.slice(f + ' command failed: '.length));
      i = g.next - 1;
      const reply = replyOf(g.text);
      if (reply.code === null) continue;
      const stage = stageOfPhpMailerCommand(rest.slice(0, f));
      const last = refusals[refusals.length - 1];
      // SMTPDebug 2 logs the reply twice: SERVER -> CLIENT, then SMTP ERROR naming the command.
      if (last !== undefined && last.reply.text === reply.text) last.stage = stage;
      else if (reply.code >= 400) {
        const address = stage === 'rcpt' ? (lastCmd !== null ? pathOf(lastCmd) : null) : null;
        refusals.push({ stage, address, reply });
      }
      continue;
    }
    relay ??= relayFrom(line);
  }

  const fromFailed = text.indexOf('The following From address failed: ');
  if (fromFailed >= 0) {
    const a = addressesIn(text.slice(fromFailed + 35, fromFailed + 35 + 512).split(' ')[0] ?? '');
    sender ??= a[0] ?? null;
  }

  const recipientsMarker = 'The following recipients failed: ';
  const rk = text.indexOf(recipientsMarker);
  const failed = rk >= 0 ? failedRecipients(text, rk + recipientsMarker.length) : [];
  const server = serverError(text);
  const exception = phpMailerClass(text, cls);

  // A refusal whose command the output does not show (a lone SERVER -> CLIENT line): its own words.
  for (const r of refusals) if (r.stage === 'unknown') r.stage = stageFromText(r.reply.text) ?? 'unknown';
  let out: AppErrorFields | null = null;
  const rcptRefusals = refusals.filter((r) => r.stage === 'rcpt');
  if (failed.length > 0) {
    // Debug lines' refusals by address (from RCPT TO:<x> or the reply), else in order: PHPMailer lists
    // the failed recipients in the order it sent them.
    const byAddress = new Map<string, Refusal[]>();
    const anonymous: Refusal[] = [];
    for (const x of rcptRefusals) {
      const a = x.address ?? addressesIn(x.reply.text)[0] ?? null;
      if (a === null) anonymous.push(x);
      else {
        const list = byAddress.get(a.toLowerCase());
        if (list === undefined) byAddress.set(a.toLowerCase(), [x]);
        else list.push(x);
      }
    }
    let nextAnonymous = 0;
    const recipients = failed.map((r) => {
      const match = byAddress.get(r.address.toLowerCase())?.shift() ?? anonymous[nextAnonymous++];
      const reply = match !== undefined ? match.reply : r.detail !== '' ? replyOf(r.detail) : null;
      return { address: r.address, reply };
    });
    const reply = recipients[0]!.reply ?? { code: null, enhanced: null, text: lineText(text, 'SMTP Error: The following recipients failed: ') };
    out = result('PHPMailer', exception, reply, 'rcpt');
    out.recipients = recipients;
  } else {
    // The refusal that ended the transaction: the sender's, the message's or the session's before
    // any recipient's.
    const fatal = refusals.find((r) => r.stage !== 'rcpt' && r.stage !== 'unknown');
    if (server !== null && (fatal === undefined || fatal.stage !== server.stage)) {
      out = result('PHPMailer', exception, server.reply, server.stage);
    } else if (fatal !== undefined) {
      out = result('PHPMailer', exception, fatal.reply, fatal.stage);
    } else if (rcptRefusals.length > 0) {
      out = result('PHPMailer', exception, rcptRefusals[0]!.reply, 'rcpt');
    } else if (refusals.length > 0) {
      out = result('PHPMailer', exception, refusals[0]!.reply, refusals[0]!.stage);
    } else if (text.includes('SMTP Error: Could not authenticate.')) {
      out = result('PHPMailer', exception, { code: null, enhanced: null, text: 'SMTP Error: Could not authenticate.' }, 'auth');
    } else if (text.includes('SMTP Error: data not accepted.')) {
      // DATA or the final dot: PHPMailer's message does not say which.
      out = result('PHPMailer', exception, { code: null, enhanced: null, text: 'SMTP Error: data not accepted.' }, 'data');
    } else return null;
    if (out.stage === 'rcpt' || rcptRefusals.length > 0) {
      out.recipients = rcptRefusals.flatMap((r) => {
        const address = r.address ?? addressesIn(r.reply.text)[0];
        return address === undefined ? [] : [{ address, reply: r.reply }];
      });
    }
    if (out.stage === 'mail' && sender === null) sender = addressesIn(out.reply.text)[0] ?? null;
  }
  const refused = new Set(out.recipients.flatMap((r) => (r.address === null ? [] : [r.address.toLowerCase()])));
  out.accepted = accepted.filter((a) => !refused.has(a.toLowerCase()));
  out.sender = sender;
  out.messageId = messageId;
  out.relay = relay;
  return out;
}
