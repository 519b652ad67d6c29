import type { Decoded } from './records.js';

/** Input formats mta550 reads. */
export type Format = 'postfix' | 'exim';

/** A format's parser: a cheap sniffer and a pure, never-throwing decoder (STYLE.md habit 2). */
export interface Parser {
  readonly format: Format;
  /** Fraction (0..1) of the sample lines this parser recognises as its own. */
  sniff(lines: readonly string[]): number;
  /** Decodes one line (already without its line ending). */
  decode(line: string): Decoded;
}
