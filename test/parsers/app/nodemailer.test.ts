import { describe, expect, it } from 'vitest';
import { nodemailerParser } from '../../../parsers/app/nodemailer.js';
import type { AppErrorFields, AppUnit } from '../../../parsers/app/types.js';
import type { Reply } from '../../../src/model/records.js';

const text = (t: string): AppUnit => ({ text: t, fields: null });
const parse = (u: AppUnit): AppErrorFields | null => (nodemailerParser.claims(u) ? nodemailerParser.parse(u) : null);

const LIB = '/srv/app/node_modules/nodemailer/lib';
/** The frames Nodemailer's errors carry, as Node prints them (lib/ layout of Nodemailer 6). */
const RCPT_FRAMES = [
  `    at SMTPConnection._formatError (${LIB}/smtp-connection/index.js:798:19)`,
  `    at SMTPConnection._actionRCPT (${LIB}/smtp-connection/index.js:1676:28)`,
  `    at SMTPConnection.<anonymous> (${LIB}/smtp-connection/index.js:1629:22)`,
  `    at SMTPConnection._processResponse (${LIB}/smtp-connection/index.js:969:20)`,
  `    at SMTPConnection._onData (${LIB}/smtp-connection/index.js:755:14)`,
  `    at TLSSocket.SMTPConnection._onSocketData (${LIB}/smtp-connection/index.js:193:44)`,
  '    at TLSSocket.emit (node:events:517:28)',
].join('\n');
const DATA_FRAMES = [
  `    at SMTPConnection._formatError (${LIB}/smtp-connection/index.js:798:19)`,
  `    at SMTPConnection._actionSMTPStream (${LIB}/smtp-connection/index.js:1752:34)`,
  `    at SMTPStream.<anonymous> (${LIB}/smtp-connection/index.js:1227:22)`,
].join('\n');

const r = (code: number | null, enhanced: string | null, t: string): Reply => ({ code, enhanced, text: t });

const BASE = { library: 'nodemailer', codeCandidates: null, accepted: [], sender: null, messageId: null, relay: null };

