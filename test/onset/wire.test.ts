/**
 * The onset worker's message format (src/onset/wire.ts): inputs and units must come out exactly as
 * they went in, whatever their strings hold (any character, empty, null) and numbers (null, 0,
 * negative, fractional), across batches sent through a structured clone with transfers as
 * postMessage does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUBTYPES, type SubtypeId } from '../../src/classify/subtypes.js';
import type { DeliveryAttempt } from '../../src/model/event.js';
import type { Stage } from '../../src/model/records.js';
import type { DeliveryUnit } from '../../src/onset/engine.js';
import { BatchEncoder, decodeBatch, UnitDecoder, UnitEncoder, type WireBatch, type WireUnits } from '../../src/onset/wire.js';

type Input = { k: 'a'; a: DeliveryAttempt } | { k: 'i'; t: number | null; subtype: SubtypeId; client: string | null; recipient: string | null } | { k: 'flush' };

/** Strings of any UTF-16 code units (lone surrogates and NULs included), often empty. */
const anyString = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('\u0000', '|', '\n', 'a', '\u00e9', '\ud83d', '\ude00') }), fc.constant(''));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 3 });
const num = fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.constantFrom(0, -0, 250, 550, 1.7e12));

const attempt: fc.Arbitrary<DeliveryAttempt> = fc.record({
  timeMs: maybe(num),
  mtaHost: maybe(anyString),
  messageKey: anyString,
  recipient: anyString,
  recipientDomain: maybe(anyString),
  status: fc.oneof(fc.constantFrom('sent', 'bounced', 'deferred'), anyString),
  code: maybe(fc.oneof(num, fc.integer({ min: 400, max: 599 }))),
  enhancedStatus: maybe(anyString),
  reply: maybe(anyString),
  stage: fc.oneof(fc.constantFrom<Stage>('rcpt', 'data', 'unknown'), anyString.map((s) => s as Stage)),
  remoteHost: maybe(anyString),
  remoteIp: maybe(anyString),
  sender: maybe(anyString),
  clientIp: maybe(anyString),
});

const input: fc.Arbitrary<Input> = fc.oneof(
  { weight: 6, arbitrary: attempt.map((a) => ({ k: 'a' as const, a })) },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('i' as const), t: maybe(num), subtype: fc.constantFrom(...SUBTYPES), client: maybe(anyString), recipient: maybe(anyString) }),
  },
  { weight: 1, arbitrary: fc.constant({ k: 'flush' as const }) },
);

/** As postMessage(batch, transfer) delivers it. */
function post<T extends object>(x: T, transfer: ArrayBuffer[]): T {
  return structuredClone(x, { transfer });
}

function roundTrip(inputs: Input[], batchSize: number): Input[] {
  const out: Input[] = [];
  const sink = {
    // The decoder reuses its attempt object: copy it.
    attempt: (a: DeliveryAttempt) => out.push({ k: 'a', a: { ...a } }),
    inbound: (t: number | null, subtype: SubtypeId, client: string | null, recipient: string | null) => out.push({ k: 'i', t, subtype, client, recipient }),
    flush: () => out.push({ k: 'flush' }),
  };
  const enc = new BatchEncoder(batchSize);
  const send = () => {
    const b: WireBatch = enc.take();
    decodeBatch(post(b, [b.kinds.buffer, b.lens.buffer, b.nums.buffer]), sink);
  };
  for (const x of inputs) {
    if (x.k === 'a') enc.attempt(x.a, x.a.reply);
    else if (x.k === 'i') enc.inbound(x.t, x.subtype, x.client, x.recipient);
    else enc.flush();
    if (enc.size >= batchSize) send();
  }
  send();
  return out;
}

describe('onset wire format', () => {
  it('gives back every input exactly, in order, across batches (random strings and numbers)', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (inputs, batchSize) => {
        expect(roundTrip(inputs, batchSize)).toEqual(inputs);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps null and empty strings apart, and -0 and null numbers', () => {
    const a: DeliveryAttempt = {
      timeMs: -0,
      mtaHost: '',
      messageKey: '',
      recipient: '',
      recipientDomain: null,
      status: '',
      code: null,
      enhancedStatus: '',
      reply: '\u0000',
      stage: 'unknown',
      remoteHost: null,
      remoteIp: '',
      sender: null,
      clientIp: '',
    };
    const [back] = roundTrip([{ k: 'a', a }], 4);
    expect(back).toEqual({ k: 'a', a });
    expect(Object.is((back as { a: DeliveryAttempt }).a.timeMs, -0)).toBe(true);
  });

  it('refuses a batch over its capacity instead of overwriting', () => {
    const enc = new BatchEncoder(1);
    enc.flush();
    expect(() => enc.flush()).toThrow(/capacity/);
  });

  it('gives back every unit across batches, also when the string table starts over', () => {
    const unit: fc.Arbitrary<DeliveryUnit> = fc.record({
      t: num,
      domain: fc.oneof(anyString, fc.constantFrom('a.example', 'b.example')),
      provider: fc.constantFrom('google', 'other', ''),
      subtype: fc.option(fc.constantFrom(...SUBTYPES), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(unit, { maxLength: 12 }), { maxLength: 8 }), fc.integer({ min: 1, max: 10 }), (batches, maxStrings) => {
        const enc = new UnitEncoder(maxStrings);
        const dec = new UnitDecoder();
        const out: DeliveryUnit[] = [];
        for (const batch of batches) {
          for (const u of batch) enc.add(u);
          const w: WireUnits = enc.take();
          dec.decode(post(w, [w.t.buffer, w.refs.buffer]), (u) => out.push(u));
        }
        expect(out).toEqual(batches.flat());
      }),
      { numRuns: 300 },
    );
  });
});
