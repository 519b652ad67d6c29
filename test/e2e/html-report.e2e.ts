/**
 * The HTML report (`mta550 analyze --output html`, issue #13) in a real browser: Debian's chromium
 * (setup-browser.sh), headless through playwright-core's CDP, opened from file:// with every
 * http(s) request aborted (the report is self-contained: none may even be attempted).
 *
 * Through the DOM: no console errors or page errors; each chart draws as many series paths as its
 * data-series-count, with a legend item for each (and only series of the JSON report's groups); its
 * onset markers are the JSON report's records of type onset
 * and a change marker stands at the attributed relay change; the groups table has a row per group
 * of the JSON report; clicking a header sorts (numerically for count and recipients, the second
 * click reverses, aria-sort follows); the filter hides the rows that do not match; a drill-down
 * opens; at 375 px the document does not scroll sideways. Screenshots: test-artifacts/html-report.png
 * (full page, every run) and test-artifacts/html-report-readme.png (1280 wide, the chart and the
 * groups; written when missing or with MTA550_UPDATE_SCREENSHOT=1). The README's docs/report*.png
 * show sample 013 alone (one onset story, a readable chart).
 *
 * A hand-written page that follows the same DOM contract runs first, as the harness's self-test:
 * every check passes on it, independently of the renderer (and each was seen to fail on copies of
 * it broken on purpose: string sorting, an onclick attribute, a missing legend item, a console error,
 * a fetch, a moved change marker, visibility instead of display, a wide element).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The browser's side, as far as the page functions below use it: the project compiles without the
 * DOM library (lib ES2023), and declaring these here keeps it out of every other test file. (Page
 * functions run in the browser: they cast, they cannot call helpers of this module.)
 */
interface DomList<T> extends Iterable<T> {
  readonly length: number;
}
interface DomEl {
  readonly tagName: string;
  readonly attributes: DomList<{ readonly name: string }>;
  readonly children: DomList<DomEl>;
  readonly parentElement: DomEl | null;
  readonly textContent: string | null;
  /** tr */
  readonly cells: DomList<DomEl>;
  /** details */
  readonly open: boolean;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomEl | null;
  querySelectorAll(selector: string): DomList<DomEl>;
  getBoundingClientRect(): { readonly width: number; readonly height: number; readonly top: number };
  /** SVG */
  getBBox(): { readonly width: number; readonly height: number };
  getTotalLength(): number;
}
declare const document: {
  readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number; readonly scrollHeight: number };
  readonly body: { readonly scrollWidth: number };
  querySelector(selector: string): DomEl | null;
};
declare const window: { readonly scrollY: number };
declare function getComputedStyle(el: DomEl): { readonly display: string; readonly stroke: string };

const CLI = path.resolve('dist/src/cli.js');
const CHROMIUM = process.env.MTA550_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');
// The README's images (docs/report*.png) are of sample 013 alone; this run's README-sized shot is an artifact.
const README_SHOT = path.resolve('test-artifacts/html-report-readme.png');
const SAMPLES = [
  ...['001-remote-550-providers', '002-inbound-rejects', '003-multi-recipient-partial', '004-queue-id-reuse', '005-content-filter', '006-year-rollover',
    '007-deferred-with-550-text', '008-crlf-mixed-envelopes', '009-local-bounces', '010-no-rejections', '011-headerless-excerpt', '012-journal-short-iso',
    '014-journald-json', '015-docker-json-file'].map((n) => `samples/postfix/${n}.log`),
  // The onset whose cause is named: the relay change of 2024-03-04 10:30.
  'samples/postfix/013-dmarc-after-relay-change.log.gz',
];

