/**
 * Onset detection over delivery units (ONSETS.md 3): attempts -> units -> series -> detectors ->
 * onset and recovery records with attribution.
 *
 * - Unit: one message x recipient domain, decided by the attempts within `unitWindowMs` of its first
 *   one (the recipients of one message at one domain are tried together); a failure of subtype k
 *   when any of them got a 5xx classified as k. Retries of a decided unit are not counted again.
 * - Units are released in time order once the stream's watermark (latest time - window) passes
 *   them, so batch and live runs over the same lines see the same sequence.
 * - Series: global, recipient provider, recipient domain. Domains are bounded by `maxDomains`:
 *   once full, a new domain is admitted only when a Count-Min sketch says it is busy or suddenly
 *   failing (then the least recently seen domain is dropped, and re-learns its baseline if it comes
 *   back); the others share a `rcpt_domain=(other)` series. Each series has one detector per
 *   subtype it has seen fail, created with the series' unit history and a prior from its parent.
 *   Global and provider detectors are risk-adjusted against each unit's domain baseline; an
 *   unadjusted global detector reports mix shifts. Inbound refusals, which have no denominator,
 *   get count-basis detectors per cause.
 * - Attribution reads a ring of recent units (bounded by time and count).
 * Pure reducer: no I/O, no clock; the same input gives the same records.
 */
import { classify } from '../classify/classify.js';
import { detectProvider } from '../classify/providers.js';
import type { SubtypeId } from '../classify/subtypes.js';
import { SUBTYPE_INFO } from '../classify/subtypes.js';
import type { DeliveryAttempt } from '../model/event.js';
import { CountMinSketch, hashPair } from './sketch.js';
import { FifoHashSet } from './fifo-set.js';
import { InboundRing } from './inbound-ring.js';
import { detach, Interner } from '../model/detach.js';
import { DEFAULT_COUNT, PoissonCusumBank, type CountAlarm, type CountRecovery } from './count.js';
import { UnitRing, type RingUnit } from './unit-ring.js';
import { attribute, type Attribute, type Attribution, type AttributedUnit, type AttributionTop } from './attribution.js';
import { BernoulliCusumBank, DEFAULT_DETECTOR, type Alarm, type DetectorConfig } from './detector.js';

export type SeriesLevel = 'global' | 'provider' | 'rcpt_domain';

/**
 * A change of the traffic itself, failures or not (a deploy marker): a value of an attribute that
 * carried under 5% of the units in the hour before now carries over half of the last 10 minutes.
 */
export interface AttributeChange {
  attribute: Attribute;
  from: string | null;
  to: string;
  changedAt: string;
  shareBefore: number;
  shareAfter: number;
  units: number;
}

/** An onset, recovery or attribute-change record (NDJSON schema 1, README "Onset records"). */
export interface OnsetRecord {
  type: 'onset' | 'new_series_elevated' | 'update' | 'recovery' | 'attribute_change' | 'incident' | 'mix_shift';
  /** For `update` records: the id of the onset the escalation belongs to. */
  onsetId?: string | null;
  /** For `incident` records: the onsets that share the cause (the first 50), latest record wins by id. */
  members?: { id: string; series: OnsetRecord['series']; onsetAt: string; before: number; after: number }[];
  /** For onsets: the nearest attribute change within 30 min before the onset, if any. */
  precedingChange?: AttributeChange | null;
  /** For attribute_change records. */
  change?: AttributeChange;
  schema: 1;
  id: string;
  series: { level: SeriesLevel; key: string; subtype: SubtypeId; provider: string | null; recipientDomain: string | null };
  /** `rate` over delivery units; `count` per minute where the log has no denominator (inbound refusals). */
  basis: 'rate' | 'count';
  unit: 'message_domain' | 'minute';
  detectedAt: string;
  onsetAt: string | null;
  onsetWindow: [string, string] | null;
  recoveredAt: string | null;
  before: { rate: number; failures: number; units: number } | null;
  after: { rate: number; failures: number; units: number; distinctRecipients: number } | null;
  ratio: number | null;
  deltaPp: number | null;
  evidence: { method: 'bernoulli_cusum_bank' | 'poisson_cusum_bank'; rho: number; evidenceNats: number; thresholdNats: number; pBound: number } | null;
  confidence: 'high' | 'medium' | 'low';
  attribution: Attribution | null;
  /** Failure rate per 5 minutes from an hour before the onset to detection (for sparklines). */
  timeline: { start: string; binMinutes: number; rates: number[] } | null;
  incidentId: string | null;
  summary: string;
  nextMove: string;
}

/** An attempt that failed a unit: a 5xx that did not end in `sent` (its reply is classified). */
export function failedAttempt(a: DeliveryAttempt): boolean {
  return a.code !== null && a.code >= 500 && a.code <= 599 && a.status !== 'sent';
}

/** A decided delivery unit, as the report counts it (denominators for rates). */
export interface DeliveryUnit {
  t: number;
  domain: string;
  provider: string;
  /** The subtype the unit failed with, null when it did not fail. */
  subtype: SubtypeId | null;
}

export interface OnsetOptions {
  /** Called with every decided unit (for rates in the report). */
  onUnit?: (unit: DeliveryUnit) => void;
  detector?: DetectorConfig;
  /** Attempts of one message x domain within this time form one unit (default 60 s). */
  unitWindowMs?: number;
  /** Recipient-domain series kept at once (default 20,000, about 12 MiB). */
  maxDomains?: number;
  /**
   * Detectors of recipient-domain series at once (default 2 x maxDomains = 40,000, about 24 MiB):
   * beyond it the least recently seen domain series leaves with its detectors (and re-learns its
   * baseline if it comes back), as when a new domain is admitted into a full table.
   */
  maxDomainDetectors?: number;
  /**
   * A recipient-domain series with no unit for this long leaves (default 24 h of log time), so the
   * table follows the domains that get mail now; one that comes back re-learns its baseline.
   */
  domainIdleMs?: number;
  /** Units kept for attribution (default 500,000 or 60 min, whichever is smaller). */
  ringUnits?: number;
  ringMs?: number;
  /** Prior failure rate of a subtype nobody has measured yet (0.5%: a typical bounce rate). */
  defaultPrior?: number;
}

