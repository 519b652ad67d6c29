/** Mimecast (`*.mimecast.com`). Codes per Mimecast's SMTP error code knowledge-base page. */
import type { Rule } from '../types.js';

export const mimecast: readonly Rule[] = [
  // 550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550
  { id: 'mimecast.envelope-blocked', subtype: 'sender_blocked_by_recipient', text: /envelope blocked|blocked senders?|administrative prohibition/ },
  // 550 Rejected by header based Blocked Senders - block policy for Header From
  { id: 'mimecast.header-blocked', subtype: 'sender_blocked_by_recipient', text: /rejected by header[- ]based (?:manually )?blocked senders/ },
  // 550 Rejected by header-based Anti-Spoofing policy: x@example.com
  { id: 'mimecast.anti-spoofing', subtype: 'content_policy', text: /anti-?spoofing/ },
  // 550 Sender Invalid - envelope rejected
  { id: 'mimecast.sender-invalid', subtype: 'sender_auth_failed', text: /sender invalid - envelope rejected/ },
  // 550 Local CT IP Reputation - (reject) / 421 IP Temporarily Blacklisted
  { id: 'mimecast.ct-reputation', subtype: 'poor_reputation', text: /local ct ip reputation|ip reputation/ },
  // 554 Email rejected due to security policies - MCSpamSignature
  { id: 'mimecast.spam-signature', subtype: 'spam_content', text: /mcspamsignature|spam signature|rejected due to security polic/ },
  // 550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550
  { id: 'mimecast.invalid-recipient', subtype: 'recipient_unknown', text: /invalid recipient/ },
  // 550 Relay not permitted / 451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369
  { id: 'mimecast.relay', subtype: 'relay_denied', text: /relay/ },
  // 554 Maximum email size exceeded
  { id: 'mimecast.size', subtype: 'message_too_large', text: /size exceeded|too large/ },
  // 550 Virus signature detected
  { id: 'mimecast.virus', subtype: 'malware_or_attachment', text: /virus|malware|attachment/ },
];
