/**
 * Python smtplib errors in application logs (FORMATS.md 4):
 *
 *   ERROR app.mail: could not send mail                         (logger.exception's message)
 *   Traceback (most recent call last):
 *     File "/srv/app/mail.py", line 41, in send
 *       s.sendmail(sender, rcpts, msg)
 *     File "/usr/lib/python3.11/smtplib.py", line 901, in sendmail
 *       raise SMTPRecipientsRefused(senderrs)
 *   smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}
 *
 * The exception line is `str(exc)`, i.e. the repr of its args (smtplib, CPython 3.11):
 * - SMTPRecipientsRefused(recipients): one dict, address -> (code, reply); Py3 bytes, Py2 str (`u'...'`).
 * - SMTPResponseException(code, msg) and its subclasses SMTPDataError, SMTPConnectError,
 *   SMTPHeloError, SMTPAuthenticationError: `(550, b'...')`; SMTPSenderRefused adds the sender.
 * - SMTPNotSupportedError, SMTPServerDisconnected, SMTPException carry no reply: not read.
 * smtplib drops each reply line's code and joins the lines with b'\n' (`getreply`), so a multi-line
 * reply reads `b'5.7.1 first\n5.7.1 second'`: the code is put back once and the lines joined with a space.
 *
 * Also read: the exception first and its frames after (Sentry), without the `smtplib.` prefix
 * (Django, Sentry), a `%r` repr anywhere in a line (`SMTPDataError(550, b'...')`, Celery's
 * `raised unexpected: ...`), chained tracebacks (the smtplib exception is taken), and JSON entries
 * (structlog, python-json-logger: the traceback is in the text; ECS-style `type` + `message` fields).
 *
 * Pure: no state, never throws, linear in the unit's length.
 */
import type { AppRecipientError, Reply, Stage } from '../../src/model/records.js';
import type { AppErrorFields, AppUnit, EcosystemParser } from './types.js';
import { addressesIn, bareMessageId, bracketedAddresses, relayFromFields, replyCode, replyOf, str } from './reply.js';

/** smtplib's exception classes that carry a reply, and the SMTP stage their class alone implies. */
const REPLY_CLASSES: ReadonlyMap<string, Stage | null> = new Map<string, Stage | null>([
  ['SMTPRecipientsRefused', 'rcpt'],
  ['SMTPSenderRefused', 'mail'],
  ['SMTPDataError', null],
  ['SMTPResponseException', null],
  ['SMTPAuthenticationError', 'auth'],
  ['SMTPHeloError', 'helo'],
  ['SMTPConnectError', 'connect'],
]);

/** The other smtplib classes: recognised (so the unit is claimed) but without a reply to read. */
const OTHER_CLASSES = ['SMTPNotSupportedError', 'SMTPServerDisconnected', 'SMTPException'];

/** smtplib methods (the innermost frame in smtplib.py) and the command they were answering. */
const METHOD_STAGE: ReadonlyMap<string, Stage> = new Map<string, Stage>([
  ['__init__', 'connect'],
  ['connect', 'connect'],
  ['ehlo', 'helo'],
  ['helo', 'helo'],
  ['ehlo_or_helo_if_needed', 'helo'],
  ['starttls', 'starttls'],
  ['login', 'auth'],
  ['auth', 'auth'],
  ['mail', 'mail'],
  ['rcpt', 'rcpt'],
  ['data', 'data'],
]);

/**
 * At most this many exception candidates are tried per unit: each try may read to the end of its
 * line, so the cap keeps hostile units (a line of repeated `SMTPDataError(`) linear. A real unit
 * holds one to three (the logged message, the traceback's last line, a chained exception).
 */
const MAX_CANDIDATES = 16;

/** Deepest nesting of brackets the literal reader follows (smtplib's args nest two deep). */
const MAX_DEPTH = 8;

/** Field names structured loggers give the exception class and the exception text. */
const TYPE_FIELDS = ['exc_type', 'error.type', 'type', 'error_type', 'exception_class', 'class', 'name'];
const VALUE_FIELDS = ['exc_value', 'error.message', 'error_message', 'message', 'msg', 'value'];

