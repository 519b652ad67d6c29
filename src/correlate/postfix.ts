/**
 * Joins Postfix records by queue ID so every rejection carries its message's Message-ID, envelope
 * sender, client, size, recipient count and the outcome of the message's other recipients.
 *
 * The only stateful step of the pipeline (STYLE.md). State is one entry per open message, keyed by
 * MTA host and queue ID, closed at qmgr `removed` (a queue ID may be reused after it), at a cleanup
 * END-OF-MESSAGE reject (the message never reaches the queue), after an idle time without a line, or
 * when more than `maxOpenMessages` are open (the least recently seen is evicted). Events of a message
 * wait for its close, so they can report the other recipients' outcomes; evictions and end of input
 * flush them with `message.complete = false`. Nothing is dropped.
 */
import { createHash } from 'node:crypto';
import { domainOf } from '../model/address.js';
import type { MessageLinks, RecipientOutcome, RejectionEvent, SourceRef, YearSource } from '../model/event.js';
import type {
  Envelope,
  HostRef,
  PostfixActionRecord,
  PostfixDeliveryRecord,
  PostfixRecord,
} from '../model/records.js';

/** One decoded line with its place and resolved time: what the pipeline hands the correlator. */
export interface Observation {
  record: PostfixRecord;
  envelope: Envelope;
  daemon: string;
  timeMs: number | null;
  yearSource: YearSource;
  source: SourceRef;
  raw: string;
}

export interface CorrelatorOptions {
  /**
   * Most messages kept open at once (default 100,000). A busy MTA has a few thousand in flight; the
   * default leaves room for a deferred queue of tens of thousands at about 1-2 KiB each.
   */
  maxOpenMessages?: number;
  /**
   * Log time without a line after which an open message is closed (default 6 h). Postfix retries a
   * deferred message at most every maximal_backoff_time (4000 s by default), so a live message is
   * seen well within it.
   */
  idleTimeoutMs?: number;
  /** Most other recipients listed on an event (default 50); the counts by status cover all of them. */
  maxListedRecipients?: number;
}

export interface CorrelatorStats {
  messagesOpened: number;
  messagesClosed: number;
  evictedIdle: number;
  evictedOverflow: number;
  openAtEnd: number;
  /** Actions that refuse nothing (`reject_warning`, `discard`, `hold`...), by action. */
  nonRefusingActions: Record<string, number>;
}

export interface CorrelatorSink {
  event(event: RejectionEvent): void;
  /** One delivery outcome of one recipient (sent, deferred, bounced, expired, rejected). */
  outcome(domain: string | null, status: string): void;
}

interface MessageState {
  key: string;
  host: string | null;
  queueId: string;
  lastSeenMs: number | null;
  client: (HostRef & { helo: string | null }) | null;
  originClient: (HostRef & { helo: string | null }) | null;
  messageId: string | null;
  sender: string | null;
  size: number | null;
  nrcpt: number | null;
  recipients: Map<string, RecipientOutcome>;
  pending: RejectionEvent[];
  links: MessageLinks;
  sawStart: boolean;
}

/** Actions whose reply refused the command (the others only log, hold or redirect). */
const REFUSING_ACTIONS: ReadonlySet<string> = new Set(['reject', 'milter-reject', 'proxy-reject']);
/** Delivery statuses that are not refusals. */
const NOT_REFUSED: ReadonlySet<string> = new Set(['sent', 'deliverable']);

function eventId(source: SourceRef, raw: string): string {
  return createHash('sha256').update(`${source.file}\n${source.line}\n${raw}`).digest('hex').slice(0, 20);
}

function isLoopback(ip: string | null): boolean {
  return ip !== null && (ip.startsWith('127.') || ip === '::1');
}

/** A three-digit code for a refusal the log gave none for (see README "Reply codes"). */
function inferCode(enhanced: string | null): number | null {
  if (enhanced === null) return null;
  if (enhanced.startsWith('5.')) return 550;
  if (enhanced.startsWith('4.')) return 450;
  return null;
}

export class PostfixCorrelator {
  private readonly open = new Map<string, MessageState>();
  private readonly maxOpen: number;
  private readonly idleMs: number;
  private readonly maxListed: number;
  /** The time of the latest line with a time: idle is measured against it, not against the maximum seen, so
   * inputs that go back in time (unrelated files) do not evict everything. */
  private nowMs: number | null = null;
  readonly stats: CorrelatorStats = {
    messagesOpened: 0,
    messagesClosed: 0,
    evictedIdle: 0,
    evictedOverflow: 0,
    openAtEnd: 0,
    nonRefusingActions: {},
  };

  constructor(private readonly sink: CorrelatorSink, options: CorrelatorOptions = {}) {
    this.maxOpen = options.maxOpenMessages ?? 100_000;
    this.idleMs = options.idleTimeoutMs ?? 6 * 3600 * 1000;
    this.maxListed = options.maxListedRecipients ?? 50;
  }

  get openMessages(): number {
    return this.open.size;
  }

