/**
 * JavaMail / Jakarta Mail / Eclipse Angus SMTP errors, and Spring's wrapper around them (FORMATS.md 4).
 *
 * What the library prints, from its source (com.sun.mail.smtp.SMTPTransport, javax.mail.MessagingException):
 * - SMTPAddressFailedException, SMTPSenderFailedException and SMTPSendFailedException carry the server's
 *   reply as their message, exactly as read (`lastServerResponse`): every reply line followed by `\n`,
 *   so a multi-line reply wraps onto the next lines and the message ends with a line break.
 * - MessagingException.toString() chains the next exceptions with `;\n  nested exception is:\n\t`, which
 *   after the reply's own `\n` leaves a lone `;` line between two address exceptions.
 * - rcptTo() throws SendFailedException("Invalid Addresses", chain, validSent, validUnsent, invalid);
 *   mailFrom() refusals are SMTPSendFailedException with an SMTPSenderFailedException chained (550, 553,
 *   503, 551, 501); DATA and end-of-data refusals are SMTPSendFailedException alone; a partial send
 *   (mail.smtp.sendpartial) is SMTPSendFailedException carrying the 250 of end-of-data, with the
 *   address exceptions chained.
 * - AuthenticationFailedException carries the reply to AUTH; a bad greeting is
 *   `MessagingException: Got bad greeting from SMTP host: H, port: P, response: R`.
 * - With mail.debug: the transcript (`RCPT TO:<x>`, the reply lines), `DEBUG SMTP: got response code
 *   550, with response: ...`, and the `Verified Addresses` / `Valid Unsent Addresses` / `Invalid
 *   Addresses` lists, one address per line.
 * Spring's MailSendException prints `Failed messages: <each exception's toString()>` and, from
 * toString(), `; message exceptions (N) are:` then `Failed message N: ...`.
 */
import type { AppRecipientError, HostRef, Reply, Stage } from '../../src/model/records.js';
import { addressesIn, addressOfReply, bareMessageId, RECORD_TIMESTAMP, REPLY_LINE_START, replyOf, startsWithReply, str } from './reply.js';
import type { AppErrorFields, AppUnit, EcosystemParser } from './types.js';

type Role = 'address' | 'sender' | 'send' | 'wrapper' | 'auth' | 'messaging' | 'spring' | 'other';

/** Exception classes by simple name (the package tells the library, not the role). */
const CLASSES: ReadonlyMap<string, Role> = new Map<string, Role>([
  // javax.mail / jakarta.mail API
  ['SendFailedException', 'wrapper'],
  ['MessagingException', 'messaging'],
  ['AuthenticationFailedException', 'auth'],
  // com.sun.mail.smtp / org.eclipse.angus.mail.smtp
  ['SMTPAddressFailedException', 'address'],
  ['SMTPSenderFailedException', 'sender'],
  ['SMTPSendFailedException', 'send'],
  // org.springframework.mail
  ['MailSendException', 'spring'],
  ['MailAuthenticationException', 'spring'],
  ['MailPreparationException', 'spring'],
  ['MailParseException', 'spring'],
]);

/** SMTPTransport methods in a stack frame: the command whose reply failed. */
const FRAME_STAGES: ReadonlyMap<string, Stage> = new Map<string, Stage>([
  ['rcptTo', 'rcpt'],
  ['mailFrom', 'mail'],
  ['data', 'data'],
  ['finishData', 'end_of_data'],
  ['finishBdat', 'end_of_data'],
  ['helo', 'helo'],
  ['ehlo', 'helo'],
  ['startTLS', 'starttls'],
  ['authenticate', 'auth'],
  ['openServer', 'connect'],
]);

