/**
 * A copy of `s` that does not keep the line it was cut from alive. V8 represents a substring of 13
 * or more characters (a regex group, a slice) as a view into its parent string, so a domain name
 * kept for hours in a long-lived table holds its whole log line (about 250 bytes) with it: seen as
 * 27,000 retained NOQUEUE lines in a heap snapshot of the onset engine. Concatenating forces a flat
 * copy, of which the result is a view that holds that copy only.
 * Use it for strings that outlive the line by far (series, watch tables), not on every line.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1);
}
