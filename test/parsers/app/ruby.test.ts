import { describe, expect, it } from 'vitest';
import { rubyParser } from '../../../parsers/app/ruby.js';
import type { AppErrorFields, AppUnit } from '../../../parsers/app/types.js';

const GEM = '/usr/local/bundle/gems/net-smtp-0.3.4/lib/net/smtp.rb';

function unit(text: string, fields: AppUnit['fields'] = null): AppUnit {
  return { text, fields };
}

function parse(text: string, fields: AppUnit['fields'] = null): AppErrorFields | null {
  const u = unit(text, fields);
  expect(rubyParser.claims(u)).toBe(true);
  return rubyParser.parse(u);
}

/** Backtrace lines as Ruby 3.1-3.3 print them (net-smtp 0.3, the shapes a real run prints). */
const bt = (...frames: [number, string][]): string => frames.map(([n, m]) => `${GEM}:${n}:in \`${m}'`).join('\n');
const RCPT_FRAMES = bt([1059, 'check_response'], [1027, 'getok'], [955, 'rcptto'], [937, 'block in rcptto_list'], [935, 'each'], [935, 'rcptto_list'], [751, 'send_message']);
const MAIL_FRAMES = bt([1059, 'check_response'], [1027, 'getok'], [928, 'mailfrom'], [750, 'send_message']);
const DOT_FRAMES = bt([1059, 'check_response'], [1004, 'data'], [751, 'block in send_message'], [945, 'rcptto_list'], [751, 'send_message']);
const DATA_FRAMES = bt([1065, 'check_continue'], [989, 'block in data'], [1050, 'critical'], [988, 'data'], [751, 'block in send_message'], [945, 'rcptto_list']);
const MAILGEM = '/usr/local/bundle/gems/mail-2.8.1/lib/mail/network/delivery_methods/smtp_connection.rb:53:in `deliver!\'';

const USER_UNKNOWN = {
  code: 550,
  enhanced: '5.1.1',
  text: '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
};

function record(over: Partial<AppErrorFields>): AppErrorFields {
  return {
    library: 'Net::SMTP',
    exception: 'Net::SMTPFatalError',
    reply: USER_UNKNOWN,
    codeCandidates: null,
    stage: 'rcpt',
    recipients: [{ address: 'bob@example.org', reply: USER_UNKNOWN }],
    accepted: [],
    sender: null,
    messageId: null,
    relay: null,
    ...over,
  };
}

