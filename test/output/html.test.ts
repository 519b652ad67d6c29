/**
 * The HTML report (`--output html`, issue #13): one self-contained file, the DOM contract the browser
 * test relies on, every piece of log text escaped, and a bounded timeline.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCodes } from '../../src/aggregate/codes.js';
import { ReportBuilder, TIMELINE_POINTS, TIMELINE_SERIES, type Report } from '../../src/aggregate/report.js';
import { resolveInputs } from '../../src/input/resolve.js';
import type { RejectionEvent } from '../../src/model/event.js';
import { contentSecurityPolicy, esc, renderHtml } from '../../src/output/html.js';
import { runPipeline } from '../../src/pipeline.js';
import { runCli } from '../run-cli.js';

const SAMPLE_013 = 'samples/postfix/013-dmarc-after-relay-change.log.gz';
const HOSTILE = '</script><img src=x onerror=alert(1)>';

/** A report as `--output html` builds it (with the timeline), in-process. */
async function reportOf(inputs: string[], year?: number): Promise<Report> {
  const builder = new ReportBuilder(['550'], { timeline: true });
  const stdin = new PassThrough();
  stdin.end();
  const result = await runPipeline(
    await resolveInputs(inputs),
    { codes: parseCodes('550'), stdin, ...(year !== undefined ? { year } : {}) },
    {
      event: (e) => builder.event(e),
      outcome: (d, s) => builder.outcome(d, s),
      unit: (u) => builder.unit(u),
      onset: (r) => builder.onset(r),
    },
  );
  return builder.build(result.inputs, result.correlation);
}

