/**
 * Joins Exim records by Exim message ID: every `**` failure carries the sender, Message-ID, client
 * and size from the `<=` arrival and the outcome of the other recipients; a bounce (`<= <> R=parent`)
 * links to the message it reports on. A message closes at `Completed`; the table bounds the rest.
 *
 * Codes Exim does not log: a `**` failure without an SMTP reply (`Unrouteable address`, `retry timeout
 * exceeded`) is a permanent failure, reported as 550 (what the bounce says) with `codeInferred`. An
 * inbound refusal whose ACL message has no code was sent with Exim's default: 550 for MAIL, RCPT,
 * DATA and HELO ACLs and local_scan, 554 for the connect ACL, 451 for a temporary refusal.
 *
 * A refusal logged through syslog comes twice with Exim's default `syslog_duplication = true`: the
 * main log copy, then the reject log copy (the same text; split into `[1\n]` pieces when it carries
 * the header dump), both from the same process. The second of such a pair is not a new refusal. With
 * duplication off, two identical refusals of one process in one second would count once.
 */
import { domainOf } from '../model/address.js';
import type { EximAddressRecord, EximHost, EximRejectRecord, HostRef } from '../model/records.js';
import { baseEvent, TableCorrelator, type ClientRef, type Observation } from './messages.js';

function hostRef(h: EximHost | null): HostRef | null {
  return h === null ? null : { name: h.name, ip: h.ip, port: h.port };
}

function clientRef(h: EximHost | null): ClientRef | null {
  return h === null ? null : { name: h.name, ip: h.ip, port: h.port, helo: h.helo };
}

/** How many syslog-wrapped refusals wait for their reject log copy, at most (they come microseconds apart). */
const MAX_UNPAIRED = 256;

export class EximCorrelator extends TableCorrelator {
  /** Syslog-wrapped refusals seen once, by what the reject log copy would repeat. */
  private readonly unpaired = new Set<string>();

  /** True for the reject log copy of a refusal Exim sent to syslog twice (see above). */
  private isSyslogCopy(o: Observation, r: EximRejectRecord): boolean {
    if (o.envelope.program === null) return false; // a mainlog or rejectlog file: each line once
    const second = o.timeMs === null ? '' : Math.floor(o.timeMs / 1000);
    const key = [o.envelope.host, o.envelope.pid, second, r.id, r.what, r.sender, r.recipient, r.host?.ip, r.reply.text].join('\n');
    if (this.unpaired.delete(key)) return true;
    this.unpaired.add(key);
    if (this.unpaired.size > MAX_UNPAIRED) this.unpaired.delete(this.unpaired.values().next().value as string);
    return false;
  }

  protected handle(o: Observation): void {
    const host = o.envelope.host;
    const r = o.record;
    switch (r.kind) {
      case 'exim.arrival': {
        const m = this.table.touch(host, r.id, o.timeMs);
        m.sender = r.sender;
        m.client = clientRef(r.host);
        m.size = r.size;
        m.messageId = r.messageId;
        m.sawStart = true;
        if (r.parentId !== null) {
          const parent = this.table.get(host, r.parentId);
          if (parent !== undefined) {
            parent.links.notificationQueueId = r.id;
            this.table.link(parent, m, 'non_delivery_notification');
          } else {
            m.links.parentQueueId = r.parentId;
            m.links.relation = 'non_delivery_notification';
            m.links.queueIdChain = [r.parentId, r.id];
          }
        }
        break;
      }
      case 'exim.delivery':
      case 'exim.defer':
      case 'exim.failure':
        this.address(o, r);
        break;
      case 'exim.completed': {
        const m = this.table.get(host, r.id);
        if (m !== undefined) this.table.close(m, true);
        break;
      }
      case 'exim.reject':
        this.reject(o, r);
        break;
      default:
        break;
    }
  }

  private address(o: Observation, r: EximAddressRecord): void {
    const m = this.table.touch(o.envelope.host, r.id, o.timeMs);
    const status = r.kind === 'exim.delivery' ? 'sent' : r.kind === 'exim.defer' ? 'deferred' : 'bounced';
    const relay = r.host === null ? r.transport : `${r.host.name ?? ''}[${r.host.ip ?? ''}]`;
    this.table.setRecipient(m, { address: r.recipient, status, dsn: r.reply?.enhanced ?? null, relay });
    const domain = domainOf(r.recipient);
    this.sink.outcome(domain, status);
    this.sink.attempt?.({
      timeMs: o.timeMs,
      mtaHost: o.envelope.host,
      messageKey: r.id,
      recipient: r.recipient,
      recipientDomain: domain,
      status,
      code: r.reply?.code ?? (r.kind === 'exim.failure' ? 550 : null),
      enhancedStatus: r.reply?.enhanced ?? null,
      reply: r.reply?.text ?? r.text,
      stage: r.stage,
      remoteHost: r.host?.name ?? null,
      remoteIp: r.host?.ip ?? null,
      sender: m.sender,
      clientIp: m.client?.ip ?? null,
      messageId: m.messageId,
    });
    if (r.kind === 'exim.delivery') return;

    let code = r.reply?.code ?? null;
    let codeInferred = false;
    if (code === null) {
      // A deferral without a reply is a local or network problem, not a refusal.
      if (r.kind === 'exim.defer') return;
      code = 550;
      codeInferred = true;
    }
    if (code < 500 || code > 599) return;
    this.table.addPending(
      m,
      baseEvent(o, {
        direction: 'outbound',
        outcome: status,
        action: null,
        queueId: r.id,
        sender: null,
        recipient: r.recipient,
        recipientDomain: domain,
        originalRecipient: r.originalRecipient,
        stage: r.stage,
        code,
        codeInferred,
        enhancedStatus: r.reply?.enhanced ?? null,
        enhancedStatusSource: r.reply?.enhanced == null ? null : 'reply',
        reply: r.reply?.text ?? r.text ?? '',
        remote: hostRef(r.host),
        client: null,
        relay: r.host === null ? null : relay,
      }),
    );
  }

  private reject(o: Observation, r: EximRejectRecord): void {
    if (this.isSyslogCopy(o, r)) return;
    let code = r.reply.code;
    let codeInferred = false;
    if (code === null) {
      code = r.temporary ? 451 : r.stage === 'connect' ? 554 : 550;
      codeInferred = true;
    }
    const domain = domainOf(r.recipient);
    if (code >= 500 && r.recipient !== null) this.sink.outcome(domain, 'rejected');
    if (code < 500 || code > 599) return;
    const event = baseEvent(o, {
      direction: 'inbound',
      outcome: 'rejected',
      action: r.what,
      queueId: r.id,
      sender: r.sender,
      recipient: r.recipient,
      recipientDomain: domain,
      originalRecipient: null,
      stage: r.stage,
      code,
      codeInferred,
      enhancedStatus: r.reply.enhanced,
      enhancedStatusSource: r.reply.enhanced === null ? null : 'reply',
      reply: r.reply.text,
      remote: null,
      client: clientRef(r.host),
      relay: null,
    });
    if (r.id === null) {
      this.sink.event(event);
      return;
    }
    // Refused after DATA: the message was given an ID but is not kept, so it ends here.
    const m = this.table.touch(o.envelope.host, r.id, o.timeMs);
    if (m.sender === null) m.sender = r.sender;
    if (m.client === null) m.client = clientRef(r.host);
    m.sawStart = true;
    this.table.addPending(m, event);
    this.table.close(m, true);
  }
}
