/**
 * The inbound refusals' ring against the list it replaced (append; past `max`, keep the latest
 * `keep`), on random pushes and windows; small sizes make the cut and the wrap-around common.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InboundRing, type InboundEntry } from '../../src/onset/inbound-ring.js';

describe('InboundRing', () => {
  it('keeps and returns what the list kept, oldest first (random operations)', () => {
    const op = fc.oneof(
      fc.record({ push: fc.constant(true as const), minute: fc.integer({ min: -5, max: 60 }), client: fc.constantFrom('192.0.2.1', '192.0.2.2', '(none)', '2001:db8::1'), recipient: fc.option(fc.nat(2 ** 52 - 1)) }),
      fc.record({ push: fc.constant(false as const), from: fc.integer({ min: -5, max: 60 }), span: fc.nat(30) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.array(op, { maxLength: 300 }), (keep, extra, ops) => {
        const max = keep + extra;
        const ring = new InboundRing(max, keep);
        let model: InboundEntry[] = [];
        for (const o of ops) {
          if (o.push) {
            ring.push(o.minute, o.client, o.recipient);
            model.push({ minute: o.minute, client: o.client, recipient: o.recipient });
            if (model.length > max) model = model.slice(model.length - keep);
            expect(ring.length).toBe(model.length);
          } else {
            const to = o.from + o.span;
            expect(ring.window(o.from, to)).toEqual(model.filter((e) => e.minute >= o.from && e.minute <= to));
          }
        }
        expect(ring.window(-Infinity, Infinity)).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it('holds minutes of any year and 52-bit recipient hashes, and null recipients', () => {
    const ring = new InboundRing(3, 2);
    const far = Math.floor(253402300799000 / 60_000); // 9999-12-31: past 32 bits
    ring.push(far, '192.0.2.9', 2 ** 52 - 1);
    ring.push(far, '192.0.2.9', null);
    expect(ring.window(far, far)).toEqual([
      { minute: far, client: '192.0.2.9', recipient: 2 ** 52 - 1 },
      { minute: far, client: '192.0.2.9', recipient: null },
    ]);
    expect(() => new InboundRing(2, 3)).toThrow(RangeError);
    expect(() => new InboundRing(2, 0)).toThrow(RangeError);
  });
});
