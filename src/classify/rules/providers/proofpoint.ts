/** Proofpoint (`*.pphosted.com`, `*.ppe-hosted.com`). */
import type { Rule } from '../types.js';

export const proofpoint: readonly Rule[] = [
  // 554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using prs.proofpoint.com; https://ipcheck.proofpoint.com/?ip=203.0.113.7
  { id: 'proofpoint.prs', subtype: 'blocklisted', text: /prs\.proofpoint\.com|ipcheck\.proofpoint|blocked using|ip address (?:is )?(?:on|in) [^;]{0,80}list/, detail: 'listed_entity=ip' },
  // 550 5.1.1 User email address is marked as invalid
  { id: 'proofpoint.marked-invalid', subtype: 'recipient_unknown', text: /marked as invalid/ },
  // 550 5.7.1 Message blocked due to spam content in the message
  { id: 'proofpoint.spam', subtype: 'spam_content', text: /spam|bulk/ },
];
