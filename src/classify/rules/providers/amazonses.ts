/** Amazon SES: inbound endpoints (`inbound-smtp.<region>.amazonaws.com`) and the submission API/SMTP. */
import type { Rule } from '../types.js';

export const amazonses: readonly Rule[] = [
  // 554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@example.com
  { id: 'amazonses.not-verified', subtype: 'sender_account_blocked', text: /not verified|failed the check in region/ },
  // 554 Sending suspended for this account / 454 Throttling failure: Maximum sending rate exceeded
  { id: 'amazonses.suspended', subtype: 'sender_account_blocked', text: /sending (?:suspended|paused)|account (?:is )?(?:paused|suspended)/ },
  { id: 'amazonses.throttling', subtype: 'rate_limited', text: /throttling|maximum sending rate|daily message quota/ },
  // 535 Authentication Credentials Invalid (the SES SMTP interface)
  { id: 'amazonses.credentials', subtype: 'auth_required', text: /authentication credentials invalid|credentials/ },
  // 550 5.1.1 Requested action not taken: mailbox unavailable (SES inbound receipt rule with no recipient)
  { id: 'amazonses.mailbox-unavailable', subtype: 'recipient_unknown', text: /mailbox unavailable|recipient (?:address )?(?:does not exist|rejected)/ },
  // 554 Transaction failed: Missing final '@domain' / 554 Message rejected: Illegal header
  { id: 'amazonses.illegal', subtype: 'message_noncompliant', text: /illegal (?:header|address)|missing final|invalid mime/ },
];
