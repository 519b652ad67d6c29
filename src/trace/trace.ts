/**
 * `mta550 trace <query>`: one message's whole story across every input (#13 item 1).
 *
 * The query is a Message-ID, a queue ID (Postfix, Exim, an Exchange message id), an address
 * (recipient or sender) or a domain; it is compared with every key a record carries, so it needs no
 * type. The inputs are read three times, which is why standard input is not accepted:
 *
 * 1. records that match the query directly name their messages (a message is a queue ID on one host,
 *    an Exim id, an Exchange network message id, a NOQUEUE refusal or an app error on its own);
 * 2. messages that share a Message-ID with those, in any input, and the messages linked to them
 *    (Postfix `queued as` after a content filter, non-delivery notifications, Exim's `R=` parent)
 *    join them, until nothing new is found (each round one more read);
 * 3. the records of those messages are collected in time order, with the events (classification
 *    and next move) the correlators made of them.
 */
import type { RejectionEvent, SourceRef } from '../model/event.js';
import type { Observation } from '../correlate/messages.js';
import type { HostRef, LogRecord } from '../model/records.js';

/** What a record says about the message it belongs to. */
export interface RecordKeys {
  /** The message the record belongs to. */
  key: string;
  messageId: string | null;
  /** Addresses it names (lower-cased). */
  addresses: string[];
  /** Queue or message ids it names (upper-cased). */
  ids: string[];
  /** Other messages it links this one to (content filter re-injection, bounce, parent). */
  links: string[];
}

const lineKey = (s: SourceRef) => `line|${s.identity}|${s.offset}`;
const lower = (xs: (string | null | undefined)[]) => xs.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => x.toLowerCase());

/** The keys of one decoded record (its message, Message-ID, addresses, ids, links). */
export function keysOf(o: Observation): RecordKeys {
  const r: LogRecord = o.record;
  const host = o.envelope.host ?? '';
  const pf = (qid: string) => `postfix|${host}|${qid}`;
  const ex = (id: string) => `exim|${host}|${id}`;
  switch (r.kind) {
    case 'postfix.smtpd.client':
      return { key: pf(r.queueId), messageId: null, addresses: lower([r.saslUsername]), ids: [r.queueId], links: [] };
    case 'postfix.action':
      return { key: r.queueId === null ? lineKey(o.source) : pf(r.queueId), messageId: null, addresses: lower([r.from, r.to]), ids: r.queueId === null ? [] : [r.queueId], links: [] };
    case 'postfix.cleanup.message_id':
      return { key: pf(r.queueId), messageId: r.messageId === '' ? null : r.messageId, addresses: [], ids: [r.queueId], links: [] };
    case 'postfix.qmgr.envelope':
    case 'postfix.qmgr.expired':
      return { key: pf(r.queueId), messageId: null, addresses: lower([r.from]), ids: [r.queueId], links: [] };
    case 'postfix.qmgr.removed':
      return { key: pf(r.queueId), messageId: null, addresses: [], ids: [r.queueId], links: [] };
    case 'postfix.delivery':
      return { key: pf(r.queueId), messageId: null, addresses: lower([r.to, r.origTo]), ids: [r.queueId], links: r.queuedAs === null ? [] : [pf(r.queuedAs)] };
    case 'postfix.bounce.notification':
      return { key: pf(r.queueId), messageId: null, addresses: [], ids: [r.queueId, r.notificationQueueId], links: [pf(r.notificationQueueId)] };
    case 'exim.arrival':
      return { key: ex(r.id), messageId: r.messageId, addresses: lower([r.sender]), ids: [r.id], links: r.parentId === null ? [] : [ex(r.parentId)] };
    case 'exim.delivery':
    case 'exim.defer':
    case 'exim.failure':
      return { key: ex(r.id), messageId: null, addresses: lower([r.recipient, r.originalRecipient]), ids: [r.id], links: [] };
    case 'exim.completed':
    case 'exim.frozen':
      return { key: ex(r.id), messageId: null, addresses: [], ids: [r.id], links: [] };
    case 'exim.reject':
      return { key: r.id === null ? lineKey(o.source) : ex(r.id), messageId: null, addresses: lower([r.sender, r.recipient]), ids: r.id === null ? [] : [r.id], links: [] };
    case 'exchange.tracking': {
      const id = r.networkMessageId ?? r.internalMessageId;
      return {
        key: id === null ? lineKey(o.source) : `exchange|${id}`,
        messageId: r.messageId,
        addresses: lower([...r.recipients, r.sender, r.returnPath, r.relatedRecipient]),
        ids: [r.networkMessageId, r.internalMessageId].filter((x): x is string => x !== null),
        links: [],
      };
    }
    case 'exchange.trace': {
      const id = r.traceId ?? r.messageId;
      return {
        key: id === null ? lineKey(o.source) : `exchange-online|${id}`,
        messageId: r.messageId,
        addresses: lower([...r.recipients.map((x) => x.address), r.sender]),
        ids: r.traceId === null ? [] : [r.traceId],
        links: [],
      };
    }
    case 'app.error':
      return { key: lineKey(o.source), messageId: r.messageId, addresses: lower([...r.recipients.map((x) => x.address), ...r.accepted, r.sender]), ids: [], links: [] };
  }
}

