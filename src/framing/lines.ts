/**
 * Line framing with split2: UTF-8 decoded safely across chunks (invalid bytes become U+FFFD),
 * LF or CRLF endings, a leading BOM removed, line numbers counted, and over-long lines truncated to
 * a cap (counted, never dropped).
 */
import type { Readable } from 'node:stream';
import split2 from 'split2';

/**
 * Longest line kept whole (256 KiB). Syslog daemons cut lines at 8 KiB by default and Postfix's own
 * lines stay well under 4 KiB; the cap only bounds garbage such as a binary file given by mistake.
 */
export const MAX_LINE_LENGTH = 256 * 1024;

export interface Line {
  text: string;
  /** 1-based. */
  number: number;
  truncated: boolean;
}

/**
 * A copy of a line that does not share memory with split2's decoded chunk. V8 makes substrings of
 * long strings as views of their parent, so one retained line (an event's reply, an example in the
 * report) would keep its whole 256 KiB chunk alive: measured 4 KiB retained per event before this.
 * Concatenating then slicing makes a flat copy.
 */
export function ownString(s: string): string {
  return (' ' + s).slice(1);
}

export async function* readLines(stream: Readable, maxLength = MAX_LINE_LENGTH): AsyncGenerator<Line> {
  const splitter = split2(/\r?\n/);
  stream.on('error', (e) => splitter.destroy(e));
  stream.pipe(splitter);
  let number = 0;
  for await (const chunk of splitter) {
    let text = ownString(chunk as string);
    number++;
    if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let truncated = false;
    if (text.length > maxLength) {
      text = text.slice(0, maxLength);
      truncated = true;
    }
    yield { text, number, truncated };
  }
}
