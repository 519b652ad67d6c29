/**
 * The human report: what was refused, by whom, since when, with an example reply per group, then
 * delivery outcomes and the accounting of every input line. Every line fits the width: tables are
 * sized to their content, drop secondary columns under the row when they do not fit, then truncate
 * long cells with `…`; prose is wrapped with a hanging indent.
 */
import type { Report, ReportGroup } from '../aggregate/report.js';
import type { InputSummary } from '../pipeline.js';
import { palette, stripAnsi, visibleWidth, type Paint, type Palette } from './ansi.js';

export interface TextOptions {
  /** Terminal width every line fits in (default 100; at least 40 is used). */
  width?: number;
  /** Most rows per table (default 40); the rest are summed in one "… and K more" line. */
  top?: number;
  /** @deprecated The old name of `top`. */
  maxRows?: number;
  /** ANSI colour (default false: the caller decides, see ansi.ts useColor). */
  color?: boolean;
}

/** Default width when none is known (a pipe): fits a 100-column terminal or code review pane. */
export const DEFAULT_WIDTH = 100;
/** Default rows per table: a screenful or two; `--output json` lists everything. */
export const DEFAULT_TOP = 40;
/** Narrowest width laid out on purpose (below it lines are still cut to fit). */
const MIN_WIDTH = 40;

const n = (x: number) => x.toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
const spaces = (k: number) => ' '.repeat(Math.max(0, k));
/** Keeps words on one line when wrapping (a number and its label): no-break spaces, written as spaces. */
const glue = (s: string) => s.replace(/ /g, '\u00a0');

/** `2024-03-11T08:15:42.000Z` -> `2024-03-11 08:15:42Z`. */
function shortTime(iso: string | null): string {
  if (iso === null) return '-';
  return iso.slice(0, 10) + ' ' + iso.slice(11, 19) + 'Z';
}

/** One line of plain text, cut to `width` code points with `…`. */
function cut(text: string, width: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  const chars = [...oneLine];
  if (chars.length <= width) return oneLine;
  return chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** Paints each space-separated word on its own, so wrapping never splits an escape sequence. */
function words(paint: Paint, text: string): string {
  return text
    .split(' ')
    .map((w) => paint(w))
    .join(' ');
}

/**
 * Word-wraps `text` (words may carry colour) to `width`: the first line starts with `first`, the
 * others with `rest`. Runs of spaces inside a line are kept; a word longer than a line is split.
 */
function wrap(text: string, width: number, first: string, rest: string): string[] {
  const parts = text.split(/( +)/);
  const lines: string[] = [];
  let line = first;
  let used = visibleWidth(first);
  let hasWord = false;
  let sep = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i % 2 === 1) {
      sep = part;
      continue;
    }
    if (part === '') continue;
    const w = visibleWidth(part);
    if (hasWord && used + sep.length + w <= width) {
      line += sep + part;
      used += sep.length + w;
    } else if (!hasWord && used + w <= width) {
      line += part;
      used += w;
      hasWord = true;
    } else {
      if (hasWord) {
        lines.push(line);
        line = rest;
        used = visibleWidth(rest);
      }
      let chars = [...stripAnsi(part)];
      let word = part;
      while (used + chars.length > width && chars.length > 0) {
        const room = Math.max(1, width - used);
        lines.push(line + chars.slice(0, room).join(''));
        chars = chars.slice(room);
        word = chars.join('');
        line = rest;
        used = visibleWidth(rest);
      }
      line += word;
      used += chars.length;
      hasWord = chars.length > 0;
    }
    sep = '';
  }
  if (hasWord || lines.length === 0) lines.push(line);
  return lines.map((l) => l.replace(/\u00a0/g, ' '));
}

/** A paragraph of one style: wrapped plain text, each line's text (not its indent) painted. */
function para(text: string, width: number, indent: number, hang: number, paint: Paint = (s) => s): string[] {
  return wrap(text, width, spaces(indent), spaces(hang)).map((l) => {
    const lead = l.length - l.trimStart().length;
    return l.slice(0, lead) + paint(l.slice(lead));
  });
}

