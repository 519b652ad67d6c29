/**
 * A map bounded to `max` entries: setting a key (new or not) makes it the newest, and past `max`
 * the oldest leaves.
 *
 * Why not a plain Map with `map.delete(map.keys().next().value)`: V8's ordered hash tables leave a
 * hole for each deleted entry until the next rehash, and an iterator starts at the first slot, so
 * finding the oldest walks every hole before it. With one eviction per insertion that walk averages
 * thousands of slots (a quarter of `analyze`'s time once seen, through the re-send table). Here the
 * insertion order is a queue of (key, generation) beside the map: an eviction pops stale entries
 * (keys set again since, or gone) until it meets a current one; amortised O(1).
 */
export class FifoMap<V> {
  private readonly map = new Map<string, { v: V; gen: number }>();
  private queue: { key: string; gen: number }[] = [];
  private head = 0;
  private gen = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key)?.v;
  }

  set(key: string, v: V): void {
    const gen = ++this.gen;
    const prev = this.map.get(key);
    if (prev !== undefined) {
      prev.v = v;
      prev.gen = gen;
    } else this.map.set(key, { v, gen });
    this.queue.push({ key, gen });
    while (this.map.size > this.max) {
      const oldest = this.queue[this.head++]!;
      if (this.map.get(oldest.key)?.gen === oldest.gen) this.map.delete(oldest.key);
    }
    this.compact();
  }

  /** Entries from the oldest to the newest. */
  *entries(): IterableIterator<[string, V]> {
    for (let i = this.head; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      const e = this.map.get(q.key);
      if (e !== undefined && e.gen === q.gen) yield [q.key, e.v];
    }
  }

  /** Drops queue entries that no longer name a current one, once they are as many as the live ones. */
  private compact(): void {
    if (this.queue.length - this.head <= 2 * this.map.size + 1024) return;
    const live: { key: string; gen: number }[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      if (this.map.get(q.key)?.gen === q.gen) live.push(q);
    }
    this.queue = live;
    this.head = 0;
  }
}
