/**
 * PHP mail libraries (FORMATS.md 4, PHP; 5 item 17: SwiftMailer CRLF, JSON in JSON). Every example is
 * written from the libraries' message templates (PHPMailer 6.6 src/SMTP.php and src/PHPMailer.php,
 * SwiftMailer 6.3 AbstractSmtpTransport, Symfony Mailer SmtpTransport/EsmtpTransport, laminas-mail
 * AbstractProtocol::_expect) with made-up hosts, addresses and paths.
 */
import { describe, expect, it } from 'vitest';
import type { AppUnit } from '../../../parsers/app/types.js';
import { phpParser } from '../../../parsers/app/php.js';

const plain = (text: string): AppUnit => ({ text, fields: null });
const parse = (unit: AppUnit) => phpParser.parse(unit);

const base = {
  codeCandidates: null,
  recipients: [],
  accepted: [],
  sender: null,
  messageId: null,
  relay: null,
};

// ---------------------------------------------------------------- PHPMailer

describe('PHPMailer', () => {
  const rcptReply = {
    code: 550,
    enhanced: '5.1.1',
    text: '550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
  };

  it('reads SMTPDebug 2 output: commands, replies, the refused recipient, the sender, the relay', () => {
    const text = [
      'Connection: opening to smtp.example.com:587, timeout=300, errno=0, errstr=',
      '2023-09-18 06:41:03\tConnection: opened',
      '2023-09-18 06:41:03\tSERVER -> CLIENT: 220 smtp.example.com ESMTP Postfix',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: EHLO web01.example.com',
      '2023-09-18 06:41:03\tSERVER -> CLIENT: 250-smtp.example.com',
      '                   \t                  250-PIPELINING',
      '                   \t                  250 8BITMIME',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: MAIL FROM:<noreply@example.com>',
      '2023-09-18 06:41:03\tSERVER -> CLIENT: 250 2.1.0 Ok',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: RCPT TO:<sales@example.org>',
      '2023-09-18 06:41:03\tSERVER -> CLIENT: 250 2.1.5 Ok',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: RCPT TO:<helpdesk@example.org>',
      `2023-09-18 06:41:03\tSERVER -> CLIENT: ${rcptReply.text}`,
      `2023-09-18 06:41:03\tSMTP ERROR: RCPT TO command failed: ${rcptReply.text}`,
      '2023-09-18 06:41:03\tCLIENT -> SERVER: DATA',
      '2023-09-18 06:41:03\tSERVER -> CLIENT: 354 End data with <CR><LF>.<CR><LF>',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: Date: Mon, 18 Sep 2023 06:41:03 +0000',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: Message-ID: <Xk3L9aQ2@web01.example.com>',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: Mail from the contact form',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: .',
      '2023-09-18 06:41:03\tSERVER -> CLIENT: 250 2.0.0 Ok: queued as 4RqT2h0Jc9z9sWL',
      '2023-09-18 06:41:03\tCLIENT -> SERVER: QUIT',
      '2023-09-18 06:41:03\tSERVER -> CLIENT: 221 2.0.0 Bye',
      `2023-09-18 06:41:03\tSMTP Error: The following recipients failed: helpdesk@example.org: <helpdesk@example.org>: Recipient address rejected: User unknown in virtual mailbox table`,
      'Message could not be sent. Mailer Error: SMTP Error: The following recipients failed: helpdesk@example.org: <helpdesk@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
    ].join('\n');
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: rcptReply,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply: rcptReply }],
      accepted: ['sales@example.org'],
      sender: 'noreply@example.com',
      messageId: 'Xk3L9aQ2@web01.example.com',
      relay: { name: 'smtp.example.com', ip: null, port: 587 },
    });
  });

  it('reads one SMTP ERROR line (timestamp stripped or left)', () => {
    for (const text of [
      'SMTP ERROR: RCPT TO command failed: 550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown',
      '2023-09-18 06:41:03 SMTP ERROR: RCPT TO command failed: 550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown',
    ]) {
      const reply = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown' };
      expect(parse(plain(text))).toEqual({
        ...base,
        library: 'PHPMailer',
        exception: null,
        reply,
        stage: 'rcpt',
        recipients: [{ address: 'helpdesk@example.org', reply }],
      });
    }
  });

  it('reads the failed-recipients message alone: the reply without its code, per recipient', () => {
    const text =
      'Mailer Error: SMTP Error: The following recipients failed: helpdesk@example.org: <helpdesk@example.org>: Recipient address rejected: User unknown\r\nsupport@example.net: Requested action not taken: mailbox unavailable\r\n';
    const r1 = { code: null, enhanced: null, text: '<helpdesk@example.org>: Recipient address rejected: User unknown' };
    const r2 = { code: null, enhanced: null, text: 'Requested action not taken: mailbox unavailable' };
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: r1,
      stage: 'rcpt',
      recipients: [
        { address: 'helpdesk@example.org', reply: r1 },
        { address: 'support@example.net', reply: r2 },
      ],
    });
  });

  it('reads the brief form of the list (an address, no detail) and PHPMailer 5.2 comma lists', () => {
    const one = parse(plain('SMTP Error: The following recipients failed: helpdesk@example.org'));
    expect(one).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: { code: null, enhanced: null, text: 'SMTP Error: The following recipients failed: helpdesk@example.org' },
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply: null }],
    });
    const two = parse(plain('SMTP Error: The following recipients failed: helpdesk@example.org, sales@example.net'));
    expect(two?.recipients).toEqual([
      { address: 'helpdesk@example.org', reply: null },
      { address: 'sales@example.net', reply: null },
    ]);
  });

  it('joins a multi-line reply (Gmail) inside the recipients list and matches it to the debug lines', () => {
    const lines = [
      '550-5.1.1 The email account that you tried to reach does not exist. Please try',
      '550-5.1.1 double-checking the recipient\'s email address for typos or',
      '550 5.1.1 unnecessary spaces. https://support.example.com/?p=NoSuchUser a1-2.3 - gsmtp',
    ];
    const text = [
      '2024-02-01 10:00:00\tCLIENT -> SERVER: RCPT TO:<nobody@example.net>',
      `2024-02-01 10:00:00\tSERVER -> CLIENT: ${lines[0]}`,
      `                   \t                  ${lines[1]}`,
      `                   \t                  ${lines[2]}`,
      `2024-02-01 10:00:00\tSMTP ERROR: RCPT TO command failed: ${lines[0]}`,
      `                   \t                  ${lines[1]}`,
      `                   \t                  ${lines[2]}`,
      '2024-02-01 10:00:00\tCLIENT -> SERVER: QUIT',
      '2024-02-01 10:00:00\tSMTP Error: The following recipients failed: nobody@example.net: The email account that you tried to reach does not exist. Please try',
      "                   \t                  double-checking the recipient's email address for typos or",
      '                   \t                  unnecessary spaces. https://support.example.com/?p=NoSuchUser a1-2.3 - gsmtp',
    ].join('\n');
    const reply = { code: 550, enhanced: '5.1.1', text: lines.join(' ') };
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply,
      stage: 'rcpt',
      recipients: [{ address: 'nobody@example.net', reply }],
    });
  });

  it('reads an uncaught PHPMailer\\PHPMailer\\Exception with its stack trace', () => {
    const text = [
      'PHP Fatal error:  Uncaught PHPMailer\\PHPMailer\\Exception: SMTP Error: The following recipients failed: helpdesk@example.org: <helpdesk@example.org>: Recipient address rejected: User unknown',
      ' in /var/www/html/vendor/phpmailer/phpmailer/src/PHPMailer.php:2059',
      'Stack trace:',
      "#0 /var/www/html/vendor/phpmailer/phpmailer/src/PHPMailer.php(1666): PHPMailer\\PHPMailer\\PHPMailer->smtpSend('Date: Mon, 18 S...', 'Hello from the ...')",
      '#1 /var/www/html/vendor/phpmailer/phpmailer/src/PHPMailer.php(1502): PHPMailer\\PHPMailer\\PHPMailer->postSend()',
      '#2 /var/www/html/contact.php(41): PHPMailer\\PHPMailer\\PHPMailer->send()',
      '#3 {main}',
      '  thrown in /var/www/html/vendor/phpmailer/phpmailer/src/PHPMailer.php on line 2059',
    ].join('\n');
    const reply = { code: null, enhanced: null, text: '<helpdesk@example.org>: Recipient address rejected: User unknown' };
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: 'PHPMailer\\PHPMailer\\Exception',
      reply,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply }],
    });
  });

  it('reads a refused sender: SMTP ERROR line and the From address failed message', () => {
    const text = [
      'SMTP ERROR: MAIL FROM command failed: 550 5.1.0 <noreply@example.com>: Sender address rejected: Domain not found',
      'Mailer Error: The following From address failed: noreply@example.com : MAIL FROM command failed,<noreply@example.com>: Sender address rejected: Domain not found',
      ',550,5.1.0SMTP server error: MAIL FROM command failed Detail: <noreply@example.com>: Sender address rejected: Domain not found',
      ' SMTP code: 550 Additional SMTP info: 5.1.0',
    ].join('\n');
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: { code: 550, enhanced: '5.1.0', text: '550 5.1.0 <noreply@example.com>: Sender address rejected: Domain not found' },
      stage: 'mail',
      sender: 'noreply@example.com',
    });
  });

  it('rebuilds the reply of ErrorInfo alone (`SMTP server error: DATA END command failed Detail: ...`)', () => {
    const text =
      'Message could not be sent. Mailer Error: SMTP Error: data not accepted.SMTP server error: DATA END command failed Detail: Message rejected as spam by Content Filtering\r\n SMTP code: 550 Additional SMTP info: 5.7.1';
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message rejected as spam by Content Filtering' },
      stage: 'end_of_data',
    });
  });

  it('reads DATA END and DATA refusals from the debug lines', () => {
    const end = parse(plain('2023-09-18 06:41:04\tSMTP ERROR: DATA END command failed: 550 5.7.1 Message content rejected\n2023-09-18 06:41:04\tSMTP Error: data not accepted.'));
    expect(end).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message content rejected' },
      stage: 'end_of_data',
    });
    const data = parse(plain('SMTP ERROR: DATA command failed: 554 5.5.1 Error: no valid recipients'));
    expect(data?.stage).toBe('data');
    expect(data?.reply).toEqual({ code: 554, enhanced: '5.5.1', text: '554 5.5.1 Error: no valid recipients' });
    // The final dot, seen only as CLIENT -> SERVER / SERVER -> CLIENT lines.
    const dot = parse(plain('CLIENT -> SERVER: DATA\nSERVER -> CLIENT: 354 go ahead\nCLIENT -> SERVER: Subject: Hi\nCLIENT -> SERVER: .\nSERVER -> CLIENT: 550 5.7.1 Spam'));
    expect(dot?.stage).toBe('end_of_data');
    expect(parse(plain('SMTP Error: data not accepted.'))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: { code: null, enhanced: null, text: 'SMTP Error: data not accepted.' },
      stage: 'data',
    });
  });

  it('reads authentication failures, with and without the reply', () => {
    const text = 'SMTP ERROR: Password command failed: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6\nSMTP Error: Could not authenticate.';
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: { code: 535, enhanced: '5.7.8', text: '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6' },
      stage: 'auth',
    });
    expect(parse(plain('SMTP Error: Could not authenticate.'))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply: { code: null, enhanced: null, text: 'SMTP Error: Could not authenticate.' },
      stage: 'auth',
    });
    // AUTH LOGIN's base64 lines keep the auth stage.
    const login = parse(plain('CLIENT -> SERVER: AUTH LOGIN\nSERVER -> CLIENT: 334 VXNlcm5hbWU6\nCLIENT -> SERVER: bm9yZXBseUBleGFtcGxlLmNvbQ==\nSERVER -> CLIENT: 334 UGFzc3dvcmQ6\nCLIENT -> SERVER: c2VjcmV0\nSERVER -> CLIENT: 535 5.7.8 Error: authentication failed'));
    expect(login?.stage).toBe('auth');
  });

  it('reads the html Debugoutput (entities, <br>)', () => {
    const text = '2023-09-18 06:41:03 SMTP ERROR: RCPT TO command failed: 550 5.1.1 &lt;helpdesk@example.org&gt;: Recipient address rejected: User unknown<br>';
    const reply = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown' };
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: null,
      reply,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply }],
    });
  });

  it('leaves a debug entry that is only the server reply to the SMTP ERROR entry that follows it (one refusal, one event)', () => {
    const unit: AppUnit = {
      text: 'SERVER -> CLIENT: 550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown',
      fields: { channel: 'mailer', level: 100, level_name: 'DEBUG', messageId: '<a1b2c3@web01.example.com>' },
    };
    expect(parse(unit)).toBeNull();
  });

  it('reads a Laravel line: the list ends where the context JSON starts', () => {
    const text = [
      'SMTP Error: The following recipients failed: helpdesk@example.org: <helpdesk@example.org>: Recipient address rejected: User unknown\r',
      ' {"exception":"[object] (PHPMailer\\\\PHPMailer\\\\Exception(code: 2): SMTP Error: The following recipients failed: helpdesk@example.org: <helpdesk@example.org>: Recipient address rejected: User unknown\r',
      ' at /var/www/html/vendor/phpmailer/phpmailer/src/PHPMailer.php:2059)',
      '[stacktrace]',
      '#0 /var/www/html/vendor/phpmailer/phpmailer/src/PHPMailer.php(1666): PHPMailer\\\\PHPMailer\\\\PHPMailer->smtpSend()',
      '"} ',
    ].join('\n');
    const reply = { code: null, enhanced: null, text: '<helpdesk@example.org>: Recipient address rejected: User unknown' };
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: 'PHPMailer\\PHPMailer\\Exception',
      reply,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply }],
    });
  });

  it('reads long failed-recipients lists (a bulk send)', () => {
    const addrs = Array.from({ length: 40 }, (_, i) => `user${i}@example.net`);
    const text = `SMTP Error: The following recipients failed: ${addrs.map((a) => `${a}: <${a}>: Recipient address rejected: User unknown\r\n`).join('')}`;
    const out = parse(plain(text));
    expect(out?.recipients.map((r) => r.address)).toEqual(addrs);
    expect(out?.recipients[39]?.reply?.text).toBe('<user39@example.net>: Recipient address rejected: User unknown');
  });

  it('reads a caught exception logged as JSON (class in the fields)', () => {
    const unit: AppUnit = {
      text: 'Mail failed\nSMTP Error: The following recipients failed: helpdesk@example.org: <helpdesk@example.org>: Recipient address rejected: User unknown\n',
      fields: { class: 'PHPMailer\\PHPMailer\\Exception', code: 2, file: '/var/www/html/vendor/phpmailer/phpmailer/src/PHPMailer.php:2059' },
    };
    const reply = { code: null, enhanced: null, text: '<helpdesk@example.org>: Recipient address rejected: User unknown' };
    expect(parse(unit)).toEqual({
      ...base,
      library: 'PHPMailer',
      exception: 'PHPMailer\\PHPMailer\\Exception',
      reply,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply }],
    });
  });
});

