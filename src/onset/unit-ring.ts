/**
 * The onset engine's attribution ring (ONSETS.md 3.7): the decided units of the recent past, oldest
 * first, read only when an onset is attributed. A busy relay decides thousands of units a second
 * and the ring holds up to 500,000, so they live in typed arrays (time, and indexes into tables of
 * the distinct strings and attribute tuples: about 24 bytes a unit) instead of objects with their
 * attributes (about 150 bytes); reading a window materialises objects again.
 *
 * The string and tuple tables only grow while the ring turns over, so they are rebuilt from the
 * live units when they pass twice what those use (amortised O(1) per unit).
 */
import { ATTRIBUTES, type Attribute } from './attribution.js';

export interface RingUnit {
  t: number;
  domain: string;
  provider: string;
  subtype: string | null;
  attrs: Readonly<Record<Attribute, string>>;
}

/** Tables are rebuilt past this many entries and twice the live units' share. */
const MIN_TABLE = 65_536;

class Table<T> {
  readonly items: T[] = [];
  private readonly index = new Map<string, number>();
  of(key: string, make: () => T): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(make());
      this.index.set(key, i);
    }
    return i;
  }
  get size(): number {
    return this.items.length;
  }
}

/** Distinct attribute tuples, found through one map level per attribute (no key string per unit). */
class TupleTable {
  readonly items: Readonly<Record<Attribute, string>>[] = [];
  private readonly root = new Map<string, unknown>();
  of(attrs: Readonly<Record<Attribute, string>>): number {
    let m = this.root;
    for (let k = 0; k < ATTRIBUTES.length - 1; k++) {
      const v = attrs[ATTRIBUTES[k]!];
      let next = m.get(v) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        m.set(v, next);
      }
      m = next;
    }
    const last = attrs[ATTRIBUTES[ATTRIBUTES.length - 1]!];
    let i = m.get(last) as number | undefined;
    if (i === undefined) {
      i = this.items.length;
      this.items.push(attrs);
      m.set(last, i);
    }
    return i;
  }
  get size(): number {
    return this.items.length;
  }
}

export class UnitRing {
  private t = new Float64Array(1024);
  /** Indexes into `strings` (-1: no subtype). */
  private domain = new Int32Array(1024);
  private provider = new Int32Array(1024);
  private subtype = new Int32Array(1024);
  /** Index into `tuples`. */
  private tuple = new Int32Array(1024);
  private head = 0;
  private count = 0;
  private strings = new Table<string>();
  private tuples = new TupleTable();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.count;
  }

  /** Time of the oldest unit (Infinity when empty). */
  get oldest(): number {
    return this.count === 0 ? Infinity : this.t[this.head]!;
  }

  push(u: RingUnit): void {
    if (this.count === this.t.length) this.grow();
    const slot = (this.head + this.count) % this.t.length;
    this.t[slot] = u.t;
    this.domain[slot] = this.strings.of(u.domain, () => u.domain);
    this.provider[slot] = this.strings.of(u.provider, () => u.provider);
    this.subtype[slot] = u.subtype === null ? -1 : this.strings.of(u.subtype, () => u.subtype!);
    this.tuple[slot] = this.tuples.of(u.attrs);
    this.count++;
    if (this.strings.size + this.tuples.size > Math.max(MIN_TABLE, 4 * this.count)) this.rebuildTables();
  }

  /** Drops the oldest unit. */
  shift(): void {
    if (this.count === 0) return;
    this.head = (this.head + 1) % this.t.length;
    this.count--;
  }

  /** The units from time `from` on, oldest first, as objects. */
  *since(from: number): Generator<RingUnit> {
    for (let k = 0; k < this.count; k++) {
      const slot = (this.head + k) % this.t.length;
      const t = this.t[slot]!;
      if (t < from) continue;
      const s = this.subtype[slot]!;
      yield {
        t,
        domain: this.strings.items[this.domain[slot]!]!,
        provider: this.strings.items[this.provider[slot]!]!,
        subtype: s < 0 ? null : this.strings.items[s]!,
        attrs: this.tuples.items[this.tuple[slot]!]!,
      };
    }
  }

  /** Doubles the arrays (up to the capacity and one more slot), keeping the order. */
  private grow(): void {
    const n = Math.min(Math.max(1024, this.t.length * 2), this.capacity + 1);
    if (n <= this.t.length) throw new Error('unit ring: over capacity (shift before push)');
    const order = <T extends Float64Array | Int32Array>(a: T, b: T): T => {
      for (let k = 0; k < this.count; k++) b[k] = a[(this.head + k) % a.length]!;
      return b;
    };
    this.t = order(this.t, new Float64Array(n));
    this.domain = order(this.domain, new Int32Array(n));
    this.provider = order(this.provider, new Int32Array(n));
    this.subtype = order(this.subtype, new Int32Array(n));
    this.tuple = order(this.tuple, new Int32Array(n));
    this.head = 0;
  }

  /** Re-indexes the live units into fresh tables (the old ones keep values of units long gone). */
  private rebuildTables(): void {
    const strings = new Table<string>();
    const tuples = new TupleTable();
    for (let k = 0; k < this.count; k++) {
      const slot = (this.head + k) % this.t.length;
      const d = this.strings.items[this.domain[slot]!]!;
      const p = this.strings.items[this.provider[slot]!]!;
      this.domain[slot] = strings.of(d, () => d);
      this.provider[slot] = strings.of(p, () => p);
      const s = this.subtype[slot]!;
      if (s >= 0) {
        const v = this.strings.items[s]!;
        this.subtype[slot] = strings.of(v, () => v);
      }
      const a = this.tuples.items[this.tuple[slot]!]!;
      this.tuple[slot] = tuples.of(a);
    }
    this.strings = strings;
    this.tuples = tuples;
  }
}
