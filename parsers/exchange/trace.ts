/**
 * Exchange Online message trace exports (FORMATS.md 3.2), read by the Exchange decoder:
 * - the admin-centre / historical-search summary CSV: a header row of snake_case names, one row per
 *   message, `recipient_status` = `alice@example.com##Receive, Deliver;bob@example.net##Receive, Fail`;
 * - Get-MessageTrace / reporting web service JSON: `{"odata.metadata": ..., "value": [ {...}, ... ]}`,
 *   pretty-printed over many lines or not, one object per recipient. Objects are framed here by a
 *   string-aware scan of brackets over the lines (each object inside an array is one record); the
 *   structural lines around them are accounted as `json` lines.
 * (The extended per-event report has the on-premises tracking columns in snake_case: the tracking
 * decoder reads it once its header row is normalised, see exchange/index.ts.)
 */
import type { Decoded, Envelope, ExchangeTraceRecord } from '../../src/model/records.js';

const PROGRAM = 'ExchangeOnline';

/** The envelope of an Exchange row: its own time only (the log names no host or process). */
export const envelope = (message: string, epochMs: number | null, program = PROGRAM): Envelope => ({
  time: epochMs === null ? { kind: 'none' } : { kind: 'absolute', epochMs },
  host: null,
  program,
  pid: null,
  container: null,
  message,
});

/** `2023-06-14T09:21:47.1234567` (7 fraction digits, sometimes without `Z`: UTC), or US admin-centre dates. */
export function traceTime(v: unknown): number | null {
  if (typeof v !== 'string' || v === '') return null;
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(v.trim());
  if (m !== null) {
    const ms = m[3] === undefined ? '' : `.${m[3].slice(0, 3).padEnd(3, '0')}`;
    const t = Date.parse(`${m[1]}T${m[2]}${ms}${m[4] ?? 'Z'}`);
    return Number.isNaN(t) ? null : t;
  }
  const t = Date.parse(v.includes('Z') || /[+-]\d\d:?\d\d$/.test(v) ? v : `${v} UTC`);
  return Number.isNaN(t) ? null : t;
}

const angle = (v: string | null) => (v !== null && v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1) : v);

/** A summary CSV row (fields by the header's normalised names) as a trace record. */
export function summaryRow(f: Readonly<Record<string, string>>, line: string): Decoded {
  const time = traceTime(f['origin-timestamp-utc'] ?? f['date-time'] ?? '');
  if (time === null) return { type: 'malformed', reason: 'no origin_timestamp_utc in ISO 8601' };
  const recipients: ExchangeTraceRecord['recipients'] = [];
  for (const cell of (f['recipient-status'] ?? '').split(';')) {
    const [address, events] = cell.split('##');
    if (address === undefined || address.trim() === '') continue;
    const steps = (events ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
    recipients.push({ address: address.trim(), status: steps.at(-1) ?? 'Unknown', detail: null });
  }
  const record: ExchangeTraceRecord = {
    kind: 'exchange.trace',
    messageId: angle(f['message-id'] || null),
    traceId: f['network-message-id'] || null,
    sender: f['sender-address'] || null,
    recipients,
    fromIp: f['original-client-ip'] || null,
    toIp: null,
    directionality: f.directionality || null,
    size: /^\d+$/.test(f['total-bytes'] ?? '') ? Number(f['total-bytes']) : null,
  };
  return { type: 'record', envelope: envelope(line, time), daemon: 'message-trace-summary', record };
}

/** One Get-MessageTrace object as a trace record (null when it is not one). */
export function jsonObject(o: Record<string, unknown>, text: string): Decoded | null {
  const recipient = o.RecipientAddress;
  if (typeof recipient !== 'string' || typeof o.Status !== 'string') return null;
  const s = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : null);
  const record: ExchangeTraceRecord = {
    kind: 'exchange.trace',
    messageId: angle(s('MessageId')),
    traceId: s('MessageTraceId'),
    sender: s('SenderAddress'),
    recipients: [{ address: recipient, status: o.Status, detail: s('Detail') }],
    fromIp: s('FromIP'),
    toIp: s('ToIP'),
    directionality: s('Directionality'),
    size: typeof o.Size === 'number' ? o.Size : null,
  };
  const time = traceTime(o.Received);
  return { type: 'record', envelope: envelope(text.length > 2000 ? text.slice(0, 2000) : text, time), daemon: 'message-trace-json', record };
}

/**
 * Frames JSON objects that sit in arrays, over lines: `feed` takes one line and returns the objects
 * completed on it (their text), or null when the scan cannot go on (not JSON after all).
 */
export class JsonObjectFramer {
  /** Open containers: `{` or `[`. */
  private readonly stack: string[] = [];
  private inString = false;
  private escape = false;
  /** Depth at which the captured object started, and its text so far. */
  private captureDepth = -1;
  private capture = '';

  get depth(): number {
    return this.stack.length;
  }

  feed(line: string): string[] | null {
    const done: string[] = [];
    let start = this.captureDepth >= 0 ? 0 : -1;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === '\\') this.escape = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') {
        if (c === '{' && this.captureDepth < 0 && this.stack.at(-1) === '[') {
          this.captureDepth = this.stack.length;
          start = i;
        }
        this.stack.push(c);
      } else if (c === '}' || c === ']') {
        if (this.stack.pop() !== (c === '}' ? '{' : '[')) return null;
        if (c === '}' && this.stack.length === this.captureDepth) {
          done.push(this.capture + line.slice(start, i + 1));
          this.capture = '';
          this.captureDepth = -1;
          start = -1;
        }
      }
    }
    if (this.captureDepth >= 0) this.capture += `${line.slice(Math.max(0, start))}\n`;
    if (this.capture.length > 1 << 20) return null; // one object over 1 MiB: not a message trace
    return done;
  }
}
