import { describe, expect, it } from 'vitest';
import { goParser } from '../../../parsers/app/go.js';
import type { AppErrorFields, AppUnit } from '../../../parsers/app/types.js';
import type { Reply } from '../../../src/model/records.js';

const text = (t: string): AppUnit => ({ text: t, fields: null });
const parse = (u: AppUnit): AppErrorFields | null => (goParser.claims(u) ? goParser.parse(u) : null);
const r = (code: number | null, enhanced: string | null, t: string): Reply => ({ code, enhanced, text: t });

const BASE = { exception: null, codeCandidates: null, accepted: [], sender: null, messageId: null, relay: null };
const BOB = '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table';

const PANIC_FRAMES = ['', 'goroutine 1 [running]:', 'main.main()', '\t/srv/notifier/main.go:42 +0x1a5', 'exit status 2'].join('\n');

describe('Go: gomail', () => {
  it('log.Fatal after the log prefix (kept by the decoder)', () => {
    expect(parse(text(`2024/07/30 12:03:44 gomail: could not send email 1: ${BOB}`))).toEqual({
      ...BASE,
      library: 'gomail',
      reply: r(550, '5.1.1', BOB),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', BOB) }],
    });
  });

  it('a panic with its goroutine dump', () => {
    const reply = '550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.example.net';
    expect(parse(text(`panic: gomail: could not send email 2: ${reply}\n${PANIC_FRAMES}`))).toEqual({
      ...BASE,
      library: 'gomail',
      reply: r(550, '5.7.1', reply),
      stage: 'unknown',
      recipients: [],
    });
  });

  it('a logfmt value (logrus): the reply ends at the closing quote', () => {
    const u = text(`time="2024-07-30T12:03:44+02:00" level=error msg="send failed" err="gomail: could not send email 1: ${BOB}" job=42`);
    expect(parse(u)?.reply).toEqual(r(550, '5.1.1', BOB));
  });

  it('a structured entry whose error is a string field (zap)', () => {
    const u: AppUnit = { text: 'send failed', fields: { level: 'error', msg: 'send failed', error: `gomail: could not send email 1: ${BOB}` } };
    expect(parse(u)).toEqual({
      ...BASE,
      library: 'gomail',
      reply: r(550, '5.1.1', BOB),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', BOB) }],
    });
  });
});

describe('Go: net/smtp', () => {
  it('smtp.SendMail wrapped by the application', () => {
    expect(parse(text(`smtp.SendMail: ${BOB}`))).toEqual({
      ...BASE,
      library: 'net/smtp',
      reply: r(550, '5.1.1', BOB),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', BOB) }],
    });
  });

  it('a multi-line reply (textproto keeps the code on the first line only) in a panic', () => {
    const u = text(
      [
        "panic: failed to send mail: 550 5.1.1 The email account that you tried to reach does not exist. Please try",
        "5.1.1 double-checking the recipient's email address for typos or",
        '5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser c3-20020a05',
        PANIC_FRAMES,
      ].join('\n'),
    );
    expect(parse(u)?.reply).toEqual(
      r(
        550,
        '5.1.1',
        "550 5.1.1 The email account that you tried to reach does not exist. Please try 5.1.1 double-checking the recipient's email address for typos or 5.1.1 unnecessary spaces. https://support.example.com/mail/?p=NoSuchUser c3-20020a05",
      ),
    );
  });

  it('the command named by the application, a file:line log prefix', () => {
    const u = text(`main.go:57: RCPT TO <carol@example.net> failed: 452 4.2.2 Mailbox full`);
    expect(parse(u)).toEqual({ ...BASE, library: 'net/smtp', reply: r(452, '4.2.2', '452 4.2.2 Mailbox full'), stage: 'rcpt', recipients: [{ address: 'carol@example.net', reply: r(452, '4.2.2', '452 4.2.2 Mailbox full') }] });
  });

  it('a refused sender', () => {
    const reply = '553 5.7.1 <alice@example.com>: Sender address rejected: not owned by user';
    expect(parse(text(`mailer.go:88: smtp.SendMail: ${reply}`))).toEqual({
      ...BASE,
      library: 'net/smtp',
      reply: r(553, '5.7.1', reply),
      stage: 'mail',
      recipients: [],
      sender: 'alice@example.com',
    });
  });

  it('%#v of *textproto.Error', () => {
    const u = text('mailer.go:91: send: &textproto.Error{Code:550, Msg:"5.7.1 Relaying denied\\n5.7.1 see https://www.example.net/relay"}');
    expect(parse(u)).toEqual({
      ...BASE,
      library: 'net/smtp',
      exception: 'textproto.Error',
      reply: r(550, '5.7.1', '550 5.7.1 Relaying denied 5.7.1 see https://www.example.net/relay'),
      stage: 'unknown',
      recipients: [],
    });
  });
});