describe('Airbrake / plain `Class: message` then the backtrace', () => {
  it('SMTPFatalError at RCPT: stage from the rcptto frame', () => {
    const text = `Net::SMTPFatalError: ${USER_UNKNOWN.text}\n${RCPT_FRAMES}\n${MAILGEM}`;
    expect(parse(text)).toEqual(record({}));
  });

  it('Ruby 3.4 frames: single quotes and qualified method names', () => {
    const text = [
      `Net::SMTPFatalError: ${USER_UNKNOWN.text}`,
      "/usr/lib/ruby/gems/3.4.0/gems/net-smtp-0.5.0/lib/net/smtp.rb:1004:in 'Net::SMTP#check_response'",
      "/usr/lib/ruby/gems/3.4.0/gems/net-smtp-0.5.0/lib/net/smtp.rb:972:in 'Net::SMTP#getok'",
      "/usr/lib/ruby/gems/3.4.0/gems/net-smtp-0.5.0/lib/net/smtp.rb:903:in 'Net::SMTP#rcptto'",
      "/usr/lib/ruby/gems/3.4.0/gems/net-smtp-0.5.0/lib/net/smtp.rb:895:in 'block in Net::SMTP#rcptto_list'",
    ].join('\n');
    expect(parse(text)).toEqual(record({}));
  });

  it('SMTPFatalError at MAIL FROM: sender from the reply, no recipients', () => {
    const reply = { code: 550, enhanced: '5.1.8', text: '550 5.1.8 <sender@example.com>: Sender address rejected: Domain not found' };
    const text = `Net::SMTPFatalError: ${reply.text}\n${MAIL_FRAMES}`;
    expect(parse(text)).toEqual(record({ reply, stage: 'mail', recipients: [], sender: 'sender@example.com' }));
  });

  it('SMTPFatalError after the final dot: end_of_data', () => {
    const reply = { code: 550, enhanced: '5.7.1', text: '550 5.7.1 Message rejected: spam content' };
    expect(parse(`Net::SMTPFatalError: ${reply.text}\n${DOT_FRAMES}`)).toEqual(record({ reply, stage: 'end_of_data', recipients: [] }));
  });

  it('SMTPUnknownError when DATA is not answered 354: the whole reply, stage data', () => {
    const text = 'Net::SMTPUnknownError: could not get 3xx (554: 554 5.5.1 Error: no valid recipients\n)\n' + DATA_FRAMES;
    const reply = { code: 554, enhanced: '5.5.1', text: '554 5.5.1 Error: no valid recipients' };
    expect(parse(text)).toEqual(record({ exception: 'Net::SMTPUnknownError', reply, stage: 'data', recipients: [] }));
  });

  it('SMTPUnknownError with a multi-line reply keeps every line', () => {
    const text = 'Net::SMTPUnknownError: could not get 3xx (554: 554-5.7.1 Rejected by policy\n554 5.7.1 See https://example.net/why\n)';
    expect(parse(text)?.reply).toEqual({ code: 554, enhanced: '5.7.1', text: '554-5.7.1 Rejected by policy 554 5.7.1 See https://example.net/why' });
  });

  it('SMTPAuthenticationError: stage from check_auth_response / auth_plain', () => {
    const text = [
      'Net::SMTPAuthenticationError: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6',
      `${GEM}:1071:in \`check_auth_response'`,
      `${GEM}:828:in \`auth_plain'`,
      `${GEM}:820:in \`authenticate'`,
    ].join('\n');
    const reply = { code: 535, enhanced: '5.7.8', text: '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6' };
    expect(parse(text)).toEqual(record({ exception: 'Net::SMTPAuthenticationError', reply, stage: 'auth', recipients: [] }));
  });

  it('SMTPServerBusy (4xx) is returned; the filter on codes is downstream', () => {
    const r = parse('Net::SMTPServerBusy: 451 4.7.1 <bob@example.org>: Recipient address rejected: Greylisted, try again later');
    expect(r?.reply).toEqual({ code: 451, enhanced: '4.7.1', text: '451 4.7.1 <bob@example.org>: Recipient address rejected: Greylisted, try again later' });
    expect(r?.exception).toBe('Net::SMTPServerBusy');
    expect(r?.stage).toBe('rcpt');
  });

  it('SMTPSyntaxError (50x), recipient from the text when no frames', () => {
    const r = parse('Net::SMTPSyntaxError: 501 5.1.3 Bad recipient address syntax');
    expect(r).toEqual(
      record({
        exception: 'Net::SMTPSyntaxError',
        reply: { code: 501, enhanced: '5.1.3', text: '501 5.1.3 Bad recipient address syntax' },
        stage: 'unknown',
        recipients: [],
      }),
    );
  });

  it('multi-line reply: Ruby keeps only the first line (with its dash)', () => {
    const r = parse(`Net::SMTPFatalError: 550-5.7.1 <bob@example.org>: Relay access denied\n${RCPT_FRAMES}`);
    const reply = { code: 550, enhanced: '5.7.1', text: '550-5.7.1 <bob@example.org>: Relay access denied' };
    expect(r).toEqual(record({ reply, recipients: [{ address: 'bob@example.org', reply }] }));
  });

  it('old net/smtp rcptto_list: 53x recipients collected into one SMTPAuthenticationError', () => {
    const r = parse('Net::SMTPAuthenticationError: failed to deliver for "bob@example.org", "carol@example.net"');
    expect(r).toEqual(
      record({
        exception: 'Net::SMTPAuthenticationError',
        reply: { code: null, enhanced: null, text: 'failed to deliver for "bob@example.org", "carol@example.net"' },
        recipients: [
          { address: 'bob@example.org', reply: null },
          { address: 'carol@example.net', reply: null },
        ],
      }),
    );
  });
});

