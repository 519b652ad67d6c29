/**
 * The Postfix parser: one syslog envelope, then a pure decoder per daemon, chosen from a table.
 * The daemon is the last segment of the tag (`postfix/submission/smtpd` -> smtpd), whatever
 * syslog_name prefix the admin set (`postfix-out/smtp`, `postfix-198.51.100.20/qmgr`, `edge3-1/smtp`).
 */
import type { Parser } from '../../src/model/parser.js';
import type { Decoded, Envelope, PostfixRecord } from '../../src/model/records.js';
import { isBlankLine } from '../chars.js';
import { bareEnvelope, parseEnvelope } from '../syslog/envelope.js';
import { decodeBounce } from './bounce.js';
import { decodeCleanup } from './cleanup.js';
import { splitQueueId } from './common.js';
import { decodeDelivery } from './delivery.js';
import { decodeQmgr } from './qmgr.js';
import { decodeSmtpd } from './smtpd.js';

type DaemonDecoder = (queueId: string | null, rest: string, daemon: string) => PostfixRecord | null;

const delivery: DaemonDecoder = (queueId, rest, daemon) => decodeDelivery(daemon, queueId, rest);
const none: DaemonDecoder = () => null;

/**
 * Every Postfix daemon and command that logs (Postfix 3.x `libexec` and `sbin`), mapped to its
 * decoder. A tag whose last segment is not in this table is another program (`mailtool/bounce-relay`).
 */
export const DAEMONS: ReadonlyMap<string, DaemonDecoder> = new Map<string, DaemonDecoder>([
  ['smtpd', decodeSmtpd],
  ['postscreen', decodeSmtpd],
  ['cleanup', decodeCleanup],
  ['qmgr', decodeQmgr],
  ['oqmgr', decodeQmgr],
  ['smtp', delivery],
  ['lmtp', delivery],
  ['local', delivery],
  ['virtual', delivery],
  ['pipe', delivery],
  ['error', delivery],
  ['retry', delivery],
  ['discard', delivery],
  ['bounce', decodeBounce],
  ['pickup', none],
  ['dnsblog', none],
  ['tlsproxy', none],
  ['anvil', none],
  ['scache', none],
  ['verify', none],
  ['flush', none],
  ['proxymap', none],
  ['showq', none],
  ['master', none],
  ['postfix-script', none],
  ['postsuper', none],
  ['postqueue', none],
  ['postdrop', none],
  ['sendmail', none],
  ['postmap', none],
  ['postalias', none],
  ['postlog', none],
  ['postlogd', none],
  ['postmulti', none],
  ['postconf', none],
  ['tlsmgr', none],
  ['spawn', none],
  ['qmqpd', none],
  ['trivial-rewrite', none],
  ['lmtpd', none],
]);

/**
 * The daemons behind nearly every line of a busy log, checked in place before the general lookup:
 * no copy of the tag's last segment, and the table key (an interned literal) comes back.
 */
const COMMON_DAEMONS: readonly string[] = ['smtpd', 'qmgr', 'smtp', 'cleanup'];

/** The daemon of a tag, or null when the tag is not Postfix's. */
export function postfixDaemon(program: string): string | null {
  const slash = program.lastIndexOf('/');
  if (slash <= 0) return null;
  const length = program.length - slash - 1;
  for (const name of COMMON_DAEMONS) {
    if (name.length === length && program.startsWith(name, slash + 1)) return name;
  }
  const daemon = program.slice(slash + 1);
  return DAEMONS.has(daemon) ? daemon : null;
}

/**
 * A header-less excerpt (`3F7B21C0D84: reject: RCPT from ...`) names no daemon: infer it from the
 * message so the same decoders apply.
 */
function inferDaemon(rest: string): string {
  if (rest.startsWith('to=')) return 'smtp';
  if (rest.startsWith('message-id=')) return 'cleanup';
  if (rest.startsWith('from=') || rest === 'removed') return 'qmgr';
  if (rest.includes(' notification: ')) return 'bounce';
  if (rest.startsWith('milter-reject: END-OF-MESSAGE') || / (?:header|body) /.test(rest.slice(0, 30))) return 'cleanup';
  return 'smtpd';
}

function decodeMessage(envelope: Envelope, daemon: string | null): Decoded {
  const split = splitQueueId(envelope.message);
  if (daemon === null) {
    if (split === null) return { type: 'malformed', reason: 'no syslog header and no Postfix queue ID' };
    daemon = inferDaemon(split.rest);
  }
  const decoder = DAEMONS.get(daemon) ?? none;
  const record = split === null ? null : decoder(split.queueId, split.rest, daemon);
  if (record === null) return { type: 'unsupported', envelope, daemon };
  return { type: 'record', envelope, daemon, record };
}

export function decodePostfixLine(line: string): Decoded {
  if (isBlankLine(line)) return { type: 'blank' };
  const envelope = parseEnvelope(line);
  if (envelope === null) return decodeMessage(bareEnvelope(line), null);
  const daemon = envelope.program === null ? null : postfixDaemon(envelope.program);
  if (daemon === null) return { type: 'other', envelope, program: envelope.program ?? '' };
  return decodeMessage(envelope, daemon);
}

export const postfixParser: Parser = {
  format: 'postfix',
  sniff(lines) {
    if (lines.length === 0) return 0;
    let ours = 0;
    for (const line of lines) {
      const d = decodePostfixLine(line);
      if (d.type === 'record' || d.type === 'unsupported') ours++;
    }
    return ours / lines.length;
  },
  decode: decodePostfixLine,
};
