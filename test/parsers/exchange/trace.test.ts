/**
 * Exchange Online message trace pieces (FORMATS.md 3.2, edge cases 5.16): `Received` with 7
 * fraction digits and no `Z`, JSON objects framed over lines (strings with brackets and escaped
 * quotes inside), and `##` summary cells.
 */
import { describe, expect, it } from 'vitest';
import { JsonObjectFramer, summaryRow, traceTime } from '../../../parsers/exchange/trace.js';

describe('traceTime', () => {
  it('reads 7 fraction digits, with or without Z (UTC), and offsets', () => {
    expect(traceTime('2023-06-14T09:21:47.1234567')).toBe(Date.parse('2023-06-14T09:21:47.123Z'));
    expect(traceTime('2023-06-14T09:21:47.1234567Z')).toBe(Date.parse('2023-06-14T09:21:47.123Z'));
    expect(traceTime('2023-06-14T09:21:47+02:00')).toBe(Date.parse('2023-06-14T07:21:47Z'));
    expect(traceTime('2023-06-14 09:21:47')).toBe(Date.parse('2023-06-14T09:21:47Z'));
    expect(traceTime('')).toBeNull();
    expect(traceTime('soon')).toBeNull();
  });
});

describe('JsonObjectFramer', () => {
  it('gives each object of an array as its lines complete it, whatever the strings hold', () => {
    const f = new JsonObjectFramer();
    expect(f.feed('{"odata.metadata": "x{[", "value": [')).toEqual([]);
    expect(f.feed('  {"Subject": "a } ] \\" tricky", ')).toEqual([]);
    expect(f.feed('   "Status": "Failed"},')).toEqual(['{"Subject": "a } ] \\" tricky", \n   "Status": "Failed"}']);
    expect(f.feed('{"Status": "Delivered"}, {"Status": "Pending"}]}')).toEqual(['{"Status": "Delivered"}', '{"Status": "Pending"}']);
    expect(f.depth).toBe(0);
    expect(new JsonObjectFramer().feed('{"a": [}')).toBeNull();
  });
});

describe('summaryRow', () => {
  it('reads every recipient and its last event from the ## cell', () => {
    const d = summaryRow({ 'origin-timestamp-utc': '2023-06-14T09:21:47.0000000Z', 'sender-address': 'a@example.net', 'recipient-status': 'b@example.com##Receive, Deliver;c@example.com##Receive, Fail', 'message-id': '<m@example.net>', 'network-message-id': 'n1', 'total-bytes': '100', directionality: 'Incoming' }, 'line');
    expect(d).toMatchObject({ type: 'record', record: { messageId: 'm@example.net', traceId: 'n1', recipients: [{ address: 'b@example.com', status: 'Deliver' }, { address: 'c@example.com', status: 'Fail' }], size: 100, directionality: 'Incoming' } });
    expect(summaryRow({ 'origin-timestamp-utc': 'x' }, 'line')).toMatchObject({ type: 'malformed' });
  });
});