interface Column {
  header: string;
  /** The header when the column is cut narrower than `header`. */
  short?: string;
  /** Numbers: right-aligned, header too. */
  right?: boolean;
  /** Colour of a cell (its text, not its padding). */
  paint?: (cell: string, row: number) => Paint | undefined;
}

const INDENT = 2;
const GAP = 2;

function naturalWidths(cols: readonly Column[], rows: readonly string[][]): number[] {
  return cols.map((c, i) => Math.max([...c.header].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
}

function tableWidth(widths: readonly number[]): number {
  return INDENT + widths.reduce((a, w) => a + w, 0) + GAP * Math.max(0, widths.length - 1);
}

/**
 * Shrinks columns to fit `width`, in the order given: each step takes a column down to its minimum
 * before the next step starts. Cells wider than their column are cut with `…`.
 */
function shrink(widths: number[], width: number, steps: readonly (readonly [number, number])[]): number[] {
  const out = [...widths];
  for (const [col, min] of steps) {
    const over = tableWidth(out) - width;
    if (over <= 0) break;
    out[col] = Math.max(Math.min(min, out[col]!), out[col]! - over);
  }
  return out;
}

/** The header and rows of a table with these column widths (right-aligned numbers, cells cut to fit). */
function renderTable(cols: readonly Column[], rows: readonly string[][], widths: readonly number[], pal: Palette): string[] {
  const cell = (text: string, i: number, paint: Paint | undefined) => {
    const w = widths[i]!;
    const t = cut(text, w);
    const pad = spaces(w - [...t].length);
    const painted = paint ? paint(t) : t;
    return cols[i]!.right ? pad + painted : painted + pad;
  };
  const line = (cells: string[]) => (spaces(INDENT) + cells.join(spaces(GAP))).trimEnd();
  const title = (c: Column, i: number) => (c.short !== undefined && [...c.header].length > widths[i]! ? c.short : c.header);
  const header = line(cols.map((c, i) => cell(title(c, i), i, pal.bold)));
  return [header, ...rows.map((r, ri) => line(cols.map((c, i) => cell(r[i] ?? '', i, c.paint?.(r[i] ?? '', ri)))))];
}

/** `seen 2024-02-12 07:02:01Z to 08:21:32Z` (the date once when both times share it); null without times. */
function seenRange(first: string | null, last: string | null): string | null {
  if (first === null && last === null) return null;
  if (first === null || last === null || first === last) return `seen ${shortTime(first ?? last)}`;
  const a = shortTime(first);
  const b = shortTime(last);
  return `seen ${a} to ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b}`;
}

function statusList(g: ReportGroup, most: number): string {
  return g.statuses.slice(0, most).map((s) => s.status).join(' ') + (g.statuses.length > most ? ' …' : '');
}

/**
 * One row per group, each followed by its example reply. On a wide terminal the row has every column;
 * when that does not fit, the first and last times, then the statuses, move to a line under the row,
 * then the domain, provider and cause columns are cut.
 */
function groupTable(groups: ReportGroup[], width: number, top: number, pal: Palette): string[] {
  const shown = groups.slice(0, top);
  const countPaint = () => pal.red;
  const base: Column[] = [{ header: 'RECIPIENT DOMAIN', short: 'DOMAIN' }, { header: 'CAUSE' }, { header: 'PROVIDER' }];
  const tail: Column[] = [
    { header: 'COUNT', right: true, paint: countPaint },
    { header: 'RCPTS', right: true },
    { header: 'RATE (MESSAGES)', short: 'RATE', right: true },
  ];
  const baseCells = (g: ReportGroup) => [g.recipientDomain ?? '(none)', g.subtype, g.provider];
  const tailCells = (g: ReportGroup) => [
    n(g.count),
    n(g.recipients) + (g.recipientsCapped ? '+' : ''),
    g.rate === null || g.units === null ? '-' : `${pct(g.rate)} of ${n(g.units)}`,
  ];
  const layouts = [
    {
      cols: [...base, { header: 'STATUS' }, ...tail, { header: 'FIRST SEEN' }, { header: 'LAST SEEN' }],
      cells: (g: ReportGroup) => [...baseCells(g), statusList(g, 2), ...tailCells(g), shortTime(g.firstSeen), shortTime(g.lastSeen)],
      under: (): string | null => null,
    },
    {
      cols: [...base, { header: 'STATUS' }, ...tail],
      cells: (g: ReportGroup) => [...baseCells(g), statusList(g, 2), ...tailCells(g)],
      under: (g: ReportGroup) => seenRange(g.firstSeen, g.lastSeen),
    },
    {
      cols: [...base, ...tail],
      cells: (g: ReportGroup) => [...baseCells(g), ...tailCells(g)],
      under: (g: ReportGroup) => [`status ${statusList(g, 4)}`, seenRange(g.firstSeen, g.lastSeen)].filter((x) => x !== null).join('; '),
    },
  ];
  const fitting = layouts.find((l) => tableWidth(naturalWidths(l.cols, shown.map(l.cells))) <= width);
  const layout = fitting ?? layouts[layouts.length - 1]!;
  const rows = shown.map(layout.cells);
  // Domain first (down to its header), then provider, the rate's header, then cause and domain
  // further, a little of each in turn (narrow terminals: the widths were tried at 80 and 60 columns).
  const natural = naturalWidths(layout.cols, rows);
  const rate = layout.cols.length - (layout === layouts[0] ? 3 : 1);
  const rateCells = Math.max(4, ...rows.map((r) => [...r[rate]!].length));
  const widths = shrink(natural, width, [
    [0, 16],
    [2, 8],
    [rate, rateCells],
    [1, 22],
    [0, 12],
    [1, 14],
    [2, 6],
    [0, 8],
    [1, 10],
  ]);
  const [header, ...body] = renderTable(layout.cols, rows, widths, pal);
  const lines = [header!];
  body.forEach((row, i) => {
    const g = shown[i]!;
    lines.push(row);
    const under = layout.under(g);
    if (under !== null) lines.push(...para(under, width, 6, 8, pal.dim));
    const who = g.exampleRecipient === null ? '' : `${g.exampleRecipient}: `;
    lines.push(`      ${cut(who + g.exampleReply, width - 6)}`);
  });
  const rest = groups.slice(top);
  if (rest.length > 0) {
    lines.push(...para(`… and ${n(rest.length)} more groups with ${n(rest.reduce((a, g) => a + g.count, 0))} rejections (--output json lists all)`, width, 2, 4, pal.dim));
  }
  return lines;
}

/** Causes with their next move: in a column wrapped beside the row when it has room, else under the row. */
function causeTable(report: Report, width: number, top: number, pal: Palette): string[] {
  const shown = report.subtypes.slice(0, top);
  const cols: Column[] = [{ header: 'CAUSE' }, { header: 'WHO ACTS' }, { header: 'COUNT', right: true, paint: () => pal.yellow }];
  const rows = shown.map((s) => [s.subtype, s.side, n(s.count)]);
  const widths = shrink(naturalWidths(cols, rows), width, [[0, 14]]);
  const [header, ...body] = renderTable(cols, rows, widths, pal);
  const start = tableWidth(widths) + GAP;
  // A next-move column narrower than this wraps into too many short lines: put it under the row.
  const beside = width - start >= 30;
  const lines = [beside ? `${header!}${spaces(start - visibleWidth(header!))}${pal.bold('NEXT MOVE')}` : header!];
  body.forEach((row, i) => {
    const move = shown[i]!.nextMove;
    if (beside) {
      const [firstLine, ...more] = wrap(move, width, spaces(start), spaces(start));
      lines.push(`${row}${spaces(start - visibleWidth(row))}${firstLine!.slice(start)}`, ...more);
    } else {
      lines.push(row, ...para(move, width, 6, 6));
    }
  });
  const rest = report.subtypes.slice(top);
  if (rest.length > 0) lines.push(...para(`… and ${n(rest.length)} more causes with ${n(rest.reduce((a, s) => a + s.count, 0))} rejections`, width, 2, 4, pal.dim));
  return lines;
}

function outcomeTable(report: Report, width: number, top: number, pal: Palette): string[] {
  const failed = (colour: Paint) => (cell: string) => (cell === '0' ? undefined : colour);
  const cols: Column[] = [
    { header: 'DOMAIN' },
    { header: 'SENT', right: true },
    { header: 'DEFERRED', right: true, paint: failed(pal.yellow) },
    { header: 'BOUNCED', right: true, paint: failed(pal.red) },
    { header: 'REJECTED', right: true, paint: failed(pal.red) },
    { header: 'EXPIRED', right: true, paint: failed(pal.yellow) },
  ];
  const rows = report.outcomes.slice(0, top).map((o) => [o.domain === '' ? '(none)' : o.domain, n(o.sent), n(o.deferred), n(o.bounced), n(o.rejected), n(o.expired)]);
  const lines = renderTable(cols, rows, shrink(naturalWidths(cols, rows), width, [[0, 10]]), pal);
  if (report.outcomes.length > top) lines.push(...para(`… and ${n(report.outcomes.length - top)} more domains`, width, 2, 4, pal.dim));
  return lines;
}

function counters(c: Record<string, number>): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => glue(`${k} ${n(v)}`))
    .join(', ');
}

