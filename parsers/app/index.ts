/**
 * Application logs (FORMATS.md 4): the SMTP errors that client libraries throw and apps log.
 *
 * The pipeline assembles each unit (an exception with its frames, a traceback, a JSON entry) with
 * the multi-line framer (src/framing/multiline.ts). `decode` then:
 *
 * 1. reads the first line's prefix: a `docker compose logs` container, a syslog/journald header, or
 *    the app's own timestamp (ISO, Python's `,123`, Go's `2024/07/30`, Laravel's `[...]`, Ruby
 *    Logger's `E, [...]`) with its level word and logger name;
 * 2. unpacks a JSON entry (pino, winston, bunyan, structlog, python-json-logger, logback JSON,
 *    Monolog; JSON encoded again inside `message` too): its time, the error object wherever it sits,
 *    the message and stack strings;
 * 3. asks each ecosystem parser (ECOSYSTEMS, in order) that claims the unit; the first answer wins.
 *
 * A unit no parser reads is `other` (ordinary app output, counted), or `unsupported` when it names
 * SMTP and a reply code but no parser could read it (counted and shown in the run summary).
 */
import type { LineDecoder, Parser } from '../../src/model/parser.js';
import type { AppErrorRecord, Decoded, Envelope, LogTime } from '../../src/model/records.js';
import { CONTAINER_PREFIX as COMPOSE_PREFIX, LEVEL_WORDS, parseEnvelope, parseTimestamp } from '../syslog/envelope.js';
import { dotnetParser } from './dotnet.js';
import { goParser } from './go.js';
import { javaParser } from './java.js';
import { nodemailerParser } from './nodemailer.js';
import { phpParser } from './php.js';
import { pythonParser } from './python.js';
import { addressesIn, bareMessageId, relayFromFields } from './reply.js';
import { rubyParser } from './ruby.js';
import type { AppUnit, EcosystemParser } from './types.js';

/**
 * The ecosystem parsers in the order they are asked. Those with unmistakable markers come first
 * (.NET's `System.Net.Mail`, Java's packages, Python's `smtplib`/`Traceback`, Ruby's `Net::SMTP`,
 * PHP's mailers); Go claims only units with a Go marker; Nodemailer's are last.
 */
export const ECOSYSTEMS: readonly EcosystemParser[] = [dotnetParser, javaParser, pythonParser, rubyParser, phpParser, goParser, nodemailerParser];


