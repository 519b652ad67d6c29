import { describe, expect, it } from 'vitest';
import { MultilineFramer, type FramedUnit } from '../../src/framing/multiline.js';
import type { Line } from '../../src/framing/lines.js';

/** Frames `text` line by line; returns each unit's first line number and text, and the blank count. */
function frame(text: string, framer = new MultilineFramer()): { units: { at: number; text: string; lines: number }[]; blank: number } {
  const units: FramedUnit[] = [];
  let blank = 0;
  let offset = 0;
  text.split('\n').forEach((t, i) => {
    const line: Line = { text: t, number: i + 1, offset, truncated: false } as Line;
    offset += Buffer.byteLength(t) + 1;
    const r = framer.push(line, t);
    units.push(...r.units);
    if (r.blank) blank++;
  });
  units.push(...framer.end());
  return { units: units.map((u) => ({ at: u.line.number, text: u.text, lines: u.lines })), blank };
}

describe('multi-line framing', () => {
  it('keeps a Python logging line, its traceback and the exception line together', () => {
    const log = [
      '2024-11-03 08:12:55,104 ERROR app.mail: send failed',
      'Traceback (most recent call last):',
      '  File "/srv/app/mail.py", line 41, in send',
      '    server.sendmail(sender, rcpts, body)',
      '  File "/usr/lib/python3.11/smtplib.py", line 901, in sendmail',
      '    raise SMTPRecipientsRefused(senderrs)',
      "smtplib.SMTPRecipientsRefused: {'bob@example.org': (550, b'5.1.1 <bob@example.org>: Recipient address rejected')}",
      '2024-11-03 08:12:56,001 INFO app.web: GET /health 200',
    ].join('\n');
    const { units } = frame(log);
    expect(units.map((u) => [u.at, u.lines])).toEqual([
      [1, 7],
      [8, 1],
    ]);
    expect(units[0]!.text.split('\n').at(-1)).toMatch(/^smtplib\.SMTPRecipientsRefused/);
  });

  it('frames Node console errors without timestamps: frames and the inspected object belong to the error, the next error starts anew', () => {
    const log = [
      "Error: Can't send mail - all recipients were rejected: 550 5.1.1 <bob@example.org>: Recipient address rejected",
      '    at SMTPConnection._formatError (/srv/node_modules/nodemailer/lib/smtp-connection/index.js:798:19)',
      '    at SMTPConnection._actionRCPT (/srv/node_modules/nodemailer/lib/smtp-connection/index.js:1682:28) {',
      "  code: 'EENVELOPE',",
      "  rejected: [ 'bob@example.org' ],",
      '}',
      'listening on :3000',
      "Error: Message failed: 550 5.7.1 Message rejected",
      '    at SMTPConnection._formatError (/srv/node_modules/nodemailer/lib/smtp-connection/index.js:798:19)',
    ].join('\n');
    const { units } = frame(log);
    expect(units.map((u) => [u.at, u.lines])).toEqual([
      [1, 6],
      [7, 1],
      [8, 2],
    ]);
  });

  it('takes a Java exception, nested exceptions, a reply wrapped at the margin and Caused by under a logback header', () => {
    const log = [
      '2024-03-14 09:12:05.123 ERROR 24817 --- [main] c.e.mail.Mailer : send failed',
      'jakarta.mail.SendFailedException: Invalid Addresses;',
      '  nested exception is:',
      '\torg.eclipse.angus.mail.smtp.SMTPAddressFailedException: 550-5.1.1 <erin@example.com>: Recipient address rejected:',
      '550 5.1.1 User unknown in virtual mailbox table',
      '\tat org.eclipse.angus.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2076)',
      'Caused by: org.eclipse.angus.mail.smtp.SMTPAddressFailedException: 550 5.1.1 ...',
      '\t... 12 more',
      '2024-03-14 09:12:06.000 INFO 24817 --- [main] c.e.mail.Mailer : next',
    ].join('\n');
    expect(frame(log).units.map((u) => [u.at, u.lines])).toEqual([
      [1, 8],
      [9, 1],
    ]);
  });

  it('keeps interleaved traces of two processes apart when each line has its own syslog header', () => {
    const a = (s: string) => `Mar 14 09:12:05 app01 java[100]: ${s}`;
    const b = (s: string) => `Mar 14 09:12:05 app01 java[200]: ${s}`;
    const log = [
      a('ERROR c.e.Mailer - send failed'),
      b('ERROR c.e.Mailer - send failed'),
      a('javax.mail.SendFailedException: Invalid Addresses;'),
      b('jakarta.mail.SendFailedException: Invalid Addresses;'),
      a('  nested exception is:'),
      b('  nested exception is:'),
      a('\tcom.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <a@example.org>: unknown'),
      b('\torg.eclipse.angus.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <b@example.org>: unknown'),
    ].join('\n');
    const { units } = frame(log);
    expect(units).toHaveLength(2);
    const ua = units.find((u) => u.at === 1)!;
    const ub = units.find((u) => u.at === 2)!;
    expect(ua.text).toBe(
      [a('ERROR c.e.Mailer - send failed'), 'javax.mail.SendFailedException: Invalid Addresses;', '  nested exception is:', '\tcom.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <a@example.org>: unknown'].join('\n'),
    );
    expect(ub.text).toContain('<b@example.org>');
    expect(ub.text).not.toContain('a@example.org');
  });

  it('keeps interleaved services of a docker compose log apart', () => {
    const log = [
      'web-1     | Error: Message failed: 550 5.7.1 rejected',
      'worker-1  | 2024-11-03 08:12:55,104 ERROR mail: send failed',
      'web-1     |     at SMTPConnection._formatError (index.js:798:19)',
      'worker-1  | Traceback (most recent call last):',
      "worker-1  | smtplib.SMTPDataError: (550, b'5.7.1 rejected')",
    ].join('\n');
    const { units } = frame(log);
    expect(units.map((u) => [u.at, u.lines]).sort()).toEqual([
      [1, 2],
      [2, 3],
    ]);
  });

  it('ends a unit at a blank line and at the line limit', () => {
    const { units, blank } = frame(['Error: one', '    at a', '', 'listening on :3000'].join('\n'));
    expect(blank).toBe(1);
    expect(units.map((u) => [u.at, u.lines])).toEqual([
      [1, 2],
      [4, 1],
    ]);
    // After a blank line only a clear continuation joins: a Java reply's own line end, chained tracebacks.
    const java = frame(['2024-03-14 09:12:05.123 ERROR c.e.Mailer - send failed', 'jakarta.mail.SendFailedException: Invalid Addresses;', '  nested exception is:', '\tcom.sun.mail.smtp.SMTPAddressFailedException: 550 5.1.1 <a@example.org>: unknown', '', '\tat com.sun.mail.smtp.SMTPTransport.rcptTo(SMTPTransport.java:2076)', 'Caused by: x', ''].join('\n'));
    expect(java.units.map((u) => [u.at, u.lines])).toEqual([[1, 6]]);
    const long = ['2024-11-03 08:00:00 ERROR x: y', ...Array.from({ length: 25 }, (_, i) => `    at f${i}`)].join('\n');
    const cut = frame(long, new MultilineFramer({ maxLines: 10 }));
    expect(cut.units.map((u) => u.lines)).toEqual([10, 10, 6]);
  });

  it('reads a Sentry layout (the exception first) as one unit', () => {
    const log = [
      "SMTPRecipientsRefused: {'bob@example.org': (550, b'5.1.1 unknown')}",
      '  File "django/core/mail/backends/smtp.py", line 132, in _send',
      '    self.connection.sendmail(from_email, recipients, message.as_bytes(linesep="\\r\\n"))',
      '(7 additional frame(s) were not displayed)',
    ].join('\n');
    expect(frame(log).units.map((u) => u.lines)).toEqual([4]);
  });

  it('starts a new unit at an exception printed after an INFO line, but not after an ERROR line', () => {
    const log = [
      '2024-11-03T08:12:54.990Z info: POST /api/orders/550/confirm',
      'Error: Message failed: 550 5.7.1 Message rejected',
      '    at SMTPConnection._formatError (index.js:798:19)',
      '2024-11-03T08:12:56.000Z error: send failed',
      'Error: Message failed: 550 5.7.1 Message rejected',
      '    at SMTPConnection._formatError (index.js:798:19)',
    ].join('\n');
    expect(frame(log).units.map((u) => [u.at, u.lines])).toEqual([
      [1, 1],
      [2, 2],
      [4, 3],
    ]);
  });

  it("starts a new unit at PHP's `PHP Fatal error:` after an unrelated line", () => {
    const log = ['reminders: 550 due today', 'PHP Fatal error:  Uncaught Symfony\\Component\\Mailer\\Exception\\TransportException: x', 'Stack trace:', '#0 {main}'].join('\n');
    expect(frame(log).units.map((u) => [u.at, u.lines])).toEqual([
      [1, 1],
      [2, 3],
    ]);
  });

  it("keeps Django's `Exception Type:` / `Exception Value:` pair together, and splits Ruby's uncaught reports", () => {
    expect(frame(['Exception Type: SMTPRecipientsRefused at /signup/', "Exception Value: {'hana@example.org': (550, b'5.1.1 unknown')}"].join('\n')).units.map((u) => u.lines)).toEqual([2]);
    const ruby = [
      "/usr/lib/ruby/gems/3.1.0/gems/net-smtp-0.3.1/lib/net/smtp.rb:1059:in `check_response': 550 5.1.1 <a@example.org>: unknown (Net::SMTPFatalError)",
      "\tfrom /usr/lib/ruby/gems/3.1.0/gems/net-smtp-0.3.1/lib/net/smtp.rb:1031:in `rcptto'",
      "/usr/lib/ruby/gems/3.1.0/gems/net-smtp-0.3.1/lib/net/smtp.rb:1059:in `check_response': 550 5.7.1 spam (Net::SMTPFatalError)",
      "\tfrom /usr/lib/ruby/gems/3.1.0/gems/net-smtp-0.3.1/lib/net/smtp.rb:1004:in `data'",
    ].join('\n');
    expect(frame(ruby).units.map((u) => [u.at, u.lines])).toEqual([
      [1, 2],
      [3, 2],
    ]);
  });

  it('makes each JSON entry a unit of its own', () => {
    const log = ['{"level":50,"msg":"a"}', '{"level":50,"msg":"b"}'].join('\n');
    expect(frame(log).units.map((u) => u.at)).toEqual([1, 2]);
  });

  it('gives up a live unit after an idle time and says which line it holds', () => {
    const f = new MultilineFramer();
    const line = (n: number, text: string): Line => ({ text, number: n, offset: n * 100, truncated: false }) as Line;
    f.push(line(1, 'Error: x'), 'Error: x', 1_000);
    f.push(line(2, '    at y'), '    at y', 1_200);
    expect(f.heldLine(null)?.number).toBe(1);
    expect(f.idle(1_900, 1_000)).toEqual([]);
    const out = f.idle(2_300, 1_000);
    expect(out.map((u) => [u.line.number, u.lines])).toEqual([[1, 2]]);
    expect(f.heldLine(null)).toBeNull();
  });
});