describe('Nodemailer: printed errors', () => {
  it('all recipients rejected, frames only, after an unhandled rejection warning', () => {
    const reply = '550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.example.net';
    const u = text(`(node:31877) UnhandledPromiseRejectionWarning: Error: Can't send mail - all recipients were rejected: ${reply}\n${RCPT_FRAMES}`);
    expect(parse(u)).toEqual({ ...BASE, exception: 'Error', reply: r(550, '5.7.1', reply), stage: 'rcpt', recipients: [] });
  });

  it('the recipient named in the reply text', () => {
    const reply = '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table';
    const u = text(`Error: Can't send mail - all recipients were rejected: ${reply}\n${RCPT_FRAMES}`);
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'Error',
      reply: r(550, '5.1.1', reply),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', reply) }],
    });
  });

  it('inspected error with its properties, a multi-line reply split into `+` pieces, and rejectedErrors', () => {
    const joined =
      "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser a1-20020a170906";
    const msg = [
      "Error: Can't send mail - all recipients were rejected: 550-5.1.1 The email account that you tried to reach does not exist. Please try",
      "550-5.1.1 double-checking the recipient's email address for typos or",
      '550 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser a1-20020a170906',
    ].join('\n');
    const response = [
      "  response: '550-5.1.1 The email account that you tried to reach does not exist. Please try\\n' +",
      `    "550-5.1.1 double-checking the recipient's email address for typos or\\n" +`,
      "    '550 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser a1-20020a170906',",
    ].join('\n');
    const nested = [
      '    Error: Recipient command failed: 550-5.1.1 The email account that you tried to reach does not exist. Please try',
      "    550-5.1.1 double-checking the recipient's email address for typos or",
      '    550 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser a1-20020a170906',
      `        at SMTPConnection._formatError (${LIB}/smtp-connection/index.js:798:19)`,
      `        at SMTPConnection._actionRCPT (${LIB}/smtp-connection/index.js:1676:28) {`,
      "      code: 'EENVELOPE',",
      response.replace(/^ {2}/gm, '      '),
      '      responseCode: 550,',
      "      command: 'RCPT TO',",
      "      recipient: 'bob@example.org'",
      '    }',
    ].join('\n');
    const u = text(
      [
        `${msg}\n${RCPT_FRAMES} {`,
        "  code: 'EENVELOPE',",
        response,
        '  responseCode: 550,',
        "  command: 'RCPT TO',",
        "  rejected: [ 'bob@example.org' ],",
        '  rejectedErrors: [',
        nested,
        '  ]',
        '}',
      ].join('\n'),
    );
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'EENVELOPE',
      reply: r(550, '5.1.1', joined),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', joined) }],
    });
  });

  it('two refused recipients, each with its own reply (the outer reply is the deferred one)', () => {
    const bob = '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table';
    const carol = '452 4.2.2 <carol@example.org>: Mailbox full';
    const entry = (reply: string, to: string): string =>
      [
        `    Error: Recipient command failed: ${reply}`,
        `        at SMTPConnection._formatError (${LIB}/smtp-connection/index.js:798:19) {`,
        "      code: 'EENVELOPE',",
        `      response: '${reply}',`,
        `      responseCode: ${reply.slice(0, 3)},`,
        `      permanent: ${reply.startsWith('5')},`,
        "      command: 'RCPT TO',",
        `      recipient: '${to}'`,
        '    }',
      ].join('\n');
    const u = text(
      [
        `Error: Can't send mail - all recipients were rejected: ${carol}`,
        `${RCPT_FRAMES} {`,
        "  code: 'EENVELOPE',",
        `  response: '${carol}',`,
        '  responseCode: 452,',
        '  permanent: false,',
        "  command: 'RCPT TO',",
        "  rejected: [ 'bob@example.org', 'carol@example.org' ],",
        '  rejectedErrors: [',
        `${entry(bob, 'bob@example.org')},`,
        entry(carol, 'carol@example.org'),
        '  ]',
        '}',
      ].join('\n'),
    );
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'EENVELOPE',
      reply: r(452, '4.2.2', carol),
      stage: 'rcpt',
      recipients: [
        { address: 'bob@example.org', reply: r(550, '5.1.1', bob) },
        { address: 'carol@example.org', reply: r(452, '4.2.2', carol) },
      ],
    });
  });

  it('Node 8 layout `{ Error: ...` with a folded reply', () => {
    const folded = '550-Requested action not taken: mailbox unavailable 550 Requested action not taken: mailbox unavailable';
    const u = text(
      [
        `{ Error: Can't send mail - all recipients were rejected: ${folded}`,
        RCPT_FRAMES,
        "  code: 'EENVELOPE',",
        `  response: '${folded}',`,
        '  responseCode: 550,',
        "  command: 'RCPT TO' }",
      ].join('\n'),
    );
    expect(parse(u)).toEqual({ ...BASE, exception: 'EENVELOPE', reply: r(550, null, folded), stage: 'rcpt', recipients: [] });
  });

  it('Node 6 layout `{ [Error: ...] code: ... }` on one line', () => {
    const reply = '550 5.1.1 <bob@example.org>: User unknown';
    const u = text(`{ [Error: Can't send mail - all recipients were rejected: ${reply}] code: 'EENVELOPE', response: '${reply}', responseCode: 550, command: 'RCPT TO' }`);
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'EENVELOPE',
      reply: r(550, '5.1.1', reply),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', reply) }],
    });
  });

  it('a folded reply without properties', () => {
    const folded = '550-Requested action not taken: mailbox unavailable 550 Requested action not taken: mailbox unavailable';
    const u = text(`Error: Can't send mail - all recipients were rejected: ${folded}\n${RCPT_FRAMES}`);
    expect(parse(u)?.reply).toEqual(r(550, null, folded));
  });

  it('Message failed: EMESSAGE after the final dot, multi-line reply', () => {
    const joined =
      '550-5.7.1 [198.51.100.7] Our system has detected that this message is 550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Example, 550 5.7.1 this message has been blocked. https://support.example.com/mail/?p=UnsolicitedMessageError';
    const u = text(
      [
        'Error: Message failed: 550-5.7.1 [198.51.100.7] Our system has detected that this message is',
        '550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Example,',
        '550 5.7.1 this message has been blocked. https://support.example.com/mail/?p=UnsolicitedMessageError',
        `${DATA_FRAMES} {`,
        "  code: 'EMESSAGE',",
        "  response: '550-5.7.1 [198.51.100.7] Our system has detected that this message is\\n' +",
        "    '550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Example,\\n' +",
        "    '550 5.7.1 this message has been blocked. https://support.example.com/mail/?p=UnsolicitedMessageError',",
        '  responseCode: 550,',
        '  permanent: true,',
        "  command: 'DATA'",
        '}',
      ].join('\n'),
    );
    expect(parse(u)).toEqual({ ...BASE, exception: 'EMESSAGE', reply: r(550, '5.7.1', joined), stage: 'end_of_data', recipients: [] });
  });

  it('Message failed without properties is still end of data', () => {
    const reply = '554 5.7.1 Message rejected: content policy';
    expect(parse(text(`Error: Message failed: ${reply}\n${DATA_FRAMES}`))).toEqual({
      ...BASE,
      exception: 'Error',
      reply: r(554, '5.7.1', reply),
      stage: 'end_of_data',
      recipients: [],
    });
  });

  it('Data command failed: the reply to DATA itself', () => {
    const reply = '554 5.5.1 Error: no valid recipients';
    const u = text(`Error: Data command failed: ${reply}\n${RCPT_FRAMES} {\n  code: 'EENVELOPE',\n  response: '${reply}',\n  responseCode: 554,\n  command: 'DATA'\n}`);
    expect(parse(u)).toEqual({ ...BASE, exception: 'EENVELOPE', reply: r(554, '5.5.1', reply), stage: 'data', recipients: [] });
  });

  it('Mail command failed: the sender refused', () => {
    const reply = '550 5.7.1 <alice@example.com>: Sender address rejected: Access denied';
    const u = text(`Error: Mail command failed: ${reply}\n${RCPT_FRAMES} {\n  code: 'EENVELOPE',\n  response: '${reply}',\n  responseCode: 550,\n  permanent: true,\n  command: 'MAIL FROM'\n}`);
    expect(parse(u)).toEqual({ ...BASE, exception: 'EENVELOPE', reply: r(550, '5.7.1', reply), stage: 'mail', recipients: [], sender: 'alice@example.com' });
  });

  it('Recipient command failed, on its own', () => {
    const reply = '550 5.1.1 <erin@example.net>: Recipient address rejected: User unknown';
    const u = text(`Error: Recipient command failed: ${reply}\n${RCPT_FRAMES}`);
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'Error',
      reply: r(550, '5.1.1', reply),
      stage: 'rcpt',
      recipients: [{ address: 'erin@example.net', reply: r(550, '5.1.1', reply) }],
    });
  });

  it('Invalid login: EAUTH with a multi-line 535', () => {
    const joined = '535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8  https://support.example.com/mail/?p=BadCredentials b2-20020a05';
    const u = text(
      [
        'Error: Invalid login: 535-5.7.8 Username and Password not accepted. For more information, go to',
        '535 5.7.8  https://support.example.com/mail/?p=BadCredentials b2-20020a05',
        `    at SMTPConnection._formatError (${LIB}/smtp-connection/index.js:798:19)`,
        `    at SMTPConnection._actionAUTHComplete (${LIB}/smtp-connection/index.js:1564:34) {`,
        "  code: 'EAUTH',",
        "  response: '535-5.7.8 Username and Password not accepted. For more information, go to\\n' +",
        "    '535 5.7.8  https://support.example.com/mail/?p=BadCredentials b2-20020a05',",
        '  responseCode: 535,',
        "  command: 'AUTH PLAIN'",
        '}',
      ].join('\n'),
    );
    expect(parse(u)).toEqual({ ...BASE, exception: 'EAUTH', reply: r(535, '5.7.8', joined), stage: 'auth', recipients: [] });
  });

  it('LMTP: Message failed for recipient', () => {
    const reply = '552 5.2.2 <bob@example.org> Mailbox is full';
    const u = text(`Error: Message failed for recipient bob@example.org: ${reply}\n${DATA_FRAMES}`);
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'Error',
      reply: r(552, '5.2.2', reply),
      stage: 'end_of_data',
      recipients: [{ address: 'bob@example.org', reply: r(552, '5.2.2', reply) }],
    });
  });

  it('Invalid greeting: the echoed reply kept once', () => {
    const reply = '554 5.7.1 Access denied for 203.0.113.9';
    const u = text(`Error: Invalid greeting. response=${reply}: ${reply}\n    at SMTPConnection._actionGreeting (${LIB}/smtp-connection/index.js:1210:27) {\n  code: 'EPROTOCOL',\n  response: '${reply}',\n  responseCode: 554,\n  command: 'CONN'\n}`);
    expect(parse(u)).toEqual({ ...BASE, exception: 'EPROTOCOL', reply: r(554, '5.7.1', reply), stage: 'connect', recipients: [] });
    expect(parse(text(`Error: Invalid greeting. response=${reply}: ${reply}\n    at SMTPConnection._actionGreeting (${LIB}/smtp-connection/index.js:1210:27)`))?.reply).toEqual(r(554, '5.7.1', reply));
  });

  it("Nodemailer's own log line names the Message-ID", () => {
    const reply = '550 5.7.1 Unable to relay for bob@example.org';
    const u = text(`[abc123] Send error for <4f9c1e2a-77d1-4c1b-9e0a-0b1d2c3e4f50@example.com>: Can't send mail - all recipients were rejected: ${reply}`);
    expect(parse(u)).toEqual({
      ...BASE,
      exception: null,
      reply: r(550, '5.7.1', reply),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.7.1', reply) }],
      messageId: '4f9c1e2a-77d1-4c1b-9e0a-0b1d2c3e4f50@example.com',
    });
  });
});

