import { describe, expect, it } from 'vitest';
import { javaParser } from '../../../parsers/app/java.js';
import type { AppErrorFields, AppUnit } from '../../../parsers/app/types.js';

const unit = (text: string, fields: AppUnit['fields'] = null): AppUnit => ({ text, fields });
const parse = (text: string, fields: AppUnit['fields'] = null): AppErrorFields | null => javaParser.parse(unit(text, fields));

const ERIN = '550 5.1.1 <erin@example.com>: Recipient address rejected: User unknown in virtual mailbox table';
const erinReply = { code: 550, enhanced: '5.1.1', text: ERIN };

/** printStackTrace() of rcptTo's SendFailedException: the reply's own `\n` leaves an empty line. */
const INVALID_ADDRESSES = [
  'javax.mail.SendFailedException: Invalid Addresses;',
  '  nested exception is:',
  `\tcom.sun.mail.smtp.SMTPAddressFailedException: ${ERIN}`,
  '',
  '\tat com.sun.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2076)',
  '\tat com.sun.mail.smtp.SMTPTransport.sendMessage(SMTPTransport.java:1282)',
  '\tat javax.mail.Transport.send0(Transport.java:254)',
  '\tat javax.mail.Transport.send(Transport.java:124)',
  '\tat com.example.notify.Mailer.send(Mailer.java:88)',
  `Caused by: com.sun.mail.smtp.SMTPAddressFailedException: ${ERIN}`,
  '',
  '\t... 4 more',
].join('\n');