const count = (html: string, needle: string) => html.split(needle).length - 1;
/** Attribute values (every one is double-quoted) of `attr` on tags that start with `tagStart`. */
function attrs(html: string, tagStart: string, attr: string): string[] {
  const out: string[] = [];
  for (let i = html.indexOf(tagStart); i >= 0; i = html.indexOf(tagStart, i + 1)) {
    const tag = html.slice(i, html.indexOf('>', i) + 1);
    const m = new RegExp(` ${attr}="([^"]*)"`).exec(tag);
    if (m !== null) out.push(m[1]!);
  }
  return out;
}
const unescape = (s: string) => s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** The tags of a document with their quoted attribute values emptied (values are escaped, so a `"` ends them). */
function tagsWithoutValues(html: string): string[] {
  return [...html.replace(/"[^"]*"/g, '""').matchAll(/<[^>]*>/g)].map((m) => m[0]);
}

describe('renderHtml on the bundled Postfix samples', () => {
  let report: Report;
  let html: string;
  beforeAll(async () => {
    report = await reportOf(['samples/postfix/*.log'], 2024);
    html = renderHtml(report);
  });

  it('is one self-contained document: nothing loaded from the network, one inline script', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/\b(?:src|href|xlink:href|action|srcset)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).not.toMatch(/<link[^>]+stylesheet/i);
    expect(count(html, '<script')).toBe(1);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).toContain('<meta name="viewport"');
    expect(html).toContain('@media print');
  });

  it('lets only its own script run: the CSP hash is the hash of the inline script', () => {
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    const csp = unescape(attrs(html, '<meta http-equiv="Content-Security-Policy"', 'content')[0]!);
    expect(csp).toBe(contentSecurityPolicy());
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(script).not.toMatch(/\beval\(|new Function|innerHTML/);
  });

  it('has no inline event handlers', () => {
    expect(tagsWithoutValues(html).filter((t) => /\son[a-z]+\s*=/i.test(t))).toEqual([]);
  });

  it('has the summary, onsets, next-moves sections and one li.subtype per subtype', () => {
    expect(count(html, '<section id="summary">')).toBe(1);
    expect(count(html, '<section id="onsets">')).toBe(1);
    expect(count(html, '<section id="next-moves">')).toBe(1);
    // No onset in these samples: said so.
    expect(report.onsets.filter((o) => o.type === 'onset')).toHaveLength(0);
    expect(count(html, '<article class="onset"')).toBe(0);
    expect(html).toContain('No onsets');
    expect(attrs(html, '<li class="subtype"', 'data-subtype')).toEqual(report.subtypes.map((s) => s.subtype));
    // The onsets come first.
    expect(html.indexOf('<section id="onsets">')).toBeLessThan(html.indexOf('<section id="summary">'));
  });

  it('has one tr.group per group with the contract attributes and a drill-down in its last cell', () => {
    const rows = [...html.matchAll(/<tr class="group" [^>]*>[\s\S]*?<\/tr>/g)].map((m) => m[0]);
    expect(rows).toHaveLength(report.groups.length);
    rows.forEach((row, i) => {
      const g = report.groups[i]!;
      expect(row).toContain(`data-count="${g.count}"`);
      expect(row).toContain(`data-domain="${esc(g.recipientDomain ?? '(none)')}"`);
      expect(row).toContain(`data-subtype="${g.subtype}"`);
      const lastCell = row.slice(row.lastIndexOf('<td'));
      expect(lastCell).toContain('<details class="drill">');
      expect(lastCell).toContain(esc(g.exampleReplies[0] ?? g.exampleReply));
    });
    expect(html).toContain('<table id="groups">');
    expect(html).toContain('<input id="group-filter" type="search"');
    expect(attrs(html, '<th scope="col" data-sort', 'data-sort')).toEqual(expect.arrayContaining(['domain', 'subtype', 'provider', 'count', 'recipients', 'first', 'last']));
  });

  it('shows affected recipients in the drill-down', () => {
    const g = report.groups.find((x) => x.recipients > 1)!;
    expect(g.exampleRecipients!.length).toBe(g.recipients);
    for (const r of g.exampleRecipients!) expect(html).toContain(`<code>${esc(r)}</code>`);
  });

  it('draws one path per series, with a legend item each, in one svg.chart', () => {
    expect(count(html, '<svg class="chart"')).toBe(1);
    const n = Number(attrs(html, '<svg class="chart"', 'data-series-count')[0]);
    const keys = attrs(html, '<path class="series"', 'data-key');
    expect(keys).toHaveLength(n);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(keys[0]).toBe('all');
    const legend = /<ul class="legend">([\s\S]*?)<\/ul>/.exec(html)![1]!;
    expect(count(legend, '<li')).toBe(n);
    // Rates are drawn where units are known: every drawn series is one of the timeline's.
    const tl = report.timeline!;
    expect(keys.map(unescape)).toEqual(tl.series.filter((s) => s.units !== null).map((s) => s.key));
    expect(tl.series.length).toBeLessThanOrEqual(TIMELINE_SERIES + 1);
  });

  it('leaves the JSON report as it was: no timeline and no recipient list without the option', async () => {
    const plain = new ReportBuilder(['550']).build([], report.correlation);
    expect(Object.keys(plain)).not.toContain('timeline');
    const { stdout } = await runCli(['analyze', 'samples/postfix/001-remote-550-providers.log', '--year', '2024', '--output', 'json', '--quiet']);
    const json = JSON.parse(stdout) as Report;
    expect(json.timeline).toBeUndefined();
    expect(json.groups.every((g) => g.exampleRecipients === undefined)).toBe(true);
  });
});

