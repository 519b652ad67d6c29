/**
 * Microsoft Exchange on-premises message tracking logs (MSGTRK*.LOG, Exchange 2010 to 2019;
 * FORMATS.md 3.1): a `#Software`/`#Version`/`#Log-type`/`#Date`/`#Fields:` header, then one CSV row
 * per event. Columns are mapped by the names in `#Fields` (26 in 2010, 27 in 2013, 30 in 2016/2019),
 * never by position; a file without the header (an excerpt) gets the layout its rows' field count
 * says, and its rows say so (`exchange-headerless-NN` in the run's accounting).
 *
 * CSV rows per RFC 4180 (csvRow below): quoted fields with commas and doubled quotes, and a quoted
 * field that runs over a line end (held until its quotes balance, at most MAX_RECORD_LINES lines,
 * else malformed). Not csv-parse here: its stream parser hands a record out only when the next
 * chunk arrives (one line late, so the line's byte offset, and with it the event id, would be the
 * next line's) and its sync parser costs about 160 µs a row (a million-row log: minutes); it is the
 * reference this splitter is tested against (test/parsers/exchange/decoder.test.ts). SMTP
 * protocol logs share the header style but not the content: their `#Log-type` makes their rows
 * `unsupported`, never mistaken for tracking rows. Never throws.
 */
import type { Decoded, Envelope, ExchangeTrackingRecord, HostRef } from '../../src/model/records.js';
import type { LineDecoder, Parser } from '../../src/model/parser.js';
import { envelope, jsonObject, JsonObjectFramer, summaryRow } from './trace.js';

/** The 2010 layout; 2013 adds network-message-id after message-id; 2016/2019 add three at the end. */
const FIELDS_2010 = [
  'date-time', 'client-ip', 'client-hostname', 'server-ip', 'server-hostname', 'source-context', 'connector-id', 'source', 'event-id',
  'internal-message-id', 'message-id', 'recipient-address', 'recipient-status', 'total-bytes', 'recipient-count', 'related-recipient-address',
  'reference', 'message-subject', 'sender-address', 'return-path', 'message-info', 'directionality', 'tenant-id', 'original-client-ip',
  'original-server-ip', 'custom-data',
] as const;
const FIELDS_2013 = [...FIELDS_2010.slice(0, 11), 'network-message-id', ...FIELDS_2010.slice(11)];
const FIELDS_2016 = [...FIELDS_2013, 'transport-traffic-type', 'log-id', 'schema-version'];
const LAYOUT_BY_COUNT: Readonly<Record<number, readonly string[]>> = { 26: FIELDS_2010, 27: FIELDS_2013, 30: FIELDS_2016 };

/** A quoted field running over more lines than this is not a tracking row: malformed. */
const MAX_RECORD_LINES = 20;
const ISO_START = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?,/;
/** The header row of an Exchange Online CSV report: snake_case names, the time column first or among them. */
const CSV_HEADER = /^"?(?:date_time_utc|origin_timestamp_utc)"?,/i;
const PROGRAM = 'MSExchangeTransport';

const noEnvelope = (message: string, epochMs: number | null): Envelope => envelope(message, epochMs, PROGRAM);

function list(v: string | undefined): string[] {
  if (v === undefined || v === '') return [];
  return v.split(';').map((x) => x.trim()).filter((x) => x !== '');
}

/**
 * recipient-status holds one status per recipient joined by `;`, but a status has `;` of its own
 * (`550 5.1.1 RESOLVER.ADR.RecipNotFound; not found`): a new status starts only where a `;` is
 * followed by a reply code or Exchange's `[{` form.
 */
function statusList(v: string | undefined): string[] {
  if (v === undefined || v === '') return [];
  const out: string[] = [];
  let start = 0;
  for (let i = v.indexOf(';'); i >= 0; i = v.indexOf(';', i + 1)) {
    let j = i + 1;
    while (v.charCodeAt(j) === 32) j++;
    const c = v.charCodeAt(j);
    const code = c >= 50 && c <= 53 && /^\d\d(?:[ -]|$)/.test(v.slice(j + 1, j + 4));
    if (code || v.startsWith('[{', j)) {
      out.push(v.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(v.slice(start).trim());
  return out.filter((x) => x !== '');
}

function str(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '' || !/^\d+$/.test(v)) return null;
  return Number(v);
}

function host(ip: string | undefined, name: string | undefined): HostRef | null {
  const i = str(ip);
  const n = str(name);
  return i === null && n === null ? null : { name: n, ip: i, port: null };
}

/** `<id@host>` or bare `id@host` -> `id@host`. */
function messageIdOf(v: string | undefined): string | null {
  const s = str(v);
  if (s === null) return null;
  return s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1) : s;
}

/**
 * The fields of one CSV row (RFC 4180: `"` quotes a field, `""` is a quote inside it), or null when
 * a quoted field is still open at the end (it continues on the next line). One pass, no regex.
 */
export function csvRow(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34) {
      let v = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return null;
        v += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 34) {
          v += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      // Text between the closing quote and the next comma (malformed, kept as Exchange wrote it).
      const c = text.indexOf(',', i);
      v += text.slice(i, c < 0 ? text.length : c);
      out.push(v);
      if (c < 0) return out;
      i = c + 1;
    } else {
      const c = text.indexOf(',', i);
      out.push(text.slice(i, c < 0 ? text.length : c));
      if (c < 0) return out;
      i = c + 1;
    }
  }
}

