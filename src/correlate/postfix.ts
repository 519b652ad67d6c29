/**
 * Joins Postfix records by queue ID so every rejection carries its message's Message-ID, envelope
 * sender, client, size, recipient count and the outcome of the message's other recipients.
 *
 * A message closes at qmgr `removed` (a queue ID may be reused after it) or at a cleanup
 * END-OF-MESSAGE reject (the message never reaches the queue, so no `removed` follows); the table
 * (messages.ts) bounds the rest. Non-delivery notifications link to their parent, and a content
 * filter's re-injection (`queued as`) to the original queue ID, keeping the outside client.
 */
import { domainOf } from '../model/address.js';
import type { PostfixActionRecord, PostfixDeliveryRecord } from '../model/records.js';
import { baseEvent, inferCode, TableCorrelator, type Observation } from './messages.js';

export type { CorrelatorOptions, CorrelatorSink, CorrelatorStats, Observation } from './messages.js';

/** Actions whose reply refused the command (the others only log, hold or redirect). */
const REFUSING_ACTIONS: ReadonlySet<string> = new Set(['reject', 'milter-reject', 'proxy-reject']);
/** Delivery statuses that are not refusals. */
const NOT_REFUSED: ReadonlySet<string> = new Set(['sent', 'deliverable']);

function isLoopback(ip: string | null): boolean {
  return ip !== null && (ip.startsWith('127.') || ip === '::1');
}

export class PostfixCorrelator extends TableCorrelator {
  protected handle(o: Observation): void {
    const host = o.envelope.host;
    const r = o.record;
    switch (r.kind) {
      case 'postfix.smtpd.client': {
        const m = this.table.touch(host, r.queueId, o.timeMs);
        m.client = { ...r.client, helo: m.client?.helo ?? null };
        m.sawStart = true;
        break;
      }
      case 'postfix.cleanup.message_id':
        this.table.touch(host, r.queueId, o.timeMs).messageId = r.messageId;
        break;
      case 'postfix.qmgr.envelope': {
        const m = this.table.touch(host, r.queueId, o.timeMs);
        m.sender = r.from;
        m.size = r.size;
        m.nrcpt = r.nrcpt;
        m.sawStart = true;
        break;
      }
      case 'postfix.qmgr.expired': {
        const m = this.table.touch(host, r.queueId, o.timeMs);
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
        const m = this.table.get(host, r.queueId);
        if (m !== undefined) this.table.close(m, true);
        break;
      }
      case 'postfix.bounce.notification': {
        const parent = this.table.touch(host, r.queueId, o.timeMs);
        parent.links.notificationQueueId = r.notificationQueueId;
        this.table.link(parent, this.table.touch(host, r.notificationQueueId, o.timeMs), 'non_delivery_notification');
        break;
      }
      case 'postfix.delivery':
        this.delivery(o, r);
        break;
      case 'postfix.action':
        this.action(o, r);
        break;
      default:
        break;
    }
  }

  private delivery(o: Observation, r: PostfixDeliveryRecord): void {
    const host = o.envelope.host;
    const m = this.table.touch(host, r.queueId, o.timeMs);
    this.table.setRecipient(m, { address: r.to, status: r.status, dsn: r.dsn, relay: r.relay });
    const domain = domainOf(r.to);
    this.sink.outcome(domain, r.status);

    if (r.status === 'sent' && r.queuedAs !== null) {
      // A hand-off (content filter, local relay) re-queued the message under a new ID.
      if (this.table.get(host, r.queuedAs) !== undefined || isLoopback(r.relayHost?.ip ?? null)) {
        this.table.link(m, this.table.touch(host, r.queuedAs, o.timeMs), 'content_filter');
      }
    }
    const remote = r.remote ?? r.relayHost;
    this.sink.attempt?.({
      timeMs: o.timeMs,
      mtaHost: host,
      messageKey: r.queueId,
      recipient: r.to,
      recipientDomain: domain,
      status: r.status,
      code: r.reply?.code ?? null,
      enhancedStatus: r.reply?.enhanced ?? r.dsn,
      reply: r.reply?.text ?? (r.status === 'sent' ? null : r.detail),
      stage: r.stage,
      remoteHost: remote?.name ?? null,
      remoteIp: remote?.ip ?? null,
      sender: m.sender,
      clientIp: (m.originClient ?? m.client)?.ip ?? null,
      messageId: m.messageId,
    });
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

    this.table.addPending(
      m,
      baseEvent(o, {
        direction: 'outbound',
        outcome: r.status,
        action: null,
        queueId: r.queueId,
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
      }),
    );
  }

  private action(o: Observation, r: PostfixActionRecord): void {
    if (!REFUSING_ACTIONS.has(r.action)) {
      const counts = this.table.stats.nonRefusingActions;
      counts[r.action] = (counts[r.action] ?? 0) + 1;
      return;
    }
    const m = r.queueId === null ? null : this.table.touch(o.envelope.host, r.queueId, o.timeMs);
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
      if (m !== null) this.table.setRecipient(m, { address: r.to, status: 'rejected', dsn: r.reply.enhanced, relay: null });
      this.sink.outcome(domain, 'rejected');
    }
    const client = r.client === null ? null : { ...r.client, helo: r.helo };
    if (m !== null) {
      if (client !== null && m.client === null) m.client = client;
      if (m.client !== null && m.client.helo === null && r.helo !== null) m.client.helo = r.helo;
      if (m.sender === null && r.from !== null) m.sender = r.from;
    }
    // A refusal at end of data in cleanup means the message never entered the queue: no `removed`
    // will follow, so close it after recording the event.
    const endsMessage = m !== null && r.stage === 'end_of_data' && o.daemon === 'cleanup';
    if (code !== null && code >= 500 && code <= 599) {
      const event = baseEvent(o, {
        direction: 'inbound',
        outcome: 'rejected',
        action: r.action,
        queueId: r.queueId,
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
      });
      if (m === null) this.sink.event(event);
      else this.table.addPending(m, event);
    }
    if (endsMessage) this.table.close(m, true);
  }
}