/**
 * Keys with Postfix queue-ID generations: Postfix reuses a queue ID after `removed`, so each
 * `host|qid` gets a generation counted in log order (the same in every read of the inputs), and two
 * messages that shared an ID are two stories.
 */
export class Keyer {
  private readonly generation = new Map<string, number>();

  keys(o: Observation): RecordKeys {
    const k = keysOf(o);
    const gen = (key: string) => (key.startsWith('postfix|') ? `${key}#${this.generation.get(key) ?? 0}` : key);
    const out: RecordKeys = { ...k, key: gen(k.key), links: k.links.map(gen) };
    if (o.record.kind === 'postfix.qmgr.removed') {
      const base = k.key;
      this.generation.set(base, (this.generation.get(base) ?? 0) + 1);
    }
    return out;
  }
}

/** A query, normalised: `<id@host>` and `id@host` are one Message-ID; addresses and domains compare without case. */
export class TraceQuery {
  readonly text: string;
  private readonly folded: string;

  constructor(query: string) {
    this.text = query.trim();
    let t = this.text;
    if (t.startsWith('<') && t.endsWith('>')) t = t.slice(1, -1);
    this.folded = t.toLowerCase();
  }

  matches(k: RecordKeys): boolean {
    const q = this.folded;
    if (q === '') return false;
    if (k.messageId !== null && k.messageId.toLowerCase() === q) return true;
    if (k.ids.some((id) => id.toLowerCase() === q)) return true;
    if (k.addresses.includes(q)) return true;
    // A domain: an address at it.
    return !q.includes('@') && q.includes('.') && k.addresses.some((a) => a.endsWith(`@${q}`));
  }
}

/** One record of a traced message, as printed. */
export interface TracedRecord {
  time: string | null;
  file: string;
  line: number;
  format: string;
  host: string | null;
  program: string | null;
  /** What the line says, in words. */
  text: string;
  raw: string;
}

export interface TracedMessage {
  /** The message keys joined into this story (one per MTA/host and source that logged it). */
  keys: string[];
  messageId: string | null;
  first: string | null;
  records: TracedRecord[];
  /** Refusals of these records, classified, with the next move. */
  events: RejectionEvent[];
}

export interface TraceResult {
  query: string;
  /** Messages that matched the query directly but were not followed (past `limit`): narrow the query or the time. */
  notFollowed: number;
  since: string | null;
  until: string | null;
  messages: TracedMessage[];
  /** Reads of the inputs it took to close the set of linked messages. */
  passes: number;
}

function host(h: HostRef | null): string {
  if (h === null) return 'unknown';
  const name = h.name ?? '';
  return h.ip === null ? name : `${name}[${h.ip}]`;
}

const angle = (a: string | null) => (a === null ? '<>' : `<${a}>`);

