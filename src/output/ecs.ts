/**
 * mta550's records as Elastic Common Schema documents (docs/ecs.md has the mapping field by field,
 * with the reasoning where ECS leaves a choice), and the same content as flat JSON (`--ecs=false`).
 *
 * - Rejection events: `event.kind: event`, dataset `mta550.rejection`.
 * - Delivery attempts (`--records attempts`, the denominators `mta550 aggregate` needs): dataset
 *   `mta550.delivery`.
 * - Onset, recovery, attribute-change, incident and mix-shift records: `event.kind: alert`, dataset
 *   `mta550.onset`, the schema-1 record (README "Onset records") under `mta550.onset`.
 * - Group summaries at the end of a batch run: `event.kind: metric`, dataset `mta550.group`.
 *
 * Everything of our own is under `mta550.*`; every other field is an ECS field of the type ECS
 * defines (test/output/ecs.test.ts checks every golden document against the `@elastic/ecs` field
 * list). The rejection and attempt mappings are reversible: `mta550 aggregate` reads the documents
 * back into the records they came from (fromEcs), so groups and onsets can be computed across hosts.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Classification } from '../classify/classify.js';
import type { AppContext, AppLink, DeliveryAttempt, RecipientOutcome, RejectionEvent, SourceRef } from '../model/event.js';
import type { HostRef } from '../model/records.js';
import type { OnsetRecord } from '../onset/engine.js';
import type { Finding } from '../findings/types.js';
import type { ReportGroup } from '../aggregate/report.js';
import type { LiveSummary } from '../pipeline.js';

/** The ECS version the documents follow (checked against @elastic/ecs 9.4's field list). */
export const ECS_VERSION = '8.17.0';

type Doc = Record<string, unknown>;

const PRODUCTS: Record<string, string> = { postfix: 'Postfix', exim: 'Exim', exchange: 'Microsoft Exchange', app: 'application' };

/** Sets a dotted path in a nested document (skipping null and undefined values). */
function put(doc: Doc, path: string, value: unknown): void {
  if (value === null || value === undefined) return;
  const parts = path.split('.');
  let o = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    let next = o[k];
    if (next === undefined) {
      next = {};
      o[k] = next;
    }
    o = next as Doc;
  }
  o[parts[parts.length - 1]!] = value;
}

/** Reads a dotted path of a nested document (undefined when absent). */
function get(doc: Doc, path: string): unknown {
  let o: unknown = doc;
  for (const k of path.split('.')) {
    if (o === null || typeof o !== 'object') return undefined;
    o = (o as Doc)[k];
  }
  return o;
}

/** An address field: ECS `*.ip` only for IP addresses; `*.address` keeps whatever was logged (a socket path too). */
function putHost(doc: Doc, prefix: string, h: HostRef | null, withAddress = true): void {
  if (h === null) return;
  if (h.name !== null) put(doc, `${prefix}.domain`, h.name);
  if (h.ip !== null) {
    if (isIP(h.ip) !== 0) put(doc, `${prefix}.ip`, h.ip);
    if (withAddress) put(doc, `${prefix}.address`, h.ip);
  } else if (withAddress && h.name !== null) put(doc, `${prefix}.address`, h.name);
  if (h.port !== null) put(doc, `${prefix}.port`, h.port);
}

function readHost(doc: Doc, prefix: string): HostRef | null {
  const name = get(doc, `${prefix}.domain`) as string | undefined;
  const address = get(doc, `${prefix}.address`) as string | undefined;
  const ip = get(doc, `${prefix}.ip`) as string | undefined;
  const port = get(doc, `${prefix}.port`) as number | undefined;
  if (name === undefined && address === undefined && ip === undefined && port === undefined) return null;
  // `address` is the logged IP (or socket path) when there was one, else the name.
  const logged = ip ?? (address !== undefined && address !== name ? address : undefined);
  return { name: name ?? null, ip: logged ?? null, port: port ?? null };
}

function related(doc: Doc, hosts: (string | null | undefined)[], ips: (string | null | undefined)[]): void {
  const h = [...new Set(hosts.filter((x): x is string => typeof x === 'string' && x !== '' && x !== 'unknown'))];
  const i = [...new Set(ips.filter((x): x is string => typeof x === 'string' && isIP(x) !== 0))];
  if (h.length > 0) put(doc, 'related.hosts', h);
  if (i.length > 0) put(doc, 'related.ip', i);
}