function inputLines(i: InputSummary, width: number, pal: Palette): string[] {
  const parts = [glue(`${n(i.records)} decoded`)];
  parts.push(glue(`${n(i.unsupported)} unsupported`) + (i.unsupported > 0 ? ` (${counters(i.unsupportedByDaemon)})` : ''));
  parts.push(glue(`${n(i.otherPrograms)} from other programs`) + (i.otherPrograms > 0 ? ` (${counters(i.otherByProgram)})` : ''));
  parts.push(glue(`${n(i.malformed)} malformed`));
  if (i.blank > 0) parts.push(glue(`${n(i.blank)} blank`));
  if (i.continuation > 0) parts.push(glue(`${n(i.continuation)} continuation`));
  if (i.truncated > 0) parts.push(glue(`${n(i.truncated)} truncated`));
  if (i.joined > 0) parts.push(glue(`${n(i.joined)} joined pieces`));
  if (i.messageMissing > 0) parts.push(glue(`${n(i.messageMissing)} without message text`));
  const how = [i.compression, i.encoding === null || i.encoding === undefined ? null : i.encoding.toUpperCase(), i.wrapper === null ? null : `${i.wrapper} JSON`].filter((x) => x !== null);
  const head = `${i.path}${how.length > 0 ? ` (${how.join(', ')})` : ''}: ${i.format ?? 'unrecognised'}, ${n(i.lines)} lines`;
  const out = [...para(head, width, 2, 4), ...para(parts.join('; '), width, 4, 6, pal.dim)];
  if (i.error !== undefined) out.push(...para(`READ ERROR: ${i.error}`, width, 4, 6, pal.red));
  for (const m of i.malformedExamples) {
    const label = `malformed line ${m.line} (${m.reason}): `;
    const room = width - 4 - [...label].length;
    // The excerpt is cut, never wrapped: it is a sample of a line, not something to read whole.
    if (room >= 20) out.push(`    ${label}${pal.dim(cut(m.excerpt, room))}`);
    else out.push(...para(label.trimEnd(), width, 4, 6), `      ${pal.dim(cut(m.excerpt, width - 6))}`);
  }
  return out;
}

