/**
 * Finding `resent_other_path` (#14 item 3): a message refused on one path (a 5xx from a remote
 * server, or an app's relay refusing its submission) that a later delivery attempt in the inputs
 * delivered through another path (another MTA, another relay or next hop).
 *
 * The Message-ID is the join: refusal events carry it, and so do delivery attempts (their MTA's
 * correlator knows the message's Message-ID: Postfix cleanup's `message-id=`, Exim's `<=` arrival
 * `id=`, Exchange tracking rows). Every table is bounded (oldest out), so memory does not grow with
 * the log: a join whose two sides are further apart than the tables hold is not found.
 */
import { createHash } from 'node:crypto';
import type { DeliveryAttempt, RejectionEvent } from '../model/event.js';
import { detach, Interner } from '../model/detach.js';
import { FifoMap } from '../model/fifo-map.js';
import { hashPair } from '../onset/sketch.js';
import type { EvidenceLine, Finding } from './types.js';

function isLoopback(ip: string | null): boolean {
  return ip !== null && (ip.startsWith('127.') || ip === '::1');
}

export interface ResentOptions {
  /** Successful deliveries remembered, the latest (default 100,000, 3.6 MB). */
  maxDeliveries?: number;
  /** Refused Message-IDs remembered with an example line each (default 20,000, about 10 MB). */
  maxMessages?: number;
}

interface Refusal {
  path: string;
  timeMs: number | null;
  code: number | null;
  recipient: string | null;
  example: EvidenceLine;
}

interface Delivery {
  path: string;
  timeMs: number | null;
  /** hashPair of the lower-cased recipient. */
  rcpt: [number, number];
}

/** Distinct delivery paths (`host via relay`) before the delivery table starts over. */
const MAX_PATHS = 65_536;
/** Deliveries of one message looked at (the first ones in the table). */
const MAX_PER_MESSAGE = 20;

/**
 * The successful deliveries of the last `capacity` attempts, in a ring of typed arrays: the other
 * side of the join is every delivery of a busy relay, so an entry costs 36 bytes instead of the
 * 500 or so of a map entry with its strings (a Message-ID, a recipient, an object). Messages and
 * recipients are kept as 64-bit hashes (two different ones agree with probability 2^-64); paths as
 * indexes into a table of the distinct ones. A map from a 30-bit bucket of the Message-ID hash to
 * the newest slot, and a link from each slot to the previous one of its bucket, find a message's
 * deliveries; the oldest slot is overwritten when the ring is full.
 */
class DeliveryRing {
  private readonly msgA: Uint32Array;
  private readonly msgB: Uint32Array;
  private readonly rcptA: Uint32Array;
  private readonly rcptB: Uint32Array;
  private readonly time: Float64Array;
  private readonly path: Int32Array;
  private readonly prev: Int32Array;
  /** Absolute number of each slot's delivery (valid while more than `written - capacity`). */
  private readonly seq: Float64Array;
  private written = 0;
  /** Per bucket (the top bits of a Message-ID's hash), its newest slot or -1. */
  private readonly newest: Int32Array;
  private readonly bucketShift: number;
  private paths: string[] = [];
  private pathIndex = new Map<string, number>();

  constructor(private readonly capacity: number) {
    this.msgA = new Uint32Array(capacity);
    this.msgB = new Uint32Array(capacity);
    this.rcptA = new Uint32Array(capacity);
    this.rcptB = new Uint32Array(capacity);
    this.time = new Float64Array(capacity);
    this.path = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    // About two buckets per slot, a power of two: short chains in 4 bytes a bucket.
    const bits = Math.max(4, Math.ceil(Math.log2(2 * capacity)));
    this.newest = new Int32Array(2 ** bits).fill(-1);
    this.bucketShift = 32 - bits;
    this.seq = new Float64Array(capacity);
  }

  add(messageId: string, path: string, timeMs: number | null, recipient: string): void {
    let p = this.pathIndex.get(path);
    if (p === undefined) {
      if (this.paths.length >= MAX_PATHS) this.reset();
      p = this.paths.length;
      this.paths.push(detach(path));
      this.pathIndex.set(this.paths[p]!, p);
    }
    const [a, b] = hashPair(messageId);
    const [ra, rb] = hashPair(recipient.toLowerCase());
    const slot = this.written % this.capacity;
    if (this.written >= this.capacity) {
      // Overwriting the oldest delivery: its bucket forgets it if it was the bucket's newest.
      const old = this.msgA[slot]! >>> this.bucketShift;
      if (this.newest[old] === slot) this.newest[old] = -1;
    }
    const bucket = a >>> this.bucketShift;
    this.msgA[slot] = a;
    this.msgB[slot] = b;
    this.rcptA[slot] = ra;
    this.rcptB[slot] = rb;
    this.time[slot] = timeMs ?? Number.NaN;
    this.path[slot] = p;
    this.prev[slot] = this.newest[bucket]!;
    this.seq[slot] = this.written;
    this.newest[bucket] = slot;
    this.written++;
  }

