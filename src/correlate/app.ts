/**
 * Application errors to events (FORMATS.md 4). An app's error is complete in itself (no queue to
 * follow): one event per refused recipient it names, or one event without a recipient when it
 * names none (an end-of-DATA refusal, an authentication failure). Direction `submission`: the app's
 * SMTP client was refused by the relay or provider it submits to, which is `remote`. The recipients
 * the same send had accepted, and the other refused ones, are the event's other recipients.
 *
 * Joining with an MTA's record of the same message happens later (src/correlate/link.ts), across
 * inputs of different formats.
 */
import type { AppContext, RecipientOutcome, RejectionEvent } from '../model/event.js';
import { domainOf } from '../model/address.js';
import { detach } from '../model/detach.js';
import type { AppErrorRecord, HostRef, Reply } from '../model/records.js';
import { baseEvent, type Correlator, type CorrelatorOptions, type CorrelatorSink, type CorrelatorStats, type Observation } from './messages.js';

/** Most characters of an app unit kept as an event's `raw` (a long trace is cut, with a marker). */
const MAX_RAW = 8 * 1024;

function hostText(h: HostRef | null): string | null {
  if (h === null) return null;
  const name = h.name ?? (h.ip === null ? null : `[${h.ip}]`);
  if (name === null) return null;
  const withIp = h.name !== null && h.ip !== null ? `${h.name}[${h.ip}]` : name;
  return h.port === null ? withIp : `${withIp}:${h.port}`;
}

export class AppCorrelator implements Correlator {
  readonly stats: CorrelatorStats = { messagesOpened: 0, messagesClosed: 0, evictedIdle: 0, evictedOverflow: 0, openAtEnd: 0, releasedWaiting: 0, nonRefusingActions: {} };
  private readonly maxListed: number;

  constructor(
    private readonly sink: CorrelatorSink,
    options: CorrelatorOptions = {},
  ) {
    this.maxListed = options.maxListedRecipients ?? 50;
  }

  readonly openMessages = 0;

  push(o: Observation): void {
    const r = o.record;
    if (r.kind !== 'app.error') return;
    // Copies, not views of the unit's text: app events may wait long in the linker (model/detach.ts).
    const raw = detach(o.raw.length > MAX_RAW ? `${o.raw.slice(0, MAX_RAW)}\n[... ${o.raw.length - MAX_RAW} more characters of this unit not kept]` : o.raw);
    const refused: { address: string | null; reply: Reply }[] =
      r.recipients.length === 0 ? [{ address: null, reply: r.reply }] : r.recipients.map((x) => ({ address: x.address, reply: mergeReply(x.reply, r.reply) }));
    const everyone: RecipientOutcome[] = [
      ...refused.filter((x) => x.address !== null).map((x) => ({ address: x.address!, status: 'rejected', dsn: x.reply.enhanced, relay: hostText(r.relay) })),
      ...r.accepted.map((a) => ({ address: a, status: 'accepted', dsn: null, relay: hostText(r.relay) })),
    ];
    for (const x of refused) {
      const domain = domainOf(x.address);
      this.sink.outcome(domain, 'rejected');
      const others = everyone.filter((y) => y.address !== x.address);
      const byStatus: Record<string, number> = {};
      for (const y of others) byStatus[y.status] = (byStatus[y.status] ?? 0) + 1;
      const e: RejectionEvent = {
        ...baseEvent(o, {
          direction: 'submission',
          outcome: 'rejected',
          action: null,
          queueId: null,
          sender: r.sender,
          recipient: x.address,
          recipientDomain: domain,
          originalRecipient: null,
          stage: r.stage,
          code: x.reply.code,
          codeInferred: false,
          enhancedStatus: x.reply.enhanced,
          enhancedStatusSource: x.reply.enhanced === null ? null : 'reply',
          reply: detach(x.reply.text),
          remote: r.relay,
          client: null,
          relay: hostText(r.relay),
        }),
        raw,
      };
      e.messageId = r.messageId;
      e.message = {
        size: null,
        nrcpt: everyone.length === 0 ? null : everyone.length,
        recipientFinalStatus: 'rejected',
        otherRecipients: others.slice(0, this.maxListed),
        otherRecipientsByStatus: byStatus,
        links: { parentQueueId: null, relation: null, queueIdChain: [], notificationQueueId: null },
        complete: true,
      };
      e.app = appContext(r, x.reply.code === null ? r.codeCandidates : null);
      this.sink.event(e);
    }
  }

  flush(): void {}
}

function appContext(r: AppErrorRecord, codeCandidates: number[] | null): AppContext {
  return { ecosystem: r.ecosystem, library: r.library, exception: r.exception, codeCandidates, accepted: [...r.accepted], link: null };
}

/** A recipient's own reply, with the error's code and status where the recipient's lacks them. */
function mergeReply(own: Reply | null, whole: Reply): Reply {
  if (own === null) return whole;
  return { code: own.code ?? whole.code, enhanced: own.enhanced ?? whole.enhanced, text: own.text === '' ? whole.text : own.text };
}
