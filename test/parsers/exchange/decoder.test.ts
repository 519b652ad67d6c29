/**
 * Exchange message tracking logs (FORMATS.md 3.1, edge cases 5.15): columns by `#Fields` in the 26,
 * 27 and 30-field layouts, a UTF-8 BOM, header-less excerpts, quoted commas and doubled quotes,
 * `;` lists, `2.1.5Recipient`, a quoted field over a line end, and SMTP protocol logs refused.
 */
import { describe, expect, it } from 'vitest';
import { csvRow, exchangeParser } from '../../../parsers/exchange/index.js';
import { exchangeReply } from '../../../src/correlate/exchange.js';
import type { Decoded, ExchangeTrackingRecord } from '../../../src/model/records.js';

const F2010 = 'date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data';
const F2013 = F2010.replace('message-id,recipient-address', 'message-id,network-message-id,recipient-address');
const F2016 = `${F2013},transport-traffic-type,log-id,schema-version`;

/** A row of the given layout from the named values (the rest empty), quoted where needed. */
function row(fields: string, values: Record<string, string>): string {
  return fields
    .split(',')
    .map((f) => {
      const v = values[f] ?? '';
      return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
    })
    .join(',');
}
const header = (fields: string, logType = 'Message Tracking Log') => [`#Software: Microsoft Exchange Server`, `#Version: 15.02.1118.007`, `#Log-type: ${logType}`, `#Date: 2023-04-18T00:00:04.211Z`, `#Fields: ${fields}`];
const FAIL = { 'date-time': '2023-04-18T10:15:01.300Z', 'server-hostname': 'EX01', source: 'ROUTING', 'event-id': 'FAIL', 'internal-message-id': '18734209', 'message-id': '<m1@example.org>', 'network-message-id': '1c4f6d2e-0c2b-4a5e-9a61-08db3f8e3e2c', 'recipient-address': 'nobody@corp.example.com', 'recipient-status': '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found', 'sender-address': 'bob@example.org', directionality: 'Incoming' };

function decodeAll(lines: string[]): Decoded[] {
  const d = exchangeParser.newDecoder!();
  return lines.map((l) => d.decode(l));
}
const rec = (d: Decoded) => (d.type === 'record' ? (d.record as ExchangeTrackingRecord) : null);

describe('csvRow', () => {
  it('splits RFC 4180 rows: quoted commas, doubled quotes, empty fields, an unclosed quote', () => {
    expect(csvRow('a,,"b,c","say ""hi""",')).toEqual(['a', '', 'b,c', 'say "hi"', '']);
    expect(csvRow('"MDB:1, Mailbox:2, Event:3",x')).toEqual(['MDB:1, Mailbox:2, Event:3', 'x']);
    expect(csvRow('a,"open')).toBeNull();
    expect(csvRow('a,"open\nclosed",b')).toEqual(['a', 'open\nclosed', 'b']);
    expect(csvRow('')).toEqual(['']);
  });
});