/** One input's decoder: the header it has seen, and the lines of a row still open. */
class ExchangeDecoder implements LineDecoder {
  private fields: readonly string[] | null = null;
  private logType: string | null = null;
  private headerless = false;
  private layout: number | null = null;
  /** The lines of a row whose quoted field has not closed yet. */
  private held: string[] = [];
  private first = true;
  /** Exchange Online: a summary CSV (its header row seen), or JSON objects framed over lines. */
  private summary = false;
  private json: JsonObjectFramer | null = null;

  decode(raw: string): Decoded {
    let line = raw;
    if (this.first) {
      this.first = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1); // 2010 files start with a UTF-8 BOM
    }
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (this.json !== null) return this.jsonLine(line);
    if (this.held.length === 0) {
      if (line.trim() === '') return { type: 'blank' };
      if (line.startsWith('#')) return this.header(line);
      if (this.fields === null && (line.startsWith('{') || line.startsWith('['))) {
        this.json = new JsonObjectFramer();
        return this.jsonLine(line);
      }
      if (this.fields === null && CSV_HEADER.test(line)) return this.csvHeader(line);
    }
    if (this.logType !== null && !/message tracking/i.test(this.logType)) {
      return { type: 'unsupported', envelope: noEnvelope(line, null), daemon: this.logType.toLowerCase().replace(/\s+/g, '-') };
    }
    this.held.push(line);
    const text = this.held.join('\n');
    const row = csvRow(text);
    if (row === null) {
      if (this.held.length >= MAX_RECORD_LINES) {
        this.held = [];
        return { type: 'malformed', reason: `a quoted field not closed within ${MAX_RECORD_LINES} lines` };
      }
      return { type: 'continuation' }; // a quoted field goes on on the next line
    }
    this.held = [];
    return this.row(row, text);
  }

  private header(line: string): Decoded {
    const colon = line.indexOf(':');
    const name = (colon < 0 ? line.slice(1) : line.slice(1, colon)).trim().toLowerCase();
    const value = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (name === 'fields') this.fields = value.split(',').map((f) => f.trim().toLowerCase());
    else if (name === 'log-type') this.logType = value;
    return { type: 'unsupported', envelope: noEnvelope(line, null), daemon: 'header' };
  }

  notes(): string[] {
    if (this.logType !== null && !/message tracking/i.test(this.logType)) return [`an Exchange ${this.logType}, not a message tracking log: its lines are not read as events`];
    return this.headerless && this.layout !== null ? [`no #Fields header: columns taken as the ${this.layout}-field layout (${this.layout === 26 ? 'Exchange 2010' : this.layout === 27 ? 'Exchange 2013' : 'Exchange 2016/2019'}) from the rows' field count`] : [];
  }

  /** Exchange Online's CSV reports start with a header row of snake_case names. */
  private csvHeader(line: string): Decoded {
    const names = (csvRow(line) ?? []).map((n) => n.trim().toLowerCase().replace(/_/g, '-'));
    // The extended report names the tracking columns in snake_case, its time `date_time_utc`.
    this.fields = names.map((n) => (n === 'date-time-utc' ? 'date-time' : n));
    this.summary = this.fields.includes('origin-timestamp-utc');
    return { type: 'unsupported', envelope: noEnvelope(line, null), daemon: 'header' };
  }

  private jsonLine(line: string): Decoded {
    const done = this.json!.feed(line);
    if (done === null) {
      this.json = new JsonObjectFramer();
      return { type: 'malformed', reason: 'not JSON (brackets do not match)' };
    }
    const items: Extract<Decoded, { type: 'record' }>[] = [];
    let bad = 0;
    for (const text of done) {
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch {
        bad++;
        continue;
      }
      const d = o !== null && typeof o === 'object' && !Array.isArray(o) ? jsonObject(o as Record<string, unknown>, text) : null;
      if (d === null || d.type !== 'record') bad++;
      else items.push(d);
    }
    if (items.length === 0) {
      if (bad > 0) return { type: 'malformed', reason: 'a JSON object that is not a message trace row' };
      return this.json!.depth > 0 || line.trim() !== '' ? { type: 'unsupported', envelope: noEnvelope(line, null), daemon: 'json' } : { type: 'blank' };
    }
    return items.length === 1 ? items[0]! : { type: 'many', items };
  }

  private row(cells: string[], line: string): Decoded {
    if (this.summary && this.fields !== null) {
      const f: Record<string, string> = {};
      for (let i = 0; i < this.fields.length; i++) f[this.fields[i]!] = cells[i] ?? '';
      return summaryRow(f, line);
    }
    let fields = this.fields;
    if (fields === null || fields.length !== cells.length) {
      const layout = this.fields === null ? LAYOUT_BY_COUNT[cells.length] : undefined;
      if (layout === undefined) {
        return { type: 'malformed', reason: this.fields === null ? `a row of ${cells.length} fields without a #Fields header (26, 27 or 30 expected)` : `${cells.length} fields where #Fields names ${this.fields.length}` };
      }
      fields = layout;
      this.headerless = true;
      this.layout = cells.length;
    }
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i++) f[fields[i]!] = cells[i] ?? '';
    const time = Date.parse(f['date-time']!.endsWith('Z') ? f['date-time']! : `${f['date-time']}Z`);
    if (Number.isNaN(time)) return { type: 'malformed', reason: `date-time "${(f['date-time'] ?? '').slice(0, 40)}" is not ISO 8601` };
    const eventId = (f['event-id'] ?? '').toUpperCase();
    if (eventId === '') return { type: 'malformed', reason: 'no event-id' };
    const record: ExchangeTrackingRecord = {
      kind: 'exchange.tracking',
      eventId,
      source: (f.source ?? '').toUpperCase(),
      internalMessageId: str(f['internal-message-id']),
      messageId: messageIdOf(f['message-id']),
      networkMessageId: str(f['network-message-id']),
      recipients: list(f['recipient-address']),
      statuses: statusList(f['recipient-status']),
      sender: str(f['sender-address']),
      returnPath: str(f['return-path']),
      client: host(f['client-ip'], f['client-hostname']),
      server: host(f['server-ip'], f['server-hostname']),
      originalClientIp: str(f['original-client-ip']),
      directionality: str(f.directionality),
      totalBytes: num(f['total-bytes']),
      recipientCount: num(f['recipient-count']),
      connectorId: str(f['connector-id']),
      reference: str(f.reference),
      relatedRecipient: str(f['related-recipient-address']),
    };
    const daemon = this.headerless ? `exchange-headerless-${fields.length}` : (record.source === '' ? 'exchange' : record.source.toLowerCase());
    return { type: 'record', envelope: noEnvelope(line, time), daemon, record };
  }
}

