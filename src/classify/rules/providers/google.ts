/** Gmail / Google Workspace (`*.google.com`, ` - gsmtp`). Codes per Google's SMTP error reference. */
import type { Rule } from '../types.js';

export const google: readonly Rule[] = [
  // 550-5.7.27 Your email has been blocked because the sender is unauthenticated ... SPF ... - gsmtp
  { id: 'google.5.7.27-spf', subtype: 'sender_auth_failed', enhanced: /^5\.7\.27$/ },
  // 550-5.7.30 ... DKIM checks did not pass ... - gsmtp
  { id: 'google.5.7.30-dkim', subtype: 'sender_auth_failed', enhanced: /^5\.7\.30$/ },
  // 550 5.7.40 ... sending domain ... has no DMARC record - gsmtp
  { id: 'google.5.7.40-no-dmarc', subtype: 'sender_auth_failed', enhanced: /^5\.7\.40$/ },
  // 550-5.7.29 ... TLS required / the message was sent over an unencrypted connection - gsmtp
  { id: 'google.5.7.29-tls', subtype: 'auth_required', enhanced: /^5\.7\.29$/ },
  // 550-5.7.28 ... unusual rate of unsolicited mail originating from your IP address - gsmtp
  { id: 'google.5.7.28-unsolicited-rate', subtype: 'poor_reputation', enhanced: /^5\.7\.28$/ },
  // 550-5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages - gsmtp
  { id: 'google.5.2.1-rate', subtype: 'rate_limited', enhanced: /^[45]\.2\.1$/, text: /receiving mail (?:at a rate|too quickly)/ },
  // 550 5.4.5 Daily user sending quota exceeded - gsmtp
  { id: 'google.5.4.5-quota', subtype: 'rate_limited', enhanced: /^5\.4\.5$/ },
  // 550-5.7.1 [192.0.2.96] Our system has detected an unusual rate of unsolicited mail originating from your IP address
  { id: 'google.unsolicited-rate', subtype: 'poor_reputation', text: /unusual rate of (?:\S+ )?unsolicited/ },
  // 501-5.5.4 HELO/EHLO argument "localhost" invalid, closing connection. - gsmtp
  { id: 'google.helo', subtype: 'client_host_rejected', text: /helo\/ehlo argument|invalid helo/ },
  // 550-5.7.1 The IP you're using to send mail is not authorized to send email directly to our servers
  { id: 'google.not-authorized-directly', subtype: 'client_host_rejected', text: /not authori[sz]ed to send (?:e-?mail )?directly/ },
  // 550-5.7.1 ... very low reputation of the sending IP address / domain - gsmtp
  { id: 'google.low-reputation', subtype: 'poor_reputation', text: /low reputation|reputation of the sending/ },
  // 550-5.7.1 ... this message is likely unsolicited mail - gsmtp
  { id: 'google.likely-unsolicited', subtype: 'spam_content', text: /likely (?:to be )?unsolicited|likely suspicious|suspicious due to/ },
  // 552-5.7.0 This message was blocked because its content presents a potential security issue - gsmtp
  { id: 'google.security-issue', subtype: 'malware_or_attachment', text: /potential security issue|not allowed because of its content|attachment/ },
  // 550-5.7.1 The user or domain that you are sending to (or from) has a policy that prohibits the mail that you sent - gsmtp
  { id: 'google.policy', subtype: 'content_policy', text: /has a policy that prohibit|\bgcdp\b/ },
  // 550-5.7.1 ... Messages missing a valid Message-ID header are not accepted / not RFC 5322 compliant - gsmtp
  { id: 'google.rfc5322', subtype: 'message_noncompliant', text: /rfc ?5322|message-?id header/ },
  // 550 5.7.0 Mail relay denied [203.0.113.7] - gsmtp
  { id: 'google.relay', subtype: 'relay_denied', text: /mail relay denied|relay(?:ing)? (?:denied|not permitted)/ },
  // 550 5.2.1 The email account that you tried to reach is disabled - gsmtp
  { id: 'google.disabled', subtype: 'recipient_disabled', text: /account that you tried to reach is (?:disabled|inactive)/ },
  // 550-5.1.1 The email account that you tried to reach does not exist - gsmtp
  { id: 'google.no-such-user', subtype: 'recipient_unknown', text: /account that you tried to reach does not exist/ },
  // 552-5.2.2 The email account that you tried to reach is over quota / out of storage space - gsmtp
  { id: 'google.over-quota', subtype: 'mailbox_full', text: /over quota|out of storage|inbox is out of/ },
];