describe('Exchange tracking decoder', () => {
  it.each([
    ['2010 (26 fields)', F2010],
    ['2013 (27 fields)', F2013],
    ['2016/2019 (30 fields)', F2016],
  ])('maps columns by #Fields: %s', (_name, fields) => {
    const out = decodeAll([...header(fields), row(fields, FAIL)]);
    expect(out.slice(0, 5).every((d) => d.type === 'unsupported' && d.daemon === 'header')).toBe(true);
    const r = rec(out[5]!)!;
    expect(r).toMatchObject({ eventId: 'FAIL', source: 'ROUTING', internalMessageId: '18734209', messageId: 'm1@example.org', recipients: ['nobody@corp.example.com'], statuses: ['550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'], sender: 'bob@example.org', directionality: 'Incoming' });
    expect(r.networkMessageId).toBe(fields === F2010 ? null : '1c4f6d2e-0c2b-4a5e-9a61-08db3f8e3e2c');
    expect(out[5]!.type === 'record' && out[5]!.envelope.time).toEqual({ kind: 'absolute', epochMs: Date.parse('2023-04-18T10:15:01.300Z') });
  });

  it('reads a file that starts with a UTF-8 BOM and has CRLF line ends', () => {
    const lines = [...header(F2010), row(F2010, FAIL)].map((l) => `${l}\r`);
    lines[0] = `\ufeff${lines[0]}`;
    expect(rec(decodeAll(lines)[5]!)?.eventId).toBe('FAIL');
    expect(exchangeParser.sniff([`\ufeff#Software: Microsoft Exchange Server`])).toBe(1);
  });

  it('chooses the layout of a header-less excerpt from its field count, and says so', () => {
    const out = decodeAll([row(F2016, FAIL), row(F2010, FAIL), 'a,b,c']);
    expect(out[0]).toMatchObject({ type: 'record', daemon: 'exchange-headerless-30' });
    expect(rec(out[0]!)?.networkMessageId).toBe('1c4f6d2e-0c2b-4a5e-9a61-08db3f8e3e2c');
    expect(out[1]).toMatchObject({ type: 'record', daemon: 'exchange-headerless-26' });
    expect(out[2]).toMatchObject({ type: 'malformed' });
    expect(exchangeParser.sniff([row(F2016, FAIL), row(F2016, FAIL)])).toBe(1);
    expect(exchangeParser.sniff(['Mar 11 08:15:41 mx1 postfix/smtp[30125]: 5D0B7F3A19: to=<a@b.c>, status=sent'])).toBe(0);
  });

  it('splits ; lists of recipients and statuses, keeps quoted commas and doubled quotes', () => {
    const multi = { ...FAIL, 'recipient-address': 'a@corp.example.com;b@corp.example.com', 'recipient-status': '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found;250 2.1.5Recipient OK', 'source-context': 'MDB:1, Mailbox:2, Event:3', 'message-subject': 'The "big" one, again' };
    const r = rec(decodeAll([...header(F2016), row(F2016, multi)])[5]!)!;
    expect(r.recipients).toEqual(['a@corp.example.com', 'b@corp.example.com']);
    expect(r.statuses).toEqual(['550 5.1.1 RESOLVER.ADR.RecipNotFound; not found', '250 2.1.5Recipient OK']);
  });

  it('holds a row whose quoted field goes over a line end, and gives up after 20 lines', () => {
    const text = row(F2016, { ...FAIL, 'message-subject': 'line one\nline two' });
    const [a, b] = text.split('\n');
    const out = decodeAll([...header(F2016), a!, b!]);
    expect(out[5]).toEqual({ type: 'continuation' });
    expect(rec(out[6]!)?.eventId).toBe('FAIL');
    const never = decodeAll([...header(F2016), '2023-04-18T10:15:01.300Z,"unclosed', ...Array.from({ length: 19 }, () => 'x'), row(F2016, FAIL)]);
    expect(never[24]).toMatchObject({ type: 'malformed' });
    expect(rec(never[25]!)?.eventId).toBe('FAIL');
  });

  it('does not take an SMTP protocol log for a tracking log (same header style)', () => {
    const fields = 'date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context';
    const out = decodeAll([...header(fields, 'SMTP Receive Protocol Log'), '2023-04-18T10:15:01.300Z,EX01\\Default Frontend EX01,08DB3F8E3E2C1A4B,7,192.0.2.15:25,203.0.113.9:51234,>,550 5.7.1 Unable to relay,']);
    expect(out[5]).toMatchObject({ type: 'unsupported', daemon: 'smtp-receive-protocol-log' });
  });

  it('reports malformed rows: bad time, no event-id, wrong field count under a header', () => {
    const out = decodeAll([...header(F2016), row(F2016, { ...FAIL, 'date-time': 'yesterday' }), row(F2016, { ...FAIL, 'event-id': '' }), 'a,b']);
    expect(out.slice(5).map((d) => d.type)).toEqual(['malformed', 'malformed', 'malformed']);
  });
});

describe('exchangeReply', () => {
  it('reads codes from plain statuses, the no-space form and Exchange\'s {LED=...} form', () => {
    expect(exchangeReply('550 5.1.1 RESOLVER.ADR.RecipNotFound; not found')).toEqual({ code: 550, enhanced: '5.1.1', text: '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found' });
    expect(exchangeReply('250 2.1.5Recipient OK')).toMatchObject({ code: 250, enhanced: '2.1.5' });
    expect(exchangeReply('[{LRT=};{LED=550 5.4.1 Recipient address rejected: Access denied};{FQDN=};{IP=}]')).toMatchObject({ code: 550, enhanced: '5.4.1', text: '550 5.4.1 Recipient address rejected: Access denied' });
    expect(exchangeReply('QUEUE.Expired; message expired')).toEqual({ code: null, enhanced: null, text: 'QUEUE.Expired; message expired' });
  });
});

describe('csvRow against csv-parse (the reference CSV parser)', () => {
  it('splits every generated row as csv-parse does: commas, quotes, doubled quotes and line ends inside quotes', async () => {
    const fc = (await import('fast-check')).default;
    const { parse } = await import('csv-parse/sync');
    const field = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', ',', '"', '""', 'a,b', 'say "hi"', 'line\nbreak', ' ; 250 2.1.5Recipient OK'));
    const encode = (v: string) => (/[",\n\r]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v);
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), (fields) => {
        const text = fields.map(encode).join(',');
        const reference = (parse(text, { relax_column_count: true, relax_quotes: true }) as string[][])[0] ?? [''];
        expect(csvRow(text)).toEqual(reference);
      }),
      { numRuns: 300, seed: 550 },
    );
  });
});