/** What a record says, in words (the raw line is kept beside it). */
export function describe(o: Observation): string {
  const r = o.record;
  switch (r.kind) {
    case 'postfix.smtpd.client':
      return `received from ${host(r.client)}${r.saslUsername === null ? '' : ` (SASL ${r.saslMethod ?? ''} ${r.saslUsername})`}`;
    case 'postfix.action':
      return `${r.action} at ${r.stageWord}${r.client === null ? '' : ` from ${host(r.client)}`}: ${r.reply.text}${r.from === null ? '' : `; from ${angle(r.from)}`}${r.to === null ? '' : ` to ${angle(r.to)}`}`;
    case 'postfix.cleanup.message_id':
      return `Message-ID <${r.messageId}>`;
    case 'postfix.qmgr.envelope':
      return `queued: from ${angle(r.from)}${r.size === null ? '' : `, ${r.size} bytes`}${r.nrcpt === null ? '' : `, ${r.nrcpt} recipient(s)`}`;
    case 'postfix.qmgr.removed':
      return 'removed from the queue';
    case 'postfix.qmgr.expired':
      return `expired in the queue, returned to ${angle(r.from)}`;
    case 'postfix.delivery':
      return `${angle(r.to)}${r.origTo === null ? '' : ` (was ${angle(r.origTo)})`}: ${r.status} via ${r.relay ?? r.agent}${r.detail === '' ? '' : `: ${r.detail}`}`;
    case 'postfix.bounce.notification':
      return `${r.notification} notification sent back as ${r.notificationQueueId}`;
    case 'exim.arrival':
      return `received from ${angle(r.sender === '' ? null : r.sender)}${r.host === null ? '' : ` ${r.host.name ?? ''}${r.host.ip === null ? '' : `[${r.host.ip}]`}`}${r.protocol === null ? '' : ` (${r.protocol})`}${r.messageId === null ? '' : `, Message-ID <${r.messageId}>`}`;
    case 'exim.delivery':
    case 'exim.defer':
    case 'exim.failure': {
      const verb = r.kind === 'exim.delivery' ? 'delivered' : r.kind === 'exim.defer' ? 'deferred' : 'failed';
      const via = [r.router === null ? null : `router ${r.router}`, r.transport === null ? null : `transport ${r.transport}`, r.host === null ? null : `host ${r.host.name ?? ''}${r.host.ip === null ? '' : `[${r.host.ip}]`}`].filter(Boolean).join(', ');
      return `${angle(r.recipient)}: ${verb}${via === '' ? '' : ` (${via})`}${r.text === null ? (r.confirmation === null ? '' : `: ${r.confirmation}`) : `: ${r.text}`}`;
    }
    case 'exim.completed':
      return 'completed';
    case 'exim.frozen':
      return `frozen: ${r.text}`;
    case 'exim.reject':
      return `${r.what}${r.host === null ? '' : ` from ${r.host.name ?? ''}${r.host.ip === null ? '' : `[${r.host.ip}]`}`}: ${r.reply.text}${r.recipient === null ? '' : ` (to ${angle(r.recipient)})`}`;
    case 'exchange.tracking':
      return `${r.eventId} (${r.source})${r.recipients.length === 0 ? '' : ` ${r.recipients.map((a, i) => `${angle(a)}${r.statuses[i] ? ` ${r.statuses[i]}` : ''}`).join('; ')}`}${r.sender === null ? '' : `, from ${angle(r.sender)}`}`;
    case 'exchange.trace':
      return `message trace: ${r.recipients.map((x) => `${angle(x.address)} ${x.status}${x.detail === null ? '' : ` (${x.detail})`}`).join('; ')}${r.sender === null ? '' : `, from ${angle(r.sender)}`}`;
    case 'app.error': {
      const who = r.recipients.length === 0 ? '' : ` ${r.recipients.map((x) => angle(x.address)).join(', ')}`;
      return `${r.library}${r.exception === null ? '' : ` ${r.exception}`}: refused at ${r.stage}${who}: ${r.reply.text}${r.relay === null ? '' : ` (by ${host(r.relay)})`}`;
    }
  }
}

/**
 * The three steps of a trace over inputs that can be read again: `read(tap, onEvent)` runs the whole
 * pipeline once, calling `tap` for every record and `onEvent` for every classified refusal.
 */