/** What the page must show, from the JSON report of the same inputs (or the fixture's own truth). */
interface Expected {
  /** data-time of the onset markers, as a multiset. */
  onsetMarkers: string[];
  /** data-time of change markers that must be present. */
  changeMarkers: string[];
  /** article.onset in section#onsets. */
  onsetArticles: number;
  /** One per row of the groups table. */
  groups: { domain: string; count: number }[];
  /** li.subtype in section#next-moves. */
  subtypes: string[];
  /** A filter text and a domain it keeps. */
  filter: string;
  /** Whether a chart series key may be drawn (the JSON report has no timeline: its groups say which). */
  seriesKey: (key: string) => boolean;
  /** Most series a chart draws. */
  maxSeries: number;
}

interface Watch {
  page: Page;
  context: BrowserContext;
  consoleErrors: string[];
  pageErrors: string[];
  /** http(s)/ws requests the page tried (each aborted). */
  network: string[];
  /** Every request: only the report itself (and data:/blob:) may appear. */
  requests: string[];
}

let browser: Browser;

async function open(file: string, width = 1280): Promise<Watch> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: true, serviceWorkers: 'block' });
  const w: Watch = { page: null as unknown as Page, context, consoleErrors: [], pageErrors: [], network: [], requests: [] };
  await context.route(/^(https?|wss?):/i, async (route) => {
    w.network.push(route.request().url());
    await route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  w.page = page;
  page.on('console', (m) => {
    if (m.type() === 'error') w.consoleErrors.push(`${m.text()} (${m.location().url}:${m.location().lineNumber})`);
  });
  page.on('pageerror', (e) => w.pageErrors.push(String(e)));
  page.on('request', (r) => w.requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return w;
}

/** Table rows as the page shows them now: attributes, visibility, the cell under a header. */
async function rows(page: Page, column?: string) {
  return page.$$eval(
    '#groups tr.group',
    (els, col) => {
      const trs = els as unknown as DomEl[];
      const table = document.querySelector('#groups')!;
      const ths = [...table.querySelectorAll('thead th, tr:first-child th')];
      const idx = col === undefined ? -1 : ths.findIndex((th) => th.getAttribute('data-sort') === col);
      return trs.map((tr) => {
        const cells = [...tr.cells];
        return {
          domain: tr.getAttribute('data-domain') ?? '',
          subtype: tr.getAttribute('data-subtype') ?? '',
          count: Number(tr.getAttribute('data-count')),
          visible: getComputedStyle(tr).display !== 'none',
          text: (tr.textContent ?? '').toLowerCase(),
          cell: idx >= 0 && cells[idx] ? (cells[idx].textContent ?? '').trim() : '',
        };
      });
    },
    column,
  );
}

const num = (s: string) => Number((/\d[\d,\u202f\u00a0 ]*/.exec(s)?.[0] ?? 'NaN').replace(/[^\d]/g, ''));
const monotonic = (xs: number[], dir: 'ascending' | 'descending') => xs.every((x, i) => i === 0 || (dir === 'ascending' ? xs[i - 1]! <= x : xs[i - 1]! >= x));
const sortedStrings = (xs: string[], dir: 'ascending' | 'descending') => {
  const cmp = [(a: string, b: string) => a.localeCompare(b), (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)];
  return cmp.some((c) => xs.every((x, i) => i === 0 || (dir === 'ascending' ? c(xs[i - 1]!, x) <= 0 : c(xs[i - 1]!, x) >= 0)));
};
const multiset = (xs: string[]) => [...xs].sort();

async function ariaSort(page: Page, key: string) {
  return page.getAttribute(`#groups th[data-sort="${key}"]`, 'aria-sort');
}

/** The checks, on a report opened at 1280 px. */
function suite(name: string, make: () => { file: string; expected: Expected }, shots: { full: string; readme?: string }) {
  describe(name, () => {
    let w: Watch;
    let exp: Expected;
    let file: string;
    beforeAll(async () => {
      ({ file, expected: exp } = make());
      w = await open(file);
    });
    afterAll(async () => {
      await w?.context.close();
    });

    it('loads with no console errors, no page errors and no network', async () => {
      // Whatever ran on load has settled (listeners attached, charts laid out).
      await w.page.waitForLoadState('networkidle');
      expect(w.pageErrors).toEqual([]);
      expect(w.consoleErrors).toEqual([]);
      expect(w.network).toEqual([]);
      const href = pathToFileURL(file).href;
      expect(w.requests.filter((u) => u !== href && !/^(data|blob|about):/.test(u))).toEqual([]);
      // Listeners come from the script, not from on*= attributes.
      const inline = await w.page.$$eval('*', (els) => (els as unknown as DomEl[]).flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName}[${a.name}]`)));
      expect(inline).toEqual([]);
    });

    it('draws each chart: a path per series, a legend item per series, the onset and change markers', async () => {
      const charts = await w.page.$$eval('svg.chart', (els) =>
        (els as unknown as DomEl[]).map((svg) => {
          const paths = [...svg.querySelectorAll('path.series')];
          // The legend that belongs to this chart: the nearest ancestor holding a ul.legend.
          let legend: DomEl | null = null;
          for (let el: DomEl | null = svg.parentElement; el && !legend; el = el.parentElement) legend = el.querySelector('ul.legend');
          const box = (g: DomEl) => g.getBBox();
          return {
            seriesCount: svg.getAttribute('data-series-count'),
            paths: paths.map((p) => ({ key: p.getAttribute('data-key') ?? '', d: p.getAttribute('d') ?? '', length: p.getTotalLength(), stroke: getComputedStyle(p).stroke })),
            legendItems: legend ? legend.querySelectorAll(':scope > li').length : -1,
            legendKeys: legend ? [...legend.querySelectorAll(':scope > li')].map((li) => li.getAttribute('data-key')) : [],
            onsets: [...svg.querySelectorAll('g.marker.onset')].map((g) => ({ time: g.getAttribute('data-time') ?? '', h: box(g).height })),
            changes: [...svg.querySelectorAll('g.marker.change')].map((g) => ({ time: g.getAttribute('data-time') ?? '', h: box(g).height })),
            width: svg.getBoundingClientRect().width,
            height: svg.getBoundingClientRect().height,
          };
        }),
      );
      expect(charts.length).toBeGreaterThan(0);
      const legends = await w.page.locator('ul.legend').count();
      expect(legends).toBeGreaterThan(0);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(100);
        expect(c.height).toBeGreaterThan(50);
        const n = Number(c.seriesCount);
        expect(Number.isInteger(n) && n > 0, `data-series-count=${c.seriesCount}`).toBe(true);
        expect(c.paths).toHaveLength(n);
        expect(c.legendItems).toBe(n);
        expect(n).toBeLessThanOrEqual(exp.maxSeries);
        for (const p of c.paths) expect(exp.seriesKey(p.key), `series ${p.key}`).toBe(true);
        // A legend item names its series (when it carries data-key: the renderer's do).
        if (c.legendKeys.some((k) => k !== null)) expect(c.legendKeys).toEqual(c.paths.map((p) => p.key));
        // Drawn, not just present: a non-empty geometry, distinct keys.
        for (const p of c.paths) {
          expect(p.key).not.toBe('');
          expect(p.d).not.toBe('');
          expect(p.length).toBeGreaterThan(0);
          expect(p.stroke).not.toBe('none');
        }
        expect(new Set(c.paths.map((p) => p.key)).size).toBe(n);
        for (const m of [...c.onsets, ...c.changes]) {
          expect(Number.isNaN(Date.parse(m.time)), `data-time=${m.time}`).toBe(false);
          expect(m.h).toBeGreaterThan(0);
        }
      }
      expect(multiset(charts.flatMap((c) => c.onsets.map((m) => new Date(m.time).toISOString())))).toEqual(multiset(exp.onsetMarkers));
      const changes = new Set(charts.flatMap((c) => c.changes.map((m) => new Date(m.time).toISOString())));
      for (const t of exp.changeMarkers) expect(changes, `change marker at ${t}`).toContain(t);
      expect([...changes].sort()).toEqual([...new Set(exp.changeMarkers)].sort());
    });

    it('shows the sections: summary, an article per onset, a next move per subtype', async () => {
      expect(await w.page.locator('section#summary').count()).toBe(1);
      expect(await w.page.locator('section#onsets article.onset').count()).toBe(exp.onsetArticles);
      const subtypes = await w.page.$$eval('section#next-moves li.subtype', (els) => (els as unknown as DomEl[]).map((li) => li.getAttribute('data-subtype') ?? ''));
      expect(multiset(subtypes)).toEqual(multiset(exp.subtypes));
    });

    it('lists a row per group', async () => {
      const r = await rows(w.page);
      expect(r.map((x) => `${x.domain} ${x.count}`).sort()).toEqual(exp.groups.map((g) => `${g.domain} ${g.count}`).sort());
      expect(r.every((x) => x.visible)).toBe(true);
      for (const key of ['domain', 'subtype', 'provider', 'count', 'recipients', 'first', 'last']) {
        expect(await w.page.locator(`#groups th[data-sort="${key}"]`).count(), `th[data-sort=${key}]`).toBe(1);
      }
    });

    it('sorts on a header click, numerically for count and recipients; the second click reverses', async () => {
      const th = (key: string) => w.page.locator(`#groups th[data-sort="${key}"]`);
      // Domain first, so that count's order is the sort's doing and not the initial order.
      await th('domain').click();
      const d1 = await ariaSort(w.page, 'domain');
      expect(['ascending', 'descending']).toContain(d1);
      expect(sortedStrings((await rows(w.page)).map((x) => x.domain), d1 as 'ascending')).toBe(true);

      for (const key of ['count', 'recipients'] as const) {
        await th(key).click();
        const first = (await ariaSort(w.page, key)) as 'ascending' | 'descending';
        expect(['ascending', 'descending']).toContain(first);
        // One header at a time carries the sort.
        expect(await w.page.locator('#groups th[aria-sort="ascending"], #groups th[aria-sort="descending"]').count()).toBe(1);
        const values = async () => (await rows(w.page, key)).map((x) => (key === 'count' ? x.count : num(x.cell)));
        const v1 = await values();
        expect(v1.every((x) => Number.isFinite(x)), `${key}: ${v1.join(',')}`).toBe(true);
        expect(monotonic(v1, first), `${key} ${first}: ${v1.join(',')}`).toBe(true);
        expect(new Set(v1).size).toBeGreaterThan(1);
        await th(key).click();
        const second = await ariaSort(w.page, key);
        expect(second).toBe(first === 'ascending' ? 'descending' : 'ascending');
        const v2 = await values();
        expect(monotonic(v2, second as 'ascending'), `${key} ${second}: ${v2.join(',')}`).toBe(true);
        // Numeric, not lexicographic: the extremes are the numeric ones.
        expect(v2[0]).toBe(second === 'descending' ? Math.max(...v2) : Math.min(...v2));
      }
      // Count descending (click until so): the data-count order is non-increasing.
      for (let i = 0; i < 2 && (await ariaSort(w.page, 'count')) !== 'descending'; i++) await th('count').click();
      expect(await ariaSort(w.page, 'count')).toBe('descending');
      const desc = (await rows(w.page)).map((x) => x.count);
      expect(desc).toEqual([...desc].sort((a, b) => b - a));
      await th('count').click();
      expect(await ariaSort(w.page, 'count')).toBe('ascending');
      const asc = (await rows(w.page)).map((x) => x.count);
      expect(asc).toEqual([...asc].sort((a, b) => a - b));
      expect(w.consoleErrors).toEqual([]);
      expect(w.pageErrors).toEqual([]);
    });

    it('filters rows by substring; clearing the filter shows them all again', async () => {
      const filter = w.page.locator('input#group-filter');
      expect(await filter.getAttribute('type')).toBe('search');
      await filter.fill(exp.filter);
      const r = await rows(w.page);
      const term = exp.filter.toLowerCase();
      // Every row naming the domain stays; every row not containing the text is hidden.
      for (const x of r) {
        if (x.domain.toLowerCase().includes(term)) expect(x.visible, `${x.domain}/${x.subtype} kept`).toBe(true);
        if (!x.text.includes(term)) expect(x.visible, `${x.domain}/${x.subtype} hidden`).toBe(false);
      }
      expect(r.some((x) => x.visible)).toBe(true);
      expect(r.some((x) => !x.visible)).toBe(true);
      await filter.fill('');
      expect((await rows(w.page)).every((x) => x.visible)).toBe(true);
      expect(w.consoleErrors).toEqual([]);
      expect(w.pageErrors).toEqual([]);
    });

    it('opens a drill-down', async () => {
      const drill = w.page.locator('#groups tr.group details.drill').first();
      expect(await drill.count()).toBe(1);
      expect(await drill.evaluate((d) => (d as unknown as DomEl).open)).toBe(false);
      await drill.locator('summary').first().click();
      expect(await drill.evaluate((d) => (d as unknown as DomEl).open)).toBe(true);
      // Its content is laid out (not only the summary).
      const h = await drill.evaluate((d) => [...(d as unknown as DomEl).children].filter((c) => c.tagName !== 'SUMMARY').reduce((s, c) => s + c.getBoundingClientRect().height, 0));
      expect(h).toBeGreaterThan(0);
      expect(w.consoleErrors).toEqual([]);
      expect(w.pageErrors).toEqual([]);
    });

    it('saves the screenshots', async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      // Back to the report as it loads, for the pictures.
      const clean = await open(file);
      try {
        await clean.page.screenshot({ path: shots.full, fullPage: true });
        expect(statSync(shots.full).size).toBeGreaterThan(10_000);
        if (shots.readme !== undefined) {
          // The README's picture, 1280 wide: the chart's section (chart, legend, markers) and the top of
          // the groups table after it (1,100 px: under 300 KB; the whole page is about 850 KB).
          const readme = path.join(ARTIFACTS, path.basename(shots.readme));
          const area = await clean.page.$eval('svg.chart', (el) => {
            const svg = el as unknown as DomEl & { closest(selector: string): DomEl | null };
            const top = (svg.closest('section') ?? svg).getBoundingClientRect().top + window.scrollY;
            return { top: Math.max(0, Math.floor(top) - 8), height: document.documentElement.scrollHeight };
          });
          await clean.page.screenshot({ path: readme, fullPage: true, clip: { x: 0, y: area.top, width: 1280, height: Math.min(1100, area.height - area.top) } });
          expect(statSync(readme).size).toBeLessThan(300_000);
          if (!existsSync(shots.readme) || process.env.MTA550_UPDATE_SCREENSHOT === '1') copyFileSync(readme, shots.readme);
        }
      } finally {
        await clean.context.close();
      }
    });

    it('does not scroll sideways at 375 px', async () => {
      const narrow = await open(file, 375);
      try {
        const m = await narrow.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, body: document.body.scrollWidth }));
        expect(m.scroll, JSON.stringify(m)).toBeLessThanOrEqual(m.client);
        expect(m.body, JSON.stringify(m)).toBeLessThanOrEqual(m.client);
        await narrow.page.screenshot({ path: shots.full.replace(/\.png$/, '-375.png'), fullPage: true });
        expect(narrow.consoleErrors).toEqual([]);
        expect(narrow.pageErrors).toEqual([]);
      } finally {
        await narrow.context.close();
      }
    });
  });
}

