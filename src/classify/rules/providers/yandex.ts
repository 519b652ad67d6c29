/** Yandex Mail (`mx.yandex.ru`, `*.yandex.net`). */
import type { Rule } from '../types.js';

export const yandex: readonly Rule[] = [
  // 550 5.7.1 No such user!
  { id: 'yandex.no-such-user', subtype: 'recipient_unknown', text: /no such user|user not found/ },
  // 554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc
  { id: 'yandex.spam', subtype: 'spam_content', text: /suspicion of spam|\bspam\b/ },
  // 550 5.7.1 Policy rejection on the target address
  { id: 'yandex.policy-target', subtype: 'recipient_restricted', text: /policy rejection on the target address/ },
  // 552 5.2.2 Mailbox size limit exceeded
  { id: 'yandex.full', subtype: 'mailbox_full', text: /mailbox size limit|mailbox full|over quota/ },
  // 550 5.7.1 Email rejected per DMARC policy
  { id: 'yandex.dmarc', subtype: 'sender_auth_failed', text: /dmarc|\bspf\b|\bdkim\b/ },
  // 451/554 ... too many ...
  { id: 'yandex.rate', subtype: 'rate_limited', text: /too many|rate limit|ratelimit/ },
];
