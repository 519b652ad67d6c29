/**
 * A seeded unit-stream simulator for the detector (ONSETS.md 4.1, without the log text): Poisson
 * arrivals per minute with optional diurnal volume, Bernoulli outcomes with a rate that may step,
 * ramp or wobble, and optional volume surges.
 */
import { BernoulliCusumBank, DEFAULT_DETECTOR, type Alarm, type DetectorConfig, type Recovery } from '../../src/onset/detector.js';
import { poisson, rng } from '../random.js';


export interface SimSpec {
  seed: number;
  minutes: number;
  unitsPerMinute: number;
  /** Base failure rate, and the rate after `stepAtMinute` (or reached by `rampMinutes` later). */
  p0: number;
  p1?: number;
  stepAtMinute?: number;
  rampMinutes?: number;
  diurnal?: boolean;
  /** Volume x10 for 2 h a day (rates unchanged). */
  surge?: boolean;
  /** Rate wobble p0 * (1 +- 0.5) over a day. */
  wobble?: boolean;
  detector?: DetectorConfig;
  /** The prior the detector starts with (default p0): a parent's rate for cold-start tests. */
  priorRate?: number;
}

export const START = Date.UTC(2024, 2, 4, 0, 0, 0);
const MIN = 60_000;

/** `alarms` are onsets only; `elevated` the new_series_elevated alarms of a series not armed yet. */
export function simulate(spec: SimSpec): { alarms: Alarm[]; elevated: Alarm[]; recoveries: Recovery[]; units: number } {
  const r = rng(spec.seed);
  const prior = spec.priorRate ?? spec.p0;
  const det = new BernoulliCusumBank(START, { rate: prior, weight: Math.max(50, 5 / prior) }, spec.detector ?? DEFAULT_DETECTOR);
  const alarms: Alarm[] = [];
  const elevated: Alarm[] = [];
  const recoveries: Recovery[] = [];
  let units = 0;
  for (let m = 0; m < spec.minutes; m++) {
    const dayPhase = ((m % 1440) / 1440) * 2 * Math.PI;
    let lambda = spec.unitsPerMinute * (spec.diurnal ? 1 + 0.8 * Math.sin(dayPhase) : 1);
    if (spec.surge && m % 1440 >= 600 && m % 1440 < 720) lambda *= 10;
    let p = spec.p0 * (spec.wobble ? 1 + 0.5 * Math.sin(dayPhase) : 1);
    if (spec.p1 !== undefined && spec.stepAtMinute !== undefined && m >= spec.stepAtMinute) {
      const ramp = spec.rampMinutes ?? 0;
      const f = ramp === 0 ? 1 : Math.min(1, (m - spec.stepAtMinute) / ramp);
      p = spec.p0 + (spec.p1 - spec.p0) * f;
    }
    const n = poisson(r, lambda);
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(START + m * MIN + Math.floor(r() * MIN));
    times.sort((a, b) => a - b);
    for (const t of times) {
      const y = r() < p ? 1 : 0;
      units++;
      const out = det.observe(t, y, y === 1 ? `u${Math.floor(r() * 1e9)}` : null);
      if (out?.kind === 'onset') alarms.push(out);
      else if (out?.kind === 'new_series_elevated') elevated.push(out);
      else if (out?.kind === 'recovery') recoveries.push(out);
    }
  }
  return { alarms, elevated, recoveries, units };
}
