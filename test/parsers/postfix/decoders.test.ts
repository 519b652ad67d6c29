import { describe, expect, it } from 'vitest';
import { decodePostfixLine, postfixDaemon, postfixParser } from '../../../parsers/postfix/index.js';
import { isQueueId, parseHostRef, parseReply } from '../../../parsers/postfix/common.js';
import type { Decoded, LogRecord } from '../../../src/model/records.js';

const H = 'Mar 11 08:15:42 mx1';

function recordOf(line: string): LogRecord {
  const d = decodePostfixLine(line);
  if (d.type !== 'record') throw new Error(`expected a record, got ${d.type}: ${line}`);
  return d.record;
}

function typeOf(line: string): Decoded['type'] {
  return decodePostfixLine(line).type;
}

describe('queue IDs', () => {
  it.each([
    ['7-char short', '4B1E9C2', true],
    ['10-char short', '5D0B7F3A19', true],
    ['13-char short', '7A4C09E1B3D58', true],
    ['long (enable_long_queue_ids)', '4WbTq8HkRnzL9mD', true],
    ['lower-case hex', '5d0b7f3a19', false],
    ['too short', 'ABC', false],
    ['long with a vowel', '4WbTq8HkRazL9mD', false],
    ['NOQUEUE is not an ID', 'NOQUEUE', false],
  ])('%s', (_name, id, ok) => {
    expect(isQueueId(id)).toBe(ok);
  });
});

describe('tags and programs', () => {
  it.each([
    ['postfix/smtpd', 'smtpd'],
    ['postfix/submission/smtpd', 'smtpd'],
    ['postfix/smtps/smtpd', 'smtpd'],
    ['postfix/dkim-cleanup/cleanup', 'cleanup'],
    ['postfix/10026/smtpd', 'smtpd'],
    ['postfix/smtp-587/smtpd', 'smtpd'],
    ['postfix-in/smtpd', 'smtpd'],
    ['postfix-out/submission/smtpd', 'smtpd'],
    ['postfix-198.51.100.20/qmgr', 'qmgr'],
    ['edge3-1/smtp', 'smtp'],
  ])('%s is Postfix daemon %s', (tag, daemon) => {
    expect(postfixDaemon(tag)).toBe(daemon);
  });

  it.each([
    ['dovecot'],
    ['amavis'],
    ['opendkim'],
    ['mailtool/bounce-relay'],
    ['postfix'],
    ['sendmail'],
  ])('%s is another program', (tag) => {
    expect(postfixDaemon(tag)).toBeNull();
  });

  it('counts lines of other programs as other, with the program name', () => {
    expect(decodePostfixLine(`${H} dovecot: imap-login: Login: user=<alice>`)).toMatchObject({ type: 'other', program: 'dovecot' });
    expect(decodePostfixLine(`${H} mailtool/bounce-relay[88]: 5D0B7F3A19: to=<a@example.com>, status=bounced (x)`)).toMatchObject({
      type: 'other',
      program: 'mailtool/bounce-relay',
    });
  });

  it('keeps the header of Postfix lines it does not decode (unsupported, by daemon)', () => {
    const d = decodePostfixLine(`${H} postfix/smtpd[4417]: connect from client.example.net[203.0.113.45]`);
    expect(d).toMatchObject({ type: 'unsupported', daemon: 'smtpd', envelope: { host: 'mx1', pid: 4417 } });
    expect(typeOf(`${H} postfix/anvil[1200]: statistics: max connection rate 1/60s for (smtp:203.0.113.45) at Mar 11 08:10:00`)).toBe('unsupported');
    expect(typeOf(`${H} postfix/pickup[1100]: 4B1E9C2: uid=1001 from=<www-data>`)).toBe('unsupported');
    expect(typeOf(`${H} postfix/smtpd[1]: warning: hostname h7.example.net does not resolve to address 198.51.100.31`)).toBe('unsupported');
  });

  it.each([
    ['maillog_file warning', 'Jun 04 09:30:06 mx1 postfix/smtpd[2231]: warning: unknown[203.0.113.8]: SASL LOGIN authentication failed: UGFzc3dvcmQ6', 'smtpd'],
    ['lost connection', `${H} postfix/smtpd[1]: lost connection after RCPT from unknown[203.0.113.8]`, 'smtpd'],
    ['disconnect with counters', `${H} postfix/smtpd[1]: disconnect from unknown[203.0.113.8] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`, 'smtpd'],
    ['postscreen HANGUP', `${H} postfix/postscreen[1]: HANGUP after 1.2 from [198.51.100.77]:40112 in tests after SMTP handshake`, 'postscreen'],
    ['dnsblog', `${H} postfix/dnsblog[9]: addr 203.0.113.140 listed by domain bl.example.org as 127.0.0.2`, 'dnsblog'],
    ['scache statistics', `${H} postfix/scache[9]: statistics: domain lookup hits=0 miss=3 success=0%`, 'scache'],
    ['smtp TLS line', `${H} postfix/smtp[9]: Trusted TLS connection established to mx.example.net[203.0.113.25]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`, 'smtp'],
  ])('counts %s as unsupported under its daemon', (_name, line, daemon) => {
    expect(decodePostfixLine(line)).toMatchObject({ type: 'unsupported', daemon });
  });

  it('reports blank and malformed lines', () => {
    expect(typeOf('')).toBe('blank');
    expect(typeOf('   ')).toBe('blank');
    expect(decodePostfixLine('complete garbage')).toMatchObject({ type: 'malformed' });
  });
});

