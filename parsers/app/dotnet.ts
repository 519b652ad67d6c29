/**
 * .NET SMTP errors (FORMATS.md 4): System.Net.Mail's SmtpException family, MailKit's SmtpCommandException
 * and protocol log, and the Exchange client's `Unexpected SMTP server response` errors.
 *
 * System.Net.Mail never prints the reply's number: SmtpException's message is the text its
 * GetMessageForStatus() gives the status code, then `The server response was: <reply text after the
 * code>` (dotnet/runtime src/libraries/System.Net.Mail: SmtpException.cs, Resources/Strings.resx,
 * SmtpCommands.cs). The number comes back from STATUS_TEXTS below, or exactly from the enum name
 * (`StatusCode: MailboxUnavailable`) when the application logged the property.
 * MailKit's SmtpCommandException message is the reply text without its code (multi-line replies
 * joined with `\n`); its properties ErrorCode, StatusCode and Mailbox say the rest when logged.
 */
import type { AppRecipientError, HostRef, Reply, Stage } from '../../src/model/records.js';
import { addressesIn, addressOfReply, bareMessageId, RECORD_TIMESTAMP, REPLY_LINE_START, replyCode, replyOf, str } from './reply.js';
import type { AppErrorFields, AppUnit, EcosystemParser } from './types.js';

interface StatusText {
  /** The message GetMessageForStatus() gives, as printed before `The server response was:`. */
  text: string;
  /** The SmtpStatusCode values that print this text, lowest first. */
  codes: number[];
  /** The switch's `default:` also prints this text, for every code the enum does not name (535, 521...). */
  orUnlisted?: boolean;
}

/**
 * System.Net.Mail status texts (SR strings of dotnet/runtime Strings.resx, chosen by
 * SmtpException.GetMessageForStatus). Texts of codes below 400 are left out: replies under 400 are
 * reported as `The server committed a protocol violation.`, never as an error status.
 */
const STATUS_TEXTS: readonly StatusText[] = [
  // Mailbox unavailable. The server response was: 5.1.1 <bob@example.org>: Recipient address rejected: User unknown
  // (SR.SmtpMailboxUnavailable, 550, and SR.SmtpMailboxBusy, 450, are the same text)
  { text: 'Mailbox unavailable.', codes: [450, 550] },
  // Transaction failed. The server response was: 5.7.1 Service unavailable; Client host [192.0.2.10] blocked
  { text: 'Transaction failed.', codes: [554] },
  // Syntax error, command unrecognized. The server response was: 5.7.3 Authentication unsuccessful
  { text: 'Syntax error, command unrecognized.', codes: [500], orUnlisted: true },
  // Syntax error in parameters or arguments. The server response was: 5.1.7 Bad sender address syntax
  { text: 'Syntax error in parameters or arguments.', codes: [501] },
  // Command not implemented. The server response was: 5.5.1 Command not implemented
  { text: 'Command not implemented.', codes: [502] },
  // Bad sequence of commands. The server response was: 5.5.1 Error: need MAIL command
  { text: 'Bad sequence of commands.', codes: [503] },
  // Command parameter not implemented. The server response was: 5.5.4 Unsupported option: SMTPUTF8
  { text: 'Command parameter not implemented.', codes: [504] },
  // Service not available, closing transmission channel. The server response was: 4.3.2 Service shutting down
  { text: 'Service not available, closing transmission channel.', codes: [421] },
  // Error in processing. The server response was: 4.3.0 Temporary lookup failure
  { text: 'Error in processing.', codes: [451] },
  // Insufficient system storage. The server response was: 4.5.3 Too many recipients
  { text: 'Insufficient system storage.', codes: [452] },
  // Client does not have permission to submit mail to this server. The server response was: 4.7.0 TLS first
  { text: 'Client does not have permission to submit mail to this server.', codes: [454] },
  // The SMTP server requires a secure connection or the client was not authenticated. The server response was: 5.7.57 Client not authenticated to send mail
  { text: 'The SMTP server requires a secure connection or the client was not authenticated.', codes: [530] },
  // User not local; please try a different path. The server response was: 5.1.6 Recipient no longer on server
  { text: 'User not local; please try a different path.', codes: [551] },
  // Exceeded storage allocation. The server response was: 5.2.2 Mailbox full
  { text: 'Exceeded storage allocation.', codes: [552] },
  // Mailbox name not allowed. The server response was: 5.7.1 <bob@example.org>: Relay access denied
  { text: 'Mailbox name not allowed.', codes: [553] },
  // [not verified] Requested action not taken: mailbox name not allowed. The server response was: ...
  // (named in the brief for 553; not a string of dotnet/runtime; kept for older runtimes such as Mono)
  { text: 'Requested action not taken: mailbox name not allowed.', codes: [553] },
];