describe('renderHtml escapes log text', () => {
  it('turns hostile replies, addresses, hosts and summaries into text', async () => {
    const report = await reportOf([SAMPLE_013]);
    const g = report.groups[0]!;
    g.exampleReply = HOSTILE;
    g.exampleReplies = [HOSTILE, `550 5.7.1 "quoted" 'single' & ${HOSTILE}`];
    g.exampleRecipient = `${HOSTILE}@example.org`;
    g.exampleRecipients = [`"><svg onload=alert(1)>@example.org`];
    g.recipientDomain = `x${HOSTILE}.example`;
    g.provider = HOSTILE;
    g.topRelays = [{ value: HOSTILE, count: 1 }];
    g.statuses = [{ status: HOSTILE, count: 1 }];
    const onset = report.onsets.find((o) => o.type === 'onset')!;
    onset.summary = HOSTILE;
    onset.attribution!.top!.to = HOSTILE;
    report.onsets.push({ ...onset, type: 'attribute_change', id: HOSTILE, summary: `relay changed -> ${HOSTILE}` });
    for (const m of report.timeline!.markers) if (m.kind === 'change') m.to = HOSTILE;
    report.timeline!.series[1]!.label = HOSTILE;
    report.timeline!.series[1]!.key = HOSTILE;
    report.inputs[0]!.path = HOSTILE;
    report.warnings.push(HOSTILE);
    const html = renderHtml(report, { title: HOSTILE });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<svg onload');
    expect(count(html, '</script>')).toBe(1);
    expect(count(html, '<script')).toBe(1);
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;quoted&quot; &#39;single&#39; &amp;');
    expect(tagsWithoutValues(html).filter((t) => /\son[a-z]+\s*=/i.test(t))).toEqual([]);
    // Attribute values stay whole: the hostile domain is one data-domain value.
    expect(attrs(html, '<tr class="group"', 'data-domain').map(unescape)).toContain(`x${HOSTILE}.example`);
    expect(attrs(html, '<path class="series"', 'data-key').map(unescape)).toContain(HOSTILE);
    expect(attrs(html, '<g class="marker change"', 'data-to').map(unescape)).toContain(HOSTILE);
  });

  it('replaces control characters', () => {
    expect(esc('a\u0000b\u001bc\u007f\td\ne')).toBe('a\uFFFDb\uFFFDc\uFFFD\td\ne');
  });
});

/** A minimal outbound refusal for the builder. */
function refusal(ms: number, domain: string, subtype: 'recipient_unknown' | 'sender_auth_failed', i: number): RejectionEvent {
  return {
    time: new Date(ms).toISOString(),
    direction: 'outbound',
    outcome: 'bounced',
    code: 550,
    enhancedStatus: '5.1.1',
    classification: { subtype, provider: 'other', confidence: 'high' },
    recipientDomain: domain,
    recipient: `user${i}@${domain}`,
    sender: 'app@example.com',
    reply: '550 5.1.1 no such user',
    remote: null,
    relay: 'mx.example.net',
  } as unknown as RejectionEvent;
}

describe('the timeline', () => {
  it('is bounded: 30 days of minutes and 500 groups give at most 200 buckets and 8 series + all, counts kept', () => {
    const b = new ReportBuilder(['550'], { timeline: true });
    const t0 = Date.parse('2024-05-01T00:00:00Z');
    const minutes = 30 * 24 * 60;
    let events = 0;
    let failed = 0;
    for (let m = 0; m < minutes; m++) {
      const t = t0 + m * 60_000;
      const domain = m % 3 === 0 ? 'big.example' : `d${m % 500}.example`;
      b.event(refusal(t, domain, m % 7 === 0 ? 'sender_auth_failed' : 'recipient_unknown', m));
      events++;
      b.unit({ t, domain: 'big.example', provider: 'other', subtype: m % 2 === 0 ? 'recipient_unknown' : null });
      if (m % 2 === 0) failed++;
    }
    const r = b.build([], { messagesOpened: 0 } as never);
    const tl = r.timeline!;
    expect(tl.buckets).toBeGreaterThan(100);
    expect(tl.buckets).toBeLessThanOrEqual(TIMELINE_POINTS);
    expect(tl.buckets * tl.bucketMinutes).toBeGreaterThanOrEqual(minutes);
    expect(tl.series.length).toBeLessThanOrEqual(TIMELINE_SERIES + 1);
    const all = tl.series.find((s) => s.key === 'all')!;
    expect(all.refusals).toHaveLength(tl.buckets);
    const sum = (xs: readonly (number | null)[] | null) => (xs ?? []).reduce<number>((a, x) => a + (x ?? 0), 0);
    expect(sum(all.refusals)).toBe(events);
    expect(sum(all.units)).toBe(minutes);
    expect(sum(all.failedUnits)).toBe(failed);
    // The biggest group is drawn from the start, with its domain's units.
    const big = tl.series.find((s) => s.key === 'outbound|big.example|recipient_unknown')!;
    expect(big.since).toBeNull();
    expect(sum(big.units)).toBe(minutes);
    expect(sum(big.refusals)).toBe(r.groups.find((g) => g.recipientDomain === 'big.example' && g.subtype === 'recipient_unknown')!.count);
    const html = renderHtml(r);
    expect(Number(attrs(html, '<svg class="chart"', 'data-series-count')[0])).toBeLessThanOrEqual(TIMELINE_SERIES + 1);
  });

  it('marks every onset and each change its attribution names, once', async () => {
    const report = await reportOf([SAMPLE_013]);
    const onsets = report.onsets.filter((o) => o.type === 'onset');
    const markers = report.timeline!.markers;
    expect(markers.filter((m) => m.kind === 'onset').map((m) => m.time)).toEqual(onsets.map((o) => o.onsetAt));
    const changes = markers.filter((m) => m.kind === 'change');
    expect(changes).toEqual([
      { kind: 'change', time: '2026-03-04T10:30:00.000Z', attribute: 'relay', from: 'mx1.old.example', to: 'smtp.esp.example', onsets: onsets.map((o) => o.id) },
    ]);
  });
});

