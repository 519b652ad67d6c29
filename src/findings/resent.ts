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
import { detach } from '../model/detach.js';
import { FifoMap } from '../model/fifo-map.js';
import type { EvidenceLine, Finding } from './types.js';

function isLoopback(ip: string | null): boolean {
  return ip !== null && (ip.startsWith('127.') || ip === '::1');
}

export interface ResentOptions {
  /** Refused Message-IDs and delivered Message-IDs remembered (default 50,000 each). */
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
  recipient: string;
}

/** Paths (`host via relay`) kept once each: a relay's deliveries share a handful of them. */
const MAX_PATHS = 10_000;

export class ResentDetector {
  private readonly refused: FifoMap<Refusal>;
  /** One delivery, or up to 20 of the same message (most messages are delivered once: no array). */
  private readonly delivered: FifoMap<Delivery | Delivery[]>;
  private readonly paths = new Map<string, Map<string, string>>();

  constructor(options: ResentOptions = {}) {
    this.refused = new FifoMap(options.maxMessages ?? 50_000);
    this.delivered = new FifoMap(options.maxMessages ?? 50_000);
  }

  /** `host via relay`, one copy per distinct pair (not a new string per delivery). */
  private pathOf(host: string, via: string): string {
    let byVia = this.paths.get(host);
    if (byVia === undefined) {
      if (this.paths.size >= MAX_PATHS) this.paths.clear();
      byVia = new Map();
      this.paths.set(detach(host), byVia);
    }
    let path = byVia.get(via);
    if (path === undefined) {
      if (byVia.size >= MAX_PATHS) byVia.clear();
      path = detach(`${host} via ${via}`);
      byVia.set(detach(via), path);
    }
    return path;
  }

  /** A refusal: 5xx events of messages with a Message-ID (outbound, or an app's submission). */
  event(e: RejectionEvent): void {
    if (e.messageId === null || e.direction === 'inbound' || e.code === null || e.code < 500) return;
    if (this.refused.get(e.messageId) !== undefined) return;
    const by = e.remote?.name ?? e.relay ?? (e.direction === 'submission' ? 'its relay' : 'unknown');
    this.refused.set(detach(e.messageId), {
      path: e.direction === 'submission' ? `app ${e.mta.host ?? '?'} via ${by}` : `${e.mta.host ?? '?'} via ${by}`,
      timeMs: e.time === null ? null : Date.parse(e.time),
      code: e.code,
      recipient: e.recipient,
      example: { file: e.source.file, line: e.source.line, time: e.time, text: detach(e.reply.length > 300 ? `${e.reply.slice(0, 299)}…` : e.reply) },
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
    const prev = this.delivered.get(messageId);
    const count = prev === undefined ? 0 : Array.isArray(prev) ? prev.length : 1;
    let value = prev;
    if (count < 20) {
      const d: Delivery = { path: this.pathOf(a.mtaHost ?? '?', a.remoteHost ?? a.remoteIp ?? 'local'), timeMs: a.timeMs, recipient: detach(a.recipient) };
      value = prev === undefined ? d : Array.isArray(prev) ? (prev.push(d), prev) : [prev, d];
    }
    this.delivered.set(detach(messageId), value!);
  }

  build(): Finding[] {
    const out: Finding[] = [];
    for (const [messageId, refusal] of this.refused.entries()) {
      // The refused recipient's own delivery (a multi-recipient message's other recipients going
      // elsewhere is not a re-send); any recipient when the refusal named none (a DATA refusal).
      const rcpt = refusal.recipient?.toLowerCase() ?? null;
      const got = this.delivered.get(messageId);
      const later = (got === undefined ? [] : Array.isArray(got) ? got : [got]).filter(
        // Strictly later: a relay chain's hops in the same second as the refusal are not a re-send.
        (d) => d.path !== refusal.path && (rcpt === null || d.recipient.toLowerCase() === rcpt) && refusal.timeMs !== null && d.timeMs !== null && d.timeMs > refusal.timeMs,
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
