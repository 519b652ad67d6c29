/**
 * The batch report: totals, rejections grouped by recipient domain x direction x subtype (with the
 * delivery-unit rate behind each group) and by provider x subtype, delivery outcomes per recipient
 * domain, onsets, and the per-input accounting. A pure reducer: no I/O.
 *
 * Bounded for huge inputs: at most MAX_GROUPS domain groups and MAX_DOMAINS domains of outcomes and
 * units are kept; past that the smallest are folded into `(other)` rows, so totals never lose a
 * count, only the names of the smallest domains.
 */
import { detach } from '../model/detach.js';
import { SUBTYPE_INFO, type SubtypeId } from '../classify/subtypes.js';
import type { DeliveryOutcome, Direction, RejectionEvent } from '../model/event.js';
import type { DeliveryUnit, OnsetRecord } from '../onset/engine.js';
import type { CorrelatorStats } from '../correlate/postfix.js';
import type { InputSummary } from '../pipeline.js';

/** Domain x direction x subtype groups kept by name (2,000); smaller ones fold into `(other)`. */
export const MAX_GROUPS = 2000;
/** Recipient domains kept by name for outcomes and units (20,000, as many as the onset detector tracks). */
export const MAX_DOMAINS = 20_000;
/**
 * Distinct recipients and senders counted exactly per group (256) before the count becomes a lower
 * bound: 2,000 groups x 2 sets x 256 addresses stay under about 60 MB however large the input.
 */
const MAX_DISTINCT = 256;
/** Distinct relays or sender domains counted per group; the rest are summed as `(others)`. */
const MAX_NAMED = 50;
/** The name of the folded row. */
export const OTHER = '(other)';

export interface ReportGroup {
  recipientDomain: string | null;
  direction: Direction;
  /** The TAXONOMY.md subtype id (`recipient_unknown`), `other_or_unclassified` when none applies. */
  subtype: SubtypeId;
  /** The provider that answered most often in this group. */
  provider: string;
  /** Enhanced statuses (or reply codes when the reply had none) with their counts, commonest first. */
  statuses: { status: string; count: number }[];
  count: number;
  recipients: number;
  recipientsCapped: boolean;
  senders: number;
  /** Delivery units (messages x domain) to this domain, those that failed with this subtype, and their ratio. */
  units: number | null;
  failedUnits: number | null;
  rate: number | null;
  topRelays: { value: string; count: number }[];
  topSenderDomains: { value: string; count: number }[];
  firstSeen: string | null;
  lastSeen: string | null;
  exampleReply: string;
  exampleRecipient: string | null;
  /** Up to three distinct replies. */
  exampleReplies: string[];
}

/** Provider x subtype, over all recipient domains the provider answered for. */
export interface ProviderGroup {
  provider: string;
  subtype: SubtypeId;
  count: number;
  units: number | null;
  failedUnits: number | null;
  rate: number | null;
}

/** One subtype over all domains: the seed of a troubleshooting matrix (what you see, cause, next move). */
export interface SubtypeSummary {
  subtype: SubtypeId;
  side: string;
  count: number;
  recipientDomains: number;
  confidence: Record<string, number>;
  nextMove: string;
}

export interface Report {
  codes: readonly string[];
  /** Onset and recovery records, in the order they were detected. */
  onsets: OnsetRecord[];
  totals: {
    events: number;
    /** `submission` appears only when app logs gave such events. */
    byDirection: Record<'inbound' | 'outbound', number> & Partial<Record<Direction, number>>;
    byOutcome: Record<string, number>;
    byCode: Record<string, number>;
    firstSeen: string | null;
    lastSeen: string | null;
  };
  groups: ReportGroup[];
  providerGroups: ProviderGroup[];
  subtypes: SubtypeSummary[];
  /** Delivery units seen, and those that failed with a 5xx (any subtype). */
  units: { total: number; failed: number };
  outcomes: DeliveryOutcome[];
  inputs: InputSummary[];
  correlation: CorrelatorStats;
  warnings: string[];
}

interface GroupState {
  recipientDomain: string | null;
  direction: Direction;
  subtype: SubtypeId;
  count: number;
  recipients: Set<string>;
  recipientsExtra: number;
  recipientsCapped: boolean;
  senders: Set<string>;
  sendersCapped: boolean;
  firstSeen: string | null;
  lastSeen: string | null;
  exampleReply: string;
  exampleRecipient: string | null;
  exampleReplies: string[];
  statusCounts: Map<string, number>;
  providerCounts: Map<string, number>;
  relays: Map<string, number>;
  senderDomains: Map<string, number>;
}

interface SubtypeState {
  count: number;
  domains: Set<string>;
  confidence: Record<string, number>;
}

