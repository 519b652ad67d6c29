/** iCloud Mail (`*.mail.icloud.com`). Bracketed codes per Apple's postmaster page (HT204137). */
import type { Rule } from '../types.js';

export const apple: readonly Rule[] = [
  // 550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137
  { id: 'apple.cs01-hm08-bs01', subtype: 'content_policy', text: /\[(?:cs01|hm08|bs01|cs02)\]/ },
  // 550 5.1.1 <x@privaterelay.appleid.com>: [HME1] Hide My Email address is no longer active
  { id: 'apple.hme1', subtype: 'recipient_disabled', text: /\[hme1\]/ },
  // 550 5.7.1 Mail from IP 203.0.113.7 was rejected due to listing in Spamhaus SBL
  { id: 'apple.listing', subtype: 'blocklisted', text: /listing in|listed (?:in|on)/, detail: 'listed_entity=ip' },
];
