/** Yahoo and AOL (`*.yahoodns.net`, `*.mx.aol.com`). Codes per Yahoo's Sender Hub error codes. */
import type { Rule } from '../types.js';

export const yahoo: readonly Rule[] = [
  // 553 5.7.1 [BL21] Connections will not be accepted from 203.0.113.7, because the ip is in Spamhaus's list
  { id: 'yahoo.bl-list', subtype: 'blocklisted', text: /\[bl2\d\]/, detail: 'listed_entity=ip' },
  // 421 4.7.0 [TSS04] Messages from 203.0.113.7 temporarily deferred due to unexpected volume or user complaints
  { id: 'yahoo.tss', subtype: 'poor_reputation', text: /\[tss0\d\]/ },
  // 554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes ([PH01])
  { id: 'yahoo.ph01', subtype: 'content_policy', text: /\[ph0\d\]/ },
  // 550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.
  { id: 'yahoo.unauthenticated', subtype: 'sender_auth_failed', text: /requires all senders to authenticate|sender is unauthenticated|dmarc|\bspf\b|\bdkim\b/ },
  // 554 5.7.9 Message not accepted for policy reasons
  { id: 'yahoo.policy', subtype: 'content_policy', enhanced: /^5\.7\.9$/, text: /policy reasons/ },
  // 554 delivery error: dd Sorry your message to x@yahoo.com cannot be delivered. This mailbox is disabled (554.30)
  { id: 'yahoo.disabled', subtype: 'recipient_disabled', text: /\(554\.30\)|mailbox is disabled/ },
  // 554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]
  { id: 'yahoo.no-account', subtype: 'recipient_unknown', text: /dd this user doesn't have a|doesn't have a \S+ account/ },
  // 552 1 Requested mail action aborted, mailbox is full / 554 ... mailbox is full
  { id: 'yahoo.full', subtype: 'mailbox_full', text: /mailbox (?:is )?full|over quota/ },
  // 554 30 Sorry, your message size exceeds 41943040 bytes.
  { id: 'yahoo.size', subtype: 'message_too_large', text: /message size exceeds/ },
  // 554 Message not allowed - Headers are not RFC compliant[291]
  { id: 'yahoo.headers', subtype: 'message_noncompliant', text: /headers are not rfc compliant|not rfc compliant/ },
  // 451/554 Message temporarily deferred due to unresolvable RFC.5321 from domain
  { id: 'yahoo.unresolvable-from', subtype: 'sender_address_invalid', text: /unresolvable rfc\.?5321 from domain|rfc\.?5321 from domain/ },
];
