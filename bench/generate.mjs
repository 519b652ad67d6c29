/**
 * Seeded generator of realistic Postfix logs for benchmarks: concurrent messages interleaved (about
 * 20 in flight), most lines irrelevant (connect/disconnect, TLS, anvil, dovecot), about 5% of
 * deliveries bounced with replies from several providers, inbound NOQUEUE rejects, 4xx deferrals.
 *
 *   node bench/generate.mjs OUT.log LINES [SEED] [DOMAINS]
 */
import { createWriteStream } from 'node:fs';

/** mulberry32: small, fast, seeded (also used by generate-exchange.mjs). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BOUNCES = [
  ['gmail-smtp-in.l.google.com', 'rcpt', "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser x12si3456 - gsmtp"],
  ['gmail-smtp-in.l.google.com', 'end of DATA', "550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's 550-5.7.26 DMARC policy. Please contact the administrator of example.org domain 550 5.7.26 if this was a legitimate mail. - gsmtp"],
  ['example-net.mail.protection.outlook.com', 'RCPT TO', '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient USER@example.net not found by SMTP address lookup'],
  ['example-net.mail.protection.outlook.com', 'RCPT TO', '550 5.7.606 Access denied, banned sending IP [192.0.2.10]. To request removal from this list please visit https://sender.office.com/ (AS16012609)'],
  ['mta7.am0.yahoodns.net', 'end of DATA', '554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes'],
  ['mx.example.org', 'RCPT TO', '550 5.1.1 <USER@example.org>: Recipient address rejected: User unknown in virtual mailbox table'],
  ['mx.example.org', 'RCPT TO', '550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.example.net'],
  ['mx1.example.com', 'RCPT TO', '552 5.2.2 <USER@example.com>: Mailbox full'],
  ['mx1.example.com', 'MAIL FROM', '550 5.7.1 <SENDER>: Sender address rejected: Access denied'],
  ['us-smtp-inbound-1.mimecast.com', 'RCPT TO', '550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550'],
];
const REJECTS = [
  '550 5.1.1 <USER@example.com>: Recipient address rejected: User unknown in local recipient table',
  '554 5.7.1 <USER@example.net>: Relay access denied',
  '550 5.7.1 Service unavailable; client [IP] blocked using zen.example.org',
];
const DOMAINS = ['example.org', 'example.net', 'example.com', 'mail.example.org', 'corp.example.net', 'gmail.example', 'outlook.example'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Writes `lines` lines to `path`. With `notifications`, each bounce's non-delivery report is a message
 * of its own lines too (cleanup, qmgr `from=<>`, its LMTP delivery to the sender, `removed`), as in
 * a real log; without it (the default, which the cached logs and recorded results use) the report's
 * queue ID is only named, so a follower keeps it open until its idle timeout (bench/tail-rate.mjs
 * needs them closed: its log time is the wall clock).
 */
