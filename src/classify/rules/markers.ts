/**
 * Generic text markers, walked in tiers (TAXONOMY.md 6.3): precise phrases first, then list names,
 * then SPF/DKIM/DMARC, relay and authentication, host checks, address and mailbox states, size and
 * rate, content, reputation. Within a tier, a marker tied to the stage wins (MAIL FROM -> sender,
 * RCPT -> recipient or relay, DATA -> content). Every text is matched in lower case.
 */
import type { Marker } from './types.js';

const m = (tier: number, strong: boolean, id: string, subtype: Marker['subtype'], text: RegExp, detail?: string): Marker =>
  detail === undefined ? { id: `generic.${id}`, tier, strong, subtype, text } : { id: `generic.${id}`, tier, strong, subtype, text, detail };

const ROWS: readonly Marker[] = [
  // ---- tier 0: precise phrases that would otherwise be caught by a broader marker below
  // 550 5.7.1 Message rejected: blacklisted URL found in message body (uribl.example.org)
  m(0, true, 'listed-url', 'spam_content', /blacklisted url|\buribl\b|\bsurbl\b|url (?:is )?(?:black|block)listed|listed url/, 'listed_entity=url'),
  // 550 Envelope blocked - User Entry (Mimecast); 550 5.7.1 Sender is in my black list
  m(0, true, 'blocked-by-recipient', 'sender_blocked_by_recipient', /envelope blocked - (?:user|domain)|blocked senders?\b|administrative prohibition|blocked by (?:this|the) recipient|sender is in (?:my|the recipient's) black ?list|mail is rejected by recipients|block-send-?er|you have been blocked by the recipient|sender (?:address )?(?:is )?blocked by (?:the )?recipient|recipient has blocked/),
  // 550 5.7.133 ... sender was not authenticated by organization; Google Groups "not allowed to post"
  m(0, true, 'recipient-restricted', 'recipient_restricted', /sender was not authenticated by organi[sz]ation|not in (?:the )?allowed[- ]senders? list|not authenticated for group|members[- ]only|not (?:allowed|authori[sz]ed|permitted) to (?:post|send (?:mail |messages? )?to (?:this|the) (?:group|list|recipient|user))|only accept(?:s|ing)? (?:mail|messages?) from (?:specific|authori[sz]ed|internal|members)|refused due to recipient preferences|\buser reject|block-rcpt|restricted to internal|(?:accepts?|only) (?:mail |messages? )?from internal senders|internal senders only|does not accept (?:mail|messages?) from external/),
  // 554 5.7.1 Your account has been suspended due to abuse; 550 5.1.8 Access denied, bad outbound sender
  m(0, true, 'sender-account-blocked', 'sender_account_blocked', /bad outbound sender|banned sender|tenant has exceeded|blocked from sending from unregistered domains|email address is not verified|suspended due to abuse|account (?:has been |is )?(?:suspended|disabled|blocked) (?:for|due to) (?:sending|abuse|spam)|sending (?:account|privileges) (?:has been |have been |is )?(?:suspended|disabled|revoked)|not verified for sending/),
  // 550 5.7.1 <bob@example.com>: Recipient address rejected: Access denied (Postfix check_recipient_access;
  // Microsoft's DBEB form of the same words is recipient_unknown, in rules/providers/microsoft.ts)
  m(0, false, 'recipient-access-denied', 'recipient_restricted', /recipient address rejected: access denied/),
  // 550 5.7.1 <alice@example.org>: Sender address rejected: Access denied (the site's sender access map)
  m(0, false, 'sender-access-denied', 'sender_blocked_by_recipient', /sender address rejected: access denied/),
  // 450/550 5.1.8 <alice@example.invalid>: Sender address rejected: Domain not found / undeliverable address
  m(0, true, 'sender-address-rejected', 'sender_address_invalid', /sender address rejected: [^;]{0,200}\b(?:domain|null ?mx|undeliverable|unverified|malformed|invalid|fully-qualified)/),
  // 550 5.7.1 Unauthenticated senders not allowed (anonymous submission refused)
  m(0, true, 'unauthenticated-senders', 'auth_required', /unauthenticated senders? (?:are )?not (?:allowed|accepted|permitted)/),
  // 550 Verification failed for <bounce@example.com> ... Sender verify failed (a callout about the sender)
  m(0, true, 'sender-verify', 'sender_address_invalid', /sender verify failed|sender verification failed|verification failed for <|sender address has null ?mx|sender (?:address )?domain (?:has|with) (?:a )?null ?mx|sender callout/),
  // 554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; 554 5.1.8 Email Outgoing Blocked
  m(0, true, 'outgoing-blocked', 'sender_account_blocked', /outbound ?spam|outgoing (?:mail |e-?mail )?(?:is )?(?:blocked|disabled|suspended)|email outgoing blocked|sending (?:has been )?(?:paused|suspended|disabled) for (?:this|your) account|account (?:sending )?(?:is )?paused/),
  // 550-5.7.1 Our system has detected an unusual rate of unsolicited mail originating from your IP address
  m(0, true, 'unsolicited-rate', 'poor_reputation', /unusual rate of (?:\S+ )?unsolicited|poor (?:e-?mail |sender |sending )?reputation|reputation score/),
  // 554 5.7.1 <alice@example.com>: Sender address rejected: Sending quota exceeded: 500 messages per day
  m(0, true, 'sending-quota', 'rate_limited', /sending quota|submission quota|sending limit|messages per (?:day|hour|minute)|rate overlimit|ratelimit(?:ed)?\b/),
  // 550 5.0.0 User not listed in Domino Directory (a directory, not a block list)
  m(0, true, 'not-in-directory', 'recipient_unknown', /not listed in (?:the )?(?:domino )?(?:directory|address book)|user not listed/),
  // 553 5.7.1 <alice@example.com>: Sender address rejected: not owned by user bob
  m(0, true, 'not-owned', 'auth_required', /not owned by (?:auth )?(?:user|sasl)|sender address rejected: not logged in/),
  // 550 5.7.1 Client host rejected: cannot find your hostname / reverse hostname
  m(0, true, 'no-reverse-hostname', 'reverse_dns_failed', /cannot find your (?:reverse )?hostname/),

  // ---- tier 1: a named list -> blocklisted
  m(1, true, 'blocked-using', 'blocklisted', /blocked using|listed (?:in|at|on|by)\b|\bblock ?list|\bblack ?list|\bdnsbl\b|\brbl\b|spamhaus|\bzen\.|\bsbl\b|\bxbl\b|\bpbl\b|\bdbl\b|spamcop|barracuda ?reputation|barracudacentral|prs\.proofpoint\.com|ipcheck\.proofpoint|cloudmark|\bsorbs\b|banned sending ip|\(s3150\)|\bcxbl\b|\bipbl\d*\b|\bers-(?:rbl|dul|qil)\b|client host \S* ?blocked|\bip (?:address )?(?:is )?(?:black|block)listed|on our block ?list/, 'listed_entity=ip'),

  // ---- tier 2: authentication of the sender's domain
  // 550 5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy
  m(2, true, 'spf-dkim-dmarc', 'sender_auth_failed', /\bspf\b|\bdkim\b|\bdmarc\b|\barc (?:validation|failure|check)|sender policy framework|unauthenticated (?:e-?mail|message)|sender is unauthenticated|per its spf|fails? to pass authentication|sender invalid - envelope rejected|requires all senders to authenticate|(?:sender|sending domain) (?:is )?not authenticated|authentication checks? (?:did not pass|failed)|does not pass (?:dmarc|authentication)/),

  // ---- tier 3: relaying and authentication of the client
  // 554 5.7.1 <bob@example.net>: Relay access denied
  m(3, true, 'relay', 'relay_denied', /relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed))|unable to relay|not (?:allowed|permitted|authori[sz]ed) to relay|isn't in my list of allowed rcpthosts|we do not relay|we don't handle mail for|use me as a relay|non-accepted domain|relay (?:prohibited|refused|rejected)|open relay|no relaying|relay access|tenantattribution|relaying disallowed/),
  // 530 5.7.0 Authentication required; 535 5.7.8 Username and Password not accepted
  m(3, true, 'smtp-auth', 'auth_required', /authentication (?:is )?required|\bnot authenticated\b|client was not authenticated|unauthenticated senders? not allowed|username and password not accepted|application-specific password|app(?:lication)? password|incorrect authentication|authentication (?:credentials|data)|credentials (?:are )?invalid|login fail|authori[sz]ation code|must issue a starttls|\btls (?:is )?required|requires? (?:a )?(?:secure connection|tls|starttls)|\bstarttls\b|authentication (?:failed|unsuccessful)|invalid credentials|\bsmtp auth|must authenticate|please authenticate|login required|sasl authentication/),

  // ---- tier 4: the client host itself
  // 550 5.7.25 Client host rejected: ... PTR record
  m(4, true, 'ptr', 'reverse_dns_failed', /\bptr\b|reverse dns|reverse (?:dns )?lookup|reverse hostname|ip name lookup failed|\bno rdns|\brdns\b|bad dns ptr|\bfcrdns\b|\bcxdns\b|no (?:reverse|ptr) (?:record|entry)|does not resolve to (?:your )?ip|hostname does not resolve/),
  // 554 5.7.1 <unknown[203.0.113.9]>: Client host rejected: Access denied
  m(4, true, 'client-host', 'client_host_rejected', /client host rejected|helo command rejected|\bbad helo|invalid helo|helo name|host network not allowed|does not accept e-?mail over ipv6|not accept(?:ing)? (?:mail|connections) over ipv6|not allowed to connect|dynamic ip|dynamic(?:ally assigned)? address|ip (?:address )?not in (?:the )?white ?list|not (?:on|in) (?:our|the) allow ?list|connections? (?:from your ip )?not (?:allowed|accepted) from|\bgeo(?:graphic)?(?:al)? (?:block|restriction)|residential ip|access denied - invalid helo|helo rejected|(?:helo|ehlo)(?:\/ehlo)? argument|not authori[sz]ed to send (?:e-?mail |mail )?directly|use the smtp relay at your/),

  // ---- tier 5: the addresses
  // 550 5.1.8 <a@example.invalid>: Sender address rejected: Domain not found
  m(5, true, 'sender-address', 'sender_address_invalid', /domain of sender address|sender verify failed|sender verification failed|unroutable sender address|unrouteable sender|invalid sender|sender address (?:is )?invalid|emetteur invalide|need fully-qualified address|\bmx records? for\b|sender domain (?:not found|does not exist|must exist|must resolve)|sender address does not exist|unresolvable rfc\.?5321 from domain|from domain (?:does not|doesn't) (?:exist|resolve)|return-path (?:domain )?(?:invalid|does not exist)|sender (?:address )?domain (?:is )?(?:invalid|unresolvable)|bad sender address|sender unknown|unknown sender/),
  // 550 5.1.2 <bob@example.invalid>: Recipient address rejected: Domain not found
  m(5, true, 'recipient-domain', 'recipient_domain_invalid', /host unknown|domain not found|domain (?:does not|doesn't) exist|domain is not reachable|null mx|does not accept mail|host or domain name not found|name service error|no mx (?:record|for)|unrouteable (?:mail )?domain|unroutable (?:mail )?domain|dns domain \S+ (?:does not|doesn't) exist|infodomainnonexistent|bad destination (?:system|domain)|domain (?:has been )?(?:disabled|suspended)|no such domain|domain (?:is )?not (?:hosted|served) here/),
  // 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in local recipient table
  m(5, true, 'no-such-user', 'recipient_unknown', /user unknown|unknown user|no such (?:user|mailbox|recipient|account|address)|(?:user|mailbox|recipient|account|address|e-?mail account|addressee)(?: \S{1,254})? (?:does not|doesn't|did not) exist|invalid (?:recipient|mailbox|address|user)|recipient (?:not found|unknown|invalid)|unknown (?:recipient|mailbox|address|local part)|mailbox (?:not found|unavailable|does not exist|unknown|is unavailable)|user (?:not found|doesn't have|does not have)|not our customer|recipnotfound|recipientnotfound|resolver\.adr\.|cuda_nsu|dd this user doesn't have a|no mailbox here by that name|undeliverable address|^address rejected\.?$|not a valid (?:recipient|mailbox|address|user)|no longer (?:on server|available|exists)|bad destination mailbox|unknown in (?:local recipient|virtual mailbox|virtual alias|relay recipient) table|is not a known user|unrouteable address|unroutable address|does not exist here|account (?:does not|doesn't) exist|addressee unknown|no account by that name|not listed in (?:domino|address book|the directory)|recipient no longer|has moved|mailbox has been removed/),
  // 550 5.2.1 The email account that you tried to reach is disabled
  m(5, true, 'disabled', 'recipient_disabled', /\bdisabled\b|\binactive\b|\bsuspended\b|is no longer valid|account (?:is )?locked|temporar(?:il)?y locked|mailbox is frozen|blocked due to inactivity|deactivated|(?:account|mailbox) (?:has been )?(?:closed|terminated|expired)|mailbox (?:is )?(?:blocked|locked)/),

  // ---- tier 6: size and rate; sending quotas before mailbox quotas (TAXONOMY.md 6.9)
  // 552 5.3.4 Message size exceeds fixed limit
  m(6, true, 'too-large', 'message_too_large', /message size exceeds|size exceeds|message length (?:is )?(?:more|greater|larger) than|message length exceeds|too large|too big|exceed(?:s|ed)? (?:the )?(?:\S+ )?size limit|size limit exceeded|header size|message (?:is )?(?:larger|bigger) than|maximum (?:message )?size|too many attachments/),
  // 550 5.4.5 Daily user sending quota exceeded; 421 4.7.0 Try again later, closing connection (throttled)
  m(6, true, 'rate', 'rate_limited', /submission quota|sending (?:limit|quota|rate)|(?:hourly|daily|per-hour|per-day) (?:\S+ )?(?:limit|quota)|\bdaily limit|per hour|per day|too many (?:messages|recipients|connections|emails|mails|invalid recipients|concurrent)|rate limit|rate that prevents|receiving mail at a rate|frequency limited|try again slower|throttl|exceeded the (?:maximum|max) number|rate exceeded|message rate|\bratelimit|too much (?:mail|traffic)|sending too (?:fast|many)|exceeded (?:the )?(?:send|message) (?:limit|quota)|recipient rate|connection rate|volume limit/),
  // 552 5.2.2 <frank@example.com> Mailbox is full / Blocks limit exceeded
  m(6, true, 'full', 'mailbox_full', /mailbox (?:is )?full|\bfull mailbox|over ?quota|quota exceeded|quota (?:has been )?exceeded|exceeded (?:its |the |their |his |her )?(?:storage|quota)|insufficient (?:\S+ )?storage|out of storage|storage (?:space )?(?:full|exceeded|allocation)|boite du destinataire pleine|boite (?:aux lettres )?pleine|inbox is full|mailbox (?:size|quota) (?:limit|exceeded)|blocks limit exceeded|not enough (?:disk )?space|mail ?box has exceeded|user is over|over the allowed quota|full, (?:cannot|can't)/),

  // ---- tier 7: the message itself (malware before spam)
  // 554 5.7.1 Virus found: Eicar-Test-Signature
  m(7, true, 'malware', 'malware_or_attachment', /\bvirus|malware|\binfected|banned file attachment|illegal attachment|\bexecutable|attachment (?:extension |type )?(?:is )?(?:forbidden|not allowed|blocked|prohibited)|potential security issue|(?:dangerous|harmful|prohibited|blocked) attachment|file type (?:is )?not allowed|trojan|phish|- banned: |\.(?:exe|scr|pif|bat|cmd|vbs|jar|lnk|hta)\b/),
  // 550 5.7.1 Message rejected as spam by Content Filtering
  m(7, true, 'spam', 'spam_content', /\bspam|unsolicited|\bjunk\b|\bbulk\b|spam score|content filter|message content rejected|content rejected|looks like spam|mail content denied|message filtered|rejecting banned content|\bscore (?:of |too high|\d)|high (?:spam )?score|\buce\b|suspicious content|content (?:was )?(?:flagged|denied)|\bpoints\b/),
  // 550 5.7.1 Message not RFC 5322 compliant
  m(7, true, 'noncompliant', 'message_noncompliant', /rfc ?5322|rfc ?2822|rfc ?822|missing a valid message-?id|multiple (?:from|to|subject|date) (?:headers?|fields?)|duplicate (?:header|message-id)|\bmalformed|invalid characters|8-bit data in (?:message )?header|not (?:rfc|standards?)[- ]compliant|headers? (?:are |is )?not (?:rfc )?compliant|(?:missing|invalid|bad) (?:from|date|message-id|subject) header|bare (?:lf|cr|linefeed)|invalid (?:mime|header)|mime (?:error|violation)|syntax error in (?:message )?header/),
  // 550 5.7.1 Message rejected due to local policy
  m(7, false, 'policy', 'content_policy', /policy reasons|due to (?:local|content|security|organi[sz]ational|our) polic|denied by polic|organi[sz]ation(?:al)? polic|transport\.rules|anti-?spoofing|spoof(?:ed|ing)|policy violation|violat(?:es|ion of) (?:our |the )?polic|policy restrictions|has a policy that prohibit|rejected by (?:a )?(?:transport|mail flow) rule|message (?:was )?(?:rejected|blocked|refused) (?:by|due to) (?:a )?(?:rule|policy)|content polic/),

  // ---- tier 8: reputation without a named list
  // 550 5.7.1 ... very low reputation of the sending IP address
  m(8, true, 'reputation', 'poor_reputation', /reputation|unexpected volume or user complaints|will be permanently deferred|unusual rate of unsolicited|low sender score|sender score|complaints? (?:rate|from)|poor (?:sending )?history/),
];

/** The markers sorted by tier (stable: the order above is kept within a tier). */
export const MARKERS: readonly Marker[] = [...ROWS].sort((a, b) => a.tier - b.tier);
