/**
 * The bounded table of open messages that every MTA correlator keeps (the only state of the
 * pipeline, STYLE.md). One entry per open message, keyed by MTA host and queue/message ID, closed
 * when the MTA says the message is done, after an idle time without a line, or when more than
 * `maxOpenMessages` are open (the least recently seen first). Events of a message wait for its close
 * so they can report the other recipients' outcomes; evictions and end of input flush them with
 * `message.complete = false`. Nothing is dropped.
 */
import { hash } from 'node:crypto';
import type { DeliveryAttempt, MessageLinks, RecipientOutcome, RejectionEvent, SourceRef, YearSource } from '../model/event.js';
import type { Envelope, HostRef, LogRecord } from '../model/records.js';

/** One decoded line with its place and resolved time: what the pipeline hands a correlator. */
export interface Observation {
  record: LogRecord;
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
   * deferred message at most every maximal_backoff_time (4000 s by default) and Exim's default retry
   * rule every 2 h at most in its first day, so a live message is seen well within it.
   */
  idleTimeoutMs?: number;
  /** Most other recipients listed on an event (default 50); the counts by status cover all of them. */
  maxListedRecipients?: number;
  /**
   * Wall clock for live mode: when given, events waiting for their message to close are timed so
   * `expireWaiting` can release them after a bounded delay (tail). Batch runs wait for the close.
   */
  clock?: () => number;
}

export interface CorrelatorStats {
  messagesOpened: number;
  messagesClosed: number;
  evictedIdle: number;
  evictedOverflow: number;
  openAtEnd: number;
  /** Live mode: events released after waiting the maximum time for their message to close. */
  releasedWaiting: number;
  /** Postfix actions that refuse nothing (`reject_warning`, `discard`, `hold`...), by action. */
  nonRefusingActions: Record<string, number>;
}

export interface CorrelatorSink {
  event(event: RejectionEvent): void;
  /** One delivery outcome of one recipient (sent, deferred, bounced, expired, rejected). */
  outcome(domain: string | null, status: string): void;
  /** Every outbound delivery attempt, for delivery units and rates (onset detection). */
  attempt?(attempt: DeliveryAttempt): void;
}

/** What every correlator does with observations. */
export interface Correlator {
  readonly stats: CorrelatorStats;
  push(o: Observation): void;
  /** Closes every open message, emitting what waits; call at the end of input. */
  flush(): void;
  /** Messages open now. */
  readonly openMessages?: number;
  /** Live mode: emits events that have waited `maxWaitMs` or more (their message stays open). */
  expireWaiting?(nowMs: number, maxWaitMs: number): void;
  /** The first line of a waiting event (offset, and the number of lines before it), per source identity. */
  waitingFrom?(): Map<string, { offset: number; line: number }>;
}

export type ClientRef = HostRef & { helo: string | null };

export interface MessageState {
  /** The MTA host ('' when the log names none): the table's first key, the queue ID its second. */
  host: string;
  queueId: string;
  lastSeenMs: number | null;
  client: ClientRef | null;
  /** The outside client of the message this one was re-queued from (content filter). */
  originClient: ClientRef | null;
  messageId: string | null;
  sender: string | null;
  size: number | null;
  nrcpt: number | null;
  recipients: Map<string, RecipientOutcome>;
  pending: RejectionEvent[];
  links: MessageLinks;
  /** The line that starts the message (arrival, client=, qmgr from=) was seen. */
  sawStart: boolean;
  /** Live mode: wall time when the oldest of `pending` started waiting. */
  waitingSince: number | null;
  /** Neighbours in the table's least-recently-seen list (null at its ends and once closed). */
  older: MessageState | null;
  newer: MessageState | null;
}

/** The event id: source identity, byte offset and recipient (one line can refuse several recipients). */
export function eventId(source: SourceRef, recipient: string | null): string {
  // One-shot hash: the same digest as createHash().update().digest(), without a Hash object per event.
  return hash('sha256', `${source.identity}\n${source.offset}\n${recipient ?? ''}`, 'hex').slice(0, 20);
}

/** A three-digit code for a refusal the log gave none for (see README "Reply codes"). */
export function inferCode(enhanced: string | null): number | null {
  if (enhanced === null) return null;
  if (enhanced.startsWith('5.')) return 550;
  if (enhanced.startsWith('4.')) return 450;
  return null;
}

/** What a correlator tells about a refusal; baseEvent adds what every event takes from its line. */
export type EventFields = Pick<
  RejectionEvent,
  'direction' | 'outcome' | 'action' | 'queueId' | 'sender' | 'recipient' | 'recipientDomain' | 'originalRecipient' | 'stage' | 'code' | 'codeInferred' | 'enhancedStatus' | 'enhancedStatusSource' | 'reply' | 'remote' | 'client' | 'relay'
>;

/**
 * The fields every event shares, from its observation; the caller adds the rest. Written out field
 * by field (not spread): one object of a fixed shape, built without a property walk; the order of
 * the keys is the order of the events' JSON.
 */
