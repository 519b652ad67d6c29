import { describe, expect, it } from 'vitest';
import { parseEximLine } from '../../../parsers/exim/envelope.js';
import { decodeEscapes, parseFields } from '../../../parsers/exim/fields.js';
import { analyseError, decodeEximLine, eximParser } from '../../../parsers/exim/index.js';
import type { LogRecord } from '../../../src/model/records.js';

const T = '2024-03-11 08:15:42';
const OLD = '1rAbCd-0001Xy-Zq';
const NEW = '1tBv7K-0000000AxQ3-0Fm2';

function recordOf(line: string): LogRecord {
  const d = decodeEximLine(line);
  if (d.type !== 'record') throw new Error(`expected a record, got ${d.type}: ${line}`);
  return d.record;
}

describe('Exim envelopes', () => {
  it.each([
    ['plain', `${T} ${OLD} Completed`, { id: OLD, time: { kind: 'absolute', epochMs: Date.UTC(2024, 2, 11, 8, 15, 42) }, host: null }],
    ['milliseconds', `2024-02-11 22:48:05.917 ${NEW} Completed`, { id: NEW, time: { kind: 'absolute', epochMs: Date.UTC(2024, 1, 11, 22, 48, 5, 917) } }],
    ['time zone', `2021-09-14 07:55:30 +0200 ${OLD} Completed`, { time: { kind: 'absolute', epochMs: Date.UTC(2021, 8, 14, 5, 55, 30) } }],
    ['pid', `2019-12-01 16:20:44 [21877] ${OLD} Completed`, { id: OLD, pid: 21877 }],
    ['syslog without inner time', `Aug 21 05:33:10 mx2 exim[4410]: ${OLD} Completed`, { id: OLD, host: 'mx2', pid: 4410, time: { kind: 'bsd' } }],
    ['syslog with inner time', `Aug 21 05:33:10 mx2 exim[4410]: 2024-08-21 05:33:10 ${OLD} Completed`, { id: OLD, host: 'mx2', time: { kind: 'absolute' } }],
    ['host first', `mx.example.org exim[2864017]: 2022-04-06 10:11:52 ${OLD} Completed`, { id: OLD, host: 'mx.example.org', pid: 2864017 }],
    ['time then host', `2020-05-18 21:02:36 mail.example.net exim[18342]: ${OLD} Completed`, { id: OLD, host: 'mail.example.net' }],
    ['time, facility, pid in body', `2018-07-09 08:44:13 info exim[6120]: [6120] ${OLD} Completed`, { id: OLD, pid: 6120 }],
    ['exim4 tag', `Aug 21 05:33:10 mx2 exim4[4410]: ${OLD} Completed`, { id: OLD }],
  ])('%s', (_name, line, expected) => {
    const l = parseEximLine(line);
    expect(l.type).toBe('entry');
    if (l.type !== 'entry') return;
    const { id, time, host, pid } = expected as { id?: string; time?: object; host?: string | null; pid?: number };
    if (id !== undefined) expect(l.entry.id).toBe(id);
    if (time !== undefined) expect(l.entry.envelope.time).toMatchObject(time);
    if (host !== undefined) expect(l.entry.envelope.host).toBe(host);
    if (pid !== undefined) expect(l.entry.envelope.pid).toBe(pid);
    expect(l.entry.body).toBe('Completed');
  });

  it('reads both ID forms in one file', () => {
    expect(recordOf(`${T} ${OLD} Completed`)).toEqual({ kind: 'exim.completed', id: OLD });
    expect(recordOf(`${T} ${NEW} Completed`)).toEqual({ kind: 'exim.completed', id: NEW });
  });

  it('reads a container stderr LOG: MAIN block (the header continues into the indented body)', () => {
    expect(decodeEximLine('   14 LOG: MAIN REJECT')).toEqual({ type: 'continuation' });
    expect(recordOf('   14   H=(client.example.net) [192.0.2.74] F=<alice@example.net> rejected RCPT <bob@example.org>: relay not permitted')).toMatchObject({
      kind: 'exim.reject',
      recipient: 'bob@example.org',
    });
  });

  it.each([['Envelope-from: <alice@example.net>'], ['Envelope-to: <bob@example.org>'], ['P Received: from client.example.net ([192.0.2.74])'], ['F From: Alice <alice@example.net>'], ['  Subject: hello']])(
    'counts a rejectlog header dump line as a continuation: %s',
    (line) => {
      expect(decodeEximLine(line)).toEqual({ type: 'continuation' });
    },
  );

  it('skips other programs and reports garbage', () => {
    expect(decodeEximLine('Aug 21 05:33:10 mx2 dovecot: imap-login: Login')).toMatchObject({ type: 'other', program: 'dovecot' });
    expect(decodeEximLine('!!! garbage')).toMatchObject({ type: 'malformed' });
    expect(decodeEximLine('')).toEqual({ type: 'blank' });
  });

  it.each([
    [`${T} SMTP connection from [192.0.2.74]:51234 (TCP/IP connection count = 1)`],
    [`${T} no host name found for IP address 192.0.2.74`],
    [`${T} Start queue run: pid=1234`],
    [`${T} dovecot_login authenticator failed for (x) [192.0.2.74]: 535 Incorrect authentication data (set_id=bob)`],
    [`${T} ${OLD} <bob@example.org>: error ignored`],
    [`${T} ${OLD} SMTP connection outbound 1710144942 ${OLD} example.org carol@example.org`],
  ])('leaves noise unsupported: %s', (line) => {
    expect(decodeEximLine(line)).toMatchObject({ type: 'unsupported', daemon: 'exim' });
  });
});

