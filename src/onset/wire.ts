/**
 * The messages between the main thread and the onset worker (remote.ts, worker.ts), in a compact
 * form (#11). A structured clone of 256 objects of 14 fields each cost the main thread about 0.6 s
 * of an 8.6 s run (Postfix 1M): V8 writes every property name with every object and the worker
 * rebuilds every object. Here a batch is one string (every string field, concatenated) plus typed
 * arrays of lengths and numbers, moved (transferred) rather than copied: the main thread appends,
 * the structured clone copies one flat string, the worker cuts the fields back out.
 *
 * Strings round-trip exactly: each field's length is sent (-1 for null), never a separator, so a
 * reply may hold any character. Numbers go as float64 with a null flag in the record's kind byte.
 *
 * Units come back the same way; their domain, provider and subtype repeat across the run, so they go
 * as indexes into a table both sides build (each new string sent once), which also hands the main
 * thread one shared copy of each instead of a fresh string per unit.
 */
import { SUBTYPES, type SubtypeId } from '../classify/subtypes.js';
import type { DeliveryAttempt } from '../model/event.js';
import { detach } from '../model/detach.js';
import type { Stage } from '../model/records.js';
import { failedAttempt, type DeliveryUnit } from './engine.js';

/** Record kinds (low bits of a kind byte) and the null flags of its number fields. */
const ATTEMPT = 1;
const INBOUND = 2;
const FLUSH = 3;
const KIND_MASK = 7;
/** The record's first number (attempt or inbound time) is null. */
const NULL_N0 = 8;
/** The record's second number (attempt code) is null. */
const NULL_N1 = 16;

/** String fields per attempt (mtaHost ... clientIp) and per inbound refusal (subtype, client, recipient). */
const ATTEMPT_STRINGS = 12;
const INBOUND_STRINGS = 3;

/** A batch of engine inputs as it crosses to the worker (the buffers are transferred). */
export interface WireBatch {
  /** Every non-null string field, in record and field order, concatenated. */
  text: string;
  /** Per record: its kind and null flags. */
  kinds: Uint8Array<ArrayBuffer>;
  /** Per string field: its length in UTF-16 code units, -1 for null. */
  lens: Int32Array<ArrayBuffer>;
  /** Per number field: its value (0 when null). */
  nums: Float64Array<ArrayBuffer>;
  /** Records in the batch. */
  n: number;
}

/**
 * Builds batches on the main thread. Appending is all it does per input (no object per attempt);
 * `take()` hands over the batch and starts a new one.
 */
export class BatchEncoder {
  private parts: string[] = [];
  private kinds: Uint8Array<ArrayBuffer>;
  private lens: Int32Array<ArrayBuffer>;
  private nums: Float64Array<ArrayBuffer>;
  private n = 0;
  private nl = 0;
  private nn = 0;

  /** `capacity`: most records a batch will hold. */
  constructor(private readonly capacity: number) {
    this.kinds = new Uint8Array(capacity);
    this.lens = new Int32Array(capacity * ATTEMPT_STRINGS);
    this.nums = new Float64Array(capacity * 2);
  }

  get size(): number {
    return this.n;
  }

  private str(s: string | null): void {
    if (s === null) this.lens[this.nl++] = -1;
    else {
      this.lens[this.nl++] = s.length;
      if (s.length > 0) this.parts.push(s);
    }
  }

  private room(): void {
    if (this.n >= this.capacity) throw new Error('onset wire: batch over capacity');
  }

  /**
   * One delivery attempt: the fields the engine reads. `reply` is passed separately (the caller sends
   * a failure's only: a success's reply is never classified).
   */
  attempt(a: DeliveryAttempt, reply: string | null): void {
    this.room();
    let kind = ATTEMPT;
    if (a.timeMs === null) kind |= NULL_N0;
    else this.nums[this.nn] = a.timeMs;
    if (a.code === null) kind |= NULL_N1;
    else this.nums[this.nn + 1] = a.code;
    this.nn += 2;
    this.kinds[this.n++] = kind;
    this.str(a.mtaHost);
    this.str(a.messageKey);
    this.str(a.recipient);
    this.str(a.recipientDomain);
    this.str(a.status);
    this.str(a.enhancedStatus);
    this.str(reply);
    this.str(a.stage);
    this.str(a.remoteHost);
    this.str(a.remoteIp);
    this.str(a.sender);
    this.str(a.clientIp);
  }

  inbound(t: number | null, subtype: SubtypeId, client: string | null, recipient: string | null): void {
    this.room();
    if (t === null) this.kinds[this.n++] = INBOUND | NULL_N0;
    else {
      this.nums[this.nn] = t;
      this.kinds[this.n++] = INBOUND;
    }
    this.nn++;
    this.str(subtype);
    this.str(client);
    this.str(recipient);
  }

  flush(): void {
    this.room();
    this.kinds[this.n++] = FLUSH;
  }

  /** The batch so far (its buffers to be transferred), and a fresh one started. */
  take(): WireBatch {
    const batch: WireBatch = { text: this.parts.join(''), kinds: this.kinds, lens: this.lens, nums: this.nums, n: this.n };
    this.parts = [];
    this.kinds = new Uint8Array(this.capacity);
    this.lens = new Int32Array(this.capacity * ATTEMPT_STRINGS);
    this.nums = new Float64Array(this.capacity * 2);
    this.n = 0;
    this.nl = 0;
    this.nn = 0;
    return batch;
  }
}

/** What a decoded batch is fed to (the engine's own methods, in the worker). */
export interface BatchSink {
  attempt(a: DeliveryAttempt): void;
  inbound(t: number | null, subtype: SubtypeId, client: string | null, recipient: string | null): void;
  flush(): void;
}