// ---------------------------------------------------------------- SwiftMailer

const SWIFT = '/var/www/vendor/swiftmailer/swiftmailer/lib/classes/Swift/Transport';

describe('SwiftMailer', () => {
  it('reads the reply whose CRLF puts the closing quote on the next line (end of DATA from the frames)', () => {
    const text = [
      'Swift_TransportException: Expected response code 250 but got code "550", with message "550 5.7.1 Message rejected: spam content detected',
      `" in ${SWIFT}/AbstractSmtpTransport.php:457`,
      'Stack trace:',
      `#0 ${SWIFT}/AbstractSmtpTransport.php(341): Swift_Transport_AbstractSmtpTransport->assertResponseCode('550 5.7.1 Messa...', Array)`,
      `#1 ${SWIFT}/EsmtpTransport.php(305): Swift_Transport_AbstractSmtpTransport->executeCommand('\\r\\n.\\r\\n', Array, Array, false, NULL)`,
      `#2 ${SWIFT}/AbstractSmtpTransport.php(406): Swift_Transport_EsmtpTransport->executeCommand('\\r\\n.\\r\\n', Array)`,
      `#3 ${SWIFT}/AbstractSmtpTransport.php(500): Swift_Transport_AbstractSmtpTransport->streamMessage(Object(Swift_Message))`,
      `#4 ${SWIFT}/AbstractSmtpTransport.php(520): Swift_Transport_AbstractSmtpTransport->doMailTransaction(Object(Swift_Message), 'noreply@example...', Array, Array)`,
      '#5 {main}',
    ].join('\n');
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'SwiftMailer',
      exception: 'Swift_TransportException',
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message rejected: spam content detected' },
      stage: 'end_of_data',
    });
  });

  it('keeps CRLF endings (a CR before the newline) and frames without arguments', () => {
    const text = [
      'Swift_TransportException: Expected response code 250 but got code "550", with message "550 5.7.1 Rejected by policy\r',
      `" in ${SWIFT}/AbstractSmtpTransport.php:457`,
      'Stack trace:',
      `#0 ${SWIFT}/AbstractSmtpTransport.php(341): Swift_Transport_AbstractSmtpTransport->assertResponseCode()`,
      `#1 ${SWIFT}/EsmtpTransport.php(305): Swift_Transport_AbstractSmtpTransport->executeCommand()`,
      `#2 ${SWIFT}/AbstractSmtpTransport.php(378): Swift_Transport_EsmtpTransport->executeCommand()`,
      `#3 ${SWIFT}/EsmtpTransport.php(378): Swift_Transport_AbstractSmtpTransport->doMailFromCommand()`,
    ].join('\n');
    const out = parse(plain(text));
    expect(out?.reply).toEqual({ code: 550, enhanced: '5.7.1', text: '550 5.7.1 Rejected by policy' });
    expect(out?.stage).toBe('mail');
  });

  it('takes a 250 expected while sending DATA as the pipelined MAIL FROM refusal', () => {
    const text = [
      'Swift_TransportException: Expected response code 250 but got code "553", with message "553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user web@example.com',
      `" in ${SWIFT}/AbstractSmtpTransport.php:457`,
      'Stack trace:',
      `#0 ${SWIFT}/AbstractSmtpTransport.php(349): Swift_Transport_AbstractSmtpTransport->assertResponseCode()`,
      `#1 ${SWIFT}/AbstractSmtpTransport.php(392): Swift_Transport_AbstractSmtpTransport->executeCommand()`,
      `#2 ${SWIFT}/AbstractSmtpTransport.php(497): Swift_Transport_AbstractSmtpTransport->doDataCommand()`,
    ].join('\n');
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'SwiftMailer',
      exception: 'Swift_TransportException',
      reply: { code: 553, enhanced: '5.7.1', text: '553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user web@example.com' },
      stage: 'mail',
      sender: 'noreply@example.com',
    });
  });

  it('reads 354 expected as DATA and 250/251/252 as RCPT', () => {
    const data = parse(plain('Swift_TransportException: Expected response code 354 but got code "554", with message "554 5.5.1 Error: no valid recipients\n"'));
    expect(data).toEqual({
      ...base,
      library: 'SwiftMailer',
      exception: 'Swift_TransportException',
      reply: { code: 554, enhanced: '5.5.1', text: '554 5.5.1 Error: no valid recipients' },
      stage: 'data',
    });
    const rcpt = parse(plain('!! Expected response code 250/251/252 but got code "550", with message "550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown\n" (code: 550)'));
    const reply = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown' };
    expect(rcpt).toEqual({
      ...base,
      library: 'SwiftMailer',
      exception: null,
      reply,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply }],
    });
  });

  it('joins a multi-line reply kept inside the message', () => {
    const text = [
      'Swift_TransportException: Expected response code 250 but got code "550", with message "550-5.7.1 [192.0.2.10] Our system has detected that this message is',
      '550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to us,',
      '550 5.7.1 this message has been blocked. a1-2.3 - gsmtp',
      `" in ${SWIFT}/AbstractSmtpTransport.php:457`,
    ].join('\n');
    expect(parse(plain(text))?.reply).toEqual({
      code: 550,
      enhanced: '5.7.1',
      text: '550-5.7.1 [192.0.2.10] Our system has detected that this message is 550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to us, 550 5.7.1 this message has been blocked. a1-2.3 - gsmtp',
    });
  });

  it('reads Laravel (SwiftMailer) lines with the context JSON and [stacktrace]', () => {
    const text = [
      'Expected response code 250 but got code "550", with message "550 5.7.1 Service unavailable; client [192.0.2.10] blocked using bl.example.net',
      '" {"exception":"[object] (Swift_TransportException(code: 550): Expected response code 250 but got code \\"550\\", with message \\"550 5.7.1 Service unavailable; client [192.0.2.10] blocked using bl.example.net',
      '\\" at /var/www/vendor/swiftmailer/swiftmailer/lib/classes/Swift/Transport/AbstractSmtpTransport.php:457)',
      '[stacktrace]',
      `#0 ${SWIFT}/AbstractSmtpTransport.php(341): Swift_Transport_AbstractSmtpTransport->assertResponseCode()`,
      `#1 ${SWIFT}/AbstractSmtpTransport.php(378): Swift_Transport_AbstractSmtpTransport->executeCommand()`,
      `#2 ${SWIFT}/EsmtpTransport.php(378): Swift_Transport_AbstractSmtpTransport->doMailFromCommand()`,
      '"} ',
    ].join('\n');
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'SwiftMailer',
      exception: 'Swift_TransportException',
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Service unavailable; client [192.0.2.10] blocked using bl.example.net' },
      stage: 'mail',
    });
  });

  it('reads authentication failures: SwiftMailer 6 with the authenticators\' replies, 5 without', () => {
    const six =
      'Swift_TransportException: Failed to authenticate on SMTP server with username "web@example.com" using 2 possible authenticators. Authenticator LOGIN returned Expected response code 235 but got code "535", with message "535 5.7.8 Error: authentication failed: authentication failure\r\n". Authenticator PLAIN returned Expected response code 235 but got code "535", with message "535 5.7.8 Error: authentication failed: authentication failure\r\n". in /var/www/vendor/swiftmailer/swiftmailer/lib/classes/Swift/Transport/Esmtp/AuthHandler.php:191';
    expect(parse(plain(six))).toEqual({
      ...base,
      library: 'SwiftMailer',
      exception: 'Swift_TransportException',
      reply: { code: 535, enhanced: '5.7.8', text: '535 5.7.8 Error: authentication failed: authentication failure' },
      stage: 'auth',
    });
    const five = 'Swift_TransportException: Failed to authenticate on SMTP server with username "web@example.com" using 2 possible authenticators in /var/www/vendor/swiftmailer/swiftmailer/lib/classes/Swift/Transport/Esmtp/AuthHandler.php:181';
    expect(parse(plain(five))).toEqual({
      ...base,
      library: 'SwiftMailer',
      exception: 'Swift_TransportException',
      reply: { code: null, enhanced: null, text: 'Failed to authenticate on SMTP server with username "web@example.com" using 2 possible authenticators' },
      stage: 'auth',
    });
  });
});