export const pythonParser: EcosystemParser = {
  ecosystem: 'python',
  claims(unit: AppUnit): boolean {
    if (mentionsClass(unit.text)) return true;
    const t = str(unit.fields, ...TYPE_FIELDS);
    return (t !== null && mentionsClass(t)) || refusedDictAt(unit.text) >= 0;
  },
  parse(unit: AppUnit): AppErrorFields | null {
    try {
      return parsePython(unit);
    } catch {
      return null;
    }
  },
};

function mentionsClass(text: string): boolean {
  if (text.indexOf('SMTP') < 0) return false;
  for (const c of REPLY_CLASSES.keys()) {
    const i = text.indexOf(c);
    // Ruby's Net::SMTPAuthenticationError shares a name: not ours.
    if (i >= 0 && !(i >= 2 && text.charCodeAt(i - 1) === 58 && text.charCodeAt(i - 2) === 58)) return true;
  }
  return OTHER_CLASSES.some((c) => text.includes(`smtplib.${c}`));
}

/** One exception read from a line: its class and its args. */
interface Found {
  cls: string;
  /** Index of the line it was found on (-1: from fields). */
  line: number;
  code: number;
  /** Reply text without the code (smtplib's `msg`), lines joined with `\n`. */
  msg: string;
  sender: string | null;
  /** SMTPRecipientsRefused's entries. */
  recipients: { address: string; code: number | null; msg: string }[];
}

function parsePython(unit: AppUnit): AppErrorFields | null {
  const lines = unit.text.split('\n');
  const found = findInLines(lines) ?? findInFields(unit, lines) ?? findRefusedDict(lines);
  if (found === null) return null;

  const frames = framesOf(lines, found.line);
  const reply = found.cls === 'SMTPRecipientsRefused' ? recipientReply(found) : fullReply(found.code, found.msg);
  if (reply === null) return null;
  const stage = stageOf(found, frames, reply);

  let recipients: AppRecipientError[];
  if (found.cls === 'SMTPRecipientsRefused') {
    recipients = found.recipients.map((r) => ({ address: r.address, reply: r.code === null ? null : fullReply(r.code, r.msg) }));
  } else if (stage === 'mail' || stage === 'auth' || stage === 'helo' || stage === 'connect' || stage === 'starttls') {
    recipients = [];
  } else {
    recipients = bracketedAddresses(reply.text).map((address) => ({ address, reply }));
  }
  let sender = found.sender;
  if (sender === null && stage === 'mail') sender = addressesIn(reply.text)[0] ?? null;

  return {
    library: 'smtplib',
    exception: found.cls,
    reply,
    codeCandidates: null,
    stage,
    recipients,
    accepted: [],
    sender,
    messageId: bareMessageId(str(unit.fields, 'message_id', 'messageId', 'message-id', 'Message-ID', 'msgid')),
    relay: relayFromFields(unit.fields, ['smtp_host', 'email_host', 'mail_host', 'relay_host', 'relay'], ['smtp_port', 'email_port', 'mail_port']),
  };
}

/** `550` + smtplib's message: the reply as the server sent it, lines joined with a space. */
function fullReply(code: number, msg: string): Reply {
  return replyOf(msg === '' ? String(code) : `${code} ${msg}`);
}

function recipientReply(found: Found): Reply | null {
  const first = found.recipients.find((r) => r.code !== null);
  return first === undefined ? null : fullReply(first.code!, first.msg);
}

// ---------------------------------------------------------------- finding the exception

/**
 * The exception in the text: the first candidate with smtplib frames around it (a traceback's last
 * line), else the first (a logged `%r`, a Sentry title without frames).
 */
function findInLines(lines: string[]): Found | null {
  let first: Found | null = null;
  for (const f of candidates(lines)) {
    if (framesOf(lines, f.line).length > 0) return f;
    first ??= f;
  }
  return first;
}

function* candidates(lines: string[]): Generator<Found> {
  let tries = 0;
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    let from = 0;
    for (;;) {
      const at = line.indexOf('SMTP', from);
      if (at < 0) break;
      from = at + 4;
      const name = identifierAt(line, at);
      if (!REPLY_CLASSES.has(name)) continue;
      if (!prefixOk(line, at)) continue;
      if (++tries > MAX_CANDIDATES) return;
      const end = at + name.length;
      let argsAt: number;
      if (line.charCodeAt(end) === 58 /* : */) argsAt = end + 1;
      else if (line.charCodeAt(end) === 40 /* ( */) argsAt = end;
      else continue;
      const f = readArgs(name, line, argsAt, line.charCodeAt(end) === 40);
      if (f !== null) {
        f.line = li;
        yield f;
      }
    }
  }
}

