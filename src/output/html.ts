/**
 * The HTML report (`--output html`): one self-contained file, nothing loaded from the network
 * (inline CSS, one inline script, charts as inline SVG drawn here), readable printed and on a phone.
 * Onsets first, then the summary, a chart of the rejection rate of the biggest groups with onset
 * and change markers, the groups table (sortable, filterable, with drill-downs) and the next moves.
 *
 * Log text is attacker-controlled (a remote server writes its reply; anyone picks an address): every
 * piece of it goes through `esc`, and a Content-Security-Policy lets only this file's own script run
 * (by its hash), so even a mistake here could not run injected script or load anything.
 *
 * DOM contract (a browser test relies on it): `svg.chart[data-series-count]` with one
 * `path.series[data-key]` per series and `g.marker.onset[data-time]`, `g.marker.change[data-time]`;
 * `ul.legend` with one `li` per series; `table#groups` with `th[data-sort]` and
 * `tr.group[data-count][data-domain][data-subtype]`, `input#group-filter`; `section#onsets` with
 * one `article.onset` per onset; `section#findings` with `article.finding[data-kind][data-severity]`; `section#summary`; `section#next-moves` with `li.subtype[data-subtype]`;
 * `details.drill` in each group row's last cell.
 */
import { createHash } from 'node:crypto';
import type { Report, ReportGroup, ReportTimeline, TimelineMarker, TimelineSeries } from '../aggregate/report.js';
import { SUBTYPE_INFO } from '../classify/subtypes.js';
import type { OnsetRecord } from '../onset/engine.js';
import type { Finding } from '../findings/types.js';

