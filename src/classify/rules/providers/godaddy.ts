/** GoDaddy / secureserver.net: `IBnnn` codes (GoDaddy's email bounce help page). */
import type { Rule } from '../types.js';

export const godaddy: readonly Rule[] = [
  // 554 ... IB103 connection refused: sender IP has a poor reputation
  { id: 'godaddy.ib103', subtype: 'poor_reputation', text: /\bib103\b/ },
  // 554 ... IB104-IB106, IB110-IB113: IP on a block list (Spamhaus, SORBS, ...); x.co/rlbounce
  { id: 'godaddy.ib1xx-lists', subtype: 'blocklisted', text: /\bib1(?:0[4-6]|1[0-3])\b/, detail: 'listed_entity=ip' },
  // 550 5.1.1 ... too many recipients this hour. IB607 / IB504 / IB510: rate limits
  { id: 'godaddy.rate', subtype: 'rate_limited', text: /\bib(?:50[0-9]|51\d|60[0-9])\b/ },
  // 550 ... IB401/IB212 ... sender address domain not found (IB212: sender domain does not exist)
  { id: 'godaddy.ib212', subtype: 'sender_address_invalid', text: /\bib212\b/ },
];