// ---------------------------------------------------------------- Symfony Mailer

const SYMFONY = '/var/www/vendor/symfony/mailer/Transport/Smtp';
const RCPT_MESSAGE = 'Expected response code "250/251/252" but got code "550", with message "550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown".';
const RCPT_REPLY = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown' };

describe('Symfony Mailer', () => {
  it('reads a TransportException with its stack trace', () => {
    const text = [
      `Symfony\\Component\\Mailer\\Exception\\TransportException: ${RCPT_MESSAGE} in ${SYMFONY}/SmtpTransport.php:342`,
      'Stack trace:',
      `#0 ${SYMFONY}/SmtpTransport.php(196): Symfony\\Component\\Mailer\\Transport\\Smtp\\SmtpTransport->assertResponseCode('550 5.1.1 <help...', Array)`,
      `#1 ${SYMFONY}/SmtpTransport.php(240): Symfony\\Component\\Mailer\\Transport\\Smtp\\SmtpTransport->executeCommand('RCPT TO:<helpde...', Array)`,
      `#2 ${SYMFONY}/SmtpTransport.php(200): Symfony\\Component\\Mailer\\Transport\\Smtp\\SmtpTransport->doRcptToCommand('helpdesk@exampl...')`,
      '#3 {main}',
    ].join('\n');
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: 'Symfony\\Component\\Mailer\\Exception\\TransportException',
      reply: RCPT_REPLY,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply: RCPT_REPLY }],
    });
  });

  it('reads a Monolog JSON entry: text and the exception in the fields', () => {
    const unit: AppUnit = {
      text: `${RCPT_MESSAGE}\n${RCPT_MESSAGE}`,
      fields: {
        class: 'Symfony\\Component\\Mailer\\Exception\\UnexpectedResponseException',
        code: 550,
        message: RCPT_MESSAGE,
        file: `${SYMFONY}/SmtpTransport.php:331`,
        level: 400,
        level_name: 'ERROR',
        datetime: '2024-11-03T08:12:55.104392+00:00',
      },
    };
    expect(parse(unit)).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: 'Symfony\\Component\\Mailer\\Exception\\UnexpectedResponseException',
      reply: RCPT_REPLY,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply: RCPT_REPLY }],
    });
  });

  it('reads JSON left escaped in a message (JSON in JSON not unpacked)', () => {
    const inner = JSON.stringify({
      message: RCPT_MESSAGE,
      context: { exception: { class: 'Symfony\\Component\\Mailer\\Exception\\UnexpectedResponseException', code: 550 } },
      level: 400,
    });
    const unit: AppUnit = { text: JSON.stringify(inner).slice(1, -1), fields: { level: 400 } };
    expect(parse(unit)).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: 'Symfony\\Component\\Mailer\\Exception\\UnexpectedResponseException',
      reply: RCPT_REPLY,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply: RCPT_REPLY }],
    });
  });

  it("names the wrapper's class when the mailer's exception is logged wrapped (Messenger)", () => {
    // samples/app/010 line 9: Messenger's final failure, the mailer's exception not named anywhere.
    const msg = 'Expected response code "250" but got code "554", with message "554 5.7.1 Message rejected: URL in message body is listed on dbl.example.net".';
    const unit: AppUnit = {
      text: `Error thrown while handling message Symfony\\Component\\Mailer\\Messenger\\SendEmailMessage. Removing from transport after 3 retries. Error: "${msg}"\nHandling "Symfony\\Component\\Mailer\\Messenger\\SendEmailMessage" failed: ${msg}`,
      fields: { class: 'Symfony\\Component\\Messenger\\Exception\\HandlerFailedException', code: 554, message: `Handling "Symfony\\Component\\Mailer\\Messenger\\SendEmailMessage" failed: ${msg}` },
    };
    expect(parse(unit)).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: 'Symfony\\Component\\Messenger\\Exception\\HandlerFailedException',
      reply: { code: 554, enhanced: '5.7.1', text: '554 5.7.1 Message rejected: URL in message body is listed on dbl.example.net' },
      stage: 'unknown',
    });
  });

  it('reads Laravel lines (context JSON with the [object] exception and [stacktrace])', () => {
    const text = [
      `${RCPT_MESSAGE} {"exception":"[object] (Symfony\\\\Component\\\\Mailer\\\\Exception\\\\TransportException(code: 550): Expected response code \\"250/251/252\\" but got code \\"550\\", with message \\"550 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown\\". at ${SYMFONY}/SmtpTransport.php:342)`,
      '[stacktrace]',
      `#0 ${SYMFONY}/SmtpTransport.php(198): Symfony\\\\Component\\\\Mailer\\\\Transport\\\\Smtp\\\\SmtpTransport->assertResponseCode()`,
      `#1 ${SYMFONY}/SmtpTransport.php(273): Symfony\\\\Component\\\\Mailer\\\\Transport\\\\Smtp\\\\SmtpTransport->executeCommand()`,
      '"} ',
    ].join('\n');
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: 'Symfony\\Component\\Mailer\\Exception\\TransportException',
      reply: RCPT_REPLY,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply: RCPT_REPLY }],
    });
  });

  it('reads Symfony\'s "Uncaught PHP Exception" line', () => {
    const text = `Uncaught PHP Exception Symfony\\Component\\Mailer\\Exception\\TransportException: "${RCPT_MESSAGE}" at ${SYMFONY}/SmtpTransport.php line 342`;
    expect(parse(plain(text))?.reply).toEqual(RCPT_REPLY);
  });

  it('tells the stages of an expected "250" from the frames, the reply or not at all', () => {
    const msg = 'Expected response code "250" but got code "550", with message "550 5.7.1 Message rejected".';
    const head = `Symfony\\Component\\Mailer\\Exception\\TransportException: ${msg} in ${SYMFONY}/SmtpTransport.php:342\nStack trace:\n#0 ${SYMFONY}/SmtpTransport.php(196): Symfony\\Component\\Mailer\\Transport\\Smtp\\SmtpTransport->assertResponseCode()\n#1 ${SYMFONY}/SmtpTransport.php(240): Symfony\\Component\\Mailer\\Transport\\Smtp\\SmtpTransport->executeCommand()\n`;
    const frame = (m: string) => `#2 ${SYMFONY}/SmtpTransport.php(250): Symfony\\Component\\Mailer\\Transport\\Smtp\\SmtpTransport->${m}\n#3 {main}`;
    expect(parse(plain(head + frame("doMailFromCommand('noreply@exampl...')")))?.stage).toBe('mail');
    expect(parse(plain(head + frame('doSend(Object(Symfony\\Component\\Mailer\\SentMessage))')))?.stage).toBe('end_of_data');
    expect(parse(plain(head + frame('doHeloCommand()')))?.stage).toBe('helo');
    expect(parse(plain(head.replace('executeCommand()', "executeCommand('\\r\\n.\\r\\n', Array)") + '#2 {main}'))?.stage).toBe('end_of_data');
    expect(parse(plain(msg))?.stage).toBe('unknown');
    const sender = parse(plain('Expected response code "250" but got code "553", with message "553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user".'));
    expect(sender).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: null,
      reply: { code: 553, enhanced: '5.7.1', text: '553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user' },
      stage: 'mail',
      sender: 'noreply@example.com',
    });
  });

  it('reads "354" as DATA, "220" as the greeting, and a multi-line reply', () => {
    expect(parse(plain('Expected response code "354" but got code "554", with message "554 5.5.1 Error: no valid recipients".'))?.stage).toBe('data');
    expect(parse(plain('Expected response code "220" but got code "554", with message "554 5.7.1 mx.example.net ESMTP not accepting messages from 192.0.2.10".'))).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: null,
      reply: { code: 554, enhanced: '5.7.1', text: '554 5.7.1 mx.example.net ESMTP not accepting messages from 192.0.2.10' },
      stage: 'connect',
    });
    const multi = parse(plain('Expected response code "250" but got code "550", with message "550-5.7.1 first line\r\n550 5.7.1 second line".'));
    expect(multi?.reply).toEqual({ code: 550, enhanced: '5.7.1', text: '550-5.7.1 first line 550 5.7.1 second line' });
  });

  it('reads an authentication failure with the authenticators\' replies', () => {
    const text =
      'Failed to authenticate on SMTP server with username "web@example.com" using the following authenticators: "LOGIN", "PLAIN". Authenticator "LOGIN" returned "Expected response code "235" but got code "535", with message "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6".". Authenticator "PLAIN" returned "Expected response code "235" but got code "535", with message "535 5.7.8 Error: authentication failed: authentication failure".".';
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'Symfony Mailer',
      exception: null,
      reply: { code: 535, enhanced: '5.7.8', text: '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6' },
      stage: 'auth',
    });
  });
});