/** ISO-like app timestamp: `2024-11-03T08:12:55.104Z`, `2024-11-03 08:12:55,104`, `[2024-11-03 08:12:55]`. */
const APP_ISO = /^\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?\]?(?: |$)/;
/** PHP's error_log: `[28-Nov-2026 02:54:09 UTC] `. */
const PHP_TIME = /^\[(\d{2})-([A-Z][a-z]{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?: ([A-Za-z_/+-]{1,40}))?\] /;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Monolog / Laravel after the time: `app.ERROR: `, `production.ERROR: `. */
const MONOLOG_LEVEL = /^[\w.-]{1,80}\.(?:DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY): /;
/** Go's log package: `2024/07/30 12:03:44` with an optional fraction. */
const GO_TIME = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? /;
/** Ruby's Logger: `E, [2024-11-03T08:12:55.104392 #1234] ERROR -- app: `. */
const RUBY_LOGGER = /^[DIWEFA], \[(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? #\d+\] +[A-Z]+ -- [^:]{0,100}: /;
/** A level word, possibly bracketed, after the time: `ERROR `, `[ERROR] `, `ERROR:root:` (Python's default). */
const LEVEL = /^\[?(?:ERROR|WARNING|WARN|INFO|DEBUG|CRITICAL|FATAL|TRACE|SEVERE|NOTICE|error|warning|warn|info|debug|fatal)\]?(?::| +)/;
/** .NET console logger's first line: `fail: App.Mailer[0]`. */
const DOTNET_CONSOLE = /^(?:fail|crit|warn|info|dbug|trce): \S+$/;


const ERROR_KEYS = ['err', 'error', 'exception', 'exc', 'e', 'cause', 'info'];
const TRACE_KEYS = ['stack', 'stack_trace', 'stacktrace', 'exc_info', 'exc_text', 'exception', 'traceback', 'trace', 'error'];
const MESSAGE_KEYS = ['msg', 'message', 'event', '@message', 'Message'];
const TIME_KEYS = ['time', 'timestamp', '@timestamp', 'datetime', 'asctime', 'ts', 'date', 'Timestamp', '@t'];
const LOGGER_KEYS = ['logger', 'logger_name', 'name', 'channel', 'SourceContext', 'loggerName'];

interface Prefix {
  time: LogTime;
  host: string | null;
  program: string | null;
  pid: number | null;
  container: string | null;
  /** The first line without its prefix. */
  body: string;
}

function isoTime(m: RegExpExecArray): LogTime {
  const [, y, mo, d, h, mi, se, fr, zone] = m;
  const ms = fr === undefined ? 0 : Math.floor(Number((fr + '00').slice(0, 3)));
  let epochMs: number;
  if (zone === undefined) epochMs = new Date(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms).getTime();
  else {
    epochMs = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms);
    if (zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      epochMs -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
    }
  }
  return Number.isNaN(epochMs) ? { kind: 'none' } : { kind: 'absolute', epochMs };
}

/** The first line's prefix: container, syslog header, the app's timestamp, level and logger. */
export function readPrefix(line: string): Prefix {
  let rest = line;
  let container: string | null = null;
  const c = COMPOSE_PREFIX.exec(rest);
  if (c !== null) {
    container = c[1]!;
    rest = rest.slice(c[0].length);
  }
  const p: Prefix = { time: { kind: 'none' }, host: null, program: null, pid: null, container, body: rest };
  const env = parseEnvelope(rest);
  if (env !== null && env.host !== null && !LEVEL_WORDS.has(env.host)) {
    p.time = env.time;
    p.host = env.host;
    p.program = env.program;
    p.pid = env.pid;
    rest = env.message;
  }
  // The app's own timestamp (also inside a syslog message: it is more precise than syslog's).
  const m = APP_ISO.exec(rest) ?? GO_TIME.exec(rest) ?? RUBY_LOGGER.exec(rest);
  const php = m === null ? PHP_TIME.exec(rest) : null;
  if (m !== null) {
    p.time = isoTime(m);
    rest = rest.slice(m[0].length);
  } else if (php !== null) {
    const [, d, mon, y, h, mi, se, zone] = php;
    const month = MONTHS.indexOf(mon!);
    const utc = zone === 'UTC' || zone === 'GMT' || zone === 'Z';
    const epochMs = utc ? Date.UTC(+y!, month, +d!, +h!, +mi!, +se!) : new Date(+y!, month, +d!, +h!, +mi!, +se!).getTime();
    if (month >= 0 && !Number.isNaN(epochMs)) p.time = { kind: 'absolute', epochMs };
    rest = rest.slice(php[0].length);
  } else if (p.host === null) {
    const bsd = parseTimestamp(rest);
    if (bsd !== null && bsd.time.kind === 'bsd') {
      p.time = bsd.time;
      rest = rest.slice(bsd.length);
    }
  }
  p.body = stripLevel(rest);
  return p;
}

/** Drops a level word and the logger name after it (`ERROR app.mail: `, `[main] ERROR c.e.Mailer - `). */
function stripLevel(s: string): string {
  let rest = s;
  const mono = MONOLOG_LEVEL.exec(rest);
  if (mono !== null) return rest.slice(mono[0].length);
  // Leading thread or process groups: `[main] `, `24817 --- [main] `.
  for (let i = 0; i < 3; i++) {
    if (rest.startsWith('[') && !LEVEL.test(rest)) {
      const close = rest.indexOf('] ');
      if (close < 0 || close > 80) break;
      rest = rest.slice(close + 2);
    } else break;
  }
  const lv = LEVEL.exec(rest);
  if (lv === null) return DOTNET_CONSOLE.test(rest) ? '' : rest;
  rest = rest.slice(lv[0].length);
  // `ERROR:root:message` (Python's default format): the logger, then the message.
  if (lv[0].endsWith(':')) {
    const colon = rest.indexOf(':');
    return colon > 0 && colon < 100 && !rest.slice(0, colon).includes(' ') ? rest.slice(colon + 1) : rest;
  }
  // Spring Boot: `ERROR 24817 --- [main] c.e.Mailer : message`.
  const dashes = rest.indexOf(' --- ');
  if (dashes >= 0 && dashes < 12) {
    const sep = rest.indexOf(' : ', dashes);
    if (sep > 0 && sep < 200) return rest.slice(sep + 3);
  }
  // `[thread] logger - message`, `logger: message`, `logger - message` with a logger without spaces.
  if (rest.startsWith('[')) {
    const close = rest.indexOf('] ');
    if (close > 0 && close < 80) rest = rest.slice(close + 2);
  }
  const sp = rest.indexOf(' ');
  if (sp > 0 && sp < 120) {
    const word = rest.slice(0, sp);
    if (rest.startsWith('- ', sp + 1)) return rest.slice(sp + 3);
    if (word.endsWith(':') && /^[\w.$\-[\]]+:$/.test(word) && !/(?:Error|Exception):$/.test(word)) return rest.slice(sp + 1);
  }
  return rest;
}

// ---------------------------------------------------------------- JSON entries

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A JSON object from a string that holds one (JSON in JSON), else null. */
function innerJson(v: unknown): Record<string, unknown> | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return null;
  try {
    const o: unknown = JSON.parse(t);
    return isObject(o) ? o : null;
  } catch {
    return null;
  }
}

/** Finds the error object of an entry: `err`, `error`, `exception`, `context.exception`... */
function errorObject(o: Record<string, unknown>, depth = 0): Record<string, unknown> | null {
  for (const k of ERROR_KEYS) {
    const v = o[k];
    if (isObject(v)) return v;
  }
  if (depth >= 2) return null;
  for (const k of ['context', 'extra', 'data', 'fields', 'meta', 'metadata', 'exc', 'payload', 'props', 'Properties']) {
    const v = o[k];
    if (isObject(v)) {
      const inner = errorObject(v, depth + 1);
      if (inner !== null) return inner;
    }
  }
  return null;
}

function timeOf(o: Record<string, unknown>): LogTime {
  for (const k of TIME_KEYS) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v)) {
      // Epoch milliseconds (pino, bunyan's numbers) or seconds (structlog/zap floats).
      const ms = v > 1e12 ? v : v > 1e9 ? v * 1000 : NaN;
      // Up to the year 5138: anything later is not a log time.
      if (!Number.isNaN(ms) && ms < 1e14) return { kind: 'absolute', epochMs: Math.round(ms) };
    } else if (typeof v === 'string') {
      const m = APP_ISO.exec(v + ' ');
      if (m !== null) return isoTime(m);
      if (/^\d{10,13}(?:\.\d+)?$/.test(v)) {
        const n = Number(v);
        return { kind: 'absolute', epochMs: Math.round(n > 1e12 ? n : n * 1000) };
      }
    }
  }
  return { kind: 'none' };
}