describe('javaParser: SendFailedException with nested address exceptions', () => {
  it('reads the nested SMTPAddressFailedException (javax.mail / com.sun.mail)', () => {
    expect(parse(INVALID_ADDRESSES)).toEqual({
      library: 'javax.mail',
      exception: 'SendFailedException',
      reply: erinReply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'erin@example.com', reply: erinReply }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('joins a reply that wraps onto the next line (server text)', () => {
    const text = [
      'jakarta.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      '\torg.eclipse.angus.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <erin@example.com>: Recipient address rejected:',
      'User unknown in virtual mailbox table',
      '',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2063)',
    ].join('\n');
    const r = parse(text);
    expect(r?.library).toBe('angus');
    expect(r?.reply).toEqual(erinReply);
    expect(r?.recipients).toEqual([{ address: 'erin@example.com', reply: erinReply }]);
  });

  it('joins the lines of a multi-line reply, without the empty line and frames after it', () => {
    const text = [
      'jakarta.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      '\tcom.sun.mail.smtp.SMTPAddressFailedException: 550-5.1.1 The email account that you tried to reach does not exist. Please try',
      '550-5.1.1 double-checking the recipient\'s email address for typos or',
      '550 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser x12si3 - gsmtp',
      '',
      '\tat com.sun.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2079)',
      '\t... 5 more',
    ].join('\n');
    const text1 =
      "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser x12si3 - gsmtp";
    expect(parse(text)).toEqual({
      library: 'jakarta.mail',
      exception: 'SendFailedException',
      reply: { code: 550, enhanced: '5.1.1', text: text1 },
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('keeps each address exception of a chain separated by lone `;` lines', () => {
    const text = [
      'javax.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      `\tcom.sun.mail.smtp.SMTPAddressFailedException: ${ERIN}`,
      ';',
      '  nested exception is:',
      '\tcom.sun.mail.smtp.SMTPAddressFailedException: 553 5.7.1 <frank@example.net>: Relay access denied',
      ';',
      '  nested exception is:',
      '\tcom.sun.mail.smtp.SMTPAddressFailedException: 450 4.2.0 <gina@example.org>: Recipient address rejected: Greylisted',
      '',
      '\tat com.sun.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:1862)',
    ].join('\n');
    expect(parse(text)?.recipients).toEqual([
      { address: 'erin@example.com', reply: erinReply },
      { address: 'frank@example.net', reply: { code: 553, enhanced: '5.7.1', text: '553 5.7.1 <frank@example.net>: Relay access denied' } },
      {
        address: 'gina@example.org',
        reply: { code: 450, enhanced: '4.2.0', text: '450 4.2.0 <gina@example.org>: Recipient address rejected: Greylisted' },
      },
    ]);
  });

  it('reads lines that kept their indentation after journald prefixes were stripped', () => {
    const text = [
      'javax.mail.SendFailedException: Invalid Addresses;',
      '    nested exception is:',
      '        com.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <erin@example.com>: Recipient address rejected:',
      '        User unknown in virtual mailbox table',
      '        at com.sun.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2076)',
    ].join('\n');
    expect(parse(text)?.recipients).toEqual([{ address: 'erin@example.com', reply: erinReply }]);
  });

  it('finds the exception after a log message and a leftover level word', () => {
    const text = `ERROR c.e.notify.Mailer - could not notify order 1042\n${INVALID_ADDRESSES}`;
    expect(parse(text)?.reply).toEqual(erinReply);
  });

  it('takes accepted and invalid addresses from the Valid Sent / Invalid Addresses lists', () => {
    const text = [
      'DEBUG SMTP: Verified Addresses',
      'DEBUG SMTP:   alice@example.com',
      'DEBUG SMTP: Valid Unsent Addresses',
      'DEBUG SMTP:   carol@example.com',
      'DEBUG SMTP: Invalid Addresses',
      'DEBUG SMTP:   erin@example.com',
      'DEBUG SMTP: Sending failed because of invalid destination addresses',
      ...INVALID_ADDRESSES.split('\n'),
    ].join('\n');
    const r = parse(text);
    expect(r?.accepted).toEqual(['alice@example.com']);
    expect(r?.recipients).toEqual([{ address: 'erin@example.com', reply: erinReply }]);
  });

  it('pairs address exceptions that name no address with the Invalid Addresses list', () => {
    const text = [
      'Invalid Addresses: [erin@example.com]',
      'Valid Sent Addresses: [alice@example.com]',
      'javax.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      '\tcom.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 User unknown',
      '',
    ].join('\n');
    const reply = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 User unknown' };
    const r = parse(text);
    expect(r?.recipients).toEqual([{ address: 'erin@example.com', reply }]);
    expect(r?.accepted).toEqual(['alice@example.com']);
    expect(r?.reply).toEqual(reply);
  });

  it('reads a partial send (SMTPSendFailedException with the 250 of end-of-data) as the recipients it refused', () => {
    const text = [
      'com.sun.mail.smtp.SMTPSendFailedException: 250 2.0.0 Ok: queued as 4F2A1C0B3D',
      ';',
      '  nested exception is:',
      `\tcom.sun.mail.smtp.SMTPAddressFailedException: ${ERIN}`,
      '',
      '\tat com.sun.mail.smtp.SMTPTransport.sendMessage(SMTPTransport.java:1335)',
    ].join('\n');
    const r = parse(text);
    expect(r?.exception).toBe('SMTPSendFailedException');
    expect(r?.reply).toEqual(erinReply);
    expect(r?.stage).toBe('rcpt');
    expect(r?.recipients).toEqual([{ address: 'erin@example.com', reply: erinReply }]);
  });
});

describe('javaParser: Spring MailSendException', () => {
  it('reads the exception named inside `Failed messages:` (logback: message only, no causes)', () => {
    const text = [
      'org.springframework.mail.MailSendException: Failed messages: jakarta.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      `\torg.eclipse.angus.mail.smtp.SMTPAddressFailedException: ${ERIN}`,
      '',
      '\tat org.springframework.mail.javamail.JavaMailSenderImpl.doSend(JavaMailSenderImpl.java:508)',
      '\tat org.springframework.mail.javamail.JavaMailSenderImpl.send(JavaMailSenderImpl.java:323)',
    ].join('\n');
    // The exception is the outermost one logged (Spring's); the library the one that spoke SMTP.
    expect(parse(text)).toEqual({
      library: 'angus',
      exception: 'MailSendException',
      reply: erinReply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'erin@example.com', reply: erinReply }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('reads toString() with `; message exceptions (1) are:` and `Failed message 1:`, counting the repeat once', () => {
    const text = [
      'org.springframework.mail.MailSendException: Failed messages: javax.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      `\tcom.sun.mail.smtp.SMTPAddressFailedException: ${ERIN}`,
      '; message exceptions (1) are:',
      'Failed message 1: javax.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      `\tcom.sun.mail.smtp.SMTPAddressFailedException: ${ERIN}`,
      '',
    ].join('\n');
    const r = parse(text);
    expect(r?.library).toBe('javax.mail');
    expect(r?.recipients).toEqual([{ address: 'erin@example.com', reply: erinReply }]);
  });

  it('says spring when only Spring names the failure', () => {
    const text = 'org.springframework.mail.MailSendException: 554 5.7.1 Message rejected: spam content';
    expect(parse(text)).toMatchObject({
      library: 'spring',
      exception: 'MailSendException',
      reply: { code: 554, enhanced: '5.7.1', text: '554 5.7.1 Message rejected: spam content' },
      stage: 'unknown',
    });
  });

  it('reads the old `; nested exception is` form of MailAuthenticationException', () => {
    const text =
      'org.springframework.mail.MailAuthenticationException: Authentication failed; nested exception is javax.mail.AuthenticationFailedException: 535 5.7.8 Error: authentication failed: authentication failure';
    expect(parse(text)).toMatchObject({
      library: 'javax.mail',
      exception: 'MailAuthenticationException',
      reply: { code: 535, enhanced: '5.7.8', text: '535 5.7.8 Error: authentication failed: authentication failure' },
      stage: 'auth',
    });
  });
});

describe('javaParser: the exception and the recipients logged next to it', () => {
  it('names the outermost exception, a Spring wrapper whose cause holds the reply included (logback JSON stack_trace)', () => {
    const text = [
      'Daily digest not sent',
      'org.springframework.mail.MailAuthenticationException: Authentication failed',
      '\tat org.springframework.mail.javamail.JavaMailSenderImpl.doSend(JavaMailSenderImpl.java:402)',
      'Caused by: jakarta.mail.AuthenticationFailedException: 535 5.7.139 Authentication unsuccessful',
      '',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport$Authenticator.authenticate(SMTPTransport.java:954)',
    ].join('\n');
    expect(parse(text)).toMatchObject({ library: 'angus', exception: 'MailAuthenticationException', reply: { code: 535, enhanced: '5.7.139' }, stage: 'auth' });
  });

  it('takes MDC `mailTo` for a RCPT refusal whose reply names no address', () => {
    const reply = { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Service unavailable, Client host [203.0.113.7] blocked using Spamhaus' };
    const text = [
      'Order confirmation 1182 not sent',
      'jakarta.mail.SendFailedException: Invalid Addresses',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2086)',
      `Caused by: org.eclipse.angus.mail.smtp.SMTPAddressFailedException: ${reply.text}`,
      '',
      '\t... 6 common frames omitted',
    ].join('\n');
    expect(parse(text, { mailTo: 'paul@example.net', orderId: '1182' })?.recipients).toEqual([{ address: 'paul@example.net', reply }]);
    // Without the field the refusal stays without a recipient; the reply's own address wins over it.
    expect(parse(text)?.recipients).toEqual([]);
    expect(parse(INVALID_ADDRESSES, { mailTo: 'paul@example.net' })?.recipients).toEqual([{ address: 'erin@example.com', reply: erinReply }]);
  });

  it('takes MDC `mailTo` as the recipients of an end-of-data refusal', () => {
    const text = [
      'org.eclipse.angus.mail.smtp.SMTPSendFailedException: 554 5.7.9 Message not accepted for policy reasons.',
      '',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.issueSendCommand(SMTPTransport.java:2392)',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.finishData(SMTPTransport.java:2113)',
    ].join('\n');
    expect(parse(text, { mailTo: 'quinn@example.org' })).toMatchObject({ stage: 'end_of_data', recipients: [{ address: 'quinn@example.org', reply: null }] });
  });
});

describe('javaParser: Angus SMTPSendFailedException (MAIL and DATA refusals)', () => {
  it('is a sender refusal when SMTPSenderFailedException is the cause', () => {
    const text = [
      'org.eclipse.angus.mail.smtp.SMTPSendFailedException: 553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user app@example.com',
      ';',
      '  nested exception is:',
      '\torg.eclipse.angus.mail.smtp.SMTPSenderFailedException: 553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user app@example.com',
      '',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.issueSendCommand(SMTPTransport.java:2431)',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.mailFrom(SMTPTransport.java:1787)',
      'Caused by: org.eclipse.angus.mail.smtp.SMTPSenderFailedException: 553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user app@example.com',
      '',
      '\t... 9 more',
    ].join('\n');
    const reply = {
      code: 553,
      enhanced: '5.7.1',
      text: '553 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user app@example.com',
    };
    expect(parse(text)).toEqual({
      library: 'angus',
      exception: 'SMTPSendFailedException',
      reply,
      codeCandidates: null,
      stage: 'mail',
      recipients: [],
      accepted: [],
      sender: 'noreply@example.com',
      messageId: null,
      relay: null,
    });
  });

  it('is end_of_data after finishData', () => {
    const text = [
      'jakarta.mail.MessagingException: Could not send notification',
      'Caused by: org.eclipse.angus.mail.smtp.SMTPSendFailedException: 550 5.7.1 Message rejected due to content restrictions',
      '',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.issueSendCommand(SMTPTransport.java:2431)',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.finishData(SMTPTransport.java:2189)',
    ].join('\n');
    expect(parse(text)).toMatchObject({
      library: 'angus',
      exception: 'MessagingException',
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message rejected due to content restrictions' },
      stage: 'end_of_data',
    });
  });

  it('is data when the DATA frame or the text says so, end_of_data by default', () => {
    const atData = 'com.sun.mail.smtp.SMTPSendFailedException: 554 5.5.1 Error: no valid recipients\n\n\tat com.sun.mail.smtp.SMTPTransport.data(SMTPTransport.java:2112)';
    expect(parse(atData)?.stage).toBe('data');
    const says = 'com.sun.mail.smtp.SMTPSendFailedException: 554 5.5.0 DATA command rejected by policy';
    expect(parse(says)?.stage).toBe('data');
    const bare = 'com.sun.mail.smtp.SMTPSendFailedException: 550 5.7.26 Unauthenticated email is not accepted';
    expect(parse(bare)?.stage).toBe('end_of_data');
  });
});

describe('javaParser: other shapes', () => {
  it('reads AuthenticationFailedException with a wrapped multi-line reply', () => {
    const text = [
      'jakarta.mail.AuthenticationFailedException: 535-5.7.8 Username and Password not accepted. For more information, go to',
      '535 5.7.8  https://support.example.com/mail/?p=BadCredentials a1-20020a05 - gsmtp',
      '',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport$Authenticator.authenticate(SMTPTransport.java:954)',
    ].join('\n');
    expect(parse(text)).toEqual({
      library: 'angus',
      exception: 'AuthenticationFailedException',
      reply: {
        code: 535,
        enhanced: '5.7.8',
        text: '535-5.7.8 Username and Password not accepted. For more information, go to 535 5.7.8  https://support.example.com/mail/?p=BadCredentials a1-20020a05 - gsmtp',
      },
      codeCandidates: null,
      stage: 'auth',
      recipients: [],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('reads a bad greeting with the relay', () => {
    const text =
      'javax.mail.MessagingException: Got bad greeting from SMTP host: smtp.example.net, port: 25, response: 554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.example.org';
    expect(parse(text)).toMatchObject({
      reply: { code: 554, enhanced: '5.7.1', text: '554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.example.org' },
      stage: 'connect',
      relay: { name: 'smtp.example.net', ip: null, port: 25 },
    });
  });

  it('reads a bare MessagingException reply with its stage from the frames', () => {
    const text = 'javax.mail.MessagingException: 501 5.5.2 <app01>: Helo command rejected: need fully-qualified hostname\n\n\tat com.sun.mail.smtp.SMTPTransport.issueCommand(SMTPTransport.java:2374)\n\tat com.sun.mail.smtp.SMTPTransport.helo(SMTPTransport.java:1575)';
    expect(parse(text)).toMatchObject({ reply: { code: 501, enhanced: '5.5.2' }, stage: 'helo', exception: 'MessagingException' });
  });

  it('reads the debug line `got response code` alone', () => {
    const text = 'DEBUG SMTP: got response code 550, with response: 550 5.7.1 Message rejected as spam\n';
    expect(parse(text)).toEqual({
      library: 'jakarta.mail',
      exception: null,
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message rejected as spam' },
      codeCandidates: null,
      stage: 'unknown',
      recipients: [],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('reads a debug transcript: the refused command gives the stage, the recipient and the sender', () => {
    const text = [
      'DEBUG SMTP: connected to host "smtp.example.net", port: 587',
      'MAIL FROM:<noreply@example.com>',
      '250 2.1.0 Ok',
      'RCPT TO:<erin@example.com>',
      ERIN,
      'DEBUG SMTP: Invalid Addresses',
      'DEBUG SMTP:   erin@example.com',
      'DEBUG SMTP: Sending failed because of invalid destination addresses',
      'RSET',
      '250 2.0.0 Ok',
    ].join('\n');
    expect(parse(text)).toEqual({
      library: 'jakarta.mail',
      exception: null,
      reply: erinReply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'erin@example.com', reply: erinReply }],
      accepted: [],
      sender: 'noreply@example.com',
      messageId: null,
      relay: { name: 'smtp.example.net', ip: null, port: 587 },
    });
  });

  it('skips the message content between 354 and the final dot', () => {
    const text = [
      'MAIL FROM:<noreply@example.com>',
      '250 2.1.0 Ok',
      'RCPT TO:<alice@example.com>',
      '250 2.1.5 Ok',
      'DATA',
      '354 End data with <CR><LF>.<CR><LF>',
      'Subject: order 550 shipped',
      '550 widgets shipped today',
      '.',
      '554 5.7.1 Message rejected: spam score too high',
    ].join('\n');
    expect(parse(text)).toMatchObject({ reply: { code: 554, text: '554 5.7.1 Message rejected: spam score too high' }, stage: 'end_of_data' });
  });

  it('works on a JSON unit (logback JSON: message, then stack_trace)', () => {
    const text = `Failed to send password reset mail\n${INVALID_ADDRESSES}`;
    const r = parse(text, { logger_name: 'com.example.notify.Mailer', level: 'ERROR', messageId: '<20240314.1@app01.example.com>' });
    expect(r?.reply).toEqual(erinReply);
    expect(r?.messageId).toBe('20240314.1@app01.example.com');
  });
});

describe('javaParser: not ours', () => {
  it.each([
    ['a generic exception', 'java.lang.IllegalStateException: order 550 shipped twice\n\tat com.example.Orders.ship(Orders.java:12)'],
    ['a connect failure without a reply', 'com.sun.mail.util.MailConnectException: Couldn\'t connect to host, port: smtp.example.net, 25; timeout -1;\n  nested exception is:\n\tjava.net.ConnectException: Connection refused'],
    ['SendFailedException without any reply or list', 'javax.mail.SendFailedException: No recipient addresses'],
    ['a MessagingException without a reply', 'javax.mail.MessagingException: Exception reading response;\n  nested exception is:\n\tjava.net.SocketTimeoutException: Read timed out'],
    ['a 2xx reply', 'com.sun.mail.smtp.SMTPSendFailedException: 250 2.0.0 Ok: queued as 4F2A1C0B3D'],
    ['prose with a number in another sense', 'INFO order 550 shipped to erin@example.com'],
    ['numbers at a line start outside a transcript', 'MessagingException retry report\n404 Not Found\n550 items pending'],
  ])('%s', (_name, text) => {
    expect(parse(text)).toBeNull();
  });

  it('claims JavaMail units and not others', () => {
    expect(javaParser.claims(unit(INVALID_ADDRESSES))).toBe(true);
    expect(javaParser.claims(unit('Traceback (most recent call last):'))).toBe(false);
  });

  it('never throws on hostile text', () => {
    const hostile = ['Exception: '.repeat(2000), 'SMTPAddressFailedException:'.repeat(500), '\n;\n'.repeat(1000), 'DEBUG SMTP: got response code 5'];
    for (const h of hostile) expect(() => javaParser.parse(unit(h))).not.toThrow();
  });
});
