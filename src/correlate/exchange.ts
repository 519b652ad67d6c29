/**
 * Joins Exchange message tracking rows by message (internal-message-id, else network-message-id,
 * else Message-ID): a FAIL row's refusals carry the sender, Message-ID, client and size from the
 * message's RECEIVE and the outcome of its other recipients. Exchange logs no "completed" row, so a
 * message closes when the table's idle timeout or the end of input closes it.
 *
 * - SEND, SENDEXTERNAL and DELIVER rows are deliveries (`sent`), DEFER rows deferrals, FAIL rows
 *   failures: each is an outcome and a delivery attempt per recipient (the denominators of rates).
 * - A FAIL whose status comes from Exchange itself (`RESOLVER.ADR.RecipNotFound`,
 *   `STOREDRV.Deliver: mailbox full`, ...) is our server failing the recipient: direction inbound
 *   (provider `self`), outcome `bounced` (Exchange sends a non-delivery report, the DSN row). A
 *   `QUEUE.Expired` FAIL is an outbound message that expired; any other text is a remote server's
 *   reply: outbound, `bounced`.
 * - A FAIL without a three-digit code is a permanent failure, reported as 550 with `codeInferred`
 *   (its enhanced status kept), so it is counted like Exim's failures without a reply.
 */
import { domainOf } from '../model/address.js';
import type { ExchangeTraceRecord, ExchangeTrackingRecord, Reply, Stage } from '../model/records.js';
import { baseEvent, TableCorrelator, type Observation } from './messages.js';

/** Exchange components whose texts are Exchange's own decisions, not a remote server's reply. */
const OWN_COMPONENT = /^(?:RESOLVER|STOREDRV|QUEUE|ROUTING|CAT|AGENT|MAPI|MSGTRK|SMTPSEND\.DNS|DNS)\./i;

