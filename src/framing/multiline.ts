/**
 * Multi-line framing for application logs (FORMATS.md 4): a stack trace, a traceback or an inspected
 * error object spans lines, and the decoder needs it whole. Lines are assembled into units:
 *
 * - A unit starts at a log entry's first line (a timestamp or level word at the start, a JSON
 *   object), or, in logs without such headers (console output), at a line that is not a
 *   continuation.
 * - It ends at the next entry's first line, a blank line, `maxLines` lines or `maxBytes`, a lone
 *   `}` closing an inspected object, or (live files) when no line came for `idleMs`.
 * - An entry with a header takes every following line that is not another entry's first line (the
 *   exception under a logback line, a traceback under a Python logging line). A unit without a
 *   header takes continuations (indented frames, `Caused by:`, `nested exception is:`, a Python
 *   traceback's last line) and text that does not look like a new exception.
 * - Lines that each carry a syslog/journald header, or a `docker compose logs` prefix, are
 *   assembled after the header is removed, per stream (host, program, pid; or container), so
 *   interleaved traces of two processes stay apart. Each unit keeps its first line whole (the
 *   decoder reads time and host from it) and the others without their header.
 *
 * Bounded: at most `maxOpen` streams hold a unit at once (the oldest is emitted first), each of at
 * most `maxLines` lines and `maxBytes` characters: 256 x 256 KiB at worst, a few KiB in practice.
 */
import { CONTAINER_PREFIX as COMPOSE_PREFIX, LEVEL_WORDS, parseEnvelope } from '../../parsers/syslog/envelope.js';
import type { Line } from './lines.js';

export interface FramedUnit {
  /** The unit's first line: its number and offset place the unit (event ids, file:line). */
  line: Line;
  /** The identity of the file the first line came from (a live file's unit may end after a rotation). */
  identity: string;
  /** The first line whole, then the other lines without their per-line header, joined with `\n`. */
  text: string;
  /** Physical lines in the unit. */
  lines: number;
}

export interface MultilineOptions {
  /** Most lines in one unit (default 400); a longer trace is cut into units of this size. */
  maxLines?: number;
  /** Most characters in one unit (default 256 KiB). */
  maxBytes?: number;
  /** Most streams holding a unit at once (default 256). */
  maxOpen?: number;
}

/** How the lines of an input are prefixed: decided on its first non-blank line. */
type Mode = 'plain' | 'syslog' | 'compose';

interface Open {
  first: Line;
  identity: string;
  parts: string[];
  chars: number;
  /** Started by a log entry header: takes any line up to the next header. */
  headed: boolean;
  /** The header names a level below warning (INFO, DEBUG): an exception head after it is an entry of its own. */
  quiet: boolean;
  /** A Python traceback awaits its last line (the exception, not indented). */
  tracebackOpen: boolean;
  /** Wall clock of the last line (live idle timeout). */
  lastMs: number;
  /** A blank line came after the unit's last line: only a clear continuation joins it now. */
  afterBlank: boolean;
  /** Stack frames (`    at ...`) were taken: an exception head after them is a new error. */
  sawFrames: boolean;
}


/**
 * A log entry's first line: a timestamp (ISO/RFC 3339 with `T` or a space, Go's `2024/07/30`,
 * Laravel's `[2024-11-03 ...]`, time-only `12:03:44.123`, Ruby Logger's `E, [`), a level word first
 * (Python's default `ERROR:root:`, .NET console `fail: `), or a JSON object.
 */
