/**
 * smtpd (and postscreen, which shares the reject shape): the `client=` line that opens a queued
 * message, and access-control actions (see action.ts).
 *
 *   5D0B7F3A19: client=client.example.net[203.0.113.45], sasl_method=PLAIN, sasl_username=alice@example.com
 */
import type { PostfixRecord } from '../../src/model/records.js';
import { decodeAction } from './action.js';
import { pairValue, parseHostRef, scanPairs } from './common.js';

export function decodeSmtpd(queueId: string | null, rest: string): PostfixRecord | null {
  if (queueId !== null && rest.startsWith('client=')) {
    const pairs = scanPairs(rest);
    const client = pairValue(rest, pairs, 'client');
    if (client === undefined) return null;
    const orig = pairValue(rest, pairs, 'orig_client');
    return {
      kind: 'postfix.smtpd.client',
      queueId,
      client: parseHostRef(client),
      origClient: orig === undefined ? null : parseHostRef(orig),
      saslMethod: pairValue(rest, pairs, 'sasl_method') ?? null,
      saslUsername: pairValue(rest, pairs, 'sasl_username') ?? null,
    };
  }
  return decodeAction(queueId, rest);
}