describe('Nodemailer: old versions', () => {
  it('0.x RecipientError: reply in `data` with escaped CRLF, stage word', () => {
    const u = text(
      "[RecipientError: Can't send mail - all recipients were rejected] name: 'RecipientError', data: '550-5.1.1 Mailbox unknown\\r\\n550 5.1.1 <bob@example.org> does not exist', stage: 'rcpt'",
    );
    const reply = r(550, '5.1.1', '550-5.1.1 Mailbox unknown 550 5.1.1 <bob@example.org> does not exist');
    expect(parse(u)).toEqual({ ...BASE, exception: 'RecipientError', reply, stage: 'rcpt', recipients: [{ address: 'bob@example.org', reply }] });
  });

  it('0.x, Node 6 braces over several lines', () => {
    const u = text(
      "{ [RecipientError: Can't send mail - all recipients were rejected]\n  name: 'RecipientError',\n  data: '550 5.7.1 Relaying denied',\n  stage: 'rcpt' }",
    );
    expect(parse(u)).toEqual({ ...BASE, exception: 'RecipientError', reply: r(550, '5.7.1', '550 5.7.1 Relaying denied'), stage: 'rcpt', recipients: [] });
  });

  it('stops at `were rejected`: no reply, the message kept', () => {
    const u = text(
      `Error: Can't send mail - all recipients were rejected\n    at SMTPClient._actionRCPT (/srv/app/node_modules/simplesmtp/lib/client.js:994:27)\n    at SMTPClient._onData (/srv/app/node_modules/simplesmtp/lib/client.js:335:29)`,
    );
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'Error',
      reply: r(null, null, "Can't send mail - all recipients were rejected"),
      stage: 'rcpt',
      recipients: [],
    });
  });
});

