/**
 * Exim's `KEY=value` log fields (FORMATS.md 2.3): plain values, quoted values (`C="250 OK"`,
 * `DN="CN=x"`), angle-bracketed addresses (`F=<a@example.com>`), and the host field, which has
 * spaces: `H=name (helo) [ip]:port`, `H=(helo) [ip]`, `H=[ip]`. A field list ends at the text that
 * follows it: `: SMTP error ...`, ` : mailbox retired`, or a token that is not a field.
 */
import type { EximHost } from '../../src/model/records.js';

/** Where the `KEY=value` fields go: a Map (parseFields), or a record of the few a decoder reads. */
export interface FieldSink {
  set(name: string, value: string): unknown;
}

export interface Fields<V extends FieldSink = Map<string, string>> {
  values: V;
  host: EximHost | null;
  /** Text after the fields (after `: ` or ` : `), null when the line ends with the fields. */
  text: string | null;
  /** Tokens that were not fields, in order (addresses, `defer`, `(-44)`). */
  words: string[];
}

/**
 * The length of a field name at `i` (`[A-Za-z]{1,3}` followed by `=`), or 0: what `^([A-Za-z]{1,3})=`
 * matches, without a slice and a regex per token.
 */
function keyAt(s: string, i: number): number {
  let n = 0;
  while (n < 4) {
    const c = s.charCodeAt(i + n);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) break;
    n++;
  }
  return n >= 1 && n <= 3 && s.charCodeAt(i + n) === 61 /* = */ ? n : 0;
}

/** Octal escapes (`\303\251`) as UTF-8, and `\\` as `\`; Exim escapes non-printing bytes so. */
export function decodeEscapes(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/(?:\\[0-7]{3})+|\\\\/g, (run) => {
    if (run === '\\\\') return '\\';
    const bytes = run
      .slice(1)
      .split('\\')
      .map((o) => parseInt(o, 8));
    return Buffer.from(bytes).toString('utf8');
  });
}

/** Set by parseHost: the host field ended with the `:` that starts the text (`H=[ip]: SMTP error`). */
let hostColon = false;

/**
 * Parses the host field starting at `i` (just after `H=`) into `host`; returns the index after it and
 * sets `hostColon` (a flag rather than a result object: this runs for most lines).
 */
function parseHost(s: string, i: number, host: EximHost): number {
  hostColon = false;
  const n = s.length;
  let j = i;
  let c = s.charCodeAt(j);
  if (c !== 40 /* ( */ && c !== 91 /* [ */) {
    let k = s.indexOf(' ', j);
    if (k < 0) k = n;
    j = k;
    if (s.charCodeAt(k - 1) === 58 /* : */ && k > i) {
      host.name = s.slice(i, k - 1);
      hostColon = true;
      return j;
    }
    host.name = s.slice(i, k);
    c = s.charCodeAt(j + 1);
    if (s.charCodeAt(j) === 32 && (c === 40 || c === 91)) j++;
    else return j;
  }
  if (s.charCodeAt(j) === 40) {
    const close = s.indexOf(')', j);
    if (close < 0) return n;
    host.helo = s.slice(j + 1, close);
    j = close + 1;
    if (s.charCodeAt(j) === 32 && s.charCodeAt(j + 1) === 91) j++;
    else return j;
  }
  if (s.charCodeAt(j) === 91) {
    let k = j + 1;
    c = s.charCodeAt(k);
    while (k < n && c !== 93 /* ] */ && c !== 32) c = s.charCodeAt(++k);
    if (c === 93) {
      host.ip = s.slice(j + 1, k);
      j = k + 1;
      // `:port`, up to five digits, as `^:(\d{1,5})` reads it.
      if (s.charCodeAt(j) === 58) {
        let port = 0;
        let d = 0;
        for (; d < 5; d++) {
          const digit = s.charCodeAt(j + 1 + d) - 48;
          if (!(digit >= 0 && digit <= 9)) break; // NaN past the end
          port = port * 10 + digit;
        }
        if (d > 0) {
          host.port = port;
          j += 1 + d;
        }
      }
    } else {
      // A logged line that lost its `]` (`[203.0.113.4: SMTP error ...`).
      const colon = k > j + 1 && s.charCodeAt(k - 1) === 58;
      host.ip = s.slice(j + 1, colon ? k - 1 : k);
      hostColon = colon;
      return k;
    }
  }
  return j;
}

