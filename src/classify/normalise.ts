/**
 * Normalises a reply before classification (TAXONOMY.md 6.1): strips the MTA's wrapper while keeping
 * the stage and remote host it tells, joins a flattened multi-line reply, drops the repeated
 * `550-5.7.26` prefixes, and extracts the reply code and enhanced status even when only one exists.
 *
 * Wrappers handled:
 *   Postfix  `host mx.example.net[203.0.113.25] said: 550 ... (in reply to RCPT TO command)`
 *            `host mx.example.fr[198.51.100.60] refused to talk to me: 550 ...`
 *   Exim     `SMTP error from remote mail server after RCPT TO:<bob@example.net>: 550 ...`
 *            `... host mx.example.com [192.0.2.55]: 550 ...` (the 4.92 layout)
 *   Exchange `Remote Server returned '550 5.1.1 ...'`, `Remote server returned message detected as spam -> 554 ...`
 */
import type { Stage } from '../model/records.js';

export interface NormalisedReply {
  /** The reply's words: wrapper, codes and continuation prefixes removed, whitespace folded. */
  text: string;
  /** `text` lower-cased, for marker matching. */
  lower: string;
  code: number | null;
  enhanced: string | null;
  /** The stage a wrapper named, when it named one. */
  stage: Stage | null;
  /** The remote host a wrapper named (`mx.example.net`), when it named one. */
  remoteHost: string | null;
  /** True when the text ends mid-word or with an ellipsis: a cut reply lowers confidence. */
  truncated: boolean;
}

const EXIM_WRAPPER = 'SMTP error from remote mail server after ';

const COMMANDS: readonly [RegExp, Stage][] = [
  [/^rcpt to\b/i, 'rcpt'],
  [/^mail from\b/i, 'mail'],
  [/^pipelined mail from\b/i, 'mail'],
  [/^end of data\b/i, 'end_of_data'],
  [/^data\b/i, 'data'],
  [/^(?:ehlo|helo|lhlo)\b/i, 'helo'],
  [/^initial connection\b/i, 'connect'],
  [/^starttls\b/i, 'starttls'],
  [/^auth\b/i, 'auth'],
  [/^bdat\b/i, 'end_of_data'],
];

export function stageOfCommand(command: string): Stage {
  const c = command.trim();
  for (const [re, stage] of COMMANDS) if (re.test(c)) return stage;
  return 'other';
}

/** `550-5.7.26 ` / `550 5.7.26 ` / `550-` / `550 ` / `5.7.1 ` at the start of a reply line. */
const PREFIX = /^([2-5]\d\d)(?:[ -]|$)\s*(?:#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$)\s*)?/;
const ENHANCED_ONLY = /^#?([245]\.\d{1,3}\.\d{1,3})(?=[\s;,:]|$)\s*/;
/** A continuation prefix inside a flattened reply: ` 550-5.7.26 ` or ` 550 5.7.26 ` or ` 550-`. */
const INNER_PREFIX = / ([2-5]\d\d)[ -](?:#?[245]\.\d{1,3}\.\d{1,3} ?)?/g;

function stripWrapper(input: string): { reply: string; stage: Stage | null; remoteHost: string | null } {
  let s = input.trim();
  let stage: Stage | null = null;
  let remoteHost: string | null = null;

  if (s.startsWith('delivery temporarily suspended: ')) s = s.slice('delivery temporarily suspended: '.length);
  // Postfix smtp/lmtp client.
  // The host name stops at `[` (no lazy \S+? against a bracket class: that backtracks polynomially).
  let m = /^host ([^\s[]+)(?:\[[^\]\s]*\])? said: /.exec(s);
  if (m !== null) {
    remoteHost = m[1]!;
    s = s.slice(m[0].length);
    const k = s.lastIndexOf('(in reply to ');
    if (k >= 0 && / command\)\)?$/.test(s)) {
      stage = stageOfCommand(s.slice(k + '(in reply to '.length).replace(/ command\)\)?$/, ''));
      s = s.slice(0, k);
    }
    return { reply: s, stage, remoteHost };
  }
  m = /^host ([^\s[]+)(?:\[[^\]\s]*\])? refused to talk to me: /.exec(s);
  if (m !== null) return { reply: s.slice(m[0].length), stage: 'connect', remoteHost: m[1]! };
  // Exim: `SMTP error from remote mail server after RCPT TO:<x>: 550 ...`, optionally `host H [ip]: ` next.
  const exim = s.indexOf(EXIM_WRAPPER);
  if (exim >= 0) {
    let rest = s.slice(exim + EXIM_WRAPPER.length);
    const angle = rest.indexOf(':<');
    let end = rest.indexOf(': ');
    if (angle >= 0 && angle < end) end = rest.indexOf(': ', rest.indexOf('>', angle));
    if (end > 0) {
      stage = stageOfCommand(rest.slice(0, end));
      rest = rest.slice(end + 2);
      const host = /^host (\S+) \[[^\]]*\]: /.exec(rest);
      if (host !== null) {
        remoteHost = host[1]!;
        rest = rest.slice(host[0].length);
      }
      return { reply: rest, stage, remoteHost };
    }
  }
  if (s.startsWith('LMTP error after ')) {
    const end = s.indexOf(': ', s.indexOf('>') + 1);
    if (end > 0) return { reply: s.slice(end + 2), stage: stageOfCommand(s.slice(17, end)), remoteHost: null };
  }
  // Exchange NDR and message tracking text.
  m = /^Remote Server returned '(.*)'$/is.exec(s);
  if (m !== null) return { reply: m[1]!, stage: null, remoteHost: null };
  m = /^Remote server returned message detected as spam -> (.*)$/is.exec(s);
  if (m !== null) return { reply: m[1]!, stage: 'end_of_data', remoteHost: null };
  return { reply: s, stage, remoteHost };
}

/** Normalises a reply as logged (possibly wrapped, possibly a flattened multi-line reply). */
export function normaliseReply(input: string): NormalisedReply {
  const { reply, stage, remoteHost } = stripWrapper(input.replace(/\\r\\n|\r?\n|\\n/g, ' '));
  let s = reply.trim();
  let code: number | null = null;
  let enhanced: string | null = null;
  const head = PREFIX.exec(s);
  if (head !== null) {
    code = Number(head[1]);
    enhanced = head[2] ?? null;
    s = s.slice(head[0].length);
  }
  const e = ENHANCED_ONLY.exec(s);
  if (e !== null) {
    enhanced ??= e[1]!;
    s = s.slice(e[0].length);
  }
  if (code !== null) {
    // Drop continuation prefixes of the same code (`... 550-5.7.26 next line 550 5.7.26 last`).
    const same = String(code);
    s = s.replace(INNER_PREFIX, (whole, c: string) => (c === same ? ' ' : whole));
  }
  const text = s.replace(/\s+/g, ' ').trim();
  return {
    text,
    lower: text.toLowerCase(),
    code,
    enhanced,
    stage,
    remoteHost,
    truncated: /(?:\.\.\.|…)$/.test(text),
  };
}
