import { describe, expect, it } from 'vitest';
import { pythonParser } from '../../../parsers/app/python.js';
import type { AppErrorFields, AppUnit } from '../../../parsers/app/types.js';

const SMTPLIB = '/usr/lib/python3.11/smtplib.py';

function unit(text: string, fields: AppUnit['fields'] = null): AppUnit {
  return { text, fields };
}

function parse(text: string, fields: AppUnit['fields'] = null): AppErrorFields | null {
  const u = unit(text, fields);
  expect(pythonParser.claims(u)).toBe(true);
  return pythonParser.parse(u);
}

/** A CPython traceback as logging.exception prints it after its message (shapes from smtplib 3.11). */
function traceback(raiseFrames: string, last: string): string {
  return [
    'could not send mail',
    'Traceback (most recent call last):',
    '  File "/srv/app/notify/mail.py", line 41, in deliver',
    '    s.sendmail(sender, rcpts, msg.as_string())',
    raiseFrames,
    last,
  ].join('\n');
}

const SENDMAIL_RCPT = `  File "${SMTPLIB}", line 901, in sendmail\n    raise SMTPRecipientsRefused(senderrs)`;
const SENDMAIL_MAIL = `  File "${SMTPLIB}", line 887, in sendmail\n    raise SMTPSenderRefused(code, resp, from_addr)`;
const SENDMAIL_DOT = `  File "${SMTPLIB}", line 908, in sendmail\n    raise SMTPDataError(code, resp)`;
const DATA_CMD = [
  `  File "${SMTPLIB}", line 902, in sendmail`,
  '    (code, resp) = self.data(msg)',
  '                   ^^^^^^^^^^^^^^',
  `  File "${SMTPLIB}", line 571, in data`,
  '    raise SMTPDataError(code, repl)',
].join('\n');

const RELAY_DENIED = { code: 550, enhanced: '5.7.1', text: '550 5.7.1 <bob@example.org>: Relay access denied' };

