/**
 * Delivery agents (smtp, lmtp, local, virtual, pipe, error, retry, discard): one status line per
 * recipient and attempt.
 *
 *   5D0B7F3A19: to=<dave@example.net>, relay=mx.example.net[203.0.113.25]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.25] said: 550 5.1.1 <dave@example.net>: User unknown (in reply to RCPT TO command))
 *   5D0B7F3A19: to=<erin@example.fr>, relay=none, delay=310, delays=0.1/0/310/0, dsn=4.0.0, status=deferred (delivery temporarily suspended: host mx.example.fr[198.51.100.60] refused to talk to me: 550 5.7.1 Service refused)
 *   5D0B7F3A19: to=<carol@example.com>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (unknown user: "carol")
 */
import type { HostRef, PostfixDeliveryRecord, Reply, Stage } from '../../src/model/records.js';
import { pairValue, parseHostRef, parseReply, scanPairs, stageFromCommand, toNumber, unbracket } from './common.js';

const SUSPENDED = 'delivery temporarily suspended: ';
const SAID = ' said: ';
const REFUSED = ' refused to talk to me: ';
const IN_REPLY_TO = ' (in reply to ';
const QUEUED_AS = /queued as ([0-9A-Za-z]{5,20})\)?$/;

/** What the parenthesised status text tells: the remote host, its reply, and the stage. */
export interface DeliveryDetail {
  remote: HostRef | null;
  reply: Reply | null;
  stage: Stage;
  queuedAs: string | null;
}

/** Reads the text inside `status=... (...)`. */
export function analyseDetail(detail: string): DeliveryDetail {
  let d = detail;
  if (d.startsWith(SUSPENDED)) d = d.slice(SUSPENDED.length);
  // Most details say nothing of a next queue: look for the words before running the pattern.
  const q = d.includes('queued as ') ? QUEUED_AS.exec(d) : null;
  const queuedAs = q === null ? null : q[1]!;
  if (d.startsWith('host ')) {
    const said = d.indexOf(SAID);
    const space = d.indexOf(' ', 5);
    if (said > 5 && said === space) {
      let replyText = d.slice(said + SAID.length);
      let stage: Stage = 'unknown';
      if (replyText.endsWith(' command)')) {
        const k = replyText.lastIndexOf(IN_REPLY_TO);
        if (k >= 0) {
          stage = stageFromCommand(replyText.slice(k + IN_REPLY_TO.length, -' command)'.length));
          replyText = replyText.slice(0, k);
        }
      }
      return { remote: parseHostRef(d.slice(5, said)), reply: parseReply(replyText), stage, queuedAs };
    }
    const refused = d.indexOf(REFUSED);
    if (refused > 5 && refused === space) {
      return {
        remote: parseHostRef(d.slice(5, refused)),
        reply: parseReply(d.slice(refused + REFUSED.length)),
        stage: 'connect',
        queuedAs,
      };
    }
  }
  // `status=sent (250 2.0.0 Ok: queued as X)`: a bare reply from the relay named in relay=.
  const bare = parseReply(d);
  if (bare.code !== null) return { remote: null, reply: bare, stage: 'unknown', queuedAs };
  return { remote: null, reply: null, stage: 'unknown', queuedAs };
}


export function decodeDelivery(agent: string, queueId: string | null, rest: string): PostfixDeliveryRecord | null {
  if (queueId === null || !rest.startsWith('to=')) return null;
  // Find `, status=` directly rather than trusting every field before it to scan cleanly
  // (`tls=` and future fields may carry spaces).
  const statusAt = rest.indexOf(', status=');
  if (statusAt < 0) return null;
  const fields = rest.slice(0, statusAt);
  const pairs = scanPairs(fields);
  const to = pairValue(fields, pairs, 'to');
  if (to === undefined) return null;
  const statusPart = rest.slice(statusAt + ', status='.length);
  const paren = statusPart.indexOf(' (');
  const status = paren < 0 ? statusPart : statusPart.slice(0, paren);
  const detail = paren < 0 ? '' : statusPart.slice(paren + 2, statusPart.endsWith(')') ? -1 : undefined);
  const origTo = pairValue(fields, pairs, 'orig_to');
  const relay = pairValue(fields, pairs, 'relay') ?? null;
  const delay = toNumber(pairValue(fields, pairs, 'delay'));
  const dsn = pairValue(fields, pairs, 'dsn') ?? null;
  const relayHost = relay !== null && relay.includes('[') ? parseHostRef(relay) : null;
  const info = analyseDetail(detail);
  return {
    kind: 'postfix.delivery',
    queueId,
    agent,
    to: unbracket(to),
    origTo: origTo === undefined ? null : unbracket(origTo),
    relay,
    relayHost,
    delay,
    dsn,
    status,
    detail,
    remote: info.remote,
    reply: info.reply,
    stage: info.stage,
    queuedAs: info.queuedAs,
  };
}