describe('smtpd', () => {
  it('decodes client= with SASL', () => {
    expect(recordOf(`${H} postfix/smtpd[1]: 5D0B7F3A19: client=client.example.net[203.0.113.45], sasl_method=PLAIN, sasl_username=alice@example.com`)).toEqual({
      kind: 'postfix.smtpd.client',
      queueId: '5D0B7F3A19',
      client: { name: 'client.example.net', ip: '203.0.113.45', port: null },
      origClient: null,
      saslMethod: 'PLAIN',
      saslUsername: 'alice@example.com',
    });
  });

  it('decodes client= with orig_client', () => {
    expect(recordOf(`${H} postfix/smtpd[1]: 5D0B7F3A19: client=localhost[127.0.0.1], orig_client=mail.example.org[198.51.100.7]`)).toMatchObject({
      origClient: { name: 'mail.example.org', ip: '198.51.100.7' },
    });
  });

  it('decodes a NOQUEUE RCPT reject with the space-separated tail', () => {
    expect(
      recordOf(
        `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.77]: 550 5.1.1 <bob@example.net>: Recipient address rejected: undeliverable address: verification failed; from=<alice@example.org> to=<bob@example.net> proto=ESMTP helo=<client.example.org>`,
      ),
    ).toEqual({
      kind: 'postfix.action',
      queueId: null,
      action: 'reject',
      stageWord: 'RCPT',
      stage: 'rcpt',
      client: { name: 'unknown', ip: '203.0.113.77', port: null },
      reply: {
        code: 550,
        enhanced: '5.1.1',
        text: '550 5.1.1 <bob@example.net>: Recipient address rejected: undeliverable address: verification failed',
      },
      from: 'alice@example.org',
      to: 'bob@example.net',
      proto: 'ESMTP',
      helo: 'client.example.org',
      matched: null,
    });
  });

  it.each([
    ['CONNECT with only proto', 'NOQUEUE: reject: CONNECT from unknown[203.0.113.9]: 554 5.7.1 <unknown[203.0.113.9]>: Client host rejected: Access denied; proto=SMTP', 'connect', 554, '5.7.1', { proto: 'SMTP', from: null, to: null, helo: null }],
    ['EHLO without to=', 'NOQUEUE: reject: EHLO from unknown[203.0.113.9]: 504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname; proto=ESMTP helo=<localhost>', 'helo', 504, '5.5.2', { helo: 'localhost', to: null }],
    ['MAIL without to=', 'NOQUEUE: reject: MAIL from x.example.net[198.51.100.3]: 552 5.3.4 Message size exceeds fixed limit; proto=ESMTP helo=<x.example.net>', 'mail', 552, '5.3.4', { from: null, to: null }],
    ['VRFY', 'NOQUEUE: reject: VRFY from x.example.net[198.51.100.3]: 550 5.1.1 <z@example.com>: Recipient address rejected: User unknown; to=<z@example.com> proto=SMTP helo=<x>', 'vrfy', 550, '5.1.1', { to: 'z@example.com' }],
    ['null sender', 'NOQUEUE: reject: RCPT from x[198.51.100.3]: 550 5.1.1 <z@example.com>: Recipient address rejected: User unknown; from=<> to=<z@example.com> proto=ESMTP helo=<x>', 'rcpt', 550, '5.1.1', { from: '', to: 'z@example.com' }],
    ['5.7.25 multi-digit enhanced', 'NOQUEUE: reject: RCPT from unknown[203.0.113.8]: 550 5.7.25 Client host rejected: cannot find your reverse hostname, [203.0.113.8]; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<x>', 'rcpt', 550, '5.7.25', {}],
    ['three-digit enhanced parts', 'NOQUEUE: reject: RCPT from unknown[203.0.113.8]: 550 5.12.345 odd; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<x>', 'rcpt', 550, '5.12.345', {}],
    ['BDAT with a queue ID', '4XcHg2NpVtzQ7wK: reject: BDAT from x[198.51.100.2]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> proto=ESMTP helo=<x>', 'data', 550, '5.5.3', {}],
    ['empty address in text', 'NOQUEUE: reject: RCPT from x[198.51.100.2]: 550 5.1.1 : Recipient address rejected: undeliverable address; from=<a@example.org> to=<> proto=ESMTP helo=<x>', 'rcpt', 550, '5.1.1', { to: '' }],
    ['454 relay denied', 'NOQUEUE: reject: RCPT from x[198.51.100.2]: 454 4.7.1 <c@example.net>: Relay access denied; from=<a@example.org> to=<c@example.net> proto=SMTP helo=<x>', 'rcpt', 454, '4.7.1', { to: 'c@example.net' }],
  ])('decodes a reject: %s', (_name, msg, stage, code, enhanced, fields) => {
    const r = recordOf(`${H} postfix/smtpd[1]: ${msg}`);
    expect(r).toMatchObject({ kind: 'postfix.action', stage, reply: { code, enhanced }, ...fields });
  });

  it('keeps a semicolon inside the reply text out of the tail', () => {
    const r = recordOf(
      `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.140]: 554 5.7.1 Service unavailable; Client host [203.0.113.140] blocked using zen.example.org; https://example.org/query/ip/203.0.113.140; from=<c@example.org> to=<b@example.com> proto=ESMTP helo=<pc7>`,
    );
    expect(r).toMatchObject({
      reply: { text: '554 5.7.1 Service unavailable; Client host [203.0.113.140] blocked using zen.example.org; https://example.org/query/ip/203.0.113.140' },
      from: 'c@example.org',
      to: 'b@example.com',
    });
  });

  it.each([
    ['reject_warning'],
    ['milter-reject'],
    ['proxy-reject'],
    ['discard'],
    ['hold'],
  ])('decodes the %s action', (action) => {
    expect(recordOf(`${H} postfix/smtpd[1]: NOQUEUE: ${action}: RCPT from x[198.51.100.2]: 550 5.1.1 <b@example.com>: x; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<x>`)).toMatchObject({ action });
  });

  it('decodes an address whose quoted local part has a space and a comma', () => {
    const r = recordOf(`${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[198.51.100.2]: 550 5.1.1 x; from=<"a b, c"@example.org> to=<b@example.com> proto=ESMTP helo=<x>`);
    expect(r).toMatchObject({ from: '"a b, c"@example.org', to: 'b@example.com' });
  });
});

