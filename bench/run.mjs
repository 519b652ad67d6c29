/**
 * `npm run bench`: generates a 1 M-line Postfix log (seeded), then measures in one run:
 *   - a bare split2 line count of the file (the baseline),
 *   - the analyze pipeline without the classify step,
 *   - the full analyze pipeline (parse, correlate, classify, report),
 * each the best of 3, and prints lines/s, MB/s, peak RSS and the ratios. Results go to bench/RESULTS.md.
 * Set BENCH_LINES to change the size.
 */
import { createReadStream, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import split2 from 'split2';
import { generate } from './generate.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const { runPipeline } = await import(path.join(root, 'dist/src/pipeline.js'));
const { parseCodes } = await import(path.join(root, 'dist/src/aggregate/codes.js'));
const { ReportBuilder } = await import(path.join(root, 'dist/src/aggregate/report.js'));

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const outDir = path.join(here, 'out');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `postfix-${LINES}.log`);
if (!existsSync(file)) {
  process.stderr.write(`generating ${file} (${LINES} lines)...\n`);
  await generate(file, LINES, 550);
}
const bytes = statSync(file).size;

async function splitCount() {
  let n = 0;
  for await (const _ of createReadStream(file).pipe(split2())) n++;
  return n;
}

async function analyze(classify) {
  const codes = parseCodes('5xx');
  const report = new ReportBuilder(codes.items);
  const r = await runPipeline([{ kind: 'file', path: file }], { codes, year: 2024, stdin: process.stdin, classify }, {
    event: (e) => report.event(e),
    outcome: (d, s) => report.outcome(d, s),
  });
  report.build(r.inputs, r.correlation);
  return r.inputs[0].lines;
}

async function measure(name, fn) {
  let best = Infinity;
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    lines = await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, s);
  }
  const rss = process.resourceUsage().maxRSS / 1024;
  return { name, seconds: best, lines, linesPerSec: lines / best, mbPerSec: bytes / 1e6 / best, peakRssMiB: rss };
}

const results = [];
results.push(await measure('split2 line count', splitCount));
results.push(await measure('analyze without classify', () => analyze(false)));
results.push(await measure('analyze (full)', () => analyze(true)));

const [base, noClassify, full] = results;
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const table = [
  '| run | seconds (best of 3) | lines/s | MB/s | peak RSS so far (MiB) |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...results.map((r) => `| ${r.name} | ${fmt(r.seconds, 2)} | ${fmt(r.linesPerSec)} | ${fmt(r.mbPerSec, 1)} | ${fmt(r.peakRssMiB)} |`),
].join('\n');
const ratios = [
  `- analyze / split2 line count: ${fmt(full.seconds / base.seconds, 2)}x the time`,
  `- classification overhead: ${fmt((100 * (full.seconds - noClassify.seconds)) / noClassify.seconds, 1)}% of analyze without classify`,
].join('\n');
const text = `# Benchmark results\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GiB), Node ${process.version}.\nInput: ${fmt(LINES)} generated Postfix lines (${fmt(bytes / 1e6, 1)} MB, bench/generate.mjs, seed 550); all in one process, so peak RSS is cumulative.\n\n${table}\n\n${ratios}\n`;
process.stdout.write(text);
writeFileSync(path.join(here, 'RESULTS.md'), text);
