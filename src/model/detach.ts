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

/**
 * One detached copy per distinct string, for values that repeat across many records (relay names,
 * client IPs, sender domains): a lookup instead of a copy per record, and the shared copy's hash is
 * computed once for every map that keys on it. Bounded: past `max` distinct values it starts over
 * (only sharing is lost, never a value).
 */
export class Interner {
  private readonly map = new Map<string, string>();
  constructor(private readonly max = 50_000) {}

  get(s: string): string {
    let v = this.map.get(s);
    if (v === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      v = detach(s);
      this.map.set(v, v);
    }
    return v;
  }
}
