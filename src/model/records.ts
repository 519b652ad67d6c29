/**
 * What a parser's pure decoder returns for one unit (a line, a row, a block).
 *
 * Decoders never throw on data: a unit is a record, or it is `unsupported` (we know the envelope but
 * not the message), `malformed` (not this format at all), or `other` (a line from another program,
 * skipped and counted).
 */

/** A timestamp as the log wrote it. BSD syslog carries no year: the pipeline's clock adds it. */
export type LogTime =
  | { kind: 'absolute'; epochMs: number }
  | { kind: 'bsd'; month: number; day: number; hour: number; minute: number; second: number; ms: number }
  | { kind: 'none' };

/** The syslog-style envelope around an MTA's message. */
export interface Envelope {
  time: LogTime;
  /** Host field; for Postfix maillog_file it is the first label only. Null when the line has no header. */
  host: string | null;
  /** Full program tag, e.g. `postfix/submission/smtpd`. Null for header-less lines. */
  program: string | null;
  pid: number | null;
  /** Compose/Docker prefix (`mailstack-postfix-1`), when present. */
  container: string | null;
  /** The message after `tag[pid]: `. */
  message: string;
}

/** A remote or client host as logged: `name[ip]:port`. */
export interface HostRef {
  /** Host name; `unknown` when the client had no verified name; null when only `[ip]` was logged. */
  name: string | null;
  /** IP address, or for LMTP/pipe a socket path such as `private/dovecot-lmtp`. */
  ip: string | null;
  port: number | null;
}

/** SMTP stage of a refusal, normalised across MTAs. */
export type Stage =
  | 'connect'
  | 'helo'
  | 'starttls'
  | 'auth'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'end_of_data'
  | 'vrfy'
  | 'etrn'
  | 'other'
  | 'unknown';

/** A reply code split into its parts; every part optional since logs drop parts. */
export interface Reply {
  /** Three-digit SMTP code, null when the log has none (cleanup milter rejects, local bounces). */
  code: number | null;
  /** Enhanced status (RFC 3463) as found in the reply text, e.g. `5.7.26`. */
  enhanced: string | null;
  /** The whole reply as logged, multi-line replies flattened the way the MTA logged them. */
  text: string;
}

// ---------------------------------------------------------------- Postfix records

/** smtpd `QID: client=name[ip]`: the start of a queued message received over SMTP. */
export interface PostfixClientRecord {
  kind: 'postfix.smtpd.client';
  queueId: string;
  client: HostRef;
  origClient: HostRef | null;
  saslMethod: string | null;
  saslUsername: string | null;
}

/**
 * smtpd/postscreen/cleanup access-control actions: `reject:`, `reject_warning:`, `milter-reject:`,
 * `proxy-reject:`, `discard:`, `hold:`, `filter:`, `redirect:`, `warning:` ... with stage, client,
 * reply and the from/to/proto/helo tail (space- or comma-separated).
 */
export interface PostfixActionRecord {
  kind: 'postfix.action';
  /** Null for NOQUEUE. */
  queueId: string | null;
  action: string;
  /** Stage word as logged (`RCPT`, `END-OF-MESSAGE`, `header`, `body`...). */
  stageWord: string;
  stage: Stage;
  client: HostRef | null;
  reply: Reply;
  from: string | null;
  to: string | null;
  proto: string | null;
  helo: string | null;
  /** For header/body checks: the header or body text that matched. */
  matched: string | null;
}

/** cleanup `QID: message-id=<...>`. */
export interface PostfixMessageIdRecord {
  kind: 'postfix.cleanup.message_id';
  queueId: string;
  /** Without angle brackets; empty string for `message-id=<>`. */
  messageId: string;
}

/** qmgr `QID: from=<...>, size=N, nrcpt=N (queue active)`. */
export interface PostfixQmgrEnvelopeRecord {
  kind: 'postfix.qmgr.envelope';
  queueId: string;
  from: string;
  size: number | null;
  nrcpt: number | null;
}

/** qmgr `QID: removed`: the end of a queue file's life; the QID may be reused after this. */
export interface PostfixRemovedRecord {
  kind: 'postfix.qmgr.removed';
  queueId: string;
}

/** qmgr `QID: from=<...>, status=expired, returned to sender`. */
export interface PostfixExpiredRecord {
  kind: 'postfix.qmgr.expired';
  queueId: string;
  from: string;
}