/** `at com.sun.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2076)`, also `java.base/...` frames. */
const FRAME = /^at [\w$.<>/-]+\(/;
const DATA_WORD = /\bDATA\b/;

/**
 * A reply wraps onto at most this many following lines: Gmail's longest replies take 3 to 5 lines
 * and Microsoft's 2; 40 leaves room for verbose servers while bounding a runaway unit.
 */
const MAX_WRAP = 40;

interface Header {
  name: string;
  fqn: string;
  role: Role;
  start: number;
  msgStart: number;
}

function isClassChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 36;
}

/** Exception headers (`pkg.Name: message`) on one line, left to right. */
function headersIn(line: string): Header[] {
  const out: Header[] = [];
  let from = 0;
  for (;;) {
    const i = line.indexOf('Exception', from);
    if (i < 0) break;
    const end = i + 9;
    from = end;
    const next = end < line.length ? line.charCodeAt(end) : -1;
    // The character after the name first: it keeps the backward scan below linear over the line.
    if (next !== -1 && next !== 58 && next !== 59 && next !== 32 && next !== 9) continue;
    let s = i;
    while (s > 0 && isClassChar(line.charCodeAt(s - 1))) s--;
    const fqn = line.slice(s, end);
    const name = fqn.slice(fqn.lastIndexOf('.') + 1);
    const known = CLASSES.get(name);
    if (known === undefined && (!fqn.includes('.') || fqn.startsWith('.') || (next !== -1 && next !== 58))) continue;
    let msgStart = end;
    if (next === 58) msgStart = line.charCodeAt(end + 1) === 32 ? end + 2 : end + 1;
    out.push({ name, fqn, role: known ?? 'other', start: s, msgStart });
  }
  return out;
}

const COMMANDS = ['RSET', 'QUIT', 'NOOP', 'DATA', 'MAIL FROM:', 'RCPT TO:', 'EHLO ', 'HELO ', 'AUTH ', 'STARTTLS', 'BDAT '];

/** Where a wrapped reply stops: frames, chain separators, another exception, the next log record. */
function endsWrap(line: string): boolean {
  const t = line.trim();
  if (t === '' || t.startsWith(';') || t.startsWith('---')) return true;
  if (FRAME.test(t) || (t.startsWith('...') && (t.endsWith('more') || t.endsWith('common frames omitted')))) return true;
  if (t.startsWith('nested exception is') || t.startsWith('Caused by:') || t.startsWith('Suppressed:')) return true;
  if (t.startsWith('Failed message') || t.startsWith('DEBUG') || RECORD_TIMESTAMP.test(t)) return true;
  if (COMMANDS.some((c) => t.startsWith(c))) return true;
  return headersIn(t).length > 0;
}

/** The exception's own message: the chain's `nested exception is` and the `;` before it dropped. */
function ownMessage(msg: string): string {
  const n = msg.indexOf('nested exception is');
  let m = (n >= 0 ? msg.slice(0, n) : msg).trim();
  if (m.endsWith(';')) m = m.slice(0, -1).trim();
  return m;
}


/** `MAIL FROM:<x> SIZE=1234` -> x. */
function commandAddress(t: string): string | null {
  const colon = t.indexOf(':');
  return addressOfReply(t.slice(colon + 1)) ?? (t.slice(colon + 1).trim() || null);
}

type Section = 'invalid' | 'validSent' | 'validUnsent' | null;

/** `Invalid Addresses`, `Valid Unsent Addresses`, `Valid Sent Addresses` / `Verified Addresses`. */
function sectionOf(t: string): { section: Section; rest: string } | null {
  const labels: [string, Section][] = [
    ['Invalid Addresses', 'invalid'],
    ['Valid Unsent Addresses', 'validUnsent'],
    ['Valid Sent Addresses', 'validSent'],
    ['Verified Addresses', 'validSent'],
  ];
  for (const [label, section] of labels) {
    if (!t.startsWith(label)) continue;
    const rest = t.slice(label.length);
    if (rest === '' || rest.startsWith(':') || rest.startsWith('=') || rest.startsWith(' ')) return { section, rest };
  }
  return null;
}