function base(dataset: string, kind: 'event' | 'alert' | 'metric', time: string | null): Doc {
  const doc: Doc = {};
  // ECS requires @timestamp: a line without a time of its own (a header-less excerpt) gets the time
  // it was read, as ECS advises, and `mta550.time_missing` says so (the record's own time is null).
  doc['@timestamp'] = time ?? new Date().toISOString();
  put(doc, 'ecs.version', ECS_VERSION);
  put(doc, 'event.kind', kind);
  put(doc, 'event.module', 'mta550');
  put(doc, 'event.dataset', dataset);
  put(doc, 'data_stream.type', kind === 'metric' ? 'metrics' : 'logs');
  put(doc, 'data_stream.dataset', dataset);
  put(doc, 'data_stream.namespace', 'default');
  return doc;
}

function observer(doc: Doc, format: string, host: string | null): void {
  put(doc, 'observer.type', 'mta');
  put(doc, 'observer.product', PRODUCTS[format] ?? format);
  put(doc, 'observer.hostname', host);
  put(doc, 'host.name', host);
}

const classificationToDoc = (c: Classification): Doc => ({
  subtype: c.subtype,
  side: c.side,
  provider: c.provider,
  provider_via: c.providerVia,
  confidence: c.confidence,
  evidence: c.evidence.map((e) => ({ ...e })),
  next_move: c.nextMove,
  detail: c.detail,
  rule: c.rule,
  stage: c.stage,
  code: c.code,
  enhanced_status: c.enhancedStatus,
  text: c.text,
});

const classificationFromDoc = (d: Doc): Classification => ({
  subtype: d.subtype as Classification['subtype'],
  side: d.side as Classification['side'],
  provider: d.provider as Classification['provider'],
  providerVia: d.provider_via as Classification['providerVia'],
  confidence: d.confidence as Classification['confidence'],
  evidence: (d.evidence as Classification['evidence']).map((e) => ({ ...e })),
  nextMove: d.next_move as string,
  detail: (d.detail as string | null | undefined) ?? null,
  rule: d.rule as string,
  stage: (d.stage as Classification['stage'] | undefined) ?? null,
  code: (d.code as number | undefined) ?? null,
  enhancedStatus: (d.enhanced_status as string | undefined) ?? null,
  text: d.text as string,
});