describe('Nodemailer: structured (JSON) entries', () => {
  const bob = '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table';

  it('a pino `err` object with the entry around it', () => {
    const msg = `Can't send mail - all recipients were rejected: ${bob}`;
    const u: AppUnit = {
      text: `mail failed\n${msg}\nError: ${msg}\n${RCPT_FRAMES}`,
      fields: {
        level: 50,
        time: 1722340000000,
        msg: 'mail failed',
        type: 'Error',
        message: msg,
        stack: `Error: ${msg}\n${RCPT_FRAMES}`,
        code: 'EENVELOPE',
        response: bob,
        responseCode: 550,
        permanent: true,
        command: 'RCPT TO',
        rejected: ['bob@example.org'],
        rejectedErrors: [{ type: 'Error', message: `Recipient command failed: ${bob}`, code: 'EENVELOPE', response: bob, responseCode: 550, command: 'RCPT TO', recipient: 'bob@example.org' }],
        messageId: '<20240730120344.1a2b3c@example.com>',
        from: 'Alice <alice@example.com>',
        host: 'smtp.example.com',
        port: 587,
      },
    };
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'EENVELOPE',
      reply: r(550, '5.1.1', bob),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', bob) }],
      sender: 'alice@example.com',
      messageId: '20240730120344.1a2b3c@example.com',
      relay: { name: 'smtp.example.com', ip: null, port: 587 },
    });
  });

  it('fields only (the message not in the text), the relay as an address', () => {
    const u: AppUnit = {
      text: 'send failed',
      fields: { code: 'EMESSAGE', response: '550 5.7.1 Message rejected as spam', responseCode: 550, command: 'DATA', host: '192.0.2.25', port: '25' },
    };
    expect(parse(u)).toEqual({
      ...BASE,
      exception: 'EMESSAGE',
      reply: r(550, '5.7.1', '550 5.7.1 Message rejected as spam'),
      stage: 'end_of_data',
      recipients: [],
      relay: { name: null, ip: '192.0.2.25', port: 25 },
    });
  });

  it('older errors without `recipient`: rejected[i] names each', () => {
    const u: AppUnit = {
      text: "Can't send mail - all recipients were rejected: 550 5.1.1 No such user",
      fields: {
        code: 'EENVELOPE',
        response: '550 5.1.1 No such user',
        responseCode: 550,
        command: 'RCPT TO',
        rejected: ['bob@example.org', 'carol@example.org'],
        rejectedErrors: [{ response: '550 5.1.1 No such user' }, { response: '550 5.1.1 No such user' }],
      },
    };
    const reply = r(550, '5.1.1', '550 5.1.1 No such user');
    expect(parse(u)?.recipients).toEqual([
      { address: 'bob@example.org', reply },
      { address: 'carol@example.org', reply },
    ]);
  });

  it('rejected without rejectedErrors: the reply goes to the recipient it names', () => {
    const reply = r(550, '5.1.1', '550 5.1.1 <carol@example.org>: Recipient address rejected');
    const u: AppUnit = { text: '', fields: { code: 'EENVELOPE', response: reply.text, responseCode: 550, command: 'RCPT TO', rejected: ['bob@example.org', 'carol@example.org'] } };
    expect(parse(u)?.recipients).toEqual([
      { address: 'bob@example.org', reply: null },
      { address: 'carol@example.org', reply },
    ]);
  });
});