/** A JSON entry as a unit: its text (message, error message, traces) and fields. */
export function jsonUnit(entry: Record<string, unknown>): { unit: AppUnit; time: LogTime; host: string | null; program: string | null } {
  // JSON encoded again inside the message (Monolog's sibling lines): its fields join the entry's.
  let o = entry;
  for (let i = 0; i < 3; i++) {
    const inner = MESSAGE_KEYS.map((k) => innerJson(o[k])).find((x) => x !== null) ?? null;
    if (inner === null) break;
    o = { ...o, ...inner };
    for (const k of MESSAGE_KEYS) if (innerJson(entry[k]) !== null && inner[k] === undefined) delete o[k];
  }
  const err = errorObject(o);
  const texts: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim() !== '' && !texts.includes(v)) texts.push(v);
  };
  for (const k of MESSAGE_KEYS) add(o[k]);
  if (err !== null) {
    for (const k of MESSAGE_KEYS) add(err[k]);
    for (const k of TRACE_KEYS) add(err[k]);
    if (isObject(err['previous'])) add(err['previous']['message']);
  }
  for (const k of TRACE_KEYS) add(o[k]);
  const fields: Record<string, unknown> = {};
  // `__proto__` from the log is data, not our object's prototype.
  for (const [k, v] of Object.entries(o)) if (!isObject(v) && k !== '__proto__') fields[k] = v;
  if (err !== null) for (const [k, v] of Object.entries(err)) if (k !== '__proto__') fields[k] = v;
  let host: string | null = null;
  for (const k of ['hostname', 'host_name', 'HOSTNAME']) if (typeof o[k] === 'string') host = o[k] as string;
  let program: string | null = null;
  for (const k of LOGGER_KEYS) if (typeof o[k] === 'string' && program === null) program = o[k] as string;
  return { unit: { text: texts.join('\n'), fields }, time: timeOf(o), host, program };
}

// ---------------------------------------------------------------- decode

/** Any SMTP-looking reply code with words after it: a unit no parser read is reported as unsupported. */
const SMTPISH = /\b[45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3}\b|\w)/;