/** Keys of a count map, commonest first (ties by name so output is stable). */
function ranked(counts: Map<string, number>): { key: string; count: number }[] {
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key, count]) => ({ key, count }));
}

function bumpMap(m: Map<string, number>, key: string, by = 1, cap = Infinity): void {
  const n = m.get(key);
  if (n !== undefined) m.set(key, n + by);
  else if (m.size >= cap) m.set('(others)', (m.get('(others)') ?? 0) + by);
  // A new key stays for the whole run: a copy, not a view that keeps its log line alive.
  else m.set(detach(key), by);
}

function mergeMap(into: Map<string, number>, from: Map<string, number>, cap = Infinity): void {
  for (const [k, v] of from) bumpMap(into, k, v, cap);
}

function top(m: Map<string, number>, n = 3): { value: string; count: number }[] {
  return ranked(m)
    .slice(0, n)
    .map(({ key, count }) => ({ value: key, count }));
}

const OUTCOME_FIELDS = ['sent', 'deferred', 'bounced', 'rejected', 'expired'] as const;
type OutcomeField = (typeof OUTCOME_FIELDS)[number];

function earlier(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b > a ? b : a;
}

export class ReportBuilder {
  private readonly groups = new Map<string, GroupState>();
  private readonly providerGroups = new Map<string, { provider: string; subtype: SubtypeId; count: number }>();
  private readonly subtypes = new Map<SubtypeId, SubtypeState>();
  private readonly onsets: OnsetRecord[] = [];
  private readonly outcomes = new Map<string, DeliveryOutcome>();
  /** Units per recipient domain and per provider, and failed units per domain|subtype and provider|subtype. */
  private readonly domainUnits = new Map<string, number>();
  private readonly providerUnits = new Map<string, number>();
  /** Failed units by recipient domain, then subtype; and by provider|subtype. */
  private readonly failedByDomain = new Map<string, Map<string, number>>();
  private readonly failedUnits = new Map<string, number>();
  private readonly unitTotals = { total: 0, failed: 0 };
  private readonly totals: Report['totals'] = {
    events: 0,
    byDirection: { inbound: 0, outbound: 0 },
    byOutcome: {},
    byCode: {},
    firstSeen: null,
    lastSeen: null,
  };

  constructor(private readonly codes: readonly string[]) {}

