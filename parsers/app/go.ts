/**
 * Go programs' SMTP errors (FORMATS.md 4): gomail's `gomail: could not send email 1: 550 5.1.1 ...`
 * (gopkg.in/gomail.v2 `Send`: the message's 1-based index, then the error of net/smtp), net/smtp's
 * bare `*textproto.Error` (`%03d %s`: `550 5.1.1 <bob@example.org>: Recipient address rejected`)
 * behind an application's wording (`smtp.SendMail: `, `failed to send mail: `), its `%#v` form
 * `&textproto.Error{Code:550, Msg:"..."}`, and github.com/wneessen/go-mail's SendError
 * (`sending SMTP RCPT TO command: 550 ..., affected recipient(s): <bob@example.org>`). Often after
 * a `log` prefix (`2024/07/30 12:03:44 main.go:57: `), inside a logfmt value (`err="..."`), or at the
 * top of a panic dump (`panic: ...`, `goroutine 1 [running]:`, `\t/app/main.go:42 +0x1a5`).
 *
 * textproto joins the lines of a multi-line reply with `\n` and keeps the code on the first line
 * only: the lines after it start with the enhanced status (`5.1.1 double-checking ...`), if any.
 *
 * A unit is Go's only with a Go marker (below): a bare `550 ...` line belongs to no one here.
 */
import type { AppRecipientError, Reply, Stage } from '../../src/model/records.js';
import { addressesIn, bareMessageId, replyOf } from './reply.js';
import type { AppErrorFields, AppUnit, EcosystemParser } from './types.js';

/** Substrings that say the unit comes from a Go program or a Go mail library. */
const MARKERS = [
  'gomail:',
  'net/smtp',
  'smtp.SendMail',
  'textproto',
  'goroutine ',
  '.go:',
  // go-mail's SendErrReason wordings
  'sending SMTP MAIL FROM command',
  'sending SMTP RCPT TO command',
  'sending SMTP DATA command',
  'closing SMTP DATA writer',
];

/** go-mail's wording before the reply, and the stage it names; then generic command names. */
const STAGE_HINTS: readonly (readonly [string, Stage])[] = [
  ['closing SMTP DATA writer', 'end_of_data'],
  ['SMTP DATA command', 'data'],
  ['RCPT TO', 'rcpt'],
  ['MAIL FROM', 'mail'],
  ['DATA', 'data'],
  ['AUTH', 'auth'],
];

/** A 4xx/5xx reply at this position. */
const REPLY_AT = /[45]\d\d(?: |-|$)/y;
/** `log`'s default prefix, when the decoder did not strip it. */
const GO_LOG_PREFIX = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? /;
const TEXTPROTO_GOSYNTAX = 'textproto.Error{Code:';

export const goParser: EcosystemParser = {
  ecosystem: 'go',
  claims(unit: AppUnit): boolean {
    const t = sourceText(unit);
    return MARKERS.some((m) => t.includes(m)) || errorChainReply(t) >= 0;
  },
  parse(unit: AppUnit): AppErrorFields | null {
    const text = sourceText(unit);
    const chain = errorChainReply(text);
    if (chain < 0 && !MARKERS.some((m) => text.includes(m))) return null;
    const found = goSyntaxReply(text) ?? textReply(text);
    if (found === null) return null;
    const lower = text.toLowerCase();
    // A 4xx/5xx after a colon in a Go program is SMTP only when mail is in the picture.
    if (found.reply.enhanced === null && !lower.includes('smtp') && !lower.includes('mail')) return null;

    const library = text.includes('gomail:') ? 'gomail' : MARKERS.slice(6).some((m) => text.includes(m)) ? 'go-mail' : 'net/smtp';
    const stage = stageHint(found.before) ?? stageFromReply(found.reply.text);
    let recipients: AppRecipientError[] = found.affected.map((address) => ({ address, reply: found.reply }));
    let sender: string | null = null;
    const senderWords = /sender/i.test(found.reply.text);
    if (stage === 'mail' || (stage === 'unknown' && senderWords)) sender = angleAddresses(found.reply.text)[0] ?? null;
    else if (recipients.length === 0 && (stage === 'rcpt' || stage === 'unknown')) {
      recipients = angleAddresses(found.reply.text).map((address) => ({ address, reply: found.reply }));
      // net/smtp's error names no one: the address the application put before it (`rcpt bob@x: 550 ...`).
      if (recipients.length === 0 && stage === 'rcpt') recipients = addressesIn(found.before).map((address) => ({ address, reply: found.reply }));
    }
    return {
      library,
      exception: found.exception,
      reply: found.reply,
      codeCandidates: null,
      stage,
      recipients,
      accepted: [],
      sender,
      messageId: found.messageId,
      relay: null,
    };
  },
};