describe('postscreen', () => {
  it('decodes a reject with the comma-separated tail and [ip]:port client', () => {
    expect(
      recordOf(
        `${H} postfix/postscreen[1188]: NOQUEUE: reject: RCPT from [203.0.113.140]:58021: 550 5.7.1 Service unavailable; client [203.0.113.140] blocked using bl.example.org; from=<carol@example.org>, to=<bob@example.com>, proto=ESMTP, helo=<pc7>`,
      ),
    ).toMatchObject({
      client: { name: null, ip: '203.0.113.140', port: 58021 },
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Service unavailable; client [203.0.113.140] blocked using bl.example.org' },
      from: 'carol@example.org',
      to: 'bob@example.com',
      proto: 'ESMTP',
      helo: 'pc7',
    });
  });

  it('decodes a reject with missing from/helo', () => {
    expect(recordOf(`${H} postfix/postscreen[1188]: NOQUEUE: reject: RCPT from [203.0.113.140]:58021: 550 5.7.1 Service unavailable; client [203.0.113.140] blocked using 3f9a; to=<bob@example.com>, proto=SMTP`)).toMatchObject({
      from: null,
      to: 'bob@example.com',
      helo: null,
    });
  });

  it('leaves PREGREET and CONNECT unsupported', () => {
    expect(typeOf(`${H} postfix/postscreen[1]: PREGREET 11 after 0.21 from [198.51.100.77]:40112: EHLO user\\r\\n`)).toBe('unsupported');
    expect(typeOf(`${H} postfix/postscreen[1]: CONNECT from [203.0.113.50]:51234 to [192.0.2.10]:25`)).toBe('unsupported');
  });
});

