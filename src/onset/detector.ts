/**
 * The onset detector of one series x subtype (ONSETS.md 3.3): a bank of one-sided Bernoulli CUSUMs
 * over delivery units (one unit = one message x recipient domain; y = 1 when the unit failed with
 * this subtype), against a baseline rate that cannot chase the onset.
 *
 * - Baseline p0: exponentially decayed failures and units, shrunk toward a prior (the parent
 *   series' rate, worth a fixed number of pseudo-units) and fed only with data older than a 15 min
 *   guard band, folded in 5 min bins.
 * - Bank: alternatives p1 = max(rho * p0, p0 + 0.5 pp) for rho in {3, 10, 40}: the bank approximates
 *   a GLR over the unknown size of the jump. Each member keeps S, the time it last left 0 (the onset
 *   estimate), and the failures and units since then.
 * - Alarm: S >= h (14 nats + ln 3 for the bank) with minimum evidence (>= 5 failure units, >= 3
 *   distinct recipients), an armed baseline (enough real weight, series older than an hour) and no
 *   cooldown. After an alarm the baseline moves to the new rate (no repeated alerts for one
 *   episode) and a recovery watch starts.
 *
 * O(1) state and O(1) work per unit. Deterministic: no clocks, no randomness.
 */

export interface DetectorConfig {
  /** Alternatives as multiples of p0 (ONSETS.md 3.9: {3, 10, 40}). */
  rhos: readonly number[];
  /**
   * Alarm threshold in nats, 14 + ln(bank size). Calibrated on the seeded simulator (test/onset):
   * at 120 units/min over 30 simulated weeks of diurnal volume, x10 surges and a +-50% daily rate
   * wobble, h = 12 gave 0.53 false alarms per week per series, 13 gave 0.33, 14 gave 0.17, while the
   * p95 delay for a 0.5% -> 5% step only went from 3.8 to 4.0 min. Several series (global,
   * provider, domains) share the weekly budget of one, hence 14.
   */
  thresholdNats: number;
  /** Smallest rise an alternative may assume: 0.5 percentage points. */
  minDelta: number;
  minFailures: number;
  minDistinctRecipients: number;
  /**
   * Fewest units in the excursion (20): 5 failures out of 6-9 units of a tiny series is a burst,
   * not yet a rate (seen on the 10 M-line benchmark log); the sparse-series target (1 unit/min,
   * found within 90 min) is met with it.
   */
  minUnits: number;
  /** The baseline ignores the most recent guardBins x binMs (3 x 5 min = 15 min). */
  binMs: number;
  guardBins: number;
  /**
   * Baseline half-life: the time `halfLifeUnits` units take at the series' recent rate, clamped to
   * [halfLifeMs, maxHalfLifeMs] (6 h to 7 days), so busy series adapt within hours and sparse ones
   * remember for days (ONSETS.md 3.3).
   */
  halfLifeMs: number;
  maxHalfLifeMs: number;
  halfLifeUnits: number;
  /**
   * Armed after this long and once the decayed real weight reaches 3x the prior weight, or
   * `armUnits` when that is less (a sparse series' weight levels off near 2,900 units, so 3x a
   * 1,000-unit prior would never arm it; 2,000 real units already outweigh the prior two to one).
   */
  armAfterMs: number;
  armUnits: number;
  cooldownMs: number;
  /** Recovery: the rate over the last `recoveryBins` bins is back within 2x the old baseline. */
  recoveryBins: number;
}

export const DEFAULT_DETECTOR: DetectorConfig = {
  rhos: [3, 10, 40],
  thresholdNats: 14 + Math.log(3),
  minDelta: 0.005,
  minFailures: 5,
  minDistinctRecipients: 3,
  minUnits: 20,
  binMs: 5 * 60_000,
  guardBins: 3,
  halfLifeMs: 6 * 3_600_000,
  maxHalfLifeMs: 7 * 86_400_000,
  halfLifeUnits: 2000,
  armAfterMs: 3_600_000,
  armUnits: 2000,
  cooldownMs: 30 * 60_000,
  recoveryBins: 3,
};

