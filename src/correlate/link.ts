/**
 * Joins an application's refusal with an MTA's record of the same message or refusal (#6 item 4),
 * across inputs of different formats (`mta550 analyze app.log mail.log`, in either order).
 *
 * - By Message-ID: the app logged the id it set (Nodemailer's `messageId`, a logged header) and the
 *   MTA's event carries the same one (a milter or content refusal at end of DATA). Exact.
 * - Otherwise by recipient and time: the MTA refused the same recipient within `windowMs` of the
 *   app's error (a RCPT refusal has no Message-ID on either side). Marked `inferred`.
 *
 * App events are held until the join can be decided: in batch runs until the end (or until
 * `maxHeld` wait, the oldest then leaving joined with what is known so far); in live runs until the
 * log time has moved `windowMs` past them or, at the latest, a few seconds of wall clock later
 * (pipeline.ts LIVE_LINK_WAIT_MS). MTA refusals are remembered in a bounded index (`maxIndexed`, oldest out),
 * so memory does not grow with the log.
 */
import { detach } from '../model/detach.js';
import type { AppLink, RejectionEvent, SourceRef } from '../model/event.js';

export interface LinkOptions {
  /** Largest time between the app's error and the MTA's refusal of the same recipient (default 2 min). */
  windowMs?: number;
  /** Most app events held at once (default 20,000). */
  maxHeld?: number;
  /** Most MTA refusals remembered (default 50,000). */
  maxIndexed?: number;
}

interface Indexed {
  eventId: string;
  source: SourceRef;
  mtaHost: string | null;
  queueId: string | null;
  reply: string;
  timeMs: number | null;
  recipient: string | null;
  messageId: string | null;
  direction: string;
}

const timeOf = (e: RejectionEvent): number | null => (e.time === null ? null : Date.parse(e.time));

export class SourceLinker {
  private readonly windowMs: number;
  private readonly maxHeld: number;
  private readonly maxIndexed: number;
  private held: RejectionEvent[] = [];
  /** Wall clock when each held event arrived (live runs), parallel to `held`. */
  private heldAt: number[] = [];
  /** MTA refusals, oldest first; the maps point into it. */
  private readonly ring: Indexed[] = [];
  private readonly byMessageId = new Map<string, Indexed[]>();
  private readonly byRecipient = new Map<string, Indexed[]>();

  constructor(options: LinkOptions = {}) {
    this.windowMs = options.windowMs ?? 120_000;
    this.maxHeld = options.maxHeld ?? 20_000;
    this.maxIndexed = options.maxIndexed ?? 50_000;
  }

  get holding(): number {
    return this.held.length;
  }

  /** An app event: held; returns the events that leave because too many wait. `wallMs`: when it arrived (live runs). */
  hold(e: RejectionEvent, wallMs = 0): RejectionEvent[] {
    this.held.push(e);
    this.heldAt.push(wallMs);
    if (this.held.length <= this.maxHeld) return [];
    const n = this.held.length - this.maxHeld;
    this.heldAt.splice(0, n);
    return this.release(this.held.splice(0, n));
  }

  /** An MTA event: remembered for app events that come before or after it. */
  index(e: RejectionEvent): void {
    if (e.recipient === null && e.messageId === null) return;
    const x: Indexed = {
      eventId: e.id,
      source: e.source,
      mtaHost: e.mta.host,
      // Copies, not views: the index outlives the lines, and a view of a reply keeps its whole line.
      queueId: e.queueId === null ? null : detach(e.queueId),
      reply: detach(e.reply),
      timeMs: timeOf(e),
      recipient: e.recipient === null ? null : detach(e.recipient.toLowerCase()),
      messageId: e.messageId === null ? null : detach(e.messageId),
      direction: e.direction,
    };
    this.ring.push(x);
    if (x.messageId !== null) push(this.byMessageId, x.messageId, x);
    if (x.recipient !== null) push(this.byRecipient, x.recipient, x);
    if (this.ring.length > this.maxIndexed) {
      const old = this.ring.shift()!;
      if (old.messageId !== null) drop(this.byMessageId, old.messageId, old);
      if (old.recipient !== null) drop(this.byRecipient, old.recipient, old);
    }
  }