  /** The first MAX_PER_MESSAGE deliveries of a message still in the ring, oldest first. */
  of(messageId: string): Delivery[] {
    const [a, b] = hashPair(messageId);
    const found: Delivery[] = [];
    const oldest = this.written - this.capacity;
    let slot = this.newest[a >>> this.bucketShift]!;
    let after = Infinity;
    // Newest first along the bucket's chain, while the links go back in time and stay in the ring.
    while (slot >= 0 && this.seq[slot]! < after && this.seq[slot]! >= oldest) {
      if (this.msgA[slot] === a && this.msgB[slot] === b) {
        const t = this.time[slot]!;
        found.push({ path: this.paths[this.path[slot]!]!, timeMs: Number.isNaN(t) ? null : t, rcpt: [this.rcptA[slot]!, this.rcptB[slot]!] });
      }
      after = this.seq[slot]!;
      slot = this.prev[slot]!;
    }
    return found.reverse().slice(0, MAX_PER_MESSAGE);
  }

  private reset(): void {
    this.written = 0;
    this.newest.fill(-1);
    this.paths = [];
    this.pathIndex = new Map();
  }
}

export class ResentDetector {
  private readonly refused: FifoMap<Refusal>;
  private readonly delivered: DeliveryRing;
  /** Refusal paths and input paths: a handful of distinct values for thousands of refusals. */
  private readonly strings = new Interner(10_000);

  constructor(options: ResentOptions = {}) {
    this.refused = new FifoMap(options.maxMessages ?? 20_000);
    this.delivered = new DeliveryRing(options.maxDeliveries ?? 100_000);
  }

  /** A refusal: 5xx events of messages with a Message-ID (outbound, or an app's submission). */
  event(e: RejectionEvent): void {
    if (e.messageId === null || e.direction === 'inbound' || e.code === null || e.code < 500) return;
    if (this.refused.get(e.messageId) !== undefined) return;
    const by = e.remote?.name ?? e.relay ?? (e.direction === 'submission' ? 'its relay' : 'unknown');
    // Kept for up to 20,000 refusals: shared or copied strings, never views of the log line.
    this.refused.set(detach(e.messageId), {
      path: this.strings.get(e.direction === 'submission' ? `app ${e.mta.host ?? '?'} via ${by}` : `${e.mta.host ?? '?'} via ${by}`),
      timeMs: e.time === null ? null : Date.parse(e.time),
      code: e.code,
      recipient: e.recipient === null ? null : detach(e.recipient),
      example: { file: this.strings.get(e.source.file), line: e.source.line, time: e.time, text: detach(e.reply.length > 300 ? `${e.reply.slice(0, 299)}…` : e.reply) },
    });
  }

  /** A delivery attempt: `sent` ones are the other side of the join. */
  attempt(a: DeliveryAttempt): void {
    if (a.status !== 'sent') return;
    // A hand-off to a content filter or a local relay on loopback is a hop of the same path, not another one.
    if (isLoopback(a.remoteIp) || a.remoteHost === 'localhost' || a.remoteHost === null && a.remoteIp === null) return;
    const messageId = a.messageId;
    if (messageId === undefined || messageId === null || messageId === '') return;
    // Copies (detach): the table outlives the lines by far.
    this.delivered.add(messageId, `${a.mtaHost ?? '?'} via ${a.remoteHost ?? a.remoteIp ?? 'local'}`, a.timeMs, a.recipient);
  }

  build(): Finding[] {
    const out: Finding[] = [];
    for (const [messageId, refusal] of this.refused.entries()) {
      // The refused recipient's own delivery (a multi-recipient message's other recipients going
      // elsewhere is not a re-send); any recipient when the refusal named none (a DATA refusal).
      const rcpt = refusal.recipient === null ? null : hashPair(refusal.recipient.toLowerCase());
      const later = this.delivered.of(messageId).filter(
        // Strictly later: a relay chain's hops in the same second as the refusal are not a re-send.
        (d) => d.path !== refusal.path && (rcpt === null || (d.rcpt[0] === rcpt[0] && d.rcpt[1] === rcpt[1])) && refusal.timeMs !== null && d.timeMs !== null && d.timeMs > refusal.timeMs,
      );
      if (later.length === 0) continue;
      const first = later[0]!;
      out.push({
        id: `resent_other_path:${createHash('sha256').update(messageId).digest('hex').slice(0, 12)}`,
        kind: 'resent_other_path',
        severity: 'low',
        title: `Message <${messageId.length > 80 ? `${messageId.slice(0, 79)}…` : messageId}> refused by ${refusal.path} (${refusal.code ?? '5xx'}) was delivered later through ${first.path}`,
        subject: { messageId, refusedPath: refusal.path, deliveredPath: first.path, recipient: refusal.recipient },
        counts: {
          deliveries: later.length,
          refusedAt: refusal.timeMs === null ? null : new Date(refusal.timeMs).toISOString(),
          deliveredAt: first.timeMs === null ? null : new Date(first.timeMs).toISOString(),
        },
        examples: [refusal.example],
        nextMove:
          'The message reached its recipient another way: the refusal is not a lost message. Make the path that refused it the exception (fix or retire it), so the first attempt does not cost a permanent failure on your reputation.',
      });
    }
    return out;
  }
}