/** Rows of the headerless layouts: ISO time first and 26, 27 or 30 comma-separated fields (roughly). */
function looksLikeRow(line: string): boolean {
  if (!ISO_START.test(line)) return false;
  let commas = 0;
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) === 44) commas++;
  return commas >= 25;
}

export const exchangeParser: Parser = {
  format: 'exchange',
  sniff(lines) {
    if (lines.length === 0) return 0;
    const first = lines[0]!.replace(/^\ufeff/, '');
    // The header names its product on its first line; protocol logs too (their rows are then unsupported).
    if (/^#Software: Microsoft Exchange/i.test(first)) return 1;
    if (CSV_HEADER.test(first)) return 1;
    // Get-MessageTrace JSON: its keys show within the first lines, pretty-printed or not.
    if ((first.startsWith('{') || first.startsWith('[')) && lines.some((l) => l.includes('"MessageTraceId"') || (l.includes('"RecipientAddress"') && l.includes('"Status"')) || l.includes('"odata.metadata"'))) return 1;
    let hits = 0;
    for (const l of lines) if (l.startsWith('#Fields: date-time') || looksLikeRow(l.replace(/^\ufeff/, ''))) hits++;
    return hits / lines.length;
  },
  decode(line) {
    // Without per-input state (a single line): the headerless layouts.
    return new ExchangeDecoder().decode(line);
  },
  newDecoder: () => new ExchangeDecoder(),
};
