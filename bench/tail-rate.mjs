/**
 * `npm run bench:tail-rate` (issue #11): does `mta550 tail` keep up with a busy server? This script
 * appends Postfix lines to a live file at a steady 20,000 lines/s (a batch every 50 ms, the count
 * due by the wall clock, so late timers do not lower the rate) for TAIL_SECONDS (default 600), while
 * `mta550 tail FILE --output ndjson --summary-every 5s` follows it as a child process.
 *
 *   - Lag: once per second, after a batch, a distinctive 550 refusal is appended (a NOQUEUE reject
 *     for lag-<n>@example.com); its lag is the time from the write's return to the arrival of its
 *     event's line on tail's stdout. Max, p99 and median are reported, and probes never seen.
 *   - Memory: VmRSS of the tail process from /proc/PID/status every TAIL_SAMPLE_MS (2 s); the first
 *     minute against the last (the first and last third of shorter runs).
 *   - Lines: appended (generated lines and probes) against read (tail's summary records and its
 *     closing note), and tail's CPU time (utime + stime from /proc/PID/stat).
 *
 * The lines are those of bench/out/postfix-live-1000000.log (bench/generate.mjs, seed 550, with the
 * bounces' non-delivery reports as messages of their own, generated when missing), replayed in a loop
 * with the current time as their timestamp (TZ=UTC for both sides): a live log, not a replay of March
 * 2024. Log time is the wall clock here, so a message that never ends (a queue ID only named) would
 * stay open for the 6 h idle timeout: the source has none but the ~20 cut at each end of a pass. A
 * 1 M-line source lasts 50 s at 20,000 lines/s, so its queue IDs recur at every pass, as after a
 * Postfix restart.
 *
 * Results go to bench/TAIL-RATE.md. The machine should be otherwise idle: the writer takes a share
 * of a core too (its CPU time is reported).
 *
 *   TAIL_SECONDS (600), TAIL_RATE (20000 lines/s), TAIL_BATCH_MS (50), TAIL_SAMPLE_MS (2000),
 *   TAIL_ARGS (more options for mta550 tail, space-separated)
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.mjs';
import { snapshot } from './snapshot.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const SECONDS = Number(process.env.TAIL_SECONDS ?? 600);
const RATE = Number(process.env.TAIL_RATE ?? 20_000);
const BATCH_MS = Number(process.env.TAIL_BATCH_MS ?? 50);
const SAMPLE_MS = Number(process.env.TAIL_SAMPLE_MS ?? 2000);
const EXTRA = (process.env.TAIL_ARGS ?? '').split(' ').filter(Boolean);
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const note = (s) => process.stderr.write(`tail-rate: ${s}\n`);

// The source lines: one string and the offsets of its line ends (cheaper than a million strings).
const outDir = path.join(here, 'out');
mkdirSync(outDir, { recursive: true });
const source = path.join(outDir, 'postfix-live-1000000.log');
if (!existsSync(source)) {
  note(`generating ${path.relative(root, source)}...`);
  await generate(`${source}.tmp`, 1_000_000, 550, 0, { notifications: true });
  renameSync(`${source}.tmp`, source);
}
const text = readFileSync(source, 'latin1');
const ends = [];
for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) ends.push(i);
const lineCount = ends.length;
let cursor = 0;
let cycles = 0;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** The syslog timestamp of now, UTC ("Nov 28 05:23:10"), the 15 characters every source line starts with. */
function stampNow() {
  const d = new Date();
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
}
/** The next n source lines, restamped, as one string. */
function nextLines(n) {
  const stamp = stampNow();
  const parts = [];
  for (let k = 0; k < n; k++) {
    const start = cursor === 0 ? 0 : ends[cursor - 1] + 1;
    parts.push(stamp, text.slice(start + 15, ends[cursor] + 1));
    if (++cursor === lineCount) {
      cursor = 0;
      cycles++;
    }
  }
  return parts.join('');
}
const probeLine = (n) =>
  `${stampNow()} mx1 postfix/smtpd[2301]: NOQUEUE: reject: RCPT from unknown[203.0.113.77]: 550 5.1.1 <lag-${n}@example.com>: Recipient address rejected: User unknown in local recipient table; from=<probe@example.org> to=<lag-${n}@example.com> proto=ESMTP helo=<probe.example.org>\n`;

// The followed file and the follower.
const dir = mkdtempSync(path.join(tmpdir(), 'mta550-tail-rate-'));
const log = path.join(dir, 'mail.log');
writeFileSync(log, '');
// The CLI under measurement: a copy of dist/ as built now (a rebuild during the run changes nothing).
const mta550 = snapshot(root, 'mta550-tail-rate');
const tailArgs = [mta550.cli, 'tail', log, '--output', 'ndjson', '--summary-every', '5s', ...EXTRA];
const tail = spawn(process.execPath, tailArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
const exited = new Promise((resolve) => tail.on('close', (code, signal) => resolve({ code, signal })));
let stderr = '';
tail.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20000)));