/** An ECS-style entry: the class in `type`/`exc_type`, the args in `message`/`exc_value` or on a text line. */
function findInFields(unit: AppUnit, lines: string[]): Found | null {
  const t = str(unit.fields, ...TYPE_FIELDS);
  if (t === null) return null;
  const dot = t.lastIndexOf('.');
  const cls = (dot >= 0 ? t.slice(dot + 1) : t).replace(/'>$/, '');
  if (!REPLY_CLASSES.has(cls)) return null;
  const candidates: string[] = [];
  for (const n of VALUE_FIELDS) {
    const v = unit.fields?.[n];
    if (typeof v === 'string') candidates.push(v);
  }
  for (const l of lines) {
    const s = l.trimStart();
    if (s.startsWith('{') || s.startsWith('(')) candidates.push(s);
  }
  for (const c of candidates.slice(0, MAX_CANDIDATES)) {
    const f = readArgs(cls, c, 0, false);
    if (f !== null) return f;
  }
  return null;
}

/** The identifier at `at`, read at most 32 characters far (the longest class name is 23). */
function identifierAt(s: string, at: number): string {
  let e = at;
  const max = Math.min(s.length, at + 32);
  while (e < max && isIdentChar(s.charCodeAt(e))) e++;
  return s.slice(at, e);
}

/** The class name starts the line or a word, or follows `smtplib.`; not Ruby's `Net::`, not `aiosmtplib.`. */
function prefixOk(line: string, at: number): boolean {
  if (at === 0) return true;
  const c = line.charCodeAt(at - 1);
  if (c === 46 /* . */) {
    let s = at - 1;
    while (s > 0 && isIdentChar(line.charCodeAt(s - 1))) s--;
    return line.slice(s, at - 1) === 'smtplib' && (s === 0 || line.charCodeAt(s - 1) !== 46);
  }
  if (c === 58 /* : */) return at < 2 || line.charCodeAt(at - 2) !== 58;
  return !isIdentChar(c);
}

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * The args after `Class: ` (str) or `Class(` (repr). SMTPRecipientsRefused: `{addr: (code, msg), ...}`
 * (`({...})` in a repr); the others: `(code, msg)` or `(code, msg, sender)`.
 */
function readArgs(cls: string, s: string, at: number, repr: boolean): Found | null {
  const r = new Reader(s, at);
  const found: Found = { cls, line: -1, code: 0, msg: '', sender: null, recipients: [] };
  if (cls === 'SMTPRecipientsRefused') {
    if (repr && !r.eat('(')) return null;
    const d = r.value(0);
    if (d === undefined || !(d instanceof PyDict)) return null;
    for (const [k, v] of d.entries) {
      if (typeof k !== 'string' || !Array.isArray(v)) continue;
      const code = replyCode(v[0]);
      found.recipients.push({ address: k, code, msg: typeof v[1] === 'string' ? v[1] : '' });
    }
    return found.recipients.some((x) => x.code !== null) ? found : null;
  }
  const t = r.value(0);
  if (!Array.isArray(t)) return null;
  const code = replyCode(t[0]);
  if (code === null) return null;
  found.code = code;
  found.msg = typeof t[1] === 'string' ? t[1] : '';
  if (cls === 'SMTPSenderRefused' && typeof t[2] === 'string' && t[2] !== '') found.sender = t[2];
  return found;
}

/**
 * `sendmail()` returns the refused recipients when some were accepted, in the same dict
 * SMTPRecipientsRefused carries; apps log it (`logger.warning('refused: %r', refused)`). Read as the
 * exception's dict (recipients refused at RCPT), without a class.
 */
function findRefusedDict(lines: string[]): Found | null {
  for (let li = 0; li < lines.length; li++) {
    const at = refusedDictAt(lines[li]!);
    if (at < 0) continue;
    const f = readArgs('SMTPRecipientsRefused', lines[li]!, at, false);
    if (f !== null) {
      f.line = li;
      return f;
    }
  }
  return null;
}

/**
 * Where a dict of `'address': (code, b'reply')` entries starts in `text`, or -1: an `': (` after a
 * quoted address, three digits, `, `; the dict's `{` is the last one before the address. Linear.
 */
function refusedDictAt(text: string): number {
  let from = 0;
  for (let tries = 0; tries < 50; tries++) {
    const i = text.indexOf(': (', from);
    if (i < 0) return -1;
    from = i + 3;
    const q = text[i - 1];
    if ((q !== "'" && q !== '"') || !/^[45]\d\d, /.test(text.slice(i + 3, i + 8))) continue;
    const open = text.lastIndexOf(q, i - 2);
    if (open < 0 || i - open > 300) continue;
    const key = text.slice(open + 1, i - 1);
    if (!key.includes('@') || key.includes(' ')) continue;
    const brace = text.lastIndexOf('{', open);
    if (brace < 0) continue;
    return brace;
  }
  return -1;
}

// ---------------------------------------------------------------- Python literals (repr output)

class PyDict {
  readonly entries: [PyValue, PyValue][] = [];
}
type PyValue = string | number | boolean | null | PyValue[] | PyDict;

/**
 * Reads the Python literals `repr` prints: ints, str/bytes (`'..'`, `".."`, `b'..'`, `u'..'`),
 * tuples, lists, dicts, None/True/False. A truncated dict keeps the entries read before the cut.
 * Each character is read once.
 */
class Reader {
  i: number;
  constructor(
    readonly s: string,
    at: number,
  ) {
    this.i = at;
  }

  ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t')) this.i++;
  }

  eat(ch: string): boolean {
    this.ws();
    if (this.s[this.i] === ch) {
      this.i++;
      return true;
    }
    return false;
  }

  value(depth: number): PyValue | undefined {
    if (depth > MAX_DEPTH) return undefined;
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) return undefined;
    if (c === '{') return this.dict(depth);
    if (c === '(' || c === '[') return this.seq(depth, c === '(' ? ')' : ']');
    if ((c >= '0' && c <= '9') || c === '-') return this.int();
    if (c === "'" || c === '"') return this.string(false);
    if ((c === 'b' || c === 'B') && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '"')) {
      this.i++;
      return this.string(true);
    }
    if ((c === 'u' || c === 'U') && (this.s[this.i + 1] === "'" || this.s[this.i + 1] === '"')) {
      this.i++;
      return this.string(false);
    }
    for (const [word, v] of [['None', null], ['True', true], ['False', false]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return undefined;
  }

  int(): number | undefined {
    const start = this.i;
    if (this.s[this.i] === '-') this.i++;
    while (this.i < this.s.length && this.s[this.i]! >= '0' && this.s[this.i]! <= '9') this.i++;
    // Py2 longs print with an L.
    const n = Number(this.s.slice(start, this.i));
    if (this.s[this.i] === 'L') this.i++;
    return this.i > start && Number.isFinite(n) ? n : undefined;
  }

  seq(depth: number, close: string): PyValue[] | PyValue | undefined {
    this.i++;
    const items: PyValue[] = [];
    let comma = false;
    for (;;) {
      if (this.eat(close)) break;
      const v = this.value(depth + 1);
      if (v === undefined) return undefined;
      items.push(v);
      comma = this.eat(',');
      if (!comma) {
        if (this.eat(close)) break;
        return undefined;
      }
    }
    // `(x)` is x itself; `(x,)` and `[x]` are sequences.
    return close === ')' && items.length === 1 && !comma ? items[0] : items;
  }

  dict(depth: number): PyDict | undefined {
    this.i++;
    const d = new PyDict();
    for (;;) {
      if (this.eat('}')) return d;
      const k = this.value(depth + 1);
      if (k === undefined || !this.eat(':')) return d.entries.length > 0 ? d : undefined;
      const v = this.value(depth + 1);
      if (v === undefined) return d.entries.length > 0 ? d : undefined;
      d.entries.push([k, v]);
      if (!this.eat(',')) return d;
    }
  }

  /** A quoted literal after its prefix; bytes are decoded as UTF-8 (SMTPUTF8 replies), latin-1 otherwise. */
  string(bytes: boolean): string | undefined {
    const q = this.s[this.i]!;
    this.i++;
    let out = '';
    const raw: number[] = [];
    const put = (code: number): void => {
      if (bytes) raw.push(code & 0xff);
      else out += String.fromCodePoint(code);
    };
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === q) {
        this.i++;
        return bytes ? decodeBytes(raw) : out;
      }
      if (c !== '\\') {
        if (bytes) for (const b of Buffer.from(c, 'utf8')) raw.push(b);
        else out += c;
        this.i++;
        continue;
      }
      const e = this.s[this.i + 1];
      this.i += 2;
      switch (e) {
        case 'n':
          put(10);
          break;
        case 'r':
          put(13);
          break;
        case 't':
          put(9);
          break;
        case 'x':
        case 'u':
        case 'U': {
          const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
          const hex = this.s.slice(this.i, this.i + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return undefined;
          const n = parseInt(hex, 16);
          if (n > 0x10ffff) return undefined;
          this.i += len;
          put(n);
          break;
        }
        case undefined:
          return undefined;
        default:
          // \\, \', \" and anything repr does not print: the character itself.
          put(e.codePointAt(0)!);
      }
    }
    return undefined;
  }
}

