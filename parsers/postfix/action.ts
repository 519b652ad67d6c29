/**
 * Access-control and content-check actions logged by smtpd, postscreen and cleanup (Postfix
 * smtpd_check.c log_whatsup(), cleanup_milter.c, cleanup_message.c):
 *
 *   NOQUEUE: reject: RCPT from unknown[203.0.113.77]: 550 5.1.1 <bob@example.net>: Recipient address rejected: ...; from=<a@example.org> to=<bob@example.net> proto=ESMTP helo=<c.example.org>
 *   NOQUEUE: reject: RCPT from [203.0.113.140]:58021: 550 5.7.1 Service unavailable; client [203.0.113.140] blocked using bl.example.org; from=<c@example.org>, to=<b@example.com>, proto=ESMTP, helo=<pc7>
 *   4B1E9C2: milter-reject: END-OF-MESSAGE from s.example.net[198.51.100.14]: 5.7.1 Spam message rejected; from=<a@example.net> to=<b@example.com> proto=ESMTP helo=<s.example.net>
 *   4B1E9C2: reject: header Subject: win now from unknown[203.0.113.5]; from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<x>: 5.7.1 Message content rejected
 */
import type { PostfixActionRecord } from '../../src/model/records.js';
import { parseHostRef, parseReply, scanKeyValues, stageFromWord, unbracket } from './common.js';

/** Action words Postfix prints before the stage (smtpd access actions, milter and proxy results, cleanup checks). */
const ACTIONS: ReadonlySet<string> = new Set([
  'reject', 'reject_warning', 'milter-reject', 'proxy-reject', 'discard', 'milter-discard',
  'hold', 'milter-hold', 'filter', 'redirect', 'warning', 'info', 'replace', 'prepend', 'bcc',
  'defer_if_permit', 'defer_if_reject',
]);

const TAIL_KEYS = /^(?:from|to|proto|helo)=/;

/** Tail keys only, fully consumed: `from=<..> to=<..> proto=X helo=<..>` or comma-separated. */
function parseTail(s: string): Map<string, string> | null {
  if (!TAIL_KEYS.test(s)) return null;
  const { values, end } = scanKeyValues(s);
  if (end !== s.length) return null;
  for (const k of values.keys()) if (k !== 'from' && k !== 'to' && k !== 'proto' && k !== 'helo') return null;
  return values;
}

/** Finds the `; from=... to=... proto=... helo=...` tail: the first `; ` whose remainder parses whole. */
function splitTail(text: string): { body: string; tail: Map<string, string> } {
  let i = text.indexOf('; ');
  while (i >= 0) {
    const tail = parseTail(text.slice(i + 2));
    if (tail !== null) return { body: text.slice(0, i), tail };
    i = text.indexOf('; ', i + 2);
  }
  return { body: text, tail: new Map() };
}

function record(
  queueId: string | null,
  action: string,
  stageWord: string,
  clientToken: string | null,
  replyText: string,
  tail: Map<string, string>,
  matched: string | null,
): PostfixActionRecord {
  const from = tail.get('from');
  const to = tail.get('to');
  const helo = tail.get('helo');
  return {
    kind: 'postfix.action',
    queueId,
    action,
    stageWord,
    stage: stageFromWord(stageWord),
    client: clientToken === null ? null : parseHostRef(clientToken),
    reply: parseReply(replyText),
    from: from === undefined ? null : unbracket(from),
    to: to === undefined ? null : unbracket(to),
    proto: tail.get('proto') ?? null,
    helo: helo === undefined ? null : unbracket(helo),
    matched,
  };
}

/**
 * Decodes `<action>: <rest>` after the queue ID. Returns null when `rest` is not an action line,
 * so the caller can report the line as unsupported.
 */
export function decodeAction(queueId: string | null, rest: string): PostfixActionRecord | null {
  const colon = rest.indexOf(': ');
  if (colon <= 0) return null;
  const action = rest.slice(0, colon);
  if (!ACTIONS.has(action)) return null;
  const body = rest.slice(colon + 2);
  const space = body.indexOf(' ');
  if (space <= 0) return null;
  const stageWord = body.slice(0, space);

  if (stageWord === 'header' || stageWord === 'body' || stageWord === 'mime-header' || stageWord === 'nested-header') {
    // <matched text> from <client>; <tail>[: <reply>]
    const after = body.slice(space + 1);
    let k = after.indexOf('; from=<');
    if (k < 0) k = after.indexOf('; to=<');
    if (k < 0) k = after.indexOf('; proto=');
    if (k < 0) return record(queueId, action, stageWord, null, '', new Map(), after);
    const fromAt = after.lastIndexOf(' from ', k);
    const matched = fromAt >= 0 ? after.slice(0, fromAt) : after.slice(0, k);
    const client = fromAt >= 0 ? after.slice(fromAt + 6, k) : null;
    const tailAndReply = after.slice(k + 2);
    const { values, end } = scanKeyValues(tailAndReply);
    const reply = tailAndReply.startsWith(': ', end) ? tailAndReply.slice(end + 2) : '';
    return record(queueId, action, stageWord, client, reply, values, matched);
  }

  // <STAGE> from <client>: <reply>; <tail>
  if (!body.startsWith(' from ', space)) return null;
  const clientStart = space + 6;
  // The client ends at the first `]` (and an optional :port) or at `: ` for a bare name.
  let clientEnd: number;
  const bracket = body.indexOf(']', clientStart);
  const sep = body.indexOf(': ', clientStart);
  if (sep < 0) return null;
  if (bracket >= 0 && bracket < sep) {
    clientEnd = body.indexOf(': ', bracket);
    if (clientEnd < 0) return null;
  } else {
    clientEnd = sep;
  }
  const clientToken = body.slice(clientStart, clientEnd);
  const { body: replyText, tail } = splitTail(body.slice(clientEnd + 2));
  return record(queueId, action, stageWord, clientToken, replyText, tail, null);
}