export function baseEvent(o: Observation, f: EventFields): RejectionEvent {
  return {
    id: eventId(o.source, f.recipient),
    time: o.timeMs === null ? null : new Date(o.timeMs).toISOString(),
    yearSource: o.yearSource,
    source: o.source,
    mta: { host: o.envelope.host, program: o.envelope.program, daemon: o.daemon },
    messageId: null,
    direction: f.direction,
    outcome: f.outcome,
    action: f.action,
    queueId: f.queueId,
    sender: f.sender,
    recipient: f.recipient,
    recipientDomain: f.recipientDomain,
    originalRecipient: f.originalRecipient,
    stage: f.stage,
    code: f.code,
    codeInferred: f.codeInferred,
    enhancedStatus: f.enhancedStatus,
    enhancedStatusSource: f.enhancedStatusSource,
    reply: f.reply,
    remote: f.remote,
    client: f.client,
    relay: f.relay,
    message: null,
    classification: null,
    raw: o.raw,
  };
}

export class MessageTable {
  /**
   * Open messages by host and queue ID (two levels: no key string built per line), for lookup;
   * their least-recently-seen order is a linked list through the messages (`oldest` ... `newest`):
   * moving a message to the recent end on each of its lines is two pointer swaps, where re-inserting
   * it in a Map cost a delete and an insert per line (5% of a Postfix run).
   */
  private readonly open = new Map<string, Map<string, MessageState>>();
  private openCount = 0;
  private oldest: MessageState | null = null;
  private newest: MessageState | null = null;
  private readonly maxOpen: number;
  private readonly idleMs: number;
  private readonly maxListed: number;
  /**
   * The time of the latest line with a time: idle is measured against it, not against the maximum
   * seen, so inputs that go back in time (unrelated files) do not evict everything.
   */
  private nowMs: number | null = null;
  private readonly clock: (() => number) | undefined;
  /** Live mode: messages with waiting events, oldest wait first (entries of closed messages are skipped). */
  private readonly waiting: MessageState[] = [];
  /** When idle eviction last ran: it runs at most once per minute of log time. */
  private lastEvictionMs = -Infinity;
  readonly stats: CorrelatorStats = {
    messagesOpened: 0,
    messagesClosed: 0,
    evictedIdle: 0,
    evictedOverflow: 0,
    openAtEnd: 0,
    releasedWaiting: 0,
    nonRefusingActions: {},
  };

  constructor(
    private readonly sink: CorrelatorSink,
    options: CorrelatorOptions = {},
  ) {
    this.maxOpen = options.maxOpenMessages ?? 100_000;
    this.idleMs = options.idleTimeoutMs ?? 6 * 3600 * 1000;
    this.maxListed = options.maxListedRecipients ?? 50;
    this.clock = options.clock;
  }

  get size(): number {
    return this.openCount;
  }

  /** Notes the time of the line being handled. */
  observe(timeMs: number | null): void {
    if (timeMs !== null) this.nowMs = timeMs;
  }

  get(host: string | null, queueId: string): MessageState | undefined {
    return this.open.get(host ?? '')?.get(queueId);
  }

  /** The open message for an ID, created when new, moved to the most-recent end. */
  touch(host: string | null, queueId: string, timeMs: number | null): MessageState {
    const h = host ?? '';
    let byId = this.open.get(h);
    if (byId === undefined) {
      byId = new Map();
      this.open.set(h, byId);
    }
    let m = byId.get(queueId);
    if (m === undefined) {
      m = {
        host: h,
        queueId,
        lastSeenMs: timeMs,
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
        waitingSince: null,
        older: null,
        newer: null,
      };
      this.stats.messagesOpened++;
      byId.set(queueId, m);
      this.openCount++;
      this.append(m);
      while (this.openCount > this.maxOpen) {
        this.stats.evictedOverflow++;
        this.close(this.oldest!, false);
      }
    } else {
      if (m !== this.newest) {
        this.unlink(m);
        this.append(m);
      }
      if (timeMs !== null) m.lastSeenMs = timeMs;
    }
    return m;
  }

  /** Puts a message at the recent end of the list. */
  private append(m: MessageState): void {
    m.older = this.newest;
    m.newer = null;
    if (this.newest === null) this.oldest = m;
    else this.newest.newer = m;
    this.newest = m;
  }

  /** Takes a message out of the list. */
  private unlink(m: MessageState): void {
    if (m.older === null) this.oldest = m.newer;
    else m.older.newer = m.newer;
    if (m.newer === null) this.newest = m.older;
    else m.newer.older = m.older;
    m.older = null;
    m.newer = null;
  }

  /** Holds an event until its message closes (or, live, until it has waited long enough). */
  addPending(m: MessageState, e: RejectionEvent): void {
    m.pending.push(e);
    if (this.clock !== undefined && m.waitingSince === null) {
      m.waitingSince = this.clock();
      this.waiting.push(m);
    }
  }

