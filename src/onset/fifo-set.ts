/**
 * A set of at most `capacity` non-negative integers below 2^52 (unit-key hashes) that forgets its
 * oldest member when full, in memory fixed at construction: a ring of the members in insertion order
 * and an open-addressing table (linear probing, backward-shift deletion) of twice the capacity,
 * rounded up to a power of two, whose slots hold ring positions (4 bytes) rather than the members
 * (8). 500,000 members take 8 MiB from the first unit on, where a `Set` grows to about 20 MiB by
 * the time it is full and its heap use creeps for hours of a live run.
 */
const EMPTY = -1;
const NONE = -1;

export class FifoHashSet {
  private readonly ring: Float64Array;
  /** Ring positions of the members, by hash slot; NONE when free. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`FifoHashSet capacity must be a positive integer, got ${capacity}`);
    let size = 2;
    while (size < 2 * capacity) size *= 2;
    this.ring = new Float64Array(capacity).fill(EMPTY);
    this.table = new Int32Array(size).fill(NONE);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The table slot a value starts probing from (values are hashes already: their low bits). */
  private home(v: number): number {
    return (v % (this.mask + 1)) | 0;
  }

  /** The table slot holding `v`, or -1. */
  private find(v: number): number {
    for (let i = this.home(v); ; i = (i + 1) & this.mask) {
      const at = this.table[i]!;
      if (at === NONE) return -1;
      if (this.ring[at] === v) return i;
    }
  }

  has(v: number): boolean {
    return this.find(v) >= 0;
  }

  /** Adds `v` (a no-op when present); when full, the oldest member leaves first. */
  add(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** 52) throw new RangeError(`FifoHashSet holds integers in [0, 2^52), got ${v}`);
    if (this.find(v) >= 0) return;
    const old = this.ring[this.next]!;
    // Out of the table first: its probe runs are read through the ring.
    if (old !== EMPTY) this.remove(old);
    this.ring[this.next] = v;
    let i = this.home(v);
    while (this.table[i] !== NONE) i = (i + 1) & this.mask;
    this.table[i] = this.next;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
  }

  /** Removes `v` and closes the gap by shifting later members of its probe run back. */
  private remove(v: number): void {
    let hole = this.find(v);
    if (hole < 0) return;
    this.table[hole] = NONE;
    this.count--;
    for (let j = (hole + 1) & this.mask; this.table[j] !== NONE; j = (j + 1) & this.mask) {
      const h = this.home(this.ring[this.table[j]!]!);
      // The member at j may move to the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? h > hole && h <= j : h > hole || h <= j;
      if (stays) continue;
      this.table[hole] = this.table[j]!;
      this.table[j] = NONE;
      hole = j;
    }
  }
}