/** A structured entry's Message-ID or relay host when the ecosystem parser did not read them. */
function fillFromFields(r: AppErrorRecord, fields: Readonly<Record<string, unknown>> | null): void {
  if (fields === null) return;
  if (r.messageId === null) {
    for (const k of ['messageId', 'message_id', 'messageID', 'MessageId', 'Message-ID', 'msgid']) {
      const id = bareMessageId(fields[k]);
      if (id !== null) {
        r.messageId = id;
        break;
      }
    }
  }
  // A refusal of the message as a whole (DATA) names no recipient: the entry's own `to` says whom it failed.
  if (r.recipients.length === 0 && (r.stage === 'data' || r.stage === 'end_of_data')) {
    for (const k of ['to', 'recipients', 'rcpt', 'recipient', 'rcpt_to']) {
      const v = fields[k];
      const list = typeof v === 'string' ? addressesIn(v) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').flatMap(addressesIn) : [];
      if (list.length > 0) {
        r.recipients = list.map((address) => ({ address, reply: null }));
        break;
      }
    }
  }
  // `transport` names a host only when it looks like one (`smtp.esp.example`, not `smtp`).
  r.relay ??= relayFromFields(fields, ['smtpHost', 'smtp_host', 'relay', 'relayHost', 'mailHost', 'mail_host', 'smtpServer', 'transport'], ['smtpPort', 'smtp_port', 'port'], (k, v) => k !== 'transport' || (v.includes('.') && !v.includes(' ')));
}

export function decodeUnit(text: string): Decoded {
  if (text.trim() === '') return { type: 'blank' };
  const nl = text.indexOf('\n');
  const firstLine = nl < 0 ? text : text.slice(0, nl);
  const rest = nl < 0 ? '' : text.slice(nl);
  const p = readPrefix(firstLine);
  let unit: AppUnit = { text: p.body + rest, fields: null };
  let time = p.time;
  let host = p.host;
  let program = p.program;
  const body = p.body.trimStart();
  if (body.startsWith('{')) {
    let o: unknown = undefined;
    try {
      o = JSON.parse(body);
    } catch {
      o = undefined;
    }
    if (isObject(o)) {
      const j = jsonUnit(o);
      unit = { text: j.unit.text + rest, fields: j.unit.fields };
      if (j.time.kind !== 'none') time = j.time;
      host ??= j.host;
      program ??= j.program;
    }
  }
  const envelope: Envelope = { time, host, program, pid: p.pid, container: p.container, message: p.body };
  for (const eco of ECOSYSTEMS) {
    if (!eco.claims(unit)) continue;
    const found = eco.parse(unit);
    if (found === null) continue;
    const record: AppErrorRecord = { kind: 'app.error', ecosystem: eco.ecosystem, ...found };
    fillFromFields(record, unit.fields);
    return { type: 'record', envelope, daemon: eco.ecosystem, record };
  }
  if (/smtp/i.test(unit.text) && SMTPISH.test(unit.text)) return { type: 'unsupported', envelope, daemon: 'app' };
  return { type: 'other', envelope, program: program ?? 'app' };
}

// ---------------------------------------------------------------- sniff

/**
 * Signs of an application log: frames, tracebacks, exceptions, level words, an app's own timestamp
 * (Go's `2024/07/30 12:03:44`, `2024-11-03 08:12:55` with a space: not a syslog header, which the
 * MTA parsers read), JSON entries with a level.
 */