interface Unit extends AttributedUnit {
  key: string;
  /** keyHash(key), for the decided set. */
  hash: number;
  domain: string;
  provider: string;
  subtype: SubtypeId | null;
  recipient: string;
}

interface Series {
  level: SeriesLevel;
  key: string;
  provider: string | null;
  domain: string | null;
  startedAt: number;
  /** Decayed units of the series (so a detector created late starts with its history). */
  units: number;
  decayedTo: number;
  detectors: Map<SubtypeId, BernoulliCusumBank>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The fields a record has when it is not an onset (recovery, attribute change): all empty. */
const NOT_AN_ONSET = {
  schema: 1,
  basis: 'rate',
  unit: 'message_domain',
  onsetAt: null,
  onsetWindow: null,
  before: null,
  ratio: null,
  deltaPp: null,
  evidence: null,
  confidence: 'medium',
  attribution: null,
  timeline: null,
  incidentId: null,
} as const;

/** The sending-side attributes watched for changes of their own. */
const WATCHED: readonly Attribute[] = ['relay', 'relay_ip', 'sender_domain', 'client_ip'];

/**
 * A 52-bit hash of a unit key (two 26-bit FNV-1a halves), so the decided set holds numbers instead
 * of strings: about 40 bytes per entry instead of 170 (500,000 entries: 20 MiB instead of 85). Two
 * different keys collide with probability 2^-52 per pair: at 500,000 entries, about one mistaken
 * "already decided" in 10^4 years of a busy relay.
 */
export function keyHash(key: string): number {
  const [a, b] = hashPair(key);
  return (a >>> 6) * 67108864 + (b >>> 6);
}

/**
 * Adds `n` to `key`'s count, dropping it at zero. Counts are boxed so an existing key costs one
 * lookup, not a get and a set (the watch moves hundreds of values a minute); a key keeps its place
 * in the map while counted, as with set() on an existing key.
 */
function addCount(m: Map<string, { n: number }>, key: string, n: number): void {
  const c = m.get(key);
  if (c === undefined) {
    if (n !== 0) m.set(key, { n });
  } else if ((c.n += n) === 0) m.delete(key);
}

/** The engine's counters before any unit (also the remote engine's until its first answer). */
export function emptyOnsetStats() {
  return { units: 0, failedUnits: 0, domainsEvicted: 0, onsets: 0, elevated: 0, updates: 0, recoveries: 0, incidents: 0, mixShifts: 0, domainsNotAdmitted: 0, detectorsRetired: 0, domainsIdled: 0 };
}

export class OnsetEngine {
  private readonly cfg: DetectorConfig;
  private readonly unitWindowMs: number;
  private readonly maxDomains: number;
  private readonly maxDomainDetectors: number;
  private domainDetectors = 0;
  private readonly domainIdleMs: number;
  private readonly ringUnits: number;
  private readonly ringMs: number;
  private readonly defaultPrior: number;
  private readonly onUnit: ((unit: DeliveryUnit) => void) | undefined;
  /** Units being decided, by message x domain, in first-attempt order. */
  private readonly pending = new Map<string, Unit>();
  /**
   * Units already decided (retries are not counted again), as key hashes: the last 500,000 (about a
   * day of a busy relay's retries), first in first out, in 8 MiB fixed from the start.
   */
  private readonly decided = new FifoHashSet(500_000);
  private latest = -Infinity;
  private readonly global: Series;
  private readonly providers = new Map<string, Series>();
  private readonly domains = new Map<string, Series>();
  private readonly ring: UnitRing;
  private incidents: { id: string; at: number; attribute: string; to: string; change: AttributionTop; members: NonNullable<OnsetRecord['members']> }[] = [];
  /** Inbound refusals per minute and subtype (count basis), with recent client IPs for concentration. */
  private readonly counts = new Map<SubtypeId, { det: PoissonCusumBank; current: number; recent: InboundRing }>();
  private countMinute = -1;
  private countStart = -1;
  /** Admission filter of domain series once `maxDomains` are tracked, and the series of the rest. */
  private readonly admitUnits = new CountMinSketch(10 * 60_000);
  private readonly admitFailures = new CountMinSketch(10 * 60_000);
  private other: Series | null = null;
  /** Unadjusted global detectors per subtype (mix shifts) and the last adjusted global alarm. */
  private readonly plain = new Map<SubtypeId, BernoulliCusumBank>();
  private readonly lastGlobalAlarm = new Map<SubtypeId, number>();
  /** The open onset of each series x subtype (until its recovery): escalations refer to it. */
  private readonly openOnsets = new Map<string, { id: string; incidentId: string | null }>();
  /**
   * Attribute-change watch: per-minute counts of each watched attribute's values (the last 70
   * minutes; at most 200 values per attribute and minute, the rest as `(others)`), recent
   * changes, and a cooldown per attribute.
   */
  private lastWatchMinute = -1;
  private readonly watchBuckets: {
    minute: number;
    n: number;
    recent: boolean;
    counts: Map<Attribute, Map<string, { n: number; first: number }>>;
    /** Per watched attribute (WATCHED order), the value that carried over half of the minute, once it ended. */
    major: (string | null)[] | null;
  }[] = [];
  /**
   * Sums over the buckets of the hour before the last 10 minutes (prior); the recent minutes' sums
   * are taken from their buckets for the few values that can qualify (see watchAttributes).
   */
  private readonly watchPrior = new Map<Attribute, Map<string, { n: number }>>(WATCHED.map((a) => [a, new Map()]));
  private watchRecentN = 0;
  private watchPriorN = 0;
  private readonly changes: AttributeChange[] = [];
  private readonly changeCooldown = new Map<Attribute, number>();
  readonly stats = emptyOnsetStats();