export async function generate(path, lines, seed = 550, domainCount = 0, { notifications = false } = {}) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  // With domainCount, recipient domains come from a heavy-tailed set of that many (d17.example...):
  // a few busy domains and a long tail, as a real relay sees.
  const pickDomain = domainCount > 0 ? () => `d${Math.floor(domainCount * r() ** 3)}.example` : () => pick(DOMAINS);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let t = Date.UTC(2024, 2, 11, 6, 0, 0);
  let qidCounter = 0x4b1e9c2000;
  let written = 0;
  const stamp = () => {
    const d = new Date(t);
    const day = String(d.getUTCDate()).padStart(2, ' ');
    return `${MONTHS[d.getUTCMonth()]} ${day} ${d.toISOString().slice(11, 19)} mx1`;
  };
  const inflight = [];
  const newMessage = () => {
    const qid = (qidCounter += 1 + Math.floor(r() * 97)).toString(16).toUpperCase();
    const ip = `198.51.100.${1 + Math.floor(r() * 250)}`;
    const sender = `user${Math.floor(r() * 5000)}@example.com`;
    const n = 1 + (r() < 0.15 ? Math.floor(r() * 4) : 0);
    const lines = [
      `postfix/smtpd[${2000 + Math.floor(r() * 900)}]: connect from client.example.com[${ip}]`,
      `postfix/smtpd[2100]: ${qid}: client=client.example.com[${ip}], sasl_method=PLAIN, sasl_username=${sender}`,
      `postfix/cleanup[2200]: ${qid}: message-id=<${qid.toLowerCase()}.${Math.floor(r() * 1e9)}@example.com>`,
      `postfix/smtpd[2100]: disconnect from client.example.com[${ip}] ehlo=1 auth=1 mail=1 rcpt=${n} data=1 quit=1 commands=${5 + n}`,
      `postfix/qmgr[1100]: ${qid}: from=<${sender}>, size=${1000 + Math.floor(r() * 90000)}, nrcpt=${n} (queue active)`,
    ];
    for (let i = 0; i < n; i++) {
      const rcpt = `u${Math.floor(r() * 100000)}@${pickDomain()}`;
      const p = r();
      if (r() < 0.3) lines.push(`postfix/smtp[3000]: Trusted TLS connection established to mx.example.net[203.0.113.25]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`);
      if (p < 0.05) {
        const [host, stage, reply] = pick(BOUNCES);
        const text = reply.replace('USER', rcpt.split('@')[0]).replace('SENDER', sender);
        const dsn = /\b([45]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1] ?? '5.0.0';
        lines.push(`postfix/smtp[3001]: ${qid}: to=<${rcpt}>, relay=${host}[203.0.113.${10 + i}]:25, delay=1.4, delays=0.1/0/0.7/0.6, dsn=${dsn}, status=bounced (host ${host}[203.0.113.${10 + i}] said: ${text} (in reply to ${stage} command))`);
        const ndr = (qidCounter += 3).toString(16).toUpperCase();
        if (notifications) lines.push(`postfix/cleanup[2200]: ${ndr}: message-id=<20240311.${ndr}@mx1.example.com>`);
        lines.push(`postfix/bounce[3100]: ${qid}: sender non-delivery notification: ${ndr}`);
        if (notifications) {
          lines.push(
            `postfix/qmgr[1100]: ${ndr}: from=<>, size=${3000 + (text.length % 4000)}, nrcpt=1 (queue active)`,
            `postfix/lmtp[3300]: ${ndr}: to=<${sender}>, relay=mail.example.com[private/dovecot-lmtp], delay=0.05, delays=0.01/0/0.01/0.03, dsn=2.0.0, status=sent (250 2.0.0 <${sender}> Saved)`,
            `postfix/qmgr[1100]: ${ndr}: removed`,
          );
        }
      } else if (p < 0.09) {
        lines.push(`postfix/smtp[3001]: ${qid}: to=<${rcpt}>, relay=mx.example.net[203.0.113.25]:25, delay=300, delays=0.1/0/0.2/0.1, dsn=4.2.0, status=deferred (host mx.example.net[203.0.113.25] said: 450 4.2.0 <${rcpt}>: Recipient address rejected: Greylisted (in reply to RCPT TO command))`);
      } else {
        lines.push(`postfix/smtp[3001]: ${qid}: to=<${rcpt}>, relay=mx.example.net[203.0.113.25]:25, delay=0.9, delays=0.1/0/0.4/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${(qidCounter + 7).toString(16).toUpperCase()})`);
      }
    }
    lines.push(`postfix/qmgr[1100]: ${qid}: removed`);
    return lines;
  };
  while (written < lines) {
    while (inflight.length < 20) inflight.push(newMessage());
    t += Math.floor(r() * 400);
    const noise = r();
    let line;
    if (noise < 0.08) line = `dovecot: imap-login: Login: user=<user${Math.floor(r() * 5000)}@example.com>, method=PLAIN, rip=192.0.2.${Math.floor(r() * 250)}, lip=192.0.2.10, TLS`;
    else if (noise < 0.1) line = `postfix/anvil[1200]: statistics: max connection rate 3/60s for (smtp:198.51.100.${Math.floor(r() * 250)}) at ${stamp().slice(0, 15)}`;
    else if (noise < 0.13) {
      const rc = pick(REJECTS).replace('USER', `x${Math.floor(r() * 999)}`).replace('IP', '203.0.113.140');
      line = `postfix/smtpd[2300]: NOQUEUE: reject: RCPT from unknown[203.0.113.${Math.floor(r() * 250)}]: ${rc}; from=<spam${Math.floor(r() * 99)}@example.org> to=<x@example.com> proto=ESMTP helo=<pc${Math.floor(r() * 99)}>`;
    } else {
      const k = Math.floor(r() * inflight.length);
      const m = inflight[k];
      line = m.shift();
      if (m.length === 0) inflight.splice(k, 1);
    }
    if (!out.write(`${stamp()} ${line}\n`)) await new Promise((resolve) => out.once('drain', resolve));
    written++;
  }
  return new Promise((resolve, reject) => {
    out.on('error', reject);
    out.end(resolve);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, lines, seed, domains] = process.argv.slice(2);
  if (!path || !lines) {
    console.error('usage: node bench/generate.mjs OUT.log LINES [SEED] [DOMAINS]');
    process.exit(2);
  }
  await generate(path, Number(lines), seed ? Number(seed) : 550, domains ? Number(domains) : 0);
}
