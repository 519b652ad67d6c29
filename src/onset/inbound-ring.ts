/**
 * The latest inbound refusals of one subtype, read when its count detector finds an onset (which
 * client sent most of them, how many distinct recipients). A relay under a spam run refuses
 * hundreds a minute, so they live in typed arrays (16 bytes and a shared client string each)
 * instead of an object with its own copy of the client IP (about 100 bytes).
 *
 * It keeps what the list it replaces kept: entries are appended, and past `max` only the latest
 * `keep` stay (so between `keep` and `max` of them, oldest first).
 */
export interface InboundEntry {
  minute: number;
  client: string;
  /** A hash of the recipient address, null when the refusal named none. */
  recipient: number | null;
}

export class InboundRing {
  private readonly minutes: Float64Array;
  /** Recipient hashes; NaN for none. */
  private readonly recipients: Float64Array;
  private readonly clients: string[];
  /** Entries ever pushed, and the number of the oldest one kept. */
  private end = 0;
  private start = 0;

  constructor(
    private readonly max = 20_000,
    private readonly keep = 10_000,
  ) {
    if (!Number.isInteger(max) || !Number.isInteger(keep) || keep < 1 || keep > max) throw new RangeError(`InboundRing needs 1 <= keep <= max, got keep ${keep}, max ${max}`);
    this.minutes = new Float64Array(max);
    this.recipients = new Float64Array(max);
    this.clients = new Array<string>(max).fill('');
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Appends a refusal; `client` should be a shared string (an interned one), it is kept as given. */
  push(minute: number, client: string, recipient: number | null): void {
    const slot = this.end % this.max;
    this.minutes[slot] = minute;
    this.recipients[slot] = recipient === null ? NaN : recipient;
    this.clients[slot] = client;
    this.end++;
    if (this.end - this.start > this.max) this.start = this.end - this.keep;
  }

  /** The kept entries with `from <= minute <= to`, oldest first. */
  window(from: number, to: number): InboundEntry[] {
    const out: InboundEntry[] = [];
    for (let n = this.start; n < this.end; n++) {
      const slot = n % this.max;
      const minute = this.minutes[slot]!;
      if (minute < from || minute > to) continue;
      const r = this.recipients[slot]!;
      out.push({ minute, client: this.clients[slot]!, recipient: Number.isNaN(r) ? null : r });
    }
    return out;
  }
}