const sentAt = new Map(); // probe n -> performance.now() after its write returned
const lag = new Map(); // probe n -> ms
const summaries = []; // { at (s since start), read, rssMiB }
let events = 0;
let t0 = 0;
let partial = '';
tail.stdout.on('data', (chunk) => {
  const now = performance.now();
  const data = partial + chunk.toString('latin1');
  let start = 0;
  for (let nl = data.indexOf('\n'); nl >= 0; nl = data.indexOf('\n', start)) {
    const line = data.slice(start, nl);
    start = nl + 1;
    if (line.includes('"tail-summary"')) {
      const s = JSON.parse(line).mta550.summary;
      summaries.push({ at: (now - t0) / 1000, read: s.total.lines, heapMiB: s.memory.heapUsedMiB, open: s.correlation.open });
      continue;
    }
    events++;
    const m = /lag-(\d+)@example\.com/.exec(line);
    if (m !== null) {
      const n = Number(m[1]);
      if (sentAt.has(n) && !lag.has(n)) lag.set(n, now - sentAt.get(n));
    }
  }
  partial = data.slice(start);
});

/** VmRSS (MiB) and CPU seconds (utime + stime) of the tail process. */
function procSample() {
  try {
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${tail.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const stat = readFileSync(`/proc/${tail.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssMiB: rss, cpuS: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return null;
  }
}

await sleep(1500); // the follower opens the file and settles
const rssSamples = []; // { at, rssMiB, load (1-min load average of the machine) }
const load0 = loadavg();
const cpu0 = procSample()?.cpuS ?? 0;
const writerCpu0 = process.cpuUsage();
const fd = openSync(log, 'a');
t0 = performance.now();
let appended = 0; // generated lines
let probes = 0;
let nextSample = 0;
note(`appending ${fmt(RATE)} lines/s to ${log} for ${SECONDS} s; mta550 tail pid ${tail.pid}`);
for (let tick = 1; ; tick++) {
  const elapsed = (performance.now() - t0) / 1000;
  if (elapsed >= SECONDS) break;
  const due = Math.floor(elapsed * RATE) - appended;
  if (due > 0) {
    writeSync(fd, nextLines(due));
    appended += due;
  }
  if (elapsed >= probes + 1) {
    probes++;
    writeSync(fd, probeLine(probes));
    sentAt.set(probes, performance.now());
  }
  if (elapsed * 1000 >= nextSample) {
    const s = procSample();
    if (s) rssSamples.push({ at: elapsed, rssMiB: s.rssMiB, load: loadavg()[0] });
    nextSample += SAMPLE_MS;
    if (rssSamples.length % 30 === 0) note(`${fmt(elapsed)} s: ${fmt(appended)} lines appended, RSS ${fmt(s?.rssMiB)} MiB, last lag ${fmt(lag.get(probes - 1), 0)} ms`);
  }
  await sleep(Math.max(0, t0 + tick * BATCH_MS - performance.now()));
}
closeSync(fd);
const writeEnd = performance.now();
const cpu1 = procSample()?.cpuS ?? NaN;
const writerCpu = process.cpuUsage(writerCpu0);
const load1 = loadavg();
const total = appended + probes;
// Let the follower finish: until a summary shows every line read (at most 20 s), then stop it.
while (performance.now() - writeEnd < 20_000 && (summaries.at(-1)?.read ?? 0) < total) await sleep(250);
const drainS = (performance.now() - writeEnd) / 1000;
tail.kill('SIGTERM');
const end = await exited;
rmSync(dir, { recursive: true, force: true });
const stopped = /tail stopped: (\d+) lines read, (\d+) event/.exec(stderr);
const read = stopped ? Number(stopped[1]) : (summaries.at(-1)?.read ?? NaN);
if (end.code !== 0) {
  note(`mta550 tail ended with ${end.code ?? end.signal}:\n${stderr.slice(-2000)}`);
  process.exitCode = 1;
}

// Figures.
const lags = [...lag.values()].sort((a, b) => a - b);
const pct = (p) => (lags.length === 0 ? NaN : lags[Math.min(lags.length - 1, Math.ceil((p / 100) * lags.length) - 1)]);
const missing = probes - lag.size;
const window = Math.min(60, SECONDS / 3);
const rssIn = (from, to) => rssSamples.filter((s) => s.at >= from && s.at < to).map((s) => s.rssMiB);
const firstRss = rssIn(0, window);
const lastRss = rssIn(SECONDS - window, SECONDS + 1);
const max = (a) => (a.length ? Math.max(...a) : NaN);
const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
const bucket = SECONDS >= 300 ? 60 : 10;
const rows = [];
for (let from = 0; from < SECONDS; from += bucket) {
  const to = Math.min(SECONDS, from + bucket);
  const l = [...lag.entries()].filter(([n]) => n > from && n <= to).map(([, ms]) => ms);
  const behind = summaries.filter((s) => s.at > from && s.at <= to).map((s) => Math.max(0, Math.min(total, Math.round(s.at * RATE) + Math.floor(s.at)) - s.read));
  const last = summaries.filter((s) => s.at <= to).at(-1);
  const load = max(rssSamples.filter((s) => s.at >= from && s.at < to).map((s) => s.load));
  rows.push(`| ${from}-${to} | ${fmt(Math.min(to * RATE, appended))} | ${fmt(last?.read)} | ${fmt(max(behind))} | ${l.length} | ${fmt(max(l))} | ${fmt(mean(l))} | ${fmt(max(rssIn(from, to)))} | ${fmt(last?.heapMiB)} | ${fmt(last?.open)} | ${fmt(load, 2)} |`);
}
const lagOk = lags.length > 0 && missing === 0 && max(lags) < 1000;
const flat = max(lastRss) / max(firstRss);
const cpuShare = (cpu1 - cpu0) / SECONDS;
const md = [
  '# Tail at a steady rate (`npm run bench:tail-rate`)',
  '',
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores, ${fmt(totalmem() / 2 ** 30, 1)} GiB), Linux ${release()}, Node ${process.version}; mta550 commit ${mta550.commit}; load average (1, 5, 15 min) ${load0.map((x) => fmt(x, 2)).join(' ')} before, ${load1.map((x) => fmt(x, 2)).join(' ')} at the end of the writing.`,
  `Input: the lines of bench/out/postfix-live-1000000.log (bench/generate.mjs, seed 550, non-delivery reports as messages), restamped with the current time, appended to a live file at ${fmt(RATE)} lines/s (a batch every ${BATCH_MS} ms) for ${SECONDS} s (${fmt(cycles + cursor / lineCount, 1)} passes over the source); once per second a probe (a NOQUEUE 550 reject of lag-<n>@example.com) after a batch.`,
  `Follower: \`mta550 tail FILE --output ndjson --summary-every 5s${EXTRA.length ? ` ${EXTRA.join(' ')}` : ''}\` (defaults otherwise: --poll-interval 250ms, --max-wait 10s); its stdout read by this script, which times each probe from its write to its event line.`,
  '',
  '## Figures',
  '',
  `- lag of the ${fmt(probes)} probes: max **${fmt(max(lags))} ms**, p99 **${fmt(pct(99))} ms**, median ${fmt(pct(50))} ms${missing ? `; **${missing} probe(s) never seen**` : ''} (target: under 1 s: ${lagOk ? 'met' : 'NOT met'})`,
  `- RSS of the tail process (VmRSS every ${SAMPLE_MS / 1000} s): first ${fmt(window)} s max ${fmt(max(firstRss))} MiB (mean ${fmt(mean(firstRss))}), last ${fmt(window)} s max ${fmt(max(lastRss))} MiB (mean ${fmt(mean(lastRss))}); ratio last / first **${fmt(flat, 2)}**; overall max ${fmt(max(rssSamples.map((s) => s.rssMiB)))} MiB`,
  `- lines appended ${fmt(total)} (${fmt(appended)} generated + ${fmt(probes)} probes, ${fmt(appended / SECONDS)} lines/s), read by tail ${fmt(read)}${read === total ? ' (all)' : ` (**${fmt(total - read)} not read**)`}, ${drainS.toFixed(1)} s after the last write; ${fmt(events)} other records written (events, onsets, findings)`,
  `- CPU time of the tail process: ${fmt(cpu1 - cpu0, 1)} s over ${SECONDS} s (${fmt(100 * cpuShare)}% of one core); of the writer (this script): ${fmt((writerCpu.user + writerCpu.system) / 1e6, 1)} s`,
  '',
  `Per ${bucket} s. "Behind": most lines appended but not yet read at a summary (every 5 s). Heap used and open messages: tail's own summary record, the last of the interval. Load: the machine's 1-minute load average, its highest in the interval (${cpus().length} cores; the tail and the writer make about 0.5).`,
  '',
  '| seconds | lines appended (total) | lines read (total, last summary) | behind (lines) | probes | max lag (ms) | mean lag (ms) | max RSS (MiB) | heap used (MiB) | open messages | load |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
  '',
  'Run: `npm run bench:tail-rate` (builds, then 600 s); `TAIL_SECONDS=30 npm run bench:tail-rate` for a short check. Also TAIL_RATE, TAIL_BATCH_MS, TAIL_SAMPLE_MS, TAIL_ARGS. Run it on an otherwise idle machine.',
  '',
];
writeFileSync(path.join(here, 'TAIL-RATE.md'), md.join('\n'));
process.stdout.write(md.join('\n'));
if (read !== total || missing > 0) process.exitCode = 1;