const SPARK = '▁▂▃▄▅▆▇█';

/** A small per-5-minute chart of the failure rate. */
function sparkline(rates: readonly number[]): string {
  const max = Math.max(...rates, 1e-9);
  return rates.map((r) => SPARK[Math.min(SPARK.length - 1, Math.round((r / max) * (SPARK.length - 1)))]).join('');
}

function onsetLines(report: Report, width: number, top: number, pal: Palette): string[] {
  const onsets = report.onsets.filter((o) => o.type === 'onset');
  const changes = report.onsets.filter((o) => o.type === 'attribute_change');
  const elevated = report.onsets.filter((o) => o.type === 'new_series_elevated');
  const item = (text: string) => para(text, width, 4, 6);
  const extra: string[] = [];
  // The 20 was chosen as a screenful; --top lowers it.
  const most = Math.min(20, top);
  if (elevated.length > 0) {
    extra.push(...para('New or sparse series with elevated rates (not onsets: no baseline of their own yet)', width, 2, 4, pal.bold));
    for (const e of elevated.slice(0, most)) extra.push(...item(e.summary));
    if (elevated.length > most) extra.push(...para(`… and ${elevated.length - most} more (--output json lists all)`, width, 4, 6, pal.dim));
  }
  const mixes = report.onsets.filter((o) => o.type === 'mix_shift');
  if (mixes.length > 0) {
    extra.push(...para('Mix shifts (the overall rate rose because mail went elsewhere; no domain got worse)', width, 2, 4, pal.bold));
    for (const x of mixes) extra.push(...item(x.summary));
  }
  if (changes.length > 0) {
    extra.push(...para('Sending-path changes', width, 2, 4, pal.bold));
    for (const c of changes) extra.push(...item(c.summary));
  }
  if (onsets.length === 0 && extra.length === 0) return [];
  if (onsets.length === 0) return [pal.bold('Onsets: none'), ...extra, ''];
  const recoveries = report.onsets.filter((o) => o.type === 'recovery');
  const lines = [pal.bold('Onsets')];
  const detail = (text: string, paint?: Paint) => para(text, width, 6, 8, paint);
  for (const o of onsets) {
    const series = o.basis === 'count' ? 'inbound (refused by this server)' : o.series.level === 'global' ? 'all domains' : o.series.level === 'provider' ? `provider ${o.series.provider}` : o.series.recipientDomain!;
    const change =
      o.basis === 'count'
        ? `${o.before!.rate.toFixed(2)} -> ${o.after!.rate.toFixed(2)} per minute (${n(o.after!.failures)} refusals in ${n(o.after!.units)} min; count basis, no denominator)`
        : `${pct(o.before!.rate)} -> ${pct(o.after!.rate)} (${n(o.after!.failures)}/${n(o.after!.units)} messages)`;
    const head = `${words(pal.boldRed, shortTime(o.onsetAt))}  ${words(pal.bold, series)}  ${o.series.subtype}  ${words(pal.red, change)}, ${glue(`detected ${shortTime(o.detectedAt).slice(11)}`)}, ${glue(`confidence ${o.confidence}`)}`;
    lines.push(...wrap(head, width, '  ', '      '));
    const a = o.attribution;
    if (a?.top) {
      lines.push(
        ...detail(
          `cause: ${a.top.attribute} changed ${a.top.from ?? '(new)'} -> ${a.top.to} at ${shortTime(new Date(a.top.changedAt).toISOString()).slice(11)}` +
            ` (carries ${Math.round(100 * a.top.explainedFraction)}% of the excess failures${a.bundle.length > 0 ? `; with ${a.bundle.join(', ')}` : ''})`,
        ),
      );
    } else if (a?.concentration) {
      lines.push(...detail(`cause: concentrated on ${a.concentration.attribute} ${a.concentration.value} (${a.concentration.riskRatio.toFixed(1)}x the risk, ${Math.round(100 * a.concentration.explainedFraction)}% of the excess failures)`));
    } else if (o.basis === 'count') {
      lines.push(...detail(o.summary.split('; ').slice(1).join('; ') || 'cause: not attributed (count basis)'));
    } else {
      lines.push(...detail('cause: no attribute change found (relay, relay IP, sender domain, client IP, provider)'));
    }
    if (o.timeline) lines.push(...wrap(`${pal.red(sparkline(o.timeline.rates))}  ${words(pal.dim, `rate per 5 min from ${shortTime(o.timeline.start).slice(11)}`)}`, width, '      ', '        '));
    for (const u of report.onsets.filter((x) => x.type === 'update' && x.onsetId === o.id)) {
      lines.push(...detail(`escalated at ${shortTime(u.onsetAt).slice(11)}: ${pct(u.before!.rate)} -> ${pct(u.after!.rate)} (${n(u.after!.failures)}/${n(u.after!.units)} messages)`, pal.red));
    }
    const rec = recoveries.find((r) => r.series.key === o.series.key && r.recoveredAt! > o.detectedAt);
    if (rec) lines.push(...detail(`recovered at ${shortTime(rec.recoveredAt).slice(11)}: ${rec.summary}`));
    lines.push(...detail(`next move: ${o.nextMove}`));
  }
  // The latest record of each incident (a new member re-emits it).
  const incidents = [...new Map(report.onsets.filter((o) => o.type === 'incident').map((o) => [o.id, o])).values()];
  if (incidents.length > 0) {
    lines.push(...para('Incidents (onsets with one cause)', width, 2, 4, pal.bold));
    for (const i of incidents) lines.push(...item(i.summary), ...detail(`next move: ${i.nextMove}`));
  }
  lines.push(...extra);
  lines.push('');
  return lines;
}