  /** Every held event, joined where an MTA record is known (end of a batch run). */
  releaseAll(): RejectionEvent[] {
    this.heldAt = [];
    return this.release(this.held.splice(0));
  }

  /**
   * Live runs: the held events whose time is `windowMs` or more before `latestMs` (log time), that
   * arrived at or before `arrivedBy` (wall clock: a live user does not wait minutes for an app's
   * error; the MTA logs its side of a refusal at the same moment), or that have no time.
   */
  releaseBefore(latestMs: number, arrivedBy = -Infinity): RejectionEvent[] {
    const out: RejectionEvent[] = [];
    const keep: RejectionEvent[] = [];
    const keepAt: number[] = [];
    this.held.forEach((e, i) => {
      const t = timeOf(e);
      if (t === null || t <= latestMs - this.windowMs || this.heldAt[i]! <= arrivedBy) out.push(e);
      else {
        keep.push(e);
        keepAt.push(this.heldAt[i]!);
      }
    });
    this.held = keep;
    this.heldAt = keepAt;
    return this.release(out);
  }

  /** The first line of a held event, per source identity (a checkpoint must not pass it). */
  heldFrom(): Map<string, { offset: number; line: number }> {
    const out = new Map<string, { offset: number; line: number }>();
    for (const e of this.held) {
      const prev = out.get(e.source.identity);
      if (prev === undefined || e.source.offset < prev.offset) out.set(e.source.identity, { offset: e.source.offset, line: e.source.line - 1 });
    }
    return out;
  }

  private release(events: RejectionEvent[]): RejectionEvent[] {
    for (const e of events) {
      const link = this.find(e);
      if (e.app !== undefined) e.app.link = link;
    }
    return events;
  }

  private find(e: RejectionEvent): AppLink | null {
    const t = timeOf(e);
    const rcpt = e.recipient?.toLowerCase() ?? null;
    if (e.messageId !== null) {
      const c = this.byMessageId.get(e.messageId) ?? [];
      // The same recipient's refusal first, then any record of the message.
      const hit = c.find((x) => rcpt !== null && x.recipient === rcpt) ?? c[0];
      if (hit !== undefined) return link(hit, 'message-id', t);
    }
    if (rcpt === null || t === null) return null;
    let best: Indexed | null = null;
    for (const x of this.byRecipient.get(rcpt) ?? []) {
      if (x.timeMs === null || Math.abs(x.timeMs - t) > this.windowMs) continue;
      // Our own MTA refusing the app (inbound) before a remote one; then the nearest in time.
      const better =
        best === null ||
        (x.direction === 'inbound' && best.direction !== 'inbound') ||
        (x.direction === best.direction && Math.abs(x.timeMs - t) < Math.abs(best.timeMs! - t));
      if (better) best = x;
    }
    return best === null ? null : link(best, 'recipient-time', t);
  }
}

function link(x: Indexed, by: AppLink['by'], appMs: number | null): AppLink {
  return {
    by,
    inferred: by !== 'message-id',
    eventId: x.eventId,
    source: x.source,
    mtaHost: x.mtaHost,
    queueId: x.queueId,
    reply: x.reply,
    offsetSeconds: appMs === null || x.timeMs === null ? null : Math.round((appMs - x.timeMs) / 100) / 10,
  };
}

function push(m: Map<string, Indexed[]>, k: string, x: Indexed): void {
  const a = m.get(k);
  if (a === undefined) m.set(k, [x]);
  else a.push(x);
}

function drop(m: Map<string, Indexed[]>, k: string, x: Indexed): void {
  const a = m.get(k);
  if (a === undefined) return;
  const i = a.indexOf(x);
  if (i >= 0) a.splice(i, 1);
  if (a.length === 0) m.delete(k);
}