// ---------------------------------------------------------------- laminas-mail

describe('laminas-mail', () => {
  const LAMINAS = '/var/www/vendor/laminas/laminas-mail/src';
  it('reads an uncaught protocol exception: the reply without its code, the stage from the frames', () => {
    const text = [
      'PHP Fatal error:  Uncaught Laminas\\Mail\\Protocol\\Exception\\RuntimeException: 5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown',
      ` in ${LAMINAS}/Protocol/AbstractProtocol.php:338`,
      'Stack trace:',
      `#0 ${LAMINAS}/Protocol/Smtp.php(381): Laminas\\Mail\\Protocol\\AbstractProtocol->_expect(Array, 300)`,
      `#1 ${LAMINAS}/Transport/Smtp.php(334): Laminas\\Mail\\Protocol\\Smtp->rcpt('helpdesk@exampl...')`,
      '#2 {main}',
      `  thrown in ${LAMINAS}/Protocol/AbstractProtocol.php on line 338`,
    ].join('\n');
    const reply = { code: null, enhanced: '5.1.1', text: '5.1.1 <helpdesk@example.org>: Recipient address rejected: User unknown' };
    expect(parse(plain(text))).toEqual({
      ...base,
      library: 'Laminas',
      exception: 'Laminas\\Mail\\Protocol\\Exception\\RuntimeException',
      reply,
      stage: 'rcpt',
      recipients: [{ address: 'helpdesk@example.org', reply }],
    });
  });

  it('tells DATA from its final dot by _expect()\'s timeout', () => {
    const text = (expect_: string) =>
      [
        'Laminas\\Mail\\Protocol\\Exception\\RuntimeException: 5.7.1 Message rejected as spam',
        ` in ${LAMINAS}/Protocol/AbstractProtocol.php:338`,
        'Stack trace:',
        `#0 ${LAMINAS}/Protocol/Smtp.php(420): Laminas\\Mail\\Protocol\\AbstractProtocol->_expect(${expect_})`,
        `#1 ${LAMINAS}/Transport/Smtp.php(340): Laminas\\Mail\\Protocol\\Smtp->data('Date: Sun, 03 N...')`,
      ].join('\n');
    expect(parse(plain(text('250, 600')))?.stage).toBe('end_of_data');
    expect(parse(plain(text('354, 120')))?.stage).toBe('data');
    expect(parse(plain(text('')))?.stage).toBe('unknown');
  });

  it('reads a JSON entry with the class in the fields', () => {
    const unit: AppUnit = {
      text: 'Sending the newsletter failed\n5.7.1 <noreply@example.com>: Sender address rejected: Access denied\r\n',
      fields: { class: 'Laminas\\Mail\\Protocol\\Exception\\RuntimeException', code: 0, message: '5.7.1 <noreply@example.com>: Sender address rejected: Access denied\r\n' },
    };
    expect(parse(unit)).toEqual({
      ...base,
      library: 'Laminas',
      exception: 'Laminas\\Mail\\Protocol\\Exception\\RuntimeException',
      reply: { code: null, enhanced: '5.7.1', text: '5.7.1 <noreply@example.com>: Sender address rejected: Access denied' },
      stage: 'mail',
      sender: 'noreply@example.com',
    });
  });

  it('ignores its connection errors', () => {
    expect(parse(plain(`Laminas\\Mail\\Protocol\\Exception\\RuntimeException: Could not read from smtp.example.com in ${LAMINAS}/Protocol/AbstractProtocol.php:297`))).toBeNull();
  });
});

