/**
 * cleanup: the Message-ID of each queued message, and content-check / milter actions.
 *
 *   5D0B7F3A19: message-id=<20240311081540.7f3a@example.com>
 *   5D0B7F3A19: milter-reject: END-OF-MESSAGE from s.example.net[198.51.100.14]: 5.7.1 Spam message rejected; from=<...> to=<...> proto=ESMTP helo=<...>
 */
import type { PostfixRecord } from '../../src/model/records.js';
import { decodeAction } from './action.js';
import { unbracket } from './common.js';

export function decodeCleanup(queueId: string | null, rest: string): PostfixRecord | null {
  if (queueId !== null && rest.startsWith('message-id=')) {
    // The header value as sent: usually `<...>`, but `<>` and unbracketed IDs occur; IDs may hold
    // two `@` or `$`, so take everything up to the end of the line.
    return { kind: 'postfix.cleanup.message_id', queueId, messageId: unbracket(rest.slice(11).trim()) };
  }
  return decodeAction(queueId, rest);
}