describe('Nodemailer: a send with some recipients refused (info)', () => {
  const bob = '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table';
  const expected = {
    ...BASE,
    exception: 'EENVELOPE',
    reply: r(550, '5.1.1', bob),
    stage: 'rcpt',
    recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', bob) }],
    accepted: ['dave@example.org'],
    sender: 'alice@example.com',
    messageId: '6545e13f-0b97-183a-abbe-7b86ea55e054@example.com',
  };

  it('console.log(info)', () => {
    const u = text(
      [
        'sent {',
        "  accepted: [ 'dave@example.org' ],",
        "  rejected: [ 'bob@example.org' ],",
        "  ehlo: [ 'PIPELINING', '8BITMIME', 'SMTPUTF8', 'AUTH LOGIN PLAIN' ],",
        '  rejectedErrors: [',
        `    Error: Recipient command failed: ${bob}`,
        `        at SMTPConnection._formatError (${LIB}/smtp-connection/index.js:798:19)`,
        `        at SMTPConnection._actionRCPT (${LIB}/smtp-connection/index.js:1676:28) {`,
        "      code: 'EENVELOPE',",
        `      response: '${bob}',`,
        '      responseCode: 550,',
        '      permanent: true,',
        "      command: 'RCPT TO',",
        "      recipient: 'bob@example.org'",
        '    }',
        '  ],',
        '  envelopeTime: 8,',
        '  messageTime: 3,',
        '  messageSize: 280,',
        "  response: '250 2.0.0 Ok: queued as 4XyZ1',",
        '  envelope: {',
        "    from: 'alice@example.com',",
        "    to: [ 'bob@example.org', 'dave@example.org' ]",
        '  },',
        "  messageId: '<6545e13f-0b97-183a-abbe-7b86ea55e054@example.com>'",
        '}',
      ].join('\n'),
    );
    expect(parse(u)).toEqual(expected);
  });

  it('as JSON fields', () => {
    const u: AppUnit = {
      text: 'sent',
      fields: {
        msg: 'sent',
        accepted: ['dave@example.org'],
        rejected: ['bob@example.org'],
        rejectedErrors: [{ code: 'EENVELOPE', response: bob, responseCode: 550, permanent: true, command: 'RCPT TO', recipient: 'bob@example.org' }],
        response: '250 2.0.0 Ok: queued as 4XyZ1',
        envelope: { from: 'alice@example.com', to: ['bob@example.org', 'dave@example.org'] },
        messageId: '<6545e13f-0b97-183a-abbe-7b86ea55e054@example.com>',
      },
    };
    expect(parse(u)).toEqual(expected);
  });

  it('an info without refusals is no error', () => {
    const u: AppUnit = { text: 'sent', fields: { accepted: ['dave@example.org'], rejected: [], response: '250 2.0.0 Ok: queued as 4XyZ1', messageId: '<a@example.com>' } };
    expect(parse(u)).toBeNull();
    expect(parse(text("{\n  accepted: [ 'dave@example.org' ],\n  rejected: [],\n  response: '250 2.0.0 Ok: queued as 4XyZ1',\n  messageId: '<a@example.com>'\n}"))).toBeNull();
  });
});

