/**
 * App-log fixtures produced by the real client libraries (issue #6, item 3).
 *
 * A scripted SMTP server (the npm `smtp-server` package on 127.0.0.1, a random port, no TLS) answers
 * by the table SCENARIOS below: each scenario has its own sender address (MAIL FROM and end-of-DATA
 * replies are keyed by it), its own recipients (RCPT replies are keyed by them) and, for the AUTH
 * scenario, its own user name. Real Nodemailer (in-process) and real Python smtplib (a child process
 * running smtplib_app.py, stdlib only) send every scenario and log what they got the way
 * applications do:
 *
 *   nodemailer-console     `console.error(err)` (util.inspect of the Error), per-recipient errors of a
 *                          partly refused send logged one by one, `console.log('Message sent: %s', id)`
 *   nodemailer-console-ts  an ISO timestamp line (`<iso> ERROR send failed`) before `console.error(err)`;
 *                          a partly refused send logs the whole `info` with `console.warn(info)`
 *   nodemailer-pino        real pino: `logger.error({ err, messageId, to }, 'send failed')`,
 *                          `logger.warn({ info }, 'some recipients were rejected')`
 *   python-logging         `logging.exception('send failed')`, format `%(asctime)s %(levelname)s %(name)s: %(message)s`,
 *                          a partly refused send: `logger.warning('refused: %r', refused)`
 *   python-json            the same calls through a python-json-logger-like formatter: one object per
 *                          line, the traceback in `exc_info`, extras `message_id` and `to`
 *
 * The truth of each scenario stays in the table (recipients, code, reply lines, stage);
 * `expectedEvents` derives what mta550 should extract from each log style, and every log comes with
 * the line range each scenario wrote, so events can be attributed to scenarios by `source.line`.
 */
import { spawn } from 'node:child_process';
import { Console } from 'node:console';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

// ---------------------------------------------------------------------------------- the truth

export type TruthStage = 'auth' | 'mail' | 'rcpt' | 'end_of_data';

/** One SMTP reply as the server sends it: the code, and each line's text after `550-`/`550 `. */
export interface ReplySpec {
  code: number;
  /** Enhanced status included in each line, as real servers write them. */
  lines: string[];
}

export interface Scenario {
  id: string;
  title: string;
  from: string;
  to: string[];
  /** AUTH with these credentials; the server refuses them with `reply`. */
  auth?: { user: string; pass: string; reply: ReplySpec };
  /** MAIL FROM refused. */
  mail?: ReplySpec;
  /** RCPT TO refused, per recipient (recipients not listed are accepted with 250). */
  rcpt?: Readonly<Record<string, ReplySpec>>;
  /** The message refused at end of DATA (after the final dot). */
  data?: ReplySpec;
}