describe('CPython tracebacks (Py3 bytes)', () => {
  it('SMTPRecipientsRefused, one recipient', () => {
    const text = traceback(SENDMAIL_RCPT, "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}");
    expect(parse(text)).toEqual({
      library: 'smtplib',
      exception: 'SMTPRecipientsRefused',
      reply: RELAY_DENIED,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: RELAY_DENIED }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('SMTPRecipientsRefused, several recipients with their own replies', () => {
    const text = traceback(
      SENDMAIL_RCPT,
      "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table'), 'carol@example.net': (450, b'4.2.0 <carol@example.net>: Recipient address rejected: Greylisted')}",
    );
    const bob = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table' };
    const carol = { code: 450, enhanced: '4.2.0', text: '450 4.2.0 <carol@example.net>: Recipient address rejected: Greylisted' };
    const r = parse(text);
    expect(r?.reply).toEqual(bob);
    expect(r?.recipients).toEqual([
      { address: 'bob@example.org', reply: bob },
      { address: 'carol@example.net', reply: carol },
    ]);
    expect(r?.stage).toBe('rcpt');
  });

  it('multi-line reply: smtplib joins the lines (codes dropped) with \\n inside the bytes', () => {
    const text = traceback(
      SENDMAIL_RCPT,
      "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied\\n5.7.1 Contact postmaster@example.net')}",
    );
    const reply = { code: 550, enhanced: '5.7.1', text: '550 5.7.1 <bob@example.org>: Relay access denied 5.7.1 Contact postmaster@example.net' };
    expect(parse(text)?.recipients).toEqual([{ address: 'bob@example.org', reply }]);
  });

  it('bytes with \\r\\n and \\x escapes, double quotes when the reply holds a single quote', () => {
    const text = traceback(
      SENDMAIL_RCPT,
      `smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b"5.7.1 Can't deliver to <bob@example.org>\\r\\n5.7.1 caf\\xc3\\xa9 policy")}`,
    );
    expect(parse(text)?.reply).toEqual({ code: 550, enhanced: '5.7.1', text: "550 5.7.1 Can't deliver to <bob@example.org> 5.7.1 café policy" });
  });

  it('SMTPSenderRefused: stage mail, sender from the third arg', () => {
    const text = traceback(SENDMAIL_MAIL, "smtplib.SMTPSenderRefused: (550, b'5.1.8 <sender@example.com>: Sender address rejected: Domain not found', 'sender@example.com')");
    expect(parse(text)).toEqual({
      library: 'smtplib',
      exception: 'SMTPSenderRefused',
      reply: { code: 550, enhanced: '5.1.8', text: '550 5.1.8 <sender@example.com>: Sender address rejected: Domain not found' },
      codeCandidates: null,
      stage: 'mail',
      recipients: [],
      accepted: [],
      sender: 'sender@example.com',
      messageId: null,
      relay: null,
    });
  });

  it('SMTPDataError raised by sendmail: the reply to the final dot (end_of_data)', () => {
    const text = traceback(SENDMAIL_DOT, "smtplib.SMTPDataError: (550, b'5.7.1 Message rejected as spam\\n5.7.1 See https://example.net/policy')");
    expect(parse(text)).toEqual({
      library: 'smtplib',
      exception: 'SMTPDataError',
      reply: { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message rejected as spam 5.7.1 See https://example.net/policy' },
      codeCandidates: null,
      stage: 'end_of_data',
      recipients: [],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('SMTPDataError raised by data(): DATA itself refused', () => {
    const text = traceback(DATA_CMD, "smtplib.SMTPDataError: (554, b'5.5.1 Error: no valid recipients')");
    const r = parse(text);
    expect(r?.stage).toBe('data');
    expect(r?.reply).toEqual({ code: 554, enhanced: '5.5.1', text: '554 5.5.1 Error: no valid recipients' });
  });

  it('SMTPAuthenticationError', () => {
    const frames = `  File "${SMTPLIB}", line 750, in login\n    raise last_exception\n  File "${SMTPLIB}", line 662, in auth\n    raise SMTPAuthenticationError(code, resp)`;
    const r = parse(traceback(frames, "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Error: authentication failed: UGFzc3dvcmQ6')"));
    expect(r?.stage).toBe('auth');
    expect(r?.exception).toBe('SMTPAuthenticationError');
    expect(r?.reply).toEqual({ code: 535, enhanced: '5.7.8', text: '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6' });
  });

  it('SMTPConnectError at the greeting', () => {
    const frames = `  File "${SMTPLIB}", line 258, in __init__\n    raise SMTPConnectError(code, msg)`;
    const r = parse(traceback(frames, "smtplib.SMTPConnectError: (554, b'5.7.1 mx.example.net: access denied for 192.0.2.10')"));
    expect(r?.stage).toBe('connect');
    expect(r?.reply.code).toBe(554);
  });

  it('SMTPResponseException: the stage from the innermost smtplib method', () => {
    const frames = `  File "${SMTPLIB}", line 790, in starttls\n    raise SMTPResponseException(resp, reply)`;
    const r = parse(traceback(frames, "smtplib.SMTPResponseException: (454, b'4.7.0 TLS not available due to local problem')"));
    expect(r?.stage).toBe('starttls');
    expect(r?.exception).toBe('SMTPResponseException');
    expect(r?.reply).toEqual({ code: 454, enhanced: '4.7.0', text: '454 4.7.0 TLS not available due to local problem' });
  });

  it('chained exceptions: the smtplib one is taken', () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "/srv/app/notify/mail.py", line 41, in deliver',
      '    s.sendmail(sender, rcpts, body)',
      SENDMAIL_RCPT,
      "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/srv/app/notify/tasks.py", line 12, in run',
      '    deliver(job)',
      '  File "/srv/app/notify/mail.py", line 44, in deliver',
      '    raise DeliveryFailed(str(exc))',
      "notify.errors.DeliveryFailed: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}",
    ].join('\n');
    const r = parse(text);
    expect(r?.exception).toBe('SMTPRecipientsRefused');
    expect(r?.recipients).toEqual([{ address: 'bob@example.org', reply: RELAY_DENIED }]);
  });

  it('the text begins with a leftover level and logger', () => {
    const text = traceback(SENDMAIL_RCPT, "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}");
    expect(parse(`ERROR notify.mail ${text}`)?.reply).toEqual(RELAY_DENIED);
  });
});

describe('Py2 str', () => {
  it('unicode keys and str replies', () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "/srv/legacy/mailer.py", line 88, in send',
      '    server.sendmail(frm, to, msg)',
      '  File "/usr/lib/python2.7/smtplib.py", line 747, in sendmail',
      '    raise SMTPRecipientsRefused(senderrs)',
      "SMTPRecipientsRefused: {u'carol@example.net': (501, '5.1.3 Bad recipient address syntax')}",
    ].join('\n');
    const reply = { code: 501, enhanced: '5.1.3', text: '501 5.1.3 Bad recipient address syntax' };
    expect(parse(text)).toEqual({
      library: 'smtplib',
      exception: 'SMTPRecipientsRefused',
      reply,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'carol@example.net', reply }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('SMTPDataError with a str reply and an escaped newline', () => {
    const r = parse("smtplib.SMTPDataError: (550, '5.7.1 Rejected by content filter\\n5.7.1 Spam score too high')");
    expect(r?.reply).toEqual({ code: 550, enhanced: '5.7.1', text: '550 5.7.1 Rejected by content filter 5.7.1 Spam score too high' });
    expect(r?.stage).toBe('data');
  });
});

describe('Django and Sentry', () => {
  it('Django technical 500: `Exception Type:` then `Exception Value:` in one unit (samples/app/004 lines 33-34)', () => {
    const r = parse(
      [
        'Exception Type: SMTPRecipientsRefused at /signup/',
        "Exception Value: {'hana@example.org': (550, b'5.1.1 <hana@example.org>: Recipient address rejected: User unknown in local recipient table')}",
      ].join('\n'),
    );
    const reply = { code: 550, enhanced: '5.1.1', text: '550 5.1.1 <hana@example.org>: Recipient address rejected: User unknown in local recipient table' };
    expect(r?.exception).toBe('SMTPRecipientsRefused');
    expect(r?.stage).toBe('rcpt');
    expect(r?.recipients).toEqual([{ address: 'hana@example.org', reply }]);
  });

  it('Sentry: the exception first, no module prefix, frames after, hidden frames noted', () => {
    const text = [
      "SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}",
      '  File "django/core/handlers/exception.py", line 55, in inner',
      '    response = get_response(request)',
      '(7 additional frame(s) were not displayed)',
      '...',
      '  File "django/core/mail/backends/smtp.py", line 148, in _send',
      '    self.connection.sendmail(',
      '  File "smtplib.py", line 901, in sendmail',
      '    raise SMTPRecipientsRefused(senderrs)',
    ].join('\n');
    expect(parse(text)).toEqual({
      library: 'smtplib',
      exception: 'SMTPRecipientsRefused',
      reply: RELAY_DENIED,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: RELAY_DENIED }],
      accepted: [],
      sender: null,
      messageId: null,
      relay: null,
    });
  });

  it('Sentry: SMTPDataError first, sendmail frame after: end_of_data', () => {
    const text = [
      "SMTPDataError: (550, b'5.7.1 Message content rejected')",
      '  File "django/core/mail/backends/smtp.py", line 148, in _send',
      '    self.connection.sendmail(',
      '  File "smtplib.py", line 908, in sendmail',
      '    raise SMTPDataError(code, resp)',
    ].join('\n');
    expect(parse(text)?.stage).toBe('end_of_data');
  });

  it('Django traceback without the module prefix', () => {
    const text = [
      'Internal Server Error: /contact/',
      'Traceback (most recent call last):',
      '  File "/srv/site/venv/lib/python3.11/site-packages/django/core/mail/backends/smtp.py", line 148, in _send',
      '    self.connection.sendmail(',
      SENDMAIL_RCPT,
      "SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}",
    ].join('\n');
    expect(parse(text)?.recipients).toEqual([{ address: 'bob@example.org', reply: RELAY_DENIED }]);
  });
});

describe('reprs in log messages', () => {
  it('%r of the exception in the message before the traceback: the traceback line wins', () => {
    const text = [
      'send failed: SMTPDataError(550, b\'5.7.1 Message rejected as spam\')',
      'Traceback (most recent call last):',
      '  File "/srv/app/notify/mail.py", line 41, in deliver',
      '    s.sendmail(sender, rcpts, msg)',
      SENDMAIL_DOT,
      "smtplib.SMTPDataError: (550, b'5.7.1 Message rejected as spam')",
    ].join('\n');
    expect(parse(text)?.stage).toBe('end_of_data');
  });

  it('Celery: raised unexpected with the repr of SMTPRecipientsRefused', () => {
    const text = "Task notify.tasks.send_welcome[3f0c7a52-1d2e-4b8f-9a61-0c5d7e2b9f14] raised unexpected: SMTPRecipientsRefused({'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')})";
    expect(parse(text)?.recipients).toEqual([{ address: 'bob@example.org', reply: RELAY_DENIED }]);
  });
});

describe('JSON entries', () => {
  it('structlog: the traceback string in the text, message id and relay from fields', () => {
    const text = [
      'email.send_failed',
      traceback(SENDMAIL_RCPT, "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@example.org>: Relay access denied')}"),
    ].join('\n');
    const fields = {
      event: 'email.send_failed',
      level: 'error',
      message_id: '<20241103081255.4821.7731@app01.example.com>',
      smtp_host: 'smtp.example.net',
      smtp_port: 587,
      exception: text,
    };
    expect(parse(text, fields)).toEqual({
      library: 'smtplib',
      exception: 'SMTPRecipientsRefused',
      reply: RELAY_DENIED,
      codeCandidates: null,
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: RELAY_DENIED }],
      accepted: [],
      sender: null,
      messageId: '20241103081255.4821.7731@app01.example.com',
      relay: { name: 'smtp.example.net', ip: null, port: 587 },
    });
  });

  it('ECS-style: class in type, args in message, frames only in the stack trace', () => {
    const stack = `  File "/srv/app/notify/mail.py", line 41, in deliver\n    s.sendmail(sender, rcpts, msg)\n${SENDMAIL_MAIL}`;
    const msg = "(553, b'5.7.1 <sender@example.com>: Sender address rejected: not owned by user app@example.com', 'sender@example.com')";
    const text = ['could not send mail', msg, stack].join('\n');
    const r = parse(text, { type: 'SMTPSenderRefused', message: msg, stack_trace: stack, relay: '192.0.2.25' });
    expect(r).toEqual({
      library: 'smtplib',
      exception: 'SMTPSenderRefused',
      reply: { code: 553, enhanced: '5.7.1', text: '553 5.7.1 <sender@example.com>: Sender address rejected: not owned by user app@example.com' },
      codeCandidates: null,
      stage: 'mail',
      recipients: [],
      accepted: [],
      sender: 'sender@example.com',
      messageId: null,
      relay: { name: null, ip: '192.0.2.25', port: null },
    });
  });
});

describe('not an SMTP reply', () => {
  it.each([
    ['SMTPServerDisconnected', 'smtplib.SMTPServerDisconnected: Connection unexpectedly closed'],
    ['SMTPNotSupportedError', 'smtplib.SMTPNotSupportedError: SMTP AUTH extension not supported by server.'],
    ['SMTPException without a code', 'smtplib.SMTPException: No suitable authentication method found.'],
    ['only the raise line', `  File "${SMTPLIB}", line 901, in sendmail\n    raise SMTPRecipientsRefused(senderrs)`],
    ['an except clause', '    except smtplib.SMTPRecipientsRefused as exc:'],
    ['code -1 (unparsable reply)', "smtplib.SMTPDataError: (-1, b'garbage')"],
    ['a truncated dict', "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.7.1 <bob@exam"],
  ])('%s', (_name, text) => {
    expect(pythonParser.parse(unit(text))).toBeNull();
  });

  it.each([
    ['a generic exception', 'Traceback (most recent call last):\n  File "/srv/app/x.py", line 3, in <module>\nValueError: order 550 shipped twice'],
    ['550 in another sense', 'INFO shop.orders: order 550 shipped to bob@example.org'],
    ["Ruby's Net::SMTPAuthenticationError", 'Net::SMTPAuthenticationError: 535 5.7.8 Authentication credentials invalid'],
  ])('%s is not claimed', (_name, text) => {
    expect(pythonParser.claims(unit(text))).toBe(false);
    expect(pythonParser.parse(unit(text))).toBeNull();
  });

  it('hostile input stays linear and does not throw', () => {
    const text = "SMTPDataError(550, b'".repeat(20_000) + '\n' + '('.repeat(50_000) + '\n' + "SMTPRecipientsRefused: {'a@example.org': " + '('.repeat(10_000);
    expect(pythonParser.parse(unit(text))).toBeNull();
  });
});

describe('linear time on long hostile lines', () => {
  it.each([
    ['repeated class prefix', 'SMTP'.repeat(200_000)],
    ['repeated module prefix', 'smtplib.'.repeat(100_000) + 'SMTPDataError'],
    ['repeated reprs', 'SMTPRecipientsRefused({'.repeat(50_000)],
  ])('%s', (_name, text) => {
    expect(pythonParser.parse(unit(text))).toBeNull();
  });
});