describe('Exim fields', () => {
  it.each([
    ['name and ip', 'H=mx.example.net [203.0.113.25] X=y', { name: 'mx.example.net', helo: null, ip: '203.0.113.25', port: null }],
    ['helo only', 'H=(client.example.net) [192.0.2.74] F=<a>', { name: null, helo: 'client.example.net', ip: '192.0.2.74', port: null }],
    ['name, helo, port', 'H=mail.example.net (helo.example.net) [198.51.100.71]:41234 I=[192.0.2.10]:25', { name: 'mail.example.net', helo: 'helo.example.net', ip: '198.51.100.71', port: 41234 }],
    ['ip only', 'H=[192.0.2.74] F=<a>', { name: null, helo: null, ip: '192.0.2.74', port: null }],
    ['localhost', 'H=localhost (web01) [127.0.0.1] U=www-data', { name: 'localhost', helo: 'web01', ip: '127.0.0.1', port: null }],
  ])('host: %s', (_name, s, host) => {
    expect(parseFields(s).host).toEqual(host);
  });

  it('reads quoted values and angle-bracketed addresses', () => {
    const f = parseFields('R=dnslookup T=remote_smtp DN="CN=mx.example.net, O=Example" C="250 2.0.0 OK id=1tBv7K-0000000AxQ3-0Fm2" F=<a@example.com>');
    expect(Object.fromEntries(f.values)).toEqual({
      R: 'dnslookup',
      T: 'remote_smtp',
      DN: 'CN=mx.example.net, O=Example',
      C: '250 2.0.0 OK id=1tBv7K-0000000AxQ3-0Fm2',
      F: '<a@example.com>',
    });
  });

  it('decodes octal escapes as UTF-8', () => {
    expect(decodeEscapes('Empf\\303\\244nger unbekannt')).toBe('Empfänger unbekannt');
    expect(decodeEscapes('a\\\\b')).toBe('a\\b');
  });
});

describe('Exim arrivals and deliveries', () => {
  it('decodes an arrival', () => {
    expect(recordOf(`${T} ${OLD} <= alice@example.com H=localhost (web01) [127.0.0.1] U=www-data P=esmtp S=2291 id=20240311.7f3a@example.com T="Hello, world"`)).toEqual({
      kind: 'exim.arrival',
      id: OLD,
      sender: 'alice@example.com',
      host: { name: 'localhost', helo: 'web01', ip: '127.0.0.1', port: null },
      user: 'www-data',
      protocol: 'esmtp',
      size: 2291,
      messageId: '20240311.7f3a@example.com',
      parentId: null,
    });
  });

  it('decodes a bounce arrival with its parent', () => {
    expect(recordOf(`${T} 1rAbCe-0001Y0-2A <= <> R=${OLD} U=Debian-exim P=local S=3310`)).toMatchObject({ sender: '', parentId: OLD, host: null });
  });

  it.each([
    ['=>', 'exim.delivery'],
    ['->', 'exim.delivery'],
    ['*>', 'exim.delivery'],
  ])('decodes %s', (flag, kind) => {
    expect(recordOf(`${T} ${OLD} ${flag} bob@example.net <alias@example.com> R=dnslookup T=remote_smtp H=mx.example.net [203.0.113.25] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 OK"`)).toMatchObject({
      kind,
      flag,
      recipient: 'bob@example.net',
      originalRecipient: 'alias@example.com',
      router: 'dnslookup',
      transport: 'remote_smtp',
      host: { name: 'mx.example.net', ip: '203.0.113.25' },
      confirmation: '250 OK',
      text: null,
    });
  });

  it('decodes a deferral with errno and remote reply', () => {
    expect(recordOf(`${T} ${OLD} == carol@example.org R=dnslookup T=remote_smtp defer (-44) H=mx.example.org [198.51.100.40]: SMTP error from remote mail server after RCPT TO:<carol@example.org>: 451 4.7.1 Greylisted`)).toMatchObject({
      kind: 'exim.defer',
      errno: -44,
      stage: 'rcpt',
      reply: { code: 451, enhanced: '4.7.1' },
      host: { ip: '198.51.100.40' },
    });
    expect(recordOf(`${T} ${OLD} == carol@example.org R=dnslookup T=remote_smtp defer (110): Connection timed out`)).toMatchObject({ errno: 110, text: 'Connection timed out', reply: null });
  });
});