const userUnknown = (a: string, suffix = ''): ReplySpec => ({ code: 550, lines: [`5.1.1 <${a}>: Recipient address rejected: User unknown${suffix}`] });

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'rcpt-single',
    title: 'RCPT 550 single-line',
    from: 'alerts@app.example.com',
    to: ['bob@example.org'],
    rcpt: { 'bob@example.org': userUnknown('bob@example.org') },
  },
  {
    id: 'rcpt-multiline',
    title: 'RCPT 550 multi-line (Gmail-like, an apostrophe in the text)',
    from: 'reports@app.example.com',
    to: ['dave@example.com'],
    rcpt: {
      'dave@example.com': {
        code: 550,
        lines: [
          '5.1.1 The email account that you tried to reach does not exist. Please try',
          "5.1.1 double-checking the recipient's email address for typos or",
          '5.1.1 unnecessary spaces. For more information, go to',
          '5.1.1 https://support.google.com/mail/?p=NoSuchUser a1si - gsmtp',
        ],
      },
    },
  },
  {
    id: 'mail-refused',
    title: 'MAIL FROM 550 (sender refused)',
    from: 'noreply@app.example.com',
    to: ['erin@example.org'],
    mail: { code: 550, lines: ['5.7.1 <noreply@app.example.com>: Sender address rejected: Access denied'] },
  },
  {
    id: 'data-spam',
    title: 'end of DATA 550 single-line',
    from: 'newsletter@app.example.com',
    to: ['frank@example.org'],
    data: { code: 550, lines: ['5.7.1 Message rejected as spam'] },
  },
  {
    id: 'data-multiline',
    title: 'end of DATA 550 multi-line (Gmail-like 5.7.26)',
    from: 'marketing@app.example.com',
    to: ['gina@example.com'],
    data: {
      code: 550,
      lines: [
        '5.7.26 This mail has been blocked because the sender is unauthenticated.',
        '5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.',
        '5.7.26 https://support.google.com/mail/answer/81126#authentication b2si - gsmtp',
      ],
    },
  },
  {
    id: 'data-554',
    title: 'end of DATA 554',
    from: 'invoices@app.example.com',
    to: ['hank@example.net'],
    data: { code: 554, lines: ['5.6.0 Transaction failed: malformed message headers'] },
  },
  {
    id: 'mixed-1-of-3',
    title: 'two recipients accepted, one refused at RCPT (the send succeeds)',
    from: 'orders@app.example.com',
    to: ['grace@example.com', 'heidi@example.com', 'ivan@example.org'],
    rcpt: { 'ivan@example.org': userUnknown('ivan@example.org', ' in local recipient table') },
  },
  {
    id: 'mixed-2-of-3',
    title: 'one recipient accepted, two refused at RCPT (the send succeeds)',
    from: 'digest@app.example.com',
    to: ['judy@example.org', 'liam@example.com', 'ken@example.net'],
    rcpt: {
      'judy@example.org': userUnknown('judy@example.org'),
      'ken@example.net': { code: 550, lines: ['5.7.1 <ken@example.net>: Relay access denied'] },
    },
  },
  {
    id: 'all-refused',
    title: 'all recipients refused at RCPT, one single-line, one multi-line reply',
    from: 'support@app.example.com',
    to: ['mallory@example.org', 'nina@example.net'],
    rcpt: {
      'mallory@example.org': userUnknown('mallory@example.org'),
      'nina@example.net': {
        code: 550,
        lines: ['5.7.1 Service unavailable; Client host [127.0.0.1] blocked using bl.example.net;', '5.7.1 see https://bl.example.net/lookup?ip=127.0.0.1'],
      },
    },
  },
  {
    id: 'auth-535',
    title: 'AUTH 535 (credentials refused)',
    from: 'billing@app.example.com',
    to: ['oscar@example.org'],
    auth: { user: 'mailer@app.example.com', pass: 'wrong-password', reply: { code: 535, lines: ['5.7.8 Authentication credentials invalid'] } },
  },
  {
    id: 'accepted',
    title: 'everything accepted (no event: a negative control)',
    from: 'welcome@app.example.com',
    to: ['pat@example.com'],
  },
];

/** One refusal the server gives, as the table says. `recipient` null: the transaction as a whole. */
export interface Refusal {
  recipient: string | null;
  stage: TruthStage;
  reply: ReplySpec;
}

export function refusalsOf(s: Scenario): Refusal[] {
  if (s.auth !== undefined) return [{ recipient: null, stage: 'auth', reply: s.auth.reply }];
  if (s.mail !== undefined) return [{ recipient: null, stage: 'mail', reply: s.mail }];
  const rcpt = s.to.filter((a) => s.rcpt?.[a] !== undefined).map((a) => ({ recipient: a, stage: 'rcpt' as const, reply: s.rcpt![a]! }));
  if (rcpt.length > 0) return rcpt;
  if (s.data !== undefined) return [{ recipient: null, stage: 'end_of_data', reply: s.data }];
  return [];
}

/** `sent`: nothing refused; `partial`: the send succeeded with some recipients refused; `failed`: it threw. */
export function outcomeOf(s: Scenario): 'sent' | 'partial' | 'failed' {
  const refusals = refusalsOf(s);
  if (refusals.length === 0) return 'sent';
  const refusedRcpts = refusals.filter((r) => r.stage === 'rcpt').length;
  if (refusedRcpts > 0 && refusedRcpts < s.to.length) return 'partial';
  return 'failed';
}

export function acceptedOf(s: Scenario): string[] {
  return outcomeOf(s) === 'failed' ? [] : s.to.filter((a) => s.rcpt?.[a] === undefined);
}

/**
 * How a multi-line reply reads in an event from a smtplib log. smtplib keeps only the text after each
 * line's `550-`/`550 ` (`b'5.1.1 a\n5.1.1 b'`), so the wire form (`550-5.1.1 a 550 5.1.1 b`) cannot be
 * known from the log: mta550 gives the code once and the lines joined (`550 5.1.1 a 5.1.1 b`),
 * `code-once`. `wire` is kept to show the difference in one switch.
 */
export const PYTHON_MULTILINE_REPLY: 'wire' | 'code-once' = 'code-once';

/** The reply as the server sent it, its lines joined with one space: `550-5.1.1 a 550 5.1.1 b`. */
export function wireReply(r: ReplySpec): string {
  return r.lines.map((l, i) => `${r.code}${i < r.lines.length - 1 ? '-' : ' '}${l}`).join(' ');
}

