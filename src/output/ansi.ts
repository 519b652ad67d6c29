/**
 * Terminal colour for the text report: whether to use it (`--color`, NO_COLOR, FORCE_COLOR, a
 * terminal on stdout) and the few SGR styles the report uses. Widths are always measured on the text
 * without escape codes.
 */

/** `--color`: `auto` (the default) colours only a terminal. */
export type ColorMode = 'auto' | 'always' | 'never';

/**
 * Whether to write ANSI colour (default mode `auto`). An explicit `--color always|never` wins, as
 * no-color.org asks of per-invocation arguments. In `auto`: NO_COLOR with any non-empty value turns
 * colour off (no-color.org); FORCE_COLOR turns it on even through a pipe unless it is `0` or `false`
 * (as Node.js and supports-color read it); otherwise colour only when stdout is a terminal that is not
 * TERM=dumb.
 */
export function useColor(mode: ColorMode, stdoutIsTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  if ((env.NO_COLOR ?? '') !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  return stdoutIsTTY && env.TERM !== 'dumb';
}

/** One style: wraps a piece of text in its escape codes, or returns it unchanged when colour is off. */
export type Paint = (text: string) => string;

/** The report's styles, used sparingly: headings bold, onsets and failure counts red or yellow, secondary text dim. */
export interface Palette {
  enabled: boolean;
  bold: Paint;
  dim: Paint;
  red: Paint;
  yellow: Paint;
  boldRed: Paint;
}

const sgr =
  (open: string): Paint =>
  (text) =>
    text === '' ? text : `\x1b[${open}m${text}\x1b[0m`;
const plain: Paint = (text) => text;

/** The palette for colour on or off (off: every style is the identity). */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { enabled, bold: plain, dim: plain, red: plain, yellow: plain, boldRed: plain };
  return { enabled, bold: sgr('1'), dim: sgr('2'), red: sgr('31'), yellow: sgr('33'), boldRed: sgr('1;31') };
}

/** SGR sequences only (the only escapes the report writes): linear, no nested quantifiers. */
const SGR = /\x1b\[[0-9;]*m/g;

/** The text without its colour escapes. */
export function stripAnsi(text: string): string {
  return text.replace(SGR, '');
}

/** Columns a piece of text takes on a terminal: code points, escape codes not counted. */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

/**
 * Log text made safe for a terminal: C0 controls, DEL and C1 controls (ESC, the one-byte CSI
 * U+009B, BEL...) from a log line would be obeyed by the terminal (retitle it, clear it), so they
 * become U+FFFD; tabs and line ends become a space (a tab would also break the width count).
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : '\ufffd'));
}

/** A copy of a JSON-shaped value with every string made printable (for the terminal renderers). */
export function printableDeep<T>(v: T): T {
  if (typeof v === 'string') return printable(v) as T;
  if (Array.isArray(v)) return v.map((x) => printableDeep(x)) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = printableDeep(x);
    return out as T;
  }
  return v;
}