/** A rejection event as an ECS document. */
export function rejectionToEcs(e: RejectionEvent): Doc {
  const doc = base('mta550.rejection', 'event', e.time);
  const c = e.classification;
  doc.message = `${e.outcome} ${e.recipient ?? '(whole message)'}: ${e.reply}`;
  put(doc, 'event.id', e.id);
  // A refusal in an SMTP transaction: mail (the message) and network (the protocol exchange) both.
  put(doc, 'event.category', ['email', 'network']);
  put(doc, 'event.type', ['denied', 'info']);
  put(doc, 'event.action', e.outcome);
  // A 5xx inside a temporary failure (`deferred`) may still end delivered: unknown, as for attempts.
  put(doc, 'event.outcome', e.outcome === 'deferred' ? 'unknown' : 'failure');
  put(doc, 'event.code', e.code === null ? null : String(e.code));
  put(doc, 'event.reason', c === null ? null : c.subtype);
  put(doc, 'event.provider', e.mta.program);
  put(doc, 'event.original', e.raw);
  put(doc, 'email.direction', e.direction);
  put(doc, 'email.local_id', e.queueId);
  put(doc, 'email.message_id', e.messageId);
  if (e.sender !== null) put(doc, 'email.from.address', [e.sender]);
  if (e.recipient !== null) put(doc, 'email.to.address', [e.recipient]);
  put(doc, 'destination.domain', e.recipientDomain);
  put(doc, 'error.code', e.enhancedStatus);
  put(doc, 'error.message', e.reply);
  putHost(doc, 'server', e.remote);
  if (e.client !== null) {
    putHost(doc, 'client', e.client);
    // The client our server refused is also where the refused traffic came from.
    if (e.direction === 'inbound') putHost(doc, 'source', e.client);
  }
  put(doc, 'log.file.path', e.source.file);
  if (e.app === undefined) observer(doc, e.source.format, e.mta.host);
  else {
    // An application's log: the app is the observer, and the SMTP client that was refused.
    put(doc, 'observer.type', 'application');
    put(doc, 'observer.product', e.app.library);
    put(doc, 'observer.hostname', e.mta.host);
    put(doc, 'host.name', e.mta.host);
  }
  related(doc, [e.remote?.name, e.client?.name, e.mta.host], [e.remote?.ip, e.client?.ip]);
  const m: Doc = {
    schema: 1,
    record: 'rejection',
    ...(e.time === null ? { time_missing: true } : {}),
    source: { format: e.source.format, line: e.source.line, offset: e.source.offset, identity: e.source.identity },
    year_source: e.yearSource,
    mta: { program: e.mta.program, daemon: e.mta.daemon },
    action: e.action,
    stage: e.stage,
    code: e.code,
    code_inferred: e.codeInferred,
    enhanced_status_source: e.enhancedStatusSource,
    original_recipient: e.originalRecipient,
    relay: e.relay,
    client_helo: e.client?.helo ?? null,
    client_present: e.client !== null,
    message:
      e.message === null
        ? null
        : {
            size: e.message.size,
            nrcpt: e.message.nrcpt,
            recipient_final_status: e.message.recipientFinalStatus,
            other_recipients: e.message.otherRecipients.map((r) => ({ ...r })),
            other_recipients_by_status: { ...e.message.otherRecipientsByStatus },
            links: {
              parent_queue_id: e.message.links.parentQueueId,
              relation: e.message.links.relation,
              queue_id_chain: [...e.message.links.queueIdChain],
              notification_queue_id: e.message.links.notificationQueueId,
            },
            complete: e.message.complete,
          },
  };
  if (e.app !== undefined) m.app = appToDoc(e.app);
  if (c !== null) {
    Object.assign(m, { subtype: c.subtype, side: c.side, provider: c.provider, confidence: c.confidence, next_move: c.nextMove, classification: classificationToDoc(c) });
  }
  doc.mta550 = m;
  return doc;
}

/** The rejection event an ECS document (or its flat form) came from. */
export function rejectionFromEcs(input: Doc): RejectionEvent {
  const doc = isFlat(input) ? unflatten(input) : input;
  const m = doc.mta550 as Doc;
  const src = m.source as Doc;
  const mta = m.mta as Doc;
  const msg = (m.message as Doc | null | undefined) ?? null;
  const links = msg === null ? null : (msg.links as Doc);
  const client = m.client_present === true ? readHost(doc, 'client') : null;
  const from = get(doc, 'email.from.address') as string[] | undefined;
  const to = get(doc, 'email.to.address') as string[] | undefined;
  const str = (path: string) => (get(doc, path) as string | undefined) ?? null;
  return {
    id: get(doc, 'event.id') as string,
    time: m.time_missing === true ? null : ((doc['@timestamp'] as string | undefined) ?? null),
    yearSource: m.year_source as RejectionEvent['yearSource'],
    source: { format: src.format as RejectionEvent['source']['format'], file: get(doc, 'log.file.path') as string, line: src.line as number, offset: src.offset as number, identity: src.identity as string },
    mta: { host: str('host.name'), program: (mta.program as string | null | undefined) ?? null, daemon: mta.daemon as string },
    direction: get(doc, 'email.direction') as RejectionEvent['direction'],
    outcome: get(doc, 'event.action') as string,
    action: (m.action as string | null | undefined) ?? null,
    queueId: str('email.local_id'),
    messageId: str('email.message_id'),
    sender: from?.[0] ?? null,
    recipient: to?.[0] ?? null,
    recipientDomain: str('destination.domain'),
    originalRecipient: (m.original_recipient as string | null | undefined) ?? null,
    stage: m.stage as RejectionEvent['stage'],
    code: (m.code as number | null | undefined) ?? null,
    codeInferred: m.code_inferred as boolean,
    enhancedStatus: str('error.code'),
    enhancedStatusSource: (m.enhanced_status_source as RejectionEvent['enhancedStatusSource'] | undefined) ?? null,
    reply: (get(doc, 'error.message') as string | undefined) ?? '',
    remote: readHost(doc, 'server'),
    client: client === null ? null : { ...client, helo: (m.client_helo as string | null | undefined) ?? null },
    relay: (m.relay as string | null | undefined) ?? null,
    message:
      msg === null || links === null
        ? null
        : {
            size: (msg.size as number | null | undefined) ?? null,
            nrcpt: (msg.nrcpt as number | null | undefined) ?? null,
            recipientFinalStatus: (msg.recipient_final_status as string | null | undefined) ?? null,
            otherRecipients: (msg.other_recipients as RecipientOutcome[]).map((r) => ({ ...r })),
            otherRecipientsByStatus: { ...(msg.other_recipients_by_status as Record<string, number>) },
            links: {
              parentQueueId: (links.parent_queue_id as string | null | undefined) ?? null,
              relation: (links.relation as 'content_filter' | 'non_delivery_notification' | null | undefined) ?? null,
              queueIdChain: [...(links.queue_id_chain as string[])],
              notificationQueueId: (links.notification_queue_id as string | null | undefined) ?? null,
            },
            complete: msg.complete as boolean,
          },
    classification: m.classification === undefined || m.classification === null ? null : classificationFromDoc(m.classification as Doc),
    raw: (get(doc, 'event.original') as string | undefined) ?? '',
    ...(m.app === undefined || m.app === null ? {} : { app: appFromDoc(m.app as Doc) }),
  };
}

