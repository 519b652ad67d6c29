/** Barracuda Email Security (`*.barracudanetworks.com`). */
import type { Rule } from '../types.js';

export const barracuda: readonly Rule[] = [
  // 554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=203.0.113.7
  { id: 'barracuda.reputation-list', subtype: 'blocklisted', text: /barracuda ?reputation|barracudacentral|blocked using/, detail: 'listed_entity=ip' },
  // 550 No such user (x@example.com) cuda_nsu
  { id: 'barracuda.cuda-nsu', subtype: 'recipient_unknown', text: /cuda_nsu|no such user/ },
  // 550 permanent failure for one or more recipients (x@example.com:blocked): a policy block without a cause
  { id: 'barracuda.recipient-blocked', subtype: 'other_or_unclassified', text: /:blocked\)/, detail: 'generic_policy' },
];