  push(o: Observation): void {
    if (o.timeMs !== null) this.nowMs = o.timeMs;
    const r = o.record;
    switch (r.kind) {
      case 'postfix.smtpd.client': {
        const m = this.touch(o, r.queueId);
        m.client = { ...r.client, helo: m.client?.helo ?? null };
        m.sawStart = true;
        break;
      }
      case 'postfix.cleanup.message_id':
        this.touch(o, r.queueId).messageId = r.messageId;
        break;
      case 'postfix.qmgr.envelope': {
        const m = this.touch(o, r.queueId);
        m.sender = r.from;
        m.size = r.size;
        m.nrcpt = r.nrcpt;
        m.sawStart = true;
        break;
      }
      case 'postfix.qmgr.expired': {
        const m = this.touch(o, r.queueId);
        if (m.sender === null) m.sender = r.from;
        for (const rcpt of m.recipients.values()) {
          if (rcpt.status === 'deferred') {
            rcpt.status = 'expired';
            this.sink.outcome(domainOf(rcpt.address), 'expired');
          }
        }
        break;
      }
      case 'postfix.qmgr.removed': {
        const m = this.open.get(this.key(o, r.queueId));
        if (m !== undefined) this.close(m, true);
        break;
      }
      case 'postfix.bounce.notification': {
        const parent = this.touch(o, r.queueId);
        parent.links.notificationQueueId = r.notificationQueueId;
        const child = this.touch(o, r.notificationQueueId);
        this.link(parent, child, 'non_delivery_notification');
        break;
      }
      case 'postfix.delivery':
        this.delivery(o, r);
        break;
      case 'postfix.action':
        this.action(o, r);
        break;
    }
    this.evictIdle();
  }

  /** Closes every open message, emitting what waits; call at the end of input. */
  flush(): void {
    this.stats.openAtEnd = this.open.size;
    for (const m of [...this.open.values()]) this.close(m, false);
  }

  // ------------------------------------------------------------------ records

  private delivery(o: Observation, r: PostfixDeliveryRecord): void {
    const m = this.touch(o, r.queueId);
    m.recipients.delete(r.to); // re-insert so the map keeps last-touched order
    m.recipients.set(r.to, { address: r.to, status: r.status, dsn: r.dsn, relay: r.relay });
    const domain = domainOf(r.to);
    this.sink.outcome(domain, r.status);

    if (r.status === 'sent' && r.queuedAs !== null) {
      // A hand-off (content filter, local relay) re-queued the message under a new ID.
      const childKey = this.key(o, r.queuedAs);
      if (this.open.has(childKey) || isLoopback(r.relayHost?.ip ?? null)) {
        this.link(m, this.touch(o, r.queuedAs), 'content_filter');
      }
    }
    if (NOT_REFUSED.has(r.status)) return;

    let code = r.reply?.code ?? null;
    let codeInferred = false;
    const replyEnhanced = r.reply?.enhanced ?? null;
    const enhanced = replyEnhanced ?? r.dsn;
    if (code === null) {
      // Local agents and non-SMTP failures log no code: a permanent one is a 5xx refusal (dsn 5.x.x).
      if (r.status === 'deferred') return;
      code = inferCode(enhanced);
      codeInferred = code !== null;
    }
    if (code === null || code < 500 || code > 599) return;

    m.pending.push({
      id: eventId(o.source, o.raw),
      time: o.timeMs === null ? null : new Date(o.timeMs).toISOString(),
      yearSource: o.yearSource,
      source: o.source,
      mta: { host: o.envelope.host, program: o.envelope.program, daemon: o.daemon },
      direction: 'outbound',
      outcome: r.status,
      action: null,
      queueId: r.queueId,
      messageId: null,
      sender: null,
      recipient: r.to,
      recipientDomain: domain,
      originalRecipient: r.origTo,
      stage: r.stage,
      code,
      codeInferred,
      enhancedStatus: enhanced,
      enhancedStatusSource: replyEnhanced !== null ? 'reply' : r.dsn !== null ? 'dsn' : null,
      reply: r.reply?.text ?? r.detail,
      remote: r.remote ?? r.relayHost,
      client: null,
      relay: r.relay,
      message: null,
      classification: null,
      raw: o.raw,
    });
  }