describe('Rollbar', () => {
  it('Python-style frames after the exception', () => {
    const text = [
      `Net::SMTPFatalError: ${USER_UNKNOWN.text}`,
      `  File "${GEM}", line 1004, in check_response`,
      `  File "${GEM}", line 972, in getok`,
      `  File "${GEM}", line 903, in rcptto`,
      '  File "/srv/app/app/mailers/notifier.rb", line 12, in welcome',
    ].join('\n');
    expect(parse(text)).toEqual(record({}));
  });

  it('MAIL FROM frames (Rollbar)', () => {
    const text = [
      'Net::SMTPFatalError: 553 5.7.1 <sender@example.com>: Sender address rejected: not owned by user app@example.com',
      `  File "${GEM}", line 1004, in check_response`,
      `  File "${GEM}", line 972, in getok`,
      `  File "${GEM}", line 888, in mailfrom`,
    ].join('\n');
    const r = parse(text);
    expect(r?.stage).toBe('mail');
    expect(r?.sender).toBe('sender@example.com');
    expect(r?.recipients).toEqual([]);
  });
});

describe('Rails', () => {
  it('`Class (message` then `):` on the next line', () => {
    const text = [
      `Net::SMTPFatalError (${USER_UNKNOWN.text}`,
      '):',
      '',
      "app/mailers/notifier.rb:12:in `welcome'",
      "app/controllers/signups_controller.rb:9:in `create'",
    ].join('\n');
    expect(parse(text)).toEqual(record({}));
  });

  it('relay refusal: stage from the text, no frames', () => {
    const reply = { code: 550, enhanced: '5.7.1', text: '550 5.7.1 <bob@example.org>: Relay access denied' };
    expect(parse(`Net::SMTPFatalError (${reply.text}\n):`)).toEqual(record({ reply, recipients: [{ address: 'bob@example.org', reply }] }));
  });

  it('ActiveJob: the exception after a message on the same line', () => {
    const text = `Error performing ActionMailer::MailDeliveryJob (Job ID: 6c1f0f7e-5d0a-4b7e-9d8b-2f6a1c3e9b10) from Async(default) in 84.21ms: Net::SMTPFatalError (${USER_UNKNOWN.text}\n):`;
    expect(parse(text)).toEqual(record({}));
  });

  it('message without its newline closes on the same line', () => {
    expect(parse(`Net::SMTPFatalError (${USER_UNKNOWN.text}):`)).toEqual(record({}));
  });

  it('SMTPUnknownError: `)):` closes both parentheses', () => {
    const r = parse('Net::SMTPUnknownError (could not get 3xx (554: 554 5.5.1 Error: no valid recipients\n)):');
    expect(r?.reply).toEqual({ code: 554, enhanced: '5.5.1', text: '554 5.5.1 Error: no valid recipients' });
    expect(r?.stage).toBe('data');
  });

  it('SMTPAuthenticationError without frames: 535 answers AUTH', () => {
    const r = parse('Net::SMTPAuthenticationError (535 5.7.8 Username and Password not accepted\n):');
    expect(r?.stage).toBe('auth');
    expect(r?.recipients).toEqual([]);
  });
});

  it("a second error after the backtrace: its frames do not decide the first one's stage", () => {
    // ActiveJob's entry, then a Rollbar paste with no header of its own (samples/app/011, lines 15-34).
    const text = [
      'Error performing ActionMailer::MailDeliveryJob (Job ID: 6e5d4c3b) from Async(mailers) in 766.08ms: Net::SMTPAuthenticationError (535 5.7.8 Error: authentication failed: authentication failure',
      '):',
      `${GEM}:1004:in 'Net::SMTP#check_response'`,
      `${GEM}:1013:in 'Net::SMTP#check_auth_response'`,
      `${GEM}:867:in 'Net::SMTP#authenticate'`,
      `Net::SMTPFatalError: ${USER_UNKNOWN.text}`,
      `File "${GEM}", line 1004, in check_response`,
      `File "${GEM}", line 903, in rcptto`,
    ].join('\n');
    const r = parse(text);
    expect(r?.exception).toBe('Net::SMTPAuthenticationError');
    expect(r?.stage).toBe('auth');
    expect(r?.recipients).toEqual([]);
  });

