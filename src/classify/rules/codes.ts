/**
 * Enhanced status codes that name a cause on their own (TAXONOMY.md 4 and 6.4): trusted over weak
 * text. Generic codes (5.0.0, 5.7.0, 5.7.1, 5.5.0, 5.2.0, 5.1.0, 5.4.1, 5.3.0) are absent: for those
 * the text decides. Providers that bend a code have their own rows in rules/providers/.
 */
import type { SubtypeId } from '../subtypes.js';

export interface CodeMeaning {
  subtype: SubtypeId;
  detail?: string;
}

export const SPECIFIC_CODES: ReadonlyMap<string, CodeMeaning> = new Map<string, CodeMeaning>([
  ['5.1.1', { subtype: 'recipient_unknown' }], // bad destination mailbox address
  ['5.1.3', { subtype: 'recipient_unknown' }], // bad destination mailbox address syntax
  ['5.1.6', { subtype: 'recipient_unknown', detail: 'moved' }], // mailbox has moved
  ['5.7.17', { subtype: 'recipient_unknown', detail: 'moved' }], // mailbox owner has changed (RFC 3886)
  ['5.1.2', { subtype: 'recipient_domain_invalid' }], // bad destination system address
  ['5.1.10', { subtype: 'recipient_domain_invalid' }], // recipient address has null MX (RFC 7505)
  ['5.4.4', { subtype: 'recipient_domain_invalid' }], // unable to route
  ['5.3.2', { subtype: 'recipient_domain_invalid' }], // system not accepting network messages
  ['5.2.1', { subtype: 'recipient_disabled' }], // mailbox disabled, not accepting messages
  ['5.7.13', { subtype: 'recipient_disabled' }], // user account disabled (RFC 4954 525)
  ['5.2.2', { subtype: 'mailbox_full' }], // mailbox full
  ['5.2.3', { subtype: 'message_too_large' }], // message length exceeds administrative limit
  ['5.3.4', { subtype: 'message_too_large' }], // message too big for system
  ['5.1.7', { subtype: 'sender_address_invalid' }], // bad sender's mailbox address syntax
  ['5.1.8', { subtype: 'sender_address_invalid' }], // bad sender's system address
  ['5.7.27', { subtype: 'sender_address_invalid' }], // sender address has null MX (RFC 7505)
  ['5.7.20', { subtype: 'sender_auth_failed' }], // no passing DKIM signature (RFC 7372)
  ['5.7.21', { subtype: 'sender_auth_failed' }], // no acceptable DKIM signature
  ['5.7.22', { subtype: 'sender_auth_failed' }], // no valid author-matched DKIM signature
  ['5.7.23', { subtype: 'sender_auth_failed' }], // SPF validation failed
  ['5.7.24', { subtype: 'sender_auth_failed' }], // SPF validation error
  ['5.7.26', { subtype: 'sender_auth_failed' }], // multiple authentication checks failed
  ['5.7.29', { subtype: 'sender_auth_failed' }], // ARC validation failure (RFC 8617)
  ['5.7.25', { subtype: 'reverse_dns_failed' }], // reverse DNS validation failed (RFC 7372)
  ['5.7.28', { subtype: 'poor_reputation' }], // mail flood detected (RFC 6710 registry)
  ['5.7.8', { subtype: 'auth_required' }], // authentication credentials invalid
  ['5.7.9', { subtype: 'auth_required' }], // authentication mechanism too weak
  ['5.7.10', { subtype: 'auth_required' }], // encryption needed
  ['5.7.11', { subtype: 'auth_required' }], // encryption required for requested mechanism
  ['5.7.14', { subtype: 'auth_required' }], // trust relationship required
  ['5.7.30', { subtype: 'auth_required' }], // REQUIRETLS support required (RFC 8689)
  ['5.5.3', { subtype: 'rate_limited' }], // too many recipients
  ['5.6.0', { subtype: 'message_noncompliant' }], // other or undefined media error
  ['5.6.1', { subtype: 'message_noncompliant' }], // media not supported
  ['5.6.3', { subtype: 'message_noncompliant' }], // conversion required but not supported
  ['5.6.7', { subtype: 'message_noncompliant' }], // non-ASCII addresses not permitted
  ['5.6.9', { subtype: 'message_noncompliant' }], // UTF-8 string reply required
  ['5.4.6', { subtype: 'other_or_unclassified', detail: 'loop' }], // routing loop detected
  ['5.4.14', { subtype: 'other_or_unclassified', detail: 'loop' }], // hop count exceeded
  ['5.5.1', { subtype: 'other_or_unclassified', detail: 'protocol_error' }], // invalid command
  ['5.5.2', { subtype: 'other_or_unclassified', detail: 'protocol_error' }], // syntax error
  ['5.5.4', { subtype: 'other_or_unclassified', detail: 'protocol_error' }], // invalid command arguments
  ['5.5.5', { subtype: 'other_or_unclassified', detail: 'protocol_error' }], // wrong protocol version
  ['5.5.6', { subtype: 'other_or_unclassified', detail: 'protocol_error' }], // authentication exchange line too long
]);

/** Three-digit codes that name a cause on their own (RFC 4954: 530 auth required, 534 mechanism too weak,
 * 535 credentials invalid, 538 encryption required). Other codes say too little (550, 552, 553, 554). */
export const SPECIFIC_REPLY_CODES: ReadonlyMap<number, CodeMeaning> = new Map<number, CodeMeaning>([
  [530, { subtype: 'auth_required' }],
  [534, { subtype: 'auth_required' }],
  [535, { subtype: 'auth_required' }],
  [538, { subtype: 'auth_required' }],
]);

/** Codes whose registry meaning says little: the text decides (TAXONOMY.md 6.3 and 6.8). */
export const GENERIC_CODES: ReadonlySet<string> = new Set(['5.0.0', '5.7.0', '5.7.1', '5.5.0', '5.2.0', '5.1.0', '5.4.1', '5.3.0', '5.4.0']);

/** Weak refusal words: on their own they name no cause (TAXONOMY.md 6.4 and 6.8). */
export const WEAK_TEXT = /access denied|\brejected\b|\bblocked\b|message rejected|not allowed|\brefused\b|\bdenied\b|not accepted|service unavailable|transaction failed|command rejected|administrative prohibition|requested action not taken/;