/**
 * SmtpStatusCode names of System.Net.Mail and of MailKit (MailKit.Net.Smtp.SmtpStatusCode), as
 * applications log the property: the name gives the code exactly.
 */
const STATUS_NAMES: ReadonlyMap<string, number> = new Map<string, number>([
  ['ServiceNotAvailable', 421],
  ['PasswordTransitionNeeded', 432],
  ['MailboxBusy', 450],
  ['LocalErrorInProcessing', 451],
  ['ErrorInProcessing', 451],
  ['InsufficientStorage', 452],
  ['ClientNotPermitted', 454],
  ['TemporaryAuthenticationFailure', 454],
  ['CommandUnrecognized', 500],
  ['SyntaxError', 501],
  ['CommandNotImplemented', 502],
  ['BadCommandSequence', 503],
  ['CommandParameterNotImplemented', 504],
  ['MustIssueStartTlsFirst', 530],
  ['AuthenticationRequired', 530],
  ['AuthenticationMechanismTooWeak', 534],
  ['AuthenticationInvalidCredentials', 535],
  ['EncryptionRequiredForAuthenticationMechanism', 538],
  ['MailboxUnavailable', 550],
  ['UserNotLocalTryAlternatePath', 551],
  ['ExceededStorageAllocation', 552],
  ['MailboxNameNotAllowed', 553],
  ['TransactionFailed', 554],
  ['MailFromOrRcptToParametersNotRecognizedOrNotImplemented', 555],
]);

/** MailKit's SmtpErrorCode: which command the reply refused. */
const ERROR_CODES: ReadonlyMap<string, Stage> = new Map<string, Stage>([
  ['RecipientNotAccepted', 'rcpt'],
  ['SenderNotAccepted', 'mail'],
  // MailKit throws it for DATA/BDAT and for the reply after the message: mostly content refusals.
  ['MessageNotAccepted', 'end_of_data'],
]);

/** System.Net.Mail command classes in stack frames (SmtpCommands.cs), innermost frame first. */
const FRAME_CLASSES: readonly [string, Stage][] = [
  ['.RecipientCommand.', 'rcpt'],
  ['.MailCommand.', 'mail'],
  ['.DataStopCommand.', 'end_of_data'],
  ['.DataCommand.', 'data'],
  ['.EHelloCommand.', 'helo'],
  ['.HelloCommand.', 'helo'],
  ['.StartTlsCommand.', 'starttls'],
  ['.AuthCommand.', 'auth'],
  ['SmtpConnection.GetConnection', 'connect'],
];

/** MailKit SmtpClient methods in stack frames (names differ between versions: matched by part). */
const MAILKIT_METHODS: readonly [string, Stage][] = [
  ['RcptTo', 'rcpt'],
  ['MailFrom', 'mail'],
  ['Bdat', 'end_of_data'],
  ['Data', 'end_of_data'],
  ['Authenticate', 'auth'],
  ['Ehlo', 'helo'],
  ['Connect', 'connect'],
];