/** A delivery agent's per-recipient status line (smtp, lmtp, local, virtual, pipe, error, ...). */
export interface PostfixDeliveryRecord {
  kind: 'postfix.delivery';
  queueId: string;
  /** The agent: the daemon name (`smtp`, `lmtp`, `local`, `virtual`, `pipe`, `error`, `discard`...). */
  agent: string;
  to: string;
  origTo: string | null;
  /** `relay=` value as logged (`mx.example.net[203.0.113.25]:25`, `none`, `local`, `dovecot`). */
  relay: string | null;
  relayHost: HostRef | null;
  delay: number | null;
  dsn: string | null;
  /** `sent`, `deferred`, `bounced`, `expired`, `undeliverable`, `deliverable`... */
  status: string;
  /** The parenthesised text after the status. */
  detail: string;
  /** When the detail quotes a remote server's reply (`host X said:`, `refused to talk to me:`). */
  remote: HostRef | null;
  reply: Reply | null;
  /** Stage from `(in reply to X command)`; `connect` for `refused to talk to me`. */
  stage: Stage;
  /** `queued as QID` at the end of a successful hand-off (content filter, relay). */
  queuedAs: string | null;
}

/** bounce `QID: sender non-delivery notification: NEWQID` (also postmaster/delay/success). */
export interface PostfixNotificationRecord {
  kind: 'postfix.bounce.notification';
  queueId: string;
  /** `sender non-delivery`, `postmaster non-delivery`, `sender delay`, `sender delivery status`... */
  notification: string;
  notificationQueueId: string;
}

export type PostfixRecord =
  | PostfixClientRecord
  | PostfixActionRecord
  | PostfixMessageIdRecord
  | PostfixQmgrEnvelopeRecord
  | PostfixRemovedRecord
  | PostfixExpiredRecord
  | PostfixDeliveryRecord
  | PostfixNotificationRecord;

// ---------------------------------------------------------------- Exim records

/** Exim's host field `H=name (helo) [ip]:port`; any part may be missing. */
export interface EximHost {
  name: string | null;
  helo: string | null;
  ip: string | null;
  port: number | null;
}

/** `<=` arrival: `1rAbCd-0001Xy-Zq <= alice@example.com H=... U=... P=esmtpsa S=2291 id=<Message-ID>`. */
export interface EximArrivalRecord {
  kind: 'exim.arrival';
  id: string;
  /** Envelope sender; empty for `<>` (a bounce). */
  sender: string;
  host: EximHost | null;
  user: string | null;
  protocol: string | null;
  size: number | null;
  /** The header Message-ID (`id=`), without angle brackets. */
  messageId: string | null;
  /** `R=` on a bounce: the Exim ID of the message it reports on. */
  parentId: string | null;
}

/**
 * `=>` delivery, `->` another address of the same delivery, `*>` suppressed (-N); and `==`
 * deferral, `**` permanent failure, with the failure text after the fields.
 */
export interface EximAddressRecord {
  kind: 'exim.delivery' | 'exim.defer' | 'exim.failure';
  id: string;
  flag: '=>' | '->' | '*>' | '==' | '**';
  recipient: string;
  /** The address as given before routing (`=> bob@example.net <alias@example.com>`). */
  originalRecipient: string | null;
  router: string | null;
  transport: string | null;
  /** `H=` of the delivery, or the `host H [ip]` inside a 4.92-layout error. */
  host: EximHost | null;
  /** `C="250 ..."` confirmation of a delivery. */
  confirmation: string | null;
  /** `defer (-44)`: Exim's errno for a deferral. */
  errno: number | null;
  /** The failure or deferral text after the fields, escapes decoded. */
  text: string | null;
  /** The remote reply inside the text (`550 5.1.1 ...`), multi-line joined with spaces. */
  reply: Reply | null;
  stage: Stage;
}

export interface EximCompletedRecord {
  kind: 'exim.completed';
  id: string;
}

/** `Message is frozen`, `Frozen (delivery error message)`, `frozen`. */
export interface EximFrozenRecord {
  kind: 'exim.frozen';
  id: string;
  text: string;
}

/**
 * Inbound refusals: `H=... F=<...> rejected RCPT <bob@example.org>: relay not permitted`,
 * `rejected MAIL <...>:`, `rejected after DATA:`, `rejected EHLO or HELO x:`, `dropped by 'connect' ACL:`.
 */
export interface EximRejectRecord {
  kind: 'exim.reject';
  /** The Exim ID when one was already allocated (after DATA). */
  id: string | null;
  stage: Stage;
  /** The verb phrase as logged (`rejected RCPT`, `temporarily rejected RCPT`, `rejected after DATA`). */
  what: string;
  temporary: boolean;
  host: EximHost | null;
  sender: string | null;
  recipient: string | null;
  /** The ACL's message; a code appears only when the message carries one. */
  reply: Reply;
}

export type EximRecord = EximArrivalRecord | EximAddressRecord | EximCompletedRecord | EximFrozenRecord | EximRejectRecord;

// ---------------------------------------------------------------- Exchange records