const appToDoc = (a: AppContext): Doc => ({
  ecosystem: a.ecosystem,
  library: a.library,
  exception: a.exception,
  code_candidates: a.codeCandidates === null ? null : [...a.codeCandidates],
  accepted: [...a.accepted],
  link:
    a.link === null
      ? null
      : {
          by: a.link.by,
          inferred: a.link.inferred,
          event_id: a.link.eventId,
          source: { ...a.link.source },
          mta_host: a.link.mtaHost,
          queue_id: a.link.queueId,
          reply: a.link.reply,
          offset_seconds: a.link.offsetSeconds,
        },
});

function appFromDoc(d: Doc): AppContext {
  const l = (d.link ?? null) as Doc | null;
  return {
    ecosystem: d.ecosystem as AppContext['ecosystem'],
    library: d.library as string,
    exception: (d.exception as string | null) ?? null,
    codeCandidates: (d.code_candidates as number[] | null) ?? null,
    accepted: [...(d.accepted as string[])],
    link:
      l === null
        ? null
        : {
            by: l.by as AppLink['by'],
            inferred: l.inferred as boolean,
            eventId: (l.event_id as string | null) ?? null,
            source: { ...(l.source as SourceRef) },
            mtaHost: (l.mta_host as string | null) ?? null,
            queueId: (l.queue_id as string | null) ?? null,
            reply: (l.reply as string | null) ?? null,
            offsetSeconds: (l.offset_seconds as number | null) ?? null,
          },
  };
}

/** A delivery attempt (any outcome) as an ECS document: the denominators of rates, for `aggregate`. */
export function attemptToEcs(a: DeliveryAttempt, format: string, file: string): Doc {
  const doc = base('mta550.delivery', 'event', a.timeMs === null ? null : new Date(a.timeMs).toISOString());
  // Deterministic, so a store (or aggregate's input after a tail restart) can deduplicate attempts.
  put(doc, 'event.id', createHash('sha256').update(`${a.mtaHost ?? ''}|${a.messageKey}|${a.recipient}|${a.timeMs ?? ''}|${a.status}|${a.code ?? ''}|${a.remoteIp ?? ''}`).digest('hex').slice(0, 20));
  put(doc, 'event.category', ['email']);
  put(doc, 'event.type', ['info']);
  put(doc, 'event.action', a.status);
  put(doc, 'event.outcome', a.status === 'sent' ? 'success' : a.status === 'deferred' ? 'unknown' : 'failure');
  put(doc, 'event.code', a.code === null ? null : String(a.code));
  put(doc, 'email.direction', 'outbound');
  put(doc, 'email.local_id', a.messageKey);
  if (a.sender !== null) put(doc, 'email.from.address', [a.sender]);
  put(doc, 'email.to.address', [a.recipient]);
  put(doc, 'destination.domain', a.recipientDomain);
  put(doc, 'error.code', a.enhancedStatus);
  put(doc, 'error.message', a.reply);
  if (a.remoteHost !== null) put(doc, 'server.domain', a.remoteHost);
  if (a.remoteIp !== null) {
    put(doc, 'server.address', a.remoteIp);
    if (isIP(a.remoteIp) !== 0) put(doc, 'server.ip', a.remoteIp);
  }
  if (a.clientIp !== null) {
    put(doc, 'client.address', a.clientIp);
    if (isIP(a.clientIp) !== 0) put(doc, 'client.ip', a.clientIp);
  }
  put(doc, 'log.file.path', file);
  observer(doc, format, a.mtaHost);
  related(doc, [a.remoteHost, a.mtaHost], [a.remoteIp, a.clientIp]);
  doc.mta550 = { schema: 1, record: 'delivery', ...(a.timeMs === null ? { time_missing: true } : {}), time_ms: a.timeMs, stage: a.stage, code: a.code, sender_present: a.sender !== null };
  return doc;
}

