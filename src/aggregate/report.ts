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
import { earlier, later } from '../model/time.js';
import type { DeliveryUnit, OnsetRecord } from '../onset/engine.js';
import type { CorrelatorStats } from '../correlate/postfix.js';
import type { InputSummary } from '../pipeline.js';
import type { Finding } from '../findings/types.js';

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
  /** Affected recipients (the first ones seen, sorted), only with the `timeline` option (for the HTML drill-down). */
  exampleRecipients?: string[];
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
  /** Answers to the operator's next questions (#14): retries after a 5xx, poisoned sends, one domain only...; most severe first. */
  findings: Finding[];
  /** Refusals and delivery units over time, for charts: only when the builder was asked (`--output html`). */
  timeline?: ReportTimeline;
}

/** One line of the timeline chart: all refusals, or one group's recipient domain x direction x subtype. */
export interface TimelineSeries {
  /** `all`, or `direction|domain|subtype` (`outbound|example.org|recipient_unknown`). */
  key: string;
  label: string;
  recipientDomain: string | null;
  direction: Direction | null;
  subtype: SubtypeId | null;
  /** Refusals in the whole run (the group's count; for `all`, every event). */
  total: number;
  /** When counting began for this series (it joined the tracked series late: see TIMELINE_TRACKED); null: from the start. */
  since: string | null;
  /** Refusals per bucket; null for buckets before `since`. */
  refusals: (number | null)[];
  /** Delivery units to the series' domain per bucket, and those that failed with its subtype: null when units are not known (inbound, or no attempts in the log). */
  units: (number | null)[] | null;
  failedUnits: (number | null)[] | null;
}

/** A vertical line on the chart: an onset record, or an attribute change an onset's attribution named. */
export type TimelineMarker =
  | { kind: 'onset'; time: string; id: string; level: OnsetRecord['series']['level']; seriesKey: string; subtype: SubtypeId; recipientDomain: string | null; provider: string | null; basis: OnsetRecord['basis'] }
  | { kind: 'change'; time: string; attribute: string; from: string | null; to: string; onsets: string[] };

/**
 * Refusals (and delivery units) per time bucket for "all" and the biggest groups, with onset and
 * change markers. Buckets are whole minutes (`bucketMinutes` of them each), at most TIMELINE_POINTS.
 */
export interface ReportTimeline {
  start: string | null;
  bucketMinutes: number;
  buckets: number;
  series: TimelineSeries[];
  markers: TimelineMarker[];
}

/** ReportBuilder options. */
export interface ReportOptions {
  /** Compute `timeline` (default false: the JSON and text reports do not carry it). */
  timeline?: boolean;
  /** With `timeline`: up to this many affected recipients per group in `exampleRecipients` (default 20). */
  exampleRecipients?: number;
}

/** Series drawn besides "all": the 8 biggest groups (more lines than 8 stop being readable). */
export const TIMELINE_SERIES = 8;
/** Buckets of the finished timeline (200: about one per 4 px of a 800 px chart). */
export const TIMELINE_POINTS = 200;
/**
 * Buckets kept per series while reading (1,440: a day of minutes). A run spanning longer doubles the
 * bucket width (2, 4, 8... minutes) and merges neighbours, so a year of log costs what a day does.
 */
export const TIMELINE_MAX_BUCKETS = 1440;
/**
 * Groups whose timelines are kept while reading (64), Space-Saving style: a new group past 64
 * replaces the smallest, which is how the biggest groups at the end are sure to be among them (any
 * group above 1/64 of the refusals is); a group that joined late says so (`since`). Recipient
 * domains whose units are counted per bucket: up to 128 (the domains of tracked groups, then the
 * busiest others). At most (64 x 2 + 128 + 3) x 1,440 buckets: under 20 MB whatever the input.
 */
export const TIMELINE_TRACKED = 64;
const TIMELINE_DOMAINS = 128;

type Buckets = Map<number, number>;

interface TrackedSeries {
  domain: string | null;
  direction: Direction;
  subtype: SubtypeId;
  n: number;
  /** The bucket (at the current width) where counting began; -Infinity from the start. */
  since: number;
  sinceMs: number | null;
  refusals: Buckets;
  failed: Buckets;
}

interface TrackedDomain {
  n: number;
  since: number;
  units: Buckets;
}

/** The timeline's state while reading: bounded as the constants above say. */
class TimelineBuilder {
  /** Minutes per bucket: doubles when the run spans more than TIMELINE_MAX_BUCKETS buckets. */
  private width = 1;
  private lo = Infinity;
  private hi = -Infinity;
  private readonly all = { refusals: new Map() as Buckets, units: new Map() as Buckets, failed: new Map() as Buckets };
  private readonly series = new Map<string, TrackedSeries>();
  private readonly domains = new Map<string, TrackedDomain>();
  private anyUnits = false;
  /** Whether units of a domain not tracked were seen: a domain tracked from then on starts late. */
  private unitsMissed = false;