function decodeBytes(raw: number[]): string {
  const buf = Buffer.from(raw);
  const utf8 = buf.toString('utf8');
  return utf8.includes('\ufffd') ? buf.toString('latin1') : utf8;
}

// ---------------------------------------------------------------- frames and stage

/**
 * The smtplib.py frames of the traceback the exception line belongs to: the frames above it back to
 * its `Traceback (most recent call last):` (CPython), else the frames below it (Sentry shows the
 * exception first). Chained tracebacks stop the walk.
 */
function framesOf(lines: string[], at: number): string[] {
  if (at < 0) {
    return lines.map(smtplibFrame).filter((m): m is string => m !== null);
  }
  const out: string[] = [];
  for (let i = at - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (isTracebackBoundary(l)) break;
    const m = smtplibFrame(l);
    if (m !== null) out.push(m);
  }
  if (out.length > 0) return out;
  for (let i = at + 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (isTracebackBoundary(l)) break;
    const m = smtplibFrame(l);
    if (m !== null) out.push(m);
  }
  return out;
}

function isTracebackBoundary(l: string): boolean {
  return (
    l.startsWith('Traceback (most recent call last)') ||
    l.startsWith('During handling of the above exception') ||
    l.startsWith('The above exception was the direct cause')
  );
}

/** `File "/usr/lib/python3.11/smtplib.py", line 901, in sendmail` -> `sendmail`, else null. */
function smtplibFrame(line: string): string | null {
  const l = line.trim();
  if (!l.startsWith('File "')) return null;
  const q = l.indexOf('"', 6);
  if (q < 0 || !l.slice(6, q).endsWith('smtplib.py')) return null;
  const i = l.indexOf(', in ', q);
  return i < 0 ? null : l.slice(i + 5).trim();
}

const PHRASE_STAGE: readonly [string, Stage][] = [
  ['recipient address rejected', 'rcpt'],
  ['relay access denied', 'rcpt'],
  ['sender address rejected', 'mail'],
];

function stageOf(found: Found, frames: string[], reply: Reply): Stage {
  const byClass = REPLY_CLASSES.get(found.cls);
  if (byClass !== null && byClass !== undefined) return byClass;
  if (found.cls === 'SMTPDataError') {
    // `data()` raises when DATA itself is refused; `sendmail()` raises on the reply to the final dot.
    if (frames.includes('data')) return 'data';
    if (frames.includes('sendmail') || frames.includes('send_message')) return 'end_of_data';
    return 'data';
  }
  // SMTPResponseException: the innermost smtplib method that names a command (frames run outermost first).
  for (let i = frames.length - 1; i >= 0; i--) {
    const s = METHOD_STAGE.get(frames[i]!);
    if (s !== undefined) return s;
  }
  const lower = reply.text.toLowerCase();
  for (const [phrase, s] of PHRASE_STAGE) if (lower.includes(phrase)) return s;
  return 'unknown';
}