function libraryOf(text: string): string {
  if (text.includes('org.eclipse.angus')) return 'angus';
  if (text.includes('jakarta.mail')) return 'jakarta.mail';
  if (text.includes('javax.mail') || text.includes('com.sun.mail')) return 'javax.mail';
  if (text.includes('org.springframework.mail')) return 'spring';
  return 'jakarta.mail';
}

interface Found {
  reply: Reply;
  address: string | null;
}

interface Scan {
  headers: Header[];
  address: Found[];
  sender: Found[];
  send: Reply[];
  auth: Reply[];
  greeting: Reply[];
  generic: Reply[];
  spring: Reply[];
  debug: Reply[];
  transcript: { stage: Stage; address: string | null; reply: Reply }[];
  transcriptSender: string | null;
  lists: Record<'invalid' | 'validSent' | 'validUnsent', string[]>;
  listed: Set<string>;
  frameStage: Stage | null;
  relay: HostRef | null;
}

function scan(text: string): Scan {
  const lines = text.split('\n');
  const s: Scan = {
    headers: [],
    address: [],
    sender: [],
    send: [],
    auth: [],
    greeting: [],
    generic: [],
    spring: [],
    debug: [],
    transcript: [],
    transcriptSender: null,
    lists: { invalid: [], validSent: [], validUnsent: [] },
    listed: new Set<string>(),
    frameStage: null,
    relay: null,
  };
  const seen = new Set<string>();
  let section: Section = null;
  let lastCmd: { stage: Stage; address: string | null } | null = null;
  let replyLines: string[] = [];
  let inData = false;
  // Transcript lines count only once a command or a greeting was seen: a line of other text may
  // begin with three digits.
  let inTranscript = false;

  /** The message of the header that ends line `li`, with the lines it wraps onto; returns the last line used. */
  const wrapped = (first: string, li: number): [string, number] => {
    const parts = [first];
    let j = li + 1;
    while (j < lines.length && j - li <= MAX_WRAP && !endsWrap(lines[j]!)) parts.push(lines[j++]!);
    return [parts.join('\n'), j - 1];
  };

  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!.replace(/\r$/, '');
    const t = line.trim();
    const hs = headersIn(line);
    if (hs.length > 0) {
      section = null;
      for (let k = 0; k < hs.length; k++) {
        const h = hs[k]!;
        let msg: string;
        if (k + 1 < hs.length) msg = line.slice(h.msgStart, hs[k + 1]!.start);
        else [msg, li] = wrapped(line.slice(h.msgStart), li);
        s.headers.push(h);
        take(s, seen, h, ownMessage(msg));
      }
      continue;
    }
    if (t.startsWith('DEBUG SMTP:') || t.startsWith('DEBUG SMTP ')) {
      const rest = t.slice(11).trim();
      if (rest.startsWith('got response code ')) {
        const w = rest.indexOf('with response: ');
        if (w >= 0) {
          const [msg, last] = wrapped(rest.slice(w + 15), li);
          li = last;
          const r = replyOf(msg);
          if (r.code !== null && !seen.has(`debug ${r.text}`)) {
            seen.add(`debug ${r.text}`);
            s.debug.push(r);
          }
        }
        section = null;
        continue;
      }
      const host = hostOf(rest);
      if (host !== null) s.relay = host;
      const sec = sectionOf(rest);
      if (sec !== null) {
        section = sec.section;
        addListed(s, section, sec.rest);
      } else if (section !== null && rest.includes('@') && !rest.includes(':')) addListed(s, section, rest);
      else section = null;
      continue;
    }
    const sec = sectionOf(t);
    if (sec !== null) {
      section = sec.section;
      addListed(s, section, sec.rest);
      continue;
    }
    if (section !== null && t.includes('@') && !t.includes(':') && !t.includes(' at ')) {
      addListed(s, section, t);
      continue;
    }
    section = null;
    if (FRAME.test(t)) {
      if (s.frameStage === null) {
        const i = t.indexOf('SMTPTransport.');
        if (i >= 0) {
          const p = t.indexOf('(', i);
          const st = FRAME_STAGES.get(t.slice(i + 14, p));
          if (st !== undefined) s.frameStage = st;
        }
      }
      continue;
    }
    // The mail.debug transcript: commands, then their replies (JavaMail does not pipeline).
    if (inData) {
      if (t === '.') {
        inData = false;
        lastCmd = { stage: 'end_of_data', address: null };
      }
      continue;
    }
    const rl = REPLY_LINE_START.exec(t);
    if (rl !== null && (inTranscript || rl[1] === '220')) {
      inTranscript = true;
      replyLines.push(t);
      if (t.charAt(3) !== '-') {
        const r = replyOf(replyLines.join('\n'));
        replyLines = [];
        if (r.code === 354) inData = true;
        else if (r.code !== null && r.code >= 400) {
          const cmd = lastCmd ?? { stage: 'connect' as Stage, address: null };
          s.transcript.push({ stage: cmd.stage, address: cmd.stage === 'rcpt' ? cmd.address : null, reply: r });
        }
        lastCmd = null;
      }
      continue;
    }
    const cmd = commandOf(t);
    if (cmd !== null) {
      inTranscript = true;
      lastCmd = cmd;
      if (cmd.stage === 'mail' && cmd.address !== null) s.transcriptSender = cmd.address;
    }
  }
  return s;
}