export interface HtmlOptions {
  /** The page title (default "mta550 report"). */
  title?: string;
  /** Most rows of the groups table (default 2,000: every group the report keeps). */
  maxRows?: number;
  /** Who made the file, shown in the footer (default "mta550"). */
  generator?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value as HTML: markup characters as entities, control characters as U+FFFD. */
export function esc(value: string | number | null | undefined): string {
  return String(value ?? '')
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD');
}

const n = (x: number) => x.toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;

/** `2024-03-11T08:15:42.000Z` -> `2024-03-11 08:15:42Z`. */
function shortTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** A <time> element (machine-readable datetime, readable text). */
function time(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  return `<time datetime="${esc(iso)}">${esc(shortTime(iso))}</time>`;
}

function seriesName(s: OnsetRecord['series'], basis: OnsetRecord['basis']): string {
  if (basis === 'count') return 'inbound (refused by this server)';
  return s.level === 'global' ? 'all recipient domains' : s.level === 'provider' ? `provider ${s.provider ?? '?'}` : (s.recipientDomain ?? '?');
}

// ---------------------------------------------------------------------------------------------
// Chart

/** Okabe-Ito colours (told apart with the common colour blindnesses); "all" is drawn dark and dashed. */
const COLOURS = ['#E69F00', '#0072B2', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#999933', '#882255'];
const ALL_COLOUR = '#333333';

const W = 960;
const H = 360;
const M = { left: 60, right: 20, top: 34, bottom: 44 };

/** A round upper bound for an axis: 1, 2, 2.5 or 5 x 10^k. */
function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** Time-axis steps in minutes: at most about 6 labels. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 7 * 1440, 14 * 1440, 30 * 1440, 91 * 1440, 365 * 1440];

function timeLabel(ms: number, stepMin: number, spanMin: number): string {
  const iso = new Date(ms).toISOString();
  if (stepMin >= 1440) return iso.slice(0, 10);
  if (spanMin > 1440) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return iso.slice(11, 16);
}

/** The drawn value of a bucket: the rate (null where no unit was decided), or the refusals. */
function values(s: TimelineSeries, mode: 'rate' | 'count'): (number | null)[] {
  if (mode === 'count') return s.refusals;
  return s.units!.map((u, i) => {
    const f = s.failedUnits![i];
    return u === null || u === 0 || f === null || f === undefined ? null : f / u;
  });
}

function markerTitle(m: TimelineMarker, onsets: readonly OnsetRecord[]): string {
  if (m.kind === 'change') {
    return `${m.attribute} changed ${m.from ?? '(new)'} -> ${m.to} at ${shortTime(m.time)} (named by ${m.onsets.length} onset${m.onsets.length === 1 ? '' : 's'})`;
  }
  const r = onsets.find((o) => o.id === m.id);
  const name = r === undefined ? m.seriesKey : seriesName(r.series, r.basis);
  return `onset ${shortTime(m.time)}: ${name} ${m.subtype} (${m.level})${r?.before && r.after ? `, ${pct(r.before.rate)} -> ${pct(r.after.rate)}` : ''}`;
}

function renderChart(tl: ReportTimeline | undefined, onsets: readonly OnsetRecord[]): string {
  if (tl === undefined || tl.buckets === 0 || tl.start === null) {
    return (
      '<svg class="chart" data-series-count="0" viewBox="0 0 960 80" role="img" aria-label="No timeline"><text x="20" y="45">No timestamped refusals: nothing to draw.</text></svg>\n' +
      '<ul class="legend"></ul>'
    );
  }
  const all = tl.series.find((s) => s.key === 'all');
  const unitsKnown = all?.units != null && all.units.some((u) => (u ?? 0) > 0);
  const mode: 'rate' | 'count' = unitsKnown ? 'rate' : 'count';
  const drawn = tl.series.filter((s) => mode === 'count' || s.units !== null);
  const left = tl.series.filter((s) => !drawn.includes(s));
  const t0 = Date.parse(tl.start);
  const bucketMs = tl.bucketMinutes * 60_000;
  const t1 = t0 + tl.buckets * bucketMs;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (ms: number) => M.left + (Math.min(Math.max(ms, t0), t1) - t0) * (pw / (t1 - t0));
  const vals = drawn.map((s) => values(s, mode));
  let max = 0;
  for (const v of vals) for (const y of v) if (y !== null && y > max) max = y;
  const top = mode === 'rate' ? Math.min(1, niceCeil(max)) : niceCeil(Math.max(max, 1));
  const y = (v: number) => M.top + ph - (v / top) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  const yTitle = mode === 'rate' ? `rejection rate (failed messages / messages, per ${tl.bucketMinutes} min)` : `refusals per ${tl.bucketMinutes} min`;
  out.push(
    `<svg class="chart" data-series-count="${drawn.length}" data-mode="${mode}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" preserveAspectRatio="xMidYMid meet">`,
    `<title id="chart-title">${esc(yTitle)} from ${esc(shortTime(tl.start))}</title>`,
  );
  // Grid and y labels.
  out.push('<g class="axis y">');
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    const label = mode === 'rate' ? `${+(100 * v).toFixed(1)}%` : n(+v.toFixed(2));
    out.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${f(y(v))}" y2="${f(y(v))}"/><text x="${M.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${esc(label)}</text>`);
  }
  out.push('</g>');
  // Time axis.
  const spanMin = (t1 - t0) / 60_000;
  const step = STEPS.find((s) => spanMin / s <= 6) ?? STEPS.at(-1)!;
  out.push(`<g class="axis x"><line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/>`);
  for (let t = Math.ceil(t0 / (step * 60_000)) * step * 60_000; t <= t1; t += step * 60_000) {
    out.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${M.top + ph}" y2="${M.top + ph + 5}"/><text x="${f(x(t))}" y="${M.top + ph + 18}" text-anchor="middle">${esc(timeLabel(t, step, spanMin))}</text>`);
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle" class="caption">time (UTC)</text></g>`);
  // Series.
  drawn.forEach((s, i) => {
    const v = vals[i]!;
    let d = '';
    let open = false;
    v.forEach((val, j) => {
      if (val === null) {
        open = false;
        return;
      }
      const px = f(M.left + (j + 0.5) * (pw / tl.buckets));
      const py = f(y(val));
      const isolated = !open && (v[j + 1] === null || v[j + 1] === undefined);
      d += open ? `L${px} ${py}` : `M${px} ${py}${isolated ? 'h0.5' : ''}`;
      open = true;
    });
    const colour = s.key === 'all' ? ALL_COLOUR : COLOURS[(i - (drawn[0]?.key === 'all' ? 1 : 0)) % COLOURS.length]!;
    out.push(
      `<path class="series" data-key="${esc(s.key)}" d="${d}" stroke="${colour}" fill="none"><title>${esc(s.label)} (${n(s.total)} refusals)</title></path>`,
    );
  });
  // Markers: vertical lines; one label per kind where several fall together (3 onsets at 10:30),
  // stacked where labels would overlap, kept inside the plot at the right edge.
  const xs = tl.markers.map((m) => x(Date.parse(m.time)));
  const labelled: { x: number; kind: string }[] = [];
  tl.markers.forEach((m, i) => {
    const mx = xs[i]!;
    const near = tl.markers.filter((o, j) => o.kind === m.kind && Math.abs(xs[j]! - mx) < 1);
    let text = '';
    if (!labelled.some((l) => l.kind === m.kind && Math.abs(l.x - mx) < 1)) {
      const level = labelled.filter((l) => Math.abs(l.x - mx) < 90).length;
      labelled.push({ x: mx, kind: m.kind });
      const label = m.kind === 'onset' ? `${near.length > 1 ? `${near.length} onsets` : 'onset'} ${m.time.slice(11, 16)}` : `${m.attribute} change`;
      const anchor = mx > W - M.right - 90 ? ` text-anchor="end"` : '';
      text = `<text x="${f(anchor === '' ? mx + 3 : mx - 3)}" y="${M.top - 4 - 12 * (level % 2)}"${anchor}>${esc(label)}</text>`;
    }
    const attrs =
      m.kind === 'onset'
        ? `data-series="${esc(m.seriesKey)}" data-level="${esc(m.level)}" data-subtype="${esc(m.subtype)}"`
        : `data-attribute="${esc(m.attribute)}" data-to="${esc(m.to)}"`;
    out.push(
      `<g class="marker ${m.kind}" data-time="${esc(m.time)}" ${attrs}><line x1="${f(mx)}" x2="${f(mx)}" y1="${M.top}" y2="${M.top + ph}"/>` +
        `${text}<title>${esc(markerTitle(m, onsets))}</title></g>`,
    );
  });
  out.push('</svg>');
  const legend = drawn.map((s, i) => {
    const colour = s.key === 'all' ? ALL_COLOUR : COLOURS[(i - (drawn[0]?.key === 'all' ? 1 : 0)) % COLOURS.length]!;
    const since = s.since === null ? '' : ` (counted from ${shortTime(s.since)})`;
    return `<li data-key="${esc(s.key)}"><span class="swatch${s.key === 'all' ? ' all' : ''}" style="border-color:${colour}"></span>${esc(s.label)} <span class="muted">${n(s.total)}${esc(since)}</span></li>`;
  });
  out.push(`<ul class="legend">${legend.join('')}</ul>`);
  out.push(
    '<p class="marker-key"><span class="key-onset"></span> onset (a rate stepped up) <span class="key-change"></span> sending-path change an onset was attributed to. Hover a line for details.</p>',
  );
  const notes = [`Each point is ${tl.bucketMinutes} min (${tl.buckets} points).`];
  if (mode === 'rate') notes.push('A gap: no message to that domain was decided in that time.');
  else notes.push('No delivery attempts in the input: refusals are counted, not rated.');
  if (left.length > 0) notes.push(`Not drawn (no denominator: refusals by this server): ${left.map((s) => s.label).join(', ')}.`);
  out.push(`<p class="note">${esc(notes.join(' '))}</p>`);
  return out.join('\n');
}

/** A small inline chart of an onset's per-5-minute rate. */
function sparkline(rates: readonly number[]): string {
  if (rates.length === 0) return '';
  const w = 160;
  const h = 32;
  const max = Math.max(...rates, 1e-9);
  const step = rates.length > 1 ? w / (rates.length - 1) : 0;
  const d = rates.map((r, i) => `${i === 0 ? 'M' : 'L'}${(i * step).toFixed(1)} ${(h - 2 - (r / max) * (h - 4)).toFixed(1)}`).join('');
  return `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" aria-hidden="true"><path d="${d}${rates.length === 1 ? 'h1' : ''}"/></svg>`;
}

// ---------------------------------------------------------------------------------------------
// Sections

function onsetCause(o: OnsetRecord): string {
  const a = o.attribution;
  if (a?.top) {
    return (
      `<p class="cause"><strong>Cause:</strong> ${esc(a.top.attribute)} changed <code>${esc(a.top.from ?? '(new)')}</code> &rarr; <code>${esc(a.top.to)}</code> at ${time(new Date(a.top.changedAt).toISOString())}` +
      ` (carries ${Math.round(100 * a.top.explainedFraction)}% of the excess failures${a.bundle.length > 0 ? `; with ${esc(a.bundle.join(', '))}` : ''})</p>`
    );
  }
  if (a?.concentration) {
    const c = a.concentration;
    return `<p class="cause"><strong>Cause:</strong> concentrated on ${esc(c.attribute)} <code>${esc(c.value)}</code> (${c.riskRatio.toFixed(1)}x the risk, ${Math.round(100 * c.explainedFraction)}% of the excess failures)</p>`;
  }
  return '<p class="cause"><strong>Cause:</strong> no attribute change found (relay, relay IP, sender domain, client IP, provider)</p>';
}

function onsetArticle(o: OnsetRecord, i: number): string {
  const name = seriesName(o.series, o.basis);
  const change =
    o.before === null || o.after === null
      ? ''
      : o.basis === 'count'
        ? `${o.before.rate.toFixed(2)} &rarr; ${o.after.rate.toFixed(2)} per minute (${n(o.after.failures)} refusals in ${n(o.after.units)} min; count basis)`
        : `${pct(o.before.rate)} &rarr; ${pct(o.after.rate)} (${n(o.after.failures)}/${n(o.after.units)} messages)`;
  return [
    `<article class="onset" id="onset-${i + 1}" data-id="${esc(o.id)}" data-time="${esc(o.onsetAt)}" data-level="${esc(o.series.level)}" data-subtype="${esc(o.series.subtype)}">`,
    `<h3>${time(o.onsetAt)} &middot; ${esc(name)} &middot; <span class="subtype-id">${esc(o.series.subtype)}</span></h3>`,
    `<p class="rates"><strong>${change}</strong>, detected ${time(o.detectedAt)}, confidence <span class="confidence ${esc(o.confidence)}">${esc(o.confidence)}</span>${o.incidentId !== null ? `, incident <code>${esc(o.incidentId)}</code>` : ''}</p>`,
    onsetCause(o),
    o.timeline === null ? '' : `<p class="spark-line">${sparkline(o.timeline.rates)} <span class="muted">rate per ${o.timeline.binMinutes} min from ${esc(shortTime(o.timeline.start).slice(11))}</span></p>`,
    `<p class="summary-text">${esc(o.summary)}</p>`,
    `<p class="next"><strong>Next move:</strong> ${esc(o.nextMove)}</p>`,
    '</article>',
  ]
    .filter(Boolean)
    .join('\n');
}

function otherRecords(title: string, records: readonly OnsetRecord[], cls: string): string {
  if (records.length === 0) return '';
  const items = records.slice(0, 50).map((r) => `<li class="${cls}" data-time="${esc(r.detectedAt)}">${time(r.detectedAt)} ${esc(r.summary)}</li>`);
  if (records.length > 50) items.push(`<li>… and ${n(records.length - 50)} more (--output json lists all)</li>`);
  return `<h3>${esc(title)}</h3>\n<ul class="records">${items.join('\n')}</ul>`;
}

function renderOnsets(report: Report): string {
  const onsets = report.onsets.filter((o) => o.type === 'onset');
  const parts = ['<section id="onsets">', '<h2>Onsets</h2>'];
  if (onsets.length === 0) parts.push('<p class="none">No onsets: no refusal rate stepped up in this input.</p>');
  else parts.push(...onsets.map(onsetArticle));
  parts.push(
    otherRecords('Escalations of an onset', report.onsets.filter((o) => o.type === 'update'), 'update'),
    otherRecords('New or sparse series with elevated rates (not onsets: no baseline of their own yet)', report.onsets.filter((o) => o.type === 'new_series_elevated'), 'elevated'),
    otherRecords('Incidents (onsets that share a cause)', latestIncidents(report.onsets), 'incident'),
    otherRecords('Mix shifts (the overall rate rose because mail went elsewhere)', report.onsets.filter((o) => o.type === 'mix_shift'), 'mix-shift'),
    otherRecords('Sending-path changes', report.onsets.filter((o) => o.type === 'attribute_change'), 'attribute-change'),
    otherRecords('Recoveries', report.onsets.filter((o) => o.type === 'recovery'), 'recovery'),
    '</section>',
  );
  return parts.filter(Boolean).join('\n');
}

/** The findings (#14): one `article.finding[data-kind][data-severity]` each, everything escaped. */
function renderFindings(report: Report): string {
  const findings = report.findings ?? [];
  if (findings.length === 0) return '';
  const article = (f: Finding): string => {
    const counts = Object.entries(f.counts)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${esc(k)} ${typeof v === 'number' && Number.isInteger(v) ? n(v) : esc(v)}`)
      .join(', ');
    const examples = f.examples.map((e) => `<li><code>${esc(`${e.file}:${e.line}`)}</code> ${e.time === null ? '' : `${time(e.time)} `}<span class="reply">${esc(e.text)}</span></li>`).join('');
    return [
      `<article class="finding" id="${esc(f.id)}" data-kind="${esc(f.kind)}" data-severity="${esc(f.severity)}">`,
      `<h3><span class="severity">${esc(f.severity)}</span> ${esc(f.title)}</h3>`,
      `<p class="muted">${esc(f.kind)}; ${counts}</p>`,
      `<p><strong>Next move:</strong> ${esc(f.nextMove)}</p>`,
      examples === '' ? '' : `<ul class="examples">${examples}</ul>`,
      '</article>',
    ]
      .filter(Boolean)
      .join('\n');
  };
  return ['<section id="findings">', '<h2>Findings</h2>', ...findings.map(article), '</section>'].join('\n');
}

/** An incident is re-emitted with each new member: the latest record of each id. */
function latestIncidents(records: readonly OnsetRecord[]): OnsetRecord[] {
  const byId = new Map<string, OnsetRecord>();
  for (const r of records) if (r.type === 'incident') byId.set(r.id, r);
  return [...byId.values()];
}

function counters(c: Record<string, number>): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${esc(k)} ${n(v)}`)
    .join(', ');
}

function renderSummary(report: Report): string {
  const t = report.totals;
  const sum = (f: (i: Report['inputs'][number]) => number) => report.inputs.reduce((a, i) => a + f(i), 0);
  const codes = report.codes.join(', ');
  const rows: [string, string][] = [
    ['Rejections', `<strong>${n(t.events)}</strong> (${esc(codes)})`],
    ['Period', `${time(t.firstSeen)} to ${time(t.lastSeen)}`],
    ['Outbound', `${n(t.byDirection.outbound)} (a remote server refused us)`],
    ['Inbound', `${n(t.byDirection.inbound)} (this server refused a client)`],
  ];
  if ((t.byDirection.submission ?? 0) > 0) rows.push(['Submission', `${n(t.byDirection.submission!)} (seen by an application)`]);
  rows.push(['By outcome', counters(t.byOutcome) || '-'], ['By code', counters(t.byCode) || '-']);
  if (report.units.total > 0) rows.push(['Messages (delivery units)', `${n(report.units.total)}, ${n(report.units.failed)} failed with a 5xx (${pct(report.units.failed / report.units.total)})`]);
  rows.push(
    ['Onsets', `${n(report.onsets.filter((o) => o.type === 'onset').length)}`],
    ['Groups', `${n(report.groups.length)} (recipient domain x direction x cause)`],
    [
      'Inputs',
      `${n(report.inputs.length)} input(s), ${n(sum((i) => i.lines))} lines: ${n(sum((i) => i.records))} decoded, ${n(sum((i) => i.unsupported))} unsupported, ${n(sum((i) => i.otherPrograms))} from other programs, ${n(sum((i) => i.malformed))} malformed`,
    ],
  );
  const parts = [
    '<section id="summary">',
    '<h2>Summary</h2>',
    `<dl class="facts">${rows.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${v}</dd></div>`).join('')}</dl>`,
  ];
  if (report.warnings.length > 0) parts.push(`<ul class="warnings">${report.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  parts.push('</section>');
  return parts.join('\n');
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '<p class="muted">none</p>' : `<ul>${items.map((x) => `<li>${x}</li>`).join('')}</ul>`;
}

function drill(g: ReportGroup): string {
  const recipients = g.exampleRecipients ?? (g.exampleRecipient === null ? [] : [g.exampleRecipient]);
  const more = g.recipients - recipients.length;
  const recipientItems = recipients.map((r) => `<code>${esc(r)}</code>`);
  if (more > 0) recipientItems.push(`<span class="muted">and ${n(more)}${g.recipientsCapped ? '+' : ''} more</span>`);
  const replies = g.exampleReplies.length > 0 ? g.exampleReplies : [g.exampleReply];
  return [
    `<details class="drill"><summary>Replies, recipients</summary><div class="drill-body">`,
    `<h4>Example replies</h4><ol class="replies">${replies.map((r) => `<li><code>${esc(r)}</code></li>`).join('')}</ol>`,
    `<h4>Recipients (${n(g.recipients)}${g.recipientsCapped ? '+' : ''})</h4>${list(recipientItems)}`,
    `<h4>Statuses</h4>${list(g.statuses.map((s) => `<code>${esc(s.status)}</code> ${n(s.count)}`))}`,
    `<h4>Relays</h4>${list(g.topRelays.map((r) => `<code>${esc(r.value)}</code> ${n(r.count)}`))}`,
    `<h4>Sender domains (${n(g.senders)} senders)</h4>${list(g.topSenderDomains.map((r) => `<code>${esc(r.value)}</code> ${n(r.count)}`))}`,
    `<p class="next"><strong>Next move:</strong> ${esc(SUBTYPE_INFO[g.subtype]?.nextMove ?? '')}</p>`,
    '</div></details>',
  ].join('');
}

const HEADERS: { key: string; label: string; numeric?: boolean }[] = [
  { key: 'domain', label: 'Recipient domain' },
  { key: 'direction', label: 'Direction' },
  { key: 'subtype', label: 'Cause' },
  { key: 'provider', label: 'Provider' },
  { key: 'status', label: 'Status' },
  { key: 'count', label: 'Count', numeric: true },
  { key: 'recipients', label: 'Recipients', numeric: true },
  { key: 'rate', label: 'Rate', numeric: true },
  { key: 'first', label: 'First seen' },
  { key: 'last', label: 'Last seen' },
];

function groupRow(g: ReportGroup, i: number): string {
  const domain = g.recipientDomain ?? '(none)';
  const status = g.statuses.slice(0, 2).map((s) => s.status).join(' ') + (g.statuses.length > 2 ? ' …' : '');
  const rate = g.rate === null || g.units === null ? '-' : `${pct(g.rate)} of ${n(g.units)}`;
  const data = [
    ['index', String(i)],
    ['count', String(g.count)],
    ['recipients', String(g.recipients)],
    ['rate', g.rate === null ? '' : String(g.rate)],
    ['domain', domain],
    ['direction', g.direction],
    ['subtype', g.subtype],
    ['provider', g.provider],
    ['status', status],
    ['first', g.firstSeen ?? ''],
    ['last', g.lastSeen ?? ''],
  ]
    .map(([k, v]) => `data-${k}="${esc(v)}"`)
    .join(' ');
  return (
    `<tr class="group" ${data}>` +
    `<td>${esc(domain)}</td><td>${esc(g.direction)}</td><td><span class="subtype-id">${esc(g.subtype)}</span></td><td>${esc(g.provider)}</td><td>${esc(status)}</td>` +
    `<td class="num">${n(g.count)}</td><td class="num">${n(g.recipients)}${g.recipientsCapped ? '+' : ''}</td><td class="num">${esc(rate)}</td>` +
    `<td>${time(g.firstSeen)}</td><td>${time(g.lastSeen)}</td><td class="drill-cell">${drill(g)}</td></tr>`
  );
}

function renderGroups(report: Report, maxRows: number): string {
  const shown = report.groups.slice(0, maxRows);
  const head = HEADERS.map(
    (h) =>
      `<th scope="col" data-sort="${h.key}"${h.numeric === true ? ' data-type="number" class="num"' : ''}${h.key === 'count' ? ' aria-sort="descending"' : ''}><button type="button">${esc(h.label)}</button></th>`,
  ).join('');
  const rest = report.groups.slice(maxRows);
  return [
    '<section id="groups-section">',
    '<h2>Groups</h2>',
    '<p class="muted">One row per recipient domain, direction and cause. Click a column to sort it (again to reverse); open a row\'s details for its replies and recipients.</p>',
    '<div class="filter-bar"><label for="group-filter">Filter</label> <input id="group-filter" type="search" placeholder="domain, cause, provider, status…" autocomplete="off"> <span id="group-count" aria-live="polite">' +
      `${n(shown.length)} of ${n(shown.length)} groups</span></div>`,
    '<div class="table-wrap">',
    `<table id="groups"><thead><tr>${head}<th scope="col">Details</th></tr></thead>`,
    `<tbody>${shown.map(groupRow).join('\n')}</tbody></table>`,
    '</div>',
    rest.length > 0 ? `<p class="muted">… and ${n(rest.length)} more groups with ${n(rest.reduce((a, g) => a + g.count, 0))} rejections (--output json lists all)</p>` : '',
    '</section>',
  ]
    .filter(Boolean)
    .join('\n');
}

function renderNextMoves(report: Report): string {
  const items = report.subtypes.map((s) => {
    const conf = Object.entries(s.confidence)
      .map(([k, v]) => `${esc(k)} ${n(v)}`)
      .join(', ');
    return (
      `<li class="subtype" data-subtype="${esc(s.subtype)}"><h3><span class="subtype-id">${esc(s.subtype)}</span> <span class="muted">${n(s.count)} refusal${s.count === 1 ? '' : 's'}, ${n(s.recipientDomains)} domain${s.recipientDomains === 1 ? '' : 's'}; who acts: ${esc(s.side)}; confidence ${conf}</span></h3>` +
      `<p class="next">${esc(s.nextMove)}</p></li>`
    );
  });
  return ['<section id="next-moves">', '<h2>Causes and next moves</h2>', items.length === 0 ? '<p class="none">No refusals: nothing to do.</p>' : `<ul class="subtypes">${items.join('\n')}</ul>`, '</section>'].join('\n');
}

function renderOutcomes(report: Report): string {
  if (report.outcomes.length === 0) return '';
  const rows = report.outcomes
    .slice(0, 50)
    .map((o) => `<tr><td>${esc(o.domain || '(none)')}</td><td class="num">${n(o.sent)}</td><td class="num">${n(o.deferred)}</td><td class="num">${n(o.bounced)}</td><td class="num">${n(o.rejected)}</td><td class="num">${n(o.expired)}</td></tr>`);
  return [
    '<section id="outcomes">',
    '<h2>Delivery outcomes by recipient domain</h2>',
    '<p class="muted">Every delivery attempt, all codes: the denominators of the rates.</p>',
    '<div class="table-wrap"><table><thead><tr><th scope="col">Domain</th><th scope="col" class="num">Sent</th><th scope="col" class="num">Deferred</th><th scope="col" class="num">Bounced</th><th scope="col" class="num">Rejected</th><th scope="col" class="num">Expired</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody></table></div>`,
    report.outcomes.length > 50 ? `<p class="muted">… and ${n(report.outcomes.length - 50)} more domains (--output json lists all)</p>` : '',
    '</section>',
  ]
    .filter(Boolean)
    .join('\n');
}

function renderInputs(report: Report): string {
  const items = report.inputs.map((i) => {
    const parts = [`${n(i.records)} decoded`, `${n(i.unsupported)} unsupported`, `${n(i.otherPrograms)} from other programs`, `${n(i.malformed)} malformed`];
    const how = [i.compression, i.encoding?.toUpperCase() ?? null, i.wrapper === null ? null : `${i.wrapper} JSON`].filter((x) => x !== null && x !== undefined);
    const extra = [
      i.error !== undefined ? `<p class="error">Read error: ${esc(i.error)}</p>` : '',
      ...i.malformedExamples.map((m) => `<p class="muted">malformed line ${n(m.line)} (${esc(m.reason)}): <code>${esc(m.excerpt)}</code></p>`),
    ].join('');
    return `<li><code>${esc(i.path)}</code>${how.length > 0 ? ` (${esc(how.join(', '))})` : ''}: ${esc(i.format ?? 'unrecognised')}, ${n(i.lines)} lines; ${esc(parts.join('; '))}${extra}</li>`;
  });
  const c = report.correlation as unknown as Record<string, unknown>;
  const corr = Object.entries(c)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${esc(k)} ${n(v as number)}`)
    .join(', ');
  return ['<section id="inputs">', '<h2>Inputs</h2>', `<ul class="inputs">${items.join('\n')}</ul>`, corr === '' ? '' : `<p class="muted">Correlation: ${corr}</p>`, '</section>']
    .filter(Boolean)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Page

const CSS = `
:root{color-scheme:light;--fg:#1b1b1b;--muted:#5a5a5a;--line:#d0d0d0;--bg:#fff;--soft:#f5f5f3;--onset:#c0182b;--change:#5b3cc4}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:1200px;padding:0 16px 32px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:break-word}
header{padding:16px 0 8px;border-bottom:2px solid var(--fg)}
h1{font-size:1.5rem;margin:0 0 4px}
h2{font-size:1.2rem;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:1rem;margin:12px 0 4px}
h4{font-size:.85rem;margin:10px 0 2px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}
.muted,.note{color:var(--muted)}
.none{font-weight:600}
article.onset{border-left:4px solid var(--onset);background:var(--soft);padding:4px 12px 8px;margin:12px 0;break-inside:avoid}
article.onset p{margin:4px 0}
article.finding{border-left:4px solid var(--onset);padding:4px 12px 8px;margin:12px 0;break-inside:avoid}
article.finding[data-severity=low]{border-left-color:var(--soft)}
article.finding h3{font-size:1em;margin:4px 0}
article.finding .severity{text-transform:uppercase}
.confidence.high{color:#0a6b2b;font-weight:600}.confidence.low{color:var(--muted)}
.subtype-id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
svg.spark{vertical-align:middle;max-width:100%;height:auto}svg.spark path{fill:none;stroke:var(--onset);stroke-width:1.5}
ul.records{padding-left:20px}ul.records li{margin:2px 0}
dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,340px),1fr));gap:4px 24px;margin:0}
dl.facts div{display:flex;gap:8px;padding:3px 0;border-bottom:1px dotted var(--line);min-width:0}
dl.facts dt{font-weight:600;flex:0 0 9em}dl.facts dd{margin:0;min-width:0}
.chart-wrap{width:100%;max-width:100%;overflow-x:auto}
svg.chart{display:block;width:100%;height:auto;max-width:100%;font:12px system-ui,sans-serif}
svg.chart .grid{stroke:#e6e6e6}svg.chart .axis line{stroke:#888}svg.chart .axis text{fill:#444}
svg.chart path.series{stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
svg.chart path.series[data-key="all"]{stroke-dasharray:6 4}
svg.chart .marker line{stroke-width:1.5}
svg.chart .marker.onset line{stroke:var(--onset)}svg.chart .marker.onset text{fill:var(--onset)}
svg.chart .marker.change line{stroke:var(--change);stroke-dasharray:4 3}svg.chart .marker.change text{fill:var(--change)}
svg.chart .marker text{font-size:11px}
ul.legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 18px}
ul.legend li{display:flex;align-items:center;gap:6px;min-width:0}
.swatch{display:inline-block;width:22px;height:0;border-top:3px solid;flex:none}.swatch.all{border-top-style:dashed}
.marker-key .key-onset,.marker-key .key-change{display:inline-block;width:0;height:14px;border-left:2px solid var(--onset);margin:0 4px -2px 8px}
.marker-key .key-change{border-left:2px dashed var(--change)}
.filter-bar{display:flex;flex-wrap:wrap;align-items:center;gap:6px 10px;margin:8px 0}
#group-filter{font:inherit;padding:4px 8px;width:100%;max-width:24rem;border:1px solid #999;border-radius:4px}
.table-wrap{max-width:100%;overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line)}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
th{background:var(--soft);position:sticky;top:0}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
.num{text-align:right}
td.drill-cell{white-space:normal;min-width:14rem}
details.drill summary{cursor:pointer;color:#0b5cad}
.drill-body{width:36rem;max-width:80vw;white-space:normal;overflow-wrap:anywhere}
.drill-body ul,.drill-body ol{margin:2px 0;padding-left:20px}
ul.subtypes{list-style:none;padding:0}
li.subtype{border-bottom:1px solid var(--line);padding:4px 0}li.subtype h3{margin:4px 0}li.subtype .next{margin:2px 0 6px}
ul.inputs li{margin:4px 0}
.error{color:var(--onset)}
footer{margin-top:32px;color:var(--muted);font-size:13px}
@media (max-width:600px){body{padding:0 10px 24px;font-size:14px}dl.facts dt{flex-basis:8.5em}.drill-body{width:18rem}svg.chart{min-width:420px;font-size:20px}svg.chart .marker text{font-size:18px}}
@media print{
 body{max-width:none;padding:0;font-size:11pt}
 .filter-bar,.marker-key{display:none}
 .table-wrap,.chart-wrap{overflow:visible;border:0}
 svg.chart{min-width:0}
 th,td{white-space:normal}
 th{position:static}
 th button::after{content:""!important}
 details.drill summary{color:inherit}
 .drill-body{width:auto;max-width:none}
 section,article.onset,li.subtype,tr{break-inside:avoid}
 h2{break-after:avoid}
 a{color:inherit}
}
`;

/**
 * Sorting, filtering and printing. Plain DOM, no eval, listeners attached here (no inline handlers):
 * the Content-Security-Policy allows this script by its hash and nothing else.
 */
const SCRIPT = `
(function () {
  'use strict';
  var table = document.getElementById('groups');
  if (table) {
    var tbody = table.tBodies[0];
    var headers = Array.prototype.slice.call(table.querySelectorAll('th[data-sort]'));
    var rowText = function (tr) {
      var text = '';
      for (var i = 0; i < tr.cells.length; i++) if (!tr.cells[i].classList.contains('drill-cell')) text += ' ' + tr.cells[i].textContent;
      return text.toLowerCase();
    };
    var sortBy = function (th) {
      var key = th.getAttribute('data-sort');
      var numeric = th.getAttribute('data-type') === 'number';
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      headers.forEach(function (h) { if (h !== th) h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(tbody.querySelectorAll('tr.group'));
      rows.sort(function (a, b) {
        var x = a.getAttribute('data-' + key) || '';
        var y = b.getAttribute('data-' + key) || '';
        var c;
        if (x === '' || y === '') c = x === y ? 0 : x === '' ? 1 : -1;
        else if (numeric) c = dir * (parseFloat(x) - parseFloat(y));
        else c = dir * (x < y ? -1 : x > y ? 1 : 0);
        return c || (parseInt(a.getAttribute('data-index'), 10) - parseInt(b.getAttribute('data-index'), 10));
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    };
    headers.forEach(function (th) {
      th.addEventListener('click', function () { sortBy(th); });
    });
    var filter = document.getElementById('group-filter');
    var count = document.getElementById('group-count');
    if (filter) {
      filter.addEventListener('input', function () {
        var q = filter.value.trim().toLowerCase();
        var rows = tbody.querySelectorAll('tr.group');
        var shown = 0;
        for (var i = 0; i < rows.length; i++) {
          var match = q === '' || rowText(rows[i]).indexOf(q) >= 0;
          rows[i].style.display = match ? '' : 'none';
          if (match) shown++;
        }
        if (count) count.textContent = shown + ' of ' + rows.length + ' groups';
      });
    }
  }
  var opened = [];
  window.addEventListener('beforeprint', function () {
    opened = Array.prototype.slice.call(document.querySelectorAll('details.drill:not([open])'));
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
`;

/** The Content-Security-Policy: nothing from the network, styles inline, only SCRIPT runs. */
export function contentSecurityPolicy(script = SCRIPT): string {
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  return `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`;
}

/** The whole report as one self-contained HTML document. */
export function renderHtml(report: Report, options: HtmlOptions = {}): string {
  const title = options.title ?? 'mta550 report';
  const t = report.totals;
  const headline = `${n(t.events)} rejection${t.events === 1 ? '' : 's'} (${report.codes.join(', ')}) in ${n(report.inputs.length)} input${report.inputs.length === 1 ? '' : 's'}`;
  const onsetCount = report.onsets.filter((o) => o.type === 'onset').length;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy())}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    '<link rel="icon" href="data:,">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${esc(title)}</h1>`,
    `<p>${esc(headline)}, ${time(t.firstSeen)} to ${time(t.lastSeen)}; <a href="#onsets">${n(onsetCount)} onset${onsetCount === 1 ? '' : 's'}</a>, <a href="#groups-section">${n(report.groups.length)} groups</a>, <a href="#next-moves">next moves</a>.</p>`,
    '</header>',
    '<main>',
    renderOnsets(report),
    renderFindings(report),
    renderSummary(report),
    '<section id="timeline">',
    '<h2>Rejection rate over time</h2>',
    '<div class="chart-wrap">',
    renderChart(report.timeline, report.onsets),
    '</div>',
    '</section>',
    renderGroups(report, options.maxRows ?? 2000),
    renderNextMoves(report),
    renderOutcomes(report),
    renderInputs(report),
    '</main>',
    `<footer>Made by ${esc(options.generator ?? 'mta550')}. Self-contained: this file loads nothing from the network. Times are UTC.</footer>`,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
