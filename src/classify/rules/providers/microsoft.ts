/** Exchange Online / EOP / Outlook.com. Codes per Microsoft's Exchange Online NDR reference. */
import type { Rule } from '../types.js';

export const microsoft: readonly Rule[] = [
  // 550 5.7.606 Access denied, banned sending IP [203.0.113.7]. To request removal ... (AS16012609)
  { id: 'microsoft.5.7.6xx-banned-ip', subtype: 'blocklisted', enhanced: /^5\.7\.6(?:0[6-9]|[1-3]\d|4[0-9])$/, detail: 'listed_entity=ip' },
  // 550 5.7.511 Access denied, banned sender[203.0.113.7]. To request removal ...
  { id: 'microsoft.5.7.511-banned-ip', subtype: 'blocklisted', enhanced: /^5\.7\.511$/, detail: 'listed_entity=ip' },
  // 550 5.7.513 Service unavailable, Client host [203.0.113.7] blocked by example.com Customer Block list (AS16012607)
  { id: 'microsoft.5.7.513-customer-block-list', subtype: 'blocklisted', enhanced: /^5\.7\.513$/, detail: 'listed_entity=ip' },
  // 550 5.7.501 Access denied, spam abuse detected / 5.7.502 banned sender / 5.7.503 banned sender
  { id: 'microsoft.5.7.50x-banned-sender', subtype: 'sender_account_blocked', enhanced: /^5\.7\.50[1-3]$/ },
  // 550 5.7.504 Recipient address rejected: Access denied
  { id: 'microsoft.5.7.504-recipient-rejected', subtype: 'recipient_unknown', enhanced: /^5\.7\.504$/ },
  // 550 5.7.505 Access denied, banned recipient
  { id: 'microsoft.5.7.505-banned-recipient', subtype: 'recipient_disabled', enhanced: /^5\.7\.505$/ },
  // 550 5.7.506 Access Denied, Bad HELO
  { id: 'microsoft.5.7.506-bad-helo', subtype: 'client_host_rejected', enhanced: /^5\.7\.506$/ },
  // 550 5.7.507 Access denied, rejected by recipient
  { id: 'microsoft.5.7.507-rejected-by-recipient', subtype: 'client_host_rejected', enhanced: /^5\.7\.507$/ },
  // 550 5.7.508 Access denied, [$SenderIPAddress] has exceeded permitted limits within $range range
  { id: 'microsoft.5.7.508-ipv6-rate', subtype: 'rate_limited', enhanced: /^5\.7\.508$/ },
  // 550 5.7.509 Access denied, sending domain example.org does not pass DMARC verification
  { id: 'microsoft.5.7.509-dmarc', subtype: 'sender_auth_failed', enhanced: /^5\.7\.509$/ },
  // 550 5.7.510 Access denied, example.com does not accept email over IPv6
  { id: 'microsoft.5.7.510-no-ipv6', subtype: 'client_host_rejected', enhanced: /^5\.7\.510$/ },
  // 550 5.7.512 Access denied, message must be RFC 5322 section 3.6.2 compliant
  { id: 'microsoft.5.7.512-rfc5322-from', subtype: 'message_noncompliant', enhanced: /^5\.7\.512$/ },
  // 550 5.7.515 Access denied, sending domain example.org doesn't meet the required authentication level
  { id: 'microsoft.5.7.515-auth-level', subtype: 'sender_auth_failed', enhanced: /^5\.7\.515$/ },
  // 550 5.7.705 Access denied, tenant has exceeded threshold / 5.7.708 traffic not accepted from this IP
  // 550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP (a poor-reputation address)
  { id: 'microsoft.5.7.708-ip-reputation', subtype: 'poor_reputation', enhanced: /^5\.7\.708$/ },
  { id: 'microsoft.5.7.7xx-tenant-banned', subtype: 'sender_account_blocked', enhanced: /^5\.7\.7[0-4]\d$/ },
  // 550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains
  { id: 'microsoft.5.7.750-unregistered-domains', subtype: 'sender_account_blocked', enhanced: /^5\.7\.750$/ },
  // 550 5.7.12 The sender was not authenticated by organization
  { id: 'microsoft.5.7.12-not-authenticated-by-org', subtype: 'recipient_restricted', enhanced: /^5\.7\.12$/ },
  // 550 5.7.124 Sender not in allowed-senders list; 5.7.133-136 group/mailbox delivery restrictions
  { id: 'microsoft.5.7.124-136-restricted', subtype: 'recipient_restricted', enhanced: /^5\.7\.(?:124|13[3-6])$/ },
  // 530 5.7.57 Client not authenticated to send mail
  { id: 'microsoft.5.7.57-not-authenticated', subtype: 'auth_required', enhanced: /^5\.7\.57$/ },
  // 550 5.7.64 TenantAttribution; Relay Access Denied
  { id: 'microsoft.5.7.64-tenant-attribution', subtype: 'relay_denied', enhanced: /^5\.7\.64$/ },
  // 550 5.1.8 Access denied. Bad outbound sender
  { id: 'microsoft.5.1.8-bad-outbound-sender', subtype: 'sender_account_blocked', enhanced: /^5\.1\.8$/, text: /outbound sender|banned|spam/ },
  // 550 5.4.310 DNS domain example.invalid does not exist [Message=InfoDomainNonexistent]
  { id: 'microsoft.5.4.310-domain-nonexistent', subtype: 'recipient_domain_invalid', enhanced: /^5\.4\.31\d$/ },
  // 554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; ... WASCL UserAction verdict is ... Suspend
  { id: 'microsoft.outbound-spam', subtype: 'sender_account_blocked', text: /outboundspamexception|wascl useraction|banned for (?:sending )?spam/ },
  // 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup
  { id: 'microsoft.5.1.10-recipient-not-found', subtype: 'recipient_unknown', enhanced: /^5\.1\.10$/ },
  // 550 5.4.1 Recipient address rejected: Access denied. AS(201806281) (Directory-Based Edge Blocking)
  { id: 'microsoft.5.4.1-dbeb', subtype: 'recipient_unknown', text: /recipient address rejected: access denied|as\(201806281\)/ },
  // 550 5.4.1 Relay Access Denied
  { id: 'microsoft.5.4.1-relay', subtype: 'relay_denied', enhanced: /^5\.4\.1$/, text: /relay/ },
  // 550 5.2.2 Submission quota exceeded; STOREDRV.Submission.Exception:SubmissionQuotaExceededException
  // (5.2.121, 5.2.122, 5.1.90: recipient rate limits). Before the mailbox rule: EXO writes "mailbox full" in both.
  { id: 'microsoft.submission-quota', subtype: 'rate_limited', text: /submission ?quota|recipient rate limit|sending limit/ },
  // 554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException
  { id: 'microsoft.storedrv-quota', subtype: 'mailbox_full', text: /quotaexceeded|mailbox full|mailbox is full/ },
  { id: 'microsoft.5.2.12x-rate', subtype: 'rate_limited', enhanced: /^5\.(?:2\.12[12]|1\.90)$/ },
  // 550 5.7.1 Service unavailable, Client host [203.0.113.7] blocked using Spamhaus ... (S3150) / (AS3140)
  { id: 'microsoft.s3150-block-list', subtype: 'blocklisted', text: /\(s3150\)|\(as3140\)|block list|blocked using/, detail: 'listed_entity=ip' },
  // 550 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using ...; to request removal go to https://sender.office.com
  { id: 'microsoft.delist-portal', subtype: 'blocklisted', text: /sender\.office\.com|part of their network is on our block list/, detail: 'listed_entity=ip' },
  // 550 5.7.1 ... Client was not authenticated
  { id: 'microsoft.client-not-authenticated', subtype: 'auth_required', text: /client was not authenticated|not authenticated to send/ },
  // 550 5.7.1 Delivery not authorized, message refused
  { id: 'microsoft.delivery-not-authorized', subtype: 'recipient_restricted', text: /delivery not authori[sz]ed/ },
  // 550 5.7.350 ... / 5.7.900-999 / TRANSPORT.RULES.RejectMessage; the message was rejected by organization policy
  { id: 'microsoft.transport-rule', subtype: 'content_policy', enhanced: /^5\.7\.(?:9\d\d|350)$/ },
  { id: 'microsoft.transport-rules-text', subtype: 'content_policy', text: /transport\.rules|rejected by (?:organi[sz]ation|transport) (?:policy|rule)|as345/ },
  // 554 5.6.11 SMTPSEND.BareLinefeedsAreIllegal
  { id: 'microsoft.5.6.11-bare-lf', subtype: 'message_noncompliant', enhanced: /^5\.6\.11$/ },
  // 550 5.5.0 Requested action not taken: mailbox unavailable (outlook.com / hotmail.com)
  { id: 'microsoft.5.5.0-mailbox-unavailable', subtype: 'recipient_unknown', enhanced: /^5\.5\.0$/, text: /mailbox unavailable/ },
  // 550 5.7.1 RESOLVER.RST.AuthRequired; authentication required (a group that takes mail from authenticated senders only)
  { id: 'microsoft.resolver-auth-required', subtype: 'auth_required', text: /resolver\.rst\.authrequired/ },
  // 550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized (a restricted group or mailbox)
  { id: 'microsoft.resolver-not-authorized', subtype: 'recipient_restricted', text: /resolver\.rst\.notauthorized/ },
  // 550 4.4.7 QUEUE.Expired; message expired: no remote refused it, the queue gave up (TAXONOMY: expired)
  { id: 'microsoft.queue-expired', subtype: 'other_or_unclassified', text: /queue\.expired/, detail: 'expired' },
  // 550 5.7.520 Access denied, Your organization does not allow external forwarding
  { id: 'microsoft.5.7.520-forwarding', subtype: 'content_policy', enhanced: /^5\.7\.520$/ },
];