const SERVER_RESPONSE = 'The server response was: ';
const FRAME = /^at [\w$.<>`+[\],-]+\(/;
const CODE_COLON = /^([2-5]\d\d): /;
/** MailKit messages wrap over the reply's lines: a handful; 40 bounds a runaway unit. */
const MAX_WRAP = 40;

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 96;
}

interface Header {
  name: string;
  fqn: string;
  msg: string;
  line: number;
}

/** `Namespace.NameException: message` on one line (also after ` ---> `); message up to the next header. */
function headersIn(line: string, li: number): Header[] {
  const out: Header[] = [];
  let from = 0;
  let prev: { name: string; fqn: string; msgStart: number } | null = null;
  for (;;) {
    const i = line.indexOf('Exception:', from);
    if (i < 0) break;
    from = i + 10;
    let s = i;
    while (s > 0 && isNameChar(line.charCodeAt(s - 1))) s--;
    const fqn = line.slice(s, i + 9);
    const name = fqn.slice(fqn.lastIndexOf('.') + 1);
    if (prev !== null) out.push({ name: prev.name, fqn: prev.fqn, msg: line.slice(prev.msgStart, s), line: li });
    prev = { name, fqn, msgStart: line.charCodeAt(i + 10) === 32 ? i + 11 : i + 10 };
  }
  if (prev !== null) out.push({ name: prev.name, fqn: prev.fqn, msg: line.slice(prev.msgStart), line: li });
  return out;
}

function endsWrap(line: string): boolean {
  const t = line.trim();
  if (t === '' || FRAME.test(t) || t.startsWith('---') || RECORD_TIMESTAMP.test(t)) return true;
  if (t.startsWith('C: ') || t.startsWith('S: ')) return true;
  if (['ErrorCode', 'StatusCode', 'Mailbox', 'FailedRecipient', 'HResult', 'Source', 'StackTrace'].some((p) => t.startsWith(p))) return true;
  return t.includes('Exception:');
}

/** The value after `Name: `, `Name = `, `"Name": "` in text, up to the end of its token. */
function propertyIn(text: string, name: string): string | null {
  let from = 0;
  for (;;) {
    const i = text.indexOf(name, from);
    if (i < 0) return null;
    from = i + name.length;
    if (i > 0 && isNameChar(text.charCodeAt(i - 1))) continue;
    let j = i + name.length;
    if (text[j] === '"' || text[j] === "'") j++;
    while (text[j] === ' ') j++;
    if (text[j] !== ':' && text[j] !== '=') continue;
    j++;
    while (text[j] === ' ' || text[j] === '"' || text[j] === "'") j++;
    let e = j;
    while (e < text.length && !'"\',}\n\r'.includes(text[e]!)) e++;
    const v = text.slice(j, e).trim();
    if (v !== '') return v;
  }
}

function fieldValue(fields: AppUnit['fields'], name: string): string | null {
  if (fields === null) return null;
  const v = fields[name];
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string' && v !== '') return v;
  if (v !== null && typeof v === 'object') {
    const a = (v as Record<string, unknown>).Address ?? (v as Record<string, unknown>).address;
    if (typeof a === 'string') return a;
  }
  return null;
}

/** The code a StatusCode property names: an enum name or a number. */
function codeOfStatus(v: string | null): number | null {
  if (v === null) return null;
  return STATUS_NAMES.get(v) ?? replyCode(v);
}


function cutInner(s: string): string {
  let e = s.length;
  for (const sep of [' ---> ', ' --> ']) {
    const i = s.indexOf(sep);
    if (i >= 0 && i < e) e = i;
  }
  return s.slice(0, e).trim();
}

interface Parsed {
  library: string;
  exception: string | null;
  reply: Reply;
  codeCandidates: number[] | null;
  stage: Stage;
  recipients: AppRecipientError[];
  accepted: string[];
  sender: string | null;
  relay: HostRef | null;
}

function frameStage(lines: string[]): Stage | null {
  for (const l of lines) {
    const t = l.trim();
    if (!FRAME.test(t)) continue;
    for (const [cls, stage] of FRAME_CLASSES) if (t.includes(cls)) return stage;
    const m = t.indexOf('MailKit.Net.Smtp.SmtpClient.');
    if (m >= 0) {
      const method = t.slice(m + 28, t.indexOf('(', m));
      for (const [part, stage] of MAILKIT_METHODS) if (method.includes(part)) return stage;
    }
  }
  return null;
}

/** System.Net.Mail: `<status text> The server response was: <text>`, once per failure logged. */
function systemNetMail(text: string, lines: string[], headers: Header[], unit: AppUnit): Parsed | null {
  const found: { row: StatusText; response: string }[] = [];
  const keys = new Set<string>();
  let from = 0;
  let nl = -1;
  for (;;) {
    const i = text.indexOf(SERVER_RESPONSE, from);
    if (i < 0) break;
    from = i + SERVER_RESPONSE.length;
    const before = text.slice(Math.max(0, i - 100), i).trimEnd();
    const row = STATUS_TEXTS.find((r) => before.endsWith(r.text));
    if (row === undefined) continue;
    // From one position to the next, the line end is found once (linear over many failures on one line).
    if (nl < from) {
      nl = text.indexOf('\n', from);
      if (nl < 0) nl = text.length;
    }
    // An SMTP reply line is at most 512 octets (RFC 5321 4.5.3.1.5): 1000 keeps the slice bounded.
    const response = cutInner(text.slice(from, Math.min(nl, from + 1000)));
    const key = `${row.text} ${response}`;
    if (response !== '' && !keys.has(key)) {
      keys.add(key);
      found.push({ row, response });
    }
  }
  const first = found[0];
  if (first === undefined) return null;
  const named = codeOfStatus(fieldValue(unit.fields, 'StatusCode') ?? propertyIn(text, 'StatusCode'));
  const replyFor = (f: { row: StatusText; response: string }): [Reply, number[] | null] => {
    const r = replyOf(f.response);
    if (named !== null) return [{ code: named, enhanced: r.enhanced, text: r.text }, null];
    if (f.row.orUnlisted === true) return [{ code: null, enhanced: r.enhanced, text: r.text }, null];
    if (f.row.codes.length === 1) return [{ code: f.row.codes[0]!, enhanced: r.enhanced, text: r.text }, null];
    return [{ code: null, enhanced: r.enhanced, text: r.text }, [...f.row.codes]];
  };
  const [reply, codeCandidates] = replyFor(first);
  const recipientException = headers.some((h) => h.name.startsWith('SmtpFailedRecipient'));
  const stage = frameStage(lines) ?? (recipientException ? 'rcpt' : 'unknown');
  const recipients: AppRecipientError[] = [];
  const listed = new Set<string>();
  let sender: string | null = null;
  const failed = fieldValue(unit.fields, 'FailedRecipient') ?? propertyIn(text, 'FailedRecipient');
  found.forEach((f, k) => {
    const address = addressOfReply(f.response) ?? (k === 0 && failed !== null ? (addressesIn(failed)[0] ?? null) : null);
    if (address === null) return;
    if (stage === 'rcpt' && !listed.has(address)) {
      listed.add(address);
      recipients.push({ address, reply: replyFor(f)[0] });
    }
    if (stage === 'mail' && sender === null) sender = address;
  });
  const outer = headers.find((h) => h.name.startsWith('Smtp'));
  return {
    library: 'System.Net.Mail',
    exception: outer?.name ?? null,
    reply,
    codeCandidates,
    stage,
    recipients,
    accepted: [],
    sender,
    relay: null,
  };
}

/** MailKit's SmtpCommandException / AuthenticationException with its logged properties. */
function mailKit(text: string, lines: string[], headers: Header[], unit: AppUnit): Parsed | null {
  const h = headers.find((x) => x.name === 'SmtpCommandException' || (x.name === 'AuthenticationException' && x.fqn.startsWith('MailKit')));
  if (h === undefined) return null;
  const parts = [h.msg];
  if (headers[headers.length - 1] === h || headers.filter((x) => x.line === h.line).pop() === h) {
    let j = h.line + 1;
    while (j < lines.length && j - h.line <= MAX_WRAP && !endsWrap(lines[j]!)) parts.push(lines[j++]!);
  }
  let msg = cutInner(parts.join('\n'));
  const named = codeOfStatus(fieldValue(unit.fields, 'StatusCode') ?? propertyIn(text, 'StatusCode'));
  let code = named;
  // [not verified] MailKit's AuthenticationException message as seen: `535: 5.7.8 Username and Password not accepted.`
  const cc = CODE_COLON.exec(msg);
  if (cc !== null) {
    code = Number(cc[1]);
    msg = `${cc[1]} ${msg.slice(cc[0].length)}`;
  }
  const r = replyOf(msg);
  if (r.text === '' || (cc === null && r.enhanced === null && named === null)) return null;
  const reply: Reply = { code: code ?? r.code, enhanced: r.enhanced, text: r.text };
  const errorCode = fieldValue(unit.fields, 'ErrorCode') ?? propertyIn(text, 'ErrorCode');
  const stage: Stage =
    h.name === 'AuthenticationException' ? 'auth' : ((errorCode !== null ? ERROR_CODES.get(errorCode) : undefined) ?? frameStage(lines) ?? 'unknown');
  const mailbox = fieldValue(unit.fields, 'Mailbox') ?? propertyIn(text, 'Mailbox');
  const address = (mailbox !== null ? addressesIn(mailbox)[0] : undefined) ?? addressOfReply(r.text);
  return {
    library: 'MailKit',
    exception: h.name,
    reply,
    codeCandidates: null,
    stage,
    recipients: stage === 'rcpt' && address !== null ? [{ address, reply }] : [],
    accepted: [],
    sender: stage === 'mail' ? address : null,
    relay: null,
  };
}

/** MailKit's documented catch block: the line after `StatusCode: <name>` says what was refused. */
const NOT_ACCEPTED: readonly [string, Stage][] = [
  ['Recipient not accepted: ', 'rcpt'],
  ['Sender not accepted: ', 'mail'],
  ['Message not accepted', 'end_of_data'],
];
const DOC_SAMPLE_PREFIX = 'Error sending message: ';

/**
 * MailKit's README sample for SmtpCommandException, printed to the console: `Error sending message:
 * <ex.Message>`, tab + `StatusCode: <ex.StatusCode>`, then tab + `Recipient not accepted: <ex.Mailbox>`,
 * `Sender not accepted: <ex.Mailbox>` or `Message not accepted.`. The exception is not named; MailKit's
 * StatusCode names give the code exactly.
 */
function mailKitSample(lines: string[]): Parsed | null {
  for (let k = 1; k < lines.length; k++) {
    const t = lines[k]!.trim();
    if (!t.startsWith('StatusCode: ')) continue;
    const code = STATUS_NAMES.get(t.slice(12).trim()) ?? replyCode(t.slice(12));
    const next = (lines[k + 1] ?? '').trim();
    const what = NOT_ACCEPTED.find(([p]) => next.startsWith(p));
    if (code === null || what === undefined) continue;
    // The message: from the `Error sending message: ` line (a multi-line reply wraps) up to StatusCode.
    let start = k - 1;
    while (start > 0 && k - start < MAX_WRAP && !lines[start]!.includes(DOC_SAMPLE_PREFIX)) start--;
    if (!lines[start]!.includes(DOC_SAMPLE_PREFIX)) start = k - 1;
    const first = lines[start]!;
    const at = first.indexOf(DOC_SAMPLE_PREFIX);
    const msg = [at >= 0 ? first.slice(at + DOC_SAMPLE_PREFIX.length) : first, ...lines.slice(start + 1, k)].join('\n');
    const r = replyOf(msg);
    if (r.text === '') continue;
    const reply: Reply = { code, enhanced: r.enhanced, text: r.text };
    const stage = what[1];
    const address = stage === 'end_of_data' ? null : (addressesIn(next.slice(what[0].length))[0] ?? addressOfReply(r.text));
    return {
      library: 'MailKit',
      exception: 'SmtpCommandException',
      reply,
      codeCandidates: null,
      stage,
      recipients: stage === 'rcpt' && address !== null ? [{ address, reply }] : [],
      accepted: [],
      sender: stage === 'mail' ? address : null,
      relay: null,
    };
  }
  return null;
}

/** Exchange's SMTP client: `Unexpected SMTP server response. Expected: 250, actual: 550, whole response: 550 ...`. */
function exchange(text: string, headers: Header[]): Parsed | null {
  const w = text.indexOf('whole response: ');
  const u = text.indexOf('Unexpected SMTP server response');
  if (w < 0 || u < 0) return null;
  let e = text.indexOf('\n', w);
  if (e < 0) e = text.length;
  const reply = replyOf(cutInner(text.slice(w + 16, e)));
  if (reply.code === null) return null;
  const exp = /^Expected: (\d{3})/.exec(text.slice(text.indexOf('Expected: ', u), text.indexOf('Expected: ', u) + 13));
  const invalid = headers.find((h) => h.name === 'InvalidRecipientsException');
  let stage: Stage = 'unknown';
  if (invalid !== undefined) stage = 'rcpt';
  else if (exp?.[1] === '220') stage = 'connect';
  else if (exp?.[1] === '354') stage = 'data';
  const recipients: AppRecipientError[] = [];
  if (stage === 'rcpt') {
    // [not verified] the recipients are named before the reply in parentheses.
    const named = invalid !== undefined ? addressesIn(invalid.msg.split('(')[0]!) : [];
    const list = named.length > 0 ? named : [addressOfReply(reply.text)].filter((a): a is string => a !== null);
    for (const address of list) recipients.push({ address, reply });
  }
  return {
    library: 'Exchange',
    exception: (invalid ?? headers[0])?.name ?? null,
    reply,
    codeCandidates: null,
    stage,
    recipients,
    accepted: [],
    sender: null,
    relay: null,
  };
}

interface Cmd {
  stage: Stage;
  address: string | null;
}

function commandOf(t: string): Cmd {
  const u = t.toUpperCase();
  const addr = (): string | null => addressOfReply(t.slice(t.indexOf(':') + 1));
  if (u.startsWith('RCPT TO:')) return { stage: 'rcpt', address: addr() };
  if (u.startsWith('MAIL FROM:')) return { stage: 'mail', address: addr() };
  if (u === 'DATA') return { stage: 'data', address: null };
  if (u.startsWith('BDAT ')) return { stage: 'end_of_data', address: null };
  if (u.startsWith('EHLO ') || u.startsWith('HELO ') || u.startsWith('LHLO ')) return { stage: 'helo', address: null };
  if (u.startsWith('AUTH ')) return { stage: 'auth', address: null };
  if (u === 'STARTTLS') return { stage: 'starttls', address: null };
  return { stage: 'other', address: null };
}

/**
 * MailKit's ProtocolLogger: `C: ` lines sent, `S: ` lines received. With PIPELINING several commands
 * go before their replies, so replies answer the pending commands in order (RFC 2920).
 */
function protocolLog(lines: string[]): Parsed | null {
  const pending: Cmd[] = [];
  let head = 0;
  let replyLines: string[] = [];
  let inData = false;
  let inBdat = false;
  let authNext = false;
  let seenCommand = false;
  let sender: string | null = null;
  let relay: HostRef | null = null;
  const errors: { cmd: Cmd; reply: Reply }[] = [];
  const accepted: string[] = [];
  const acceptedSet = new Set<string>();
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith('Connected to ')) {
      const m = /^Connected to smtps?:\/\/([^:/\s]+)(?::(\d{1,5}))?/.exec(t);
      if (m !== null) relay = { name: m[1]!, ip: null, port: m[2] === undefined ? null : Number(m[2]) };
      continue;
    }
    if (t.startsWith('C: ')) {
      const p = t.slice(3);
      if (inBdat) continue;
      if (inData) {
        if (p === '.') {
          inData = false;
          pending.push({ stage: 'end_of_data', address: null });
        }
        continue;
      }
      seenCommand = true;
      if (authNext) {
        authNext = false;
        pending.push({ stage: 'auth', address: null });
        continue;
      }
      const cmd = commandOf(p);
      if (cmd.stage === 'mail') sender = cmd.address;
      if (cmd.stage === 'end_of_data') inBdat = true;
      pending.push(cmd);
      continue;
    }
    if (!t.startsWith('S: ')) continue;
    inBdat = false;
    const p = t.slice(3);
    if (REPLY_LINE_START.exec(p) === null) continue;
    replyLines.push(p);
    if (p.charAt(3) === '-') continue;
    const reply = replyOf(replyLines.join('\n'));
    replyLines = [];
    const cmd = pending[head] ?? { stage: seenCommand ? 'unknown' : 'connect', address: null };
    if (head < pending.length) head++;
    if (reply.code === 354) inData = true;
    else if (reply.code === 334) authNext = true;
    else if (reply.code !== null && reply.code >= 400) errors.push({ cmd, reply });
    else if (cmd.stage === 'rcpt' && cmd.address !== null && !acceptedSet.has(cmd.address)) {
      acceptedSet.add(cmd.address);
      accepted.push(cmd.address);
    }
  }
  const first = errors[0];
  if (first === undefined) return null;
  const recipients: AppRecipientError[] = [];
  const refused = new Set<string>();
  for (const e of errors) {
    if (e.cmd.stage !== 'rcpt' || e.cmd.address === null || refused.has(e.cmd.address)) continue;
    refused.add(e.cmd.address);
    recipients.push({ address: e.cmd.address, reply: e.reply });
  }
  return {
    library: 'MailKit',
    exception: null,
    reply: first.reply,
    codeCandidates: null,
    stage: first.cmd.stage,
    recipients,
    accepted,
    sender,
    relay,
  };
}