describe('cleanup', () => {
  it.each([
    ['ordinary', '<20240311081540.7f3a@example.com>', '20240311081540.7f3a@example.com'],
    ['empty', '<>', ''],
    ['two @ and $', '<00a101d9c4e2$7b3f12a0$61bd37e0$@alice@example.org>', '00a101d9c4e2$7b3f12a0$61bd37e0$@alice@example.org'],
    ['unbracketed', '20240311.abc@example.com', '20240311.abc@example.com'],
  ])('decodes message-id: %s', (_name, value, messageId) => {
    expect(recordOf(`${H} postfix/cleanup[2]: 5D0B7F3A19: message-id=${value}`)).toEqual({
      kind: 'postfix.cleanup.message_id',
      queueId: '5D0B7F3A19',
      messageId,
    });
  });

  it('decodes a milter-reject with an enhanced status and no three-digit code', () => {
    expect(
      recordOf(`${H} postfix/cleanup[2]: 4B1E9C2: milter-reject: END-OF-MESSAGE from s.example.net[198.51.100.14]: 5.7.1 Spam message rejected; from=<alice@example.net> to=<bob@example.com> proto=ESMTP helo=<s.example.net>`),
    ).toMatchObject({
      action: 'milter-reject',
      stage: 'end_of_data',
      reply: { code: null, enhanced: '5.7.1', text: '5.7.1 Spam message rejected' },
      to: 'bob@example.com',
    });
  });

  it('decodes a header_checks reject (text after the tail)', () => {
    expect(
      recordOf(`${H} postfix/cleanup[2]: 4B1E9C2: reject: header Subject: You have won from unknown[203.0.113.5]; from=<x@example.org> to=<y@example.com> proto=ESMTP helo=<pc9>: 5.7.1 Message content rejected`),
    ).toMatchObject({
      action: 'reject',
      stageWord: 'header',
      stage: 'end_of_data',
      matched: 'Subject: You have won',
      client: { name: 'unknown', ip: '203.0.113.5' },
      reply: { code: null, enhanced: '5.7.1', text: '5.7.1 Message content rejected' },
      from: 'x@example.org',
      to: 'y@example.com',
      helo: 'pc9',
    });
  });

  it('decodes a header warning (not a refusal, but recognised)', () => {
    expect(recordOf(`${H} postfix/cleanup[2]: 4B1E9C2: warning: header Subject: hello from local; from=<a@example.com> to=<b@example.com>`)).toMatchObject({
      action: 'warning',
      matched: 'Subject: hello',
    });
  });
});

