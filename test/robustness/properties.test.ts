/**
 * Property and fuzz tests (#12, fast-check): no decoder, classifier, framer or unwrapper throws on
 * hostile input; the correlator stays within its bound under adversarial queue IDs; the line
 * accounting adds up. `npm test` runs a fixed seed; `npm run test:fuzz` (MTA550_FUZZ=1) random
 * seeds and 25x the cases. A failure prints the seed and the shrunk counterexample.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsers } from '../../parsers/index.js';
import { classify } from '../../src/classify/classify.js';
import { LineSplitter } from '../../src/framing/lines.js';
import { Unwrapper } from '../../src/framing/wrappers.js';
import { correlate } from '../helpers.js';

const FUZZ = process.env.MTA550_FUZZ === '1';
const RUNS = FUZZ ? 5000 : 200;
const SEED = FUZZ ? Date.now() % 2 ** 31 : 550;
const params = { numRuns: RUNS, seed: SEED };
if (FUZZ) console.log(`fuzz: seed ${SEED}, ${RUNS} runs per property`);

/** Real-looking lines: every line of every bundled sample (all formats). */
const REAL: string[] = readdirSync('samples').flatMap((dir) =>
  readdirSync(path.join('samples', dir))
    .filter((f) => /\.(?:log|log\.gz|json|csv)$/.test(f))
    .flatMap((f) => {
      const raw = readFileSync(path.join('samples', dir, f));
      return (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n').slice(0, 400);
    })
    .filter((l) => l.length > 0),
);

const hostile = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
);

/** A real line, mangled: cut, a piece duplicated, words reordered, unicode/NUL/CR inserted. */
const mangled = fc
  .tuple(fc.constantFrom(...REAL), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('cut', 'dup', 'swap', 'insert', 'cr')), { maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 8 }))
  .map(([line, edits, junk]) => {
    let s = line;
    for (const [a, b, kind] of edits) {
      const i = s.length === 0 ? 0 : a % s.length;
      const j = s.length === 0 ? 0 : b % s.length;
      if (kind === 'cut') s = s.slice(0, i);
      else if (kind === 'dup') s = s.slice(0, i) + s.slice(Math.min(i, j), Math.max(i, j)) + s.slice(i);
      else if (kind === 'swap') {
        const w = s.split(' ');
        const x = a % w.length;
        const y = b % w.length;
        [w[x], w[y]] = [w[y]!, w[x]!];
        s = w.join(' ');
      } else if (kind === 'insert') s = s.slice(0, i) + junk + '\u0000' + s.slice(i);
      else s = s.slice(0, i) + '\r' + s.slice(i);
    }
    return s;
  });

const KINDS = new Set(['record', 'many', 'unsupported', 'other', 'malformed', 'blank', 'continuation']);

describe('decoders never throw', () => {
  for (const parser of parsers) {
    it(`${parser.format}: on random text and bytes`, () => {
      fc.assert(fc.property(hostile, (s) => KINDS.has(parser.decode(s).type)), params);
    });
    it(`${parser.format}: on mangled real lines`, () => {
      fc.assert(fc.property(mangled, (s) => KINDS.has(parser.decode(s).type)), params);
    });
    if (parser.newDecoder !== undefined) {
      it(`${parser.format}: its per-input decoder, on sequences of hostile and mangled lines`, () => {
        fc.assert(
          fc.property(fc.array(fc.oneof(hostile, mangled), { maxLength: 40 }), (lines) => {
            const d = parser.newDecoder!();
            return lines.every((l) => KINDS.has(d.decode(l).type));
          }),
          { ...params, numRuns: Math.max(50, Math.floor(RUNS / 4)) },
        );
      });
    }
    it(`${parser.format}: on 1 MiB lines`, () => {
      for (const base of [REAL[3]!, 'x', '[', '<'.repeat(7) + '@', 'status=bounced (host h[1.2.3.4] said: 550 ']) {
        const big = (REAL[5]! + ' ' + base.repeat(Math.ceil((1 << 20) / base.length))).slice(0, 1 << 20);
        expect(KINDS.has(parser.decode(big).type)).toBe(true);
      }
    });
  }
});

describe('the classifier never throws', () => {
  it('on any reply, code, stage, host and domain', () => {
    fc.assert(
      fc.property(
        fc.oneof(hostile, mangled),
        fc.option(fc.integer({ min: -1, max: 1000 })),
        fc.option(fc.string({ maxLength: 12 })),
        fc.constantFrom('connect', 'helo', 'mail', 'rcpt', 'data', 'end_of_data', 'unknown', null),
        fc.option(fc.domain()),
        fc.constantFrom('inbound', 'outbound'),
        (reply, code, enhanced, stage, host, direction) => {
          const c = classify({ reply, code: code ?? null, enhancedStatus: enhanced ?? null, stage: stage as never, remoteHost: host ?? null, recipientDomain: host ?? null, direction: direction as 'inbound' | 'outbound' });
          return typeof c.subtype === 'string' && typeof c.nextMove === 'string';
        },
      ),
      params,
    );
  });
});