  event(e: RejectionEvent): void {
    const t = this.totals;
    t.events++;
    t.byDirection[e.direction] = (t.byDirection[e.direction] ?? 0) + 1;
    t.byOutcome[e.outcome] = (t.byOutcome[e.outcome] ?? 0) + 1;
    const code = e.code === null ? 'none' : String(e.code);
    t.byCode[code] = (t.byCode[code] ?? 0) + 1;
    t.firstSeen = earlier(t.firstSeen, e.time);
    t.lastSeen = later(t.lastSeen, e.time);

    const status = e.enhancedStatus ?? (e.code === null ? '?' : String(e.code));
    const subtype: SubtypeId = e.classification?.subtype ?? 'other_or_unclassified';
    const provider = e.classification?.provider ?? 'other';
    const key = `${e.recipientDomain ?? ''}\u0000${e.direction}\u0000${subtype}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = this.newGroup(e.recipientDomain, e.direction, subtype, e.time, e.reply, e.recipient);
      this.groups.set(key, g);
      if (this.groups.size > MAX_GROUPS + 1000) this.foldGroups();
    }
    g.count++;
    g.firstSeen = earlier(g.firstSeen, e.time);
    g.lastSeen = later(g.lastSeen, e.time);
    bumpMap(g.statusCounts, status, 1, MAX_NAMED);
    bumpMap(g.providerCounts, provider, 1, MAX_NAMED);
    if (e.remote?.name != null || e.relay !== null) bumpMap(g.relays, e.remote?.name ?? e.relay ?? '', 1, MAX_NAMED);
    if (e.sender !== null) bumpMap(g.senderDomains, e.sender === '' ? '<>' : (e.sender.split('@').pop() ?? '').toLowerCase(), 1, MAX_NAMED);
    if (e.recipient !== null && !g.recipients.has(e.recipient)) {
      if (g.recipients.size < MAX_DISTINCT) g.recipients.add(detach(e.recipient));
      else g.recipientsCapped = true;
    }
    if (e.sender !== null && !g.senders.has(e.sender)) {
      if (g.senders.size < MAX_DISTINCT) g.senders.add(detach(e.sender));
      else g.sendersCapped = true;
    }
    if (g.exampleReplies.length < 3) {
      const reply = e.reply.length > 300 ? `${e.reply.slice(0, 299)}…` : e.reply;
      if (!g.exampleReplies.includes(reply)) g.exampleReplies.push(detach(reply));
    }

    if (e.direction !== 'inbound') {
      const pk = `${provider}\u0000${subtype}`;
      let pg = this.providerGroups.get(pk);
      if (pg === undefined) {
        pg = { provider, subtype, count: 0 };
        this.providerGroups.set(pk, pg);
      }
      pg.count++;
    }

    let st = this.subtypes.get(subtype);
    if (st === undefined) {
      st = { count: 0, domains: new Set(), confidence: {} };
      this.subtypes.set(subtype, st);
    }
    st.count++;
    const domain = e.recipientDomain ?? '';
    if (st.domains.size < MAX_DOMAINS && !st.domains.has(domain)) st.domains.add(detach(domain));
    const c = e.classification?.confidence ?? 'low';
    st.confidence[c] = (st.confidence[c] ?? 0) + 1;
  }

  /** One decided delivery unit: the denominator of the group rates. */
  unit(u: DeliveryUnit): void {
    this.unitTotals.total++;
    bumpMap(this.domainUnits, u.domain, 1);
    bumpMap(this.providerUnits, u.provider, 1);
    if (u.subtype !== null) {
      this.unitTotals.failed++;
      let bySubtype = this.failedByDomain.get(u.domain);
      if (bySubtype === undefined) {
        bySubtype = new Map();
        this.failedByDomain.set(detach(u.domain), bySubtype);
      }
      bumpMap(bySubtype, u.subtype, 1);
      bumpMap(this.failedUnits, `p\u0000${u.provider}\u0000${u.subtype}`, 1);
    }
    if (this.domainUnits.size > MAX_DOMAINS + 2000) this.foldDomains();
  }

  onset(record: OnsetRecord): void {
    this.onsets.push(record);
  }

  outcome(domain: string | null, status: string): void {
    if (!(OUTCOME_FIELDS as readonly string[]).includes(status)) return;
    let key = domain ?? '';
    let o = this.outcomes.get(key);
    if (o === undefined) {
      key = detach(key);
      o = { domain: key, sent: 0, deferred: 0, bounced: 0, rejected: 0, expired: 0 };
      this.outcomes.set(key, o);
      if (this.outcomes.size > MAX_DOMAINS + 2000) this.foldOutcomes();
    }
    o[status as OutcomeField]++;
  }

  private newGroup(domain: string | null, direction: Direction, subtype: SubtypeId, time: string | null, reply: string, recipient: string | null): GroupState {
    return {
      recipientDomain: domain === null ? null : detach(domain),
      direction,
      subtype,
      count: 0,
      recipients: new Set(),
      recipientsExtra: 0,
      recipientsCapped: false,
      senders: new Set(),
      sendersCapped: false,
      firstSeen: time,
      lastSeen: time,
      exampleReply: detach(reply),
      exampleRecipient: recipient === null ? null : detach(recipient),
      exampleReplies: [],
      statusCounts: new Map(),
      providerCounts: new Map(),
      relays: new Map(),
      senderDomains: new Map(),
    };
  }

  /** Folds the smallest groups into one `(other)` group per direction x subtype. */
  private foldGroups(): void {
    const byCount = [...this.groups.entries()].filter(([, g]) => g.recipientDomain !== OTHER).sort((a, b) => a[1].count - b[1].count);
    for (const [key, g] of byCount.slice(0, this.groups.size - MAX_GROUPS)) {
      this.groups.delete(key);
      const otherKey = `${OTHER}\u0000${g.direction}\u0000${g.subtype}`;
      let o = this.groups.get(otherKey);
      if (o === undefined) {
        o = this.newGroup(OTHER, g.direction, g.subtype, g.firstSeen, g.exampleReply, g.exampleRecipient);
        this.groups.set(otherKey, o);
      }
      o.count += g.count;
      o.firstSeen = earlier(o.firstSeen, g.firstSeen);
      o.lastSeen = later(o.lastSeen, g.lastSeen);
      o.recipientsExtra += g.recipients.size + g.recipientsExtra;
      o.recipientsCapped ||= g.recipientsCapped;
      mergeMap(o.statusCounts, g.statusCounts, MAX_NAMED);
      mergeMap(o.providerCounts, g.providerCounts, MAX_NAMED);
      mergeMap(o.relays, g.relays, MAX_NAMED);
      mergeMap(o.senderDomains, g.senderDomains, MAX_NAMED);
    }
  }

  private foldDomains(): void {
    const small = [...this.domainUnits.entries()].filter(([d]) => d !== OTHER).sort((a, b) => a[1] - b[1]);
    for (const [d, n] of small.slice(0, this.domainUnits.size - MAX_DOMAINS)) {
      this.domainUnits.delete(d);
      bumpMap(this.domainUnits, OTHER, n);
      const failed = this.failedByDomain.get(d);
      if (failed !== undefined) {
        this.failedByDomain.delete(d);
        let other = this.failedByDomain.get(OTHER);
        if (other === undefined) {
          other = new Map();
          this.failedByDomain.set(OTHER, other);
        }
        mergeMap(other, failed);
      }
    }
  }

  private foldOutcomes(): void {
    const total = (o: DeliveryOutcome) => o.sent + o.deferred + o.bounced + o.rejected + o.expired;
    const small = [...this.outcomes.values()].filter((o) => o.domain !== OTHER).sort((a, b) => total(a) - total(b));
    let other = this.outcomes.get(OTHER);
    if (other === undefined) {
      other = { domain: OTHER, sent: 0, deferred: 0, bounced: 0, rejected: 0, expired: 0 };
      this.outcomes.set(OTHER, other);
    }
    for (const o of small.slice(0, this.outcomes.size - MAX_DOMAINS)) {
      this.outcomes.delete(o.domain);
      for (const f of OUTCOME_FIELDS) other[f] += o[f];
    }
  }

  build(inputs: InputSummary[], correlation: CorrelatorStats): Report {
    const haveUnits = this.unitTotals.total > 0;
    const groups: ReportGroup[] = [...this.groups.values()]
      .map((g) => {
        const outbound = g.direction === 'outbound' && haveUnits && g.recipientDomain !== null;
        const units = outbound ? (this.domainUnits.get(g.recipientDomain!) ?? null) : null;
        const failedUnits = outbound ? (this.failedByDomain.get(g.recipientDomain!)?.get(g.subtype) ?? 0) : null;
        return {
          recipientDomain: g.recipientDomain,
          direction: g.direction,
          subtype: g.subtype,
          provider: ranked(g.providerCounts)[0]?.key ?? 'other',
          statuses: ranked(g.statusCounts).map(({ key, count }) => ({ status: key, count })),
          count: g.count,
          recipients: g.recipients.size + g.recipientsExtra,
          recipientsCapped: g.recipientsCapped || g.recipientsExtra > 0,
          senders: g.senders.size,
          units,
          failedUnits,
          rate: units !== null && units > 0 && failedUnits !== null ? failedUnits / units : null,
          topRelays: top(g.relays),
          topSenderDomains: top(g.senderDomains),
          firstSeen: g.firstSeen,
          lastSeen: g.lastSeen,
          exampleReply: g.exampleReply,
          exampleRecipient: g.exampleRecipient,
          exampleReplies: g.exampleReplies,
        };
      })
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.recipientDomain ?? '').localeCompare(b.recipientDomain ?? '') ||
          a.subtype.localeCompare(b.subtype) ||
          a.direction.localeCompare(b.direction),
      );
    const providerGroups: ProviderGroup[] = [...this.providerGroups.values()]
      .map((p) => {
        const units = haveUnits ? (this.providerUnits.get(p.provider) ?? null) : null;
        const failedUnits = units !== null ? (this.failedUnits.get(`p\u0000${p.provider}\u0000${p.subtype}`) ?? 0) : null;
        return { ...p, units, failedUnits, rate: units !== null && units > 0 && failedUnits !== null ? failedUnits / units : null };
      })
      .sort((a, b) => b.count - a.count || a.provider.localeCompare(b.provider) || a.subtype.localeCompare(b.subtype));
    const subtypes: SubtypeSummary[] = [...this.subtypes.entries()]
      .map(([subtype, st]) => ({
        subtype,
        side: SUBTYPE_INFO[subtype].side,
        count: st.count,
        recipientDomains: st.domains.size,
        confidence: st.confidence,
        nextMove: SUBTYPE_INFO[subtype].nextMove,
      }))
      .sort((a, b) => b.count - a.count || a.subtype.localeCompare(b.subtype));
    const total = (o: DeliveryOutcome) => o.sent + o.deferred + o.bounced + o.rejected + o.expired;
    const outcomes = [...this.outcomes.values()].sort((a, b) => total(b) - total(a) || a.domain.localeCompare(b.domain));
    const warnings = inputs.flatMap((i) => i.warnings.map((w) => `${i.path}: ${w}`));
    return {
      codes: this.codes,
      onsets: this.onsets,
      totals: this.totals,
      groups,
      providerGroups,
      subtypes,
      units: { ...this.unitTotals },
      outcomes,
      inputs,
      correlation,
      warnings,
    };
  }
}
