/**
 * The detector on its own: increments and reset, onset time, evidence gates, arming, re-baselining,
 * recovery; then ONSETS.md 4.4's targets over seeded simulations (more seeds with
 * MTA550_ONSET_SEEDS=100, as `npm run test:fuzz` does).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BernoulliCusumBank, DEFAULT_DETECTOR } from '../../src/onset/detector.js';
import { simulate, START } from './sim.js';

const MIN = 60_000;
const SEEDS = Number(process.env.MTA550_ONSET_SEEDS ?? 30);

/** A detector with a long, clean history at rate p0 (armed). */
function warmed(p0 = 0.005, perMinute = 100, minutes = 180) {
  const d = new BernoulliCusumBank(START, { rate: p0, weight: Math.max(50, 5 / p0) });
  let t = START;
  let k = 0;
  for (let m = 0; m < minutes; m++) {
    for (let i = 0; i < perMinute; i++) {
      t = START + m * MIN + Math.floor((i * MIN) / perMinute);
      d.observe(t, k++ % Math.round(1 / p0) === 0 ? 1 : 0, null);
    }
  }
  return { d, t };
}

describe('BernoulliCusumBank', () => {
  it('is at rest only when a new detector would know as much: CUSUMs at zero, no incident, failures lost in the prior', () => {
    // A busy domain's one failure: once its CUSUMs are back at zero it is noise against a 1,000-unit prior.
    const d = new BernoulliCusumBank(START, { rate: 0.005, weight: 1000 });
    d.seedUnits(500, START);
    let t = START;
    d.observe(t, 1, 'a@x.example');
    expect(d.atRest(t)).toBe(false); // evidence building
    while (d.evidence > 0) d.observe((t += 1000), 0, null);
    expect(d.atRest(t)).toBe(true);
    // Three failures in a few hundred units are not noise: the baseline remembers them.
    const e = new BernoulliCusumBank(START, { rate: 0.005, weight: 1000 });
    e.seedUnits(500, START);
    t = START;
    for (let i = 0; i < 3; i++) e.observe((t += 1000), 1, `r${i}@x.example`);
    while (e.evidence > 0) e.observe((t += 1000), 0, null);
    expect(e.atRest(t)).toBe(false);
    // In an incident (after an onset), never at rest.
    const { d: w, t: t0 } = warmed();
    let u = t0;
    let alarmed = false;
    for (let i = 0; i < 2000 && !alarmed; i++) alarmed = w.observe((u += 600), i % 5 === 0 ? 1 : 0, `r${i}@x.example`)?.kind === 'onset';
    expect(alarmed).toBe(true);
    expect(w.inIncident).toBe(true);
    expect(w.atRest(u)).toBe(false);
  });

  it('adds ln(p1/p0) for a failure and ln((1-p1)/(1-p0)) for a success, never going below 0', () => {
    const { d, t } = warmed();
    const p0 = d.rate();
    expect(d.evidence).toBe(0);
    d.observe(t + 1000, 1, 'a@example.com');
    const best = Math.max(...DEFAULT_DETECTOR.rhos.map((rho) => Math.log(Math.min(0.9, Math.max(rho * p0, p0 + 0.005)) / p0)));
    expect(d.evidence).toBeCloseTo(best, 10);
    for (let i = 0; i < 5000; i++) d.observe(t + 2000 + i, 0, null);
    expect(d.evidence).toBe(0);
  });

  it('alarms on a step, estimates the onset time, and needs 5 failures from 3 recipients', () => {
    const { d, t } = warmed();
    const T = t + 10 * MIN;
    const alarms = [];
    // The same recipient over and over: evidence grows but the distinct-recipient gate holds.
    for (let i = 0; i < 20; i++) {
      const out = d.observe(T + i * 1000, 1, 'same@example.com');
      if (out) alarms.push(out);
    }
    expect(alarms).toEqual([]);
    const out = [0, 1, 2].map((i) => d.observe(T + 30_000 + i * 1000, 1, `r${i}@example.com`)).find((x) => x !== null);
    expect(out).toMatchObject({ kind: 'onset', onsetAt: T });
    if (out?.kind !== 'onset') return;
    expect(out.after.failures).toBeGreaterThanOrEqual(5);
    expect(out.evidenceNats).toBeGreaterThanOrEqual(DEFAULT_DETECTOR.thresholdNats);
    expect(out.before.rate).toBeCloseTo(0.005, 2);
  });

  it('does not call a series that always fails a rise, whatever its prior says', () => {
    const d = new BernoulliCusumBank(START, { rate: 0.005, weight: 1000 });
    const outs = [];
    for (let i = 0; i < 20_000; i++) outs.push(d.observe(START + i * 1000, 1, `r${i}@example.com`));
    expect(outs.filter((x) => x?.kind === 'onset')).toEqual([]);
  });

  it('never calls an onset before it is armed (cold start): a new series can only be "elevated"', () => {
    const d = new BernoulliCusumBank(START, { rate: 0.005, weight: 1000 });
    const outs = [];
    for (let i = 0; i < 200; i++) outs.push(d.observe(START + i * 1000, i % 10 === 0 ? 1 : 0, `r${i}@example.com`));
    const kinds = outs.filter((x) => x !== null).map((x) => x!.kind);
    expect(kinds).not.toContain('onset');
    expect(kinds).toContain('new_series_elevated');
  });

  it('N6: series that start at 5% under a 0.5% parent give no onset over a week', () => {
    let onsets = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const r = simulate({ seed: 8000 + seed, minutes: 7 * 1440, unitsPerMinute: 1, p0: 0.05, priorRate: 0.005 });
      onsets += r.alarms.filter((a) => a.kind === 'onset').length;
    }
    expect(onsets).toBe(0);
  });

  it('re-baselines after an alarm (one episode, one alert) and reports the recovery', () => {
    const { d, t } = warmed();
    const kinds: string[] = [];
    let time = t;
    for (let m = 0; m < 60; m++) {
      for (let i = 0; i < 100; i++) {
        time = t + m * MIN + i * 600;
        const out = d.observe(time, i % 10 === 0 ? 1 : 0, `r${m}-${i}@example.com`);
        if (out) kinds.push(out.kind);
      }
    }
    expect(kinds).toEqual(['onset']);
    for (let m = 60; m < 120; m++) {
      for (let i = 0; i < 100; i++) {
        const out = d.observe(t + m * MIN + i * 600, 0, null);
        if (out) kinds.push(out.kind);
      }
    }
    expect(kinds).toEqual(['onset', 'recovery']);
  });

  it('reports an escalation inside the incident as an update (>= 3x the new level), not a second onset, and recovers to the old level', () => {
    const { d, t } = warmed();
    const kinds: { kind: string; before?: number; after?: number }[] = [];
    const feed = (from: number, to: number, every: number) => {
      for (let m = from; m < to; m++) {
        for (let i = 0; i < 100; i++) {
          const out = d.observe(t + m * MIN + i * 600, every > 0 && i % every === 0 ? 1 : 0, `r${m}-${i}@example.com`);
          if (out) kinds.push(out.kind === 'recovery' ? { kind: out.kind } : { kind: out.kind, before: out.before.rate, after: out.after.rate });
        }
      }
    };
    feed(0, 40, 20); // 5%
    feed(40, 60, 25); // 4%: a wobble inside the incident, absorbed
    feed(60, 90, 4); // 25%: escalation
    feed(90, 150, 0); // back to 0
    expect(kinds.map((k) => k.kind)).toEqual(['onset', 'update', 'recovery']);
    expect(kinds[1]!.before!).toBeGreaterThan(0.02);
    expect(kinds[1]!.after!).toBeGreaterThan(3 * kinds[1]!.before! * 0.9);
  });
});

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