  constructor(
    private readonly emit: (record: OnsetRecord) => void,
    options: OnsetOptions = {},
  ) {
    this.cfg = options.detector ?? DEFAULT_DETECTOR;
    this.unitWindowMs = options.unitWindowMs ?? 60_000;
    this.maxDomains = options.maxDomains ?? 20_000;
    this.maxDomainDetectors = options.maxDomainDetectors ?? 2 * this.maxDomains;
    this.domainIdleMs = options.domainIdleMs ?? 24 * 3_600_000;
    this.ringUnits = options.ringUnits ?? 500_000;
    this.ringMs = options.ringMs ?? 60 * 60_000;
    this.ring = new UnitRing(this.ringUnits);
    this.defaultPrior = options.defaultPrior ?? 0.005;
    this.onUnit = options.onUnit;
    this.global = this.newSeries('global', '*', null, null, -Infinity);
  }

  /**
   * What the engine holds now, for tail summaries and the memory benchmark: every part is bounded
   * (pending by the unit window, decided 500,000, ring `ringUnits`/`ringMs`, domain series
   * `maxDomains`, their detectors by the subtypes failing now; see the README's limits).
   */
  state(): { pendingUnits: number; decidedKeys: number; ringUnits: number; domainSeries: number; domainDetectors: number; detectors: number } {
    let detectors = this.global.detectors.size + this.plain.size + (this.other?.detectors.size ?? 0);
    for (const s of this.providers.values()) detectors += s.detectors.size;
    for (const s of this.domains.values()) detectors += s.detectors.size;
    return { pendingUnits: this.pending.size, decidedKeys: this.decided.size, ringUnits: this.ring.size, domainSeries: this.domains.size, domainDetectors: this.domainDetectors, detectors };
  }

  /** Relay names, IPs, domains: one copy each for every unit and table that keeps them. */
  private readonly strings = new Interner();
  /** The provider of a relay host x recipient domain, remembered (a few thousand pairs; pure). */
  private readonly providerCache = new Map<string, string>();

  private providerOf(remoteHost: string | null, domain: string): string {
    const k = remoteHost === null ? domain : `${domain}\n${remoteHost}`;
    let p = this.providerCache.get(k);
    if (p === undefined) {
      p = detectProvider({ direction: 'outbound', remoteHost, text: '', recipientDomain: domain }).provider;
      if (this.providerCache.size >= 10_000) this.providerCache.clear();
      this.providerCache.set(detach(k), p);
    }
    return p;
  }

  /** One delivery attempt (outbound). Attempts without a time cannot be placed and are ignored. */
  attempt(a: DeliveryAttempt): void {
    if (a.timeMs === null || a.recipientDomain === null) return;
    const key = `${a.mtaHost ?? ''}|${a.messageKey}|${a.recipientDomain}`;
    const failed = failedAttempt(a);
    let subtype: SubtypeId | null = null;
    // The unit's provider comes from the host and the recipient domain only, never from reply text,
    // so a domain's successes and failures land in the same provider series.
    const u = this.pending.get(key);
    let hash = 0;
    const provider = u !== undefined ? null : this.providerOf(a.remoteHost, a.recipientDomain);
    if (failed) {
      const c = classify({
        reply: a.reply ?? '',
        direction: 'outbound',
        stage: a.stage,
        code: a.code,
        enhancedStatus: a.enhancedStatus,
        remoteHost: a.remoteHost,
        recipientDomain: a.recipientDomain,
      });
      subtype = c.subtype;
    }
    if (u !== undefined) {
      if (subtype !== null && u.subtype === null && a.timeMs - u.t <= this.unitWindowMs) {
        u.subtype = subtype;
        u.failed = true;
        u.recipient = detach(a.recipient);
      }
    } else if (!this.decided.has((hash = keyHash(key)))) {
      this.pending.set(key, {
        key,
        hash,
        t: a.timeMs,
        failed: subtype !== null,
        subtype,
        // The unit's strings outlive its line (pending, then the attribution ring's tables for up
        // to two hours): shared copies, not views that would keep whole log lines alive.
        domain: this.strings.get(a.recipientDomain),
        provider: provider ?? 'other',
        recipient: detach(a.recipient),
        attrs: {
          relay: this.strings.get(a.remoteHost ?? a.remoteIp ?? '(none)'),
          relay_ip: this.strings.get(a.remoteIp ?? '(none)'),
          sender_domain: a.sender === null ? '(none)' : a.sender === '' ? '<>' : this.strings.get(a.sender.slice(a.sender.lastIndexOf('@') + 1).toLowerCase()),
          client_ip: this.strings.get(a.clientIp ?? '(none)'),
          provider: provider ?? 'other',
        },
      });
    }
    if (a.timeMs > this.latest) this.latest = a.timeMs;
    this.release(this.latest - this.unitWindowMs);
  }

  /**
   * One inbound refusal (our server refused a client): counted per minute and cause, since the log
   * has no denominator for these (ONSETS.md 3.3, count-only fallback). Onsets come with
   * `basis: "count"` and at most medium confidence.
   */
  inbound(timeMs: number | null, subtype: SubtypeId, clientIp: string | null, recipient: string | null): void {
    if (timeMs === null) return;
    const minute = Math.floor(timeMs / 60_000);
    this.closeMinutes(minute);
    let c = this.counts.get(subtype);
    if (c === undefined) {
      c = { det: new PoissonCusumBank(), current: 0, recent: new InboundRing() };
      // A cause seen for the first time had no refusal in the minutes already seen (up to a week).
      c.det.seedZeros(Math.min(7 * 1440, minute - this.countStart));
      this.counts.set(subtype, c);
    }
    c.current++;
    // Kept for up to 20,000 refusals: shared copies, not views that would keep each whole log line alive.
    c.recent.push(minute, clientIp === null ? '(none)' : this.strings.get(clientIp), recipient === null ? null : keyHash(recipient));
  }

