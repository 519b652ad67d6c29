/**
 * Seeded generator of an Exchange 2019 message tracking log (30 fields, CRLF): messages received
 * over SMTP or from mailboxes, delivered locally or sent out, about 3% of recipients failed by the
 * resolver (unknown local users) or by a remote server, some deferred, quoted source-context fields.
 *
 *   node bench/generate-exchange.mjs OUT.LOG ROWS [SEED]
 */
import { createWriteStream } from 'node:fs';
import { rng } from './generate.mjs';

const FIELDS = 'date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version';
const REMOTE_FAILS = [
  ['gmail-smtp-in.l.google.com', '198.51.100.27', "550 5.7.26 Unauthenticated email from corp.example.com is not accepted due to domain's DMARC policy"],
  ['example-net.mail.protection.outlook.com', '198.51.100.31', '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'],
  ['mx.example.org', '203.0.113.25', '550 5.1.1 <USER>: Recipient address rejected: User unknown in virtual mailbox table'],
];

export async function generateExchange(path, rows, seed = 550) {
  const r = rng(seed);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const w = async (s) => {
    if (!out.write(s)) await new Promise((res) => out.once('drain', res));
  };
  await w(`#Software: Microsoft Exchange Server\r\n#Version: 15.02.1118.007\r\n#Log-type: Message Tracking Log\r\n#Date: 2024-03-11T00:00:00.000Z\r\n#Fields: ${FIELDS}\r\n`);
  let t = Date.UTC(2024, 2, 11, 0, 0, 0);
  let id = 18734209;
  let written = 0;
  const line = (f) => w(`${f.join(',')}\r\n`);
  while (written < rows) {
    t += Math.floor(r() * 400);
    id++;
    const ts = new Date(t).toISOString();
    const nmid = `${(id * 2654435761 >>> 0).toString(16).padStart(8, '0')}-0c2b-4a5e-9a61-08db3f8e3e2c`;
    const mid = `<${id.toString(36)}@ex01.corp.example.com>`;
    const incoming = r() < 0.5;
    const sender = incoming ? `user${Math.floor(r() * 3000)}@example.${['org', 'net', 'com'][Math.floor(r() * 3)]}` : `staff${Math.floor(r() * 500)}@corp.example.com`;
    const rcpt = incoming ? `user${Math.floor(r() * 800)}@corp.example.com` : `person${Math.floor(r() * 5000)}@${['gmail.example', 'example.net', 'example.org'][Math.floor(r() * 3)]}`;
    const base = (event, source, rc, status, extra = {}) => {
      const f = Object.fromEntries(FIELDS.split(',').map((k) => [k, '']));
      Object.assign(f, { 'date-time': ts, 'server-hostname': 'EX01', source, 'event-id': event, 'internal-message-id': String(id), 'message-id': mid, 'network-message-id': nmid, 'recipient-address': rc, 'recipient-status': status, 'total-bytes': String(2000 + Math.floor(r() * 90000)), 'recipient-count': '1', 'message-subject': 'Weekly, "status" update', 'sender-address': sender, 'return-path': sender, directionality: incoming ? 'Incoming' : 'Originating', 'transport-traffic-type': 'Email', 'log-id': String(written), 'schema-version': '15.02.1118.007' }, extra);
      return FIELDS.split(',').map((k) => (/[",]/.test(f[k]) ? `"${f[k].replace(/"/g, '""')}"` : f[k]));
    };
    await line(base('RECEIVE', incoming ? 'SMTP' : 'STOREDRIVER', rcpt, '', incoming ? { 'client-ip': '203.0.113.9', 'client-hostname': 'mail.example.org', 'source-context': '08DB3F8E3E2C1A4B;250 2.6.0 queued, id=1' } : { 'source-context': 'MDB:7a1f, Mailbox:3c2d, Event:18734, MessageClass:IPM.Note' }));
    await line(base('AGENTINFO', 'AGENT', rcpt, '', { 'custom-data': 'S:AMA=SUM|v=0|action=|error=|atch=0;S:CompCost=|ETR=0' }));
    written += 2;
    const x = r();
    if (incoming) {
      if (x < 0.03) {
        await line(base('FAIL', 'ROUTING', rcpt, '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'));
        await line(base('DSN', 'DSN', sender, '', { reference: mid }));
        written += 2;
      } else {
        await line(base('DELIVER', 'STOREDRIVER', rcpt, '250 2.1.5Recipient OK'));
        written++;
      }
    } else if (x < 0.03) {
      const [h, ip, text] = REMOTE_FAILS[Math.floor(r() * REMOTE_FAILS.length)];
      await line(base('FAIL', 'SMTP', rcpt, text.replace('USER', rcpt), { 'server-hostname': h, 'server-ip': ip }));
      written++;
    } else if (x < 0.05) {
      await line(base('DEFER', 'SMTP', rcpt, '451 4.4.0 DNS query failed'));
      await line(base('SENDEXTERNAL', 'SMTP', rcpt, '250 2.0.0 OK', { 'server-hostname': 'mx.example.net', 'server-ip': '198.51.100.40' }));
      written += 2;
    } else {
      await line(base('SENDEXTERNAL', 'SMTP', rcpt, '250 2.0.0 OK', { 'server-hostname': 'mx.example.net', 'server-ip': '198.51.100.40' }));
      written++;
    }
  }
  await new Promise((res, rej) => {
    out.on('error', rej);
    out.end(res);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, rows, seed] = process.argv.slice(2);
  if (!path || !rows) {
    console.error('usage: node bench/generate-exchange.mjs OUT.LOG ROWS [SEED]');
    process.exit(2);
  }
  await generateExchange(path, Number(rows), seed ? Number(seed) : 550);
}
