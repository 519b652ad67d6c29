/**
 * The batch report: totals, rejections grouped by recipient domain x direction x status, delivery
 * outcomes per recipient domain, and the per-input accounting. A pure reducer: no I/O.
 */
import { SUBTYPE_INFO, type SubtypeId } from '../classify/subtypes.js';
import type { DeliveryOutcome, Direction, RejectionEvent } from '../model/event.js';
import type { OnsetRecord } from '../onset/engine.js';
import type { CorrelatorStats } from '../correlate/postfix.js';
import type { InputSummary } from '../pipeline.js';

/** Distinct recipients counted per group before the count is reported as a lower bound. */
const MAX_DISTINCT_RECIPIENTS = 10_000;

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
  firstSeen: string | null;
  lastSeen: string | null;
  exampleReply: string;
  exampleRecipient: string | null;
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
    byDirection: Record<Direction, number>;
    byOutcome: Record<string, number>;
    byCode: Record<string, number>;
    firstSeen: string | null;
    lastSeen: string | null;
  };
  groups: ReportGroup[];
  subtypes: SubtypeSummary[];
  outcomes: DeliveryOutcome[];
  inputs: InputSummary[];
  correlation: CorrelatorStats;
  warnings: string[];
}

interface GroupState extends Omit<ReportGroup, 'statuses' | 'provider'> {
  distinct: Set<string>;
  statusCounts: Map<string, number>;
  providerCounts: Map<string, number>;
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

function bumpMap(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
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
  private readonly subtypes = new Map<SubtypeId, SubtypeState>();
  private readonly onsets: OnsetRecord[] = [];
  private readonly outcomes = new Map<string, DeliveryOutcome>();
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
    t.byDirection[e.direction]++;
    t.byOutcome[e.outcome] = (t.byOutcome[e.outcome] ?? 0) + 1;
    const code = e.code === null ? 'none' : String(e.code);
    t.byCode[code] = (t.byCode[code] ?? 0) + 1;
    t.firstSeen = earlier(t.firstSeen, e.time);
    t.lastSeen = later(t.lastSeen, e.time);

    const status = e.enhancedStatus ?? (e.code === null ? '?' : String(e.code));
    const subtype: SubtypeId = e.classification?.subtype ?? 'other_or_unclassified';
    const key = `${e.recipientDomain ?? ''}\u0000${e.direction}\u0000${subtype}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = {
        recipientDomain: e.recipientDomain,
        direction: e.direction,
        subtype,
        count: 0,
        recipients: 0,
        recipientsCapped: false,
        firstSeen: e.time,
        lastSeen: e.time,
        exampleReply: e.reply,
        exampleRecipient: e.recipient,
        distinct: new Set(),
        statusCounts: new Map(),
        providerCounts: new Map(),
      };
      this.groups.set(key, g);
    }
    g.count++;
    g.firstSeen = earlier(g.firstSeen, e.time);
    g.lastSeen = later(g.lastSeen, e.time);
    bumpMap(g.statusCounts, status);
    bumpMap(g.providerCounts, e.classification?.provider ?? 'other');
    if (e.recipient !== null && !g.distinct.has(e.recipient)) {
      if (g.distinct.size < MAX_DISTINCT_RECIPIENTS) g.distinct.add(e.recipient);
      else g.recipientsCapped = true;
    }

    let st = this.subtypes.get(subtype);
    if (st === undefined) {
      st = { count: 0, domains: new Set(), confidence: {} };
      this.subtypes.set(subtype, st);
    }
    st.count++;
    if (st.domains.size < MAX_DISTINCT_RECIPIENTS) st.domains.add(e.recipientDomain ?? '');
    const c = e.classification?.confidence ?? 'low';
    st.confidence[c] = (st.confidence[c] ?? 0) + 1;
  }

  onset(record: OnsetRecord): void {
    this.onsets.push(record);
  }

  outcome(domain: string | null, status: string): void {
    if (!(OUTCOME_FIELDS as readonly string[]).includes(status)) return;
    const key = domain ?? '';
    let o = this.outcomes.get(key);
    if (o === undefined) {
      o = { domain: key, sent: 0, deferred: 0, bounced: 0, rejected: 0, expired: 0 };
      this.outcomes.set(key, o);
    }
    o[status as OutcomeField]++;
  }

  build(inputs: InputSummary[], correlation: CorrelatorStats): Report {
    const groups: ReportGroup[] = [...this.groups.values()]
      .map(({ distinct, statusCounts, providerCounts, ...g }) => ({
        recipientDomain: g.recipientDomain,
        direction: g.direction,
        subtype: g.subtype,
        provider: ranked(providerCounts)[0]?.key ?? 'other',
        statuses: ranked(statusCounts).map(({ key, count }) => ({ status: key, count })),
        count: g.count,
        recipients: distinct.size,
        recipientsCapped: g.recipientsCapped,
        firstSeen: g.firstSeen,
        lastSeen: g.lastSeen,
        exampleReply: g.exampleReply,
        exampleRecipient: g.exampleRecipient,
      }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.recipientDomain ?? '').localeCompare(b.recipientDomain ?? '') ||
          a.subtype.localeCompare(b.subtype) ||
          a.direction.localeCompare(b.direction),
      );
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
    const outcomes = [...this.outcomes.values()].sort(
      (a, b) => total(b) - total(a) || a.domain.localeCompare(b.domain),
    );
    const warnings = inputs.flatMap((i) => i.warnings.map((w) => `${i.path}: ${w}`));
    return { codes: this.codes, onsets: this.onsets, totals: this.totals, groups, subtypes, outcomes, inputs, correlation, warnings };
  }
}
