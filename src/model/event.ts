import type { Classification } from '../classify/classify.js';
import type { Format } from './parser.js';
import type { Ecosystem, HostRef, Stage } from './records.js';

/**
 * inbound: our server refused a client. outbound: a remote server refused us. submission: an
 * application's SMTP client was refused by the relay or provider it submits to (app logs).
 */
export type Direction = 'inbound' | 'outbound' | 'submission';

/** How the year of a timestamp was found (FORMATS.md 0.2). `logged`: the line carries its own year. */
export type YearSource = 'logged' | 'explicit' | 'mtime' | 'now' | 'none';

/** Where a line came from. */
export interface SourceRef {
  format: Format;
  /** The path as the user gave it (or as a glob/directory expanded to), `-` for standard input. */
  file: string;
  /** 1-based line number within that file. */
  line: number;
  /** Byte offset of the line in the file (after decompression). */
  offset: number;
  /**
   * The file's identity: a hash of its first line (framing/lines.ts), the same for a renamed,
   * rotated or compressed copy. With the offset it makes event ids stable across batch and tail runs.
   */
  identity: string;
}

/** The outcome of one recipient of the same message, as the correlator last saw it. */
export interface RecipientOutcome {
  address: string;
  /** `sent`, `deferred`, `bounced`, `expired`, `rejected` (refused by our smtpd), ... */
  status: string;
  dsn: string | null;
  relay: string | null;
}

/**
 * How an event's message relates to other queue files: a content filter re-injection gets a new
 * queue ID (`queued as`), a non-delivery notification too (`sender non-delivery notification`).
 */
export interface MessageLinks {
  /** The queue ID of the message this one came from (content filter original, or a bounce's parent). */
  parentQueueId: string | null;
  relation: 'content_filter' | 'non_delivery_notification' | null;
  /** The queue IDs of this message from the first reception to this one, oldest first. */
  queueIdChain: string[];
  /** The queue ID of the non-delivery notification sent back for this message, when logged. */
  notificationQueueId: string | null;
}

/** One refused recipient (or one refused transaction for MAIL/CONNECT-stage refusals). */
export interface RejectionEvent {
  /**
   * Deterministic: a hash of the source's identity, the line's byte offset and the recipient, so the
   * same line read again (a restart, a batch run over the rotated file) gives the same id.
   */
  id: string;
  /** ISO 8601 in UTC, null when the line carries no time. */
  time: string | null;
  yearSource: YearSource;
  source: SourceRef;
  /** The MTA host that logged the line, and the daemon. */
  mta: { host: string | null; program: string | null; daemon: string };
  direction: Direction;
  /**
   * What happened to the recipient: `bounced` (a remote 5xx), `rejected` (our server refused),
   * `deferred` (a 5xx text inside a temporary failure, e.g. `refused to talk to me: 550`),
   * `expired`, `undeliverable` (an address-verification probe).
   */
  outcome: string;
  /** Postfix action for inbound refusals (`reject`, `milter-reject`, `proxy-reject`). */
  action: string | null;
  queueId: string | null;
  messageId: string | null;
  sender: string | null;
  recipient: string | null;
  /** Lower-cased, IDNA ASCII form (`xn--...`), so one domain groups whatever form was logged. */
  recipientDomain: string | null;
  originalRecipient: string | null;
  stage: Stage;
  code: number | null;
  /** True when the log had no three-digit code and `code` was derived (see README). */
  codeInferred: boolean;
  enhancedStatus: string | null;
  /** `reply` when the enhanced status was in the reply text, `dsn` when taken from Postfix's `dsn=`. */
  enhancedStatusSource: 'reply' | 'dsn' | null;
  /** The full reply (or the MTA's failure text when no remote reply exists). */
  reply: string;
  /** The server that refused us (outbound), null for inbound. */
  remote: HostRef | null;
  /** The client: the refused client (inbound), or the client that submitted the message (outbound). */
  client: (HostRef & { helo: string | null }) | null;
  relay: string | null;
  message: {
    size: number | null;
    nrcpt: number | null;
    /** This recipient's last known status when the message closed (a deferral may end `sent` or `expired`). */
    recipientFinalStatus: string | null;
    /** The other recipients of the same message and their last known outcome (the first 50). */
    otherRecipients: RecipientOutcome[];
    /** All other recipients counted by last known status. */
    otherRecipientsByStatus: Record<string, number>;
    links: MessageLinks;
    /** False when the message's start or end was not in the input (file edge, eviction). */
    complete: boolean;
  } | null;
  /** Subtype, side, provider, confidence, evidence and next move; set by the pipeline's classify step. */
  classification: Classification | null;
  raw: string;
  /** Only on events read from application logs (direction `submission`). */
  app?: AppContext;
}

/** What an application's error adds to its event (FORMATS.md 4). */
export interface AppContext {
  ecosystem: Ecosystem;
  /** `nodemailer`, `smtplib`, `jakarta.mail`, `System.Net.Mail`, `MailKit`, `PHPMailer`, `Net::SMTP`, `gomail`... */
  library: string;
  /** The exception class or error name as logged. */
  exception: string | null;
  /** Set when the error named a status shared by several codes (`code` is null then): the candidates. */
  codeCandidates: number[] | null;
  /** Recipients the same send had accepted, when the error lists them. */
  accepted: string[];
  /** The MTA's record of the same message or refusal in another input, when one was found. */
  link: AppLink | null;
}

/**
 * The join of an application's event with an MTA's record: by Message-ID (exact), or by recipient
 * within a time window (`inferred`: the same recipient refused near the same time, not proven).
 */
export interface AppLink {
  by: 'message-id' | 'recipient-time';
  inferred: boolean;
  /** The MTA event's id when the MTA logged a refusal; null when only its message record matched. */
  eventId: string | null;
  source: SourceRef;
  mtaHost: string | null;
  queueId: string | null;
  /** The MTA's reply text for the same refusal, when it logged one. */
  reply: string | null;
  /** Seconds from the MTA's record to the app's (positive: the app logged later). */
  offsetSeconds: number | null;
}

/** Per recipient domain delivery counts: the denominators rates are built on later. */
export interface DeliveryOutcome {
  domain: string;
  sent: number;
  deferred: number;
  bounced: number;
  rejected: number;
  expired: number;
}

/**
 * One delivery attempt of one recipient, as the correlators see it: the raw material of delivery
 * units and rates (every outcome, not only refusals).
 */
export interface DeliveryAttempt {
  timeMs: number | null;
  mtaHost: string | null;
  /** Queue ID (Postfix) or message ID (Exim): with the recipient domain it keys the delivery unit. */
  messageKey: string;
  recipient: string;
  recipientDomain: string | null;
  /** sent, deferred, bounced, expired, undeliverable. */
  status: string;
  code: number | null;
  enhancedStatus: string | null;
  reply: string | null;
  stage: Stage;
  /** The host that answered (or the next hop for a success). */
  remoteHost: string | null;
  remoteIp: string | null;
  sender: string | null;
  clientIp: string | null;
  /**
   * The Message-ID of the attempt's message when its MTA logged one (the re-send finding joins on
   * it). Internal: not written to attempt records, whose shape `aggregate` reads back.
   */
  messageId?: string | null;
}
