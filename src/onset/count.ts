/**
 * Count-basis onset detection (ONSETS.md 3.3, "count-only fallback"): for refusals that come with no
 * denominator in the log (inbound: our smtpd logs what it refused, not every RCPT it accepted), a
 * one-sided Poisson CUSUM on per-minute counts against a decayed baseline rate.
 *
 * - Baseline: an exponentially decayed mean of per-minute counts (half-life 6 h), fed through a
 *   15-minute guard band so a rise does not pull its own baseline up; floored at 0.02 per minute so
 *   a quiet series does not alarm on its second refusal.
 * - Alternatives rho 3 and 10: S = max(0, S + x ln rho - (rho - 1) lambda0) per minute.
 * - An alarm needs S >= h (14 + ln 2, calibrated by the simulation test: under 1 false alarm per
 *   simulated week on stationary and diurnal traffic), at least 10 refusals in the excursion, and
 *   2 hours of history (arming).
 * - After an alarm the baseline is set to the new level; recovery when the last 15 minutes average
 *   within 2x the old baseline.
 */

export interface CountConfig {
  halfLifeMin: number;
  guardMin: number;
  rhos: readonly number[];
  thresholdNats: number;
  minCount: number;
  armMin: number;
  floorPerMin: number;
  recoveryMin: number;
  cooldownMin: number;
}

export const DEFAULT_COUNT: CountConfig = {
  halfLifeMin: 360,
  guardMin: 15,
  rhos: [3, 10],
  thresholdNats: 14 + Math.log(2),
  minCount: 10,
  armMin: 120,
  floorPerMin: 0.02,
  recoveryMin: 15,
  cooldownMin: 30,
};

export interface CountAlarm {
  kind: 'onset';
  /** Minute indexes (ms since the epoch / 60,000). */
  detectedMin: number;
  onsetMin: number;
  rho: number;
  evidenceNats: number;
  before: { perMinute: number; minutes: number };
  after: { perMinute: number; count: number; minutes: number };
}

export interface CountRecovery {
  kind: 'recovery';
  recoveredMin: number;
  perMinute: number;
  count: number;
  minutes: number;
}

export class PoissonCusumBank {
  private lambda = 0;
  private weight = 0;
  private readonly guard: number[] = [];
  private minutes = 0;
  private readonly members: { rho: number; s: number; start: number; count: number; minutes: number }[];
  private incident: { oldRate: number } | null = null;
  private readonly recent: number[] = [];
  private coolUntil = -Infinity;

  constructor(private readonly cfg: CountConfig = DEFAULT_COUNT) {
    this.members = cfg.rhos.map((rho) => ({ rho, s: 0, start: 0, count: 0, minutes: 0 }));
  }

  /** The baseline refusals per minute. */
  rate(): number {
    return Math.max(this.cfg.floorPerMin, this.weight > 0 ? this.lambda / this.weight : 0);
  }

  /** One closed minute with `x` refusals. */
  observe(minute: number, x: number): CountAlarm | CountRecovery | null {
    const l0 = this.rate();
    this.minutes++;
    this.guard.push(x);
    if (this.guard.length > this.cfg.guardMin) this.fold(this.guard.shift()!);
    this.recent.push(x);
    if (this.recent.length > this.cfg.recoveryMin) this.recent.shift();

    if (this.incident !== null) {
      const sum = this.recent.reduce((a, b) => a + b, 0);
      const mean = sum / this.recent.length;
      if (this.recent.length >= this.cfg.recoveryMin && mean <= 2 * this.incident.oldRate + this.cfg.floorPerMin) {
        this.incident = null;
        this.coolUntil = minute + this.cfg.cooldownMin;
        for (const m of this.members) Object.assign(m, { s: 0, count: 0, minutes: 0 });
        return { kind: 'recovery', recoveredMin: minute, perMinute: mean, count: sum, minutes: this.recent.length };
      }
      return null;
    }

    let best: (typeof this.members)[number] | null = null;
    for (const m of this.members) {
      const inc = x * Math.log(m.rho) - (m.rho - 1) * l0;
      if (m.s === 0 && inc > 0) Object.assign(m, { start: minute, count: 0, minutes: 0 });
      m.s = Math.max(0, m.s + inc);
      if (m.s === 0) Object.assign(m, { count: 0, minutes: 0 });
      else {
        m.count += x;
        m.minutes++;
        if (m.s >= this.cfg.thresholdNats && m.count >= this.cfg.minCount && (best === null || m.s > best.s)) best = m;
      }
    }
    if (best === null || this.minutes < this.cfg.armMin || minute < this.coolUntil) return null;
    const after = best.count / Math.max(1, best.minutes);
    if (after < 1.5 * l0) return null;
    const alarm: CountAlarm = {
      kind: 'onset',
      detectedMin: minute,
      onsetMin: best.start,
      rho: best.rho,
      evidenceNats: best.s,
      before: { perMinute: l0, minutes: Math.round(this.weight) },
      after: { perMinute: after, count: best.count, minutes: best.minutes },
    };
    this.incident = { oldRate: l0 };
    // Re-baseline at the new level so one episode alerts once.
    this.lambda = after * this.weight;
    this.guard.length = 0;
    for (const m of this.members) Object.assign(m, { s: 0, count: 0, minutes: 0 });
    return alarm;
  }

  /** `n` minutes without a refusal before this detector existed (a cause seen for the first time). */
  seedZeros(n: number): void {
    const k = Math.pow(0.5, 1 / this.cfg.halfLifeMin);
    const kn = Math.pow(k, n);
    this.lambda *= kn;
    this.weight = this.weight * kn + (1 - kn) / (1 - k);
    this.minutes += n;
  }

  private fold(x: number): void {
    const k = Math.pow(0.5, 1 / this.cfg.halfLifeMin);
    this.lambda = this.lambda * k + x;
    this.weight = this.weight * k + 1;
  }
}