// ---------------------------------------------------------------- not ours

describe('not an SMTP error of a PHP library', () => {
  it.each([
    ['a generic PHP exception', 'PHP Fatal error:  Uncaught RuntimeException: order 550 shipped in /var/www/html/orders.php:12\nStack trace:\n#0 {main}'],
    ['550 in another sense', 'Order 550 shipped to helpdesk@example.org'],
    ['a SwiftMailer connection failure', 'Swift_TransportException: Connection could not be established with host smtp.example.com :stream_socket_client(): unable to connect to tcp://smtp.example.com:25 (Connection refused) in /var/www/vendor/swiftmailer/swiftmailer/lib/classes/Swift/Transport/StreamBuffer.php:261'],
    ['an empty response', 'Swift_TransportException: Expected response code 220 but got an empty response'],
    ['Symfony: empty code', 'Symfony\\Component\\Mailer\\Exception\\TransportException: Expected response code "250" but got empty code.'],
    ['a 2xx reply in an expectation', 'Expected response code 354 but got code "250", with message "250 2.0.0 Ok\n"'],
    ['PHPMailer connection failure', 'SMTP ERROR: Failed to connect to server: Connection refused (111)\nSMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting'],
    ['PHPMailer success', 'CLIENT -> SERVER: RCPT TO:<helpdesk@example.org>\nSERVER -> CLIENT: 250 2.1.5 Ok'],
    ['a Python traceback', "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.1.1 <bob@example.org>: Recipient address rejected')}"],
  ])('%s', (_name, text) => {
    expect(parse(plain(text))).toBeNull();
  });

  it('claims only units that name these libraries', () => {
    expect(phpParser.claims(plain('Order 550 shipped'))).toBe(false);
    expect(phpParser.claims(plain(RCPT_MESSAGE))).toBe(true);
    expect(phpParser.claims({ text: 'mail failed', fields: { class: 'Symfony\\Component\\Mailer\\Exception\\TransportException' } })).toBe(true);
    expect(phpParser.claims(plain('SMTP ERROR: RCPT TO command failed: 550 5.1.1 x'))).toBe(true);
  });

  it('never throws on hostile input', () => {
    const hostile = [
      'Expected response code '.repeat(2000),
      `Expected response code "250" but got code "550", with message "${'"'.repeat(5000)}`,
      'SMTP Error: The following recipients failed: ' + 'a@b.c: '.repeat(3000),
      'SERVER -> CLIENT: 550-x\n'.repeat(3000),
      'Swift_'.repeat(5000),
      'Laminas\\Mail\\Protocol\\'.repeat(2000),
      '\\'.repeat(10000) + '"',
      '',
    ];
    for (const text of hostile) {
      expect(() => parse(plain(text))).not.toThrow();
      expect(() => parse({ text, fields: { class: text, message: text } })).not.toThrow();
    }
  });
});