  private bucket(ms: number): number {
    const b = Math.floor(ms / 60_000 / this.width);
    if (b < this.lo) this.lo = b;
    if (b > this.hi) this.hi = b;
    while (this.hi - this.lo + 1 > TIMELINE_MAX_BUCKETS) this.coarsen();
    return Math.floor(ms / 60_000 / this.width);
  }

  /** Doubles the bucket width: every map's neighbours merge, so none holds more than TIMELINE_MAX_BUCKETS. */
  private coarsen(): void {
    this.width *= 2;
    this.lo = Math.floor(this.lo / 2);
    this.hi = Math.floor(this.hi / 2);
    const halve = (m: Buckets): void => {
      const entries = [...m.entries()];
      m.clear();
      for (const [b, n] of entries) bump(m, Math.floor(b / 2), n);
    };
    for (const m of Object.values(this.all)) halve(m);
    for (const s of this.series.values()) {
      halve(s.refusals);
      halve(s.failed);
      s.since = Math.floor(s.since / 2);
    }
    for (const d of this.domains.values()) {
      halve(d.units);
      d.since = Math.floor(d.since / 2);
    }
  }

  event(ms: number, domain: string | null, direction: Direction, subtype: SubtypeId): void {
    const b = this.bucket(ms);
    bump(this.all.refusals, b);
    const key = seriesKey(direction, domain, subtype);
    let s = this.series.get(key);
    if (s === undefined) {
      let n = 0;
      let since = -Infinity;
      let sinceMs: number | null = null;
      if (this.series.size >= TIMELINE_TRACKED) {
        let smallest: [string, TrackedSeries] | null = null;
        for (const e of this.series) if (smallest === null || e[1].n < smallest[1].n) smallest = e;
        this.series.delete(smallest![0]);
        // Space-Saving: the newcomer inherits the evicted count, an upper bound of what it missed.
        n = smallest![1].n;
        since = b;
        sinceMs = ms;
      }
      s = { domain: domain === null ? null : detach(domain), direction, subtype, n, since, sinceMs, refusals: new Map(), failed: new Map() };
      this.series.set(detach(key), s);
      if (domain !== null && direction === 'outbound') this.trackDomain(domain, b);
    }
    s.n++;
    bump(s.refusals, b);
  }

  private trackDomain(domain: string, b: number): TrackedDomain {
    let d = this.domains.get(domain);
    if (d !== undefined) return d;
    if (this.domains.size >= TIMELINE_DOMAINS) {
      // The smallest domain that no tracked group needs leaves; with 64 groups at most 64 are needed.
      const needed = new Set([...this.series.values()].map((s) => s.domain));
      let smallest: [string, TrackedDomain] | null = null;
      for (const e of this.domains) if (!needed.has(e[0]) && (smallest === null || e[1].n < smallest[1].n)) smallest = e;
      if (smallest !== null) {
        this.domains.delete(smallest[0]);
        this.unitsMissed = true;
      }
    }
    d = { n: 0, since: this.unitsMissed ? b : -Infinity, units: new Map() };
    this.domains.set(detach(domain), d);
    return d;
  }

  unit(u: DeliveryUnit): void {
    const b = this.bucket(u.t);
    this.anyUnits = true;
    bump(this.all.units, b);
    if (u.subtype !== null) bump(this.all.failed, b);
    let d = this.domains.get(u.domain);
    // A domain nobody tracks yet joins while there is room; past that its units are only in "all".
    if (d === undefined && this.domains.size < TIMELINE_DOMAINS) d = this.trackDomain(u.domain, b);
    if (d !== undefined) {
      d.n++;
      bump(d.units, b);
    } else this.unitsMissed = true;
    if (u.subtype !== null) {
      const s = this.series.get(seriesKey('outbound', u.domain, u.subtype));
      if (s !== undefined) bump(s.failed, b);
    }
  }

