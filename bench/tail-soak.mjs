/**
 * `npm run bench:tail`: `mta550 tail` over 100 hours of log, time-compressed. A seeded generator makes
 * four days of a mail relay's log (bench/generate.mjs, many recipient domains); this script appends
 * it to a live file at one log hour per 0.7 s, rotating it every hour of log time like logrotate
 * (rename, a new file, the oldest removed), while `mta550 tail --state --summary-every` follows it in
 * a capped V8 heap. The summary records give the process's RSS and heap over time; the result goes
 * to bench/TAIL-SOAK.md. Memory must level off: every structure that grows with time is capped.
 *
 *   SOAK_LINES (default 1,800,000 = about 100 h of the generator's log), SOAK_DOMAINS (20,000),
 *   SOAK_HOUR_MS (wall time per log hour, default 700), SOAK_HEAP_CAP (MiB, default 96), SOAK_ARGS
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const LINES = Number(process.env.SOAK_LINES ?? 1_800_000);
const DOMAINS = Number(process.env.SOAK_DOMAINS ?? 20_000);
const HOUR_MS = Number(process.env.SOAK_HOUR_MS ?? 700);
/** V8 old-space cap for the tail process, MiB (default 96): the run fails if the live set does not fit. */
const HEAP_CAP = Number(process.env.SOAK_HEAP_CAP ?? 96);
const outDir = path.join(here, 'out');
mkdirSync(outDir, { recursive: true });
const source = path.join(outDir, `soak-${LINES}-${DOMAINS}.log`);
if (!existsSync(source)) {
  process.stderr.write(`generating ${source}...\n`);
  await generate(source, LINES, 24, DOMAINS);
}
const lines = readFileSync(source, 'utf8').split('\n').filter(Boolean);
// Group the lines by hour of log time ("Mar 11 06:..").
const hours = [];
let key = null;
for (const l of lines) {
  const k = l.slice(0, 9);
  if (k !== key) {
    hours.push([]);
    key = k;
  }
  hours.at(-1).push(l);
}

const dir = mkdtempSync(path.join(tmpdir(), 'mta550-soak-'));
const log = path.join(dir, 'mail.log');
writeFileSync(log, '');
const tail = spawn(
  process.execPath,
  [path.join(root, 'dist/src/cli.js'), 'tail', `${dir}/mail.log*`, '-o', 'records', '--state', path.join(dir, 'state.json'), '--from-beginning', '--summary-every', `${Math.max(250, Math.round(HOUR_MS / 3))}ms`, '--records', 'onsets', '--codes', '5xx', '--year', '2024', '-q', ...(process.env.SOAK_ARGS ?? '').split(' ').filter(Boolean)],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TZ: 'UTC', ...(HEAP_CAP ? { NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP}` } : {}) } },
);
let buffered = '';
const summaries = [];
let onsets = 0;
tail.stdout.on('data', (d) => {
  buffered += d.toString();
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const rec = JSON.parse(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
    if (rec.type === 'summary') summaries.push({ ...rec, hour: currentHour });
    else onsets++;
  }
});
const exited = new Promise((resolve) => tail.on('close', (code, signal) => resolve({ code, signal })));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let currentHour = 0;
const t0 = Date.now();
for (const [h, hourLines] of hours.entries()) {
  currentHour = h;
  if (h > 0) {
    // logrotate, hourly: keep three old files.
    if (existsSync(`${log}.3`)) unlinkSync(`${log}.3`);
    for (const k of [2, 1]) if (existsSync(`${log}.${k}`)) renameSync(`${log}.${k}`, `${log}.${k + 1}`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, '');
  }
  const slices = 20;
  const per = Math.ceil(hourLines.length / slices);
  for (let s = 0; s < slices; s++) {
    const part = hourLines.slice(s * per, (s + 1) * per);
    if (part.length > 0) appendFileSync(log, part.join('\n') + '\n');
    await sleep(HOUR_MS / slices);
  }
}
await sleep(3000);
tail.kill('SIGTERM');
const end = await exited;
if (end.code !== 0) {
  process.stderr.write(`mta550 tail ended with ${end.code ?? end.signal}\n`);
  process.exitCode = 1;
}
const wallS = (Date.now() - t0) / 1000;
rmSync(dir, { recursive: true, force: true });

const last = summaries.at(-1);
const at = (h) => summaries.filter((s) => s.hour === h).at(-1) ?? null;
const marks = [...new Set([1, 3, 6, 9, 12, 15, 18, 21, 24, 36, 48, 72, 96, hours.length - 1])].filter((h) => h < hours.length);
const rows = marks.map((h) => at(h)).filter(Boolean);
const rssOf = (from, to) => summaries.filter((s) => s.hour >= from && s.hour <= to).map((s) => s.memory.rssMiB);
const firstHalf = Math.max(...rssOf(3, Math.floor(hours.length / 2)));
const secondHalf = Math.max(...rssOf(Math.floor(hours.length / 2) + 1, hours.length));
const date = new Date().toISOString().slice(0, 10);
const md = [
  '# Tail soak: 24 hours of log, time-compressed',
  '',
  `Measured ${date} on ${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB), Node ${process.version}.`,
  `Input: ${lines.length.toLocaleString('en-US')} generated Postfix lines over ${hours.length} hours of log time, ${DOMAINS.toLocaleString('en-US')} recipient domains (bench/generate.mjs, seed 24), appended to a live file at one log hour per ${HOUR_MS} ms and rotated hourly (rename, new file, oldest removed); \`mta550 tail --state --summary-every\` followed \`mail.log*\` (wall time ${wallS.toFixed(0)} s)${HEAP_CAP ? `, its V8 old space capped at ${HEAP_CAP} MiB (\`--max-old-space-size\`): the run would end with an out-of-memory error if the live state did not stay within it` : ''}.`,
  '',
  '| log hour | lines read (total) | events (total) | open messages | follower rotations | RSS (MiB) | heap used / total (MiB) | external (MiB) |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((s) => `| ${s.hour + 1} | ${s.total.lines.toLocaleString('en-US')} | ${s.total.events.toLocaleString('en-US')} | ${s.correlation.open} | ${s.follower.rotations} | ${s.memory.rssMiB} | ${s.memory.heapUsedMiB} / ${s.memory.heapTotalMiB} | ${s.memory.externalMiB} |`),
  '',
  `- peak RSS, hours 4-${Math.floor(hours.length / 2)}: ${firstHalf} MiB; hours ${Math.floor(hours.length / 2) + 2}-${hours.length}: ${secondHalf} MiB (ratio ${(secondHalf / firstHalf).toFixed(2)})`,
  `- lines read ${last?.total.lines.toLocaleString('en-US')} of ${lines.length.toLocaleString('en-US')} written; onset records ${onsets}; ${summaries.length} summaries`,
  '',
];
writeFileSync(path.join(here, 'TAIL-SOAK.md'), md.join('\n'));
process.stdout.write(md.join('\n'));
if (last?.total.lines !== lines.length) {
  process.stderr.write(`tail read ${last?.total.lines} lines of ${lines.length}\n`);
  process.exitCode = 1;
}
