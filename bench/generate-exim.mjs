/**
 * Seeded generator of realistic Exim 4.96 mainlogs for benchmarks, in the spirit of generate.mjs:
 * messages interleaved (about 20 in flight), most lines irrelevant to 550s (arrivals, deliveries,
 * `Completed`, SMTP connection noise, reverse-DNS misses, TLS errors, authenticator failures, queue
 * runs), about 5% of remote deliveries bounced (`**`) with the replies of several providers (Gmail,
 * Microsoft 365 / Outlook.com, Yahoo, generic Postfix and Exim servers), each bounce followed by its
 * non-delivery report (`<= <> R=parent`), 4xx deferrals (`==`) retried at the next queue runs
 * (greylisting, throttling) and a few long-lived deferred messages (a dead MX: connection timeouts,
 * `retry time not reached` at every queue run, then delivered or failed with `retry timeout
 * exceeded`), and inbound `rejected RCPT` lines from spam sources (no message ID, usually no code).
 *
 * Message IDs have the 6-6-2 base-62 form of Exim up to 4.96 (time, pid, fraction of a second):
 * `1rjaou-000CXb-DI`. Times are `YYYY-MM-DD HH:MM:SS` (no log_timezone, no milliseconds).
 *
 *   node bench/generate-exim.mjs OUT.log LINES [SEED] [DOMAINS]
 */