describe('cleanup header actions and proxy filters', () => {
  it.each([
    ['replace', '4B1E9C2: replace: header Received: from x (x [192.0.2.1]) from local; from=<a@example.com> to=<b@example.com>'],
    ['info', '4B1E9C2: info: header X-Mailer: Foo 1.0 from s.example.net[198.51.100.14]; from=<a@example.net> to=<b@example.com> proto=ESMTP helo=<s>'],
  ])('decodes %s: header', (action, msg) => {
    expect(recordOf(`${H} postfix/cleanup[2]: ${msg}`)).toMatchObject({ kind: 'postfix.action', action, stageWord: 'header' });
  });

  it('decodes a before-queue filter refusal (proxy-reject at END-OF-MESSAGE)', () => {
    expect(recordOf(`${H} postfix/smtpd[2]: 4B1E9C2: proxy-reject: END-OF-MESSAGE from s.example.net[198.51.100.14]: 550 5.7.1 Message rejected: spam; from=<a@example.net> to=<b@example.com> proto=ESMTP helo=<s.example.net>`)).toMatchObject({
      action: 'proxy-reject',
      stage: 'end_of_data',
      reply: { code: 550, enhanced: '5.7.1' },
    });
  });
});

describe('qmgr', () => {
  it('decodes the envelope', () => {
    expect(recordOf(`${H} postfix/qmgr[3]: 5D0B7F3A19: from=<alice@example.com>, size=4821, nrcpt=2 (queue active)`)).toEqual({
      kind: 'postfix.qmgr.envelope',
      queueId: '5D0B7F3A19',
      from: 'alice@example.com',
      size: 4821,
      nrcpt: 2,
    });
  });

  it('decodes the null sender', () => {
    expect(recordOf(`${H} postfix/qmgr[3]: 8E4C1A07B2: from=<>, size=2990, nrcpt=1 (queue active)`)).toMatchObject({ from: '' });
  });

  it('decodes removed and expired', () => {
    expect(recordOf(`${H} postfix/qmgr[3]: 5D0B7F3A19: removed`)).toEqual({ kind: 'postfix.qmgr.removed', queueId: '5D0B7F3A19' });
    expect(recordOf(`${H} postfix/qmgr[3]: 5D0B7F3A19: from=<alice@example.com>, status=expired, returned to sender`)).toEqual({
      kind: 'postfix.qmgr.expired',
      queueId: '5D0B7F3A19',
      from: 'alice@example.com',
    });
  });

  it('decodes long queue IDs', () => {
    expect(recordOf(`${H} postfix/qmgr[3]: 4WbTq8HkRnzL9mD: removed`)).toMatchObject({ queueId: '4WbTq8HkRnzL9mD' });
  });

  it('leaves other qmgr lines unsupported', () => {
    expect(typeOf(`${H} postfix/qmgr[3]: 5D0B7F3A19: skipped, still being delivered`)).toBe('unsupported');
  });
});