  build(groups: readonly ReportGroup[], events: number, onsets: readonly OnsetRecord[]): ReportTimeline {
    const markers = timelineMarkers(onsets);
    if (this.lo > this.hi) return { start: null, bucketMinutes: this.width, buckets: 0, series: [], markers };
    const span = this.hi - this.lo + 1;
    const k = Math.ceil(span / TIMELINE_POINTS);
    const n = Math.ceil(span / k);
    const lo = this.lo;
    const sum = (m: Buckets, since: number): (number | null)[] => {
      const out: (number | null)[] = new Array<number | null>(n).fill(0);
      // A bucket that ends before counting began is unknown, not zero.
      for (let j = 0; j < n; j++) if (lo + (j + 1) * k - 1 < since) out[j] = null;
      for (const [b, c] of m) {
        const j = Math.floor((b - lo) / k);
        if (j >= 0 && j < n && out[j] !== null) out[j] = (out[j] as number) + c;
      }
      return out;
    };
    const haveUnits = this.anyUnits;
    const series: TimelineSeries[] = [
      {
        key: 'all',
        label: 'all refusals',
        recipientDomain: null,
        direction: null,
        subtype: null,
        total: events,
        since: null,
        refusals: sum(this.all.refusals, -Infinity),
        units: haveUnits ? sum(this.all.units, -Infinity) : null,
        failedUnits: haveUnits ? sum(this.all.failed, -Infinity) : null,
      },
    ];
    for (const g of groups) {
      if (series.length > TIMELINE_SERIES) break;
      const key = seriesKey(g.direction, g.recipientDomain, g.subtype);
      const s = this.series.get(key);
      if (s === undefined) continue;
      const d = g.direction === 'outbound' && g.recipientDomain !== null && haveUnits ? this.domains.get(g.recipientDomain) : undefined;
      const since = Math.max(s.since, d?.since ?? -Infinity);
      series.push({
        key,
        label: `${g.recipientDomain ?? '(none)'} ${g.subtype}${g.direction === 'outbound' ? '' : ` (${g.direction})`}`,
        recipientDomain: g.recipientDomain,
        direction: g.direction,
        subtype: g.subtype,
        total: g.count,
        since: s.sinceMs === null ? null : new Date(s.sinceMs).toISOString(),
        refusals: sum(s.refusals, s.since),
        units: d === undefined ? null : sum(d.units, since),
        failedUnits: d === undefined ? null : sum(s.failed, since),
      });
    }
    return { start: new Date(lo * this.width * 60_000).toISOString(), bucketMinutes: k * this.width, buckets: n, series, markers };
  }
}

function bump(m: Buckets, b: number, by = 1): void {
  m.set(b, (m.get(b) ?? 0) + by);
}

function seriesKey(direction: Direction, domain: string | null, subtype: SubtypeId): string {
  return `${direction}|${domain ?? ''}|${subtype}`;
}

/** Every onset record, and every attribute change an onset's attribution named (once each). */
function timelineMarkers(onsets: readonly OnsetRecord[]): TimelineMarker[] {
  const markers: TimelineMarker[] = [];
  const changes = new Map<string, Extract<TimelineMarker, { kind: 'change' }>>();
  for (const r of onsets) {
    if (r.type !== 'onset' || r.onsetAt === null) continue;
    markers.push({
      kind: 'onset',
      time: r.onsetAt,
      id: r.id,
      level: r.series.level,
      seriesKey: r.series.key,
      subtype: r.series.subtype,
      recipientDomain: r.series.recipientDomain,
      provider: r.series.provider,
      basis: r.basis,
    });
    const named: { attribute: string; from: string | null; to: string; time: string }[] = [];
    const top = r.attribution?.top;
    if (top != null) named.push({ attribute: top.attribute, from: top.from, to: top.to, time: new Date(top.changedAt).toISOString() });
    const pc = r.precedingChange;
    if (pc != null) named.push({ attribute: pc.attribute, from: pc.from, to: pc.to, time: pc.changedAt });
    for (const c of named) {
      const key = `${c.attribute}\u0000${c.to}\u0000${c.time}`;
      const m = changes.get(key);
      if (m === undefined) {
        const marker = { kind: 'change' as const, time: c.time, attribute: c.attribute, from: c.from, to: c.to, onsets: [r.id] };
        changes.set(key, marker);
        markers.push(marker);
      } else if (!m.onsets.includes(r.id)) m.onsets.push(r.id);
    }
  }
  return markers.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
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

  private readonly timeline: TimelineBuilder | null;
  private readonly exampleRecipients: number;

  constructor(
    private readonly codes: readonly string[],
    options: ReportOptions = {},
  ) {
    this.timeline = options.timeline === true ? new TimelineBuilder() : null;
    this.exampleRecipients = options.exampleRecipients ?? 20;
  }

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
    if (this.timeline !== null && e.time !== null) {
      const ms = Date.parse(e.time);
      if (Number.isFinite(ms)) this.timeline.event(ms, e.recipientDomain, e.direction, subtype);
    }
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
    if (this.timeline !== null && Number.isFinite(u.t)) this.timeline.unit(u);
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

  /** The report; `findings` come from a FindingsBuilder (src/findings) and other sources, already sorted. */
  build(inputs: InputSummary[], correlation: CorrelatorStats, findings: Finding[] = []): Report {
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
          ...(this.timeline === null ? {} : { exampleRecipients: [...g.recipients].slice(0, this.exampleRecipients).sort() }),
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
      findings,
      ...(this.timeline === null ? {} : { timeline: this.timeline.build(groups, this.totals.events, this.onsets) }),
    };
  }
}
