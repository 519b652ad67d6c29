/**
 * `mta550 tail --output text`: one readable line per event, onset record and summary, for a person
 * watching a terminal (NDJSON is the default for machines).
 */
import type { RejectionEvent } from '../model/event.js';
import type { OnsetRecord } from '../onset/engine.js';
import type { LiveSummary } from '../pipeline.js';

function cut(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}

/** `09:30:06  550 5.1.1  carol@example.net  recipient_unknown (other, rcpt)  mx.example.net: reply` */
export function liveEventLine(e: RejectionEvent, width = 160): string {
  const time = e.time === null ? '--:--:--' : e.time.slice(11, 19);
  const code = `${e.code ?? '???'}${e.enhancedStatus === null ? '' : ' ' + e.enhancedStatus}`;
  const who = e.recipient ?? (e.direction === 'inbound' ? `client ${e.client?.ip ?? '?'}` : e.sender ?? '?');
  const c = e.classification;
  const cause = c === null ? '' : `${c.subtype} (${c.provider}, ${e.stage ?? 'unknown stage'})`;
  const by =
    e.direction === 'outbound'
      ? (e.remote?.name ?? e.relay ?? 'remote')
      : e.direction === 'submission'
        ? `${e.app?.library ?? 'app'} refused by ${e.remote?.name ?? e.relay ?? 'its relay'}`
        : `refused by ${e.mta.host ?? 'us'}`;
  const head = `${time}  ${code.padEnd(9)}  ${e.direction === 'inbound' ? 'IN ' : e.direction === 'submission' ? 'APP' : 'OUT'}  ${who}  ${cause}  ${by}: `;
  return head + cut(e.reply.replace(/\s+/g, ' '), Math.max(40, width - head.length)) + '\n';
}

export function liveOnsetLine(r: OnsetRecord): string {
  const label = { onset: 'ONSET', update: 'ESCALATED', incident: 'INCIDENT', mix_shift: 'MIX SHIFT', recovery: 'RECOVERED', attribute_change: 'CHANGE', new_series_elevated: 'ELEVATED' }[r.type];
  const time = r.detectedAt.slice(11, 19);
  return `${time}  ${label}  ${r.summary}${r.type === 'onset' ? `\n          next move: ${r.nextMove}` : ''}\n`;
}

export function liveSummaryLine(s: LiveSummary): string {
  const subtypes = Object.entries(s.window.bySubtype)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `${s.at.slice(11, 19)}  SUMMARY  since ${s.since.slice(11, 19)}: ${s.window.lines} lines, ${s.window.events} events` +
    `${subtypes ? ` (${subtypes})` : ''}; following ${s.files.length} file(s), ${s.correlation.open} messages open, rss ${s.memory.rssMiB} MiB\n`
  );
}
