/** Mail.ru (`*.mail.ru`). */
import type { Rule } from '../types.js';

export const mailru: readonly Rule[] = [
  // 550 Message was not accepted -- invalid mailbox. Local mailbox x@mail.ru is unavailable: account is disabled
  // (before the next row: Mail.ru prefixes both with "invalid mailbox")
  { id: 'mailru.disabled', subtype: 'recipient_disabled', text: /account is disabled|disabled|blocked mailbox/ },
  // 550 Message was not accepted -- invalid mailbox. Local mailbox x@mail.ru is unavailable: user not found
  { id: 'mailru.invalid-mailbox', subtype: 'recipient_unknown', text: /invalid mailbox|user not found|no such user/ },
  // 550 spam message rejected. Please visit https://help.mail.ru/notspam-support/id?c=...
  { id: 'mailru.spam', subtype: 'spam_content', text: /\bspam\b/ },
  // 550 Message was not accepted -- DMARC policy violation / SPF check failed
  { id: 'mailru.dmarc', subtype: 'sender_auth_failed', text: /dmarc|\bspf\b|\bdkim\b/ },
  // 421 / 550 Too many messages from your IP
  { id: 'mailru.rate', subtype: 'rate_limited', text: /too many|ratelimit|rate limit/ },
];
