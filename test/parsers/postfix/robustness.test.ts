/**
 * The decoder never throws and stays linear on mangled input: cut, duplicated and reordered fields,
 * inserted unicode and NUL bytes, and very long lines. (Issue 12 adds fast-check and a ReDoS check;
 * this seeded mutation loop guards the foundation.)
 */
import { describe, expect, it } from 'vitest';
import { decodePostfixLine } from '../../../parsers/postfix/index.js';
import { rng } from '../../random.js';

const SEEDS = [
  'Mar 11 08:15:42 mx1 postfix/smtp[4425]: 5D0B7F3A19: to=<dave@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@example.net>: User unknown (in reply to RCPT TO command))',
  'Mar 11 08:16:01 mx1 postfix/smtpd[4417]: NOQUEUE: reject: RCPT from unknown[203.0.113.77]: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown; from=<a@example.org> to=<bob@example.com> proto=ESMTP helo=<c.example.org>',
  'Mar 11 08:16:01 mx1 postfix/postscreen[1188]: NOQUEUE: reject: RCPT from [203.0.113.140]:58021: 550 5.7.1 Service unavailable; client [203.0.113.140] blocked using bl.example.org; from=<c@example.org>, to=<b@example.com>, proto=ESMTP, helo=<pc7>',
  '2024-05-06T10:12:03.418223+02:00 mx1 postfix/cleanup[2240]: 4C2D19A7E1: reject: header Subject: You have won from unknown[203.0.113.5]; from=<x@example.org> to=<y@example.com> proto=ESMTP helo=<pc9>: 5.7.1 Message content rejected',
  'Mar 11 08:15:40 mx1 postfix/qmgr[1102]: 5D0B7F3A19: from=<alice@example.com>, size=4821, nrcpt=2 (queue active)',
  'mailstack-postfix-1  | Jan 17 06:08:51 7f3c1e9b20d4 postfix/bounce[9]: 5D0B7F3A19: sender non-delivery notification: 8E4C1A07B2',
];

const INSERTS = ['\u0000', '\uFFFD', 'é', '😀', '<', '>', '[', ']', ';', ', ', ': ', '=', ' (', ')', '\r', '\t', 'status=', '; from=<'];

function mutate(line: string, r: () => number): string {
  let s = line;
  const steps = 1 + Math.floor(r() * 4);
  for (let i = 0; i < steps; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 5)) {
      case 0: // cut
        s = s.slice(0, at);
        break;
      case 1: // delete a span
        s = s.slice(0, at) + s.slice(at + Math.floor(r() * 20));
        break;
      case 2: // insert a token
        s = s.slice(0, at) + INSERTS[Math.floor(r() * INSERTS.length)]! + s.slice(at);
        break;
      case 3: // duplicate a span
        s = s.slice(0, at) + s.slice(at, at + 30) + s.slice(at);
        break;
      default: {
        // swap two fields separated by ', '
        const parts = s.split(', ');
        if (parts.length > 2) {
          const a = Math.floor(r() * parts.length);
          const b = Math.floor(r() * parts.length);
          [parts[a], parts[b]] = [parts[b]!, parts[a]!];
        }
        s = parts.join(', ');
      }
    }
  }
  return s;
}

describe('decodePostfixLine on hostile input', () => {
  it('never throws on 20,000 mutated lines', () => {
    const r = rng(550);
    const types = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const line = mutate(SEEDS[i % SEEDS.length]!, r);
      const d = decodePostfixLine(line);
      types.add(d.type);
    }
    // The mutations reach every outcome, so the loop is not testing a single path.
    expect([...types].sort()).toEqual(expect.arrayContaining(['malformed', 'record', 'unsupported']));
  });

  it('never throws on random bytes decoded as UTF-8', () => {
    const r = rng(7);
    for (let i = 0; i < 2_000; i++) {
      const bytes = Buffer.alloc(Math.floor(r() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(r() * 256);
      expect(() => decodePostfixLine(bytes.toString('utf8'))).not.toThrow();
    }
  });

  it('decodes 1 MiB lines of repeated separators without throwing', () => {
    const n = 1 << 19;
    const lines = [
      `Mar 11 08:15:42 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 ${'; '.repeat(n)}`,
      `Mar 11 08:15:42 mx1 postfix/smtp[1]: 5D0B7F3A19: to=<${'>'.repeat(n)}, status=bounced (${'host '.repeat(n / 4)})`,
      `Mar 11 08:15:42 mx1 postfix/cleanup[1]: 5D0B7F3A19: reject: header ${' from '.repeat(n / 4)}; from=<${'> '.repeat(n)}`,
      `Mar 11 08:15:42 mx1 postfix/qmgr[1]: 5D0B7F3A19: from=<a>, ${'size=1 '.repeat(n / 4)}`,
    ];
    for (const l of lines) expect(() => decodePostfixLine(l)).not.toThrow();
  });
});
