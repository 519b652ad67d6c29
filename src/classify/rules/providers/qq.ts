/** Tencent QQ Mail (`*.qq.com`): help links with `no=` codes. */
import type { Rule } from '../types.js';

export const qq: readonly Rule[] = [
  // 550 Mail is rejected by recipients [MAIL-ID] ... http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726
  { id: 'qq.rejected-by-recipients', subtype: 'sender_blocked_by_recipient', text: /rejected by recipients/ },
  // 550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728
  { id: 'qq.mailbox-not-found', subtype: 'recipient_unknown', text: /mailbox not found|mailbox unavailable|no such user/ },
  // 550 Ip frequency limited [MAIL-ID] http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725
  { id: 'qq.frequency', subtype: 'rate_limited', text: /frequency limited|too many|connection limited/ },
  // 550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726
  { id: 'qq.content-denied', subtype: 'spam_content', text: /content denied|spam/ },
  // 550 Domain frequency limited / 550 Ip is blocked / 554 IP is rejected
  { id: 'qq.ip-blocked', subtype: 'blocklisted', text: /ip (?:is )?(?:blocked|rejected|in black)/, detail: 'listed_entity=ip' },
  // 550 Mailbox is frozen
  { id: 'qq.frozen', subtype: 'recipient_disabled', text: /frozen|suspended|disabled/ },
];