  /** Emits the events that have waited `maxWaitMs` with what is known now; the message stays open. */
  expireWaiting(nowMs: number, maxWaitMs: number): void {
    while (this.waiting.length > 0) {
      const m = this.waiting[0]!;
      if (m.pending.length > 0 && m.waitingSince !== null && nowMs - m.waitingSince < maxWaitMs) break;
      this.waiting.shift();
      if (m.pending.length === 0 || m.waitingSince === null) continue; // closed meanwhile
      this.stats.releasedWaiting += m.pending.length;
      const events = m.pending;
      m.pending = [];
      m.waitingSince = null;
      for (const e of events) this.sink.event(this.complete(e, m, false));
    }
  }

  /** The oldest offset of a waiting event per source identity (live mode only). */
  waitingFrom(): Map<string, { offset: number; line: number }> {
    const out = new Map<string, { offset: number; line: number }>();
    for (const m of this.waiting) {
      for (const e of m.pending) {
        const prev = out.get(e.source.identity);
        if (prev === undefined || e.source.offset < prev.offset) out.set(e.source.identity, { offset: e.source.offset, line: e.source.line - 1 });
      }
    }
    return out;
  }

  /** Records a recipient's latest status (re-inserted so the map keeps last-touched order). */
  setRecipient(m: MessageState, outcome: RecipientOutcome): void {
    m.recipients.delete(outcome.address);
    m.recipients.set(outcome.address, outcome);
  }

  link(parent: MessageState, child: MessageState, relation: 'content_filter' | 'non_delivery_notification'): void {
    if (child === parent || child.links.parentQueueId !== null) return;
    child.links.parentQueueId = parent.queueId;
    child.links.relation = relation;
    child.links.queueIdChain = [...parent.links.queueIdChain, ...child.links.queueIdChain.slice(-1)];
    if (relation === 'content_filter') {
      child.originClient = parent.originClient ?? parent.client;
      if (child.messageId === null) child.messageId = parent.messageId;
    }
  }

  /** Closes the messages idle for longer than the timeout (the list is in last-touched order). */
  evictIdle(): void {
    // Once per minute of log time, not per line (a minute is nothing next to the idle timeout): the
    // moments at which idle messages close, and so the order of their events, stay as they were.
    if (this.nowMs === null || this.nowMs - this.lastEvictionMs < 60_000) return;
    this.lastEvictionMs = this.nowMs;
    const limit = this.nowMs - this.idleMs;
    for (let m = this.oldest; m !== null && m.lastSeenMs !== null && m.lastSeenMs < limit; m = this.oldest) {
      this.stats.evictedIdle++;
      this.close(m, false);
    }
  }

  close(m: MessageState, ended: boolean): void {
    // A message can be closed again after it left the table (its events are emitted either way).
    const byId = this.open.get(m.host);
    if (byId !== undefined && byId.get(m.queueId) === m) {
      byId.delete(m.queueId);
      // A host with nothing open leaves (the number of host names a log can show is not bounded).
      if (byId.size === 0) this.open.delete(m.host);
      this.openCount--;
      this.unlink(m);
    }
    this.stats.messagesClosed++;
    const events = m.pending;
    m.pending = [];
    m.waitingSince = null;
    for (const e of events) this.sink.event(this.complete(e, m, ended));
  }

  flush(): void {
    this.stats.openAtEnd = this.openCount;
    const all: MessageState[] = [];
    for (let m = this.oldest; m !== null; m = m.newer) all.push(m);
    for (const m of all) this.close(m, false);
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
    // The event is the pending list's own (made by baseEvent, seen by no one yet): completed in
    // place, its keys staying where they are, rather than copied whole.
    e.messageId = m.messageId;
    e.sender = e.sender ?? m.sender;
    e.client = e.client ?? (client === null ? null : { ...client });
    e.message = {
      size: m.size,
      nrcpt: m.nrcpt,
      recipientFinalStatus: final,
      otherRecipients: others,
      otherRecipientsByStatus: byStatus,
      links: { ...m.links, queueIdChain: [...m.links.queueIdChain] },
      complete: ended && m.sawStart,
    };
    return e;
  }
}

/** The frame every MTA correlator shares: a bounded table, a line handler, idle eviction after each line. */
export abstract class TableCorrelator implements Correlator {
  protected readonly table: MessageTable;

  constructor(
    protected readonly sink: CorrelatorSink,
    options: CorrelatorOptions = {},
  ) {
    this.table = new MessageTable(sink, options);
  }

  get stats(): CorrelatorStats {
    return this.table.stats;
  }

  get openMessages(): number {
    return this.table.size;
  }

  push(o: Observation): void {
    this.table.observe(o.timeMs);
    this.handle(o);
    this.table.evictIdle();
  }

  flush(): void {
    this.table.flush();
  }

  expireWaiting(nowMs: number, maxWaitMs: number): void {
    this.table.expireWaiting(nowMs, maxWaitMs);
  }

  waitingFrom(): Map<string, { offset: number; line: number }> {
    return this.table.waitingFrom();
  }

  /** Applies one observation of this MTA's records to the table. */
  protected abstract handle(o: Observation): void;
}