describe("Ruby's own report of an uncaught exception", () => {
  it('the innermost frame and the message on one line, `from` frames after', () => {
    const text = [
      `${GEM}:1059:in \`check_response': ${USER_UNKNOWN.text} (Net::SMTPFatalError)`,
      `\tfrom ${GEM}:1027:in \`getok'`,
      `\tfrom ${GEM}:955:in \`rcptto'`,
      `\tfrom ${GEM}:937:in \`block in rcptto_list'`,
    ].join('\n');
    expect(parse(text)).toEqual(record({}));
  });

  it('SMTPUnknownError: the class lands before the message newline, `)` on the next line', () => {
    const text = [
      `${GEM}:1065:in \`check_continue': could not get 3xx (554: 554 5.5.1 Error: no valid recipients (Net::SMTPUnknownError)`,
      ')',
      `\tfrom ${GEM}:989:in \`block in data'`,
    ].join('\n');
    const r = parse(text);
    expect(r?.reply).toEqual({ code: 554, enhanced: '5.5.1', text: '554 5.5.1 Error: no valid recipients' });
    expect(r?.stage).toBe('data');
  });
});

describe('JSON entries', () => {
  it('Sidekiq-style fields: class, message and backtrace array', () => {
    const fields = {
      error_class: 'Net::SMTPFatalError',
      error_message: `${USER_UNKNOWN.text}\n`,
      error_backtrace: RCPT_FRAMES.split('\n'),
      message_id: '<6720f1a3b2c4d_1a2b3c4d5e6f@app01.example.com.mail>',
      smtp_address: 'smtp.example.net',
      smtp_port: '587',
    };
    const text = ['delivery failed', USER_UNKNOWN.text].join('\n');
    expect(parse(text, fields)).toEqual(
      record({
        messageId: '6720f1a3b2c4d_1a2b3c4d5e6f@app01.example.com.mail',
        relay: { name: 'smtp.example.net', ip: null, port: 587 },
      }),
    );
  });

  it('semantic_logger-style: the class in the text, frames in the stack', () => {
    const text = ['Mail delivery failed', `Net::SMTPFatalError: ${USER_UNKNOWN.text}`, DOT_FRAMES].join('\n');
    const r = parse(text, { name: 'Net::SMTPFatalError', message: USER_UNKNOWN.text });
    expect(r?.stage).toBe('end_of_data');
  });
});

describe('not an SMTP reply', () => {
  it.each([
    ['inspect prints the class (SMTPError does not set the message for to_s)', '#<Net::SMTPFatalError: Net::SMTPFatalError>'],
    ['to_s', 'mail failed: Net::SMTPFatalError'],
    ['unsupported command', 'Net::SMTPUnsupportedCommand: STARTTLS is not supported on this server'],
    ['a rescue clause', '  rescue Net::SMTPFatalError => e'],
    ['a bare constant', 'Net::SMTP.start(host, port)'],
  ])('%s', (_name, text) => {
    expect(rubyParser.parse(unit(text))).toBeNull();
  });

  it.each([
    ['a generic exception', "NoMethodError: undefined method `email' for nil:NilClass\napp/models/user.rb:12:in `notify'"],
    ['550 in another sense', 'Completed order 550 shipped to bob@example.org'],
    ["Python's SMTPAuthenticationError", "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Error: authentication failed')"],
  ])('%s is not claimed', (_name, text) => {
    expect(rubyParser.claims(unit(text))).toBe(false);
    expect(rubyParser.parse(unit(text))).toBeNull();
  });

  it('hostile input does not throw', () => {
    const text = 'Net::SMTPFatalError ('.repeat(20_000) + '\n' + '550 x\n'.repeat(10_000);
    expect(() => rubyParser.parse(unit(text))).not.toThrow();
  });
});

describe('linear time on long hostile lines', () => {
  it.each([
    ['repeated class names without a message', 'Net::SMTPFatalError>'.repeat(100_000)],
    ['repeated uncaught forms', ":in `x': (Net::SMTPFatalError)".repeat(50_000)],
    ['long word after the prefix', 'Net::SMTP' + 'a'.repeat(500_000)],
  ])('%s', (_name, text) => {
    expect(rubyParser.parse(unit(text))).toBeNull();
  });
});
