/**
 * The fixed-memory first-in-first-out hash set behind the onset engine's "already decided" units,
 * against a model (a Set and an array in insertion order) on random operations. Small tables and
 * values from a narrow range make long probe runs, wrap-around and backward shifts common.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FifoHashSet } from '../../src/onset/fifo-set.js';

type Op = { add: boolean; v: number };

function check(capacity: number, ops: Op[]): void {
  const set = new FifoHashSet(capacity);
  const model: number[] = [];
  for (const op of ops) {
    if (op.add) {
      set.add(op.v);
      if (!model.includes(op.v)) {
        model.push(op.v);
        if (model.length > capacity) model.shift();
      }
    }
    expect(set.has(op.v)).toBe(model.includes(op.v));
    expect(set.size).toBe(model.length);
  }
  for (const v of model) expect(set.has(v)).toBe(true);
}

describe('FifoHashSet', () => {
  it('answers membership like a Set that forgets its oldest member once full (random operations)', () => {
    const op = (range: number) => fc.record({ add: fc.boolean(), v: fc.nat(range) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 200 }), fc.array(op(200), { maxLength: 400 }), (capacity, range, ops) => {
        check(capacity, ops.map((o) => ({ add: o.add, v: o.v % (range + 1) })));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps working through values that share a home slot and wrap around the table end', () => {
    // Capacity 4: a table of 8 slots; values 7, 15, 23, ... all start probing at slot 7.
    const colliding = [7, 15, 23, 31, 39, 47, 55, 63, 71];
    const ops: Op[] = [];
    for (let round = 0; round < 5; round++) for (const v of colliding) ops.push({ add: true, v }, { add: false, v: v + 8 });
    check(4, ops);
  });

  it('holds 52-bit hashes and refuses values it cannot hold', () => {
    const s = new FifoHashSet(3);
    const big = 2 ** 52 - 1;
    s.add(big);
    s.add(0);
    expect(s.has(big)).toBe(true);
    expect(s.has(0)).toBe(true);
    expect(() => s.add(-1)).toThrow(RangeError);
    expect(() => s.add(2 ** 52)).toThrow(RangeError);
    expect(() => s.add(1.5)).toThrow(RangeError);
    expect(() => new FifoHashSet(0)).toThrow(RangeError);
  });
});