const SUBTYPE_BY_NAME: ReadonlyMap<string, SubtypeId> = new Map(SUBTYPES.map((s) => [s, s]));

/**
 * Feeds a batch to `sink` in order. Fields are cut out of the batch's text, so a field of 13 or more
 * characters is a view that keeps the whole text (tens of KiB) alive while it lives: the engine keeps
 * its long-lived strings as detached copies already (series, ring, watch tables), and the fields a
 * failure's classification may memoise (reply, relay, domain) are detached here. The attempt object
 * is reused: the engine reads it and keeps none of it.
 */
export function decodeBatch(b: WireBatch, sink: BatchSink): void {
  const { text, kinds, lens, nums } = b;
  let at = 0;
  let li = 0;
  let ni = 0;
  const str = (): string | null => {
    const len = lens[li++]!;
    if (len < 0) return null;
    const s = text.slice(at, at + len);
    at += len;
    return s;
  };
  const a: DeliveryAttempt = {
    timeMs: null,
    mtaHost: null,
    messageKey: '',
    recipient: '',
    recipientDomain: null,
    status: '',
    code: null,
    enhancedStatus: null,
    reply: null,
    stage: 'unknown',
    remoteHost: null,
    remoteIp: null,
    sender: null,
    clientIp: null,
  };
  for (let r = 0; r < b.n; r++) {
    const kind = kinds[r]!;
    switch (kind & KIND_MASK) {
      case ATTEMPT: {
        a.timeMs = kind & NULL_N0 ? null : nums[ni]!;
        a.code = kind & NULL_N1 ? null : nums[ni + 1]!;
        ni += 2;
        a.mtaHost = str();
        a.messageKey = str()!;
        a.recipient = str()!;
        a.recipientDomain = str();
        a.status = str()!;
        a.enhancedStatus = str();
        a.reply = str();
        a.stage = str() as Stage;
        a.remoteHost = str();
        a.remoteIp = str();
        a.sender = str();
        a.clientIp = str();
        if (failedAttempt(a)) {
          // A failure: classified, and classify() memoises its input and result for thousands of
          // attempts, so these must not be views of the batch (see above).
          if (a.reply !== null) a.reply = detach(a.reply);
          if (a.remoteHost !== null) a.remoteHost = detach(a.remoteHost);
          if (a.recipientDomain !== null) a.recipientDomain = detach(a.recipientDomain);
          if (a.enhancedStatus !== null) a.enhancedStatus = detach(a.enhancedStatus);
        }
        sink.attempt(a);
        break;
      }
      case INBOUND: {
        const t = kind & NULL_N0 ? null : nums[ni]!;
        ni++;
        const name = str()!;
        // The engine keys its count detectors by subtype for the whole run: the shared constant.
        const subtype = SUBTYPE_BY_NAME.get(name) ?? (detach(name) as SubtypeId);
        sink.inbound(t, subtype, str(), str());
        break;
      }
      case FLUSH:
        sink.flush();
        break;
      default:
        throw new Error(`onset wire: unknown record kind ${kind}`);
    }
  }
}

/**
 * Past this many distinct strings the unit tables start over (both sides, between two batches): a run
 * over millions of recipient domains must not grow them without end. Chosen well above the report's
 * tracked domains (a few thousand), so a normal run never resets.
 */
const MAX_UNIT_STRINGS = 100_000;

/** Decided units as they cross back to the main thread. */
export interface WireUnits {
  /** Unit times. */
  t: Float64Array<ArrayBuffer>;
  /** Per unit: domain, provider and subtype (-1: none) as indexes into the string table. */
  refs: Int32Array<ArrayBuffer>;
  /** Strings new to the table, in index order (after a reset when `reset`). */
  added: string[];
  /** The table started over before `added`. */
  reset: boolean;
  n: number;
}

/** Encodes units in the worker. */
export class UnitEncoder {
  private readonly index = new Map<string, number>();
  private t: number[] = [];
  private refs: number[] = [];
  private added: string[] = [];
  private reset = false;

  constructor(private readonly maxStrings = MAX_UNIT_STRINGS) {}

  private ref(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.index.size;
      this.index.set(s, i);
      this.added.push(s);
    }
    return i;
  }

  add(u: DeliveryUnit): void {
    this.t.push(u.t);
    this.refs.push(this.ref(u.domain), this.ref(u.provider), u.subtype === null ? -1 : this.ref(u.subtype));
  }

  take(): WireUnits {
    const out: WireUnits = { t: Float64Array.from(this.t), refs: Int32Array.from(this.refs), added: this.added, reset: this.reset, n: this.t.length };
    this.t = [];
    this.refs = [];
    this.added = [];
    this.reset = false;
    if (this.index.size >= this.maxStrings) {
      // Between batches, so every index of a batch refers to one table.
      this.index.clear();
      this.reset = true;
    }
    return out;
  }
}

/** Decodes units on the main thread: the mirror of UnitEncoder's table. */
export class UnitDecoder {
  private table: string[] = [];

  decode(w: WireUnits, onUnit: (u: DeliveryUnit) => void): void {
    if (w.reset) this.table = [];
    for (const s of w.added) this.table.push(s);
    const { t, refs, n } = w;
    const table = this.table;
    for (let i = 0; i < n; i++) {
      const s = refs[3 * i + 2]!;
      onUnit({ t: t[i]!, domain: table[refs[3 * i]!]!, provider: table[refs[3 * i + 1]!]!, subtype: s < 0 ? null : (table[s] as SubtypeId) });
    }
  }
}
