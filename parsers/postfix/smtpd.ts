/**
 * smtpd (and postscreen, which shares the reject shape): the `client=` line that opens a queued
 * message, and access-control actions (see action.ts).
 *
 *   5D0B7F3A19: client=client.example.net[203.0.113.45], sasl_method=PLAIN, sasl_username=alice@example.com
 */
import type { PostfixRecord } from '../../src/model/records.js';
import { decodeAction } from './action.js';
import { parseHostRef, scanKeyValues } from './common.js';

export function decodeSmtpd(queueId: string | null, rest: string): PostfixRecord | null {
  if (queueId !== null && rest.startsWith('client=')) {
    const { values } = scanKeyValues(rest);
    const client = values.get('client');
    if (client === undefined) return null;
    const orig = values.get('orig_client');
    return {
      kind: 'postfix.smtpd.client',
      queueId,
      client: parseHostRef(client),
      origClient: orig === undefined ? null : parseHostRef(orig),
      saslMethod: values.get('sasl_method') ?? null,
      saslUsername: values.get('sasl_username') ?? null,
    };
  }
  return decodeAction(queueId, rest);
}
