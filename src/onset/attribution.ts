/**
 * Naming the change that caused an onset (ONSETS.md 3.7): compare each attribute's mix (relay host,
 * relay IP, sender domain, client IP, answering provider) before and after the onset in the alarmed
 * series, and find the value that carries the excess failures.
 *
 * - Changed attribute: the mix moved (Jensen-Shannon divergence >= 0.1 bits) to a value whose share
 *   rose by >= 20 points, that explains >= half the excess failures and carries at least 5 of them
 *   (or half when fewer were seen yet): `relay: a -> b at 14:02`.
 * - Concentration without change: the mix is the same but one value has >= 5x the risk and >= 60%
 *   of the excess failures (one sending IP blocklisted).
 * - Otherwise none: said so, never guessed.
 * Attributes whose new value travels with the top one (>= 90% co-occurrence) form its bundle.
 */

export const ATTRIBUTES = ['relay', 'relay_ip', 'sender_domain', 'client_ip', 'provider'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/** A delivery unit as attribution sees it. */
export interface AttributedUnit {
  t: number;
  failed: boolean;
  attrs: Readonly<Record<Attribute, string>>;
}

export interface AttributionTop {
  attribute: Attribute;
  from: string | null;
  to: string;
  changedAt: number;
  shareBefore: number;
  shareAfter: number;
  jsdBits: number;
  riskRatio: number;
  explainedFraction: number;
}

export interface Attribution {
  top: AttributionTop | null;
  bundle: Attribute[];
  concentration: { attribute: Attribute; value: string; riskRatio: number; explainedFraction: number; failures: number } | null;
  /** Every attribute's divergence, for the record. */
  others: { attribute: Attribute; jsdBits: number }[];
  before: { units: number; failures: number };
  after: { units: number; failures: number };
}

function counts(units: readonly AttributedUnit[], a: Attribute): Map<string, { n: number; f: number; first: number }> {
  const m = new Map<string, { n: number; f: number; first: number }>();
  for (const u of units) {
    const v = u.attrs[a];
    let c = m.get(v);
    if (c === undefined) {
      c = { n: 0, f: 0, first: u.t };
      m.set(v, c);
    }
    c.n++;
    if (u.failed) c.f++;
  }
  return m;
}

/** Jensen-Shannon divergence in bits (0..1) between two value distributions. */
export function jsd(p: ReadonlyMap<string, number>, q: ReadonlyMap<string, number>): number {
  const keys = new Set([...p.keys(), ...q.keys()]);
  const tp = [...p.values()].reduce((a, b) => a + b, 0);
  const tq = [...q.values()].reduce((a, b) => a + b, 0);
  if (tp === 0 || tq === 0) return 0;
  let d = 0;
  for (const k of keys) {
    const a = (p.get(k) ?? 0) / tp;
    const b = (q.get(k) ?? 0) / tq;
    const m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log2(a / m);
    if (b > 0) d += 0.5 * b * Math.log2(b / m);
  }
  return Math.max(0, Math.min(1, d));
}

/**
 * Attributes the onset at `onsetAt` in a series whose units are given (already filtered to the
 * series, in time order), against the baseline failure rate p0.
 */
export function attribute(units: readonly AttributedUnit[], onsetAt: number, p0: number, windowMs = 60 * 60_000): Attribution {
  const before = units.filter((u) => u.t < onsetAt && u.t >= onsetAt - windowMs);
  const after = units.filter((u) => u.t >= onsetAt);
  const F = after.filter((u) => u.failed).length;
  const N = after.length;
  const excess = F - N * p0;
  const result: Attribution = {
    top: null,
    bundle: [],
    concentration: null,
    others: [],
    before: { units: before.length, failures: before.filter((u) => u.failed).length },
    after: { units: N, failures: F },
  };
  if (N === 0 || before.length === 0 || excess <= 0) return result;

  // At detection the after window may hold only the alarm's 5 failures: then the value must carry
  // half of them rather than 5, or a change would go unnamed exactly when it matters first.
  const minFailures = Math.min(5, Math.ceil(0.5 * F));
  let best: { score: number; top: AttributionTop } | null = null;
  let conc: Attribution['concentration'] = null;
  for (const a of ATTRIBUTES) {
    const cb = counts(before, a);
    const ca = counts(after, a);
    const d = jsd(new Map([...cb].map(([k, v]) => [k, v.n])), new Map([...ca].map(([k, v]) => [k, v.n])));
    result.others.push({ attribute: a, jsdBits: d });
    let from: string | null = null;
    let fromShare = -1;
    for (const [v, c] of cb) if (c.n / before.length > fromShare) [from, fromShare] = [v, c.n / before.length];
    for (const [v, c] of ca) {
      const shareAfter = c.n / N;
      const shareBefore = (cb.get(v)?.n ?? 0) / before.length;
      const ep = (c.f - c.n * p0) / excess;
      const fNot = F - c.f;
      const nNot = N - c.n;
      const rr = (c.f + 0.5) / (c.n + 1) / ((fNot + 0.5) / (nNot + 1));
      if (d >= 0.1 && shareAfter - shareBefore >= 0.2 && ep >= 0.5 && c.f >= minFailures) {
        const score = d * ep;
        if (best === null || score > best.score) {
          // When the new value started: its first unit in the window (before the onset when it
          // arrived earlier, as a relay switch usually does).
          const firstBefore = cb.get(v)?.first;
          best = {
            score,
            top: {
              attribute: a,
              from: from === v ? null : from,
              to: v,
              changedAt: firstBefore ?? c.first,
              shareBefore,
              shareAfter,
              jsdBits: d,
              riskRatio: rr,
              explainedFraction: Math.min(1, ep),
            },
          };
        }
      }
      // Concentration: the failures sit on one value while the mix changed too little to name a
      // change (below the top's 0.1 bits; a new campaign from a new sender domain lands here).
      if (d < 0.1 && rr >= 5 && ep >= 0.6 && c.f >= 5 && (conc === null || ep > conc.explainedFraction)) {
        conc = { attribute: a, value: v, riskRatio: rr, explainedFraction: Math.min(1, ep), failures: c.f };
      }
    }
  }
  if (best !== null) {
    result.top = best.top;
    // Attributes whose dominant new value co-occurs with the top value in >= 90% of after units.
    const withTop = after.filter((u) => u.attrs[best!.top.attribute] === best!.top.to);
    for (const a of ATTRIBUTES) {
      if (a === best.top.attribute || withTop.length === 0) continue;
      const ca = counts(withTop, a);
      const [, c] = [...ca].sort((x, y) => y[1].n - x[1].n)[0] ?? ['', { n: 0 }];
      const beforeShare = before.filter((u) => u.attrs[a] === [...ca].sort((x, y) => y[1].n - x[1].n)[0]?.[0]).length / before.length;
      if (c.n / withTop.length >= 0.9 && beforeShare <= 0.5) result.bundle.push(a);
    }
  } else {
    result.concentration = conc;
  }
  return result;
}
