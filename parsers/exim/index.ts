/**
 * The Exim mainlog parser (FORMATS.md 2): an envelope (envelope.ts), then the body by its flag:
 * `<=` arrival, `=>` `->` `*>` deliveries, `==` deferral, `**` failure, `Completed`, frozen
 * messages, and inbound `rejected ...` lines. Lines that continue the entry before them (rejectlog
 * header dumps) are counted as continuations. Pure: no state, never throws.
 */
import type { Parser } from '../../src/model/parser.js';
import type { Decoded, EximAddressRecord, EximHost, EximRecord, EximRejectRecord, Reply, Stage } from '../../src/model/records.js';
import { isEximIdAt, parseEximLine, type EximEntry } from './envelope.js';
import { DecoderFields, decodeEscapes, scanFields } from './fields.js';
import { isBlankLine } from '../chars.js';

const DAEMON = 'exim';

/** The commands Exim names in `SMTP error from remote mail server after <command>`. */
function stageAfter(command: string): Stage {
  const c = command.toLowerCase();
  if (c.startsWith('rcpt to')) return 'rcpt';
  if (c.startsWith('mail from') || c.startsWith('pipelined mail from')) return 'mail';
  if (c.startsWith('end of data')) return 'end_of_data';
  if (c.startsWith('data') || c.startsWith('bdat')) return 'data';
  if (c.startsWith('initial connection')) return 'connect';
  if (c.startsWith('helo') || c.startsWith('ehlo') || c.startsWith('lhlo')) return 'helo';
  if (c.startsWith('starttls')) return 'starttls';
  if (c.startsWith('auth')) return 'auth';
  return 'other';
}

const REPLY_HEAD = /^([2-5]\d\d)(?:[ -]|$)\s*(?:#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$))?/;

/** A reply as Exim logs it: lines joined by a literal `\n`, which we join with spaces as Postfix does. */
export function eximReply(text: string): Reply {
  const joined = text.replace(/\\n/g, ' ').trim();
  const m = REPLY_HEAD.exec(joined);
  if (m !== null) return { code: Number(m[1]), enhanced: m[2] ?? null, text: joined };
  const e = /^#?([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/.exec(joined);
  return { code: null, enhanced: e === null ? null : e[1]!, text: joined };
}

const SMTP_ERROR = 'SMTP error from remote mail server after ';
const LMTP_ERROR = 'LMTP error after ';

/** Reads `SMTP error from remote mail server after <cmd>: [host H [ip]: ]<reply>` and the LMTP form. */
export function analyseError(text: string): { stage: Stage; reply: Reply | null; host: EximHost | null } {
  let rest: string;
  if (text.startsWith(SMTP_ERROR)) rest = text.slice(SMTP_ERROR.length);
  else if (text.startsWith(LMTP_ERROR)) rest = text.slice(LMTP_ERROR.length);
  else return { stage: 'unknown', reply: null, host: null };
  // The command may carry `:<address>` and ` SIZE=n` before the `: ` that ends it.
  const angle = rest.indexOf(':<');
  let end = rest.indexOf(': ');
  if (angle >= 0 && angle < end) {
    const close = rest.indexOf('>', angle);
    end = close < 0 ? -1 : rest.indexOf(': ', close);
  }
  if (end < 0) return { stage: stageAfter(rest), reply: null, host: null };
  const stage = stageAfter(rest.slice(0, end));
  rest = rest.slice(end + 2);
  let host: EximHost | null = null;
  // Exim 4.92 layout: `T=remote_smtp: SMTP error ... after MAIL FROM:<x>: host mx1.example.com [192.0.2.55]: 550 ...`
  const h = /^host (\S+) \[([^\]\s]+)\](?::\d+)?: /.exec(rest);
  if (h !== null) {
    host = { name: h[1]!, helo: null, ip: h[2]!, port: null };
    rest = rest.slice(h[0].length);
  }
  return { stage, reply: eximReply(rest), host };
}

function unbracket(s: string): string {
  return s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1) : s;
}

