import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEnvelope, parseTimestamp } from '../../../parsers/syslog/envelope.js';

describe('parseTimestamp', () => {
  it.each([
    ['space-padded day', 'Feb  7 14:22:07 x', { month: 2, day: 7, hour: 14, minute: 22, second: 7, ms: 0 }],
    ['zero-padded day (maillog_file)', 'Sep 09 01:02:03 x', { month: 9, day: 9, hour: 1, minute: 2, second: 3, ms: 0 }],
    ['unpadded day', 'Nov 8 23:59:59 x', { month: 11, day: 8, hour: 23, minute: 59, second: 59, ms: 0 }],
    ['fraction (journalctl short-precise)', 'Aug 19 14:03:22.123456 x', { month: 8, day: 19, hour: 14, minute: 3, second: 22, ms: 123 }],
    ['German month (journalctl under de_DE)', 'Mär 14 09:12:05 x', { month: 3, day: 14, hour: 9, minute: 12, second: 5, ms: 0 }],
    ['German Dez', 'Dez 31 23:00:00 x', { month: 12, day: 31, hour: 23, minute: 0, second: 0, ms: 0 }],
    ['French with dot', 'févr. 03 10:00:00 x', { month: 2, day: 3, hour: 10, minute: 0, second: 0, ms: 0 }],
    ['Dutch mei', 'mei 12 10:00:00 x', { month: 5, day: 12, hour: 10, minute: 0, second: 0, ms: 0 }],
  ])('reads a BSD timestamp: %s', (_name, line, expected) => {
    const t = parseTimestamp(line);
    expect(t?.time).toEqual({ kind: 'bsd', ...expected });
  });

  it.each([
    ['microseconds and offset', '2023-11-14T09:05:12.318724+00:00 x', Date.UTC(2023, 10, 14, 9, 5, 12, 318)],
    ['seconds and positive offset', '2022-03-09T11:42:50+02:00 x', Date.UTC(2022, 2, 9, 9, 42, 50)],
    ['negative offset', '2022-03-09T11:42:50-05:00 x', Date.UTC(2022, 2, 9, 16, 42, 50)],
    ['Z', '2024-08-02T10:14:33.40127851Z x', Date.UTC(2024, 7, 2, 10, 14, 33, 401)],
    ['offset without colon (journalctl short-iso)', '2024-08-19T14:03:22+0100 x', Date.UTC(2024, 7, 19, 13, 3, 22)],
  ])('reads an RFC 3339 timestamp: %s', (_name, line, epochMs) => {
    expect(parseTimestamp(line)?.time).toEqual({ kind: 'absolute', epochMs });
  });

  it.each([
    ['unknown month word', 'Foo 12 10:00:00 x'],
    ['day 0', 'Jan 0 10:00:00 x'],
    ['day 32', 'Jan 32 10:00:00 x'],
    ['no time', 'Jan 12 x'],
    ['date without T', '2024-01-01 10:00:00 x'],
    ['empty', ''],
  ])('rejects %s', (_name, line) => {
    expect(parseTimestamp(line)).toBeNull();
  });
});

describe('parseEnvelope', () => {
  it('splits host, tag, pid and message', () => {
    const e = parseEnvelope('Oct  3 14:22:07 mx1 postfix/submission/smtpd[4417]: connect from a[192.0.2.1]');
    expect(e).toMatchObject({ host: 'mx1', program: 'postfix/submission/smtpd', pid: 4417, container: null, message: 'connect from a[192.0.2.1]' });
  });

  it('accepts a tag without a PID (dovecot:)', () => {
    expect(parseEnvelope('Oct  3 14:22:07 mx1 dovecot: imap-login: Login')).toMatchObject({ program: 'dovecot', pid: null, message: 'imap-login: Login' });
  });

  it('accepts 7-digit PIDs and tags with dots and digits', () => {
    expect(parseEnvelope('Oct  3 14:22:07 mx1 postfix-198.51.100.20/qmgr[1234567]: x')).toMatchObject({
      program: 'postfix-198.51.100.20/qmgr',
      pid: 1234567,
    });
  });

  it.each([
    ['compose v1', 'mta_1      | Aug 02 10:14:33 mail postfix/smtp[311]: x', 'mta_1', 'mail'],
    ['compose v2', 'mailstack-postfix-1  | Jan 17 06:08:51 7f3c1e9b20d4 postfix/postscreen[517]: x', 'mailstack-postfix-1', '7f3c1e9b20d4'],
  ])('strips a container prefix: %s', (_name, line, container, host) => {
    expect(parseEnvelope(line)).toMatchObject({ container, host, message: 'x' });
  });

  it.each([
    ['no header', '3F7B21C0D84: reject: RCPT from x[192.0.2.1]: 550 5.1.1 x'],
    ['no tag', 'Oct  3 14:22:07 mx1'],
    ['garbage', '\u0000\u0001binary'],
    ['tag without colon', 'Oct  3 14:22:07 mx1 postfix/smtpd[12] x'],
  ])('returns null for %s', (_name, line) => {
    expect(parseEnvelope(line)).toBeNull();
  });
});

/** The envelope as the original patterns read it (the parser now scans the tag by hand). */
function byPatterns(line: string): ReturnType<typeof parseEnvelope> {
  let rest = line;
  let container: string | null = null;
  const c = /^([A-Za-z0-9][A-Za-z0-9_.-]*) +\| /.exec(rest);
  if (c !== null) {
    container = c[1]!;
    rest = rest.slice(c[0].length);
  }
  const ts = parseTimestamp(rest);
  if (ts === null) return null;
  rest = rest.slice(ts.length);
  const space = rest.indexOf(' ');
  if (space <= 0) return null;
  const host = rest.slice(0, space);
  rest = rest.slice(space + 1);
  const t = /^([^\s[\]:]+)(?:\[(\d{1,10})\])?: /.exec(rest);
  if (t === null) return null;
  return { time: ts.time, host, program: t[1]!, pid: t[2] === undefined ? null : Number(t[2]), container, message: rest.slice(t[0].length) };
}

describe('envelope scan', () => {
  it('reads every line as the patterns do (tags, pids, compose prefixes, odd characters)', () => {
    const piece = fc.constantFrom('postfix/smtp', 'exim', '[', ']', ':', ': ', ' ', '  ', '\t', '\u00a0', '\u2028', '\x01', '|', ' | ', '123', '12345678901', 'a', 'web-1', '.', '-', 'é');
    const head = fc.constantFrom('Mar 11 06:00:00 ', '2024-03-11T06:00:00Z ', 'app-1  | Mar 11 06:00:00 ', 'x | 2024-03-11T06:00:00.5+01:00 ', '');
    fc.assert(
      fc.property(head, fc.array(piece, { maxLength: 12 }), (h, parts) => {
        const line = `${h}${parts.join('')}`;
        expect(parseEnvelope(line)).toEqual(byPatterns(line));
      }),
      { numRuns: 5000 },
    );
  });
});