describe('Exim failures (**) in every layout', () => {
  it.each([
    ['4.96: [ip]: SMTP error', `** carol@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.40]: SMTP error from remote mail server after RCPT TO:<carol@example.org>: 550 5.1.1 No such user`, { stage: 'rcpt', host: { name: 'mx.example.org', ip: '198.51.100.40' }, reply: { code: 550, enhanced: '5.1.1', text: '550 5.1.1 No such user' } }],
    ['4.97+: [ip] : SMTP error', `** carol@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.40] : SMTP error from remote mail server after RCPT TO:<carol@example.org>: 550 5.1.1 No such user`, { stage: 'rcpt', host: { ip: '198.51.100.40' }, reply: { code: 550 } }],
    ['TLS fields before the colon', `** bob@example.net R=dnslookup T=remote_smtp H=mail.example.net [203.0.113.12] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes DN="CN=mail.example.net": SMTP error from remote mail server after end of data: 554 5.7.1 Spam`, { stage: 'end_of_data', host: { name: 'mail.example.net' }, reply: { code: 554, text: '554 5.7.1 Spam' } }],
    ['Debian 4.92: host after the stage', `** frank@example.com R=dnslookup T=remote_smtp: SMTP error from remote mail server after MAIL FROM:<s@example.org> SIZE=2048: host mx1.example.com [192.0.2.55]: 550 5.7.1 Rejected`, { stage: 'mail', transport: 'remote_smtp', host: { name: 'mx1.example.com', ip: '192.0.2.55' }, reply: { code: 550, text: '550 5.7.1 Rejected' } }],
    ['pipelined MAIL FROM', `** frank@example.com R=dnslookup T=remote_smtp H=mx1.example.com [192.0.2.55]: SMTP error from remote mail server after pipelined MAIL FROM:<s@example.org> SIZE=2048: 550 5.7.1 Sender rejected`, { stage: 'mail' }],
    ['initial connection', `** frank@example.com R=dnslookup T=remote_smtp H=mx1.example.com [192.0.2.55]: SMTP error from remote mail server after initial connection: 554 5.7.1 No service`, { stage: 'connect', reply: { code: 554 } }],
    ['HELO', `** frank@example.com R=dnslookup T=remote_smtp H=mx1.example.com [192.0.2.55]: SMTP error from remote mail server after HELO example.com: 550 5.7.1 Bad HELO`, { stage: 'helo' }],
    ['LMTP', `** dave@example.com R=local_user T=dovecot_lmtp: LMTP error after DATA: 550 5.1.1 User unknown`, { stage: 'data', reply: { code: 550, enhanced: '5.1.1' }, transport: 'dovecot_lmtp' }],
    ['non-SMTP: Unrouteable address', `** grace@example.invalid: Unrouteable address`, { text: 'Unrouteable address', reply: null, router: null }],
    ['non-SMTP: retry timeout', `** heidi@example.net: retry timeout exceeded`, { text: 'retry timeout exceeded' }],
    ['router with space before the colon', `** ivan@example.com R=retired : mailbox retired`, { router: 'retired', text: 'mailbox retired' }],
    ['missing ]', `** x@example.org R=dnslookup T=remote_smtp H=(relay.example.net) [203.0.113.4: SMTP error from remote mail server after RCPT TO:<x@example.org>: 550 5.1.1 unknown`, { host: { helo: 'relay.example.net', ip: '203.0.113.4' }, reply: { code: 550 } }],
    ['literal \\n multi-line', `** x@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.40]: SMTP error from remote mail server after RCPT TO:<x@example.org>: 550-First line\\n550 Second line`, { reply: { code: 550, text: '550-First line 550 Second line' } }],
    ['octal escapes', `** x@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.40]: SMTP error from remote mail server after RCPT TO:<x@example.org>: 550 5.1.1 Empf\\303\\244nger unbekannt`, { reply: { text: '550 5.1.1 Empfänger unbekannt' } }],
    ['original address', `** judy@example.org <judy.alias@example.com> R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.40]: SMTP error from remote mail server after RCPT TO:<judy@example.org>: 550 5.1.1 gone`, { recipient: 'judy@example.org', originalRecipient: 'judy.alias@example.com' }],
  ])('%s', (_name, body, expected) => {
    expect(recordOf(`${T} ${OLD} ${body}`)).toMatchObject({ kind: 'exim.failure', flag: '**', ...expected });
  });

  it('reads the Exim error wrapper on its own', () => {
    expect(analyseError('SMTP error from remote mail server after RCPT TO:<a@b>: 550 x')).toMatchObject({ stage: 'rcpt', reply: { code: 550 } });
    expect(analyseError('Unrouteable address')).toEqual({ stage: 'unknown', reply: null, host: null });
  });
});