interface Found {
  reply: Reply;
  /** The text on the reply's line before it (the application's and library's wording). */
  before: string;
  exception: string | null;
  /** go-mail's `affected recipient(s): ...`. */
  affected: string[];
  messageId: string | null;
}

/** The unit's text, and the error string of a structured entry when the text does not hold it. */
function sourceText(unit: AppUnit): string {
  let t = unit.text;
  const f = unit.fields;
  if (f !== null) {
    for (const k of ['error', 'err', 'Error']) {
      const v = f[k];
      if (typeof v === 'string' && v !== '' && !t.includes(v)) t += '\n' + v;
    }
  }
  return t;
}

/** `&textproto.Error{Code:550, Msg:"5.1.1 ..."}` (`%#v`). */
function goSyntaxReply(s: string): Found | null {
  const at = s.indexOf(TEXTPROTO_GOSYNTAX);
  if (at < 0) return null;
  const c = at + TEXTPROTO_GOSYNTAX.length;
  const code = s.slice(c, c + 3);
  const msgAt = ', Msg:"';
  if (!/^[45]\d\d$/.test(code) || !s.startsWith(msgAt, c + 3)) return null;
  const msg = goQuoted(s, c + 3 + msgAt.length);
  if (msg === null) return null;
  const lineStart = s.lastIndexOf('\n', at) + 1;
  return { reply: replyOf(`${code} ${msg.value}`), before: s.slice(lineStart, at), exception: 'textproto.Error', affected: [], messageId: null };
}

/**
 * The first 4xx/5xx reply that starts a line or follows `: ` or `="` (a logfmt value), and its
 * continuation lines; inside a quoted value it ends at the closing quote.
 */
function textReply(s: string): Found | null {
  let lineStart = 0;
  while (lineStart <= s.length) {
    let eol = s.indexOf('\n', lineStart);
    if (eol < 0) eol = s.length;
    const start = replyStartIn(s, lineStart, eol);
    if (start >= 0) return collect(s, lineStart, start, eol);
    lineStart = eol + 1;
  }
  return null;
}

function replyStartIn(s: string, lineStart: number, eol: number): number {
  let first = lineStart;
  while (first < eol && (s.charCodeAt(first) === 32 || s.charCodeAt(first) === 9)) first++;
  const prefix = GO_LOG_PREFIX.exec(s.slice(first, Math.min(eol, first + 40)));
  if (prefix !== null) first += prefix[0].length;
  if (replyAt(s, first)) return first;
  for (let i = first + 2; i < eol; i++) {
    const a = s.charCodeAt(i - 2);
    const b = s.charCodeAt(i - 1);
    if (((a === 58 && b === 32) || (a === 61 && b === 34)) && replyAt(s, i)) return i;
  }
  return -1;
}

function replyAt(s: string, i: number): boolean {
  REPLY_AT.lastIndex = i;
  return REPLY_AT.test(s);
}

function collect(s: string, lineStart: number, start: number, eol: number): Found {
  const before = s.slice(lineStart, start);
  let raw: string;
  if (before.endsWith('="') || oddQuotes(before)) {
    // A logfmt (or %q) value: the reply runs to the closing quote, Go escapes decoded.
    const q = goQuoted(s, start);
    raw = q !== null ? q.value : s.slice(start, eol);
  } else {
    const lines = [s.slice(start, eol).trimEnd()];
    const enhanced = replyOf(lines[0]!).enhanced;
    let pos = eol;
    while (enhanced !== null && pos < s.length) {
      const next = s.indexOf('\n', pos + 1) < 0 ? s.length : s.indexOf('\n', pos + 1);
      const line = s.slice(pos + 1, next);
      if (!line.startsWith(enhanced + ' ')) break;
      lines.push(line.trimEnd());
      pos = next;
    }
    raw = lines.join('\n');
  }
  if (raw.endsWith(' [recovered]')) raw = raw.slice(0, -' [recovered]'.length);
  // go-mail appends the recipients and the Message-ID after the reply.
  let messageId: string | null = null;
  const mid = raw.indexOf(', affected message ID: ');
  if (mid >= 0) {
    messageId = bareMessageId(raw.slice(mid + 23));
    raw = raw.slice(0, mid);
  }
  let affected: string[] = [];
  const rc = raw.indexOf(', affected recipient(s): ');
  if (rc >= 0) {
    affected = addressesIn(raw.slice(rc + 25));
    raw = raw.slice(0, rc);
  }
  return { reply: replyOf(raw.trim()), before, exception: null, affected, messageId };
}