/** `wastedAttempts` -> `wasted attempts`. */
const spaced = (k: string) => (k === 'maxIn10Minutes' ? 'most in 10 min' : k.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`));

/**
 * The findings (#14): severity, kind, title, key counts, next move and the first example; at most
 * `top`. Low ones get their title and example only (a long run has many; JSON lists everything).
 */
function findingLines(report: Report, width: number, top: number, pal: Palette): string[] {
  const findings = report.findings ?? [];
  if (findings.length === 0) return [];
  const lines = [pal.bold('Findings')];
  const detail = (text: string, paint?: Paint) => para(text, width, 6, 8, paint);
  for (const f of findings.slice(0, top)) {
    const sev = f.severity === 'high' ? pal.boldRed('HIGH') : f.severity === 'medium' ? pal.yellow('MEDIUM') : 'LOW';
    lines.push(...wrap(`${sev}  ${f.kind}  ${words(f.severity === 'high' ? pal.bold : (x) => x, f.title)}`, width, '  ', '      '));
    const c = f.counts;
    const first = typeof c['firstSeen'] === 'string' ? c['firstSeen'] : null;
    const last = typeof c['lastSeen'] === 'string' ? c['lastSeen'] : null;
    const parts = Object.entries(c)
      .filter(([k, v]) => k !== 'firstSeen' && k !== 'lastSeen' && v !== null && v !== 0)
      .map(([k, v]) => glue(`${spaced(k)} ${typeof v === 'number' ? (Number.isInteger(v) ? n(v) : pct(v)) : v}`));
    if (first !== null) parts.push(glue(last !== null && last !== first ? `${shortTime(first)} to ${shortTime(last)}` : shortTime(first)));
    if (f.severity !== 'low') {
      if (parts.length > 0) lines.push(...detail(parts.join(', '), pal.dim));
      lines.push(...detail(`next move: ${f.nextMove}`));
    }
    const e = f.examples[0];
    if (e !== undefined) lines.push(`      ${pal.dim(cut(`e.g. ${e.file}:${e.line}: ${e.text}`, width - 6))}`);
  }
  if (findings.length > top) lines.push(...para(`… and ${n(findings.length - top)} more findings (--output json lists all)`, width, 2, 4, pal.dim));
  lines.push('');
  return lines;
}

/** A line still wider than the terminal (a table on a very narrow one) is cut, colour dropped. */
function fit(line: string, width: number): string {
  if (visibleWidth(line) <= width) return line;
  return [...stripAnsi(line)].slice(0, Math.max(0, width - 1)).join('') + '…';
}

/** The text report (default width 100, 40 rows per table, no colour). */
export function renderText(report: Report, options: TextOptions = {}): string {
  const asked = options.width ?? DEFAULT_WIDTH;
  const width = Math.max(MIN_WIDTH, asked);
  const top = Math.max(1, options.top ?? options.maxRows ?? DEFAULT_TOP);
  const pal = palette(options.color === true);
  const t = report.totals;
  const lines: string[] = [...onsetLines(report, width, top, pal), ...findingLines(report, width, top, pal)];
  const totalLines = report.inputs.reduce((a, i) => a + i.lines, 0);
  const codes = report.codes.join(', ');
  lines.push(
    ...para(
      `mta550: ${n(t.events)} rejection${t.events === 1 ? '' : 's'} (${codes}) in ${n(report.inputs.length)} input${report.inputs.length === 1 ? '' : 's'}, ${n(totalLines)} lines` +
        (t.firstSeen !== null ? `, ${shortTime(t.firstSeen)} to ${shortTime(t.lastSeen)}` : ''),
      width,
      0,
      2,
      pal.bold,
    ),
  );
  if (t.events > 0) {
    lines.push(
      ...para(
        `${n(t.byDirection.outbound)} outbound (a remote server refused us), ${n(t.byDirection.inbound)} inbound (this server refused a client)` +
          (t.byDirection.submission === undefined ? '' : `, ${n(t.byDirection.submission)} submission (an application's relay or provider refused it)`),
        width,
        2,
        4,
      ),
    );
    const outcomes = Object.entries(t.byOutcome).sort((a, b) => b[1] - a[1]);
    lines.push(...para(`by outcome: ${outcomes.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`, width, 2, 4));
  }
  const titles = {
    outbound: 'Refused by remote servers (outbound)',
    inbound: 'Refused by this server (inbound)',
    submission: 'Refused to applications by their relay or provider (submission, from app logs)',
  } as const;
  const heading = (text: string) => para(text, width, 0, 2, pal.bold);
  for (const direction of ['outbound', 'inbound', 'submission'] as const) {
    const groups = report.groups.filter((g) => g.direction === direction);
    if (groups.length === 0) continue;
    lines.push('', ...heading(titles[direction]));
    lines.push(...groupTable(groups, width, top, pal));
  }
  if (report.subtypes.length > 0) {
    lines.push('', ...heading('Causes and next moves'));
    lines.push(...causeTable(report, width, top, pal));
  }
  if (report.outcomes.length > 0) {
    lines.push('', ...heading('Delivery outcomes by recipient domain (every attempt, all codes)'));
    lines.push(...outcomeTable(report, width, top, pal));
  }
  lines.push('', ...heading('Inputs'));
  for (const i of report.inputs) lines.push(...inputLines(i, width, pal));
  const c = report.correlation;
  lines.push(
    ...para(
      `Correlation: ${n(c.messagesOpened)} queue IDs followed, ${n(c.evictedIdle + c.evictedOverflow)} evicted` +
        ` (${n(c.evictedIdle)} idle, ${n(c.evictedOverflow)} over the limit), ${glue(`${n(c.openAtEnd)} still open at the end of input`)}`,
      width,
      0,
      2,
      pal.dim,
    ),
  );
  const nonRefusing = Object.entries(c.nonRefusingActions);
  if (nonRefusing.length > 0) {
    lines.push(...para(`Not refusals (logged only): ${nonRefusing.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`, width, 0, 2, pal.dim));
  }
  if (report.warnings.length > 0) {
    lines.push('', ...para('Warnings', width, 0, 2, (s) => pal.bold(pal.yellow(s))));
    for (const w of report.warnings) lines.push(...para(w, width, 2, 4));
  }
  return lines.map((l) => fit(l, Math.max(1, asked))).join('\n') + '\n';
}
