/**
 * Findings (#14 items 1, 2, 4): a reducer fed like the ReportBuilder (events, delivery attempts,
 * onset records) that answers "are we retrying it anyway?" (retry_after_permanent), "did one bad
 * address sink a whole send?" (poisoned_multi_recipient) and "why only this one customer domain?"
 * (one_domain_only). Pure: no I/O. Findings from other sources (re-sent through another path, the
 * DNS posture check) are merged by `build({ extra })`.
 *
 * Bounded whatever the input: at most MAX_PAIRS sender -> recipient pairs, MAX_MESSAGES
 * multi-recipient messages, MAX_SUBTYPE_DOMAINS domains per subtype and MAX_SENT_SENDERS x
 * MAX_SENT_DOMAINS successful deliveries are kept; past a cap the least offending entries leave
 * first (a pair seen once, a message with the fewest recipients), so the worst offenders stay.
 */
import { createHash } from 'node:crypto';
import { SUBTYPE_INFO, type SubtypeId } from '../classify/subtypes.js';
import { domainOf } from '../model/address.js';
import { detach, Interner } from '../model/detach.js';
import type { DeliveryAttempt, RejectionEvent } from '../model/event.js';
import { earlier, later } from '../model/time.js';
import { keyHash, type OnsetRecord } from '../onset/engine.js';
import type { EvidenceLine, Finding, FindingKind, Severity } from './types.js';

/**
 * Sender -> recipient pairs followed for retries (20,000). Each keeps up to MAX_TIMES times,
 * MAX_KEYS attempt keys and message keys and five examples: a few KiB at worst, so the table is
 * bounded at some tens of MB on hostile input, far less on real logs (most pairs are seen once).
 */
export const MAX_PAIRS = 20_000;
/** Multi-recipient messages followed for poisoned sends (5,000). */
export const MAX_MESSAGES = 5_000;
/** Recipient domains counted per subtype for one_domain_only (2,000, as many as the report's groups). */
export const MAX_SUBTYPE_DOMAINS = 2_000;
/** Sender domains whose successful deliveries are counted (1,000), each to at most 200 recipient domains. */
export const MAX_SENT_SENDERS = 1_000;
export const MAX_SENT_DOMAINS = 200;
/** Findings of each kind in the result (100: the text report shows --top of them; JSON all of these). */
export const MAX_FINDINGS_PER_KIND = 100;
/** Examples per finding (5, the contract's). */
const MAX_EXAMPLES = 5;
/** Refusal times kept per pair for the loop test (64); attempt keys for de-duplication (64). */
const MAX_TIMES = 64;
const MAX_KEYS = 64;
/**
 * A loop: at least LOOP_ATTEMPTS refusals of one pair within LOOP_WINDOW_MS (3 in 10 minutes). A
 * person retrying by hand rarely manages three in ten minutes; a job queue's retry loop does.
 */
export const LOOP_ATTEMPTS = 3;
export const LOOP_WINDOW_MS = 10 * 60_000;
/** one_domain_only: at least this many outbound refusals of a subtype (5), this share at one domain (80%). */
export const ONE_DOMAIN_MIN = 5;
export const ONE_DOMAIN_SHARE = 0.8;
/** Successful deliveries count as "the same period" up to an hour either side of the refusals. */
const PERIOD_SLACK_MS = 60 * 60_000;

