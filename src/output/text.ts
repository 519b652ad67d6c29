/**
 * The human report: what was refused, by whom, since when, with an example reply per group, then
 * delivery outcomes and the accounting of every input line.
 */
import type { Report, ReportGroup } from '../aggregate/report.js';
import type { InputSummary } from '../pipeline.js';

export interface TextOptions {
  /** Terminal width used to cut example replies (default 120). */
  width?: number;
  /** Most rows per table (default 40); the rest are summed in one line. */
  maxRows?: number;
}

const n = (x: number) => x.toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;

/** `2024-03-11T08:15:42.000Z` -> `2024-03-11 08:15:42Z`. */
function shortTime(iso: string | null): string {
  if (iso === null) return '-';
  return iso.slice(0, 10) + ' ' + iso.slice(11, 19) + 'Z';
}

function cut(text: string, width: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  if (oneLine.length <= width) return oneLine;
  return oneLine.slice(0, Math.max(1, width - 1)) + '…';
}

function table(headers: string[], rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    '  ' +
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(headers), ...rows.map(fmt)];
}

/** One row per group, each followed by an indented example reply cut to the terminal width. */
function groupTable(groups: ReportGroup[], width: number, maxRows: number): string[] {
  const shown = groups.slice(0, maxRows);
  const rows = shown.map((g) => [
    g.recipientDomain ?? '(none)',
    g.subtype,
    g.provider,
    g.statuses.slice(0, 2).map((s) => s.status).join(' ') + (g.statuses.length > 2 ? ' …' : ''),
    n(g.count),
    n(g.recipients) + (g.recipientsCapped ? '+' : ''),
    g.rate === null || g.units === null ? '-' : `${pct(g.rate)} of ${n(g.units)}`,
    shortTime(g.firstSeen),
    shortTime(g.lastSeen),
  ]);
  const [header, ...body] = table(
    ['RECIPIENT DOMAIN', 'CAUSE', 'PROVIDER', 'STATUS', 'COUNT', 'RCPTS', 'RATE (MESSAGES)', 'FIRST SEEN', 'LAST SEEN'],
    rows,
    new Set([4, 5, 6]),
  );
  const lines = [header!];
  body.forEach((row, i) => {
    const g = shown[i]!;
    lines.push(row);
    const who = g.exampleRecipient === null ? '' : `${g.exampleRecipient}: `;
    lines.push(`      ${cut(who + g.exampleReply, Math.max(40, width - 6))}`);
  });
  const rest = groups.slice(maxRows);
  if (rest.length > 0) {
    lines.push(`  … and ${n(rest.length)} more groups with ${n(rest.reduce((a, g) => a + g.count, 0))} rejections (--output json lists all)`);
  }
  return lines;
}

function counters(c: Record<string, number>): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
}