function commandOf(t: string): { stage: Stage; address: string | null } | null {
  const u = t.toUpperCase();
  if (u.startsWith('RCPT TO:')) return { stage: 'rcpt', address: commandAddress(t) };
  if (u.startsWith('MAIL FROM:')) return { stage: 'mail', address: commandAddress(t) };
  if (u === 'DATA') return { stage: 'data', address: null };
  if (u.startsWith('BDAT ')) return { stage: 'end_of_data', address: null };
  if (u.startsWith('EHLO ') || u.startsWith('HELO ')) return { stage: 'helo', address: null };
  if (u.startsWith('AUTH ')) return { stage: 'auth', address: null };
  if (u === 'STARTTLS') return { stage: 'starttls', address: null };
  if (u === 'RSET' || u === 'QUIT' || u === 'NOOP') return { stage: 'other', address: null };
  return null;
}

/** `connected to host "smtp.example.com", port: 587` / `trying to connect to host "h", port 25, isSSL false`. */
function hostOf(rest: string): HostRef | null {
  const i = rest.indexOf('to host "');
  if (i < 0) return null;
  const q = rest.indexOf('"', i + 9);
  if (q < 0) return null;
  const name = rest.slice(i + 9, q);
  const m = /^, port:? (\d{1,5})/.exec(rest.slice(q + 1));
  return hostRef(name, m === null ? null : Number(m[1]));
}

function hostRef(name: string, port: number | null): HostRef {
  const isIp = /^\d{1,3}(?:\.\d{1,3}){3}$/.test(name) || name.includes(':');
  return { name: isIp ? null : name, ip: isIp ? name : null, port };
}

function addListed(s: Scan, section: Section, text: string): void {
  if (section === null) return;
  for (const a of addressesIn(text)) {
    if (s.listed.has(`${section} ${a}`)) continue;
    s.listed.add(`${section} ${a}`);
    s.lists[section].push(a);
  }
}