const SEVERITY_ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/** `${kind}:${sha256(key).slice(0, 12)}`: the same logs give the same ids. */
export function findingId(kind: FindingKind, key: string): string {
  return `${kind}:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** The count a finding is ranked by within its severity. */
export function findingWeight(f: Finding): number {
  for (const k of ['attempts', 'refusals', 'affectedRecipients', 'count']) {
    const v = f.counts[k];
    if (typeof v === 'number') return v;
  }
  return 0;
}

/** Severity first, then the count, then the id (stable). */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || findingWeight(b) - findingWeight(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Input paths of evidence lines: one copy each (thousands of examples name a few files). */
const files = new Interner(1_000);

function exampleText(e: RejectionEvent): string {
  return e.reply.length > 300 ? `${e.reply.slice(0, 299)}…` : e.reply;
}

function example(e: RejectionEvent): EvidenceLine {
  return { file: files.get(e.source.file), line: e.source.line, time: e.time, text: detach(exampleText(e)) };
}

/**
 * A pair refused once, as one flat string: most pairs are never refused again, and as an object
 * with its arrays and strings each cost about 1.2 KB (25 MiB for the 20,000 kept), packed about
 * 400 bytes. Each field is `-` for null or `=` then its length, `:` and its text.
 */
function packSingle(fields: readonly (string | null)[]): string {
  let s = '';
  for (const f of fields) s += f === null ? '-' : `=${f.length}:${f}`;
  return detach(s);
}

function unpackSingle(s: string): (string | null)[] {
  const out: (string | null)[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '-') {
      out.push(null);
      i++;
      continue;
    }
    const colon = s.indexOf(':', i);
    const end = colon + 1 + Number(s.slice(i + 1, colon));
    out.push(s.slice(colon + 1, end));
    i = end;
  }
  return out;
}

/**
 * A set of strings that is a bare string while it holds one (most sender -> recipient pairs are
 * refused once: a Set each would be most of the pair table's memory), null while empty.
 */
type SmallSet = string | Set<string> | null;

function smallHas(s: SmallSet, v: string): boolean {
  return s === null ? false : typeof s === 'string' ? s === v : s.has(v);
}

function smallSize(s: SmallSet): number {
  return s === null ? 0 : typeof s === 'string' ? 1 : s.size;
}

/** `s` with `v` added (a copy of it), unless it already holds `max`. */
function smallAdd(s: SmallSet, v: string, max: number): SmallSet {
  if (smallSize(s) >= max) return s;
  if (s === null) return detach(v);
  if (typeof s === 'string') return new Set([s, detach(v)]);
  s.add(detach(v));
  return s;
}

function ms(t: string | null): number | null {
  if (t === null) return null;
  const v = Date.parse(t);
  return Number.isFinite(v) ? v : null;
}

/** A permanent refusal: a 5xx that ended the attempt (not a 5xx text inside a deferral). */
function permanent(e: RejectionEvent): boolean {
  return e.code !== null && e.code >= 500 && e.code < 600 && e.outcome !== 'deferred';
}

/** The message an event belongs to on its MTA: the first queue ID of its chain (a content filter's re-injection is the same message). */
function messageKey(e: RejectionEvent): string | null {
  const q = e.message?.links.queueIdChain[0] ?? e.queueId;
  if (q !== null) return `q:${e.mta.host ?? ''}:${q}`;
  return null;
}

interface PairState {
  /** The order pairs were first seen in (the eviction's tie-break). */
  seq: number;
  direction: RejectionEvent['direction'];
  sender: string | null;
  recipient: string;
  library: string | null;
  subtype: SubtypeId;
  attempts: number;
  keys: SmallSet;
  messages: SmallSet;
  messagesCapped: boolean;
  times: number[];
  firstSeen: string | null;
  lastSeen: string | null;
  examples: EvidenceLine[];
}

interface MessageState {
  key: string;
  messageId: string | null;
  queueId: string | null;
  sender: string | null;
  refused: Map<string, { reply: string; subtype: SubtypeId }>;
  /**
   * Recipients the message reached (sent), and those that never left because the send failed as a
   * whole, as 52-bit hashes of the lower-cased addresses (only their number and the refused ones'
   * removal count: numbers take a third of the memory of up to 50 address strings per message).
   */
  accepted: Set<number>;
  acceptedCount: number;
  unsent: Set<number>;
  wholeSend: boolean;
  library: string | null;
  firstSeen: string | null;
  examples: EvidenceLine[];
}

interface DomainState {
  count: number;
  providers: Map<string, number>;
  senderDomains: Set<string>;
  firstMs: number | null;
  lastMs: number | null;
  examples: EvidenceLine[];
}

interface SentState {
  n: number;
  firstMs: number | null;
  lastMs: number | null;
}

/** Options of `build`. */
export interface FindingsBuildOptions {
  /** Findings from other sources (re-sent through another path, --check-dns) merged into the result. */
  extra?: readonly Finding[];
}

export class FindingsBuilder {
  /** Sender -> recipient pairs refused twice or more (repeat offenders). */
  private readonly pairs = new Map<string, PairState>();
  /** Pairs refused once, packed (packSingle), in the order first seen. */
  private readonly singles = new Map<string, string>();
  private pairSeq = 0;
  private readonly messages = new Map<string, MessageState>();
  /** Outbound refusals: subtype -> recipient domain -> state. */
  private readonly subtypes = new Map<SubtypeId, Map<string, DomainState>>();
  /** Successful deliveries: sender domain -> recipient domain -> counts. */
  private readonly sent = new Map<string, Map<string, SentState>>();
  private readonly onsets: OnsetRecord[] = [];

  event(e: RejectionEvent): void {
    if (!permanent(e)) return;
    this.retry(e);
    this.poisoned(e);
    this.domain(e);
  }

  attempt(a: DeliveryAttempt): void {
    if (a.status !== 'sent' || a.recipientDomain === null || a.sender === null || a.sender === '') return;
    const sd = domainOf(a.sender);
    if (sd === null) return;
    let m = this.sent.get(sd);
    if (m === undefined) {
      if (this.sent.size >= MAX_SENT_SENDERS) return;
      m = new Map();
      this.sent.set(detach(sd), m);
    }
    let s = m.get(a.recipientDomain);
    if (s === undefined) {
      if (m.size >= MAX_SENT_DOMAINS) return;
      s = { n: 0, firstMs: null, lastMs: null };
      m.set(detach(a.recipientDomain), s);
    }
    s.n++;
    if (a.timeMs !== null) {
      s.firstMs = s.firstMs === null ? a.timeMs : Math.min(s.firstMs, a.timeMs);
      s.lastMs = s.lastMs === null ? a.timeMs : Math.max(s.lastMs, a.timeMs);
    }
  }

  /** Onset records: their attribution tells whether a domain's route changed. */
  onset(r: OnsetRecord): void {
    if (r.type === 'onset' || r.type === 'new_series_elevated' || r.type === 'attribute_change') this.onsets.push(r);
  }

  // ------------------------------------------------------------------ retry_after_permanent

  private retry(e: RejectionEvent): void {
    // Inbound: a client retrying against our own refusal is its problem, not the sender's we run.
    if (e.recipient === null || e.direction === 'inbound') return;
    // A null sender is a bounce: NDRs of different messages to one bad address are not retries.
    if (e.sender === '' || e.message?.links.relation === 'non_delivery_notification') return;
    const library = e.app?.library ?? null;
    const key = `${e.direction}\u0000${library ?? ''}\u0000${(e.sender ?? '').toLowerCase()}\u0000${e.recipient.toLowerCase()}`;
    // One refusal of one message to one recipient counts once, however many lines tell it.
    const mk = messageKey(e);
    const attemptKey = mk ?? `l:${e.source.file}:${e.source.line}`;
    const msg = e.messageId ?? mk ?? attemptKey;
    let p = this.pairs.get(key);
    if (p === undefined) {
      const packed = this.singles.get(key);
      if (packed === undefined) {
        if (this.pairs.size + this.singles.size >= MAX_PAIRS + MAX_PAIRS / 10) this.evictPairs();
        this.singles.set(
          detach(key),
          packSingle([e.direction, e.sender, e.recipient, library, e.classification?.subtype ?? 'other_or_unclassified', attemptKey, msg, e.time, e.source.file, String(e.source.line), exampleText(e), String(this.pairSeq++)]),
        );
        return;
      }
      // A second refusal of the pair: it becomes a repeat offender, its first attempt unpacked.
      const [direction, sender, recipient, lib, subtype, firstKey, firstMsg, time, file, line, text, seq] = unpackSingle(packed);
      if (firstKey === attemptKey) return;
      this.singles.delete(key);
      const t = ms(time ?? null);
      p = {
        seq: Number(seq),
        direction: direction as RejectionEvent['direction'],
        sender: sender ?? null,
        recipient: recipient!,
        library: lib ?? null,
        subtype: subtype as SubtypeId,
        attempts: 1,
        keys: firstKey!,
        messages: firstMsg!,
        messagesCapped: false,
        times: t === null ? [] : [t],
        firstSeen: time ?? null,
        lastSeen: time ?? null,
        examples: [{ file: files.get(file!), line: Number(line), time: time ?? null, text: text! }],
      };
      this.pairs.set(detach(key), p);
    }
    if (smallHas(p.keys, attemptKey)) return;
    p.keys = smallAdd(p.keys, attemptKey, MAX_KEYS);
    p.attempts++;
    if (!smallHas(p.messages, msg)) {
      if (smallSize(p.messages) < MAX_KEYS) p.messages = smallAdd(p.messages, msg, MAX_KEYS);
      else p.messagesCapped = true;
    }
    const t = ms(e.time);
    if (t !== null && p.times.length < MAX_TIMES) p.times.push(t);
    p.firstSeen = earlier(p.firstSeen, e.time);
    p.lastSeen = later(p.lastSeen, e.time);
    if (p.examples.length < MAX_EXAMPLES) p.examples.push(example(e));
  }

  /** Drops the pairs seen once, oldest first, down to MAX_PAIRS (repeat offenders stay). */
  private evictPairs(): void {
    let over = this.pairs.size + this.singles.size - MAX_PAIRS;
    for (const k of this.singles.keys()) {
      if (over <= 0) break;
      this.singles.delete(k);
      over--;
    }
    if (over > 0) {
      const byCount = [...this.pairs.entries()].sort((a, b) => a[1].attempts - b[1].attempts || a[1].seq - b[1].seq);
      for (const [k] of byCount.slice(0, over)) this.pairs.delete(k);
    }
  }

  /** The most refusals of one pair within LOOP_WINDOW_MS. */
  private static burst(times: number[]): number {
    const t = [...times].sort((a, b) => a - b);
    let best = 0;
    let i = 0;
    for (let j = 0; j < t.length; j++) {
      while (t[j]! - t[i]! > LOOP_WINDOW_MS) i++;
      best = Math.max(best, j - i + 1);
    }
    return best;
  }

  private retryFindings(): Finding[] {
    const out: Finding[] = [];
    for (const p of this.pairs.values()) {
      if (p.attempts < 2) continue;
      const burst = FindingsBuilder.burst(p.times);
      const loop = burst >= LOOP_ATTEMPTS;
      const severity: Severity = p.attempts >= 5 || loop ? 'high' : p.attempts >= 3 ? 'medium' : 'low';
      const who = p.direction === 'submission' ? `an application${p.library === null ? '' : ` (${p.library})`}` : 'the sender';
      const pair = `${p.sender === null ? '' : `${p.sender} -> `}${p.recipient}`;
      const title = loop
        ? `${who[0]!.toUpperCase()}${who.slice(1)} retries a permanent refusal in a loop: ${pair} refused ${p.attempts} times (${burst} within ${LOOP_WINDOW_MS / 60_000} min); a reputation risk`
        : `${pair} refused permanently ${p.attempts} times: retried after a 5xx`;
      const fix = SUBTYPE_INFO[p.subtype].nextMove;
      const nextMove = loop
        ? `Stop the loop: treat a 5xx as final (no retry), suppress ${p.recipient} until fixed; retrying a 550 in a loop is a reputation risk. Then: ${fix}`
        : `Treat a 5xx as final: suppress ${p.recipient} instead of resending. Then: ${fix}`;
      out.push({
        id: findingId('retry_after_permanent', `${p.direction}|${p.library ?? ''}|${(p.sender ?? '').toLowerCase()}|${p.recipient.toLowerCase()}`),
        kind: 'retry_after_permanent',
        severity,
        title,
        subject: { direction: p.direction, sender: p.sender, recipient: p.recipient, recipientDomain: domainOf(p.recipient), library: p.library, subtype: p.subtype },
        counts: {
          attempts: p.attempts,
          wastedAttempts: p.attempts - 1,
          messages: smallSize(p.messages),
          maxIn10Minutes: burst,
          firstSeen: p.firstSeen,
          lastSeen: p.lastSeen,
        },
        examples: p.examples,
        nextMove,
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ poisoned_multi_recipient

  private poisoned(e: RejectionEvent): void {
    if (e.recipient === null) return;
    const m = e.message;
    const app = e.app;
    const sentOthers = m === null ? [] : m.otherRecipients.filter((r) => r.status === 'sent').map((r) => r.address);
    const sentCount = m === null ? 0 : (m.otherRecipientsByStatus['sent'] ?? 0);
    const appAccepted = app?.accepted ?? [];
    const unsent = app === undefined ? [] : validUnsent(e.raw);
    // A recipient refused at first and delivered later (a deferral then success) poisons nothing.
    if (m?.recipientFinalStatus === 'sent') return;
    if (sentCount === 0 && sentOthers.length === 0 && appAccepted.length === 0 && unsent.length === 0) {
      // Not (yet) a mixed message: an earlier event of the same message may have made it one.
      const known = this.messages.get(this.poisonKey(e));
      if (known === undefined) return;
    }
    const key = this.poisonKey(e);
    let s = this.messages.get(key);
    if (s === undefined) {
      if (this.messages.size >= MAX_MESSAGES + MAX_MESSAGES / 10) this.evictMessages();
      s = {
        key: detach(key),
        messageId: e.messageId === null ? null : detach(e.messageId),
        queueId: e.queueId === null ? null : detach(e.queueId),
        sender: e.sender === null ? null : detach(e.sender),
        refused: new Map(),
        accepted: new Set(),
        acceptedCount: 0,
        unsent: new Set(),
        wholeSend: false,
        library: app === undefined ? null : detach(app.library),
        firstSeen: e.time,
        examples: [],
      };
      this.messages.set(s.key, s);
    }
    const rcpt = e.recipient.toLowerCase();
    if (!s.refused.has(rcpt) && s.refused.size < 50) {
      // The example's text is the refusal's reply as kept here: one copy for both.
      const ex = example(e);
      s.refused.set(detach(rcpt), { reply: ex.text, subtype: e.classification?.subtype ?? 'other_or_unclassified' });
      if (s.examples.length < MAX_EXAMPLES) s.examples.push(ex);
    }
    for (const a of [...sentOthers, ...appAccepted]) if (s.accepted.size < 50) s.accepted.add(keyHash(a.toLowerCase()));
    s.acceptedCount = Math.max(s.acceptedCount, sentCount, appAccepted.length, s.accepted.size);
    for (const a of unsent) if (s.unsent.size < 50) s.unsent.add(keyHash(a.toLowerCase()));
    if (unsent.length > 0) s.wholeSend = true;
    s.firstSeen = earlier(s.firstSeen, e.time);
  }

  private poisonKey(e: RejectionEvent): string {
    const mk = messageKey(e);
    if (mk !== null) return mk;
    if (e.messageId !== null) return `m:${e.messageId}`;
    // An application's error names no message: the send is its time, sender, recipient and reply
    // (not file:line, which changes with the path given and with rotation).
    return `a:${e.time ?? ''}|${e.sender ?? ''}|${e.recipient ?? ''}|${e.reply}`;
  }

  private evictMessages(): void {
    const affected = (s: MessageState) => s.acceptedCount + s.unsent.size;
    const small = [...this.messages.entries()].sort((a, b) => affected(a[1]) - affected(b[1]));
    for (const [k] of small.slice(0, this.messages.size - MAX_MESSAGES)) this.messages.delete(k);
  }

  private poisonedFindings(): Finding[] {
    const out: Finding[] = [];
    for (const s of this.messages.values()) {
      for (const r of s.refused.keys()) {
        s.accepted.delete(keyHash(r));
        s.unsent.delete(keyHash(r));
      }
      const affected = s.wholeSend ? s.unsent.size + s.accepted.size : s.acceptedCount;
      if (s.refused.size === 0 || affected === 0) continue;
      const bad = [...s.refused.keys()].sort();
      const base: Severity = affected >= 10 ? 'high' : affected >= 3 ? 'medium' : 'low';
      const severity: Severity = s.wholeSend && base !== 'high' ? (base === 'low' ? 'medium' : 'high') : base;
      // A title stays a line: a hostile Message-ID is cut (the subject keeps it whole).
      const what = s.messageId !== null ? `<${s.messageId.length > 80 ? `${s.messageId.slice(0, 79)}…` : s.messageId}>` : s.queueId !== null ? `queue ID ${s.queueId}` : 'one send';
      const badText = bad.length <= 3 ? bad.join(', ') : `${bad.slice(0, 3).join(', ')} and ${bad.length - 3} more`;
      const title = s.wholeSend
        ? `${what}: the whole send failed because ${badText} ${bad.length === 1 ? 'was' : 'were'} refused; ${affected} valid recipient${affected === 1 ? '' : 's'} never got it`
        : `${what}: ${badText} refused while ${affected} other recipient${affected === 1 ? ' was' : 's were'} accepted`;
      const subtypes = [...new Set([...s.refused.values()].map((r) => r.subtype))];
      const fix = SUBTYPE_INFO[subtypes[0] ?? 'other_or_unclassified'].nextMove;
      const nextMove = s.wholeSend
        ? `Resend to the ${affected} valid recipient${affected === 1 ? '' : 's'}; send per recipient (or allow partial sends, e.g. mail.smtp.sendpartial) so one bad address cannot sink the rest. For the refused: ${fix}`
        : `Fix or remove the refused address${bad.length === 1 ? '' : 'es'} (the others got the message; the sender got a bounce). ${fix}`;
      out.push({
        id: findingId('poisoned_multi_recipient', s.key),
        kind: 'poisoned_multi_recipient',
        severity,
        title,
        subject: { messageId: s.messageId, queueId: s.queueId, sender: s.sender, refusedRecipients: bad.join(', '), subtype: subtypes.join(', '), library: s.library },
        counts: {
          affectedRecipients: affected,
          refusedRecipients: s.refused.size,
          acceptedRecipients: s.wholeSend ? 0 : s.acceptedCount,
          unsentRecipients: s.wholeSend ? affected : 0,
          firstSeen: s.firstSeen,
        },
        examples: s.examples,
        nextMove,
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ one_domain_only

  private domain(e: RejectionEvent): void {
    if (e.direction !== 'outbound' || e.recipientDomain === null) return;
    const subtype = e.classification?.subtype ?? 'other_or_unclassified';
    let byDomain = this.subtypes.get(subtype);
    if (byDomain === undefined) {
      byDomain = new Map();
      this.subtypes.set(subtype, byDomain);
    }
    let d = byDomain.get(e.recipientDomain);
    if (d === undefined) {
      if (byDomain.size >= MAX_SUBTYPE_DOMAINS) {
        // Fold the smallest into `(other)`: the shares stay right, only small names are lost.
        let smallest: [string, DomainState] | null = null;
        for (const x of byDomain) if (x[0] !== '(other)' && (smallest === null || x[1].count < smallest[1].count)) smallest = x;
        if (smallest !== null) {
          byDomain.delete(smallest[0]);
          const o = byDomain.get('(other)') ?? { count: 0, providers: new Map(), senderDomains: new Set(), firstMs: null, lastMs: null, examples: [] };
          o.count += smallest[1].count;
          byDomain.set('(other)', o);
        }
      }
      d = { count: 0, providers: new Map(), senderDomains: new Set(), firstMs: null, lastMs: null, examples: [] };
      byDomain.set(detach(e.recipientDomain), d);
    }
    d.count++;
    const provider = e.classification?.provider ?? 'other';
    if (d.providers.has(provider) || d.providers.size < 20) d.providers.set(provider, (d.providers.get(provider) ?? 0) + 1);
    const sd = domainOf(e.sender);
    if (sd !== null && d.senderDomains.size < 50) d.senderDomains.add(detach(sd));
    const t = ms(e.time);
    if (t !== null) {
      d.firstMs = d.firstMs === null ? t : Math.min(d.firstMs, t);
      d.lastMs = d.lastMs === null ? t : Math.max(d.lastMs, t);
    }
    if (d.examples.length < MAX_EXAMPLES) d.examples.push(example(e));
  }

  private oneDomainFindings(): Finding[] {
    const out: Finding[] = [];
    for (const [subtype, byDomain] of this.subtypes) {
      let total = 0;
      let top: [string, DomainState] | null = null;
      for (const x of byDomain) {
        total += x[1].count;
        if (x[0] !== '(other)' && (top === null || x[1].count > top[1].count)) top = x;
      }
      if (top === null || total < ONE_DOMAIN_MIN || top[1].count < ONE_DOMAIN_MIN || top[1].count / total < ONE_DOMAIN_SHARE) continue;
      const [domain, d] = top;
      // Others accept the same mail: deliveries from the same sender domains to other domains, in the same period.
      const lo = d.firstMs === null ? -Infinity : d.firstMs - PERIOD_SLACK_MS;
      const hi = d.lastMs === null ? Infinity : d.lastMs + PERIOD_SLACK_MS;
      const acceptedBy = new Map<string, number>();
      for (const sd of d.senderDomains) {
        for (const [rd, s] of this.sent.get(sd) ?? []) {
          if (rd === domain) continue;
          const inPeriod = s.firstMs === null || s.lastMs === null || (s.lastMs >= lo && s.firstMs <= hi);
          if (inPeriod) acceptedBy.set(rd, (acceptedBy.get(rd) ?? 0) + s.n);
        }
      }
      if (acceptedBy.size === 0) continue;
      const delivered = [...acceptedBy.values()].reduce((a, b) => a + b, 0);
      const provider = [...d.providers.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'other';
      const route = this.routeChange(domain);
      const share = Math.round((100 * d.count) / total);
      const otherDomains = [...acceptedBy.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const severity: Severity = d.count >= 50 ? 'high' : d.count >= 10 ? 'medium' : 'low';
      const senders = [...d.senderDomains].sort();
      out.push({
        id: findingId('one_domain_only', `${subtype}|${domain}`),
        kind: 'one_domain_only',
        severity,
        title:
          `Only ${domain}${provider === 'other' ? '' : ` (${provider})`} refuses with ${subtype}: ${d.count} of ${total} refusals (${share}%), ` +
          `while ${otherDomains.length} other domain${otherDomains.length === 1 ? '' : 's'} accepted ${delivered} deliveries from the same senders`,
        subject: { recipientDomain: domain, provider, subtype, senderDomains: senders.join(', ') },
        counts: {
          refusals: d.count,
          subtypeRefusals: total,
          share: d.count / total,
          acceptingDomains: otherDomains.length,
          acceptedDeliveries: delivered,
          firstSeen: d.firstMs === null ? null : new Date(d.firstMs).toISOString(),
          lastSeen: d.lastMs === null ? null : new Date(d.lastMs).toISOString(),
          routeChange: route,
        },
        examples: d.examples,
        nextMove:
          `${SUBTYPE_INFO[subtype].nextMove} Why only ${domain}: compare its checks with the domains that accept ` +
          `(${otherDomains.slice(0, 3).map(([x]) => x).join(', ')}): a stricter policy at ${provider === 'other' ? 'its provider' : provider}` +
          `${route === null ? '' : `, or the route change (${route})`}; ask its postmaster with an example line.`,
      });
    }
    return out;
  }

  /** The route change an onset's attribution named for this domain, as `relay a -> b at <time>`, or null. */
  private routeChange(domain: string): string | null {
    for (const r of this.onsets) {
      if (r.series.recipientDomain !== domain) continue;
      const top = r.attribution?.top;
      if (top != null) return `${top.attribute} ${top.from ?? '(new)'} -> ${top.to} at ${new Date(top.changedAt).toISOString()}`;
      const c = r.precedingChange ?? r.change;
      if (c != null) return `${c.attribute} ${c.from ?? '(new)'} -> ${c.to} at ${c.changedAt}`;
    }
    return null;
  }

  // ------------------------------------------------------------------ result

  /** The findings, most severe first, then by count; at most MAX_FINDINGS_PER_KIND of each kind built here. */
  build(options: FindingsBuildOptions = {}): Finding[] {
    const cap = (fs: Finding[]) => sortFindings(fs).slice(0, MAX_FINDINGS_PER_KIND);
    return sortFindings([...cap(this.retryFindings()), ...cap(this.poisonedFindings()), ...cap(this.oneDomainFindings()), ...(options.extra ?? [])]);
  }
}

/**
 * JavaMail's SendFailedException lists the good addresses a failed send never reached under
 * `Valid Unsent Addresses` (one per line, indented, until the next list or line of another shape).
 */
export function validUnsent(raw: string): string[] {
  const at = raw.indexOf('Valid Unsent Addresses');
  if (at < 0) return [];
  const out: string[] = [];
  const lines = raw.slice(at).split('\n').slice(1);
  for (const l of lines) {
    const t = l.trim().replace(/^DEBUG SMTP:\s*/, '');
    if (t === '' || t.includes(' ') || !t.includes('@')) break;
    out.push(t.replace(/^<|>$/g, ''));
  }
  // Also the same list on the header line itself (`Valid Unsent Addresses: a@x, b@y`).
  const head = raw.slice(at, raw.indexOf('\n', at) < 0 ? undefined : raw.indexOf('\n', at));
  for (const w of head.split(/[\s,;:=]+/)) if (w.includes('@')) out.push(w.replace(/^<|>$/g, ''));
  return out;
}
