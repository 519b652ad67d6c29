import { describe, expect, it } from 'vitest';
import type { Line } from '../../src/framing/lines.js';
import { sniffWrapper, Unwrapper } from '../../src/framing/wrappers.js';

let offset = 0;
function line(text: string, number = 1): Line {
  const l = { text, number, offset, end: offset + Buffer.byteLength(text) + 1, truncated: false };
  offset = l.end;
  return l;
}

const J = (o: Record<string, unknown>) => JSON.stringify({ __REALTIME_TIMESTAMP: '1710141342493018', _HOSTNAME: 'mx1', SYSLOG_IDENTIFIER: 'postfix/smtp', _PID: '30218', ...o });

describe('sniffWrapper', () => {
  it('recognises journald exports, Docker json-file records, and leaves plain lines alone', () => {
    expect(sniffWrapper(['', J({ MESSAGE: 'x' })])).toBe('journald');
    expect(sniffWrapper(['{"log":"Aug 02 10:14:33 mail postfix/smtp[311]: x\\n","stream":"stdout","time":"2024-08-02T10:14:33.40127851Z"}'])).toBe('docker');
    expect(sniffWrapper(['Mar 11 08:15:42 mx1 postfix/smtp[1]: x'])).toBeNull();
    expect(sniffWrapper(['{"message":"Expected response code 250","level":400}'])).toBeNull(); // Monolog: not a wrapper
    expect(sniffWrapper(['{not json'])).toBeNull();
  });
});

describe('journald', () => {
  const u = new Unwrapper('journald');
  it('rebuilds the envelope from the fields: exact µs time in UTC, host, tag, pid', () => {
    const r = u.unwrap(line(J({ MESSAGE: '5D0B7F3A19: to=<dave@example.net>, status=bounced' })));
    expect(r).toMatchObject({ kind: 'line', text: '2024-03-11T07:15:42.493018Z mx1 postfix/smtp[30218]: 5D0B7F3A19: to=<dave@example.net>, status=bounced' });
  });
  it('decodes a MESSAGE exported as an array of bytes (not valid UTF-8) with replacement', () => {
    const bytes = [...Buffer.from('550 Empf', 'latin1'), 0xe4, ...Buffer.from('nger unbekannt', 'latin1')];
    const r = u.unwrap(line(J({ MESSAGE: bytes })));
    expect(r.kind === 'line' && r.text.endsWith(': 550 Empf\ufffdnger unbekannt')).toBe(true);
  });
  it('keeps a record whose MESSAGE is null (over 4096 bytes without -a) and counts it', () => {
    const before = u.messageMissing;
    const r = u.unwrap(line(J({ MESSAGE: null })));
    expect(r).toMatchObject({ kind: 'line', text: '2024-03-11T07:15:42.493018Z mx1 postfix/smtp[30218]: ' });
    expect(u.messageMissing).toBe(before + 1);
  });
  it('takes the first value of a field that had several, and SYSLOG_PID when _PID is absent', () => {
    const r = u.unwrap(line(JSON.stringify({ __REALTIME_TIMESTAMP: '1710141342000000', _HOSTNAME: ['mx1', 'mx1'], SYSLOG_IDENTIFIER: ['postfix/qmgr', 'postfix/qmgr'], SYSLOG_PID: '77', MESSAGE: 'ABC: removed' })));
    expect(r).toMatchObject({ text: '2024-03-11T07:15:42.000000Z mx1 postfix/qmgr[77]: ABC: removed' });
  });
  it('reports a line that is not JSON, or a record without a time, as malformed', () => {
    expect(u.unwrap(line('-- Boot 0c4e1a7f --'))).toMatchObject({ kind: 'malformed' });
    expect(u.unwrap(line(JSON.stringify({ MESSAGE: 'x' })))).toMatchObject({ kind: 'malformed', reason: /REALTIME/ });
  });
});

describe('Docker json-file', () => {
  it('strips the newline, and joins a line split into 16 KiB records at the first piece\'s offset', () => {
    const u = new Unwrapper('docker');
    const long = 'x'.repeat(40_000);
    const pieces = [long.slice(0, 16384), long.slice(16384, 32768), long.slice(32768) + '\n'];
    const lines = pieces.map((p, i) => line(JSON.stringify({ log: p, stream: 'stdout', time: '2024-08-02T10:14:33.4Z' }), 10 + i));
    expect(u.unwrap(lines[0]!)).toEqual({ kind: 'held' });
    expect(u.heldLine?.offset).toBe(lines[0]!.offset);
    expect(u.unwrap(lines[1]!)).toEqual({ kind: 'held' });
    const r = u.unwrap(lines[2]!);
    expect(r).toMatchObject({ kind: 'line', text: long, line: { number: 10, offset: lines[0]!.offset, end: lines[2]!.end } });
    expect(u.heldLine).toBeNull();
    const crlf = u.unwrap(line(JSON.stringify({ log: 'tty line\r\n', stream: 'stdout', time: '2024-08-02T10:14:33Z' })));
    expect(crlf).toMatchObject({ text: 'tty line' });
  });
  it('returns an unfinished line at the end of input', () => {
    const u = new Unwrapper('docker');
    u.unwrap(line(JSON.stringify({ log: 'partial', stream: 'stderr', time: '2024-08-02T10:14:33Z' })));
    expect(u.end()).toMatchObject({ kind: 'line', text: 'partial' });
    expect(u.end()).toBeNull();
  });
});