/** The fields read so far, with the text that starts at `at`. */
function withText<V extends FieldSink>(values: V, host: EximHost | null, words: string[], s: string, at: number): Fields<V> {
  return { values, host, text: decodeEscapes(s.slice(at)), words };
}

/** Reads fields and words from `s` until the text that follows them; the fields as a Map. */
export function parseFields(s: string): Fields {
  return scanFields(s, 0, new Map<string, string>());
}

/**
 * parseFields on `s` from `from` on (no slice of the body), with the fields given to `values` in order (a later field of the same name replaces an
 * earlier one, as in a Map). The decoders pass a DecoderFields: most lines carry fields nobody reads
 * (`X=`, `CV=`, `DN=`, `I=`), and a Map per line was a tenth of the decode time.
 */
export function scanFields<V extends FieldSink>(s: string, from: number, values: V): Fields<V> {
  const words: string[] = [];
  let host: EximHost | null = null;
  const n = s.length;
  let i = from;
  while (i < n) {
    while (s.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const c = s.charCodeAt(i);
    if (c === 58 /* : */ && s.charCodeAt(i + 1) === 32) return withText(values, host, words, s, i + 2);
    const keyLength = keyAt(s, i);
    if (keyLength > 0) {
      let j = i + keyLength + 1;
      if (keyLength === 1 && c === 72 /* H */) {
        host = { name: null, helo: null, ip: null, port: null };
        const end = parseHost(s, j, host);
        if (hostColon) return withText(values, host, words, s, end + (s.charCodeAt(end) === 32 ? 1 : 0));
        i = end;
        continue;
      }
      const name = s.slice(i, i + keyLength);
      let value: string;
      const open = s.charCodeAt(j);
      if (open === 34 /* " */) {
        // The closing quote is the first one not escaped with a backslash.
        let k = s.indexOf('"', j + 1);
        while (k >= 0 && s.charCodeAt(k - 1) === 92 /* \ */) k = s.indexOf('"', k + 1);
        if (k < 0) k = n;
        value = s.slice(j + 1, k);
        j = k + 1;
      } else if (open === 60 /* < */) {
        const k = s.indexOf('>', j);
        value = k < 0 ? s.slice(j) : s.slice(j, k + 1);
        j = k < 0 ? n : k + 1;
      } else {
        let k = s.indexOf(' ', j);
        if (k < 0) k = n;
        j = k;
        // `R=retired : ...` has its colon apart; `T=remote_smtp: SMTP error ...` ends the fields.
        if (k > i + keyLength + 1 && s.charCodeAt(k - 1) === 58) {
          values.set(name, s.slice(i + keyLength + 1, k - 1));
          return withText(values, host, words, s, j + 1);
        }
        value = s.slice(i + keyLength + 1, k);
      }
      values.set(name, value);
      i = j;
      if (s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 32) return withText(values, host, words, s, i + 2);
      continue;
    }
    // A word that is not a field: an address, `<orig>`, `defer`, `(-44):`.
    let k: number;
    if (c === 60 /* < */) {
      const close = s.indexOf('>', i);
      k = close < 0 ? n : close + 1;
    } else {
      k = s.indexOf(' ', i);
      if (k < 0) k = n;
    }
    if (s.charCodeAt(k - 1) === 58 /* : */) {
      if (k - 1 > i) words.push(s.slice(i, k - 1));
      return withText(values, host, words, s, k + 1);
    }
    words.push(s.slice(i, k));
    i = k;
  }
  return { values, host, text: null, words };
}

/**
 * The fields the decoders (index.ts) read, null when absent: `R=` router (or a bounce's parent ID),
 * `T=` transport, `C=` confirmation, `U=` user, `P=` protocol, `S=` size, `id=` Message-ID, `F=`
 * sender. The others are scanned past and dropped. A new reader of a field adds it here.
 */
export class DecoderFields implements FieldSink {
  R: string | null = null;
  T: string | null = null;
  C: string | null = null;
  U: string | null = null;
  P: string | null = null;
  S: string | null = null;
  id: string | null = null;
  F: string | null = null;

  set(name: string, value: string): void {
    switch (name) {
      case 'R':
        this.R = value;
        break;
      case 'T':
        this.T = value;
        break;
      case 'C':
        this.C = value;
        break;
      case 'U':
        this.U = value;
        break;
      case 'P':
        this.P = value;
        break;
      case 'S':
        this.S = value;
        break;
      case 'id':
        this.id = value;
        break;
      case 'F':
        this.F = value;
        break;
      default:
        break;
    }
  }
}
