/**
 * qmgr (and oqmgr): the envelope of each queued message, its end, and expiry.
 *
 *   5D0B7F3A19: from=<alice@example.com>, size=4821, nrcpt=2 (queue active)
 *   5D0B7F3A19: from=<alice@example.com>, status=expired, returned to sender
 *   5D0B7F3A19: removed
 */
import type { PostfixRecord } from '../../src/model/records.js';
import { hasPair, pairValue, scanPairs, toNumber, unbracket } from './common.js';


export function decodeQmgr(queueId: string | null, rest: string): PostfixRecord | null {
  if (queueId === null) return null;
  if (rest === 'removed') return { kind: 'postfix.qmgr.removed', queueId };
  if (!rest.startsWith('from=')) return null;
  const pairs = scanPairs(rest);
  const from = unbracket(pairValue(rest, pairs, 'from') ?? '');
  if (pairValue(rest, pairs, 'status') === 'expired') return { kind: 'postfix.qmgr.expired', queueId, from };
  if (!hasPair(rest, pairs, 'size') && !hasPair(rest, pairs, 'nrcpt')) return null;
  return {
    kind: 'postfix.qmgr.envelope',
    queueId,
    from,
    size: toNumber(pairValue(rest, pairs, 'size')),
    nrcpt: toNumber(pairValue(rest, pairs, 'nrcpt')),
  };
}
