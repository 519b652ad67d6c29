/**
 * Character tests the hand-written scanners of several parsers share (on UTF-16 code units, as
 * `charCodeAt` gives them; NaN past the end of a string is none of these).
 */

/** `[0-9]`. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `[0-9A-Za-z]` (also Exim's base-62 ID alphabet). */
export function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * True when `line.trim()` would leave nothing. Only a line that starts with white space (a code up
 * to 32, or a non-ASCII space) can be blank, so most lines are answered by their first character,
 * without a trimmed copy.
 */
export function isBlankLine(line: string): boolean {
  const first = line.charCodeAt(0);
  return line.length === 0 || ((first <= 32 || first >= 160) && line.trim().length === 0);
}
