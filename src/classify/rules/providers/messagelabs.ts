/** Broadcom / Symantec Email Security.cloud (MessageLabs, `*.messagelabs.com`). */
import type { Rule } from '../types.js';

export const messagelabs: readonly Rule[] = [
  // 553-SPF (Sender Policy Framework) domain authentication fail. (#5.7.1)
  { id: 'messagelabs.spf', subtype: 'sender_auth_failed', text: /sender policy framework|\bspf\b/ },
  // 553 ... Sorry, your message to x@example.com was rejected: relaying denied (#5.7.1)
  { id: 'messagelabs.relay', subtype: 'relay_denied', text: /relay/ },
  // 553-Message filtered. Refer to the Troubleshooting page ... (#5.7.1)
  { id: 'messagelabs.filtered', subtype: 'spam_content', text: /message filtered/ },
  // 550 ... mail rejected ... IP address is on the MessageLabs block list
  { id: 'messagelabs.block-list', subtype: 'blocklisted', text: /block ?list|blacklist|listed/, detail: 'listed_entity=ip' },
];