import { createWriteStream } from 'node:fs';
import { rng } from './generate.mjs';

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Exim's base-62 digits, zero-padded to `width` (the ID's parts). */
function base62(n, width) {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = B62[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
}

/** Our own outbound address (it appears in blocklist replies). */
const OUR_IP = '192.0.2.10';
const TLS13 = 'X=TLS1.3:TLS_AES_256_GCM_SHA384:256';
const TLS13_GNUTLS = 'X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256';
const TLS12 = 'X=TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256';

/**
 * Remote destinations. `bounces` are [stage, reply] pairs as Exim logs them (`after <stage>: <reply>`),
 * multi-line replies joined by a literal `\n` as Exim does; USER, DOMAIN, SENDER, GID are filled in.
 * `defers` are the 4xx replies of an attempt that is retried (greylisting, throttling).
 */
const PROVIDERS = [
  {
    weight: 0.34,
    domains: ['gmail.example', 'googlemail.example', 'workspace.example.org'],
    mx: () => ['gmail-smtp-in.l.google.com', 'alt1.gmail-smtp-in.l.google.com', 'aspmx.l.google.com'],
    ips: ['198.51.100.26', '198.51.100.27', '198.51.100.28'],
    tls: `${TLS13} CV=yes DN="CN=mx.google.com"`,
    ok: (g) => `250 2.0.0 OK  ${g.secs} ${g.gid} - gsmtp`,
    bounces: [
      ['RCPT TO:<USER@DOMAIN>', "550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient's email address for typos or\\n550-5.1.1 unnecessary spaces. For more information, go to\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser GID - gsmtp"],
      ['RCPT TO:<USER@DOMAIN>', "550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient's email address for typos or\\n550-5.1.1 unnecessary spaces. For more information, go to\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser GID - gsmtp"],
      ['RCPT TO:<USER@DOMAIN>', '550-5.2.1 The email account that you tried to reach is disabled. For more\\n550-5.2.1 information, go to\\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser GID - gsmtp'],
      ['end of data', "550-5.7.26 Unauthenticated email from example.com is not accepted due to\\n550-5.7.26 domain's DMARC policy. Please contact the administrator of\\n550-5.7.26 example.com domain if this was a legitimate mail. To learn about\\n550-5.7.26 the DMARC initiative, go to\\n550 5.7.26  https://support.google.com/mail/?p=DmarcRejection GID - gsmtp"],
      ['end of data', `550-5.7.1 [${OUR_IP}      12] Our system has detected that this message is\\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\\n550-5.7.1 this message has been blocked. For more information, go to\\n550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError GID - gsmtp`],
      ['RCPT TO:<USER@DOMAIN>', "552-5.2.2 The recipient's inbox is out of storage space. Please direct the\\n552-5.2.2 recipient to\\n552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm GID - gsmtp"],
    ],
    defers: [
      ['end of data', `421-4.7.28 [${OUR_IP}      15] Gmail has detected an unusual rate of\\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\\n421-4.7.28 users from spam, mail sent from your IP address has been temporarily\\n421 4.7.28 rate limited. GID - gsmtp`, -46],
      ['RCPT TO:<USER@DOMAIN>', "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\\n450-4.2.1 prevents additional messages from being delivered. Please resend your\\n450 4.2.1 message at a later point. GID - gsmtp", -44],
    ],
  },
  {
    weight: 0.26,
    domains: ['corp.example.net', 'partner.example.org', 'contoso.example'],
    mx: (d) => [`${d.replace(/\./g, '-')}.mail.protection.outlook.com`],
    ips: ['203.0.113.85', '203.0.113.86'],
    tls: `${TLS12} CV=yes DN="C=US,ST=Washington,L=Redmond,O=Microsoft Corporation,CN=mail.protection.outlook.com"`,
    ok: (g) => `250 2.6.0 <${g.mid}> [InternalId=${g.num}, Hostname=${g.exo}] ${3000 + (g.num % 90000)} bytes in 0.${g.num % 900}, ${(g.num % 700) / 10 + 10} KB/sec Queued mail for delivery`,
    bounces: [
      ['RCPT TO:<USER@DOMAIN>', '550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [EXO STAMP]'],
      ['RCPT TO:<USER@DOMAIN>', '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient USER@DOMAIN not found by SMTP address lookup'],
      ['end of data', '550 5.7.509 Access denied, sending domain EXAMPLE.COM does not pass DMARC verification and has a DMARC policy of reject. [EXO STAMP] [EXO STAMP]'],
      ['RCPT TO:<USER@DOMAIN>', `550 5.7.606 Access denied, banned sending IP [${OUR_IP}]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) [EXO STAMP]`],
      ['end of data', '550 5.7.520 Message blocked because it contains content identified as spam. AS(4810) [EXO STAMP]'],
    ],
    defers: [['RCPT TO:<USER@DOMAIN>', `451 4.7.500 Server busy. Please try again later from [${OUR_IP}]. (S77714) [EXO STAMP]`, -44]],
  },
  {
    // Outlook.com consumer mailboxes (hotmail, live, outlook): other hosts, other replies.
    weight: 0.08,
    domains: ['outlook.example', 'hotmail.example'],
    mx: () => ['outlook-com.olc.protection.outlook.com'],
    ips: ['203.0.113.92', '203.0.113.93'],
    tls: `${TLS12} CV=yes DN="C=US,ST=Washington,L=Redmond,O=Microsoft Corporation,CN=*.olc.protection.outlook.com"`,
    ok: (g) => `250 2.6.0 <${g.mid}> [InternalId=${g.num}, Hostname=${g.exo}] Queued mail for delivery -> 250 2.1.5`,
    bounces: [
      ['RCPT TO:<USER@DOMAIN>', '550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [EXO STAMP]'],
      ['MAIL FROM:<SENDER> SIZE=NUM', `550 5.7.1 Unfortunately, messages from [${OUR_IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [EXO STAMP]`],
    ],
    defers: [['MAIL FROM:<SENDER> SIZE=NUM', `451 4.7.650 The mail server [${OUR_IP}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [EXO STAMP]`, -45]],
  },
  {
    weight: 0.12,
    domains: ['yahoo.example', 'aol.example', 'ymail.example'],
    mx: () => ['mta5.am0.yahoodns.net', 'mta6.am0.yahoodns.net', 'mta7.am0.yahoodns.net'],
    ips: ['198.51.100.140', '198.51.100.141', '198.51.100.142'],
    tls: `${TLS13} CV=yes DN="C=US,ST=New York,L=New York,O=Yahoo Holdings Inc.,CN=*.am0.yahoodns.net"`,
    ok: () => '250 ok dirdel',
    bounces: [
      ['RCPT TO:<USER@DOMAIN>', '552 1 Requested mail action aborted, mailbox not found'],
      ['end of data', '554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes'],
      ['end of data', '550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.'],
      ['initial connection', `553 5.7.2 [TSS09] All messages from ${OUR_IP} will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes`],
    ],
    defers: [['initial connection', `421 4.7.0 [TSS04] Messages from ${OUR_IP} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes`, -18]],
  },
  {
    // Self-hosted Postfix servers.
    weight: 0.12,
    domains: ['example.org', 'mail.example.org', 'lists.example.net', 'shop.example'],
    mx: (d) => [`mx.${d.replace(/^mail\./, '')}`, `mx2.${d.replace(/^mail\./, '')}`],
    ips: ['203.0.113.25', '203.0.113.26', '198.51.100.40'],
    tls: `${TLS13_GNUTLS} CV=yes`,
    ok: (g) => `250 2.0.0 Ok: queued as ${g.pfq}`,
    bounces: [
      ['RCPT TO:<USER@DOMAIN>', '550 5.1.1 <USER@DOMAIN>: Recipient address rejected: User unknown in virtual mailbox table'],
      ['RCPT TO:<USER@DOMAIN>', '550 5.1.1 <USER@DOMAIN>: Recipient address rejected: User unknown in local recipient table'],
      ['RCPT TO:<USER@DOMAIN>', '554 5.7.1 <USER@DOMAIN>: Relay access denied'],
      ['RCPT TO:<USER@DOMAIN>', `554 5.7.1 Service unavailable; Client host [${OUR_IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/${OUR_IP}`],
      ['MAIL FROM:<SENDER> SIZE=NUM', '550 5.7.1 <SENDER>: Sender address rejected: Access denied'],
      ['RCPT TO:<USER@DOMAIN>', '552 5.2.2 <USER@DOMAIN>: Recipient address rejected: Mailbox full'],
    ],
    defers: [['RCPT TO:<USER@DOMAIN>', '451 4.7.1 <USER@DOMAIN>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/DOMAIN.html', -44]],
  },
  {
    // Self-hosted and shared-hosting (cPanel) Exim servers.
    weight: 0.08,
    domains: ['example.net', 'hosting.example.com', 'club.example.org'],
    mx: (d) => [`mail.${d}`],
    ips: ['198.51.100.71', '198.51.100.72'],
    tls: `${TLS13} CV=no`,
    ok: (g) => `250 OK id=${g.eximId}`,
    bounces: [
      ['RCPT TO:<USER@DOMAIN>', '550 No Such User Here'],
      ['RCPT TO:<USER@DOMAIN>', '550 Unrouteable address'],
      ['RCPT TO:<USER@DOMAIN>', '550 Administrative prohibition'],
      ['RCPT TO:<USER@DOMAIN>', `550-Verification failed for <SENDER>\\n550-Called:   192.0.2.25\\n550-Sent:     RCPT TO:<SENDER>\\n550-Response: 550 5.1.1 <SENDER>: Recipient address rejected: User unknown\\n550 Sender verify failed`],
      ['end of data', '550-Rejected by spam filter, score 12.4\\n550 Your message was classified as spam'],
    ],
    defers: [['RCPT TO:<USER@DOMAIN>', '451 Temporary local problem - please try later', -44]],
  },
];
const WEIGHTS = PROVIDERS.reduce((acc, p) => [...acc, (acc.at(-1) ?? 0) + p.weight], []);
/** Domains of a dead MX: messages to them stay deferred for hours (connection timeouts). */
const DEAD = ['legacy.example.com', 'closed.example.net', 'old-partner.example.org'];
/** Our own domain: inbound mail is delivered to local mailboxes. */
const LOCAL = 'example.com';
const APPS = [
  ['noreply@example.com', 'web01.example.com', '127.0.0.1', ['Welcome to Example', 'Reset your password', 'Your order has shipped', 'Confirm your subscription']],
  ['alerts@example.com', 'mon01.example.com', '192.0.2.31', ['Weekly usage report', 'Disk usage above 90%', 'Invoice available']],
  ['newsletter@example.com', 'web02.example.com', '192.0.2.21', ['March product update', 'New features this week']],
];
/** Inbound rejections of spam sources: the end of `rejected RCPT <...>: ...` (Debian's exim4-config ACLs and common custom ones). */
const REJECTS = [
  'relay not permitted',
  'Unrouteable address',
  'Sender verify failed',
  'JunkMail rejected - (HELO) [IP]:PORT is in an RBL: Client host blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/IP',
  '550 5.7.1 Message rejected: blocklisted sender',
  'No Such User Here',
];
const TLS_ERRORS = [
  '(gnutls_handshake): The TLS connection was non-properly terminated.',
  '(gnutls_handshake): Could not negotiate a supported cipher suite.',
  '(recv): The TLS connection was non-properly terminated.',
  '(gnutls_handshake): An unexpected TLS packet was received.',
];

export async function generateExim(path, lines, seed = 550, domainCount = 0) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const int = (n) => Math.floor(r() * n);
  const provider = (k) => {
    // With domainCount, d<k>.example belongs to a provider chosen by k (a domain keeps its MX).
    const x = k === undefined ? r() : ((k * 2654435761) >>> 0) / 4294967296;
    return PROVIDERS[WEIGHTS.findIndex((w) => x < w)] ?? PROVIDERS[0];
  };
  // With domainCount, recipient domains come from a heavy-tailed set of that many (as generate.mjs).
  const pickRemote = () => {
    if (domainCount > 0) {
      const k = Math.floor(domainCount * r() ** 3);
      return { domain: `d${k}.example`, p: provider(k) };
    }
    const p = provider();
    return { domain: pick(p.domains), p };
  };
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let t = Date.UTC(2024, 2, 11, 6, 0, 0);
  let pid = 48190;
  let written = 0;
  let connections = 1;
  const stamp = () => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
  /** A 4.96 message ID: seconds, pid of the receiving process, fraction of the second (1/2000 s). */
  const newId = () => {
    pid = (pid + 1 + int(60)) % 4194304;
    return `${base62(Math.floor(t / 1000), 6)}-${base62(pid, 6)}-${base62((t % 1000) * 2 + int(2), 2)}`;
  };
  const gsmtp = () => `${String.fromCharCode(97 + int(26))}${int(99)}si${int(9999999)}.${int(999)}`;
  const exoStamp = () => `${pick(['AM4PEPF00027A61', 'DB8PR04MB7019', 'VI1EUR04FT032', 'DB5EUR03FT012'])}.eurprd0${1 + int(8)}.prod.outlook.com ${new Date(t).toISOString()} 08DC${(0x10000000 + int(0xefffffff)).toString(16).toUpperCase()}`;
  /** Fills the placeholders of a reply or a stage. */
  const fill = (s, rcpt, sender) => {
    const [user, domain] = rcpt.split('@');
    return s
      .replaceAll('USER', user)
      .replaceAll('DOMAIN', domain)
      .replaceAll('SENDER', sender)
      .replaceAll('GID', gsmtp())
      .replaceAll('EXO STAMP', exoStamp())
      .replace('NUM', String(2000 + int(60000)));
  };
  const okReply = (p) =>
    p.ok({
      secs: Math.floor(t / 1000),
      gid: gsmtp(),
      mid: `${int(1e9).toString(36)}@example.com`,
      num: 1e12 + int(1e12),
      exo: pick(['AM0PR04MB6483.eurprd04.prod.outlook.com', 'DB9PR05MB8211.eurprd05.prod.outlook.com']),
      pfq: `4Tt${base62(int(62 ** 8), 8)}${base62(int(62 ** 3), 3)}`.slice(0, 15),
      eximId: `${base62(Math.floor(t / 1000), 6)}-${base62(int(62 ** 6), 6)}-${base62(int(2000), 2)}`,
    });
  const remoteHost = (p, domain) => `H=${pick(p.mx(domain))} [${pick(p.ips)}]`;

  const inflight = [];
  /** Messages waiting for a later queue run: { msg, rcpt, domain, p, sender, next, fate, lifeEnd }. */
  const deferred = [];
  /** A sequence of lines of one message or connection; `then` runs once its last line is written. */
  const seq = (lines, then = null) => ({ lines, then });

  /** The non-delivery report of a failed message: its arrival goes right after the `**` line. */
  const bounceOf = (parentId, sender) => {
    const id = newId();
    return {
      arrival: `${id} <= <> R=${parentId} U=Debian-exim P=local S=${3000 + int(20000)} T="Mail delivery failed: returning message to sender"`,
      rest: [`${id} => ${sender} R=dnslookup T=remote_smtp H=mx.example.com [192.0.2.25] ${TLS13} CV=yes DN="CN=mx.example.com" C="250 2.0.0 Ok: queued as 4Tt${base62(int(62 ** 6), 6)}Z"`, `${id} Completed`],
    };
  };

  /** An outbound message: from an application or a user of ours to remote recipients. */
  const outbound = () => {
    const id = newId();
    const port = 32768 + int(28000);
    const lines = [];
    let sender;
    if (r() < 0.7) {
      const [from, helo, ip, subjects] = pick(APPS);
      sender = from;
      const host = ip === '127.0.0.1' ? `localhost (${helo})` : `(${helo})`;
      lines.push(`SMTP connection from [${ip}]:${port} (TCP/IP connection count = ${1 + int(4)})`);
      lines.push(`${id} <= ${from} H=${host} [${ip}]:${port} I=[${ip === '127.0.0.1' ? ip : '192.0.2.10'}]:25 P=esmtp S=${1000 + int(30000)} id=${new Date(t).toISOString().replace(/\D/g, '').slice(0, 14)}.${int(2 ** 31).toString(16)}@${helo} T="${pick(subjects)}"`);
      lines.push(`SMTP connection from ${host} [${ip}]:${port} closed by QUIT`);
    } else {
      const user = `user${int(5000)}`;
      sender = `${user}@${LOCAL}`;
      const ip = `192.0.2.${100 + int(150)}`;
      lines.push(`SMTP connection from [${ip}]:${port} (TCP/IP connection count = ${1 + int(4)})`);
      lines.push(`${id} <= ${sender} H=(laptop-${user}) [${ip}]:${port} I=[192.0.2.10]:587 P=esmtpsa ${TLS13} CV=no A=dovecot_plain:${sender} S=${2000 + int(90000)} id=${int(2 ** 31).toString(36)}.${int(2 ** 31).toString(36)}@laptop-${user}.${LOCAL}`);
      lines.push(`SMTP connection from (laptop-${user}) [${ip}]:${port} closed by QUIT`);
    }
    const n = 1 + (r() < 0.15 ? int(4) : 0);
    let open = 0; // recipients deferred to a later queue run: the message is not Completed yet
    const later = [];
    let bounced = false;
    let lastHost = null;
    for (let i = 0; i < n; i++) {
      const dead = r() < 0.005;
      const { domain, p } = dead ? { domain: pick(DEAD), p: null } : pickRemote();
      const rcpt = `${pick(['', 'j.', 'info.', 'm.'])}u${int(100000)}@${domain}`;
      const x = r();
      if (dead) {
        // A dead MX: connection timeouts now, retries at later queue runs for hours.
        lines.push(`${id} == ${rcpt} R=dnslookup T=remote_smtp defer (110): Connection timed out H=mx.${domain} [203.0.113.${200 + int(50)}]`);
        open++;
        later.push({ rcpt, domain, p: null, sender, next: t + 15 * 60_000, fate: r() < 0.5 ? 'timeout' : 'delivered', lifeEnd: t + (6 + int(42)) * 3_600_000, tries: 1 });
      } else if (x < 0.05) {
        const [stage, reply] = pick(p.bounces);
        const host = remoteHost(p, domain);
        lines.push(`${id} ** ${rcpt} R=dnslookup T=remote_smtp ${host} ${p.tls}: SMTP error from remote mail server after ${fill(stage, rcpt, sender)}: ${fill(reply, rcpt, sender)}`);
        bounced = true;
      } else if (x < 0.09) {
        const [stage, reply, errno] = pick(p.defers);
        lines.push(`${id} == ${rcpt} R=dnslookup T=remote_smtp defer (${errno}) ${remoteHost(p, domain)}: SMTP error from remote mail server after ${fill(stage, rcpt, sender)}: ${fill(reply, rcpt, sender)}`);
        open++;
        later.push({ rcpt, domain, p, sender, next: t + (5 + int(25)) * 60_000, fate: 'delivered', lifeEnd: 0, tries: 1 });
      } else {
        // Recipients of one domain after the first go in the same SMTP transaction: `->`.
        const same = lastHost !== null && lastHost.domain === domain;
        const host = same ? lastHost.host : remoteHost(p, domain);
        lines.push(`${id} ${same ? '->' : '=>'} ${rcpt} R=dnslookup T=remote_smtp ${host} ${p.tls} C="${okReply(p)}"`);
        lastHost = { domain, host };
      }
    }
    if (bounced) {
      const b = bounceOf(id, sender);
      lines.push(b.arrival);
      if (open === 0) lines.push(`${id} Completed`);
      lines.push(...b.rest);
    } else if (open === 0) lines.push(`${id} Completed`);
    // The deferred recipients join the queue once the message's lines are out.
    const msg = { id, open };
    return seq(lines, later.length === 0 ? null : () => deferred.push(...later.map((d) => ({ ...d, msg }))));
  };

  /** An inbound message from a remote server to a local mailbox. */
  const inbound = () => {
    const id = newId();
    const port = 32768 + int(28000);
    const src = pick([
      ['mail-wr1-f54.google.example', '198.51.100.54', 'esmtps', `${TLS13} CV=no`],
      ['mail.example.net', '198.51.100.71', 'esmtps', `${TLS13} CV=no`],
      ['out.lists.example.org', '203.0.113.60', 'esmtp', ''],
      ['EUR05-DB8-obe.outbound.protection.outlook.com', '203.0.113.99', 'esmtps', `${TLS12} CV=no`],
    ]);
    const from = `${pick(['alice', 'bob', 'carol', 'news', 'billing', 'dave'])}${int(900)}@${pick(['example.net', 'example.org', 'gmail.example', 'partner.example.org'])}`;
    const rcpt = `${pick(['sales', 'info', 'support'])}${int(300)}@${LOCAL}`;
    const lines = [
      `SMTP connection from [${src[1]}]:${port} (TCP/IP connection count = ${1 + int(6)})`,
      `${id} <= ${from} H=${src[0]} [${src[1]}]:${port} I=[192.0.2.10]:25 P=${src[2]} ${src[3] ? `${src[3]} ` : ''}S=${3000 + int(200000)} id=${int(2 ** 31).toString(36)}${int(2 ** 31).toString(36)}@${src[0]}`,
      `SMTP connection from ${src[0]} [${src[1]}]:${port} closed by QUIT`,
    ];
    if (r() < 0.01) {
      // A local mailbox that does not exist (an alias removed after the RCPT check): LMTP refuses.
      lines.push(`${id} ** ${rcpt} R=local_user T=dovecot_lmtp: LMTP error after RCPT TO:<${rcpt}>: 550 5.1.1 <${rcpt}> User doesn't exist: ${rcpt}`);
      const b = bounceOf(id, from);
      lines.push(b.arrival, `${id} Completed`, ...b.rest);
    } else {
      lines.push(`${id} => ${rcpt.split('@')[0]} <${rcpt}> R=local_user T=dovecot_lmtp`, `${id} Completed`);
    }
    return seq(lines);
  };

  /** A connection of a spam source: refused recipients, no message. */
  const spamConnection = () => {
    const ip = `203.0.113.${1 + int(250)}`;
    const port = 32768 + int(28000);
    const helo = pick(['pc', 'user-pc', 'localhost.localdomain', 'ylmf-pc', 'mail']) + (r() < 0.5 ? int(99) : '');
    const sender = `${pick(['promo', 'offers', 'info', 'admin'])}${int(99)}@${pick(['example.org', 'bulk.example.net', 'example.info'])}`;
    const lines = [`SMTP connection from [${ip}]:${port} (TCP/IP connection count = ${1 + int(8)})`];
    if (r() < 0.7) lines.push(`no host name found for IP address ${ip}`);
    const n = 1 + (r() < 0.3 ? int(5) : 0);
    for (let i = 0; i < n; i++) {
      const reason = pick(REJECTS);
      const rcpt = `${pick(['x', 'sales', 'jobs', 'u'])}${int(999)}@${LOCAL}`;
      if (reason === 'Sender verify failed') lines.push(`H=(${helo}) [${ip}]:${port} sender verify fail for <${sender}>: ${pick(['Unrouteable address', 'all relevant MX records point to non-existent hosts'])}`);
      const text = reason.replace('HELO', helo).replaceAll('IP', ip).replace('PORT', String(port));
      lines.push(`H=(${helo}) [${ip}]:${port} F=<${sender}> rejected RCPT <${rcpt}>: ${text}`);
    }
    lines.push(
      r() < 0.5
        ? `unexpected disconnection while reading SMTP command from (${helo}) [${ip}]:${port} D=${1 + int(9)}s`
        : `SMTP connection from (${helo}) [${ip}]:${port} closed by QUIT`,
    );
    return seq(lines);
  };

  /** Lines written at a queue run (every 30 min of log time, `-q30m`): retries of deferred recipients. */
  const queueRun = () => {
    const qpid = (pid = (pid + 1 + int(60)) % 4194304);
    const lines = [`Start queue run: pid=${qpid}`];
    for (let i = 0; i < deferred.length; i++) {
      const d = deferred[i];
      const id = d.msg.id;
      let done = false;
      if (t < d.next) {
        lines.push(`${id} == ${d.rcpt} R=dnslookup T=remote_smtp defer (-53): retry time not reached for any host for '${d.domain}'`);
      } else if (d.p === null && d.fate === 'timeout' && t >= d.lifeEnd) {
        lines.push(`${id} ** ${d.rcpt} R=dnslookup T=remote_smtp: retry timeout exceeded`);
        const b = bounceOf(id, d.sender);
        lines.push(b.arrival);
        d.bounce = b.rest;
        done = true;
      } else if (d.p === null && t < d.lifeEnd) {
        // Retries space out (Exim's default rule: every 15 min for 2 h, then growing by 1.5).
        d.tries++;
        d.next = t + Math.min(6 * 3_600_000, 15 * 60_000 * 1.5 ** Math.max(0, d.tries - 8));
        lines.push(`${id} == ${d.rcpt} R=dnslookup T=remote_smtp defer (110): Connection timed out H=mx.${d.domain} [203.0.113.${200 + int(50)}]`);
      } else {
        const p = d.p ?? PROVIDERS[4];
        const host = d.p === null ? `H=mx.${d.domain} [203.0.113.${200 + int(50)}]` : remoteHost(p, d.domain);
        lines.push(`${id} => ${d.rcpt} R=dnslookup T=remote_smtp ${host} ${p.tls} C="${okReply(p)}"`);
        done = true;
      }
      if (done) {
        deferred.splice(i--, 1);
        if (--d.msg.open === 0) lines.push(`${id} Completed`);
        if (d.bounce) lines.push(...d.bounce);
      }
    }
    lines.push(`End queue run: pid=${qpid}`);
    return lines;
  };

  const write = async (line) => {
    if (!out.write(`${stamp()} ${line}\n`)) await new Promise((resolve) => out.once('drain', resolve));
    written++;
  };
  await write(`exim 4.96 daemon started: pid=${pid}, -q30m, listening for SMTP on port 25 (IPv6 and IPv4) port 587 (IPv6 and IPv4) port 465 (IPv6 and IPv4)`);
  let nextRun = t + 30 * 60_000;
  while (written < lines) {
    while (inflight.length < 20) {
      const k = r();
      inflight.push(k < 0.6 ? outbound() : k < 0.88 ? inbound() : spamConnection());
    }
    t += int(400);
    if (t >= nextRun) {
      nextRun += 30 * 60_000;
      for (const line of queueRun()) {
        if (written >= lines) break;
        await write(line);
      }
      continue;
    }
    const noise = r();
    let line;
    if (noise < 0.03) {
      const ip = `198.51.100.${1 + int(250)}`;
      line = `TLS error on connection from ${r() < 0.5 ? `(${pick(['User', 'WIN-CLJ1B0GQ6JP', 'ylmf-pc'])}) ` : ''}[${ip}]:${32768 + int(28000)} ${pick(TLS_ERRORS)}`;
    } else if (noise < 0.06) {
      const ip = `203.0.113.${1 + int(250)}`;
      line = `dovecot_login authenticator failed for (User) [${ip}]:${32768 + int(28000)}: 535 Incorrect authentication data (set_id=${pick(['admin', 'info', 'test', 'sales'])}@${LOCAL})`;
    } else if (noise < 0.075) {
      line = `SMTP command timeout on connection from [203.0.113.${1 + int(250)}]:${32768 + int(28000)} D=5m`;
    } else if (noise < 0.085) {
      line = `SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[203.0.113.${1 + int(250)}]:${32768 + int(28000)} input="\\r\\n"`;
    } else {
      const k = int(inflight.length);
      const m = inflight[k];
      line = m.lines.shift();
      if (m.lines.length === 0) {
        inflight.splice(k, 1);
        m.then?.();
      }
    }
    await write(line);
  }
  return new Promise((resolve, reject) => {
    out.on('error', reject);
    out.end(resolve);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, lines, seed, domains] = process.argv.slice(2);
  if (!path || !lines) {
    console.error('usage: node bench/generate-exim.mjs OUT.log LINES [SEED] [DOMAINS]');
    process.exit(2);
  }
  await generateExim(path, Number(lines), seed ? Number(seed) : 550, domains ? Number(domains) : 0);
}