describe('mta550 analyze --output html', () => {
  it('on the relay-change sample: the onsets and the change they name are marked on the chart', async () => {
    const json = JSON.parse((await runCli(['analyze', SAMPLE_013, '--output', 'json', '--quiet'])).stdout) as Report;
    const onsets = json.onsets.filter((o) => o.type === 'onset');
    expect(onsets.length).toBeGreaterThan(0);
    const top = onsets[0]!.attribution!.top!;
    const { code, stdout, stderr } = await runCli(['analyze', SAMPLE_013, '--output', 'html', '--quiet']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(attrs(stdout, '<g class="marker onset"', 'data-time')).toEqual(onsets.map((o) => o.onsetAt));
    expect(attrs(stdout, '<g class="marker change"', 'data-time')).toEqual([new Date(top.changedAt).toISOString()]);
    expect(attrs(stdout, '<g class="marker change"', 'data-attribute')).toEqual(['relay']);
    expect(count(stdout, '<article class="onset"')).toBe(onsets.length);
    expect(attrs(stdout, '<article class="onset"', 'data-time')).toEqual(onsets.map((o) => o.onsetAt));
    expect(stdout).toContain('smtp.esp.example');
    expect(attrs(stdout, '<tr class="group"', 'data-domain')).toEqual(json.groups.map((g) => g.recipientDomain));
  });

  it('applies --redact: no address of the log in the page', async () => {
    const plain = await runCli(['analyze', 'samples/postfix/001-remote-550-providers.log', '--year', '2024', '--output', 'html', '--quiet']);
    expect(plain.stdout).toContain('dave.lee@example.org');
    const { code, stdout } = await runCli(['analyze', 'samples/postfix/001-remote-550-providers.log', '--year', '2024', '--output', 'html', '--redact', 'addresses', '--quiet']);
    expect(code).toBe(0);
    expect(stdout).not.toContain('dave.lee@example.org');
    expect(stdout).not.toMatch(/[\w.+-]+@example\.(?:org|net|com)\b/);
    expect(stdout).toMatch(/h-[0-9a-f]{12}/);
  });

  it("runs the README's command (shown, not run, by the README test: it writes a file)", async () => {
    const readme = readFileSync('README.md', 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('mta550 analyze') && l.includes('--output html'))!;
    expect(line).toBe('mta550 analyze samples/postfix/*.log --year 2024 --output html > report.html');
    const args = line.replace(/ > report\.html$/, '').split(' ').slice(1);
    const { code, stdout, stderr } = await runCli([...args, '--quiet']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
  });

  it('is one of the choices of --output', async () => {
    const { code, stderr } = await runCli(['analyze', SAMPLE_013, '--output', 'xml']);
    expect(code).toBe(2);
    expect(stderr).toContain('"html"');
  });
});