/** True for a non-empty run of ASCII digits (`^\d+$`): the size of every arrival, without a regex call. */
function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** True for an errno word `(-44)`, `(110)`: what `^\(-?\d+\)$` accepts. */
function isErrnoWord(w: string): boolean {
  const last = w.length - 1;
  if (w.charCodeAt(0) !== 40 /* ( */ || w.charCodeAt(last) !== 41 /* ) */) return false;
  const first = w.charCodeAt(1) === 45 /* - */ ? 2 : 1;
  if (first >= last) return false;
  for (let k = first; k < last; k++) {
    const c = w.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function decodeAddressLine(e: EximEntry, id: string, flag: EximAddressRecord['flag']): EximAddressRecord | null {
  const f = scanFields(e.body, 3, new DecoderFields());
  const words = f.words;
  const recipient = words[0];
  if (recipient === undefined || recipient === '') return null;
  const orig = words[1]?.startsWith('<') ? unbracket(words[1]) : null;
  const kind = flag === '==' ? 'exim.defer' : flag === '**' ? 'exim.failure' : 'exim.delivery';
  let errnoWord: string | undefined;
  for (const w of words) {
    if (isErrnoWord(w)) {
      errnoWord = w;
      break;
    }
  }
  const err = f.text === null ? null : analyseError(f.text);
  const values = f.values;
  return {
    kind,
    id,
    flag,
    recipient,
    originalRecipient: orig,
    router: values.R,
    transport: values.T,
    host: err?.host ?? f.host,
    confirmation: values.C === null ? null : decodeEscapes(values.C),
    errno: errnoWord === undefined ? null : Number(errnoWord.slice(1, -1)),
    text: f.text,
    reply: err?.reply ?? null,
    stage: err?.stage ?? 'unknown',
  };
}

/** `rejected RCPT <x>`, `temporarily rejected MAIL <x>`, `rejected after DATA`, `rejected EHLO or HELO x`... */
const REJECT_VERB = /^(temporarily )?rejected (RCPT|MAIL|after DATA|EHLO or HELO|connection in "\w+" ACL|by local_scan\(\)|non-SMTP|DATA)(?=[\s:]|$) ?(<[^>]*>|[^\s:]+)?/;
/** Where the verb phrase starts: after the fields, at a word boundary. */
const VERB_AT = /(?:^|\s)((?:temporarily )?rejected |dropped by ')/;

function decodeReject(e: EximEntry): EximRejectRecord | null {
  const body = e.body;
  // Most bodies without an ID are connection noise (`SMTP connection from ...`): two substring
  // searches rule them out before the pattern, which needs one of these texts.
  if (!body.includes('rejected ') && !body.includes("dropped by '")) return null;
  const verb = VERB_AT.exec(body);
  if (verb === null) return null;
  const at = verb.index + verb[0].length - verb[1]!.length;
  const before = body.slice(0, at);
  const f = scanFields(before.trim(), 0, new DecoderFields());
  const verbPart = body.slice(at);
  let stage: Stage;
  let what: string;
  let recipient: string | null = null;
  let sender = f.values.F === null ? null : unbracket(f.values.F);
  let temporary = false;
  let textStart: number;
  const d = /^dropped by '(\w+)' ACL/.exec(verbPart);
  if (d !== null) {
    what = d[0];
    stage = d[1] === 'connect' ? 'connect' : d[1] === 'mail' ? 'mail' : d[1] === 'rcpt' ? 'rcpt' : 'other';
    textStart = d[0].length;
  } else {
    const v = REJECT_VERB.exec(verbPart);
    if (v === null) return null;
    temporary = v[1] !== undefined;
    const word = v[2]!;
    what = `${temporary ? 'temporarily ' : ''}rejected ${word}`;
    if (word === 'RCPT') {
      stage = 'rcpt';
      recipient = v[3] === undefined ? null : unbracket(v[3].replace(/:$/, ''));
    } else if (word === 'MAIL') {
      stage = 'mail';
      if (sender === null && v[3] !== undefined) sender = unbracket(v[3].replace(/:$/, ''));
    } else if (word === 'after DATA' || word === 'DATA' || word === 'by local_scan()' || word === 'non-SMTP') {
      stage = 'end_of_data';
    } else if (word === 'EHLO or HELO') {
      stage = 'helo';
    } else {
      stage = 'connect';
    }
    textStart = v[0].length;
  }
  const rest = verbPart.slice(textStart);
  const text = rest.startsWith(': ') ? rest.slice(2) : rest.startsWith(':') ? rest.slice(1) : rest;
  return {
    kind: 'exim.reject',
    id: e.id,
    stage,
    what,
    temporary,
    host: f.host,
    sender,
    recipient,
    reply: eximReply(decodeEscapes(text.trim())),
  };
}

/** The flag that starts a body (`<= `, `=> `... or the whole body), as a constant: no slice per line. */
function flagOf(body: string): '<=' | EximAddressRecord['flag'] | null {
  if (body.length > 2 && body.charCodeAt(2) !== 32) return null;
  const a = body.charCodeAt(0);
  const b = body.charCodeAt(1);
  if (b === 62 /* > */) return a === 61 /* = */ ? '=>' : a === 45 /* - */ ? '->' : a === 42 /* * */ ? '*>' : null;
  if (b === 61 /* = */) return a === 60 /* < */ ? '<=' : a === 61 ? '==' : null;
  return a === 42 && b === 42 ? '**' : null;
}

function decodeEntry(e: EximEntry): EximRecord | null {
  const body = e.body;
  if (e.id !== null) {
    const flag = flagOf(body);
    if (flag !== null) {
      if (flag === '<=') {
        const f = scanFields(body, 3, new DecoderFields());
        const sender = f.words[0] ?? '';
        const { S: size, id: mid, R: parent } = f.values;
        return {
          kind: 'exim.arrival',
          id: e.id,
          sender: sender === '<>' ? '' : sender,
          host: f.host,
          user: f.values.U,
          protocol: f.values.P,
          size: size === null || !allDigits(size) ? null : Number(size),
          messageId: mid === null ? null : unbracket(mid),
          parentId: parent !== null && isEximIdAt(parent, 0, parent.length) ? parent : null,
        };
      }
      return decodeAddressLine(e, e.id, flag);
    }
    if (body === 'Completed' || body.startsWith('Completed ')) return { kind: 'exim.completed', id: e.id };
    if (/^(?:Message is frozen|Frozen\b|frozen\b)/.test(body)) return { kind: 'exim.frozen', id: e.id, text: body };
  }
  return decodeReject(e);
}

/** A line that continues the entry before it: rejectlog header dumps (`Envelope-from: <..>`, `P Received: ...`). */
const CONTINUATION = /^(?:Envelope-(?:from|to): |[A-Z*]? ?[\w-]{2,}: |\s+\S)/;

export function decodeEximLine(line: string): Decoded {
  if (isBlankLine(line)) return { type: 'blank' };
  const l = parseEximLine(line);
  switch (l.type) {
    case 'entry': {
      const record = decodeEntry(l.entry);
      if (record === null) return { type: 'unsupported', envelope: l.entry.envelope, daemon: DAEMON };
      return { type: 'record', envelope: l.entry.envelope, daemon: DAEMON, record };
    }
    case 'stderr-header':
    case 'syslog-piece':
      return { type: 'continuation' };
    case 'other-program':
      return { type: 'other', envelope: l.envelope, program: l.program };
    case 'none':
      return CONTINUATION.test(line) ? { type: 'continuation' } : { type: 'malformed', reason: 'no Exim timestamp, syslog header or message ID' };
  }
}

export const eximParser: Parser = {
  format: 'exim',
  sniff(lines) {
    if (lines.length === 0) return 0;
    let ours = 0;
    for (const line of lines) {
      const l = parseEximLine(line);
      // Only lines with Exim's own envelope count: a syslog line of another program says nothing.
      if (l.type === 'entry' || l.type === 'syslog-piece') ours++;
    }
    return ours / lines.length;
  },
  decode: decodeEximLine,
};