describe('Go: go-mail', () => {
  it('SendError: stage from its reason, recipients and Message-ID from its suffix', () => {
    const reply = '550 5.1.1 <bob@example.org>: Recipient address rejected';
    const u = text(`send failed: sending SMTP RCPT TO command: ${reply}, affected recipient(s): <bob@example.org>, affected message ID: <1722340000.12345@mail.example.com>`);
    expect(parse(u)).toEqual({
      ...BASE,
      library: 'go-mail',
      reply: r(550, '5.1.1', reply),
      stage: 'rcpt',
      recipients: [{ address: 'bob@example.org', reply: r(550, '5.1.1', reply) }],
      messageId: '1722340000.12345@mail.example.com',
    });
  });

  it('closing the DATA writer is the end of data', () => {
    const u = text('send failed: closing SMTP DATA writer: 554 5.7.1 Message rejected: spam, affected recipient(s): <bob@example.org>');
    expect(parse(u)).toMatchObject({ library: 'go-mail', stage: 'end_of_data', reply: r(554, '5.7.1', '554 5.7.1 Message rejected: spam') });
  });
});

describe("Go: an application's error chain after the stripped `log` prefix", () => {
  // samples/app/012 lines 6-11: net/smtp's errors wrapped with fmt.Errorf, no Go marker left.
  const GOOGLE = [
    "notify: rcpt kim@example.net: 550 5.7.1 [203.0.113.7] The IP you're using to send mail is not authorized to",
    '5.7.1 send email directly to our servers.',
    '5.7.1  https://support.google.com/mail/?p=NotAuthorizedError x.44 - gsmtp',
  ].join('\n');

  it('a multi-line RCPT refusal: the recipient and the stage from the words before the reply', () => {
    const reply = r(
      550,
      '5.7.1',
      "550 5.7.1 [203.0.113.7] The IP you're using to send mail is not authorized to 5.7.1 send email directly to our servers. 5.7.1  https://support.google.com/mail/?p=NotAuthorizedError x.44 - gsmtp",
    );
    expect(parse(text(GOOGLE))).toEqual({ ...BASE, library: 'net/smtp', reply, stage: 'rcpt', recipients: [{ address: 'kim@example.net', reply }] });
  });

  it('AUTH and the final dot (`close data`: the reply read by closing the DATA writer)', () => {
    expect(parse(text('notify: smtp auth: 535 5.7.8 Error: authentication failed: authentication failure'))).toMatchObject({ stage: 'auth', recipients: [] });
    expect(parse(text('notify: close data for order 1195: 554 5.7.1 Message rejected due to content restrictions'))).toMatchObject({
      library: 'net/smtp',
      stage: 'end_of_data',
      reply: r(554, '5.7.1', '554 5.7.1 Message rejected due to content restrictions'),
    });
  });

  it.each([
    ["Nodemailer's words (capitalized)", 'transport verify failed Invalid login: 535-5.7.8 Username and Password not accepted.'],
    ['a capitalized message', 'Send failed: 550 5.1.1 <bob@example.org>: User unknown'],
    ['no enhanced status', 'notify: order 550 shipped: 550 units'],
    ['a bare reply', BOB],
  ])('not claimed: %s', (_name, t) => {
    expect(goParser.claims(text(t))).toBe(false);
  });
});

describe('Go: not ours', () => {
  it.each([
    ['a bare reply without a Go marker', BOB],
    ['an order number', 'main.go:12: order 550 shipped'],
    ['an HTTP status in a Go log', 'main.go:40: unexpected status: 503 Service Unavailable'],
    ['a runtime panic', `panic: runtime error: index out of range [550] with length 3\n${PANIC_FRAMES}`],
    ['a 2xx reply', 'smtp.SendMail: 250 2.0.0 Ok: queued'],
    ['a dial error', 'gomail: could not send email 1: dial tcp 192.0.2.25:587: connect: connection refused'],
  ])('%s', (_name, t) => {
    expect(parse(text(t))).toBeNull();
  });

  it('claims only with a Go marker', () => {
    expect(goParser.claims(text(BOB))).toBe(false);
    expect(goParser.claims(text("Error: Can't send mail - all recipients were rejected: 550 5.1.1 x"))).toBe(false);
    expect(goParser.claims(text(`gomail: could not send email 1: ${BOB}`))).toBe(true);
  });
});
