import type { Decoded } from './records.js';

/** Input formats mta550 reads. */
export type Format = 'postfix' | 'exim' | 'exchange' | 'app';

/** A format's parser: a cheap sniffer and a pure, never-throwing decoder (STYLE.md habit 2). */
export interface Parser {
  readonly format: Format;
  /** Fraction (0..1) of the sample lines this parser recognises as its own. */
  sniff(lines: readonly string[]): number;
  /** Decodes one line (already without its line ending). */
  decode(line: string): Decoded;
  /**
   * A decoder for one input, for formats whose lines depend on the lines before them (Exchange's
   * `#Fields` header, CSV fields over line ends); without it `decode` serves every input.
   */
  newDecoder?(): LineDecoder;
  /**
   * Units span lines (stack traces, tracebacks): the pipeline assembles them with the multi-line
   * framer (src/framing/multiline.ts) and hands `decode` one unit, its lines joined with `\n`.
   */
  readonly multiline?: boolean;
}

export interface LineDecoder {
  decode(line: string): Decoded;
  /** What the run summary should say about this input (a layout guessed without a header). */
  notes?(): string[];
}