describe('Exim frozen messages', () => {
  it.each([['Message is frozen'], ['Frozen (delivery error message)'], ['frozen by ACL']])('%s', (body) => {
    expect(recordOf(`${T} ${OLD} ${body}`)).toMatchObject({ kind: 'exim.frozen', text: body });
  });
});

describe('Exim inbound refusals', () => {
  it.each([
    ['RCPT, no code', 'H=(client.example.net) [192.0.2.74] F=<alice@example.net> rejected RCPT <bob@example.org>: relay not permitted', { stage: 'rcpt', what: 'rejected RCPT', recipient: 'bob@example.org', sender: 'alice@example.net', reply: { code: null, text: 'relay not permitted' }, host: { helo: 'client.example.net', ip: '192.0.2.74' } }],
    ['RCPT with an ACL code', 'H=mail.example.net [198.51.100.71] F=<a@example.net> rejected RCPT <kim@example.com>: 550 5.7.1 blocklisted sender', { reply: { code: 550, enhanced: '5.7.1' } }],
    ['callout text', 'H=mail.example.net [198.51.100.71] F=<alice@example.net> rejected RCPT <bob@example.com>: Sender verify failed', { reply: { text: 'Sender verify failed' } }],
    ['MAIL', 'H=(x) [203.0.113.7] rejected MAIL <root@example.net>: Access denied - Invalid HELO name (See RFC2821 4.1.1.1)', { stage: 'mail', sender: 'root@example.net', recipient: null }],
    ['temporarily', 'H=(x) [203.0.113.7] F=<a@example.net> temporarily rejected RCPT <b@example.com>: greylisted', { temporary: true, what: 'temporarily rejected RCPT' }],
    ['after DATA', 'H=(x) [203.0.113.7] F=<a@example.net> rejected after DATA: Your message scored 15.2 spam points', { stage: 'end_of_data', reply: { text: 'Your message scored 15.2 spam points' } }],
    ['local_scan', 'H=(x) [203.0.113.7] F=<a@example.net> rejected by local_scan(): attachment not allowed', { stage: 'end_of_data' }],
    ['connect ACL', "H=[203.0.113.7] dropped by 'connect' ACL: too many connections", { stage: 'connect' }],
    ['EHLO', 'H=(localhost) [203.0.113.7] rejected EHLO or HELO localhost: bad name', { stage: 'helo' }],
  ])('%s', (_name, body, expected) => {
    expect(recordOf(`${T} ${body}`)).toMatchObject({ kind: 'exim.reject', id: null, ...expected });
  });

  it('keeps the Exim ID of a refusal after DATA', () => {
    expect(recordOf(`${T} ${OLD} H=(x) [203.0.113.7] F=<a@example.net> rejected after DATA: virus found`)).toMatchObject({ kind: 'exim.reject', id: OLD });
  });
});