const ENTRY_START =
  /^(?:\[?\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}|\[\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}|\d{2}:\d{2}:\d{2}[.,]\d{3} |[DIWEFA], \[\d{4}-|(?:ERROR|WARNING|WARN|INFO|DEBUG|CRITICAL|FATAL|TRACE|SEVERE|NOTICE)(?::| +\S)|(?:fail|crit|warn|info|dbug|trce): |\{")/;

/** BSD syslog time at the start of a plain line (an app that prints it itself). */
const BSD_START = /^\p{L}{3} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} /u;

/** A Java, Node or .NET stack frame, or a Ruby one (`/app/x.rb:12:in `m'`, `\tfrom ...`). */
const FRAME = /^(?:\s+at \S|\s+from \S|[^\s:]{1,400}\.rb:\d{1,7}:in )/;

/** Lines that continue whatever came before them. */
const CONTINUATION =
  /^(?:[ \t]|Caused by:|Suppressed:|nested exception is:|Traceback \(most recent call last\):|During handling of the above exception|The above exception was the direct cause|Stack trace:|#\d+ |\[stacktrace\]|\(\d+ additional frame|--- End of|[}\])"';]|goroutine \d+ \[|\.\.\. \d+ more)/;

/**
 * A line that starts a new error when no header says where entries begin: `Error: ...`,
 * `TypeError: ...`, `smtplib.SMTPRecipientsRefused: ...`, `javax.mail.SendFailedException: ...`,
 * `Net::SMTPFatalError (...`, `(node:123) ...`, `panic: `, `Unhandled exception. `, `[Error: ...`,
 * `PHP Fatal error:  Uncaught ...`, `Exception in thread "main" ...`, MailKit's `Connected to smtp://...`.
 */
const HEAD_PREFIX = /^(?:\(node:\d+\) |panic: |Unhandled exception\. |\[[A-Za-z]{0,40}Error: |(?:PHP )?(?:Fatal error|Warning|Parse error|Notice): |Exception in thread "|Connected to smtps?:\/\/|Mailer Error: )/;
const HEAD_SUFFIXES = ['Error', 'Exception', 'Refused', 'Warning'];

/** A Ruby Logger entry whose message is a backtrace frame: `E, [2024-... #123] ERROR -- : /app/x.rb:12:in `m'`. */
const RUBY_BACKTRACE_ENTRY = /^[DIWEFA], \[[^\]]{1,60}\] +[A-Z]{1,8} -- [^:]{0,100}: [^\s:]{1,400}\.rb:\d{1,7}:in /;

/** Ruby's report of an uncaught exception: `/path/net/smtp.rb:1059:in `check_response': 550 ... (Net::SMTPFatalError)`. */
const RUBY_HEAD = /^[^\s:]{1,400}\.rb:\d{1,7}:in [`'][^`']{1,200}': /;

/** A linear scan: a class-like token (letters, digits, `_$.:`) ending in one of HEAD_SUFFIXES, then `:`, `(`, a space or the end. */
function looksLikeHead(s: string): boolean {
  if (HEAD_PREFIX.test(s) || RUBY_HEAD.test(s)) return true;
  let i = 0;
  while (i < s.length && i < 200 && isTokenChar(s.charCodeAt(i))) i++;
  if (i === 0) return false;
  let token = s.slice(0, i);
  const after = i < s.length ? s[i] : '';
  if (token.endsWith(':')) {
    while (token.endsWith(':')) token = token.slice(0, -1);
  } else if (after !== '' && after !== ' ' && after !== '(') return false;
  // A bare word before a space is prose (Django's `Exception Value:`), not a class.
  else if (after === ' ' && HEAD_SUFFIXES.includes(token)) return false;
  return HEAD_SUFFIXES.some((x) => token.endsWith(x));
}

function isTokenChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c === 46 || c === 58;
}


export class MultilineFramer {
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private readonly maxOpen: number;
  private mode: Mode | null = null;
  /** Open units by stream key, in insertion order (oldest first). */
  private readonly open = new Map<string, Open>();
  /** Lines taken into a unit after its first one (counted as continuations in the run summary). */
  continuations = 0;

  constructor(options: MultilineOptions = {}) {
    this.maxLines = options.maxLines ?? 400;
    this.maxBytes = options.maxBytes ?? 256 * 1024;
    this.maxOpen = options.maxOpen ?? 256;
  }

  /**
   * Takes one line (of the file `identity`); returns the units it completes (oldest first), and
   * whether the line was blank (counted as blank, never part of a unit's text).
   */
  push(line: Line, text: string, nowMs = 0, identity = ''): { units: FramedUnit[]; blank: boolean } {
    const units: FramedUnit[] = [];
    if (this.mode === null && text.trim() !== '') this.mode = decideMode(text);
    const { key, body } = this.split(text);
    const cur = this.open.get(key);
    if (body.trim() === '') {
      // The unit ends here unless a clear continuation follows (a Java reply's own line end leaves a
      // blank line before the frames; Python's chained tracebacks are separated by blank lines).
      if (cur !== undefined) cur.afterBlank = true;
      return { units, blank: true };
    }
    // Ruby's Logger writes `logger.error(e.backtrace.join("\n"))` as an entry of its own: it continues the error.
    const rubyBacktrace = cur !== undefined && RUBY_BACKTRACE_ENTRY.test(body);
    const entryStart = !rubyBacktrace && (ENTRY_START.test(body) || (this.mode === 'plain' && BSD_START.test(body)));
    if (cur !== undefined && !entryStart && (rubyBacktrace || (cur.afterBlank ? CONTINUATION.test(body) : this.continues(cur, body)))) {
      cur.afterBlank = false;
      if (!cur.sawFrames && FRAME.test(body)) cur.sawFrames = true;
      cur.parts.push(body);
      cur.chars += body.length + 1;
      cur.lastMs = nowMs;
      this.continuations++;
      if (body.startsWith('Traceback (most recent call last):')) cur.tracebackOpen = true;
      else if (cur.tracebackOpen && !isIndented(body) && !body.startsWith('During handling') && !body.startsWith('The above exception')) cur.tracebackOpen = false;
      // A lone `}` at the margin closes an inspected error object (Node's util.inspect).
      if (body === '}' || cur.parts.length >= this.maxLines || cur.chars >= this.maxBytes) units.push(this.close(key, cur));
      return { units, blank: false };
    }
    if (cur !== undefined) units.push(this.close(key, cur));
    if (this.open.size >= this.maxOpen) {
      const [oldKey, oldest] = this.open.entries().next().value as [string, Open];
      units.push(this.close(oldKey, oldest));
    }
    const traceback = body.startsWith('Traceback (most recent call last):');
    this.open.set(key, {
      first: line,
      identity,
      parts: [text],
      chars: text.length,
      headed: entryStart,
      quiet: entryStart && quietLevel(body),
      tracebackOpen: traceback,
      lastMs: nowMs,
      afterBlank: false,
      sawFrames: false,
    });
    if (text.length >= this.maxBytes) units.push(this.close(key, this.open.get(key)!));
    return { units, blank: false };
  }

  /** Every unit still open (end of input), oldest first. */
  end(): FramedUnit[] {
    const units: FramedUnit[] = [];
    for (const [key, u] of [...this.open]) units.push(this.close(key, u));
    return units;
  }

  /** Live files: units whose last line came `idleMs` or more ago (wall clock), oldest first. */
  idle(nowMs: number, idleMs: number): FramedUnit[] {
    const units: FramedUnit[] = [];
    for (const [key, u] of [...this.open]) if (nowMs - u.lastMs >= idleMs) units.push(this.close(key, u));
    return units;
  }

  /** The first line of the oldest unit still held from the file `identity` (a checkpoint must not pass it), or null. */
  heldLine(identity: string | null): Line | null {
    let best: Line | null = null;
    for (const u of this.open.values()) if ((identity === null || u.identity === identity) && (best === null || u.first.offset < best.offset)) best = u.first;
    return best;
  }

  private continues(cur: Open, body: string): boolean {
    if (cur.tracebackOpen) return true;
    if (CONTINUATION.test(body)) return true;
    // A header takes the exception under it (logback, Python's logger.exception), unless it is an
    // INFO line and the exception a console print of its own.
    if (cur.headed) return !(cur.quiet || cur.sawFrames) || !looksLikeHead(body);
    // Without headers: text that does not start a new error continues (a reply wrapped at the margin).
    return !looksLikeHead(body);
  }

  private split(text: string): { key: string; body: string } {
    if (this.mode === 'compose') {
      const m = COMPOSE_PREFIX.exec(text);
      if (m !== null) return { key: m[0], body: text.slice(m[0].length) };
    } else if (this.mode === 'syslog') {
      const e = parseEnvelope(text);
      if (e !== null && e.host !== null && !LEVEL_WORDS.has(e.host)) {
        return { key: `${e.container ?? ''}|${e.host}|${e.program ?? ''}|${e.pid ?? ''}`, body: e.message };
      }
    }
    return { key: '', body: text };
  }

  private close(key: string, u: Open): FramedUnit {
    this.open.delete(key);
    return { line: u.first, identity: u.identity, text: u.parts.join('\n'), lines: u.parts.length };
  }
}

const QUIET_LEVELS = new Set(['INFO', 'DEBUG', 'TRACE', 'NOTICE', 'info', 'debug', 'trace', 'notice', 'dbug', 'trce', 'I', 'D']);
const LOUD_LEVELS = new Set(['ERROR', 'WARN', 'WARNING', 'FATAL', 'CRITICAL', 'SEVERE', 'error', 'warn', 'warning', 'fatal', 'critical', 'crit', 'fail', 'E', 'W', 'F']);

/** The header line's level is INFO or lower (a level word among its first words, none louder). */
function quietLevel(body: string): boolean {
  let quiet = false;
  for (const word of body.slice(0, 80).split(/[\s[\]:|,=]+/)) {
    if (LOUD_LEVELS.has(word)) return false;
    if (QUIET_LEVELS.has(word)) quiet = true;
  }
  return quiet;
}

function isIndented(s: string): boolean {
  const c = s.charCodeAt(0);
  return c === 32 || c === 9;
}

function decideMode(text: string): Mode {
  if (COMPOSE_PREFIX.test(text)) return 'compose';
  const e = parseEnvelope(text);
  if (e !== null && e.host !== null && !LEVEL_WORDS.has(e.host)) return 'syslog';
  return 'plain';
}