/** An odd number of `"` before the reply on its line: it sits inside a quoted value. */
function oddQuotes(s: string): boolean {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 34 && s.charCodeAt(i - 1) !== 92) n++;
  return n % 2 === 1;
}

/** A Go-quoted string's contents from i (after the opening quote) to the closing quote, unescaped. */
function goQuoted(s: string, i: number): { value: string; end: number } | null {
  let out = '';
  let from = i;
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 10) return null;
    if (c === 34) return { value: out + s.slice(from, j), end: j + 1 };
    if (c === 92) {
      out += s.slice(from, j);
      const e = s.charAt(j + 1);
      out += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e;
      j += 2;
      from = j;
      continue;
    }
    j++;
  }
  return null;
}

/**
 * The stage from the wording before the reply: go-mail's reasons, the command named, or the
 * application's own words (`rcpt bob@x: `, `smtp auth: `, `close data: ` for net/smtp's
 * `w.Close()`, which reads the reply to the final dot). Null when they name none.
 */
function stageHint(before: string): Stage | null {
  for (const [hint, stage] of STAGE_HINTS) if (before.includes(hint)) return stage;
  const lower = before.toLowerCase();
  if (lower.includes('close data') || lower.includes('closing data')) return 'end_of_data';
  if (/\brcpt\b/.test(lower)) return 'rcpt';
  if (lower.includes('mail from')) return 'mail';
  return /\bauth/.test(lower) ? 'auth' : null;
}

/** Words servers put in refusals that name the command refused (Postfix's smtpd_*_restrictions). */
function stageFromReply(text: string): Stage {
  const lower = text.toLowerCase();
  if (lower.includes('recipient address rejected') || lower.includes('relay access denied')) return 'rcpt';
  if (lower.includes('sender address rejected')) return 'mail';
  return 'unknown';
}

/** Most `: `-separated segments an error chain is read through before the reply. */
const MAX_CHAIN_SEGMENTS = 8;

/**
 * Go's error chain on the unit's first line, ending with an SMTP reply that has an enhanced status
 * (`notify: rcpt bob@example.org: 550 5.1.1 ...`): every segment before the reply starts with a
 * lower-case letter and has no capitalized word, as Go's error strings do (`fmt.Errorf("rcpt %s: %w", ...)`, Go Code Review
 * Comments: error strings are not capitalized). The decoder strips Go's `log` prefix, so this shape is
 * the Go marker left. Where the reply starts, or -1.
 */
function errorChainReply(text: string): number {
  let eol = text.indexOf('\n');
  if (eol < 0) eol = text.length;
  let pos = 0;
  for (let n = 0; n < MAX_CHAIN_SEGMENTS; n++) {
    const c = text.charCodeAt(pos);
    if (!(c >= 97 && c <= 122)) return -1;
    const sep = text.indexOf(': ', pos);
    if (sep < 0 || sep >= eol) return -1;
    // No capitalized word in the chain: `transport verify failed Invalid login: 535 ...` is Nodemailer's.
    for (let i = text.indexOf(' ', pos); i >= 0 && i < sep; i = text.indexOf(' ', i + 1)) {
      const w = text.charCodeAt(i + 1);
      if (w >= 65 && w <= 90) return -1;
    }
    pos = sep + 2;
    if (replyAt(text, pos) && ENHANCED_AT.test(text.slice(pos + 4, pos + 16))) return pos;
  }
  return -1;
}

/** An enhanced status code (`5.1.1 `) right after the reply code. */
const ENHANCED_AT = /^[245]\.\d{1,3}\.\d{1,3}(?: |$)/;

/** Addresses the reply names in angle brackets (`<bob@example.org>: Recipient address rejected`). */
function angleAddresses(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const open = text.indexOf('<', from);
    if (open < 0) break;
    const close = text.indexOf('>', open);
    if (close < 0) break;
    const inner = text.slice(open + 1, close);
    if (inner.includes('@') && !inner.includes(' ')) for (const a of addressesIn(inner)) if (!out.includes(a)) out.push(a);
    from = close + 1;
  }
  return out;
}
