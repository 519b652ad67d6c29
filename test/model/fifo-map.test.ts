import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FifoMap } from '../../src/model/fifo-map.js';

/** The obvious implementation: a Map whose oldest entry leaves (slow past many deletions, exact). */
class Reference<V> {
  readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}

describe('FifoMap', () => {
  it('behaves as a map whose oldest entry leaves past its bound, for any sequence of sets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer()), { maxLength: 300 }), (max, ops) => {
        const m = new FifoMap<number>(max);
        const ref = new Reference<number>(max);
        for (const [k, v] of ops) {
          m.set(`k${k}`, v);
          ref.set(`k${k}`, v);
          expect(m.size).toBe(ref.map.size);
        }
        expect([...m.entries()]).toEqual([...ref.map.entries()]);
        for (let k = 0; k < 10; k++) expect(m.get(`k${k}`)).toBe(ref.map.get(`k${k}`));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps its side queue bounded while one key is set again and again', () => {
    const m = new FifoMap<number>(3);
    for (let i = 0; i < 100_000; i++) m.set('same', i);
    expect(m.size).toBe(1);
    expect(m.get('same')).toBe(99_999);
    // The queue is compacted: entries() walks a few slots, not 100,000.
    expect([...m.entries()]).toEqual([['same', 99_999]]);
    expect((m as unknown as { queue: unknown[] }).queue.length).toBeLessThan(2_000);
  });
});