let dir: string;
beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} (test/e2e/setup-browser.sh installs it)`).toBe(true);
  dir = mkdtempSync(path.join(os.tmpdir(), 'mta550-html-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
});
afterAll(async () => {
  await browser?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

suite('harness self-test: a hand-written page that follows the contract', () => ({ file: fixture(), expected: FIXTURE_EXPECTED }), { full: path.join(ARTIFACTS, 'html-fixture.png') });

describe('the report of the bundled samples (src/output/html.ts)', () => {
  suite('mta550 analyze --output html', () => {
    const cli = (output: string) => execFileSync(process.execPath, [CLI, 'analyze', ...SAMPLES, '--year', '2024', '--output', output, '--quiet'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const file = path.join(dir, 'report.html');
    writeFileSync(file, cli('html'));
    const expected = expectedFromJson(JSON.parse(cli('json')) as JsonReport);
    // The samples hold what the checks need: an onset, the relay change it is attributed to (013).
    expect(expected.onsetMarkers.length).toBeGreaterThan(0);
    expect(expected.changeMarkers).toContain('2024-03-04T10:30:00.000Z');
    expect(expected.groups.length).toBeGreaterThan(1);
    return { file, expected };
  }, { full: path.join(ARTIFACTS, 'html-report.png'), readme: README_SHOT });
});

/** The parts of the JSON report (`--output json`) the page is checked against. */
interface JsonReport {
  onsets: { type: string; onsetAt: string | null; attribution: { top: { changedAt: number } | null } | null; precedingChange: { changedAt: string } | null }[];
  groups: { recipientDomain: string | null; direction: string; subtype: string; count: number }[];
  subtypes: { subtype: string }[];
}

/** Series the chart draws besides "all": the biggest groups (src/aggregate/report.ts TIMELINE_SERIES). */
const TIMELINE_SERIES = 8;

/**
 * The page's rules (src/output/html.ts, report.ts timelineMarkers): an article and a marker per
 * record of type "onset" (escalations, new-series and recovery records are listed, not marked); a
 * change marker per change an onset's attribution or precedingChange names; a row per group
 * (data-domain "(none)" for a group without a domain); series "all" and groups'
 * `direction|domain|subtype`.
 */
function expectedFromJson(r: JsonReport): Expected {
  const onsets = r.onsets.filter((o) => o.type === 'onset');
  const groupKeys = new Set(r.groups.map((g) => `${g.direction}|${g.recipientDomain ?? ''}|${g.subtype}`));
  return {
    onsetMarkers: onsets.filter((o) => o.onsetAt !== null).map((o) => new Date(o.onsetAt!).toISOString()),
    changeMarkers: onsets.flatMap((o) => [
      ...(o.attribution?.top ? [new Date(o.attribution.top.changedAt).toISOString()] : []),
      ...(o.precedingChange ? [new Date(o.precedingChange.changedAt).toISOString()] : []),
    ]),
    onsetArticles: onsets.length,
    groups: r.groups.map((g) => ({ domain: g.recipientDomain ?? '(none)', count: g.count })),
    subtypes: r.subtypes.map((s) => s.subtype),
    filter: 'example.org',
    seriesKey: (key) => key === 'all' || groupKeys.has(key),
    maxSeries: 1 + TIMELINE_SERIES,
  };
}

const FIXTURE_EXPECTED: Expected = {
  onsetMarkers: ['2024-03-04T10:30:05.000Z'],
  changeMarkers: ['2024-03-04T10:30:00.000Z'],
  onsetArticles: 1,
  groups: [
    { domain: 'gmail.example', count: 303 },
    { domain: 'example.org', count: 7 },
    { domain: 'corp.example.org', count: 12 },
    { domain: 'example.net', count: 9 },
  ],
  subtypes: ['sender_auth_failed', 'recipient_unknown'],
  filter: 'example.org',
  seriesKey: (key) => ['sender_auth_failed', 'recipient_unknown'].includes(key),
  maxSeries: 2,
};

/** The fixture: the DOM contract by hand (two series, one onset, one change, four groups). */
function fixture(): string {
  const file = path.join(dir, 'fixture.html');
  const row = (domain: string, subtype: string, provider: string, count: number, recipients: number) =>
    `<tr class="group" data-count="${count}" data-domain="${domain}" data-subtype="${subtype}"><td>${domain}</td><td>${subtype}</td><td>${provider}</td>` +
    `<td>${count}</td><td>${recipients}</td><td>2024-03-04 06:09</td><td>2024-03-04 10:59</td>` +
    `<td><details class="drill"><summary>details</summary><p>Example reply for ${domain}</p></details></td></tr>`;
  writeFileSync(
    file,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fixture</title><style>
body{font-family:sans-serif;margin:1rem;max-width:1200px} svg.chart{width:100%;height:auto;display:block}
.wrap{overflow-x:auto} table{border-collapse:collapse} td,th{padding:.2rem .5rem;border-bottom:1px solid #ddd} th{cursor:pointer}
</style></head><body>
<section id="summary"><h1>550 rejections</h1><p>328 rejections in 4 groups.</p></section>
<figure><svg class="chart" data-series-count="2" viewBox="0 0 600 200" role="img" aria-label="rejections over time">
<path class="series" data-key="sender_auth_failed" d="M0 190 L300 180 L600 20" fill="none" stroke="#c33" stroke-width="2"/>
<path class="series" data-key="recipient_unknown" d="M0 195 L300 190 L600 170" fill="none" stroke="#36c" stroke-width="2"/>
<g class="marker change" data-time="2024-03-04T10:30:00.000Z"><line x1="298" x2="298" y1="0" y2="200" stroke="#888" stroke-dasharray="4"/></g>
<g class="marker onset" data-time="2024-03-04T10:30:05Z"><line x1="300" x2="300" y1="0" y2="200" stroke="#c33"/></g>
</svg><ul class="legend"><li>sender_auth_failed</li><li>recipient_unknown</li></ul></figure>
<section id="onsets"><article class="onset"><h2>sender_auth_failed at gmail.example</h2><p>after the relay change</p></article></section>
<input id="group-filter" type="search" placeholder="filter">
<div class="wrap"><table id="groups"><thead><tr><th data-sort="domain">Domain</th><th data-sort="subtype">Subtype</th><th data-sort="provider">Provider</th>
<th data-sort="count">Count</th><th data-sort="recipients">Recipients</th><th data-sort="first">First</th><th data-sort="last">Last</th><th>More</th></tr></thead><tbody>
${row('gmail.example', 'sender_auth_failed', 'google', 303, 256)}${row('example.org', 'recipient_unknown', 'other', 7, 7)}${row('corp.example.org', 'recipient_unknown', 'other', 12, 9)}${row('example.net', 'sender_auth_failed', 'other', 9, 30)}
</tbody></table></div>
<section id="next-moves"><ul><li class="subtype" data-subtype="sender_auth_failed">Check SPF, DKIM and DMARC.</li><li class="subtype" data-subtype="recipient_unknown">Clean the list.</li></ul></section>
<script>
const table = document.getElementById('groups');
const body = table.tBodies[0];
const numeric = new Set(['count', 'recipients']);
for (const th of table.querySelectorAll('th[data-sort]')) {
  th.addEventListener('click', () => {
    const key = th.dataset.sort;
    const idx = [...th.parentElement.children].indexOf(th);
    const dir = th.getAttribute('aria-sort') === (numeric.has(key) ? 'descending' : 'ascending') ? (numeric.has(key) ? 'ascending' : 'descending') : (numeric.has(key) ? 'descending' : 'ascending');
    for (const other of table.querySelectorAll('th[aria-sort]')) other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', dir);
    const val = (tr) => numeric.has(key) ? Number(tr.cells[idx].textContent) : tr.cells[idx].textContent;
    const rows = [...body.rows].sort((a, b) => { const x = val(a), y = val(b); const c = typeof x === 'number' ? x - y : x.localeCompare(y); return dir === 'ascending' ? c : -c; });
    for (const r of rows) body.appendChild(r);
  });
}
document.getElementById('group-filter').addEventListener('input', (e) => {
  const q = e.target.value.toLowerCase();
  for (const tr of body.rows) tr.style.display = tr.textContent.toLowerCase().includes(q) ? '' : 'none';
});
</script></body></html>
`,
  );
  return file;
}
