/**
 * `--redact local-parts|addresses|subjects`: personal data hashed or removed consistently in every
 * record written (events, onsets, attempts, groups), in fields and inside texts (replies, raw lines,
 * summaries). A hash keeps grouping possible: the same address gives the same token in every run
 * with the same `--redact-salt` (or MTA550_REDACT_SALT). Recipient domains stay: they are what
 * mta550 groups by.
 *
 * - local-parts: `jane.doe@example.com` -> `h-3f9a1c2b7d4e@example.com`
 * - addresses:   `jane.doe@example.com` -> `h-8c1d0e9f2a3b` (the domain stays in its own field)
 * - subjects:    `Subject: ...` in Postfix header/body check lines and Exim's `T="..."` -> `[redacted]`
 */
import { createHash } from 'node:crypto';
import type { ReportGroup } from '../aggregate/report.js';
import { Mta550Error } from '../errors.js';
import type { DeliveryAttempt, RejectionEvent } from '../model/event.js';
import type { OnsetRecord } from '../onset/engine.js';
import type { Finding } from '../findings/types.js';

export type RedactMode = 'local-parts' | 'addresses' | 'subjects';
export const REDACT_MODES: readonly RedactMode[] = ['local-parts', 'addresses', 'subjects'];

const LOCAL_CHARS = new Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~.-");
const DOMAIN_CHARS = new Set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-');

/**
 * Replaces each address inside free text (a local part, `@`, a dotted domain, as mail logs write
 * them). A scan around each `@` rather than a regex: linear in the text whatever it holds.
 */
function replaceAddresses(s: string, f: (address: string) => string): string {
  let out = '';
  let from = 0;
  for (let at = s.indexOf('@'); at >= 0; at = s.indexOf('@', at + 1)) {
    if (at < from) continue;
    let a = at;
    while (a > from && LOCAL_CHARS.has(s[a - 1]!)) a--;
    let b = at + 1;
    while (b < s.length && DOMAIN_CHARS.has(s[b]!)) b++;
    while (b > at + 1 && (s[b - 1] === '.' || s[b - 1] === '-')) b--; // a sentence's full stop
    const domain = s.slice(at + 1, b);
    if (a === at || !domain.includes('.')) continue;
    out += s.slice(from, a) + f(s.slice(a, b));
    from = b;
  }
  return out + s.slice(from);
}

/** Postfix header/body check lines: `Subject: ... from host[ip];` (or to the end); Exim's `T="..."`. */
function removeSubjects(s: string): string {
  let out = s;
  const lower = out.toLowerCase();
  const i = lower.indexOf('subject:');
  if (i >= 0) {
    const start = i + 'subject:'.length;
    // The check line goes on with ` from client[ip]; from=<...>`: keep that part.
    let end = out.length;
    for (let j = out.indexOf(' from ', start); j >= 0; j = out.indexOf(' from ', j + 1)) {
      const close = out.indexOf('];', j);
      const open = out.indexOf('[', j);
      if (open >= 0 && close > open && !out.slice(j + 6, open).includes(' ')) {
        end = j;
        break;
      }
    }
    out = `${out.slice(0, start)} [redacted]${out.slice(end)}`;
  }
  const t = out.indexOf(' T="');
  if (t >= 0) {
    let k = t + 4;
    while (k < out.length && out[k] !== '"') k += out[k] === '\\' ? 2 : 1;
    out = `${out.slice(0, t)} T="[redacted]"${out.slice(Math.min(out.length, k + 1))}`;
  }
  return out;
}

export function parseRedact(values: readonly string[]): Set<RedactMode> {
  const out = new Set<RedactMode>();
  for (const v of values.flatMap((x) => x.split(','))) {
    const k = v.trim();
    if (!(REDACT_MODES as readonly string[]).includes(k)) throw new Mta550Error('usage', `--redact: "${k}" is not one of ${REDACT_MODES.join(', ')}`);
    out.add(k as RedactMode);
  }
  if (out.has('local-parts') && out.has('addresses')) out.delete('local-parts'); // addresses hides more
  return out;
}

export class Redactor {
  private readonly memo = new Map<string, string>();

  constructor(
    private readonly modes: ReadonlySet<RedactMode>,
    private readonly salt = '',
  ) {}

  private token(value: string): string {
    let t = this.memo.get(value);
    if (t === undefined) {
      t = `h-${createHash('sha256').update(this.salt).update('\0').update(value.toLowerCase()).digest('hex').slice(0, 12)}`;
      if (this.memo.size > 100_000) this.memo.clear();
      this.memo.set(value, t);
    }
    return t;
  }

  /** One address (or the null sender, which stays empty). */
  address(a: string): string;
  address(a: string | null): string | null;
  address(a: string | null): string | null {
    if (a === null || a === '') return a;
    const at = a.lastIndexOf('@');
    if (this.modes.has('addresses')) return this.token(a);
    if (this.modes.has('local-parts')) return at < 0 ? this.token(a) : `${this.token(a.slice(0, at))}${a.slice(at)}`;
    return a;
  }

  text(s: string): string;
  text(s: string | null): string | null;
  text(s: string | null): string | null {
    if (s === null) return s;
    let out = s;
    if (this.modes.has('addresses') || this.modes.has('local-parts')) out = replaceAddresses(out, (m) => this.address(m));
    if (this.modes.has('subjects')) out = removeSubjects(out);
    return out;
  }

  event(e: RejectionEvent): RejectionEvent {
    return {
      ...e,
      sender: this.address(e.sender),
      recipient: this.address(e.recipient),
      originalRecipient: this.address(e.originalRecipient),
      reply: this.text(e.reply),
      raw: this.text(e.raw),
      message:
        e.message === null
          ? null
          : { ...e.message, otherRecipients: e.message.otherRecipients.map((r) => ({ ...r, address: this.address(r.address) })) },
      classification: e.classification === null ? null : { ...e.classification, text: this.text(e.classification.text), detail: this.text(e.classification.detail) },
    };
  }

  attempt(a: DeliveryAttempt): DeliveryAttempt {
    return { ...a, recipient: this.address(a.recipient), sender: this.address(a.sender), reply: this.text(a.reply) };
  }

  onset(r: OnsetRecord): OnsetRecord {
    return { ...r, summary: this.text(r.summary) };
  }

  /** A finding: addresses in its title, subject, examples and next move (its id is a hash already). */
  finding(f: Finding): Finding {
    return {
      ...f,
      title: this.text(f.title),
      subject: Object.fromEntries(Object.entries(f.subject).map(([k, v]) => [k, this.text(v)])),
      examples: f.examples.map((x) => ({ ...x, text: this.text(x.text) })),
      nextMove: this.text(f.nextMove),
    };
  }

  group(g: ReportGroup): ReportGroup {
    return {
      ...g,
      exampleReply: this.text(g.exampleReply),
      exampleRecipient: this.address(g.exampleRecipient),
      exampleReplies: g.exampleReplies.map((x) => this.text(x)),
    };
  }
}