describe('Nodemailer: not ours', () => {
  it.each([
    ['a generic Node error', "TypeError: Cannot read properties of undefined (reading 'map')\n    at render (/srv/app/src/view.js:12:9)"],
    ['an order number', 'order 550 shipped to bob@example.org'],
    ['a connection refused (no reply)', `Error: connect ECONNREFUSED 192.0.2.25:587\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {\n  errno: -111,\n  code: 'ESOCKET',\n  syscall: 'connect',\n  address: '192.0.2.25',\n  port: 587,\n  command: 'CONN'\n}`],
    ['missing credentials (no reply)', `Error: Missing credentials for "PLAIN"\n    at SMTPConnection._formatError (${LIB}/smtp-connection/index.js:798:19) {\n  code: 'EAUTH',\n  command: 'API'\n}`],
    ['a weak template in some other message', 'Invalid login: 535 attempts remaining'],
    ['a Python traceback', "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.1.1 User unknown')}"],
  ])('%s', (_name, t) => {
    expect(parse(text(t))).toBeNull();
  });

  it('claims only what looks like Nodemailer', () => {
    expect(nodemailerParser.claims(text('order 550 shipped'))).toBe(false);
    expect(nodemailerParser.claims({ text: 'x', fields: { code: 550, level: 'error' } })).toBe(false);
    expect(nodemailerParser.claims({ text: 'x', fields: { code: 'EENVELOPE' } })).toBe(true);
  });

  it('never throws on mangled input', () => {
    const src = `Error: Can't send mail - all recipients were rejected: 550 5.1.1 x\n${RCPT_FRAMES} {\n  code: 'EENVELOPE',\n  response: '550 x' +\n  rejectedErrors: [ { [ { \"a\": 'b\\`;
    for (let i = 0; i < src.length; i += 3) {
      expect(() => nodemailerParser.parse(text(src.slice(0, i)))).not.toThrow();
      expect(() => nodemailerParser.parse(text(src.slice(i)))).not.toThrow();
    }
  });
});