export async function trace(
  query: TraceQuery,
  window: { sinceMs: number | null; untilMs: number | null },
  read: (tap: (o: Observation) => void, onEvent: ((e: RejectionEvent) => void) | null) => Promise<void>,
  options: { maxPasses?: number; limit?: number; keepRaw?: boolean } = {},
): Promise<TraceResult> {
  const limit = options.limit ?? 100;
  let notFollowed = 0;
  const inWindow = (t: number | null) => t === null || ((window.sinceMs === null || t >= window.sinceMs) && (window.untilMs === null || t <= window.untilMs));
  const keys = new Set<string>();
  const messageIds = new Set<string>();
  let passes = 0;
  // Step 1 and 2: grow the set of messages until a read adds nothing.
  for (;;) {
    const before = keys.size + messageIds.size;
    passes++;
    const keyer = new Keyer();
    await read((o) => {
      const k = keyer.keys(o);
      let direct = passes === 1 && query.matches(k) && inWindow(o.timeMs);
      if (direct && !keys.has(k.key) && keys.size >= limit) {
        notFollowed++;
        direct = false;
      }
      // A record linking to a message of the set joins it too (Exim's bounce names its parent).
      const linked = k.links.some((l) => keys.has(l));
      if (direct || linked || keys.has(k.key) || (k.messageId !== null && messageIds.has(k.messageId))) {
        keys.add(k.key);
        for (const l of k.links) keys.add(l);
        if (k.messageId !== null) messageIds.add(k.messageId);
      }
    }, null);
    if (keys.size + messageIds.size === before || passes >= (options.maxPasses ?? 4)) break;
  }
  // Step 3: the records and events of those messages, one story per Message-ID when known (across
  // sources), else per message key; a key whose Message-ID shows up later joins that story.
  const stories = new Map<string, TracedMessage>();
  const alias = new Map<string, string>();
  const find = (id: string): string => {
    let x = id;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  const storyOfKey = new Map<string, string>();
  const lines = new Map<string, string>();
  const story = (id: string): TracedMessage => {
    let m = stories.get(id);
    if (m === undefined) {
      m = { keys: [], messageId: null, first: null, records: [], events: [] };
      stories.set(id, m);
    }
    return m;
  };
  passes++;
  const keyer = new Keyer();
  await read(
    (o) => {
      const k = keyer.keys(o);
      if (!keys.has(k.key)) return;
      let id = find(storyOfKey.get(k.key) ?? `key|${k.key}`);
      if (k.messageId !== null) {
        const mid = find(`mid|${k.messageId}`);
        if (mid !== id) {
          // Merge the key's story so far into the Message-ID's story.
          const from = stories.get(id);
          const into = story(mid);
          if (from !== undefined) {
            for (const r of from.records) into.records.push(r);
            for (const x of from.keys) if (!into.keys.includes(x)) into.keys.push(x);
            into.messageId ??= from.messageId;
            stories.delete(id);
          }
          alias.set(id, mid);
          id = mid;
        }
      }
      storyOfKey.set(k.key, id);
      const m = story(id);
      if (!m.keys.includes(k.key)) m.keys.push(k.key);
      m.messageId ??= k.messageId;
      const time = o.timeMs === null ? null : new Date(o.timeMs).toISOString();
      m.records.push({ time, file: o.source.file, line: o.source.line, format: o.source.format, host: o.envelope.host, program: o.envelope.program, text: describe(o), raw: options.keepRaw === false ? '' : o.raw });
      lines.set(`${o.source.identity}|${o.source.offset}`, id);
    },
    (e) => {
      const id = lines.get(`${e.source.identity}|${e.source.offset}`);
      if (id !== undefined) stories.get(find(id))?.events.push(e);
    },
  );
  const messages = [...stories.values()];
  for (const m of messages) {
    m.records.sort((a, b) => (a.time ?? '').localeCompare(b.time ?? '') || a.file.localeCompare(b.file) || a.line - b.line);
    m.first = m.records.find((r) => r.time !== null)?.time ?? null;
  }
  messages.sort((a, b) => (a.first ?? '').localeCompare(b.first ?? ''));
  return {
    query: query.text,
    notFollowed,
    since: window.sinceMs === null ? null : new Date(window.sinceMs).toISOString(),
    until: window.untilMs === null ? null : new Date(window.untilMs).toISOString(),
    messages,
    passes,
  };
}
