/**
 * The hand-written scans that replaced patterns on the hot path (issue 11) read every input as the
 * patterns did: queue ID heads and reply heads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReply, splitQueueId } from '../../../parsers/postfix/common.js';

/** splitQueueId as it was written with patterns. */
function splitByPatterns(message: string): { queueId: string | null; rest: string } | null {
  const colon = message.indexOf(': ');
  if (colon < 5 || colon > 24) return null;
  const head = message.slice(0, colon);
  if (head === 'NOQUEUE') return { queueId: null, rest: message.slice(colon + 2) };
  const short = /^[0-9A-F]{5,20}$/.test(head);
  const long = /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{1,10}$/.test(head);
  if (!short && !long) return null;
  return { queueId: head, rest: message.slice(colon + 2) };
}

/** parseReply as it was written with patterns. */
function replyByPatterns(text: string): ReturnType<typeof parseReply> {
  const m = /^([2-5]\d\d)(?:[ -]#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$))?/.exec(text);
  if (m !== null) return { code: Number(m[1]), enhanced: m[2] ?? null, text };
  const e = /^#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$)/.exec(text);
  if (e !== null) return { code: null, enhanced: e[1]!, text };
  return { code: null, enhanced: null, text };
}

describe('hand scans match the patterns they replaced', () => {
  it('splitQueueId', () => {
    const piece = fc.constantFrom('5D0B7F3A19', '4WbTq8HkRnzL9mD', 'NOQUEUE', 'A', 'z', 'e', '0', ': ', ':', ' ', 'to=<a>', '\u00a0', 'é', '-');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (parts) => {
        const line = parts.join('');
        expect(splitQueueId(line)).toEqual(splitByPatterns(line));
      }),
      { numRuns: 5000 },
    );
  });

  it('parseReply', () => {
    const piece = fc.constantFrom('5', '2', '4', '3', '0', '9', '.', '-', ' ', '#', ';', ',', ':', '\t', '\u00a0', '\u2028', 'x', '550', '5.7.1', '5.12.345', '1234', '550 #5.1.0 x', '#4.4.1', '550-5.7.26 ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (parts) => {
        const text = parts.join('');
        expect(parseReply(text)).toEqual(replyByPatterns(text));
      }),
      { numRuns: 5000 },
    );
  });
});
