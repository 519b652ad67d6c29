/**
 * The batch report: totals, rejections grouped by recipient domain x direction x status, delivery
 * outcomes per recipient domain, and the per-input accounting. A pure reducer: no I/O.
 */
import type { DeliveryOutcome, Direction, RejectionEvent } from '../model/event.js';
import type { CorrelatorStats } from '../correlate/postfix.js';
import type { InputSummary } from '../pipeline.js';

/** Distinct recipients counted per group before the count is reported as a lower bound. */
const MAX_DISTINCT_RECIPIENTS = 10_000;

export interface ReportGroup {
  recipientDomain: string | null;
  direction: Direction;
  /** The enhanced status (`5.1.1`), or the reply code when the reply had none (`550`). */
  status: string;
  code: number | null;
  count: number;
  recipients: number;
  recipientsCapped: boolean;
  firstSeen: string | null;
  lastSeen: string | null;
  exampleReply: string;
  exampleRecipient: string | null;
}

export interface Report {
  codes: readonly string[];
  totals: {
    events: number;
    byDirection: Record<Direction, number>;
    byOutcome: Record<string, number>;
    byCode: Record<string, number>;
    firstSeen: string | null;
    lastSeen: string | null;
  };
  groups: ReportGroup[];
  outcomes: DeliveryOutcome[];
  inputs: InputSummary[];
  correlation: CorrelatorStats;
  warnings: string[];
}

interface GroupState extends ReportGroup {
  distinct: Set<string>;
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
    const key = `${e.recipientDomain ?? ''}\u0000${e.direction}\u0000${status}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = {
        recipientDomain: e.recipientDomain,
        direction: e.direction,
        status,
        code: e.code,
        count: 0,
        recipients: 0,
        recipientsCapped: false,
        firstSeen: e.time,
        lastSeen: e.time,
        exampleReply: e.reply,
        exampleRecipient: e.recipient,
        distinct: new Set(),
      };
      this.groups.set(key, g);
    }
    g.count++;
    g.firstSeen = earlier(g.firstSeen, e.time);
    g.lastSeen = later(g.lastSeen, e.time);
    if (e.recipient !== null && !g.distinct.has(e.recipient)) {
      if (g.distinct.size < MAX_DISTINCT_RECIPIENTS) g.distinct.add(e.recipient);
      else g.recipientsCapped = true;
    }
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
      .map(({ distinct, ...g }) => ({ ...g, recipients: distinct.size }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.recipientDomain ?? '').localeCompare(b.recipientDomain ?? '') ||
          a.status.localeCompare(b.status) ||
          a.direction.localeCompare(b.direction),
      );
    const total = (o: DeliveryOutcome) => o.sent + o.deferred + o.bounced + o.rejected + o.expired;
    const outcomes = [...this.outcomes.values()].sort(
      (a, b) => total(b) - total(a) || a.domain.localeCompare(b.domain),
    );
    const warnings = inputs.flatMap((i) => i.warnings.map((w) => `${i.path}: ${w}`));
    return { codes: this.codes, totals: this.totals, groups, outcomes, inputs, correlation, warnings };
  }
}