/** `550 5.1.1 RESOLVER...`, `250 2.1.5Recipient OK`, or Exchange's `[{LRT=...};{LED=550 5.1.1 ...};...]`. */
export function exchangeReply(status: string): Reply {
  let text = status.trim();
  // The `{LED=...}` part of Exchange's bracket form: found with indexOf, linear whatever the text.
  const at = text.indexOf('{LED=');
  if (at >= 0) {
    const end = text.indexOf('}', at);
    const led = text.slice(at + 5, end < 0 ? text.length : end).trim();
    if (led !== '') text = led;
  }
  const m = /^([2-5]\d\d)(?:[ -]+|$)(?:#?([245]\.\d{1,3}\.\d{1,3})(?![\d.]))?/.exec(text);
  if (m !== null) return { code: Number(m[1]), enhanced: m[2] ?? null, text };
  const e = /^#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])/.exec(text);
  return { code: null, enhanced: e === null ? null : e[1]!, text };
}

/** The words after the codes: what says whose decision it was. */
function afterCodes(r: Reply): string {
  return r.text.replace(/^[2-5]\d\d[ -]*/, '').replace(/^#?[245]\.\d{1,3}\.\d{1,3}\s*/, '');
}

function stageOf(own: string): Stage {
  if (/^(?:RESOLVER|CAT|ROUTING)\./i.test(own)) return 'rcpt';
  if (/^STOREDRV\./i.test(own)) return 'end_of_data';
  return 'unknown';
}

const STATUS: Readonly<Record<string, string>> = { SEND: 'sent', SENDEXTERNAL: 'sent', DELIVER: 'sent', DEFER: 'deferred', FAIL: 'bounced' };

export class ExchangeCorrelator extends TableCorrelator {
  /**
   * Recipients of each open message still without a final outcome (from its RECEIVE/SUBMIT row):
   * Exchange logs no "completed" row, so a message closes once every one of them is delivered,
   * sent on or failed. Messages whose receipt was not in the input close by the table's limits.
   */
  private readonly outstanding = new WeakMap<object, Set<string>>(); // per MessageState: gone with it

  protected handle(o: Observation): void {
    if (o.record.kind === 'exchange.trace') {
      this.trace(o, o.record);
      return;
    }
    const r = o.record as ExchangeTrackingRecord;
    if (r.kind !== 'exchange.tracking') return;
    // The network message id is the message's across the organisation's servers (a mailbox server's
    // rows have internal ids of their own); the internal id (the local queue id) before 2013.
    const key = r.networkMessageId ?? r.internalMessageId ?? r.messageId;
    if (key === null) return;
    const m = this.table.touch(null, key, o.timeMs);
    if (m.messageId === null && r.messageId !== null) m.messageId = r.messageId;
    if (m.sender === null && (r.sender !== null || r.returnPath !== null)) m.sender = r.returnPath === '<>' ? '' : (r.sender ?? r.returnPath);
    if (m.size === null && r.totalBytes !== null) m.size = r.totalBytes;
    if (r.eventId === 'RECEIVE' || r.eventId === 'SUBMIT') {
      m.sawStart = true;
      if (m.nrcpt === null && r.recipientCount !== null) m.nrcpt = r.recipientCount;
      // The client of an SMTP receive is the host that sent it to us (ours or outside).
      // From 2013 on a hub's client is often our own frontend: original-client-ip is the outside one.
      if (r.source === 'SMTP' && m.client === null && r.client !== null) {
        m.client = r.originalClientIp !== null && r.originalClientIp !== r.client.ip ? { name: null, ip: r.originalClientIp, port: null, helo: null } : { ...r.client, helo: null };
      }
      if (r.recipients.length > 0 && !this.outstanding.has(m)) this.outstanding.set(m, new Set(r.recipients.map((x) => x.toLowerCase())));
      return;
    }
    const status = STATUS[r.eventId];
    if (status === undefined) return;
    r.recipients.forEach((rcpt, i) => this.recipient(o, r, m, rcpt, r.statuses[i] ?? (r.statuses.length === 1 ? r.statuses[0]! : ''), status));
    if (status === 'deferred') return;
    const left = this.outstanding.get(m);
    if (left === undefined) return;
    for (const rcpt of r.recipients) left.delete(rcpt.toLowerCase());
    if (left.size === 0) this.table.close(m, true);
  }

  private recipient(o: Observation, r: ExchangeTrackingRecord, m: ReturnType<typeof this.table.touch>, rcpt: string, statusText: string, status: string): void {
    const reply = exchangeReply(statusText);
    const words = afterCodes(reply);
    const own = OWN_COMPONENT.test(words);
    const expired = /^QUEUE\.Expired/i.test(words);
    const outcome = expired ? 'expired' : status;
    const domain = domainOf(rcpt);
    // Our own server's decisions (and deliveries to mailboxes) have no remote server.
    const remote = r.eventId === 'DELIVER' || own ? null : r.server;
    this.table.setRecipient(m, { address: rcpt, status: outcome, dsn: reply.enhanced, relay: remote === null ? null : `${remote.name ?? ''}[${remote.ip ?? ''}]` });
    this.sink.outcome(domain, outcome);
    this.sink.attempt?.({
      timeMs: o.timeMs,
      mtaHost: null,
      messageKey: m.queueId,
      recipient: rcpt,
      recipientDomain: domain,
      status: outcome,
      code: reply.code ?? (status === 'bounced' ? 550 : null),
      enhancedStatus: reply.enhanced,
      reply: reply.text === '' ? null : reply.text,
      stage: own ? stageOf(words) : 'unknown',
      remoteHost: remote?.name ?? null,
      remoteIp: remote?.ip ?? null,
      sender: m.sender,
      clientIp: m.client?.ip ?? null,
      messageId: m.messageId,
    });
    if (status !== 'bounced') return;
    let code = reply.code;
    let codeInferred = false;
    if (code === null) {
      code = 550;
      codeInferred = true;
    }
    if (code < 500 || code > 599) return;
    const inbound = own && !expired;
    this.table.addPending(
      m,
      baseEvent(o, {
        direction: inbound ? 'inbound' : 'outbound',
        outcome,
        action: null,
        queueId: r.internalMessageId ?? m.queueId,
        sender: null,
        recipient: rcpt,
        recipientDomain: domain,
        originalRecipient: null,
        stage: own ? stageOf(words) : 'unknown',
        code,
        codeInferred,
        enhancedStatus: reply.enhanced,
        enhancedStatusSource: reply.enhanced === null ? null : 'reply',
        reply: reply.text,
        remote: inbound ? null : remote,
        client: null,
        relay: null,
      }),
    );
  }

  /**
   * Exchange Online message trace: each recipient's last status. Failed is a failure (an event, its
   * code inferred 550 unless the detail has one), Delivered a delivery, Pending and GettingStatus a
   * deferral; Quarantined, FilteredAsSpam and Expanded are neither (no outcome). A summary row or
   * a JSON object is complete in itself, so its message closes with it unless more rows of the
   * same trace id follow (JSON: one object per recipient).
   */
  private trace(o: Observation, r: ExchangeTraceRecord): void {
    const key = r.traceId ?? r.messageId;
    if (key === null) return;
    const m = this.table.touch(null, key, o.timeMs);
    m.sawStart = true;
    if (m.messageId === null) m.messageId = r.messageId;
    if (m.sender === null) m.sender = r.sender;
    if (m.size === null) m.size = r.size;
    if (m.client === null && r.fromIp !== null) m.client = { name: null, ip: r.fromIp, port: null, helo: null };
    const inbound = r.directionality === null ? null : /^incoming|^inbound/i.test(r.directionality);
    for (const rc of r.recipients) {
      const word = rc.status.toLowerCase();
      const status = /^(?:delivered|deliver|send|sendexternal)$/.test(word) ? 'sent' : /^(?:failed|fail)$/.test(word) ? 'bounced' : /^(?:pending|gettingstatus|defer)$/.test(word) ? 'deferred' : null;
      if (status === null) continue;
      const domain = domainOf(rc.address);
      const reply = exchangeReply(rc.detail ?? '');
      this.table.setRecipient(m, { address: rc.address, status, dsn: reply.enhanced, relay: null });
      this.sink.outcome(domain, status);
      this.sink.attempt?.({
        timeMs: o.timeMs,
        mtaHost: null,
        messageKey: m.queueId,
        recipient: rc.address,
        recipientDomain: domain,
        status,
        code: reply.code ?? (status === 'bounced' ? 550 : null),
        enhancedStatus: reply.enhanced,
        reply: rc.detail,
        stage: 'unknown',
        remoteHost: null,
        remoteIp: r.toIp,
        sender: m.sender,
        clientIp: r.fromIp,
      });
      if (status !== 'bounced') continue;
      const own = OWN_COMPONENT.test(afterCodes(reply));
      this.table.addPending(
        m,
        baseEvent(o, {
          direction: own || inbound === true ? 'inbound' : 'outbound',
          outcome: 'bounced',
          action: null,
          queueId: m.queueId,
          sender: null,
          recipient: rc.address,
          recipientDomain: domain,
          originalRecipient: null,
          stage: own ? stageOf(afterCodes(reply)) : 'unknown',
          code: reply.code ?? 550,
          codeInferred: reply.code === null,
          enhancedStatus: reply.enhanced,
          enhancedStatusSource: reply.enhanced === null ? null : 'reply',
          reply: rc.detail ?? `${rc.status} (message trace status; no reply text in the export)`,
          remote: r.toIp === null ? null : { name: null, ip: r.toIp, port: null },
          client: null,
          relay: null,
        }),
      );
    }
    // A summary row lists every recipient: the message is complete.
    if (o.daemon === 'message-trace-summary') this.table.close(m, true);
  }
}
