/** GMX, WEB.DE, IONOS / 1&1 (`*.gmx.net`, `*.web.de`, `*.kundenserver.de`). */
import type { Rule } from '../types.js';

export const gmx: readonly Rule[] = [
  // 554-gmx.net (mxgmx016) Nemesis ESMTP Service not available 554-No SMTP service 554-Bad DNS PTR resource record.
  { id: 'gmx.ptr', subtype: 'reverse_dns_failed', text: /bad dns ptr|ptr resource record|reverse dns/ },
  // 554-... 554-IP address is black listed. / Blocked - see https://www.spamhaus.org/...
  { id: 'gmx.black-listed', subtype: 'blocklisted', text: /black ?listed|block ?list|blocked using|spamhaus/, detail: 'listed_entity=ip' },
  // 554 Reject due to policy restrictions. For explanation visit https://postmaster.gmx.net/...
  { id: 'gmx.policy-restrictions', subtype: 'content_policy', text: /policy restrictions/ },
  // 550-Requested action not taken: mailbox unavailable 550 invalid DNS MX or A/AAAA resource record (the sender's domain)
  { id: 'gmx.sender-domain-dns', subtype: 'sender_address_invalid', text: /invalid dns mx or a\/aaaa resource record/ },
  // 550 Requested action not taken: mailbox unavailable (the address does not exist)
  { id: 'gmx.mailbox-unavailable', subtype: 'recipient_unknown', text: /mailbox unavailable|user unknown|no such user/ },
  // 552 Requested mail action aborted: exceeded storage allocation
  { id: 'gmx.storage', subtype: 'mailbox_full', text: /exceeded storage allocation|mailbox full|quota/ },
  // 550 Sender address is not allowed / Sender address has null MX
  { id: 'gmx.sender', subtype: 'sender_address_invalid', text: /sender address (?:is not allowed|has null mx|invalid)|null mx/ },
];