describe('BernoulliCusumBank increment memo', () => {
  // The increments are memoised by baseline, shared by every detector of a config: other detectors'
  // baselines (colliding memo slots) must not change what a detector computes.
  it('gives the same alarms and evidence with the memo shared with other detectors as with a memo of its own', () => {
    const step = fc.record({ dt: fc.integer({ min: 0, max: 3 * MIN }), y: fc.constantFrom<0 | 1>(0, 0, 0, 1), recipient: fc.constantFrom('a@x', 'b@x', 'c@x', 'd@x'), expected: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), fc.array(fc.double({ min: 1e-4, max: 0.98, noNaN: true }), { minLength: 1, maxLength: 50 }), (steps, noise) => {
        const alone = new BernoulliCusumBank(START, { rate: 0.01, weight: 100 }, { ...DEFAULT_DETECTOR });
        const shared = new BernoulliCusumBank(START, { rate: 0.01, weight: 100 });
        const other = new BernoulliCusumBank(START, { rate: 0.01, weight: 100 });
        let t = START;
        for (const [i, s] of steps.entries()) {
          t += s.dt;
          other.observe(t, 1, 'z@x', noise[i % noise.length]);
          const y = s.y === 1 ? s.recipient : null;
          expect(shared.observe(t, s.y, y, s.expected)).toEqual(alone.observe(t, s.y, y, s.expected));
          expect(shared.evidence).toBe(alone.evidence);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe(`ONSETS.md 4.4 targets over ${SEEDS} seeds`, () => {
  it('S1: a 0.5% -> 5% step at 120 units/min is found in every seed, p95 delay <= 5 min, p95 onset error <= 2 min', () => {
    const delays: number[] = [];
    const errors: number[] = [];
    let found = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const step = 12 * 60 + ((seed * 37) % 60);
      const r = simulate({ seed, minutes: step + 120, unitsPerMinute: 120, p0: 0.005, p1: 0.05, stepAtMinute: step });
      const T = START + step * MIN;
      const hit = r.alarms.find((a) => a.detectedAt >= T && a.detectedAt <= T + 120 * MIN);
      if (hit === undefined) continue;
      found++;
      delays.push((hit.detectedAt - T) / MIN);
      errors.push(Math.abs(hit.onsetAt - T) / MIN);
    }
    console.log(`S1: found ${found}/${SEEDS}; delay p50 ${quantile(delays, 0.5).toFixed(2)} p95 ${quantile(delays, 0.95).toFixed(2)} min; onset error p50 ${quantile(errors, 0.5).toFixed(2)} p95 ${quantile(errors, 0.95).toFixed(2)} min`);
    expect(found / SEEDS).toBeGreaterThanOrEqual(0.99);
    expect(quantile(delays, 0.95)).toBeLessThanOrEqual(5);
    expect(quantile(errors, 0.95)).toBeLessThanOrEqual(2);
  });

  it('S3: a small 0.5% -> 2% step at 120 units/min is found within 30 min in >= 95%', () => {
    let found = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const step = 12 * 60;
      const r = simulate({ seed: 1000 + seed, minutes: step + 60, unitsPerMinute: 120, p0: 0.005, p1: 0.02, stepAtMinute: step });
      if (r.alarms.some((a) => a.detectedAt >= START + step * MIN && a.detectedAt <= START + (step + 30) * MIN)) found++;
    }
    expect(found / SEEDS).toBeGreaterThanOrEqual(0.95);
  });

  it('S4: a ramp 0.5% -> 5% over 60 min is found before the ramp ends in >= 99%', () => {
    let found = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const step = 12 * 60;
      const r = simulate({ seed: 2000 + seed, minutes: step + 60, unitsPerMinute: 120, p0: 0.005, p1: 0.05, stepAtMinute: step, rampMinutes: 60 });
      if (r.alarms.some((a) => a.detectedAt >= START + step * MIN)) found++;
    }
    expect(found / SEEDS).toBeGreaterThanOrEqual(0.99);
  });

  it('S7: a sparse series (1 unit/min) 0.5% -> 20% is found within 90 min in >= 95%', () => {
    let found = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const step = 4 * 1440;
      const r = simulate({ seed: 3000 + seed, minutes: step + 90, unitsPerMinute: 1, p0: 0.005, p1: 0.2, stepAtMinute: step });
      if (r.alarms.some((a) => a.detectedAt >= START + step * MIN)) found++;
    }
    expect(found / SEEDS).toBeGreaterThanOrEqual(0.95);
  });

  it('N1, N2, N4: at most one false alarm per simulated week (stationary diurnal, x10 surges, rate wobble)', () => {
    const weeks = Math.max(3, Math.round(SEEDS / 10));
    let alarms = 0;
    let surgeAlarms = 0;
    for (let w = 0; w < weeks; w++) {
      alarms += simulate({ seed: 5000 + w, minutes: 7 * 1440, unitsPerMinute: 120, p0: 0.005, diurnal: true }).alarms.length;
      const surge = simulate({ seed: 6000 + w, minutes: 7 * 1440, unitsPerMinute: 120, p0: 0.005, surge: true });
      alarms += surge.alarms.length;
      surgeAlarms += surge.alarms.filter((a) => {
        const minute = ((a.detectedAt - START) / MIN) % 1440;
        return minute >= 600 && minute < 720 + 30;
      }).length;
      alarms += simulate({ seed: 7000 + w, minutes: 7 * 1440, unitsPerMinute: 120, p0: 0.005, wobble: true }).alarms.length;
    }
    console.log(`false alarms: ${alarms} in ${3 * weeks} simulated weeks (${surgeAlarms} in surge windows)`);
    expect(alarms / (3 * weeks)).toBeLessThanOrEqual(1);
    expect(surgeAlarms).toBe(0);
  });
});
