/**
 * bounce: the notification queued back to the sender (or postmaster) for a message.
 *
 *   5D0B7F3A19: sender non-delivery notification: 8E4C1A07B2
 *   5D0B7F3A19: postmaster non-delivery notification: 8E4C1A09F5
 */
import type { PostfixRecord } from '../../src/model/records.js';
import { isQueueId } from './common.js';

const SUFFIX = ' notification: ';

export function decodeBounce(queueId: string | null, rest: string): PostfixRecord | null {
  if (queueId === null) return null;
  const at = rest.lastIndexOf(SUFFIX);
  if (at <= 0) return null;
  const notificationQueueId = rest.slice(at + SUFFIX.length);
  if (!isQueueId(notificationQueueId)) return null;
  return { kind: 'postfix.bounce.notification', queueId, notification: rest.slice(0, at), notificationQueueId };
}