function take(s: Scan, seen: Set<string>, h: Header, msg: string): void {
  const key = `${h.role} ${msg}`;
  if (msg === '' || seen.has(key)) return;
  seen.add(key);
  switch (h.role) {
    case 'address':
    case 'sender': {
      const reply = replyOf(msg);
      (h.role === 'address' ? s.address : s.sender).push({ reply, address: addressOfReply(reply.text) });
      return;
    }
    case 'send':
      s.send.push(replyOf(msg));
      return;
    case 'auth':
      if (startsWithReply(msg)) s.auth.push(replyOf(msg));
      return;
    case 'messaging': {
      if (startsWithReply(msg)) {
        s.generic.push(replyOf(msg));
        return;
      }
      // `Got bad greeting from SMTP host: h, port: 25, response: 554 ...` (older: `Could not connect to SMTP host`).
      const hi = msg.indexOf('SMTP host: ');
      const ri = msg.indexOf('response: ');
      if (hi < 0 || ri < 0) return;
      const m = /^([^,\s]+), port: (\d{1,5})/.exec(msg.slice(hi + 11));
      if (m !== null) s.relay = hostRef(m[1]!, Number(m[2]));
      const r = msg.slice(ri + 10);
      if (startsWithReply(r)) s.greeting.push(replyOf(r));
      return;
    }
    case 'spring':
      if (startsWithReply(msg)) s.spring.push(replyOf(msg));
      return;
    default:
      return;
  }
}

const NO_REPLY: Reply = { code: null, enhanced: null, text: '' };

function isError(r: Reply): boolean {
  return r.code === null || r.code >= 400;
}

function parseJava(unit: AppUnit): AppErrorFields | null {
  const text = unit.text;
  const s = scan(text);

  const recipients: AppRecipientError[] = [];
  const byAddress = new Map<string, AppRecipientError>();
  const add = (address: string, reply: Reply | null): void => {
    const have = byAddress.get(address);
    if (have === undefined) {
      const r = { address, reply };
      recipients.push(r);
      byAddress.set(address, r);
    } else if (have.reply === null) have.reply = reply;
  };
  const fails = s.address.filter((f) => isError(f.reply));
  for (const f of fails) if (f.address !== null) add(f.address, f.reply);
  for (const t of s.transcript) if (t.stage === 'rcpt' && t.address !== null) add(t.address, t.reply);
  // Address exceptions whose reply names no address: JavaMail lists the 5xx ones under Invalid
  // Addresses in the order it sent them, the order of the chain; pair them only when counts agree.
  const bare = fails.filter((f) => f.address === null);
  const pool = s.lists.invalid.filter((a) => !byAddress.has(a));
  if (bare.length > 0 && bare.length === pool.length) bare.forEach((f, i) => add(pool[i]!, f.reply));
  for (const a of s.lists.invalid) add(a, null);
  // Still unnamed: the address the application logged next to the error (MDC `mailTo`, JSON `to`),
  // paired only when it is one address for one refusal.
  const logged = loggedRecipients(unit.fields);
  const unnamed = bare.filter((f) => !recipients.some((r) => r.reply === f.reply));
  if (unnamed.length === 1 && logged.length === 1 && !byAddress.has(logged[0]!)) add(logged[0]!, unnamed[0]!.reply);
  // Refusals that stay unnamed beside named ones are events of their own, without a recipient (a
  // blocklist reply names the client, not the address); the same reply repeated by `Caused by:` once.
  if (recipients.length > 0) {
    const seen = new Set(recipients.map((r) => r.reply?.text));
    for (const f of bare) {
      if (seen.has(f.reply.text)) continue;
      seen.add(f.reply.text);
      recipients.push({ address: null, reply: f.reply });
    }
  }

  let reply: Reply;
  let stage: Stage;
  let sender: string | null = s.transcriptSender;
  const sendErr = s.send.find(isError);
  const transcriptFirst = s.transcript[0];
  if (sendErr !== undefined) {
    reply = sendErr;
    if (s.sender.length > 0) stage = 'mail';
    else if (s.frameStage !== null) stage = s.frameStage;
    else if (transcriptFirst !== undefined) stage = transcriptFirst.stage;
    else stage = DATA_WORD.test(sendErr.text) ? 'data' : 'end_of_data';
    if (stage === 'mail') sender = addressOfReply(s.sender[0]?.reply.text ?? sendErr.text) ?? sender;
  } else if (fails.length > 0 || recipients.some((r) => r.reply !== null)) {
    reply = fails[0]?.reply ?? recipients.find((r) => r.reply !== null)!.reply!;
    stage = 'rcpt';
  } else if (s.sender.length > 0) {
    reply = s.sender[0]!.reply;
    stage = 'mail';
    sender = s.sender[0]!.address ?? sender;
  } else if (s.auth.length > 0) {
    reply = s.auth[0]!;
    stage = 'auth';
  } else if (s.greeting.length > 0) {
    reply = s.greeting[0]!;
    stage = 'connect';
  } else if (s.generic.length > 0 || s.spring.length > 0) {
    reply = (s.generic[0] ?? s.spring[0])!;
    stage = s.frameStage ?? 'unknown';
  } else if (transcriptFirst !== undefined) {
    reply = transcriptFirst.reply;
    stage = transcriptFirst.stage;
  } else if (s.debug.length > 0) {
    reply = s.debug[0]!;
    stage = s.frameStage ?? 'unknown';
  } else if (recipients.length > 0) {
    reply = NO_REPLY;
    stage = 'rcpt';
  } else return null;
  if (!isError(reply)) return null;

  // A refusal of the whole message (DATA, end of data) names no recipient: the logged ones are its.
  if (recipients.length === 0 && (stage === 'data' || stage === 'end_of_data')) for (const a of logged) add(a, null);

  const mailHeader = s.headers.find((h) => h.role !== 'spring' && h.role !== 'other');
  const springHeader = s.headers.find((h) => h.role === 'spring');
  const onlySpring = mailHeader === undefined && springHeader !== undefined && s.debug.length === 0;
  // The exception is the outermost one the application logged (Spring's wrapper included); the
  // library is the one that spoke SMTP, Spring only when no mail package shows.
  const outer = s.headers.find((h) => h.role !== 'other');
  return {
    library: onlySpring ? 'spring' : libraryOf(text),
    exception: outer?.name ?? null,
    reply,
    codeCandidates: null,
    stage,
    recipients,
    accepted: [...s.lists.validSent],
    sender,
    messageId: bareMessageId(str(unit.fields, 'messageId', 'message_id', 'Message-ID', 'mailMessageId')),
    relay: s.relay,
  };
}