describe('delivery agents', () => {
  it('decodes a remote 550 with host, stage and dsn', () => {
    expect(
      recordOf(
        `${H} postfix/smtp[4]: 5D0B7F3A19: to=<dave@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@example.net>: User unknown (in reply to RCPT TO command))`,
      ),
    ).toEqual({
      kind: 'postfix.delivery',
      queueId: '5D0B7F3A19',
      agent: 'smtp',
      to: 'dave@example.net',
      origTo: null,
      relay: 'mx.example.net[203.0.113.25]:25',
      relayHost: { name: 'mx.example.net', ip: '203.0.113.25', port: 25 },
      delay: 1.2,
      dsn: '5.1.1',
      status: 'bounced',
      detail: 'host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@example.net>: User unknown (in reply to RCPT TO command)',
      remote: { name: 'mx.example.net', ip: '203.0.113.25', port: null },
      reply: { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <dave@example.net>: User unknown' },
      stage: 'rcpt',
      queuedAs: null,
    });
  });

  it('keeps a flattened multi-line reply as one reply', () => {
    const r = recordOf(
      `${H} postfix/smtp[4]: 5D0B7F3A19: to=<bob@example.com>, relay=gmail-smtp-in.l.google.com[203.0.113.26]:25, delay=2, delays=0/0/1/1, dsn=5.7.26, status=bounced (host gmail-smtp-in.l.google.com[203.0.113.26] said: 550-5.7.26 Unauthenticated email from example.org is not accepted due to 550-5.7.26 domain's DMARC policy. 550 5.7.26 (see https://support.google.com/mail/?p=DmarcRejection) x1-2 - gsmtp (in reply to end of DATA command))`,
    );
    expect(r).toMatchObject({
      stage: 'end_of_data',
      reply: {
        code: 550,
        enhanced: '5.7.26',
        text: "550-5.7.26 Unauthenticated email from example.org is not accepted due to 550-5.7.26 domain's DMARC policy. 550 5.7.26 (see https://support.google.com/mail/?p=DmarcRejection) x1-2 - gsmtp",
      },
    });
  });

  it.each([
    ['MAIL FROM', 'mail'],
    ['RCPT TO', 'rcpt'],
    ['DATA', 'data'],
    ['end of DATA', 'end_of_data'],
    ['EHLO', 'helo'],
    ['STARTTLS', 'starttls'],
    ['XFORWARD', 'other'],
  ])('maps (in reply to %s command) to %s', (command, stage) => {
    const r = recordOf(`${H} postfix/smtp[4]: 5D0B7F3A19: to=<b@example.com>, relay=mx[203.0.113.1]:25, delay=1, delays=0/0/0/1, dsn=5.0.0, status=bounced (host mx[203.0.113.1] said: 550 No (in reply to ${command} command))`);
    expect(r).toMatchObject({ stage });
  });

  it('reads a reply without an enhanced code (dsn 5.0.0 is Postfix-made)', () => {
    expect(recordOf(`${H} postfix/smtp[4]: 5D0B7F3A19: to=<b@example.com>, relay=mx[203.0.113.1]:25, delay=1, delays=0/0/0/1, dsn=5.0.0, status=bounced (host mx[203.0.113.1] said: 550 Requested action not taken: mailbox unavailable (in reply to RCPT TO command))`)).toMatchObject({
      dsn: '5.0.0',
      reply: { code: 550, enhanced: null },
    });
  });

  it('reads a 550 inside a deferral (refused to talk to me) with stage connect', () => {
    expect(recordOf(`${H} postfix/smtp[4]: 5D0B7F3A19: to=<erin@example.net>, relay=mx.example.net[198.51.100.60]:25, delay=300, delays=0/0/300/0, dsn=4.0.0, status=deferred (host mx.example.net[198.51.100.60] refused to talk to me: 550 5.7.1 Service refused)`)).toMatchObject({
      status: 'deferred',
      stage: 'connect',
      remote: { name: 'mx.example.net', ip: '198.51.100.60' },
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Service refused' },
    });
  });

  it('reads postfix/error with delivery temporarily suspended', () => {
    expect(recordOf(`${H} postfix/error[5]: 5D0B7F3A19: to=<erin@example.net>, relay=none, delay=310, delays=0.1/0/310/0, dsn=4.0.0, status=deferred (delivery temporarily suspended: host mx.example.net[198.51.100.60] refused to talk to me: 550 5.7.1 Service refused)`)).toMatchObject({
      agent: 'error',
      relay: 'none',
      relayHost: null,
      status: 'deferred',
      stage: 'connect',
      reply: { code: 550 },
    });
  });

  it.each([
    ['local unknown user', 'local', 'relay=local', 'dsn=5.1.1', 'bounced', 'unknown user: "carol"'],
    ['mail loop', 'local', 'relay=local', 'dsn=5.4.6', 'bounced', 'mail forwarding loop for bob@example.com'],
    ['host not found', 'smtp', 'relay=none', 'dsn=5.4.4', 'bounced', 'Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found'],
  ])('reads a local bounce without an SMTP code: %s', (_name, agent, relay, dsn, status, detail) => {
    const r = recordOf(`${H} postfix/${agent}[6]: 5D0B7F3A19: to=<carol@example.com>, ${relay}, delay=0.1, delays=0/0/0/0.1, ${dsn}, status=${status} (${detail})`);
    expect(r).toMatchObject({ agent, status, detail, reply: null, remote: null, stage: 'unknown' });
  });

  it('reads an LMTP socket relay and reply', () => {
    expect(recordOf(`${H} postfix/lmtp[7]: 5D0B7F3A19: to=<frank@example.com>, relay=mail.example.com[private/dovecot-lmtp], delay=0.2, delays=0/0/0/0.2, dsn=5.2.2, status=bounced (host mail.example.com[private/dovecot-lmtp] said: 552 5.2.2 <frank@example.com> Mailbox is full (in reply to end of DATA command))`)).toMatchObject({
      relayHost: { name: 'mail.example.com', ip: 'private/dovecot-lmtp', port: null },
      reply: { code: 552, enhanced: '5.2.2' },
      stage: 'end_of_data',
    });
  });

  it.each([
    ['socket path', 'mail.example.org[/var/run/dovecot/lmtp]', { name: 'mail.example.org', ip: '/var/run/dovecot/lmtp', port: null }],
    ['relay=dovecot', 'dovecot', null],
    ['relay=local', 'local', null],
  ])('reads the relay form %s', (_name, relay, relayHost) => {
    expect(recordOf(`${H} postfix/lmtp[7]: 5D0B7F3A19: to=<f@example.com>, relay=${relay}, delay=0.2, delays=0/0/0/0.2, dsn=2.0.0, status=sent (250 2.0.0 ok)`)).toMatchObject({ relay, relayHost });
  });

  it('reads orig_to, conn_use and an IPv6 relay', () => {
    expect(recordOf(`${H} postfix/smtp[4]: 5D0B7F3A19: to=<b@example.net>, orig_to=<alias@example.com>, relay=mx.example.net[2001:db8::25]:25, conn_use=2, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)`)).toMatchObject({
      origTo: 'alias@example.com',
      relayHost: { ip: '2001:db8::25', port: 25 },
      status: 'sent',
      reply: { code: 250 },
    });
  });

  it('reads the queue ID of a content-filter hand-off', () => {
    expect(recordOf(`${H} postfix/smtp[4]: 5D0B7F3A19: to=<b@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=2, delays=0/0/0/2, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as B81D2E4F0A17)`)).toMatchObject({
      queuedAs: 'B81D2E4F0A17',
    });
  });

  it('accepts an unbracketed to= address', () => {
    expect(recordOf(`${H} postfix/smtp[4]: 5D0B7F3A19: to=alice@example.com, relay=none, delay=1, delays=0/0/0/1, dsn=5.4.4, status=bounced (x)`)).toMatchObject({ to: 'alice@example.com' });
  });

  it('reads status=undeliverable of an address-verification probe', () => {
    expect(recordOf(`${H} postfix/smtp[4]: 5D0B7F3A19: to=<b@example.net>, relay=mx[203.0.113.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=undeliverable (host mx[203.0.113.1] said: 550 5.1.1 no (in reply to RCPT TO command))`)).toMatchObject({ status: 'undeliverable' });
  });

  it('leaves QID lines without to= unsupported', () => {
    expect(typeOf(`${H} postfix/smtp[4]: 5D0B7F3A19: host mx3.example.de[198.51.100.88] refused to talk to me: 554 No SMTP service here`)).toBe('unsupported');
    expect(typeOf(`${H} postfix/smtp[4]: connect to mx.example.org[203.0.113.3]:25: Connection refused`)).toBe('unsupported');
  });
});

describe('bounce', () => {
  it.each([
    ['sender non-delivery', '8E4C1A07B2'],
    ['postmaster non-delivery', '8E4C1A09F5'],
    ['sender delay', '8E4C1A0AAA'],
  ])('decodes %s notification', (notification, id) => {
    expect(recordOf(`${H} postfix/bounce[8]: 5D0B7F3A19: ${notification} notification: ${id}`)).toEqual({
      kind: 'postfix.bounce.notification',
      queueId: '5D0B7F3A19',
      notification,
      notificationQueueId: id,
    });
  });
});

describe('header-less lines (pasted excerpts)', () => {
  it.each([
    ['3F7B21C0D84: reject: RCPT from x[198.51.100.2]: 550 5.1.1 <b@example.com>: no; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<x>', 'smtpd', 'postfix.action'],
    ['NOQUEUE: reject: RCPT from x[198.51.100.2]: 550 5.1.1 <b@example.com>: no; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<x>', 'smtpd', 'postfix.action'],
    ['3F7B21C0D84: to=<b@example.net>, relay=mx[203.0.113.1]:25, delay=1, delays=0/0/0/1, dsn=5.7.1, status=bounced (host mx[203.0.113.1] said: 550 5.7.1 no (in reply to RCPT TO command))', 'smtp', 'postfix.delivery'],
    ['3F7B21C0D84: message-id=<x@example.com>', 'cleanup', 'postfix.cleanup.message_id'],
    ['3F7B21C0D84: from=<a@example.com>, size=100, nrcpt=1 (queue active)', 'qmgr', 'postfix.qmgr.envelope'],
    ['3F7B21C0D84: removed', 'qmgr', 'postfix.qmgr.removed'],
    ['3F7B21C0D84: sender non-delivery notification: 4B1E9C2', 'bounce', 'postfix.bounce.notification'],
  ])('%s', (line, daemon, kind) => {
    const d = decodePostfixLine(line);
    expect(d).toMatchObject({ type: 'record', daemon, record: { kind }, envelope: { host: null, time: { kind: 'none' } } });
  });
});

describe('helpers', () => {
  it.each([
    ['name[ip]', 'mx.example.net[203.0.113.25]', { name: 'mx.example.net', ip: '203.0.113.25', port: null }],
    ['name[ip]:port', 'mx.example.net[203.0.113.25]:587', { name: 'mx.example.net', ip: '203.0.113.25', port: 587 }],
    ['[ip]:port', '[203.0.113.140]:58021', { name: null, ip: '203.0.113.140', port: 58021 }],
    ['IPv6', 'mx[2001:db8::25]:25', { name: 'mx', ip: '2001:db8::25', port: 25 }],
    ['bare name', 'local', { name: 'local', ip: null, port: null }],
    ['missing ]', 'relay.example.net[203.0.113.4', { name: 'relay.example.net', ip: '203.0.113.4', port: null }],
  ])('parseHostRef: %s', (_name, token, expected) => {
    expect(parseHostRef(token)).toEqual(expected);
  });

  it.each([
    ['code and enhanced', '550 5.1.1 x', 550, '5.1.1'],
    ['multi-line prefix', '550-5.7.26 x 550 5.7.26 y', 550, '5.7.26'],
    ['code only', '550 Requested action not taken', 550, null],
    ['enhanced only', '5.7.1 Spam', null, '5.7.1'],
    ['qmail #', '550 #5.1.0 Address rejected', 550, '5.1.0'],
    ['nothing', 'unknown user', null, null],
    ['a number that is not an enhanced code', '550 5.1 x', 550, null],
  ])('parseReply: %s', (_name, text, code, enhanced) => {
    expect(parseReply(text)).toEqual({ code, enhanced, text });
  });
});

describe('sniff', () => {
  it('scores Postfix lines high and other logs low', () => {
    expect(postfixParser.sniff([`${H} postfix/smtpd[1]: connect from a[192.0.2.1]`, `${H} postfix/qmgr[2]: 4B1E9C2: removed`])).toBe(1);
    expect(postfixParser.sniff(['2024-03-11 08:15:42 1kTq4w-0003Hb-Zr <= a@example.com', `${H} dovecot: x`])).toBe(0);
  });
});