/** The baseline a detector compares with, shared by the subtypes of one series for its units. */
export interface Baseline {
  /** Decayed failure units of this subtype, older than the guard band. */
  failures: number;
  /** Decayed units of the series, older than the guard band. */
  units: number;
}

export interface Alarm {
  /**
   * `onset` from an armed series; `new_series_elevated` from a series too young or too sparse to
   * trust its own baseline (compared with its prior, the parent's rate): never an onset
   * (ONSETS.md 3.3, cold start); `update` from a series already in an incident whose rate rose
   * again, at least 3x the level it was re-baselined at (escalation).
   */
  kind: 'onset' | 'new_series_elevated' | 'update';
  detectedAt: number;
  onsetAt: number;
  /** [earliest lastZero among members above 0, first failure after onsetAt]. */
  onsetWindow: [number, number];
  rho: number;
  evidenceNats: number;
  before: { rate: number; failures: number; units: number };
  after: { rate: number; failures: number; units: number; distinctRecipients: number };
}

export interface Recovery {
  kind: 'recovery';
  recoveredAt: number;
  rate: number;
  failures: number;
  units: number;
}

/** Fields of one bank member in the state array: its rho, S, the time S last left 0, and the failures, units and first failure since. */
const RHO = 0;
const S = 1;
const LAST_ZERO = 2;
const FAILURES = 3;
const UNITS = 4;
const FIRST_FAILURE = 5;
const MEMBER = 6;
/** Fields of one guard bin: its index (-1 when empty), failures and units. */
const BIN_INDEX = 0;
const BIN_F = 1;
const BIN_N = 2;
const BIN = 3;
/** Distinct recipients remembered per excursion (only ">= 3" matters to an alarm, 16 is reported). */
const MAX_RECIPIENTS = 16;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** A 32-bit hash of a recipient (FNV-1a): the excursion counts distinct ones without keeping strings. */
function recipientHash(r: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < r.length; i++) h = Math.imul(h ^ r.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Entries of a config's increment memo (a power of two): about 230 KiB for a bank of 3. */
const MEMO_BITS = 12;
/** Scratch for reading a float64's bits (the memo's hash). */
const bits64 = new Float64Array(1);
const bits32 = new Uint32Array(bits64.buffer);

/**
 * The CUSUM increments of every bank member for a baseline q, memoised by q, exactly: three Math.log
 * per member and unit were the detector's largest cost (a busy run observes millions of units), and
 * q only changes when a baseline folds a bin (every 5 minutes per detector), so the same q comes
 * back unit after unit. Direct-mapped by q's bits, shared by every detector of one config (a
 * config is not changed once detectors use it); the values are those observe() would compute.
 */
class Increments {
  readonly k: number;
  /** The q of each entry (NaN: empty). */
  private readonly keys: Float64Array;
  /**
   * Per entry: the k members' increments for a success, then for a failure; NaN for a member with
   * no room above q (p1 <= q), which skips the unit.
   */
  readonly incs: Float64Array;

  constructor(private readonly cfg: DetectorConfig) {
    this.k = cfg.rhos.length;
    this.keys = new Float64Array(1 << MEMO_BITS).fill(NaN);
    this.incs = new Float64Array((1 << MEMO_BITS) * 2 * this.k);
  }

  /** The offset of q's increments in `incs`; q must be a number (not NaN). */
  at(q: number): number {
    bits64[0] = q;
    const slot = Math.imul(bits32[0]! ^ bits32[1]!, 0x9e3779b1) >>> (32 - MEMO_BITS);
    const o = slot * 2 * this.k;
    if (this.keys[slot] !== q) {
      this.keys[slot] = q;
      for (let i = 0; i < this.k; i++) {
        // As in observe(): the alternative is rho times q, at least minDelta more.
        const p1 = Math.min(0.99, Math.max(this.cfg.rhos[i]! * q, q + this.cfg.minDelta));
        const room = p1 > q;
        this.incs[o + i] = room ? Math.log((1 - p1) / (1 - q)) : NaN;
        this.incs[o + this.k + i] = room ? Math.log(p1 / q) : NaN;
      }
    }
    return o;
  }
}

const incrementMemos = new WeakMap<DetectorConfig, Increments>();

function incrementsFor(cfg: DetectorConfig): Increments {
  let m = incrementMemos.get(cfg);
  if (m === undefined) {
    m = new Increments(cfg);
    incrementMemos.set(cfg, m);
  }
  return m;
}

/**
 * The detector's numbers live in one Float64Array (the members, then the guard bins, then the
 * excursion's recipient hashes): about 450 bytes per detector instead of 1.1 KiB of objects,
 * arrays and a Set, which matters at tens of thousands of domain x subtype series.
 */
export class BernoulliCusumBank {
  private readonly k: number;
  private readonly st: Float64Array;
  private readonly binsAt: number;
  private readonly bins: number;
  private readonly recipientsAt: number;
  private recipients = 0;
  /** Decayed baseline failures and units, and the time they were last decayed to. */
  private rF = 0;
  private rN = 0;
  private decayedTo = 0;
  private readonly startedAt: number;
  private coolUntil = -Infinity;
  private currentBin = -1;
  /** Recent units per ms (for the adaptive half-life). */
  private unitRate = 0;
  /** The rate shrunk toward (the parent series' rate for this subtype) and its weight in units. */
  private priorRate: number;
  private priorWeight: number;
  /** The config's memo of CUSUM increments by baseline. */
  private readonly increments: Increments;
  /** In an incident: the baseline before it (for recovery), since when, and the level it rose to. */
  private incident: { oldRate: number; since: number; postRate: number } | null = null;

  constructor(
    startedAt: number,
    prior: { rate: number; weight: number },
    private readonly cfg: DetectorConfig = DEFAULT_DETECTOR,
  ) {
    this.startedAt = startedAt;
    this.decayedTo = startedAt;
    this.priorRate = prior.rate;
    this.priorWeight = prior.weight;
    this.k = cfg.rhos.length;
    this.increments = incrementsFor(cfg);
    this.bins = cfg.guardBins + 1;
    this.binsAt = this.k * MEMBER;
    this.recipientsAt = this.binsAt + this.bins * BIN;
    this.st = new Float64Array(this.recipientsAt + MAX_RECIPIENTS);
    for (let i = 0; i < this.k; i++) {
      const m = i * MEMBER;
      this.st[m + RHO] = cfg.rhos[i]!;
      this.st[m + LAST_ZERO] = startedAt;
      this.st[m + FIRST_FAILURE] = startedAt;
    }
    for (let b = 0; b < this.bins; b++) this.st[this.binsAt + b * BIN + BIN_INDEX] = -1;
  }

  private binIndex(b: number): number {
    return this.st[this.binsAt + b * BIN + BIN_INDEX]!;
  }

  private clearBin(b: number, index = -1): void {
    const o = this.binsAt + b * BIN;
    this.st[o + BIN_INDEX] = index;
    this.st[o + BIN_F] = 0;
    this.st[o + BIN_N] = 0;
  }

  /** Restarts every member's CUSUM and forgets the excursion's recipients. */
  private resetMembers(): void {
    for (let i = 0; i < this.k; i++) {
      const m = i * MEMBER;
      this.st[m + S] = 0;
      this.st[m + FAILURES] = 0;
      this.st[m + UNITS] = 0;
    }
    this.recipients = 0;
  }

  private addRecipient(r: string): void {
    if (this.recipients >= MAX_RECIPIENTS) return;
    const h = recipientHash(r);
    for (let i = 0; i < this.recipients; i++) if (this.st[this.recipientsAt + i] === h) return;
    this.st[this.recipientsAt + this.recipients++] = h;
  }

  /**
   * Starts the baseline with the series' history when the detector is created after the series
   * (its subtype failed for the first time): `units` decayed units, none of them failures.
   */
  seedUnits(units: number, t: number): void {
    this.rN = Math.max(0, units);
    this.rF = 0;
    this.decayedTo = t;
  }

  /** The current baseline rate p0 (guard-banded, shrunk toward the prior). */
  rate(): number {
    // Up to 0.98, not 0.5: a series that mostly fails must not look like one at 50% that "rises".
    return clamp((this.priorRate * this.priorWeight + this.rF) / (this.priorWeight + this.rN), 1e-4, 0.98);
  }

  /**
   * The rate a unit of this series is expected to fail at, for the risk-adjusted CUSUM of the
   * levels above: the series' own observed baseline once it has 200 decayed units (about one
   * sampling error in 10 at the rates that matter), else the prior-shrunk baseline. The shrunk one
   * alone would judge a small domain that always fails 15% against its parent's 0.5% for hours.
   */
  expectedRate(): number {
    if (this.rN >= 200) return clamp((this.rF + this.priorRate * 10) / (this.rN + 10), 1e-4, 0.98);
    return this.rate();
  }

  setPrior(rate: number, weight: number): void {
    this.priorRate = rate;
    this.priorWeight = weight;
  }

  armed(t: number): boolean {
    return t - this.startedAt >= this.cfg.armAfterMs && this.rN >= Math.min(3 * this.priorWeight, this.cfg.armUnits);
  }

  /** The current half-life from the recent unit rate. */
  private halfLife(): number {
    if (this.unitRate <= 0) return this.cfg.halfLifeMs;
    return clamp(this.cfg.halfLifeUnits / this.unitRate, this.cfg.halfLifeMs, this.cfg.maxHalfLifeMs);
  }

  get inIncident(): boolean {
    return this.incident !== null;
  }

  /**
   * True when this detector knows nothing a new one would not: no incident or cooldown, every CUSUM
   * at zero, and its failures (decayed baseline and guard bins) move its baseline rate by at most a
   * fifth of `minDelta` against the prior alone. The engine then drops it (a recipient domain whose
   * rare failures were noise), and makes a new one, seeded with the series' units, at the next
   * failure: detector memory follows the domains that fail now, not every domain that ever failed.
   */
  atRest(t: number): boolean {
    if (this.incident !== null || t < this.coolUntil) return false;
    for (let i = 0; i < this.k; i++) if (this.st[i * MEMBER + S]! > 0) return false;
    let f = this.rF;
    let n = this.rN;
    for (let b = 0; b < this.bins; b++) {
      if (this.binIndex(b) < 0) continue;
      f += this.st[this.binsAt + b * BIN + BIN_F]!;
      n += this.st[this.binsAt + b * BIN + BIN_N]!;
    }
    return f <= (this.cfg.minDelta / 5) * (this.priorWeight + n);
  }

  /** The largest CUSUM statistic now (0 when nothing is building up). */
  get evidence(): number {
    let best = 0;
    for (let i = 0; i < this.k; i++) best = Math.max(best, this.st[i * MEMBER + S]!);
    return best;
  }

  /**
   * Moves bins older than the guard band into the decayed baseline and returns the ring slot of
   * time t, or -1 for a late unit older than the guard band (it goes straight to the baseline).
   */
  private advance(t: number): number {
    const idx = Math.floor(t / this.cfg.binMs);
    const oldest = idx - this.cfg.guardBins;
    if (idx > this.currentBin) {
      // Fold the bins older than the guard band, oldest first (a slot holds one bin index, so the
      // order is strict). Picked by repeated minimum over the few slots rather than collected and
      // sorted: this runs at most of a sparse series' units, and an array per call was garbage.
      for (;;) {
        let b = -1;
        for (let j = 0; j < this.bins; j++) {
          const i = this.binIndex(j);
          if (i >= 0 && i < oldest && (b < 0 || i < this.binIndex(b))) b = j;
        }
        if (b < 0) break;
        const o = this.binsAt + b * BIN;
        this.fold((this.st[o + BIN_INDEX]! + 1) * this.cfg.binMs, this.st[o + BIN_F]!, this.st[o + BIN_N]!);
        this.clearBin(b);
      }
      this.currentBin = idx;
    } else if (idx < this.currentBin - this.cfg.guardBins) {
      return -1;
    }
    const slot = idx % this.bins;
    if (this.binIndex(slot) !== idx) this.clearBin(slot, idx);
    return slot;
  }

  private fold(at: number, failures: number, units: number): void {
    if (at > this.decayedTo) {
      // Units per ms over the span since the last fold, smoothed across folds.
      const span = at - this.decayedTo;
      const r = units / span;
      this.unitRate = this.unitRate === 0 ? r : this.unitRate + Math.min(1, span / (6 * 3_600_000)) * (r - this.unitRate);
      const k = Math.pow(0.5, (at - this.decayedTo) / this.halfLife());
      this.rF *= k;
      this.rN *= k;
      this.decayedTo = at;
    }
    this.rF += failures;
    this.rN += units;
  }

  /**
   * Feeds one unit of the series at time t: y = 1 when it failed with this subtype. Returns an
   * alarm or a recovery when one happens. `expected`: the unit's own expected failure rate (the
   * baseline of its finest series), for the risk-adjusted CUSUM of aggregate series.
   */
  observe(t: number, y: 0 | 1, recipient: string | null, expected?: number): Alarm | Recovery | null {
    const slot = this.advance(t);
    const p0 = this.rate();
    if (slot < 0) this.fold(t, y, 1);
    else {
      const o = this.binsAt + slot * BIN;
      this.st[o + BIN_F]! += y;
      this.st[o + BIN_N]! += 1;
    }

    if (this.incident !== null) {
      const recovered = this.watchRecovery(t);
      if (recovered !== null) return recovered;
      // Still in the incident: the CUSUM keeps running against the re-baselined level, so a further
      // rise (escalation) is seen; recovery takes precedence.
    }

    const st = this.st;
    let above = false;
    // Risk-adjusted for aggregate series (after Steiner et al. 2000): each unit is judged against
    // its own expected rate (its domain's baseline), with the same alternatives as the series'
    // own (rho times, at least minDelta more), so mail shifting towards domains that always fail
    // more (a mix shift) adds nothing.
    const q = expected === undefined ? p0 : clamp(expected, 1e-4, 0.98);
    // The members' increments for q and y, memoised (a NaN q, which nothing should produce, is
    // computed as before).
    const incs = this.increments.incs;
    const memo = q === q ? this.increments.at(q) + y * this.k : -1;
    for (let i = 0; i < this.k; i++) {
      const m = i * MEMBER;
      let inc: number;
      if (memo >= 0) {
        inc = incs[memo + i]!;
        if (inc !== inc) continue; // no room above the baseline: nothing can rise
      } else {
        const p1 = Math.min(0.99, Math.max(st[m + RHO]! * q, q + this.cfg.minDelta));
        if (p1 <= q) continue;
        inc = y === 1 ? Math.log(p1 / q) : Math.log((1 - p1) / (1 - q));
      }
      if (st[m + S] === 0 && inc > 0) {
        st[m + LAST_ZERO] = t;
        st[m + FIRST_FAILURE] = t;
        st[m + FAILURES] = 0;
        st[m + UNITS] = 0;
      }
      st[m + S] = Math.max(0, st[m + S]! + inc);
      if (st[m + S] === 0) {
        st[m + FAILURES] = 0;
        st[m + UNITS] = 0;
      } else {
        st[m + UNITS]! += 1;
        st[m + FAILURES]! += y;
        above = true;
      }
    }
    if (!above) this.recipients = 0;
    else if (y === 1 && recipient !== null) this.addRecipient(recipient);

    if (!above || (this.incident === null && t < this.coolUntil)) return null;
    const armed = this.armed(t);
    let best = -1;
    for (let i = 0; i < this.k; i++) {
      const m = i * MEMBER;
      if (st[m + S]! >= this.cfg.thresholdNats && st[m + FAILURES]! >= this.cfg.minFailures && st[m + UNITS]! >= this.cfg.minUnits && (best < 0 || st[m + S]! > st[best + S]!)) best = m;
    }
    if (best < 0 || this.recipients < this.cfg.minDistinctRecipients) return null;
    const failures = st[best + FAILURES]!;
    const units = st[best + UNITS]!;
    // The rise must be a rise in the data, not only against the prior: a series that always fails
    // (its decayed baseline without the prior near 100%) cannot "rise" to 100%.
    const afterRate = failures / Math.max(1, units);
    const rawRate = this.rN > 0 ? this.rF / this.rN : p0;
    if (afterRate < Math.max(rawRate + this.cfg.minDelta, 1.5 * rawRate)) return null;
    if (this.incident !== null && afterRate < 3 * this.incident.postRate) {
      // A wobble inside the incident, not an escalation: absorb it into the baseline silently
      // (the recovery watch keeps its bins).
      this.rebaseline(afterRate, false);
      return null;
    }

    let earliest = st[best + LAST_ZERO]!;
    for (let i = 0; i < this.k; i++) {
      const m = i * MEMBER;
      if (st[m + S]! > 0 && st[m + LAST_ZERO]! < earliest) earliest = st[m + LAST_ZERO]!;
    }
    const alarm: Alarm = {
      kind: this.incident !== null ? 'update' : armed ? 'onset' : 'new_series_elevated',
      detectedAt: t,
      onsetAt: st[best + LAST_ZERO]!,
      onsetWindow: [earliest, st[best + FIRST_FAILURE]!],
      rho: st[best + RHO]!,
      evidenceNats: st[best + S]!,
      before: { rate: p0, failures: this.rF, units: this.rN },
      after: { rate: afterRate, failures, units, distinctRecipients: this.recipients },
    };
    // Re-baseline at the new level so the same episode does not alert again; watch for recovery
    // against the level before the incident (an escalation keeps it).
    const postRate = alarm.after.rate;
    this.incident = this.incident === null ? { oldRate: p0, since: t, postRate } : { ...this.incident, postRate };
    this.rebaseline(postRate, true);
    return alarm;
  }

  /** Sets the baseline to `rate` and restarts the CUSUMs (and the guard bins when `clearBins`). */
  private rebaseline(rate: number, clearBins: boolean): void {
    this.rF = this.rN * rate;
    if (clearBins) for (let b = 0; b < this.bins; b++) this.clearBin(b);
    this.resetMembers();
  }

  /** In an incident: recovered when the last full bins are back within 2x the old baseline. */
  private watchRecovery(t: number): Recovery | null {
    const inc = this.incident!;
    const idx = Math.floor(t / this.cfg.binMs);
    let f = 0;
    let n = 0;
    let bins = 0;
    for (let b = 0; b < this.bins; b++) {
      const i = this.binIndex(b);
      if (i >= 0 && i < idx && i >= idx - this.cfg.recoveryBins) {
        f += this.st[this.binsAt + b * BIN + BIN_F]!;
        n += this.st[this.binsAt + b * BIN + BIN_N]!;
        bins++;
      }
    }
    if (bins < this.cfg.recoveryBins || n < 10 || t - inc.since < this.cfg.recoveryBins * this.cfg.binMs) return null;
    const rate = f / n;
    if (rate > 2 * inc.oldRate + this.cfg.minDelta / 2) return null;
    this.incident = null;
    this.coolUntil = t + this.cfg.cooldownMs;
    this.resetMembers();
    // Back to the old level: the baseline follows the recent bins again.
    this.rF = this.rN * Math.max(rate, inc.oldRate);
    return { kind: 'recovery', recoveredAt: t, rate, failures: f, units: n };
  }
}
