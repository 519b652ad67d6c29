/** Zoho Mail (`*.zoho.com`, `*.zoho.eu`). */
import type { Rule } from '../types.js';

export const zoho: readonly Rule[] = [
  // 550 5.1.1 User does not exist - <x@example.com>
  { id: 'zoho.no-user', subtype: 'recipient_unknown', text: /user does not exist|no such user|invalid recipient/ },
  // 554 5.1.8 Email Outgoing Blocked. (the sending account is blocked by Zoho)
  { id: 'zoho.outgoing-blocked', subtype: 'sender_account_blocked', text: /outgoing blocked|account (?:is )?(?:blocked|suspended)/ },
  // 550 5.4.6 Unusual sending activity detected. Please try after sometime. / 550 5.4.6 Rate limit exceeded
  { id: 'zoho.unusual-activity', subtype: 'rate_limited', text: /unusual sending activity|rate limit|too many/ },
  // 554 5.7.7 Email policy violation detected
  { id: 'zoho.policy-violation', subtype: 'content_policy', text: /policy violation/ },
  // 550 5.7.1 Email rejected per DMARC policy for example.org
  { id: 'zoho.dmarc', subtype: 'sender_auth_failed', text: /dmarc|\bspf\b|\bdkim\b/ },
];