export function enhancedOf(r: ReplySpec): string | null {
  return /^([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(r.lines[0] ?? '')?.[1] ?? null;
}

// ---------------------------------------------------------------------------------- log styles

export type Style = 'nodemailer-console' | 'nodemailer-console-ts' | 'nodemailer-pino' | 'python-logging' | 'python-json';
export const STYLES: readonly Style[] = ['nodemailer-console', 'nodemailer-console-ts', 'nodemailer-pino', 'python-logging', 'python-json'];

interface StyleFacts {
  ecosystem: 'nodemailer' | 'python';
  library: 'nodemailer' | 'smtplib';
  /** The entry of a failed send carries the intended recipients (`to`): they are the refused ones at end of DATA. */
  logsTo: boolean;
  /** The entry carries the Message-ID: for a failed send, for a partly refused one. */
  messageIdFailed: boolean;
  messageIdPartial: boolean;
  /** The entry of a partly refused send lists the accepted recipients. */
  acceptedPartial: boolean;
}

export const STYLE_FACTS: Readonly<Record<Style, StyleFacts>> = {
  'nodemailer-console': { ecosystem: 'nodemailer', library: 'nodemailer', logsTo: false, messageIdFailed: false, messageIdPartial: false, acceptedPartial: false },
  'nodemailer-console-ts': { ecosystem: 'nodemailer', library: 'nodemailer', logsTo: false, messageIdFailed: false, messageIdPartial: true, acceptedPartial: true },
  'nodemailer-pino': { ecosystem: 'nodemailer', library: 'nodemailer', logsTo: true, messageIdFailed: true, messageIdPartial: true, acceptedPartial: true },
  'python-logging': { ecosystem: 'python', library: 'smtplib', logsTo: false, messageIdFailed: false, messageIdPartial: false, acceptedPartial: false },
  'python-json': { ecosystem: 'python', library: 'smtplib', logsTo: true, messageIdFailed: true, messageIdPartial: true, acceptedPartial: false },
};

export function messageIdOf(s: Scenario, style: Style): string {
  return `${STYLE_FACTS[style].ecosystem === 'python' ? 'py' : 'nm'}-${s.id}@app.example.com`;
}

const PY_EXCEPTION: Readonly<Record<TruthStage, string>> = {
  auth: 'SMTPAuthenticationError',
  mail: 'SMTPSenderRefused',
  rcpt: 'SMTPRecipientsRefused',
  end_of_data: 'SMTPDataError',
};

/** The fields of one event the test compares (a projection of RejectionEvent). */
export interface ExpectedEvent {
  recipient: string | null;
  recipientDomain: string | null;
  code: number;
  enhancedStatus: string | null;
  stage: TruthStage;
  reply: string;
  direction: 'submission';
  messageId: string | null;
  sender?: string;
  app: { ecosystem: string; library: string; accepted: string[]; exception?: string };
}

/**
 * What mta550 should extract from `style`'s entry for scenario `s`, in recipient order.
 *
 * Rules (the lead may want to revisit the ones marked *):
 *  - one event per refused recipient the error names, with that recipient's own reply;
 *  - AUTH and MAIL FROM refusals refuse the transaction, not a recipient: one event, recipient null,
 *    even where the entry logs `to` (as event.ts says of MAIL/CONNECT-stage refusals);
 *  - * an end-of-DATA refusal refuses every recipient of the message: one event per address in the
 *    entry's `to` field when the entry logs one (pino, python-json), else one event with recipient null;
 *  - reply: the wire text, lines joined with one space, `550-` continuation prefixes included. *For
 *    smtplib this means rebuilding them (see PYTHON_MULTILINE_REPLY);
 *  - messageId only where the entry carries it, else null; accepted only where the entry lists them;
 *  - * Python: `app.exception` is the exception class without its module, for a failed send;
 *    `sender` is asserted only for SMTPSenderRefused (the exception carries the address).
 */
export function expectedEvents(s: Scenario, style: Style): ExpectedEvent[] {
  const f = STYLE_FACTS[style];
  const outcome = outcomeOf(s);
  if (outcome === 'sent') return [];
  const messageId = (outcome === 'failed' ? f.messageIdFailed : f.messageIdPartial) ? messageIdOf(s, style) : null;
  const accepted = outcome === 'partial' && f.acceptedPartial ? acceptedOf(s) : [];
  const out: ExpectedEvent[] = [];
  for (const r of refusalsOf(s)) {
    const recipients = r.recipient !== null ? [r.recipient] : r.stage === 'end_of_data' && f.logsTo ? s.to : [null];
    for (const recipient of recipients) {
      const e: ExpectedEvent = {
        recipient,
        recipientDomain: recipient === null ? null : recipient.slice(recipient.indexOf('@') + 1).toLowerCase(),
        code: r.reply.code,
        enhancedStatus: enhancedOf(r.reply),
        stage: r.stage,
        reply: f.ecosystem === 'python' && PYTHON_MULTILINE_REPLY === 'code-once' ? `${r.reply.code} ${r.reply.lines.join(' ')}` : wireReply(r.reply),
        direction: 'submission',
        messageId,
        app: { ecosystem: f.ecosystem, library: f.library, accepted },
      };
      if (f.ecosystem === 'python' && outcome === 'failed') e.app.exception = PY_EXCEPTION[r.stage];
      if (f.ecosystem === 'python' && r.stage === 'mail') e.sender = s.from;
      out.push(e);
    }
  }
  return out.sort((a, b) => (a.recipient ?? '').localeCompare(b.recipient ?? ''));
}

// ---------------------------------------------------------------------------------- the server

export const NODE_HELO = 'node-app.test';
export const PYTHON_HELO = 'python-app.test';

/** One reply the server gave that was not a success: the harness's own check of the table. */
export interface JournalEntry {
  client: string;
  scenario: string;
  stage: TruthStage;
  recipient: string | null;
  code: number;
  lines: string[];
}

export interface ScriptedServer {
  port: number;
  journal: JournalEntry[];
  close(): Promise<void>;
}

function fail(r: ReplySpec): Error & { responseCode: number } {
  const err = new Error(r.lines.join(' ')) as Error & { responseCode: number };
  err.responseCode = r.code;
  // smtp-server sends an array message as a multi-line reply: `550-` on every line but the last
  // (send() in smtp-connection.js); a string is sanitised to one line.
  (err as { message: unknown }).message = r.lines.length > 1 ? r.lines : r.lines[0];
  return err;
}

export async function startServer(scenarios: readonly Scenario[] = SCENARIOS): Promise<ScriptedServer> {
  const bySender = new Map(scenarios.map((s) => [s.from.toLowerCase(), s]));
  const byUser = new Map(scenarios.filter((s) => s.auth !== undefined).map((s) => [s.auth!.user, s]));
  const journal: JournalEntry[] = [];
  const note = (session: SMTPServerSession, scenario: string, stage: TruthStage, recipient: string | null, r: ReplySpec) =>
    journal.push({ client: session.hostNameAppearsAs, scenario, stage, recipient, code: r.code, lines: r.lines });
  const scenarioOf = (session: SMTPServerSession) => (session.envelope.mailFrom ? bySender.get(session.envelope.mailFrom.address.toLowerCase()) : undefined);

  const server = new SMTPServer({
    name: 'relay.app.example.com',
    banner: 'ESMTP scripted relay',
    authOptional: true,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    hideENHANCEDSTATUSCODES: true,
    hideSMTPUTF8: true,
    hideDSN: true,
    logger: false,
    onAuth(auth, session, callback) {
      const s = byUser.get(auth.username ?? '');
      if (s?.auth !== undefined) {
        note(session, s.id, 'auth', null, s.auth.reply);
        callback(fail(s.auth.reply));
        return;
      }
      callback(null, { user: auth.username });
    },
    onMailFrom(from, session, callback) {
      const s = bySender.get(from.address.toLowerCase());
      if (s?.mail !== undefined) {
        note(session, s.id, 'mail', null, s.mail);
        callback(fail(s.mail));
        return;
      }
      callback();
    },
    onRcptTo(to, session, callback) {
      const s = scenarioOf(session);
      const r = s?.rcpt?.[to.address];
      if (s !== undefined && r !== undefined) {
        note(session, s.id, 'rcpt', to.address, r);
        callback(fail(r));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        const s = scenarioOf(session);
        if (s?.data !== undefined) {
          note(session, s.id, 'end_of_data', null, s.data);
          callback(fail(s.data));
          return;
        }
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.server.address();
      if (a === null || typeof a === 'string') reject(new Error('smtp-server: no port'));
      else resolve(a.port);
    });
  });
  return { port, journal, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// ---------------------------------------------------------------------------------- the logs

/** The lines (1-based, inclusive) one scenario wrote to one log. */
export interface LineRange {
  scenario: string;
  first: number;
  last: number;
}

export interface ProducedLog {
  style: Style;
  path: string;
  ranges: LineRange[];
}

/** A stream that keeps what it was given (a Console's output, like `node app.js 2>app.log`). */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  get lines(): number {
    return this.text === '' ? 0 : this.text.split('\n').length - 1;
  }
}

function lineCount(file: string): number {
  let t: string;
  try {
    t = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  return t === '' ? 0 : t.split('\n').length - 1;
}

/** Sends every scenario through real Nodemailer and writes the three Node log styles into `dir`. */
export async function produceNodeLogs(dir: string, port: number, scenarios: readonly Scenario[] = SCENARIOS): Promise<ProducedLog[]> {
  const plain = new Capture();
  const stamped = new Capture();
  const plainConsole = new Console({ stdout: plain, stderr: plain, colorMode: false });
  const stampedConsole = new Console({ stdout: stamped, stderr: stamped, colorMode: false });
  const pinoPath = path.join(dir, 'nodemailer-pino.log');
  writeFileSync(pinoPath, '');
  const logger = pino({ name: 'mailer' }, pino.destination({ dest: pinoPath, sync: true }));
  const ranges: Record<'plain' | 'stamped' | 'pino', LineRange[]> = { plain: [], stamped: [], pino: [] };
  const iso = () => new Date().toISOString();

  for (const s of scenarios) {
    const before = { plain: plain.lines, stamped: stamped.lines, pino: lineCount(pinoPath) };
    const messageId = `<${messageIdOf(s, 'nodemailer-pino')}>`;
    const to = s.to.length === 1 ? s.to[0]! : s.to;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      name: NODE_HELO,
      ...(s.auth !== undefined ? { auth: { user: s.auth.user, pass: s.auth.pass } } : {}),
    });
    try {
      const info = await transport.sendMail({ from: s.from, to, subject: `#6 fixture ${s.id}`, text: 'A test message.\n', messageId });
      if (info.rejected.length > 0) {
        const errors = (info as { rejectedErrors?: Error[] }).rejectedErrors ?? [];
        for (const e of errors) plainConsole.error(e);
        stampedConsole.warn(`${iso()} WARN some recipients were rejected`);
        stampedConsole.warn(info);
        logger.warn({ info }, 'some recipients were rejected');
      } else {
        plainConsole.log('Message sent: %s', info.messageId);
        stampedConsole.log(`${iso()} INFO message sent ${info.messageId}`);
        logger.info({ messageId: info.messageId, response: info.response }, 'message sent');
      }
    } catch (err) {
      plainConsole.error(err);
      stampedConsole.error(`${iso()} ERROR send failed`);
      stampedConsole.error(err);
      logger.error({ err, messageId, to }, 'send failed');
    } finally {
      transport.close();
    }
    ranges.plain.push({ scenario: s.id, first: before.plain + 1, last: plain.lines });
    ranges.stamped.push({ scenario: s.id, first: before.stamped + 1, last: stamped.lines });
    ranges.pino.push({ scenario: s.id, first: before.pino + 1, last: lineCount(pinoPath) });
  }
  const plainPath = path.join(dir, 'nodemailer-console.log');
  const stampedPath = path.join(dir, 'nodemailer-console-ts.log');
  writeFileSync(plainPath, plain.text);
  writeFileSync(stampedPath, stamped.text);
  return [
    { style: 'nodemailer-console', path: plainPath, ranges: ranges.plain },
    { style: 'nodemailer-console-ts', path: stampedPath, ranges: ranges.stamped },
    { style: 'nodemailer-pino', path: pinoPath, ranges: ranges.pino },
  ];
}

export const PYTHON_SCRIPT = fileURLToPath(new URL('./smtplib_app.py', import.meta.url));

/** Sends every scenario through Python smtplib (python3, stdlib only) and writes its two log styles into `dir`. */
export async function producePythonLogs(dir: string, port: number, scenarios: readonly Scenario[] = SCENARIOS): Promise<ProducedLog[]> {
  const table = path.join(dir, 'scenarios.json');
  writeFileSync(table, JSON.stringify(scenarios.map((s) => ({ ...s, messageId: `<${messageIdOf(s, 'python-json')}>` })), null, 2));
  const child = spawn('python3', [PYTHON_SCRIPT, String(port), table, dir, PYTHON_HELO], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', () => undefined);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`smtplib_app.py exited with ${code}: ${stderr}`);
  const ranges = JSON.parse(readFileSync(path.join(dir, 'python-ranges.json'), 'utf8')) as Record<'python-logging' | 'python-json', LineRange[]>;
  return [
    { style: 'python-logging', path: path.join(dir, 'python-logging.log'), ranges: ranges['python-logging'] },
    { style: 'python-json', path: path.join(dir, 'python-json.log'), ranges: ranges['python-json'] },
  ];
}