export function attemptFromEcs(input: Doc): DeliveryAttempt {
  const doc = isFlat(input) ? unflatten(input) : input;
  const m = doc.mta550 as Doc;
  const str = (path: string) => (get(doc, path) as string | undefined) ?? null;
  return {
    timeMs: (m.time_ms as number | null | undefined) ?? null,
    mtaHost: str('host.name'),
    messageKey: get(doc, 'email.local_id') as string,
    recipient: (get(doc, 'email.to.address') as string[])[0]!,
    recipientDomain: str('destination.domain'),
    status: get(doc, 'event.action') as string,
    code: (m.code as number | null | undefined) ?? null,
    enhancedStatus: str('error.code'),
    reply: str('error.message'),
    stage: m.stage as DeliveryAttempt['stage'],
    remoteHost: str('server.domain'),
    remoteIp: str('server.address'),
    sender: m.sender_present === true ? ((get(doc, 'email.from.address') as string[] | undefined)?.[0] ?? null) : null,
    clientIp: str('client.address'),
  };
}

/** An onset (or recovery, update, attribute change, incident, mix shift) record as an ECS alert. */
export function onsetToEcs(r: OnsetRecord): Doc {
  const doc = base('mta550.onset', 'alert', r.detectedAt);
  doc.message = r.summary;
  put(doc, 'event.id', r.id);
  put(doc, 'event.category', ['email']);
  put(doc, 'event.type', ['info']);
  put(doc, 'event.action', r.type);
  put(doc, 'event.reason', r.series.subtype);
  put(doc, 'event.start', r.onsetAt);
  put(doc, 'event.end', r.recoveredAt);
  put(doc, 'destination.domain', r.series.recipientDomain);
  doc.mta550 = { schema: 1, record: 'onset', subtype: r.series.subtype, provider: r.series.provider, next_move: r.nextMove, onset: r };
  return doc;
}

export function onsetFromEcs(input: Doc): OnsetRecord {
  const doc = isFlat(input) ? unflatten(input) : input;
  return (doc.mta550 as Doc).onset as OnsetRecord;
}

/** One group of the report (recipient domain x direction x subtype) as an ECS metric document. */
export function groupToEcs(g: ReportGroup, at: string | null): Doc {
  const doc = base('mta550.group', 'metric', at ?? g.lastSeen);
  doc.message = `${g.count} ${g.subtype} ${g.direction} refusals for ${g.recipientDomain ?? '(no domain)'}`;
  put(doc, 'event.category', ['email']);
  put(doc, 'event.type', ['info']);
  put(doc, 'event.action', 'group-summary');
  put(doc, 'event.start', g.firstSeen);
  put(doc, 'event.end', g.lastSeen);
  put(doc, 'email.direction', g.direction);
  put(doc, 'destination.domain', g.recipientDomain);
  doc.mta550 = { schema: 1, record: 'group', ...((at ?? g.lastSeen) === null ? { time_missing: true } : {}), subtype: g.subtype, provider: g.provider, group: g };
  return doc;
}

/**
 * A finding (#14) as an ECS alert: something to act on, like an onset. `@timestamp` is the last
 * time its evidence was seen (else the first example's time).
 */