/** Entry fields that name the recipients an application was sending to (MDC, structured arguments). */
const RECIPIENT_FIELDS = ['mailTo', 'mail_to', 'mailRecipient', 'mailRecipients', 'to', 'recipient', 'recipients', 'rcpt', 'rcpt_to', 'emailTo', 'email_to'];

function loggedRecipients(fields: AppUnit['fields']): string[] {
  if (fields === null) return [];
  for (const k of RECIPIENT_FIELDS) {
    const v = fields[k];
    const list =
      typeof v === 'string' ? addressesIn(v) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').flatMap((x) => addressesIn(x)) : [];
    if (list.length > 0) return list;
  }
  return [];
}

/** Units a JavaMail-family parser reads: its packages, its exception names, its debug output. */
const MARKERS = [
  'javax.mail',
  'jakarta.mail',
  'com.sun.mail',
  'org.eclipse.angus',
  'org.springframework.mail',
  'SendFailedException',
  'SMTPAddressFailedException',
  'SMTPSendFailedException',
  'SMTPSenderFailedException',
  'AuthenticationFailedException',
  'MessagingException',
  'DEBUG SMTP',
];

/** JavaMail (javax.mail), Jakarta Mail, Eclipse Angus Mail and Spring's MailSendException. */
export const javaParser: EcosystemParser = {
  ecosystem: 'java',
  claims(unit: AppUnit): boolean {
    return MARKERS.some((m) => unit.text.includes(m));
  },
  parse(unit: AppUnit): AppErrorFields | null {
    try {
      return parseJava(unit);
    } catch {
      return null;
    }
  },
};
