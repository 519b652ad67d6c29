/** Trend Micro Email Security (`*.tmes.trendmicro.com`): ERS reputation, BLOCK-SEND-ER, BLOCK-RCPT. */
import type { Rule } from '../types.js';

export const trendmicro: readonly Rule[] = [
  // 550 5.7.1 Message rejected by Email Reputation Services. Please see https://ers.trendmicro.com (ERS-RBL / ERS-DUL)
  { id: 'trendmicro.ers', subtype: 'blocklisted', text: /\bers-\w+|email reputation services?/, detail: 'listed_entity=ip' },
  // 550 5.7.1 ... BLOCK-SEND-ER: the sender is on the recipient's blocked senders list
  { id: 'trendmicro.block-sender', subtype: 'sender_blocked_by_recipient', text: /block-send-?er/ },
  // 550 5.7.1 ... BLOCK-RCPT: the recipient is not allowed to receive from outside
  { id: 'trendmicro.block-rcpt', subtype: 'recipient_restricted', text: /block-rcpt/ },
];
