/**
 * The hand scanners that replaced patterns in the Exim parser (#11) read exactly what the patterns
 * read: these rows pin the edges where a scan could drift (a two-digit fraction, an offset without
 * its space, rolled-over seconds, IDs one character off, ports past five digits, escaped quotes).
 * The expected values are what the pattern-based parser of 7316751 returned.
 */
import { describe, expect, it } from 'vitest';
import { parseEximLine } from '../../../parsers/exim/envelope.js';
import { parseFields } from '../../../parsers/exim/fields.js';
import { decodeEximLine } from '../../../parsers/exim/index.js';

const OLD = '1rAbCd-0001Xy-Zq';
const NEW = '1tBv7K-0000000AxQ3-0Fm2';

describe('Exim time, pid and ID scanned by hand', () => {
  it.each([
    ['an offset glued to text is not an offset', `2024-03-11 06:00:00 +0100x ${OLD} Completed`, { id: null, body: `+0100x ${OLD} Completed`, epochMs: Date.UTC(2024, 2, 11, 6) }],
    ['fraction and offset', `2024-03-11 06:00:00.123 +0100 ${OLD} Completed`, { id: OLD, body: 'Completed', epochMs: Date.UTC(2024, 2, 11, 5, 0, 0, 123) }],
    ['second 60 rolls over', `2024-03-11 06:59:60 ${OLD} Completed`, { id: OLD, epochMs: Date.UTC(2024, 2, 11, 7) }],
    ['minute 60 rolls over', `2024-03-11 06:60:00 ${OLD} Completed`, { id: OLD, epochMs: Date.UTC(2024, 2, 11, 7) }],
    ['a two-digit year field as Date reads it', `0099-01-01 00:00:00 ${OLD} Completed`, { id: OLD, epochMs: Date.UTC(1999, 0, 1) }],
    ['an inner time replaces the outer one', `2024-03-11 06:00:00 2024-03-11 07:00:00 ${OLD} Completed`, { id: OLD, body: 'Completed', epochMs: Date.UTC(2024, 2, 11, 7) }],
    ['an ID one character long is a word', `2024-03-11 06:00:00 ${OLD}7 Completed`, { id: null, body: `${OLD}7 Completed` }],
    ['an ID with another separator is a word', `2024-03-11 06:00:00 1rAbCd_0001Xy-Zq Completed`, { id: null }],
    ['a 4.97 ID alone', `2024-03-11 06:00:00 ${NEW}`, { id: NEW, body: '' }],
    ['pid then ID', `2024-03-11 06:00:00 [77] ${OLD} Completed`, { id: OLD, body: 'Completed', pid: 77 }],
    ['pid without its space', `2024-03-11 06:00:00 [77]${OLD} Completed`, { id: null, body: `[77]${OLD} Completed`, pid: null }],
    ['a tab before the tag is no syslog tag', `2024-03-11 06:00:00 mx\texim[1]: ${OLD} Completed`, { id: null, body: `mx\texim[1]: ${OLD} Completed` }],
  ])('%s', (_name, line, expected) => {
    const l = parseEximLine(line);
    expect(l.type).toBe('entry');
    if (l.type !== 'entry') return;
    const { id, body, pid, epochMs } = expected as { id?: string | null; body?: string; pid?: number | null; epochMs?: number };
    if (id !== undefined) expect(l.entry.id).toBe(id);
    if (body !== undefined) expect(l.entry.body).toBe(body);
    if (pid !== undefined) expect(l.entry.envelope.pid).toBe(pid);
    if (epochMs !== undefined) expect(l.entry.envelope.time).toEqual({ kind: 'absolute', epochMs });
  });

  it.each([[`2024-03-11 06:00:00.12 ${OLD} Completed`], [`2024-03-11 06:00:00.123+0100 ${OLD} Completed`], ['2024-03-11 06:00:0']])('no Exim time: %s', (line) => {
    expect(parseEximLine(line).type).toBe('none');
  });
});

describe('Exim fields scanned by hand', () => {
  it.each([
    ['a port of six digits keeps five', 'H=[192.0.2.1]:123456 X=y', { host: { name: null, helo: null, ip: '192.0.2.1', port: 12345 }, text: null, words: ['6'], values: { X: 'y' } }],
    ['a colon after the ip ends the fields', 'H=[192.0.2.1]: SMTP error', { host: { name: null, helo: null, ip: '192.0.2.1', port: null }, text: 'SMTP error', words: [], values: {} }],
    ['a colon without digits is no port', 'H=[192.0.2.1]:x', { host: { name: null, helo: null, ip: '192.0.2.1', port: null }, text: null, words: [':x'], values: {} }],
    ['a name with the colon', 'H=mx.example.net: SMTP', { host: { name: 'mx.example.net', helo: null, ip: null, port: null }, text: 'SMTP', words: [], values: {} }],
    ['an unclosed helo', 'H=(helo [192.0.2.1] x', { host: { name: null, helo: null, ip: null, port: null }, text: null, words: [], values: {} }],
    ['the later of two fields, an escaped quote', 'R=a R=b C="a \\"b\\" c" x: text', { host: null, text: 'text', words: ['x'], values: { R: 'b', C: 'a \\"b\\" c' } }],
  ])('%s', (_name, s, expected) => {
    const f = parseFields(s);
    expect({ host: f.host, text: f.text, words: f.words, values: Object.fromEntries(f.values) }).toEqual(expected);
  });
});

describe('Exim decoders without patterns', () => {
  const T = '2024-03-11 06:00:00';
  it('reads a size only when it is all digits, a parent only when it is an ID', () => {
    expect(decodeEximLine(`${T} ${OLD} <= a@b S=12a R=${NEW}`)).toMatchObject({ record: { size: null, parentId: NEW } });
    expect(decodeEximLine(`${T} ${OLD} <= <> S= R=x`)).toMatchObject({ record: { sender: '', size: null, parentId: null } });
  });

  it('reads the errno word only when it has digits', () => {
    expect(decodeEximLine(`${T} ${OLD} == c@d R=r T=t defer (-): x (-44): y`)).toMatchObject({ record: { errno: null, text: 'x (-44): y' } });
    expect(decodeEximLine(`${T} ${OLD} == c@d R=r T=t defer (-44): y`)).toMatchObject({ record: { errno: -44, text: 'y' } });
  });

  it.each([[`${T} ${OLD} =>`], [`${T} ${OLD} =>x`]])('a flag without an address is unsupported: %s', (line) => {
    expect(decodeEximLine(line).type).toBe('unsupported');
  });
});