  private action(o: Observation, r: PostfixActionRecord): void {
    if (!REFUSING_ACTIONS.has(r.action)) {
      this.stats.nonRefusingActions[r.action] = (this.stats.nonRefusingActions[r.action] ?? 0) + 1;
      return;
    }
    const m = r.queueId === null ? null : this.touch(o, r.queueId);
    let code = r.reply.code;
    let codeInferred = false;
    if (code === null) {
      // cleanup's milter and header/body rejects log only the enhanced status; smtpd sends it with
      // a 5xx (4xx) code on the wire.
      code = inferCode(r.reply.enhanced);
      codeInferred = code !== null;
    }
    const domain = domainOf(r.to);
    if (code !== null && code >= 500 && r.to !== null) {
      if (m !== null) {
        m.recipients.delete(r.to);
        m.recipients.set(r.to, { address: r.to, status: 'rejected', dsn: r.reply.enhanced, relay: null });
      }
      this.sink.outcome(domain, 'rejected');
    }
    const client = r.client === null ? null : { ...r.client, helo: r.helo };
    if (m !== null && client !== null && m.client === null) m.client = client;
    if (m !== null && m.client !== null && m.client.helo === null && r.helo !== null) m.client.helo = r.helo;
    if (m !== null && m.sender === null && r.from !== null) m.sender = r.from;
    if (code === null || code < 500 || code > 599) {
      if (m !== null && r.stage === 'end_of_data' && o.daemon === 'cleanup') this.close(m, true);
      return;
    }
    const event: RejectionEvent = {
      id: eventId(o.source, o.raw),
      time: o.timeMs === null ? null : new Date(o.timeMs).toISOString(),
      yearSource: o.yearSource,
      source: o.source,
      mta: { host: o.envelope.host, program: o.envelope.program, daemon: o.daemon },
      direction: 'inbound',
      outcome: 'rejected',
      action: r.action,
      queueId: r.queueId,
      messageId: null,
      sender: r.from,
      recipient: r.to,
      recipientDomain: domain,
      originalRecipient: null,
      stage: r.stage,
      code,
      codeInferred,
      enhancedStatus: r.reply.enhanced,
      enhancedStatusSource: r.reply.enhanced === null ? null : 'reply',
      reply: r.reply.text,
      remote: null,
      client,
      relay: null,
      message: null,
      classification: null,
      raw: o.raw,
    };
    if (m === null) {
      this.sink.event(event);
      return;
    }
    m.pending.push(event);
    // A refusal at end of data in cleanup means the message never entered the queue: no `removed`
    // will follow, so close it now.
    if (r.stage === 'end_of_data' && o.daemon === 'cleanup') this.close(m, true);
  }

  // ------------------------------------------------------------------ state

  private key(o: Observation, queueId: string): string {
    return `${o.envelope.host ?? ''}|${queueId}`;
  }

  /** The open message for a queue ID, created when new, moved to the most-recent end. */
  private touch(o: Observation, queueId: string): MessageState {
    const key = this.key(o, queueId);
    let m = this.open.get(key);
    if (m === undefined) {
      m = {
        key,
        host: o.envelope.host,
        queueId,
        lastSeenMs: o.timeMs,
        client: null,
        originClient: null,
        messageId: null,
        sender: null,
        size: null,
        nrcpt: null,
        recipients: new Map(),
        pending: [],
        links: { parentQueueId: null, relation: null, queueIdChain: [queueId], notificationQueueId: null },
        sawStart: false,
      };
      this.stats.messagesOpened++;
      this.open.set(key, m);
      while (this.open.size > this.maxOpen) {
        const oldest = this.open.values().next().value as MessageState;
        this.stats.evictedOverflow++;
        this.close(oldest, false);
      }
    } else {
      this.open.delete(key);
      this.open.set(key, m);
      if (o.timeMs !== null) m.lastSeenMs = o.timeMs;
    }
    return m;
  }

  private link(parent: MessageState, child: MessageState, relation: 'content_filter' | 'non_delivery_notification'): void {
    if (child === parent || child.links.parentQueueId !== null) return;
    child.links.parentQueueId = parent.queueId;
    child.links.relation = relation;
    child.links.queueIdChain = [...parent.links.queueIdChain, ...child.links.queueIdChain.slice(-1)];
    if (relation === 'content_filter') {
      child.originClient = parent.originClient ?? parent.client;
      if (child.messageId === null) child.messageId = parent.messageId;
    }
  }

  private evictIdle(): void {
    if (this.nowMs === null) return;
    const limit = this.nowMs - this.idleMs;
    for (const m of this.open.values()) {
      if (m.lastSeenMs === null || m.lastSeenMs >= limit) break;
      this.stats.evictedIdle++;
      this.close(m, false);
    }
  }

  private close(m: MessageState, ended: boolean): void {
    this.open.delete(m.key);
    this.stats.messagesClosed++;
    for (const e of m.pending) this.sink.event(this.complete(e, m, ended));
  }

  private complete(e: RejectionEvent, m: MessageState, ended: boolean): RejectionEvent {
    const others: RecipientOutcome[] = [];
    const byStatus: Record<string, number> = {};
    let final: string | null = null;
    for (const r of m.recipients.values()) {
      if (r.address === e.recipient) {
        final = r.status;
        continue;
      }
      byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      if (others.length < this.maxListed) others.push({ ...r });
    }
    const client = m.originClient ?? m.client;
    return {
      ...e,
      messageId: m.messageId,
      sender: e.sender ?? m.sender,
      client: e.client ?? (client === null ? null : { ...client }),
      message: {
        size: m.size,
        nrcpt: m.nrcpt,
        recipientFinalStatus: final,
        otherRecipients: others,
        otherRecipientsByStatus: byStatus,
        links: { ...m.links, queueIdChain: [...m.links.queueIdChain] },
        complete: ended && m.sawStart,
      },
    };
  }
}
