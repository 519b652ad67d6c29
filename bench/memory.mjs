/**
 * `npm run bench:memory`: does the state of a batch run stay flat over a long log?
 *
 * Generates (seeded, once) a 10,000,000-line Postfix log whose recipient domains come from a
 * heavy-tailed set of 200,000, then runs the whole analyze path in this process (parse, correlate,
 * classify, report groups, onsets) and, every 250,000 lines, forces a full garbage collection and
 * records the heap in use and the size of every bounded structure: open messages of the correlator,
 * the onset engine's pending and decided units, its attribution ring, domain series and detectors.
 * Then it runs `mta550 analyze` as a child process on the 1 M- and 10 M-line logs for their peak RSS
 * (with GNU time when installed). Results go to bench/MEMORY.md.
 *
 *   node --expose-gc bench/memory.mjs      (BENCH_LINES, BENCH_DOMAINS change the size)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.mjs';

if (typeof global.gc !== 'function') {
  console.error('bench/memory.mjs: run with node --expose-gc (npm run bench:memory does)');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const { runPipeline } = await import(path.join(root, 'dist/src/pipeline.js'));
const { parseCodes } = await import(path.join(root, 'dist/src/aggregate/codes.js'));
const { ReportBuilder } = await import(path.join(root, 'dist/src/aggregate/report.js'));

const LINES = Number(process.env.BENCH_LINES ?? 10_000_000);
const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 200_000);
const EVERY = Math.max(10_000, Math.round(LINES / 40));
const outDir = path.join(here, 'out');
mkdirSync(outDir, { recursive: true });

async function logFile(lines, domains) {
  const file = path.join(outDir, `postfix-${lines}-${domains}d.log`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} (${lines.toLocaleString('en-US')} lines, ${domains.toLocaleString('en-US')} domains)...\n`);
    await generate(file, lines, 550, domains);
  }
  return file;
}

const file = await logFile(LINES, DOMAINS);
const mib = (b) => Math.round(b / 1048576);
const samples = [];
let next = EVERY;
const codes = parseCodes('5xx');
const report = new ReportBuilder(codes.items);
const t0 = Date.now();
const result = await runPipeline([{ kind: 'file', path: file }], {
  codes,
  year: 2024,
  stdin: process.stdin,
  progress: ({ lines, pipeline }) => {
    if (lines < next) return;
    next += EVERY;
    global.gc();
    const s = pipeline.onsetState();
    samples.push({ lines, heap: mib(process.memoryUsage().heapUsed), open: pipeline.openMessages(), ...s });
    process.stderr.write(`\r${lines.toLocaleString('en-US')} lines, heap ${samples.at(-1).heap} MiB   `);
  },
}, {
  event: (e) => report.event(e),
  outcome: (d, s) => report.outcome(d, s),
  unit: (u) => report.unit(u),
});
report.build(result.inputs, result.correlation);
const seconds = (Date.now() - t0) / 1000;
process.stderr.write('\n');

// Peak RSS of the CLI on 1 M and 10 M lines (same generator, same domains), when GNU time is there.
const peaks = [];
if (existsSync('/usr/bin/time')) {
  for (const n of [...new Set([Math.round(LINES / 10), LINES])]) {
    const f = await logFile(n, DOMAINS);
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(root, 'dist/src/cli.js'), 'analyze', f, '--year', '2024', '--output', 'json', '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const kb = Number(r.stderr.trim().split('\n').pop());
    peaks.push({ lines: n, rssMiB: Math.round(kb / 1024), status: r.status });
  }
}

const tail = samples.slice(Math.floor(samples.length / 5));
const heaps = tail.map((s) => s.heap);
const fmt = (n) => n.toLocaleString('en-US');
const date = new Date().toISOString().slice(0, 10);
const st = result.onsetStats;
const lines = [
  '# Memory over a long log (bench/memory.mjs)',
  '',
  `Measured ${date} on ${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB), Node ${process.version}.`,
  `Input: ${fmt(result.inputs[0].lines)} generated Postfix lines (${fmt(Math.round(statSync(file).size / 1e6))} MB, bench/generate.mjs, seed 550), recipient domains from a heavy-tailed set of ${fmt(DOMAINS)}; the whole analyze path in one process (${seconds.toFixed(0)} s with the probes).`,
  `Onset engine: ${fmt(st.units)} delivery units, ${fmt(st.onsets)} onsets, ${fmt(st.domainsEvicted)} domain series evicted, ${fmt(st.domainsNotAdmitted)} units of domains not admitted (counted in \`rcpt_domain=(other)\`), ${fmt(st.domainsIdled)} of them after a day without mail, ${fmt(st.detectorsRetired)} detectors retired at rest.`,
  '',
  `Heap in use after a full GC, from 20% of the log to its end: min ${Math.min(...heaps)} MiB, max ${Math.max(...heaps)} MiB, last ${heaps.at(-1)} MiB.`,
  '',
  '| lines read | heap after GC (MiB) | open messages | pending units | decided keys | ring units | domain series | domain detectors | all detectors |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...samples.map((s) => `| ${fmt(s.lines)} | ${s.heap} | ${fmt(s.open)} | ${fmt(s.pendingUnits)} | ${fmt(s.decidedKeys)} | ${fmt(s.ringUnits)} | ${fmt(s.domainSeries)} | ${fmt(s.domainDetectors)} | ${fmt(s.detectors)} |`),
  '',
  ...(peaks.length > 0
    ? ['Peak RSS of `mta550 analyze --output json` (GNU time, one process per log):', '', '| lines | peak RSS (MiB) |', '| ---: | ---: |', ...peaks.map((p) => `| ${fmt(p.lines)} | ${p.rssMiB}${p.status === 0 ? '' : ` (exit ${p.status})`} |`), '']
    : ['GNU time is not installed: peak RSS of the CLI not measured.', '']),
];
writeFileSync(path.join(here, 'MEMORY.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
