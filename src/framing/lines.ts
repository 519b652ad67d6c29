/**
 * Line framing on bytes: LF or CRLF endings, a leading BOM removed, UTF-8 decoded per line (invalid
 * bytes become U+FFFD and cannot spill into the next line), line numbers and exact byte offsets
 * counted, over-long lines truncated to a cap (counted, never dropped), and a partial last line held
 * until its newline arrives (what `tail` needs) or the input ends.
 *
 * Why not split2 here: resuming a followed file and giving every event a deterministic id both need
 * the byte offset of each line, and a text splitter only knows characters (an invalid byte becomes a
 * three-byte U+FFFD, so counting back drifts). Working on bytes gives exact offsets and is faster:
 * `Buffer.indexOf` finds newlines natively and each line is decoded once. split2 frames the text
 * streams that need no offsets (`explain --lines` on standard input).
 */
import { detach } from '../model/detach.js';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/**
 * Longest line kept whole (256 KiB). Syslog daemons cut lines at 8 KiB by default and Postfix's own
 * lines stay well under 4 KiB; the cap only bounds garbage such as a binary file given by mistake.
 */
export const MAX_LINE_LENGTH = 256 * 1024;

/** Bytes of the first line that identify a source (see `sourceIdentity`). */
const IDENTITY_BYTES = 1024;

export interface Line {
  text: string;
  /** 1-based. */
  number: number;
  /** Byte offset of the line's first byte in its source (after decompression). */
  offset: number;
  /** Byte offset just past the line's terminator: where reading resumes after this line. */
  end: number;
  truncated: boolean;
}

/**
 * A copy of a string that does not share memory with a larger parent (V8 makes substrings of long
 * strings views of their parent, so one retained slice keeps the whole parent alive).
 * Concatenating then slicing makes a flat copy.
 */
export function ownString(s: string): string {
  return detach(s);
}

/**
 * The identity of a source: a hash of its first line's first bytes (at most 1 KiB). A renamed,
 * rotated or compressed copy of a log has the same first line, so its events keep their ids, and a
 * re-created or truncated file gets a new identity.
 */
export function sourceIdentity(firstLineBytes: Buffer): string {
  return createHash('sha256').update(firstLineBytes.subarray(0, IDENTITY_BYTES)).digest('hex').slice(0, 16);
}

/** Splits a byte stream into lines; push chunks in order, then `end()`. */
export class LineSplitter {
  /** Pieces of the current partial line (only its first `maxLength` bytes are kept). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes of the current partial line beyond the cap: skipped, still counted for offsets. */
  private skipped = 0;
  /** Offset of the current partial line's first byte. */
  private lineStart: number;
  private number: number;
  /** Identity of the source, known once the first line is complete (null before). */
  identity: string | null = null;

  constructor(
    start: { offset: number; number: number; identity?: string | null } = { offset: 0, number: 0 },
    private readonly maxLength = MAX_LINE_LENGTH,
  ) {
    this.lineStart = start.offset;
    this.number = start.number;
    if (start.identity !== undefined) this.identity = start.identity;
  }

  /** Bytes held for a line whose newline has not come yet. */
  get pendingBytes(): number {
    return this.heldBytes + this.skipped;
  }

  /** Where the partial line starts: everything before it was returned as lines. */
  get offset(): number {
    return this.lineStart;
  }

  /** Lines completed so far. */
  get lines(): number {
    return this.number;
  }

  /** Takes the next chunk; returns the lines it completes. */
  push(chunk: Buffer): Line[] {
    const out: Line[] = [];
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) break;
      out.push(this.complete(chunk, pos, nl, nl + 1 - pos));
      pos = nl + 1;
    }
    if (pos < chunk.length) this.hold(chunk, pos, chunk.length);
    return out;
  }

  /** The last line when the input ends without a newline, or null. */
  end(): Line | null {
    if (this.heldBytes + this.skipped === 0) return null;
    return this.complete(Buffer.alloc(0), 0, 0, 0);
  }

  /** Forgets a partial line (a truncated file restarts): returns how many bytes were dropped. */
  reset(offset: number): number {
    const dropped = this.heldBytes + this.skipped;
    this.held = [];
    this.heldBytes = 0;
    this.skipped = 0;
    this.lineStart = offset;
    if (offset === 0) {
      this.number = 0;
      this.identity = null;
    }
    return dropped;
  }

  private hold(chunk: Buffer, from: number, to: number): void {
    const room = this.maxLength + 1 - this.heldBytes; // one byte more than the cap marks truncation
    const take = Math.min(room, to - from);
    if (take > 0) {
      // Copy: the chunk's memory is reused by the reader.
      this.held.push(Buffer.from(chunk.subarray(from, from + take)));
      this.heldBytes += take;
    }
    this.skipped += to - from - Math.max(take, 0);
  }

  /** Builds the line from what is held plus chunk[from, to); `terminator` bytes follow it in the chunk. */
  private complete(chunk: Buffer, from: number, to: number, consumed: number): Line {
    // The line is bytes[base, base + len): the chunk itself when nothing is held (no Buffer object
    // per line: the text is decoded straight from the chunk), else the held pieces joined.
    let bytes = chunk;
    let base = from;
    let len = to - from;
    let total: number;
    if (this.heldBytes + this.skipped === 0) {
      total = consumed;
    } else {
      this.hold(chunk, from, to);
      bytes = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
      base = 0;
      len = bytes.length;
      total = this.heldBytes + this.skipped + (consumed - (to - from));
      this.held = [];
      this.heldBytes = 0;
      this.skipped = 0;
    }
    const truncated = len > this.maxLength;
    if (truncated) len = this.maxLength;
    else if (len > 0 && bytes[base + len - 1] === 13) len--; // CRLF
    this.number++;
    if (this.number === 1 && this.identity === null) this.identity = sourceIdentity(bytes.subarray(base, base + len));
    let start = base;
    if (this.number === 1 && len >= 3 && bytes[base] === 0xef && bytes[base + 1] === 0xbb && bytes[base + 2] === 0xbf) start += 3;
    const line: Line = {
      text: bytes.toString('utf8', start, base + len),
      number: this.number,
      offset: this.lineStart,
      end: this.lineStart + total,
      truncated,
    };
    this.lineStart += total;
    return line;
  }
}

/**
 * Reads a byte stream as batches of lines (one batch per chunk: one await per chunk, not per line).
 * `accept` sees the first chunk and may refuse the input (a binary file): then nothing is read.
 */
export async function* readLineBatches(
  stream: Readable,
  splitter = new LineSplitter(),
  accept?: (first: Buffer) => boolean,
): AsyncGenerator<Line[]> {
  let first = true;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    if (first && accept !== undefined && !accept(buf)) return;
    first = false;
    const lines = splitter.push(buf);
    if (lines.length > 0) yield lines;
  }
  const last = splitter.end();
  if (last !== null) yield [last];
}