  /** Closes the minutes before `minute` for every counted cause (empty minutes count as zero). */
  private closeMinutes(minute: number): void {
    if (this.countMinute < 0) {
      this.countMinute = minute;
      this.countStart = minute;
    }
    if (minute <= this.countMinute) return;
    // At most a day of empty minutes is replayed; a longer gap (separate files) starts fresh.
    const from = Math.max(this.countMinute, minute - 1440);
    for (let m = from; m < minute; m++) {
      for (const [subtype, c] of this.counts) {
        const x = m === this.countMinute ? c.current : 0;
        const out = c.det.observe(m, x);
        if (out !== null) this.countRecord(subtype, c, out);
      }
    }
    for (const c of this.counts.values()) c.current = 0;
    this.countMinute = minute;
  }

  private countRecord(subtype: SubtypeId, c: { recent: InboundRing }, out: CountAlarm | CountRecovery): void {
    const series = { level: 'global' as const, key: `inbound|subtype=${subtype}`, subtype, provider: null, recipientDomain: null };
    const hhmm = (min: number) => iso(min * 60_000).slice(11, 16);
    if (out.kind === 'recovery') {
      this.stats.recoveries++;
      this.emit({
        type: 'recovery',
        id: `rc_inbound|${subtype}|${out.recoveredMin}`,
        ...NOT_AN_ONSET,
        basis: 'count',
        unit: 'minute',
        series,
        detectedAt: iso(out.recoveredMin * 60_000),
        recoveredAt: iso(out.recoveredMin * 60_000),
        after: { rate: out.perMinute, failures: out.count, units: out.minutes, distinctRecipients: 0 },
        summary: `inbound ${subtype} refusals back to ${out.perMinute.toFixed(2)} per minute (${out.count} in the last ${out.minutes} min)`,
        nextMove: SUBTYPE_INFO[subtype].nextMove,
      });
      return;
    }
    this.stats.onsets++;
    const window = c.recent.window(out.onsetMin, out.detectedMin);
    const byClient = new Map<string, number>();
    for (const r of window) byClient.set(r.client, (byClient.get(r.client) ?? 0) + 1);
    const [topClient, topCount] = [...byClient.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['(none)', 0];
    const share = window.length === 0 ? 0 : topCount / window.length;
    const recipients = new Set(window.map((r) => r.recipient).filter((x) => x !== null)).size;
    let summary = `inbound ${subtype} refusals rose from ${out.before.perMinute.toFixed(2)} to ${out.after.perMinute.toFixed(2)} per minute (${out.after.count} in ${out.after.minutes} min) at ~${hhmm(out.onsetMin)} (count basis: the log has no denominator)`;
    summary += share > 0.5 ? `; ${Math.round(100 * share)}% from client ${topClient}` : `; from ${byClient.size} clients`;
    this.emit({
      type: 'onset',
      schema: 1,
      id: `on_inbound|${subtype}|${out.onsetMin * 60_000}`.replace(/[^\w|=.@-]/g, '_'),
      series,
      basis: 'count',
      unit: 'minute',
      detectedAt: iso(out.detectedMin * 60_000),
      onsetAt: iso(out.onsetMin * 60_000),
      onsetWindow: [iso(out.onsetMin * 60_000), iso(out.onsetMin * 60_000 + 60_000)],
      recoveredAt: null,
      before: { rate: out.before.perMinute, failures: 0, units: out.before.minutes },
      after: { rate: out.after.perMinute, failures: out.after.count, units: out.after.minutes, distinctRecipients: recipients },
      ratio: out.after.perMinute / out.before.perMinute,
      deltaPp: null,
      evidence: { method: 'poisson_cusum_bank', rho: out.rho, evidenceNats: out.evidenceNats, thresholdNats: DEFAULT_COUNT.thresholdNats, pBound: Math.min(1, DEFAULT_COUNT.rhos.length * Math.exp(-out.evidenceNats)) },
      // Counts without a denominator cannot tell a rise in traffic from a rise in refusals.
      confidence: out.after.count >= 30 && share > 0.5 ? 'medium' : 'low',
      attribution: null,
      timeline: null,
      incidentId: null,
      summary,
      nextMove: SUBTYPE_INFO[subtype].nextMove,
    });
  }

  /**
   * Live mode: the log has been quiet, so let time pass up to `timeMs` as if it had gone on (units
   * whose window closed by then are decided).
   */
  advance(timeMs: number): void {
    if (this.countMinute >= 0) this.closeMinutes(Math.floor(timeMs / 60_000));
    if (timeMs > this.latest) this.latest = timeMs;
    this.release(this.latest - this.unitWindowMs);
  }

  /** Releases every unit still being decided; call at the end of input. */
  flush(): void {
    if (this.countMinute >= 0) this.closeMinutes(this.countMinute + 1);
    this.release(Infinity);
  }

  private release(watermark: number): void {
    if (this.pending.size === 0) return;
    const ready: Unit[] = [];
    // Insertion order is time order up to small disorder (merged hosts): stop at the first unit
    // not yet due; a slightly older one behind it waits for the next release (still in time order,
    // since every released batch is sorted and later units are later still).
    for (const u of this.pending.values()) {
      if (u.t + this.unitWindowMs > watermark) break;
      ready.push(u);
    }
    if (ready.length === 0) return;
    ready.sort((a, b) => a.t - b.t || (a.key < b.key ? -1 : 1));
    for (const u of ready) {
      this.pending.delete(u.key);
      this.decided.add(u.hash);
      this.unit(u);
    }
  }

  /** Drops the least recently seen domain series and its detectors. */
  private evictOldestDomain(): void {
    const [key, series] = this.domains.entries().next().value as [string, Series];
    this.domains.delete(key);
    this.domainDetectors -= series.detectors.size;
    for (const subtype of series.detectors.keys()) this.openOnsets.delete(`${series.key}|subtype=${subtype}`);
    this.stats.domainsEvicted++;
  }

  /** Domain series in least-recently-seen order: those idle for `domainIdleMs` leave. */
  private evictIdleDomains(now: number): void {
    for (;;) {
      const head = this.domains.values().next();
      if (head.done === true || head.value.decayedTo >= now - this.domainIdleMs) return;
      this.evictOldestDomain();
      this.stats.domainsIdled++;
    }
  }

  private newSeries(level: SeriesLevel, key: string, provider: string | null, domain: string | null, t: number): Series {
    // Series live for hours: their strings must not keep the log lines they came from.
    return { level, key: detach(key), provider: provider === null ? null : detach(provider), domain: domain === null ? null : detach(domain), startedAt: t, units: 0, decayedTo: t, detectors: new Map() };
  }

  /**
   * The series a unit feeds (global, provider, domain), filled by seriesFor(): one array for the
   * engine rather than a new one per unit (unit() reads it before anything can call seriesFor again).
   */
  private readonly chain: Series[] = [];

  private seriesFor(u: Unit): Series[] {
    let p = this.providers.get(u.provider);
    if (p === undefined) {
      p = this.newSeries('provider', `provider=${u.provider}`, u.provider, null, u.t);
      this.providers.set(u.provider, p);
    }
    let d = this.domains.get(u.domain);
    if (d === undefined) {
      if (this.domains.size >= this.maxDomains) {
        // Full: admit only a domain that is busy or suddenly failing (Count-Min admission); the
        // rest share one `(other)` series, so their failures still count at every level.
        const units = this.admitUnits.add(u.domain, u.t);
        const failures = u.failed ? this.admitFailures.add(u.domain, u.t) : 0;
        if (units < 50 && failures < 10) {
          this.stats.domainsNotAdmitted++;
          if (this.other === null) this.other = this.newSeries('rcpt_domain', 'rcpt_domain=(other)', null, '(other)', u.t);
          return this.fillChain(p, this.other);
        }
        this.evictOldestDomain();
      }
      d = this.newSeries('rcpt_domain', `rcpt_domain=${u.domain}`, u.provider, u.domain, u.t);
      this.domains.set(u.domain, d);
    } else {
      this.domains.delete(u.domain);
      this.domains.set(u.domain, d);
    }
    return this.fillChain(p, d);
  }

  private fillChain(provider: Series, domain: Series): Series[] {
    const c = this.chain;
    c[0] = this.global;
    c[1] = provider;
    c[2] = domain;
    return c;
  }

  /** The last decay exponent's input and result (units of a burst share the gap since the last one). */
  private powDt = 0;
  private powK = 1;

  /** Math.pow(0.5, dt / halfLifeMs), remembered for the last dt (the same value, not an approximation). */
  private seriesDecay(dt: number): number {
    if (dt !== this.powDt) {
      this.powDt = dt;
      this.powK = Math.pow(0.5, dt / this.cfg.halfLifeMs);
    }
    return this.powK;
  }

  private unit(u: Unit): void {
    const minute = Math.floor(u.t / 60_000);
    if (minute > this.lastWatchMinute) {
      if (this.lastWatchMinute >= 0) {
        this.foldWatchBucket();
        this.watchAttributes(u.t, minute);
      }
      this.lastWatchMinute = minute;
      this.watchBuckets.push({ minute, n: 0, recent: true, counts: new Map(WATCHED.map((a) => [a, new Map()])), major: null });
      this.trimWatch(minute);
      this.evictIdleDomains(u.t);
    }
    const bucket = this.watchBuckets[this.watchBuckets.length - 1]!;
    bucket.n++;
    this.watchRecentN++;
    for (const a of WATCHED) {
      const m = bucket.counts.get(a)!;
      let v = u.attrs[a];
      let c = m.get(v);
      if (c === undefined) {
        // A value new this minute becomes a key of the watch tables for 70 minutes: a copy of it.
        v = m.size >= 200 ? '(others)' : detach(v);
        c = m.get(v);
        if (c === undefined) m.set(v, { n: 1, first: u.t });
        else c.n++;
      } else c.n++;
    }
    this.onUnit?.({ t: u.t, domain: u.domain, provider: u.provider, subtype: u.subtype });
    this.stats.units++;
    if (u.failed) this.stats.failedUnits++;
    this.ring.push(u);
    while (this.ring.size > this.ringUnits || this.ring.oldest < u.t - 2 * this.ringMs) this.ring.shift();
    const chain = this.seriesFor(u);
    for (let level = 0; level < chain.length; level++) {
      const s = chain[level]!;
      if (s.startedAt === -Infinity) {
        s.startedAt = u.t;
        s.decayedTo = u.t;
      }
      // The series' own decayed unit count, for detectors created later.
      const k = this.seriesDecay(Math.max(0, u.t - s.decayedTo));
      s.units = s.units * k + 1;
      s.decayedTo = Math.max(s.decayedTo, u.t);
      if (u.subtype !== null && !s.detectors.has(u.subtype)) {
        const parent = level === 0 ? null : chain[level - 1]!.detectors.get(u.subtype);
        const prior = parent?.rate() ?? this.defaultPrior;
        const det = new BernoulliCusumBank(s.startedAt, { rate: prior, weight: Math.max(50, 5 / prior) }, this.cfg);
        det.seedUnits(s.units - 1, u.t);
        s.detectors.set(u.subtype, det);
        if (level === 2 && ++this.domainDetectors > this.maxDomainDetectors) {
          // Over the detector budget: the least recently seen domains leave (never this one, which
          // was just seen and so is the most recent).
          while (this.domainDetectors > this.maxDomainDetectors && this.domains.size > 1) this.evictOldestDomain();
        }
      }
      // forEach, not for...of: no iterator and no [key, value] pair per detector and unit. Deleting
      // the current entry (a retired detector) is as safe as in for...of.
      s.detectors.forEach((det, subtype) => {
        const y = u.subtype === subtype ? 1 : 0;
        // Aggregate levels are risk-adjusted: each unit is judged against its own domain's (else
        // its provider's) baseline for the subtype, so more mail to a domain that always fails more
        // is not an onset (ONSETS.md 3.3). The domain level is the finest: its own baseline.
        const finest = level === 2 ? undefined : (chain[2]!.detectors.get(subtype) ?? (level === 0 ? chain[1]!.detectors.get(subtype) : undefined));
        const out = det.observe(u.t, y, y === 1 ? u.recipient : null, finest?.expectedRate());
        if (out !== null) {
          if (out.kind === 'recovery') this.recovery(s, subtype, out.recoveredAt, out.rate, out.failures, out.units);
          else {
            if (level === 0) this.lastGlobalAlarm.set(subtype, u.t);
            this.onset(s, subtype, out);
          }
        }
        if (level === 0) this.watchMix(s, subtype, u, y);
        else if (level === 2 && y === 0 && det.atRest(u.t)) {
          s.detectors.delete(subtype);
          this.domainDetectors--;
          this.stats.detectorsRetired++;
        }
      });
    }
  }

  /**
   * The unadjusted global rate, for mix shifts: when it steps up while the risk-adjusted detector
   * stays quiet, more mail went to domains that always fail more. Reported as `mix_shift`, never
   * as an onset (ONSETS.md 3.3).
   */
  private watchMix(s: Series, subtype: SubtypeId, u: Unit, y: 0 | 1): void {
    let det = this.plain.get(subtype);
    if (det === undefined) {
      const prior = s.detectors.get(subtype)?.rate() ?? this.defaultPrior;
      det = new BernoulliCusumBank(s.startedAt, { rate: prior, weight: Math.max(50, 5 / prior) }, this.cfg);
      det.seedUnits(s.units - 1, u.t);
      this.plain.set(subtype, det);
    }
    const out = det.observe(u.t, y, y === 1 ? u.recipient : null);
    if (out === null || out.kind === 'recovery' || out.kind === 'update' || out.kind === 'new_series_elevated') return;
    const adjusted = this.lastGlobalAlarm.get(subtype);
    if (adjusted !== undefined && Math.abs(adjusted - u.t) <= 30 * 60_000) return; // the onset covers it
    this.stats.mixShifts++;
    const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
    const domains = new Map<string, number>();
    for (const x of this.unitsOf(s, out.onsetAt)) if (x.subtype === subtype) domains.set(x.domain, (domains.get(x.domain) ?? 0) + 1);
    const top = [...domains.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([d, k]) => `${d} ${k}`);
    this.emit({
      type: 'mix_shift',
      id: `mx_*|${subtype}|${out.onsetAt}`.replace(/[^\w|=.@-]/g, '_'),
      ...NOT_AN_ONSET,
      series: { level: 'global', key: `*|subtype=${subtype}`, subtype, provider: null, recipientDomain: null },
      detectedAt: iso(out.detectedAt),
      onsetAt: iso(out.onsetAt),
      before: { rate: out.before.rate, failures: Math.round(out.before.failures * 10) / 10, units: Math.round(out.before.units * 10) / 10 },
      after: out.after,
      recoveredAt: null,
      summary:
        `all recipient domains ${subtype} rejections rose from ${pct(out.before.rate)} to ${pct(out.after.rate)} at ~${iso(out.onsetAt).slice(11, 16)}, ` +
        `but each domain kept its own rate: more mail went to domains that always refuse more (${top.join(', ') || 'no failures listed'})`,
      nextMove: 'A change in where mail goes, not in how it is received: check the campaign or list that sent to these domains.',
    });
  }

  /**
   * Once per minute of stream time: for the sending-side attributes over all traffic, a value new
   * in the last 10 minutes (under 5% of the hour before, over 50% now, at least 20 units) is an
   * attribute change; one per attribute per hour.
   */
  /**
   * Moves the watch window to `minute`: buckets older than 10 minutes leave the recent counts for
   * the prior ones. The sums are kept incrementally, so a minute costs what changed, not a walk over
   * 70 buckets of up to 200 values (which was a third of a busy run's time).
   */
  private shiftWatch(minute: number): void {
    for (const b of this.watchBuckets) {
      if (!b.recent) continue;
      if (b.minute >= minute - 10) break;
      b.recent = false;
      this.watchRecentN -= b.n;
      this.watchPriorN += b.n;
      for (const a of WATCHED) {
        const prior = this.watchPrior.get(a)!;
        for (const [v, c] of b.counts.get(a)!) addCount(prior, v, c.n);
      }
    }
  }

  /**
   * Adds the minute that just ended to the recent sums (once per minute, not per unit: the sums are
   * read only when a minute ends). Values enter the sums in the order the minute first saw them,
   * as they would unit by unit.
   */
  private foldWatchBucket(): void {
    const b = this.watchBuckets[this.watchBuckets.length - 1];
    if (b === undefined) return;
    b.major = WATCHED.map((a) => {
      let major: string | null = null;
      for (const [v, c] of b.counts.get(a)!) if (2 * c.n > b.n) major = v;
      return major;
    });
  }

  private trimWatch(minute: number): void {
    while (this.watchBuckets.length > 0 && this.watchBuckets[0]!.minute < minute - 70) {
      const b = this.watchBuckets.shift()!;
      if (b.recent) {
        this.watchRecentN -= b.n;
        continue;
      }
      this.watchPriorN -= b.n;
      for (const a of WATCHED) for (const [v, c] of b.counts.get(a)!) addCount(this.watchPrior.get(a)!, v, -c.n);
    }
  }

  private watchAttributes(now: number, minute: number): void {
    this.shiftWatch(minute);
    const nRecent = this.watchRecentN;
    const nPrior = this.watchPriorN;
    if (nRecent < 20 || nPrior < 50) return;
    for (const [ai, a] of WATCHED.entries()) {
      if ((this.changeCooldown.get(a) ?? -Infinity) > now) continue;
      const prior = this.watchPrior.get(a)!;
      // Only a value over half of the recent units can qualify, so at most one; and a value over half
      // of the recent minutes together is over half of at least one of them: its majority value. So
      // the candidates are the recent minutes' majority values, not every value seen (thousands of
      // client IPs, once a minute).
      // The recent buckets are the last ones (shiftWatch retires them oldest first): the sums start
      // at the first. Their majority values mostly repeat (the same relay minute after minute): a
      // value already weighed gives the same answer again (it did not qualify, or the loop would
      // have ended).
      let firstRecent = 0;
      while (firstRecent < this.watchBuckets.length && !this.watchBuckets[firstRecent]!.recent) firstRecent++;
      const weighed: string[] = [];
      for (const bucket of this.watchBuckets) {
        const value = bucket.recent ? (bucket.major?.[ai] ?? null) : null;
        if (value === null || value === '(others)' || weighed.includes(value)) continue;
        weighed.push(value);
        let n = 0;
        for (let i = firstRecent; i < this.watchBuckets.length; i++) {
          const b = this.watchBuckets[i]!;
          if (b.recent) n += b.counts.get(a)!.get(value)?.n ?? 0;
        }
        const shareAfter = n / nRecent;
        const shareBefore = (prior.get(value)?.n ?? 0) / nPrior;
        if (value === '(others)' || shareAfter <= 0.5 || shareBefore >= 0.05) continue;
        let from: string | null = null;
        let best = 0;
        for (const [v, k] of prior) if (k.n > best) [from, best] = [v, k.n];
        let first = Infinity;
        for (const b of this.watchBuckets) {
          const f = b.recent && b.minute < minute ? b.counts.get(a)!.get(value)?.first : undefined;
          if (f !== undefined && f < first) first = f;
        }
        const c = { n, first };
        const change: AttributeChange = { attribute: a, from, to: value, changedAt: iso(c.first), shareBefore, shareAfter, units: c.n };
        this.changes.push(change);
        if (this.changes.length > 100) this.changes.shift();
        this.changeCooldown.set(a, now + 60 * 60_000);
        this.emit({
          type: 'attribute_change',
          id: `ac_${a}|${value}|${c.first}`.replace(/[^\w|=.@-]/g, '_'),
          change,
          ...NOT_AN_ONSET,
          series: { level: 'global', key: '*', subtype: 'other_or_unclassified', provider: null, recipientDomain: null },
          detectedAt: iso(now),
          recoveredAt: null,
          after: null,
          summary: `${a} changed ${from ?? '(none)'} -> ${value} at ${iso(c.first).slice(11, 16)} (${Math.round(100 * shareBefore)}% of the hour before, ${Math.round(100 * shareAfter)}% of the last 10 minutes)`,
          nextMove: 'A change of the sending path: watch the refusal rates of the next minutes.',
        });
        break;
      }
    }
  }

  private unitsOf(s: Series, from: number): RingUnit[] {
    const out: RingUnit[] = [];
    for (const u of this.ring.since(from)) {
      if (s.level === 'global' || (s.level === 'provider' && u.provider === s.provider) || (s.level === 'rcpt_domain' && u.domain === s.domain)) out.push(u);
    }
    return out;
  }

  private onset(s: Series, subtype: SubtypeId, a: Alarm): void {
    if (a.kind === 'onset') this.stats.onsets++;
    else if (a.kind === 'update') this.stats.updates++;
    else this.stats.elevated++;
    const windowStart = a.onsetAt - this.ringMs;
    const units = this.unitsOf(s, windowStart).map((u) => ({ ...u, failed: u.subtype === subtype }));
    const attribution = attribute(units, a.onsetAt, a.before.rate, this.ringMs);
    // Per-5-minute failure rate of this subtype, from the window start to detection.
    const bin = 5 * 60_000;
    // At most the 4 hours before detection (48 bins): an onset estimated long ago (a sparse series,
    // or inputs with a gap of months) must not make a record of a million bins.
    const start = Math.floor(Math.max(windowStart, a.detectedAt - 4 * 3_600_000) / bin) * bin;
    const nBins = Math.max(1, Math.ceil((a.detectedAt - start) / bin) + 1);
    const f = new Array<number>(nBins).fill(0);
    const n = new Array<number>(nBins).fill(0);
    for (const u of units) {
      const i = Math.floor((u.t - start) / bin);
      if (i < 0 || i >= nBins) continue;
      n[i]!++;
      if (u.failed) f[i]!++;
    }
    const rates = n.map((x, i) => (x === 0 ? 0 : f[i]! / x));
    const top = attribution.top;
    const seriesKey = `${s.key}|subtype=${subtype}`;
    const open = this.openOnsets.get(seriesKey);
    let incidentId: string | null = a.kind === 'update' ? (open?.incidentId ?? null) : null;
    let incident: (typeof this.incidents)[number] | undefined;
    if (top !== null && a.kind !== 'update') {
      incident = this.incidents.find((x) => x.attribute === top.attribute && x.to === top.to && Math.abs(x.at - a.onsetAt) <= 10 * 60_000);
      if (incident === undefined) {
        incident = { id: `inc_${iso(top.changedAt).slice(0, 16)}_${top.attribute}`, at: a.onsetAt, attribute: top.attribute, to: top.to, change: top, members: [] };
        this.incidents.push(incident);
        if (this.incidents.length > 100) this.incidents.shift();
      }
      incidentId = incident.id;
    }
    const label = s.level === 'global' ? 'all recipient domains' : s.level === 'provider' ? `provider ${s.provider}` : s.domain!;
    const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
    const hhmm = (ms: number) => iso(ms).slice(11, 16);
    let summary =
      a.kind === 'onset'
        ? `${label} ${subtype} rejections rose from ${pct(a.before.rate)} to ${pct(a.after.rate)} (${a.after.failures}/${a.after.units} messages) at ~${hhmm(a.onsetAt)}`
        : a.kind === 'update'
          ? `${label} ${subtype} rejections escalated from ${pct(a.before.rate)} to ${pct(a.after.rate)} (${a.after.failures}/${a.after.units} messages) at ~${hhmm(a.onsetAt)}, within the incident that began earlier`
          : `${label} (too new or sparse for a baseline of its own) has ${subtype} rejections at ${pct(a.after.rate)} (${a.after.failures}/${a.after.units} messages) since ~${hhmm(a.onsetAt)}, against ${pct(a.before.rate)} expected`;
    if (top !== null) summary += `; coincides with ${top.attribute} change ${top.from ?? '(new)'} -> ${top.to} at ${hhmm(top.changedAt)}`;
    else if (attribution.concentration !== null) summary += `; concentrated on ${attribution.concentration.attribute} ${attribution.concentration.value}`;
    else summary += '; no attribute change found';
    const glrStrong = a.after.failures >= 20 && a.after.distinctRecipients >= 10;
    const id = `${{ onset: 'on', update: 'up', new_series_elevated: 'ne' }[a.kind]}_${s.key}|${subtype}|${a.onsetAt}`.replace(/[^\w|=.@-]/g, '_');
    const series = { level: s.level, key: seriesKey, subtype, provider: s.provider, recipientDomain: s.domain };
    if (a.kind === 'onset') this.openOnsets.set(seriesKey, { id, incidentId });
    this.emit({
      type: a.kind,
      ...(a.kind === 'update' ? { onsetId: open?.id ?? null } : {}),
      schema: 1,
      id,
      series,
      basis: 'rate',
      unit: 'message_domain',
      detectedAt: iso(a.detectedAt),
      onsetAt: iso(a.onsetAt),
      onsetWindow: [iso(a.onsetWindow[0]), iso(a.onsetWindow[1])],
      recoveredAt: null,
      before: { rate: a.before.rate, failures: Math.round(a.before.failures * 10) / 10, units: Math.round(a.before.units * 10) / 10 },
      after: a.after,
      ratio: a.after.rate / a.before.rate,
      deltaPp: 100 * (a.after.rate - a.before.rate),
      evidence: {
        method: 'bernoulli_cusum_bank',
        rho: a.rho,
        evidenceNats: a.evidenceNats,
        thresholdNats: this.cfg.thresholdNats,
        pBound: Math.min(1, this.cfg.rhos.length * Math.exp(-a.evidenceNats)),
      },
      confidence: glrStrong && (top !== null || attribution.concentration !== null) ? 'high' : a.after.failures >= 10 ? 'medium' : 'low',
      attribution,
      timeline: { start: iso(start), binMinutes: 5, rates },
      incidentId,
      precedingChange: [...this.changes].reverse().find((c) => Date.parse(c.changedAt) <= a.onsetAt + 60_000 && Date.parse(c.changedAt) >= a.onsetAt - 30 * 60_000) ?? null,
      summary,
      nextMove: SUBTYPE_INFO[subtype].nextMove,
    });
    if (incident !== undefined && a.kind === 'onset') this.incidentRecord(incident, { id, series, onsetAt: iso(a.onsetAt), before: a.before.rate, after: a.after.rate }, a.detectedAt);
  }

  /**
   * Onsets that share a cause (the same attribute change within 10 minutes) form one incident
   * (ONSETS.md 3.7): from its second member on, an `incident` record lists them; each new member
   * re-emits it with the same id (consumers keep the latest).
   */
  private incidentRecord(inc: (typeof this.incidents)[number], member: NonNullable<OnsetRecord['members']>[number], at: number): void {
    if (inc.members.length < 50) inc.members.push(member);
    if (inc.members.length < 2) return;
    this.stats.incidents++;
    const c = inc.change;
    const names = inc.members.map((m) => (m.series.level === 'global' ? 'all domains' : m.series.level === 'provider' ? `provider ${m.series.provider}` : m.series.recipientDomain)).join(', ');
    this.emit({
      type: 'incident',
      id: inc.id,
      ...NOT_AN_ONSET,
      incidentId: inc.id,
      series: { ...inc.members[0]!.series },
      members: inc.members.map((m) => ({ ...m, series: { ...m.series } })),
      change: { attribute: c.attribute, from: c.from, to: c.to, changedAt: iso(c.changedAt), shareBefore: c.shareBefore, shareAfter: c.shareAfter, units: 0 },
      detectedAt: iso(at),
      recoveredAt: null,
      after: null,
      summary: `${inc.members.length} series rose together after ${c.attribute} changed ${c.from ?? '(new)'} -> ${c.to} at ${iso(c.changedAt).slice(11, 16)}: ${names}`,
      nextMove: `One change explains these onsets: check the ${c.attribute} change to ${c.to} (roll it back, or fix its authentication and reputation) before treating each series on its own.`,
    });
  }

  private recovery(s: Series, subtype: SubtypeId, at: number, rate: number, failures: number, units: number): void {
    this.stats.recoveries++;
    this.openOnsets.delete(`${s.key}|subtype=${subtype}`);
    const label = s.level === 'global' ? 'all recipient domains' : s.level === 'provider' ? `provider ${s.provider}` : s.domain!;
    this.emit({
      type: 'recovery',
      id: `rc_${s.key}|${subtype}|${at}`.replace(/[^\w|=.@-]/g, '_'),
      ...NOT_AN_ONSET,
      series: { level: s.level, key: `${s.key}|subtype=${subtype}`, subtype, provider: s.provider, recipientDomain: s.domain },
      detectedAt: iso(at),
      recoveredAt: iso(at),
      after: { rate, failures, units, distinctRecipients: 0 },
      summary: `${label} ${subtype} rejections back to ${(100 * rate).toFixed(2)}% (${failures}/${units} messages in the last 15 min)`,
      nextMove: SUBTYPE_INFO[subtype].nextMove,
    });
  }
}