export function findingToEcs(f: Finding): Doc {
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const at = str(f.counts['lastSeen']) ?? str(f.counts['firstSeen']) ?? f.examples[0]?.time ?? null;
  const doc = base('mta550.finding', 'alert', at);
  doc.message = f.title;
  put(doc, 'event.category', ['email']);
  put(doc, 'event.type', ['info']);
  put(doc, 'event.action', f.kind);
  put(doc, 'event.id', f.id);
  put(doc, 'event.severity', f.severity === 'high' ? 3 : f.severity === 'medium' ? 2 : 1);
  put(doc, 'event.start', str(f.counts['firstSeen']));
  put(doc, 'event.end', str(f.counts['lastSeen']));
  put(doc, 'destination.domain', f.subject['recipientDomain'] ?? null);
  doc.mta550 = {
    schema: 1,
    record: 'finding',
    ...(at === null ? { time_missing: true } : {}),
    severity: f.severity,
    next_move: f.nextMove,
    finding: f,
  };
  return doc;
}

/** A tail summary (`--summary-every`) as an ECS metric document: the follower's own health. */
export function summaryToEcs(sm: LiveSummary): Doc {
  const doc = base('mta550.summary', 'metric', sm.at);
  doc.message = `${sm.window.lines} lines, ${sm.window.events} events since ${sm.since}`;
  put(doc, 'event.category', ['email']);
  put(doc, 'event.type', ['info']);
  put(doc, 'event.action', 'tail-summary');
  put(doc, 'event.start', sm.since);
  put(doc, 'event.end', sm.at);
  doc.mta550 = { schema: 1, record: 'summary', summary: sm };
  return doc;
}

/** Which record a document (nested or flat) carries. */
export function recordKind(input: Doc): 'rejection' | 'delivery' | 'onset' | 'group' | 'summary' | 'finding' | null {
  const flat = isFlat(input);
  const v = flat ? input['mta550.record'] : get(input, 'mta550.record');
  return v === 'rejection' || v === 'delivery' || v === 'onset' || v === 'group' || v === 'summary' || v === 'finding' ? v : null;
}

// --- the flat form (`--ecs=false`) ---------------------------------------------------------------

/**
 * Embedded records are kept whole in the flat form (JSON-encoded strings), so a flat row has scalar
 * and string-array values only: what a column store's JSONEachRow ingest takes (docs/clickhouse.md).
 */
const OPAQUE = new Set(['mta550.onset', 'mta550.group', 'mta550.summary', 'mta550.finding', 'mta550.classification', 'mta550.message', 'mta550.app']);

/** The same content with dotted keys: objects flattened, arrays of scalars kept, embedded records as JSON strings. */
export function flatten(doc: Doc): Doc {
  const out: Doc = {};
  const walk = (o: Doc, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const path = prefix === '' ? k : `${prefix}.${k}`;
      if (OPAQUE.has(path)) out[path] = v === null ? null : JSON.stringify(v);
      else if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Doc, path);
      else if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) out[path] = JSON.stringify(v);
      else out[path] = v;
    }
  };
  walk(doc, '');
  return out;
}

function isFlat(doc: Doc): boolean {
  return Object.keys(doc).some((k) => k.includes('.'));
}

/** The nested document a flat row came from (inverse of flatten). */
export function unflatten(flat: Doc): Doc {
  const doc: Doc = {};
  for (const [k, v] of Object.entries(flat)) {
    const opaque = OPAQUE.has(k) || k === 'mta550.classification.evidence' || k === 'mta550.message.other_recipients' || k === 'mta550.classification';
    const value = typeof v === 'string' && opaque ? (JSON.parse(v) as unknown) : v;
    if (value === null) {
      // Keep explicit nulls of our own fields (they are part of the record).
      if (k.startsWith('mta550.')) setPath(doc, k, null);
      continue;
    }
    setPath(doc, k, value);
  }
  return doc;
}

function setPath(doc: Doc, path: string, value: unknown): void {
  // `@timestamp` and `mta550.*` keys are split on dots; no key of ours has a dot of its own.
  const parts = path.split('.');
  let o = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    if (o[k] === undefined || o[k] === null) o[k] = {};
    o = o[k] as Doc;
  }
  o[parts[parts.length - 1]!] = value;
}
