/**
 * `npm run bench`: generates a 1 M-line Postfix log (seeded), then measures in one run:
 *   - a bare split2 line count of the file (the baseline),
 *   - the analyze pipeline without the classify step,
 *   - the full analyze pipeline (parse, correlate, classify, report),
 * each the best of 5 runs taken in turns, and prints lines/s, MB/s, peak RSS and the ratios. Results go to bench/RESULTS.md.
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
const { classify, clearClassifyMemo } = await import(path.join(root, 'dist/src/classify/classify.js'));

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

/** Runs the contenders in turns (A B C A B C ...) and keeps each one's best time, so a busy moment
 * of the machine does not land on one contender only. */
async function measureAll(contenders, rounds = 5) {
  const best = contenders.map(() => ({ seconds: Infinity, lines: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const t0 = process.hrtime.bigint();
      const lines = await contenders[i].fn();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (s < best[i].seconds) best[i] = { seconds: s, lines };
    }
  }
  const rss = process.resourceUsage().maxRSS / 1024;
  return contenders.map((c, i) => ({
    name: c.name,
    seconds: best[i].seconds,
    lines: best[i].lines,
    linesPerSec: best[i].lines / best[i].seconds,
    mbPerSec: bytes / 1e6 / best[i].seconds,
    peakRssMiB: rss,
  }));
}

const results = await measureAll([
  { name: 'split2 line count', fn: splitCount },
  { name: 'analyze without classify', fn: () => analyze(false) },
  { name: 'analyze (full)', fn: () => analyze(true) },
]);

// The A/B above is noisy on a shared VM (runs of the same command vary by 20-40%). So also time the
// classify step alone, over the exact inputs of every event of the log, memo emptied before each pass.
const inputs = [];
{
  const codes = parseCodes('5xx');
  await runPipeline([{ kind: 'file', path: file }], { codes, year: 2024, stdin: process.stdin, classify: false }, {
    event: (e) => {
      inputs.push({ reply: e.reply, direction: e.direction, stage: e.stage, code: e.code, enhancedStatus: e.enhancedStatus, remoteHost: e.remote?.name ?? null, recipientDomain: e.recipientDomain });
    },
    outcome: () => {},
  });
}
let classifySeconds = Infinity;
for (let round = 0; round < 5; round++) {
  clearClassifyMemo();
  const t0 = process.hrtime.bigint();
  for (const input of inputs) classify(input);
  classifySeconds = Math.min(classifySeconds, Number(process.hrtime.bigint() - t0) / 1e9);
}

const [base, noClassify, full] = results;
const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const table = [
  '| run | seconds (best of 5, taken in turns) | lines/s | MB/s | peak RSS of the process (MiB) |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...results.map((r) => `| ${r.name} | ${fmt(r.seconds, 2)} | ${fmt(r.linesPerSec)} | ${fmt(r.mbPerSec, 1)} | ${fmt(r.peakRssMiB)} |`),
].join('\n');
const ratios = [
  `- analyze / split2 line count: ${fmt(full.seconds / base.seconds, 2)}x the time`,
  `- classification overhead, A/B: ${fmt((100 * (full.seconds - noClassify.seconds)) / noClassify.seconds, 1)}% of analyze without classify (noisy: see below)`,
  `- classification overhead, isolated: ${fmt(inputs.length)} events classified in ${fmt(classifySeconds, 3)} s (${fmt((1e6 * classifySeconds) / inputs.length, 1)} µs each, memo emptied first) = ${fmt((100 * classifySeconds) / noClassify.seconds, 1)}% of analyze without classify`,
].join('\n');
const text = `# Benchmark results\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, ${fmt(totalmem() / 2 ** 30)} GiB), Node ${process.version}.\nInput: ${fmt(LINES)} generated Postfix lines (${fmt(bytes / 1e6, 1)} MB, bench/generate.mjs, seed 550); all in one process, so the peak RSS is that of the whole run.\n\n${table}\n\n${ratios}\n`;
process.stdout.write(text);
writeFileSync(path.join(here, 'RESULTS.md'), text);
