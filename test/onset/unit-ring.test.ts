import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RingUnit } from '../../src/onset/unit-ring.js';
import { UnitRing } from '../../src/onset/unit-ring.js';

const unit = (t: number, k: number): RingUnit => ({
  t,
  domain: `d${k % 7}.example`,
  provider: k % 3 === 0 ? 'google' : 'other',
  subtype: k % 5 === 0 ? 'recipient_unknown' : null,
  attrs: { relay: `mx${k % 4}.example.net`, relay_ip: `192.0.2.${k % 9}`, sender_domain: 'example.com', client_ip: `198.51.100.${k % 200}`, provider: k % 3 === 0 ? 'google' : 'other' },
});

describe('UnitRing', () => {
  it('gives back what an array of units would, through growth, wrap-around and table rebuilds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 100_000 })), { maxLength: 4000 }), (capacity, ops) => {
        const ring = new UnitRing(capacity);
        const model: RingUnit[] = [];
        let t = 0;
        for (const [push, k] of ops) {
          if (push || model.length === 0) {
            const u = unit(t++, k);
            ring.push(u);
            model.push(u);
            while (model.length > capacity) {
              model.shift();
              ring.shift();
            }
          } else {
            model.shift();
            ring.shift();
          }
          expect(ring.size).toBe(model.length);
        }
        expect([...ring.since(-Infinity)]).toEqual(model);
        const from = Math.floor(t / 2);
        expect([...ring.since(from)]).toEqual(model.filter((u) => u.t >= from));
        expect(ring.oldest).toBe(model[0]?.t ?? Infinity);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps its string tables bounded while units with new values keep passing through', () => {
    const ring = new UnitRing(100);
    for (let i = 0; i < 300_000; i++) {
      ring.push({ ...unit(i, i), domain: `d${i}.example`, attrs: { ...unit(i, i).attrs, client_ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` } });
      if (ring.size > 100) ring.shift();
    }
    const inner = ring as unknown as { strings: { size: number }; tuples: { size: number } };
    expect(inner.strings.size + inner.tuples.size).toBeLessThanOrEqual(65_536 + 1);
    expect([...ring.since(-Infinity)].map((u) => u.domain)).toEqual(Array.from({ length: 100 }, (_, k) => `d${300_000 - 100 + k}.example`));
  });
});