const APP_SIGNS =
  /^(?:\s+at [\w$.<]|\s+File "|\tat |Traceback \(most recent|Caused by: |[\w$.]+(?:Error|Exception)\b|\(node:\d+\)|\[?\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}\S* +\[?(?:ERROR|WARNING|WARN|INFO|DEBUG|CRITICAL|FATAL|TRACE|error|warn|info|debug)\b|(?:ERROR|WARNING|INFO|DEBUG|CRITICAL):[\w.]+:|[DIWEF], \[\d{4}-|(?:fail|crit|warn|info|dbug): |\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}|\[?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}|\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\[\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}|\tfrom |[^\s:]{1,400}\.rb:\d{1,7}:in [`'])/;

function looksLikeApp(line: string): boolean {
  let s = line;
  const c = COMPOSE_PREFIX.exec(s);
  if (c !== null) s = s.slice(c[0].length);
  const env = parseEnvelope(s);
  if (env !== null && env.host !== null && !LEVEL_WORDS.has(env.host)) {
    // A syslog line: an app's when its message shows app signs (an MTA's are the MTA parsers').
    s = env.message;
  }
  if (APP_SIGNS.test(s)) return true;
  const t = s.trimStart();
  if (t.startsWith('{') && t.endsWith('}')) {
    return /"(?:level|levelname|severity|level_name|log\.level|@l)"\s*:/.test(t) && /"(?:msg|message|event|@m|@mt)"\s*:/.test(t);
  }
  return false;
}

/**
 * A protocol transcript's command on a unit of its own (PHPMailer's debug output logs each line as
 * an entry: `CLIENT -> SERVER: RCPT TO:<bob@example.org>`; MailKit's `C: RCPT TO:<...>`).
 */
const TRANSCRIPT_COMMAND = /(?:CLIENT -> SERVER|^C): (RCPT TO|MAIL FROM):\s?<([^<>\s]{1,320})>/;

/**
 * The decoder of one input: units are decoded alone, except that a refusal naming no address takes
 * the address of the transcript command logged just before it (a RCPT refusal its recipient, a MAIL
 * refusal its sender): PHPMailer logs `CLIENT -> SERVER: RCPT TO:<x>`, the reply and `SMTP ERROR:
 * RCPT TO command failed: 550 ...` as separate entries.
 */
function newAppDecoder(): LineDecoder {
  /** The transcript command just logged, and how many units ago (it serves the next refusal only). */
  let last: { verb: 'rcpt' | 'mail'; address: string; age: number } | null = null;
  /** The PHPMailer refusal of the unit just before, for its repeats. */
  let previous: { key: string; ms: number | null } | null = null;
  let repeats = 0;
  return {
    notes: () => (repeats === 0 ? [] : [`${repeats} PHPMailer report(s) repeating the refusal of the entry before them (its debug echo, ErrorInfo printed by the app) were counted once`]),
    decode(text: string): Decoded {
      const d = decodeUnit(text);
      if (last !== null && ++last.age > 3) last = null;
      const r = d.type === 'record' && d.record.kind === 'app.error' ? d.record : null;
      if (r === null) {
        // Repeats come in a row; anything between ends the run. A transcript line's reply entry
        // (not a record) may sit between a command and its refusal.
        if (d.type !== 'blank') previous = null;
      } else {
        if (last !== null) {
          if (r.stage === 'rcpt' && r.recipients.length === 0 && last.verb === 'rcpt') r.recipients = [{ address: last.address, reply: null }];
          else if (r.stage === 'mail' && r.sender === null && last.verb === 'mail') r.sender = last.address;
          last = null;
        }
        // PHPMailer reports one refusal up to three times in a row (the SMTP ERROR debug line, its
        // exception's echo, the app's print of ErrorInfo), each a log entry of its own: with the same
        // code, status, stage and addresses (or none), within a second (or both without a time), the
        // later ones repeat it.
        if (r.library !== 'PHPMailer') previous = null;
        else {
          const head = [r.reply.code, r.reply.enhanced, r.stage].join('|');
          const key = `${head}|${r.sender ?? ''}|${r.recipients.map((x) => x.address ?? '').join(',')}`;
          const ms = d.type === 'record' && d.envelope.time.kind === 'absolute' ? d.envelope.time.epochMs : null;
          const p = previous;
          const same = p !== null && (p.key === key || (r.recipients.length === 0 && p.key.startsWith(`${head}|`)));
          const close = p !== null && (ms === null && p.ms === null ? true : ms !== null && p.ms !== null && Math.abs(ms - p.ms) <= 1000);
          if (same && close) {
            repeats++;
            return { type: 'continuation' };
          }
          previous = { key, ms };
        }
      }
      if (text.length < 2000 && !text.includes('\n')) {
        const c = TRANSCRIPT_COMMAND.exec(text);
        if (c !== null) {
          last = { verb: c[1] === 'RCPT TO' ? 'rcpt' : 'mail', address: c[2]!, age: 0 };
          previous = null;
        }
      }
      return d;
    },
  };
}

export const appParser: Parser = {
  format: 'app',
  multiline: true,
  newDecoder: newAppDecoder,
  sniff(lines) {
    const nonBlank = lines.filter((l) => l.trim() !== '');
    if (nonBlank.length === 0) return 0;
    // Scaled below 1 so a mail log that an MTA parser reads as well wins the tie.
    return (0.9 * nonBlank.filter(looksLikeApp).length) / nonBlank.length;
  },
  decode: decodeUnit,
};
