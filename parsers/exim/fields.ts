/**
 * Exim's `KEY=value` log fields (FORMATS.md 2.3): plain values, quoted values (`C="250 OK"`,
 * `DN="CN=x"`), angle-bracketed addresses (`F=<a@example.com>`), and the host field, which has
 * spaces: `H=name (helo) [ip]:port`, `H=(helo) [ip]`, `H=[ip]`. A field list ends at the text that
 * follows it: `: SMTP error ...`, ` : mailbox retired`, or a token that is not a field.
 */
import type { EximHost } from '../../src/model/records.js';

export interface Fields {
  values: Map<string, string>;
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

/** Parses the host field starting at `i` (just after `H=`); returns the host and the index after it. */
function parseHost(s: string, i: number): { host: EximHost; end: number; colon: boolean } {
  const host: EximHost = { name: null, helo: null, ip: null, port: null };
  let j = i;
  if (s[j] !== '(' && s[j] !== '[') {
    let k = j;
    while (k < s.length && s[k] !== ' ') k++;
    host.name = s.slice(j, k);
    j = k;
    if (host.name.endsWith(':')) {
      host.name = host.name.slice(0, -1);
      return { host, end: j, colon: true };
    }
    if (s[j] === ' ' && (s[j + 1] === '(' || s[j + 1] === '[')) j++;
    else return { host, end: j, colon: false };
  }
  if (s[j] === '(') {
    const close = s.indexOf(')', j);
    if (close < 0) return { host, end: s.length, colon: false };
    host.helo = s.slice(j + 1, close);
    j = close + 1;
    if (s[j] === ' ' && s[j + 1] === '[') j++;
    else return { host, end: j, colon: false };
  }
  if (s[j] === '[') {
    let k = j + 1;
    while (k < s.length && s[k] !== ']' && s[k] !== ' ') k++;
    if (s[k] === ']') {
      host.ip = s.slice(j + 1, k);
      j = k + 1;
      const port = /^:(\d{1,5})/.exec(s.slice(j, j + 6));
      if (port !== null) {
        host.port = Number(port[1]);
        j += port[0].length;
      }
    } else {
      // A logged line that lost its `]` (`[203.0.113.4: SMTP error ...`).
      let ip = s.slice(j + 1, k);
      const colon = ip.endsWith(':');
      if (colon) ip = ip.slice(0, -1);
      host.ip = ip;
      return { host, end: k, colon };
    }
  }
  return { host, end: j, colon: false };
}

/** Reads fields and words from `s` until the text that follows them. */
export function parseFields(s: string): Fields {
  const values = new Map<string, string>();
  const words: string[] = [];
  let host: EximHost | null = null;
  let i = 0;
  const textAt = (j: number): Fields => ({ values, host, text: decodeEscapes(s.slice(j)), words });
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    if (s.startsWith(': ', i)) return textAt(i + 2);
    const keyLength = keyAt(s, i);
    if (keyLength > 0) {
      const name = s.slice(i, i + keyLength);
      let j = i + keyLength + 1;
      if (name === 'H') {
        const h = parseHost(s, j);
        host = h.host;
        if (h.colon) return textAt(h.end + (s[h.end] === ' ' ? 1 : 0));
        i = h.end;
        continue;
      }
      let value: string;
      if (s[j] === '"') {
        let k = j + 1;
        while (k < s.length && !(s[k] === '"' && s[k - 1] !== '\\')) k++;
        value = s.slice(j + 1, k);
        j = k + 1;
      } else if (s[j] === '<') {
        const k = s.indexOf('>', j);
        value = k < 0 ? s.slice(j) : s.slice(j, k + 1);
        j = k < 0 ? s.length : k + 1;
      } else {
        let k = s.indexOf(' ', j);
        if (k < 0) k = s.length;
        value = s.slice(j, k);
        j = k;
        if (value.endsWith(':') && (j >= s.length || s[j] === ' ')) {
          values.set(name, value.slice(0, -1));
          return textAt(j + 1);
        }
      }
      values.set(name, value);
      i = j;
      if (s[i] === ':' && s[i + 1] === ' ') return textAt(i + 2);
      continue;
    }
    // A word that is not a field: an address, `<orig>`, `defer`, `(-44):`.
    let k = i;
    if (s[i] === '<') {
      const close = s.indexOf('>', i);
      k = close < 0 ? s.length : close + 1;
    } else {
      k = s.indexOf(' ', i);
      if (k < 0) k = s.length;
    }
    let word = s.slice(i, k);
    if (word.endsWith(':') && (k >= s.length || s[k] === ' ')) {
      word = word.slice(0, -1);
      if (word !== '') words.push(word);
      return textAt(k + 1);
    }
    words.push(word);
    i = k;
  }
  return { values, host, text: null, words };
}