function parseDotnet(unit: AppUnit): AppErrorFields | null {
  const text = unit.text;
  const lines = text.split('\n');
  const headers: Header[] = [];
  lines.forEach((l, i) => {
    if (l.includes('Exception:')) headers.push(...headersIn(l, i));
  });
  const hasLog = lines.some((l) => l.trimStart().startsWith('S: '));
  const log = hasLog ? protocolLog(lines) : null;
  const p = systemNetMail(text, lines, headers, unit) ?? exchange(text, headers) ?? mailKit(text, lines, headers, unit) ?? mailKitSample(lines) ?? log;
  if (p === null) return null;
  // A protocol log in the same unit as another error (console output without headers): its refused
  // recipients are reported too, each with its own reply.
  if (log !== null && p !== log && p.recipients.length > 0) {
    for (const r of log.recipients) if (!p.recipients.some((x) => x.address === r.address)) p.recipients.push(r);
  }
  if (p.reply.code !== null && p.reply.code < 400) return null;
  return {
    ...p,
    messageId: bareMessageId(str(unit.fields, 'MessageId', 'messageId', 'message_id')),
  };
}

const MARKERS = [
  'System.Net.Mail',
  'SmtpException',
  'SmtpFailedRecipient',
  SERVER_RESPONSE,
  'MailKit',
  'SmtpCommandException',
  'Unexpected SMTP server response',
  'InvalidRecipientsException',
];

/** System.Net.Mail, MailKit (exceptions and protocol logs) and the Exchange SMTP client. */
export const dotnetParser: EcosystemParser = {
  ecosystem: 'dotnet',
  claims(unit: AppUnit): boolean {
    const t = unit.text;
    return MARKERS.some((m) => t.includes(m)) || (t.includes('StatusCode: ') && NOT_ACCEPTED.some(([p]) => t.includes(p))) || ((t.startsWith('S: ') || t.includes('\nS: ')) && (t.startsWith('C: ') || t.includes('\nC: ')));
  },
  parse(unit: AppUnit): AppErrorFields | null {
    try {
      return parseDotnet(unit);
    } catch {
      return null;
    }
  },
};
