/**
 * `mta550 trace` as text: each message's story in time order, one line per record (time, where,
 * what it says), the refusals with their cause and next move under the record that logged them.
 */
import path from 'node:path';
import type { TraceResult } from '../trace/trace.js';

function when(iso: string | null): string {
  return iso === null ? '(no time)           ' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

export function renderTrace(t: TraceResult, options: { raw?: boolean } = {}): string {
  const out: string[] = [];
  const window = t.since === null && t.until === null ? '' : ` between ${t.since ?? 'the start'} and ${t.until ?? 'the end'}`;
  const n = t.messages.length;
  out.push(`mta550 trace ${t.query}${window}: ${n === 0 ? 'no message found' : `${n} message${n === 1 ? '' : 's'}`}`);
  if (t.notFollowed > 0) out.push(`  (${t.notFollowed} more line(s) matched messages past --limit: narrow the query, --since/--until, or raise --limit)`);
  for (const m of t.messages) {
    out.push('');
    // Keys as words: a NOQUEUE refusal has none; a Postfix queue ID's generation shows only when reused.
    const keys = m.keys.map((k) =>
      k
        .replace(/^line\|.*$/, 'a refusal before queueing')
        .replace(/#0$/, '')
        .replace(/#\d+$/, ' (a reused queue ID)')
        .replace(/\|/g, ' ')
        .replace(/ {2,}/g, ' ')
        .trim(),
    );
    out.push(`Message ${m.messageId === null ? '(no Message-ID logged)' : `<${m.messageId}>`}  ${[...new Set(keys)].join(', ')}`);
    const eventsAt = new Map<string, typeof m.events>();
    for (const e of m.events) {
      const k = `${e.source.file}:${e.source.line}`;
      eventsAt.set(k, [...(eventsAt.get(k) ?? []), e]);
    }
    for (const r of m.records) {
      const where = `${path.basename(r.file)}:${r.line}`;
      out.push(`  ${when(r.time)}  ${where}  ${r.host ?? '-'} ${r.program ?? r.format}: ${r.text}`);
      if (options.raw === true) out.push(`      ${r.raw.split('\n')[0]}`);
      for (const e of eventsAt.get(`${r.file}:${r.line}`) ?? []) {
        const c = e.classification;
        const code = `${e.code ?? (e.app?.codeCandidates?.join('/') ?? '???')}${e.enhancedStatus === null ? '' : ` ${e.enhancedStatus}`}`;
        const who = e.recipient ?? (e.direction === 'inbound' ? `client ${e.client?.ip ?? '?'}` : e.sender ?? '(no recipient)');
        out.push(`      -> ${e.direction} refusal ${code} of ${who} at ${e.stage}${c === null ? '' : `: ${c.subtype} (provider ${c.provider}, ${c.confidence} confidence)`}`);
        if (c !== null) out.push(`         next move: ${c.nextMove}`);
        const link = e.app?.link ?? null;
        if (link !== null) out.push(`         joined with ${link.mtaHost ?? 'the MTA'}'s record ${path.basename(link.source.file)}:${link.source.line} by ${link.by}${link.inferred ? ' (inferred)' : ''}`);
      }
    }
  }
  return out.join('\n') + '\n';
}