describe('framing never throws and loses no byte', () => {
  it('LineSplitter: random bytes in random chunks account for every byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat({ max: 300 }), { maxLength: 20 }), fc.integer({ min: 4, max: 400 }), (bytes, cuts, cap) => {
        const s = new LineSplitter({ offset: 0, number: 0 }, cap);
        const buf = Buffer.from(bytes);
        let at = 0;
        let covered = 0;
        const take = (n: number) => {
          for (const l of s.push(buf.subarray(at, at + n))) {
            expect(l.offset).toBe(covered);
            covered = l.end;
            expect(l.text.length).toBeLessThanOrEqual(cap);
          }
          at += n;
        };
        for (const c of cuts) take(Math.min(c, buf.length - at));
        take(buf.length - at);
        const last = s.end();
        if (last !== null) covered = last.end;
        return covered === buf.length;
      }),
      params,
    );
  });

  it('Unwrapper: journald and Docker records of any shape', () => {
    const json = fc.oneof(hostile, fc.json(), fc.record({ log: fc.oneof(fc.string(), fc.integer()), stream: fc.string(), time: fc.string() }).map((o) => JSON.stringify(o)), fc.record({ __REALTIME_TIMESTAMP: fc.oneof(fc.string(), fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String)), MESSAGE: fc.oneof(fc.string(), fc.constant(null), fc.array(fc.integer({ min: -5, max: 300 }))), _PID: fc.oneof(fc.string(), fc.array(fc.string())) }).map((o) => JSON.stringify(o)));
    for (const kind of ['journald', 'docker'] as const) {
      const u = new Unwrapper(kind);
      fc.assert(
        fc.property(json, (text) => ['line', 'held', 'malformed'].includes(u.unwrap({ text, number: 1, offset: 0, end: text.length + 1, truncated: false }).kind)),
        params,
      );
    }
  });
});

describe('the correlator stays within its bound', () => {
  it('under a stream of queue IDs that never close', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[0-9A-F]{10}$/), { minLength: 50, maxLength: 400 }), fc.integer({ min: 1, max: 40 }), (ids, max) => {
        const lines = ids.map((q, i) => `Jun 04 09:${String(10 + (i % 50)).padStart(2, '0')}:00 mx1 postfix/qmgr[1]: ${q}: from=<a@example.com>, size=1, nrcpt=1 (queue active)`);
        const { stats } = correlate(lines, { maxOpenMessages: max });
        return stats.messagesOpened - stats.evictedOverflow <= max && stats.openAtEnd <= max;
      }),
      params,
    );
  });

  it('gives one event per bounced recipient whatever the interleaving of whole transactions', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 1e9 }), (bounces, seed) => {
        const txs = bounces.map((bounced, i) => {
          const q = (0x5d0b7f3a00 + i).toString(16).toUpperCase();
          return [
            `Jun 04 09:30:0${i % 10} mx1 postfix/smtpd[1]: ${q}: client=a.example.com[192.0.2.1]`,
            `Jun 04 09:30:0${i % 10} mx1 postfix/qmgr[2]: ${q}: from=<s@example.com>, size=10, nrcpt=1 (queue active)`,
            `Jun 04 09:30:0${i % 10} mx1 postfix/smtp[3]: ${q}: to=<r${i}@example.net>, relay=mx.example.net[198.51.100.1]:25, delay=1, delays=0/0/0/1, dsn=${bounced ? '5.1.1' : '2.0.0'}, status=${bounced ? 'bounced (host mx.example.net[198.51.100.1] said: 550 5.1.1 unknown (in reply to RCPT TO command))' : 'sent (250 ok)'}`,
            `Jun 04 09:30:0${i % 10} mx1 postfix/qmgr[2]: ${q}: removed`,
          ];
        });
        // Interleave the transactions, keeping each one's own order.
        const cursors = txs.map(() => 0);
        const out: string[] = [];
        let r = seed;
        while (out.length < txs.length * 4) {
          r = (r * 1103515245 + 12345) % 2 ** 31;
          const open = cursors.flatMap((c, k) => (c < 4 ? [k] : []));
          const k = open[r % open.length]!;
          out.push(txs[k]![cursors[k]!++]!);
        }
        const { events } = correlate(out);
        return events.length === bounces.filter(Boolean).length && events.every((e) => e.message?.complete === true);
      }),
      params,
    );
  });
});