function inputLine(i: InputSummary): string[] {
  const parts = [`${n(i.records)} decoded`];
  parts.push(`${n(i.unsupported)} unsupported` + (i.unsupported > 0 ? ` (${counters(i.unsupportedByDaemon)})` : ''));
  parts.push(`${n(i.otherPrograms)} from other programs` + (i.otherPrograms > 0 ? ` (${counters(i.otherByProgram)})` : ''));
  parts.push(`${n(i.malformed)} malformed`);
  if (i.blank > 0) parts.push(`${n(i.blank)} blank`);
  if (i.continuation > 0) parts.push(`${n(i.continuation)} continuation`);
  if (i.truncated > 0) parts.push(`${n(i.truncated)} truncated`);
  if (i.joined > 0) parts.push(`${n(i.joined)} joined pieces`);
  if (i.messageMissing > 0) parts.push(`${n(i.messageMissing)} without message text`);
  const how = [i.compression, i.encoding === null || i.encoding === undefined ? null : i.encoding.toUpperCase(), i.wrapper === null ? null : `${i.wrapper} JSON`].filter((x) => x !== null);
  const head = `  ${i.path}${how.length > 0 ? ` (${how.join(', ')})` : ''}: ${i.format ?? 'unrecognised'}, ${n(i.lines)} lines`;
  const out = [head, `    ${parts.join('; ')}`];
  if (i.error !== undefined) out.push(`    READ ERROR: ${i.error}`);
  for (const m of i.malformedExamples) out.push(`    malformed line ${m.line} (${m.reason}): ${cut(m.excerpt, 100)}`);
  return out;
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A small per-5-minute chart of the failure rate. */
function sparkline(rates: readonly number[]): string {
  const max = Math.max(...rates, 1e-9);
  return rates.map((r) => SPARK[Math.min(SPARK.length - 1, Math.round((r / max) * (SPARK.length - 1)))]).join('');
}

function onsetLines(report: Report): string[] {
  const onsets = report.onsets.filter((o) => o.type === 'onset');
  const changes = report.onsets.filter((o) => o.type === 'attribute_change');
  const elevated = report.onsets.filter((o) => o.type === 'new_series_elevated');
  const extra: string[] = [];
  if (elevated.length > 0) {
    extra.push('  New or sparse series with elevated rates (not onsets: no baseline of their own yet)');
    for (const e of elevated.slice(0, 20)) extra.push(`    ${e.summary}`);
    if (elevated.length > 20) extra.push(`    … and ${elevated.length - 20} more (--output json lists all)`);
  }
  const mixes = report.onsets.filter((o) => o.type === 'mix_shift');
  if (mixes.length > 0) {
    extra.push('  Mix shifts (the overall rate rose because mail went elsewhere; no domain got worse)');
    for (const x of mixes) extra.push(`    ${x.summary}`);
  }
  if (changes.length > 0) {
    extra.push('  Sending-path changes');
    for (const c of changes) extra.push(`    ${c.summary}`);
  }
  if (onsets.length === 0 && extra.length === 0) return [];
  if (onsets.length === 0) return ['Onsets: none', ...extra, ''];
  const recoveries = report.onsets.filter((o) => o.type === 'recovery');
  const lines = ['Onsets'];
  for (const o of onsets) {
    const series = o.basis === 'count' ? 'inbound (refused by this server)' : o.series.level === 'global' ? 'all domains' : o.series.level === 'provider' ? `provider ${o.series.provider}` : o.series.recipientDomain!;
    const change =
      o.basis === 'count'
        ? `${o.before!.rate.toFixed(2)} -> ${o.after!.rate.toFixed(2)} per minute (${n(o.after!.failures)} refusals in ${n(o.after!.units)} min; count basis, no denominator)`
        : `${pct(o.before!.rate)} -> ${pct(o.after!.rate)} (${n(o.after!.failures)}/${n(o.after!.units)} messages)`;
    lines.push(`  ${shortTime(o.onsetAt)}  ${series}  ${o.series.subtype}  ${change}, detected ${shortTime(o.detectedAt).slice(11)}, confidence ${o.confidence}`);
    const a = o.attribution;
    if (a?.top) {
      lines.push(
        `      cause: ${a.top.attribute} changed ${a.top.from ?? '(new)'} -> ${a.top.to} at ${shortTime(new Date(a.top.changedAt).toISOString()).slice(11)}` +
          ` (carries ${Math.round(100 * a.top.explainedFraction)}% of the excess failures${a.bundle.length > 0 ? `; with ${a.bundle.join(', ')}` : ''})`,
      );
    } else if (a?.concentration) {
      lines.push(`      cause: concentrated on ${a.concentration.attribute} ${a.concentration.value} (${a.concentration.riskRatio.toFixed(1)}x the risk, ${Math.round(100 * a.concentration.explainedFraction)}% of the excess failures)`);
    } else if (o.basis === 'count') {
      lines.push(`      ${o.summary.split('; ').slice(1).join('; ') || 'cause: not attributed (count basis)'}`);
    } else {
      lines.push('      cause: no attribute change found (relay, relay IP, sender domain, client IP, provider)');
    }
    if (o.timeline) lines.push(`      ${sparkline(o.timeline.rates)}  rate per 5 min from ${shortTime(o.timeline.start).slice(11)}`);
    for (const u of report.onsets.filter((x) => x.type === 'update' && x.onsetId === o.id)) {
      lines.push(`      escalated at ${shortTime(u.onsetAt).slice(11)}: ${pct(u.before!.rate)} -> ${pct(u.after!.rate)} (${n(u.after!.failures)}/${n(u.after!.units)} messages)`);
    }
    const rec = recoveries.find((r) => r.series.key === o.series.key && r.recoveredAt! > o.detectedAt);
    if (rec) lines.push(`      recovered at ${shortTime(rec.recoveredAt).slice(11)}: ${rec.summary}`);
    lines.push(`      next move: ${o.nextMove}`);
  }
  // The latest record of each incident (a new member re-emits it).
  const incidents = [...new Map(report.onsets.filter((o) => o.type === 'incident').map((o) => [o.id, o])).values()];
  if (incidents.length > 0) {
    lines.push('  Incidents (onsets with one cause)');
    for (const i of incidents) lines.push(`    ${i.summary}`, `      next move: ${i.nextMove}`);
  }
  lines.push(...extra);
  lines.push('');
  return lines;
}

export function renderText(report: Report, options: TextOptions = {}): string {
  const width = options.width ?? 120;
  const maxRows = options.maxRows ?? 40;
  const t = report.totals;
  const lines: string[] = onsetLines(report);
  const totalLines = report.inputs.reduce((a, i) => a + i.lines, 0);
  const codes = report.codes.join(', ');
  lines.push(
    `mta550: ${n(t.events)} rejection${t.events === 1 ? '' : 's'} (${codes}) in ${n(report.inputs.length)} input${report.inputs.length === 1 ? '' : 's'}, ${n(totalLines)} lines` +
      (t.firstSeen !== null ? `, ${shortTime(t.firstSeen)} to ${shortTime(t.lastSeen)}` : ''),
  );
  if (t.events > 0) {
    lines.push(
      `  ${n(t.byDirection.outbound)} outbound (a remote server refused us), ${n(t.byDirection.inbound)} inbound (this server refused a client)` +
        (t.byDirection.submission === undefined ? '' : `, ${n(t.byDirection.submission)} submission (an application's relay or provider refused it)`),
    );
    const outcomes = Object.entries(t.byOutcome).sort((a, b) => b[1] - a[1]);
    lines.push(`  by outcome: ${outcomes.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  }
  const titles = {
    outbound: 'Refused by remote servers (outbound)',
    inbound: 'Refused by this server (inbound)',
    submission: "Refused to applications by their relay or provider (submission, from app logs)",
  } as const;
  for (const direction of ['outbound', 'inbound', 'submission'] as const) {
    const groups = report.groups.filter((g) => g.direction === direction);
    if (groups.length === 0) continue;
    lines.push('');
    lines.push(titles[direction]);
    lines.push(...groupTable(groups, width, maxRows));
  }
  if (report.subtypes.length > 0) {
    lines.push('');
    lines.push('Causes and next moves');
    const rows = report.subtypes.map((s) => [s.subtype, s.side, n(s.count), s.nextMove]);
    const [header, ...body] = table(['CAUSE', 'WHO ACTS', 'COUNT'], rows.map((r) => r.slice(0, 3)), new Set([2]));
    lines.push(`${header}  NEXT MOVE`);
    body.forEach((row, i) => lines.push(`${row}  ${rows[i]![3]}`));
  }
  if (report.outcomes.length > 0) {
    lines.push('');
    lines.push('Delivery outcomes by recipient domain (every attempt, all codes)');
    const rows = report.outcomes.slice(0, maxRows).map((o) => [
      o.domain === '' ? '(none)' : o.domain,
      n(o.sent),
      n(o.deferred),
      n(o.bounced),
      n(o.rejected),
      n(o.expired),
    ]);
    lines.push(...table(['DOMAIN', 'SENT', 'DEFERRED', 'BOUNCED', 'REJECTED', 'EXPIRED'], rows, new Set([1, 2, 3, 4, 5])));
    if (report.outcomes.length > maxRows) lines.push(`  … and ${n(report.outcomes.length - maxRows)} more domains`);
  }
  lines.push('');
  lines.push('Inputs');
  for (const i of report.inputs) lines.push(...inputLine(i));
  const c = report.correlation;
  lines.push(
    `Correlation: ${n(c.messagesOpened)} queue IDs followed, ${n(c.evictedIdle + c.evictedOverflow)} evicted` +
      ` (${n(c.evictedIdle)} idle, ${n(c.evictedOverflow)} over the limit), ${n(c.openAtEnd)} still open at the end of input`,
  );
  const nonRefusing = Object.entries(c.nonRefusingActions);
  if (nonRefusing.length > 0) {
    lines.push(`Not refusals (logged only): ${nonRefusing.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  }
  if (report.warnings.length > 0) {
    lines.push('');
    lines.push('Warnings');
    for (const w of report.warnings) lines.push(`  ${w}`);
  }
  return lines.join('\n') + '\n';
}
