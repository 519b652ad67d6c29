import { describe, expect, it } from 'vitest';
import { dotnetParser } from '../../../parsers/app/dotnet.js';
import type { AppErrorFields, AppUnit } from '../../../parsers/app/types.js';

const unit = (text: string, fields: AppUnit['fields'] = null): AppUnit => ({ text, fields });
const parse = (text: string, fields: AppUnit['fields'] = null): AppErrorFields | null => dotnetParser.parse(unit(text, fields));

const BOB = '5.1.1 <bob@example.org>: Recipient address rejected: User unknown';
const bobReply = { code: null, enhanced: '5.1.1', text: BOB };

const FAILED_RECIPIENT = [
  `System.Net.Mail.SmtpFailedRecipientException: Mailbox unavailable. The server response was: ${BOB}`,
  '   at System.Net.Mail.SmtpTransport.SendMail(MailAddress sender, MailAddressCollection recipients, String deliveryNotify, Boolean allowUnicode, SmtpFailedRecipientException& exception)',
  '   at System.Net.Mail.SmtpClient.Send(MailMessage message)',
  '   at Example.Notify.Mailer.Send(Order order) in /src/Notify/Mailer.cs:line 42',
].join('\n');

describe('dotnetParser: System.Net.Mail', () => {
  it('reads "Mailbox unavailable." as 450 or 550, the number being absent', () => {
    expect(parse(FAILED_RECIPIENT)).toEqual({
      library: 'System.Net.Mail',
      exception: 'SmtpFailedRecipientException',
      reply: bobReply,
      codeCandidates: [450, 550],
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: bobReply }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('takes the code exactly from a logged StatusCode name', () => {
    const text = `${FAILED_RECIPIENT}\nStatusCode: MailboxUnavailable\nFailedRecipient: <bob@example.org>`;
    const reply = { ...bobReply, code: 550 };
    expect(parse(text)).toMatchObject({ reply, codeCandidates: null, recipients: [{ address: 'bob@example.org', reply }] });
    expect(parse(FAILED_RECIPIENT, { StatusCode: 'MailboxBusy' })?.reply.code).toBe(450);
    expect(parse(FAILED_RECIPIENT, { StatusCode: 550 })?.reply.code).toBe(550);
  });

  it('names the recipient from FailedRecipient when the reply does not', () => {
    const text = 'System.Net.Mail.SmtpFailedRecipientException: Mailbox unavailable. The server response was: 5.2.1 Mailbox disabled';
    const reply = { code: null, enhanced: '5.2.1', text: '5.2.1 Mailbox disabled' };
    expect(parse(text, { FailedRecipient: '<dave@example.net>' })?.recipients).toEqual([{ address: 'dave@example.net', reply }]);
  });

  it('reads SmtpFailedRecipientsException with its inner exception (.NET Core and Framework layouts)', () => {
    const core = [
      'System.Net.Mail.SmtpFailedRecipientsException: Unable to send to all recipients.',
      ` ---> System.Net.Mail.SmtpFailedRecipientException: Mailbox unavailable. The server response was: ${BOB}`,
      '   --- End of inner exception stack trace ---',
      '   at System.Net.Mail.SmtpTransport.SendMail(MailAddress sender, MailAddressCollection recipients, String deliveryNotify, Boolean allowUnicode, SmtpFailedRecipientException& exception)',
    ].join('\n');
    const framework = `System.Net.Mail.SmtpFailedRecipientsException: Unable to send to all recipients. ---> System.Net.Mail.SmtpFailedRecipientException: Mailbox unavailable. The server response was: ${BOB}\n   --- End of inner exception stack trace ---`;
    for (const text of [core, framework]) {
      expect(parse(text)).toMatchObject({
        exception: 'SmtpFailedRecipientsException',
        reply: bobReply,
        codeCandidates: [450, 550],
        stage: 'rcpt',
        recipients: [{ address: 'bob@example.org', reply: bobReply }],
      });
    }
  });

  it('reads each inner exception an application logged', () => {
    const text = [
      `Delivery failed for <bob@example.org>: Mailbox unavailable. The server response was: ${BOB}`,
      'Delivery failed for <carol@example.net>: Mailbox unavailable. The server response was: 5.7.1 <carol@example.net>: Relay access denied',
      'System.Net.Mail.SmtpFailedRecipientsException: Unable to send to a recipient.',
    ].join('\n');
    expect(parse(text)?.recipients).toEqual([
      { address: 'bob@example.org', reply: bobReply },
      { address: 'carol@example.net', reply: { code: null, enhanced: '5.7.1', text: '5.7.1 <carol@example.net>: Relay access denied' } },
    ]);
  });

  it('reads "Transaction failed." as 554 with the stage from the DataStopCommand frame', () => {
    const text = [
      'System.Net.Mail.SmtpException: Transaction failed. The server response was: 5.7.1 Message rejected as spam by Content Filtering.',
      '   at System.Net.Mail.DataStopCommand.CheckResponse(SmtpStatusCode statusCode, String serverResponse)',
      '   at System.Net.Mail.DataStopCommand.Send(SmtpConnection conn)',
      '   at System.Net.Mail.SmtpClient.Send(MailMessage message)',
    ].join('\n');
    expect(parse(text)).toEqual({
      library: 'System.Net.Mail',
      exception: 'SmtpException',
      reply: { code: 554, enhanced: '5.7.1', text: '5.7.1 Message rejected as spam by Content Filtering.' },
      codeCandidates: null,
      stage: 'end_of_data',
      recipients: [],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it.each([
    ['RecipientCommand', 'rcpt'],
    ['MailCommand', 'mail'],
    ['DataCommand', 'data'],
    ['EHelloCommand', 'helo'],
  ])('takes the stage from a %s frame', (cls, stage) => {
    const text = `System.Net.Mail.SmtpException: Transaction failed. The server response was: 5.7.1 Refused\n   at System.Net.Mail.${cls}.CheckResponse(SmtpStatusCode statusCode, String response)`;
    expect(parse(text)?.stage).toBe(stage);
  });

  it('reads 530 5.7.57 (not authenticated) at MAIL FROM, with the sender from the reply', () => {
    const text = [
      'System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the client was not authenticated. The server response was: 5.7.57 Client not authenticated to send mail. [AM0PR01CA0001.example.com]',
      '   at System.Net.Mail.MailCommand.CheckResponse(SmtpStatusCode statusCode, String response)',
    ].join('\n');
    expect(parse(text)).toMatchObject({ reply: { code: 530, enhanced: '5.7.57' }, stage: 'mail', codeCandidates: null });
  });

  it.each([
    ['Syntax error in parameters or arguments.', 501],
    ['Bad sequence of commands.', 503],
    ['Service not available, closing transmission channel.', 421],
    ['Insufficient system storage.', 452],
    ['User not local; please try a different path.', 551],
    ['Exceeded storage allocation.', 552],
    ['Mailbox name not allowed.', 553],
    ['Client does not have permission to submit mail to this server.', 454],
  ])('maps "%s" to %i', (status, code) => {
    expect(parse(`System.Net.Mail.SmtpException: ${status} The server response was: 5.0.0 x`)?.reply.code).toBe(code);
  });

  it('leaves the code open for the default text (any code the enum does not name)', () => {
    const r = parse('System.Net.Mail.SmtpException: Syntax error, command unrecognized. The server response was: 5.7.3 Authentication unsuccessful');
    expect(r).toMatchObject({ reply: { code: null, enhanced: '5.7.3' }, codeCandidates: null });
  });

  it('works on a JSON unit (Serilog: message, then the exception string; properties as fields)', () => {
    const text = `Failed to send invoice mail\n${FAILED_RECIPIENT}`;
    const r = parse(text, { StatusCode: 'MailboxUnavailable', FailedRecipient: '<bob@example.org>', MessageId: '<inv-1042@app01.example.com>' });
    expect(r).toMatchObject({ reply: { ...bobReply, code: 550 }, codeCandidates: null, messageId: 'inv-1042@app01.example.com' });
  });
});

describe('dotnetParser: MailKit', () => {
  it('reads SmtpCommandException with its inspected properties', () => {
    const text = [
      `MailKit.Net.Smtp.SmtpCommandException: ${BOB}`,
      '   at MailKit.Net.Smtp.SmtpClient.ProcessRcptToResponse(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)',
      '   at MailKit.Net.Smtp.SmtpClient.SendAsync(FormatOptions options, MimeMessage message, MailboxAddress sender, IList`1 recipients, CancellationToken cancellationToken, ITransferProgress progress)',
      'ErrorCode: RecipientNotAccepted',
      'StatusCode: MailboxUnavailable',
      'Mailbox: bob@example.org',
    ].join('\n');
    const reply = { code: 550, enhanced: '5.1.1', text: BOB };
    expect(parse(text)).toEqual({
      library: 'MailKit',
      exception: 'SmtpCommandException',
      reply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('joins a multi-line reply and reads JSON properties', () => {
    const text = 'MailKit.Net.Smtp.SmtpCommandException: 5.7.1 Message rejected: first line\n5.7.1 see https://postmaster.example.net/why\n   at MailKit.Net.Smtp.SmtpClient.DataAsync()';
    const r = parse(text, { ErrorCode: 'MessageNotAccepted', StatusCode: 'MailboxUnavailable' });
    expect(r).toMatchObject({
      reply: { code: 550, enhanced: '5.7.1', text: '5.7.1 Message rejected: first line 5.7.1 see https://postmaster.example.net/why' },
      stage: 'end_of_data',
      recipients: [],
    });
  });

  it('reads a sender refusal', () => {
    const text = 'MailKit.Net.Smtp.SmtpCommandException: 5.7.1 <noreply@example.com>: Sender address rejected: not owned by user\nErrorCode: SenderNotAccepted\nStatusCode: MailboxNameNotAllowed';
    expect(parse(text)).toMatchObject({ reply: { code: 553 }, stage: 'mail', sender: 'noreply@example.com', recipients: [] });
  });

  it('reads an AuthenticationException with its code [not verified shape]', () => {
    const text = 'MailKit.Security.AuthenticationException: 535: 5.7.8 Username and Password not accepted.\n   at MailKit.Net.Smtp.SmtpClient.AuthenticateAsync(Encoding encoding, ICredentials credentials)';
    expect(parse(text)).toMatchObject({
      library: 'MailKit',
      exception: 'AuthenticationException',
      reply: { code: 535, enhanced: '5.7.8', text: '535 5.7.8 Username and Password not accepted.' },
      stage: 'auth',
    });
  });

  it('reads a protocol log: one refused command each, exact codes, pipelined replies in order', () => {
    const text = [
      'Connected to smtp://smtp.example.net:587/?starttls=always',
      'S: 220 smtp.example.net ESMTP',
      'C: EHLO app01.example.com',
      'S: 250-smtp.example.net',
      'S: 250-PIPELINING',
      'S: 250 8BITMIME',
      'C: MAIL FROM:<noreply@example.com> BODY=8BITMIME',
      'C: RCPT TO:<alice@example.com>',
      'C: RCPT TO:<bob@example.org>',
      'S: 250 2.1.0 Ok',
      'S: 250 2.1.5 Ok',
      'S: 550-5.7.1 first line of the refusal',
      'S: 550 5.7.1 last line of the refusal',
      'C: DATA',
      'S: 354 End data with <CR><LF>.<CR><LF>',
      'C: Subject: order 550 shipped',
      'C: .',
      'S: 250 2.0.0 Ok: queued as 4F2A1C0B3D',
    ].join('\n');
    const reply = { code: 550, enhanced: '5.7.1', text: '550-5.7.1 first line of the refusal 550 5.7.1 last line of the refusal' };
    expect(parse(text)).toEqual({
      library: 'MailKit',
      exception: null,
      reply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply }],
      accepted: ['alice@example.com'],
      sender: 'noreply@example.com',
      messageId: null,
      relay: { name: 'smtp.example.net', ip: null, port: 587 },
    });
  });

  it('reads a protocol log refusal after the message content', () => {
    const text = [
      'C: MAIL FROM:<noreply@example.com>',
      'S: 250 2.1.0 Ok',
      'C: RCPT TO:<alice@example.com>',
      'S: 250 2.1.5 Ok',
      'C: DATA',
      'S: 354 go ahead',
      'C: From: noreply@example.com',
      'C: .',
      'S: 554 5.7.1 Message rejected as spam',
    ].join('\n');
    expect(parse(text)).toMatchObject({ reply: { code: 554, enhanced: '5.7.1' }, stage: 'end_of_data', recipients: [] });
  });
});

describe('dotnetParser: MailKit README catch block', () => {
  const JUDY = '5.1.1 <judy@example.org>: Recipient address rejected: User unknown';
  const SAMPLE = [`Error sending message: ${JUDY}`, '\tStatusCode: MailboxUnavailable', '\tRecipient not accepted: judy@example.org'].join('\n');

  it('reads `Error sending message:` with StatusCode and `Recipient not accepted:` (the exception not named)', () => {
    const reply = { code: 550, enhanced: '5.1.1', text: JUDY };
    expect(dotnetParser.claims(unit(SAMPLE))).toBe(true);
    expect(parse(SAMPLE)).toEqual({
      library: 'MailKit',
      exception: 'SmtpCommandException',
      reply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'judy@example.org', reply }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('reads the sender and message forms', () => {
    const sender = 'Error sending message: 5.7.1 <noreply@example.com>: Sender address rejected\n\tStatusCode: MailboxNameNotAllowed\n\tSender not accepted: noreply@example.com';
    expect(parse(sender)).toMatchObject({ reply: { code: 553 }, stage: 'mail', sender: 'noreply@example.com', recipients: [] });
    const message = 'Error sending message: 5.7.1 Message rejected as spam\n\tStatusCode: TransactionFailed\n\tMessage not accepted.';
    expect(parse(message)).toMatchObject({ reply: { code: 554, enhanced: '5.7.1' }, stage: 'end_of_data', recipients: [] });
  });

  it('keeps the refusals of a protocol log that follows in the same unit', () => {
    const text = [SAMPLE, 'Connected to smtp://mx.example.net:25/', 'C: MAIL FROM:<alerts@example.com>', 'C: RCPT TO:<kim@example.net>', 'S: 250 2.1.0 OK', 'S: 550 5.7.1 not authorized'].join('\n');
    expect(parse(text)?.recipients.map((r) => [r.address, r.reply?.code])).toEqual([
      ['judy@example.org', 550],
      ['kim@example.net', 550],
    ]);
  });
});

describe('dotnetParser: Exchange client', () => {
  it('reads the whole response with its number', () => {
    const text =
      'Microsoft.Exchange.Net.Smtp.InvalidRecipientsException: Invalid recipients: bob@example.org (550 5.1.1 User unknown.\n). --> Unexpected SMTP server response. Expected: 250, actual: 550, whole response: 550 5.1.1 User unknown.';
    const reply = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 User unknown.' };
    expect(parse(text)).toEqual({
      library: 'Exchange',
      exception: 'InvalidRecipientsException',
      reply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('reads a refused greeting', () => {
    const text = 'Unexpected SMTP server response. Expected: 220, actual: 554, whole response: 554 5.7.1 Access denied';
    expect(parse(text)).toMatchObject({ reply: { code: 554 }, stage: 'connect' });
  });
});

describe('dotnetParser: not ours', () => {
  it.each([
    ['a generic exception', 'System.InvalidOperationException: order 550 shipped twice\n   at Example.Orders.Ship()'],
    ['SmtpException without a server response', 'System.Net.Mail.SmtpException: Failure sending mail.\n ---> System.IO.IOException: Unable to read data from the transport connection: net_io_connectionclosed.'],
    ['a timeout', 'System.Net.Mail.SmtpException: The operation has timed out.'],
    ['a protocol violation (reply under 400)', 'System.Net.Mail.SmtpException: The server committed a protocol violation. The server response was: 250 ok'],
    ['a TLS AuthenticationException', 'System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.'],
    ['MailKit without a reply', 'MailKit.Net.Smtp.SmtpProtocolException: The SMTP server has unexpectedly disconnected.'],
    ['a protocol log without refusals', 'S: 220 smtp.example.net ESMTP\nC: QUIT\nS: 221 2.0.0 Bye'],
    ['prose with a number in another sense', 'order 550 shipped to bob@example.org'],
  ])('%s', (_name, text) => {
    expect(parse(text)).toBeNull();
  });

  it('claims .NET units and protocol logs, not others', () => {
    expect(dotnetParser.claims(unit(FAILED_RECIPIENT))).toBe(true);
    expect(dotnetParser.claims(unit('C: RCPT TO:<bob@example.org>\nS: 550 5.1.1 no'))).toBe(true);
    expect(dotnetParser.claims(unit('javax.mail.SendFailedException: Invalid Addresses;'))).toBe(false);
  });

  it('never throws on hostile text', () => {
    const hostile = [
      'Mailbox unavailable. The server response was: '.repeat(3000),
      'Exception:'.repeat(5000),
      'S: 550-'.repeat(1000),
      'StatusCode:'.repeat(3000),
      'C: RCPT TO:<\nS: 5',
    ];
    for (const h of hostile) expect(() => dotnetParser.parse(unit(h))).not.toThrow();
  });
});