describe('Exim sniff', () => {
  it('recognises Exim lines and not Postfix ones', () => {
    expect(eximParser.sniff([`${T} ${OLD} Completed`, `${T} SMTP connection from [192.0.2.1]`])).toBe(1);
    expect(eximParser.sniff(['Mar 11 08:15:42 mx1 postfix/smtpd[1]: connect from a[192.0.2.1]'])).toBe(0);
  });
});

/**
 * Shapes real Exim 4.96 wrote in the end-to-end suite (test/e2e/exim.e2e.ts) that the hand-written
 * samples lacked. Exim splits a syslog message at newlines and every 870 characters and numbers the
 * pieces (`[i\n]` when the piece ended at a newline, `[i/n]` otherwise): a rejectlog copy with its
 * header dump arrives as `[1\18]` ... `[18/18]`.
 */
describe('Exim lines found against real Exim', () => {
  const AFTER_DATA = '2026-11-27 18:56:24 1xX17Q-0000GM-2s H=([127.0.0.1]) [127.0.0.1] F=<sender@example.net> rejected after DATA: 550 5.7.1 Message refused by content policy';

  it.each([
    ['classic syslog', `Nov 27 18:56:24 mx1 exim[1014]: [1\\18] ${AFTER_DATA}`],
    ['RFC 3339 syslog', `2026-11-27T18:56:24.230688+00:00 mx1 exim[1014]: [1\\18] ${AFTER_DATA}`],
    ['a piece cut at 870 characters', `Nov 27 18:56:24 mx1 exim[1014]: [1/2] ${AFTER_DATA}`],
  ])('the first piece of a split syslog message is the entry, with its time and Exim ID (%s)', (_name, line) => {
    const d = decodeEximLine(line);
    expect(d).toMatchObject({
      type: 'record',
      envelope: { host: 'mx1', pid: 1014, time: { kind: 'absolute', epochMs: new Date(2026, 10, 27, 18, 56, 24).getTime() } },
      record: {
        kind: 'exim.reject',
        id: '1xX17Q-0000GM-2s',
        stage: 'end_of_data',
        what: 'rejected after DATA',
        sender: 'sender@example.net',
        host: { helo: '[127.0.0.1]', ip: '127.0.0.1' },
        reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message refused by content policy' },
      },
    });
  });

  it.each([
    ['Nov 27 18:56:24 mx1 exim[1014]: [2\\18] Envelope-from: <sender@example.net>'],
    ['Nov 27 18:56:24 mx1 exim[1014]: [4\\18]     <ok-data1b@yahoo.example>'],
    ['Nov 27 18:56:24 mx1 exim[1014]: [6\\18] #011by mx1.example.com with esmtp (Exim 4.96)'],
    ['Nov 27 18:56:24 mx1 exim[1014]: [14\\18] I Message-ID: <e2e-data-1@example.com>'],
    ['2026-11-27T18:56:24.231012+00:00 mx1 exim[1014]: [18/18]   Content-Type: text/plain; charset=utf-8'],
  ])('a later piece of a split syslog message continues it: %s', (line) => {
    expect(decodeEximLine(line)).toEqual({ type: 'continuation' });
  });

  it('reads a deferral at routing, which has no router or transport field', () => {
    expect(recordOf('2026-11-27 18:57:31 1xX18U-00000t-0r == grey-73-430749@outlook.example routing defer (-52): retry time not reached')).toMatchObject({
      kind: 'exim.defer',
      recipient: 'grey-73-430749@outlook.example',
      router: null,
      errno: -52,
      text: 'retry time not reached',
      reply: null,
    });
  });

  it.each([
    // Per host, from the transport; the address's own `**` or `==` line follows with the same reply.
    ['2026-11-27 18:57:32 1xX18W-00000t-1H H=mx.refusing.example.net [127.0.0.6]: SMTP error from remote mail server after initial connection: 550 5.7.1 Service refused; client 127.0.0.1 blocked'],
    ['2026-11-27 18:55:01 1xX165-0000HK-0Q Spool file for 1xX165-0000HK-0Q is locked (another process is handling this message)'],
    ['2026-11-27 18:52:14 1xX13O-00001L-2o alerts@example.com: error ignored'],
  ])('leaves the lines that refuse nothing by themselves unsupported: %s', (line) => {
    expect(decodeEximLine(line)).toMatchObject({ type: 'unsupported', daemon: 'exim' });
  });
});