/** One row of an Exchange message tracking log (FORMATS.md 3.1), its fields mapped by `#Fields`. */
export interface ExchangeTrackingRecord {
  kind: 'exchange.tracking';
  /** RECEIVE, SUBMIT, SEND, SENDEXTERNAL, DELIVER, FAIL, DSN, DEFER, EXPAND, RESOLVE, ... (upper case). */
  eventId: string;
  /** SMTP, STOREDRIVER, ROUTING, AGENT, DSN, ... (upper case). */
  source: string;
  internalMessageId: string | null;
  /** Without `<>`. */
  messageId: string | null;
  /** 2013 and later: the message's id across the organisation's servers. */
  networkMessageId: string | null;
  /** `;`-joined in the log; `statuses` run parallel to it (per recipient when Exchange logs several). */
  recipients: string[];
  statuses: string[];
  sender: string | null;
  returnPath: string | null;
  client: HostRef | null;
  server: HostRef | null;
  originalClientIp: string | null;
  /** `Originating` (from our organisation) or `Incoming`. */
  directionality: string | null;
  totalBytes: number | null;
  recipientCount: number | null;
  connectorId: string | null;
  reference: string | null;
  relatedRecipient: string | null;
}

/**
 * One message of an Exchange Online message trace (FORMATS.md 3.2): a row of the admin-centre
 * summary CSV (every recipient in one `addr##Receive, Fail;...` cell) or one Get-MessageTrace JSON
 * object (one recipient). Each recipient's last status: Delivered, Failed, Pending, Quarantined,
 * FilteredAsSpam, Expanded, GettingStatus (JSON) or the summary's last event word (Deliver, Fail...).
 */
export interface ExchangeTraceRecord {
  kind: 'exchange.trace';
  messageId: string | null;
  /** network_message_id (CSV) or MessageTraceId (JSON). */
  traceId: string | null;
  sender: string | null;
  recipients: { address: string; status: string; detail: string | null }[];
  fromIp: string | null;
  toIp: string | null;
  directionality: string | null;
  size: number | null;
}

// ---------------------------------------------------------------- application exception records

/** The client library families whose SMTP errors mta550 reads from application logs (FORMATS.md 4). */
export type Ecosystem = 'nodemailer' | 'python' | 'java' | 'dotnet' | 'php' | 'ruby' | 'go';

/** One refused recipient as the application's error names it. */
export interface AppRecipientError {
  /** Null for a refusal whose reply names no address among others that do (JavaMail's nested exceptions). */
  address: string | null;
  /** This recipient's own reply, when the error carries one per recipient (smtplib's dict, Java's nested exceptions). */
  reply: Reply | null;
}

/**
 * An SMTP error an application logged (FORMATS.md 4): one exception, traceback or structured log
 * entry, assembled from its lines by the multi-line framer (src/framing/multiline.ts).
 */
export interface AppErrorRecord {
  kind: 'app.error';
  ecosystem: Ecosystem;
  /** The library as recognised: `nodemailer`, `smtplib`, `jakarta.mail`, `System.Net.Mail`, `MailKit`, `PHPMailer`... */
  library: string;
  /** The exception class or error name as logged (`SMTPRecipientsRefused`, `SendFailedException`, `EENVELOPE`...). */
  exception: string | null;
  /** The reply of the error as a whole (the first refused recipient's when only per-recipient replies exist). */
  reply: Reply;
  /**
   * When the error names a status but not its number and the name fits several codes (.NET's text
   * "Mailbox unavailable." is 450 MailboxBusy and 550 MailboxUnavailable): the candidates, lowest first.
   * `reply.code` stays null then.
   */
  codeCandidates: number[] | null;
  /** SMTP command the reply answered, when the error says so (`RCPT TO`, `DATA`, `MAIL FROM`). */
  stage: Stage;
  /** Refused recipients (empty when the error names none). */
  recipients: AppRecipientError[];
  /** Recipients the same send had accepted, when the error lists them (Nodemailer `accepted`, Java `validSent`). */
  accepted: string[];
  sender: string | null;
  /** Without angle brackets. */
  messageId: string | null;
  /** The SMTP server the application talked to (its relay or provider), when logged. */
  relay: HostRef | null;
}

/** Every record kind any parser can produce. */
export type LogRecord = PostfixRecord | EximRecord | ExchangeTrackingRecord | ExchangeTraceRecord | AppErrorRecord;

// ---------------------------------------------------------------- decoder results

export type Decoded =
  | { type: 'record'; envelope: Envelope; daemon: string; record: LogRecord }
  /** Several records on one line (a JSON export written on one line): the line counts once. */
  | { type: 'many'; items: { type: 'record'; envelope: Envelope; daemon: string; record: LogRecord }[] }
  /** The envelope is ours (a Postfix daemon) but the message is not one we decode. */
  | { type: 'unsupported'; envelope: Envelope; daemon: string }
  /** A syslog line of another program (dovecot, amavis, opendkim...), skipped and counted. */
  | { type: 'other'; envelope: Envelope; program: string }
  /** A line that belongs to the entry before it (Exim rejectlog header dumps), counted, not decoded. */
  | { type: 'continuation' }
  /** Not a line of this format at all (no envelope, garbage, truncated header). */
  | { type: 'malformed'; reason: string }
  /** Nothing to decode (an empty line). */
  | { type: 'blank' };
