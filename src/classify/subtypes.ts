/**
 * The subtype vocabulary of TAXONOMY.md: 21 specific ids plus the fallback. These ids are public:
 * they appear unchanged in every output.
 */
import type { Stage } from '../model/records.js';

export const SUBTYPES = [
  'recipient_unknown',
  'recipient_disabled',
  'mailbox_full',
  'recipient_domain_invalid',
  'recipient_restricted',
  'sender_blocked_by_recipient',
  'relay_denied',
  'auth_required',
  'sender_auth_failed',
  'sender_address_invalid',
  'sender_account_blocked',
  'blocklisted',
  'poor_reputation',
  'reverse_dns_failed',
  'client_host_rejected',
  'spam_content',
  'malware_or_attachment',
  'content_policy',
  'message_noncompliant',
  'rate_limited',
  'message_too_large',
  'other_or_unclassified',
] as const;

export type SubtypeId = (typeof SUBTYPES)[number];

/** Who must act (TAXONOMY.md 1). */
export type Side = 'recipient' | 'sender-auth' | 'sender-address' | 'relay/submission' | 'reputation' | 'content' | 'transport/other';

export interface SubtypeInfo {
  side: Side;
  /** What the operator should do (TAXONOMY.md 3). */
  nextMove: string;
  /** Stages at which this refusal is expected; a refusal at another known stage lowers confidence. */
  stages: readonly Stage[];
}

const ANY: readonly Stage[] = ['connect', 'helo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'end_of_data', 'vrfy', 'etrn', 'other'];
const RCPT_ON: readonly Stage[] = ['rcpt', 'vrfy', 'data', 'end_of_data'];
const CONTENT: readonly Stage[] = ['data', 'end_of_data'];
const ENVELOPE: readonly Stage[] = ['mail', 'rcpt', 'data', 'end_of_data'];
const CLIENT: readonly Stage[] = ['connect', 'helo', 'mail', 'rcpt', 'data', 'end_of_data'];

export const SUBTYPE_INFO: Readonly<Record<SubtypeId, SubtypeInfo>> = {
  recipient_unknown: {
    side: 'recipient',
    nextMove: 'Remove or correct the address at its source; check alias maps and recent domain migrations.',
    stages: RCPT_ON,
  },
  recipient_disabled: {
    side: 'recipient',
    nextMove: 'Stop sending; reach the person another way or drop the address.',
    stages: RCPT_ON,
  },
  mailbox_full: {
    side: 'recipient',
    nextMove: 'Retry later at low volume; tell the recipient; drop it if full for weeks.',
    stages: RCPT_ON,
  },
  recipient_domain_invalid: {
    side: 'recipient',
    nextMove: 'Check the domain for typos and its MX in DNS; correct or remove the address.',
    stages: ['connect', 'rcpt', 'vrfy', 'data', 'end_of_data'],
  },
  recipient_restricted: {
    side: 'recipient',
    nextMove: "Ask the recipient's admin to allow your sender (group/list settings).",
    stages: RCPT_ON,
  },
  sender_blocked_by_recipient: {
    side: 'recipient',
    nextMove: 'Contact the recipient out of band; do not resend or rotate senders.',
    stages: ENVELOPE,
  },
  relay_denied: {
    side: 'relay/submission',
    nextMove: "Fix submission server, port and SMTP AUTH, or the relay's permissions (networks, accepted domains).",
    stages: ['mail', 'rcpt', 'vrfy'],
  },
  auth_required: {
    side: 'relay/submission',
    nextMove: 'Use SMTP AUTH over TLS with valid credentials (app password or OAuth where required).',
    stages: ['connect', 'helo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'end_of_data'],
  },
  sender_auth_failed: {
    side: 'sender-auth',
    nextMove: 'Check SPF, DKIM and DMARC alignment for the From domain along the real sending path.',
    stages: ENVELOPE,
  },
  sender_address_invalid: {
    side: 'sender-address',
    nextMove: 'Use an envelope sender whose domain resolves and accepts mail; fix return-path settings.',
    stages: ['mail', 'rcpt', 'data', 'end_of_data'],
  },
  sender_account_blocked: {
    side: 'relay/submission',
    nextMove: 'Ask your own provider to unblock the account or tenant; verify the sender; find the abuse.',
    stages: ENVELOPE,
  },
  blocklisted: {
    side: 'reputation',
    nextMove: 'Check the listed IP/domain on the named list, fix the cause, then request delisting.',
    stages: ANY,
  },
  poor_reputation: {
    side: 'reputation',
    nextMove: "Cut volume, clean lists, check complaints and auth; use the provider's postmaster tools.",
    stages: ANY,
  },
  reverse_dns_failed: {
    side: 'reputation',
    nextMove: 'Give the sending IP a PTR that resolves back to the same IP.',
    stages: CLIENT,
  },
  client_host_rejected: {
    side: 'reputation',
    nextMove: 'Fix the HELO name, send from an allowed network or IPv4, or ask to be allow-listed.',
    stages: CLIENT,
  },
  spam_content: {
    side: 'content',
    nextMove: 'Review content and links, check authentication; test before resending.',
    stages: CONTENT,
  },
  malware_or_attachment: {
    side: 'content',
    nextMove: 'Scan the sender; send files as links or allowed types.',
    stages: CONTENT,
  },
  content_policy: {
    side: 'content',
    nextMove: "Read the policy hint (transport rule, spoofing); fix headers/content or ask the recipient's admin.",
    stages: ENVELOPE,
  },
  message_noncompliant: {
    side: 'content',
    nextMove: 'Fix the generator: valid Message-ID, one From, correct MIME and header encoding.',
    stages: CONTENT,
  },
  rate_limited: {
    side: 'reputation',
    nextMove: 'Slow down: queue, spread, fewer connections and recipients per message.',
    stages: ANY,
  },
  message_too_large: {
    side: 'content',
    nextMove: "Shrink the message or send a link; check both ends' size limits.",
    stages: ['mail', 'rcpt', 'data', 'end_of_data'],
  },
  other_or_unclassified: {
    side: 'transport/other',
    nextMove: 'Read the raw reply and stage; if it recurs, add a rule with an anonymised example.',
    stages: ANY,
  },
};
