/**
 * `npm run bench` (issue #11): how fast is `mta550 analyze`, beside the least a line reader can do
 * and beside the log summarisers admins run today? In one run, on seeded generated logs (cached in
 * bench/out/):
 *
 *   Postfix (bench/generate.mjs)        Exim 4.96 mainlog (bench/generate-exim.mjs)
 *   - split2 line count (baseline)      - split2 line count (baseline)
 *   - mta550 analyze --output json      - mta550 analyze --output json
 *   - pflogsumm --problems-first        - eximstats
 *
 * Every contender is a child process of its own, its output to /dev/null, timed from spawn to exit,
 * its peak RSS from GNU time (`/usr/bin/time -f '%e %M'`) or, without it, from polling VmHWM in
 * /proc/PID/status. Each figure is the best of N runs taken in turns (A B C A B C ...), so a busy
 * moment of the machine does not land on one contender only; the peak RSS shown is the largest of
 * the N runs. pflogsumm and eximstats are found (PATH, /usr/sbin, the e2e root of test/e2e/setup.sh,
 * bench/out/tools), installed or unpacked from Debian's archive when missing and possible, else
 * skipped with a note. mta550 runs from a copy of dist/ taken at the start (bench/snapshot.mjs), so a
 * rebuild during the run changes nothing. Results go to bench/RESULTS.md.
 *
 *   npm run bench                      1 M lines per format, 3 rounds
 *   npm run bench -- --10m             also 10 M lines per format (or BENCH_10M=1; minutes per run)
 *   BENCH_ROUNDS=5                     rounds at 1 M (default 3)
 *   BENCH_10M_ROUNDS=3                 rounds at 10 M (default 1: one 10 M round of all contenders takes ~7 min)
 *   BENCH_LINES=200000                 the smaller size (default 1,000,000)
 *   BENCH_INSTALL=0                    never install or download pflogsumm / eximstats
 *
 * The logs are cached by name (bench/out/postfix-1000000.log, exim-1000000.log, ...-10000000.log):
 * delete them after changing a generator.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { generate } from './generate.mjs';
import { generateExim } from './generate-exim.mjs';
import { snapshot } from './snapshot.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const outDir = path.join(here, 'out');
mkdirSync(outDir, { recursive: true });

const args = process.argv.slice(2);
const WITH_10M = process.env.BENCH_10M === '1' || args.includes('--10m');
const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUNDS_10M = Number(process.env.BENCH_10M_ROUNDS ?? 1);
const MAY_INSTALL = process.env.BENCH_INSTALL !== '0';
const note = (s) => process.stderr.write(`bench: ${s}\n`);
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const sh = (cmd, argv, opts = {}) => spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
const load0 = loadavg();
// The CLI under measurement: a copy of dist/ as built now (see snapshot.mjs), and its commit.
const underTest = snapshot(root, 'mta550-bench');

// ---------------------------------------------------------------------------------------------
// Inputs: generated once per size and seed, written under a temporary name and renamed when
// complete (an interrupted run leaves no truncated log in the cache).

async function logFile(kind, lines) {
  const file = path.join(outDir, `${kind}-${lines}.log`);
  if (!existsSync(file)) {
    note(`generating ${path.relative(root, file)} (${fmt(lines)} lines, seed 550)...`);
    const tmp = `${file}.tmp`;
    await (kind === 'postfix' ? generate(tmp, lines, 550) : generateExim(tmp, lines, 550));
    renameSync(tmp, file);
  }
  return file;
}

/** Reads a file once so that every contender, the first included, finds it in the page cache. */
function warm(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 << 20);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

// ---------------------------------------------------------------------------------------------
// The comparison tools: found, else installed (pflogsumm) or unpacked (eximstats), else skipped.

function onPath(name) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((d) => path.join(d, name)).find((p) => existsSync(p)) ?? null;
}
const isRoot = process.getuid?.() === 0;
const hasApt = onPath('apt-get') !== null && onPath('dpkg') !== null;

function findPflogsumm() {
  let bin = onPath('pflogsumm');
  if (bin === null && MAY_INSTALL && isRoot && hasApt) {
    note('pflogsumm not found: installing the Debian package (apt-get install -y pflogsumm)...');
    let r = sh('apt-get', ['install', '-y', '-qq', 'pflogsumm']);
    if (r.status !== 0) {
      sh('apt-get', ['update', '-qq']);
      r = sh('apt-get', ['install', '-y', '-qq', 'pflogsumm']);
    }
    bin = onPath('pflogsumm');
    if (bin !== null) note(`pflogsumm installed: ${bin}`);
  }
  if (bin === null) return { missing: `pflogsumm not installed${MAY_INSTALL ? (isRoot && hasApt ? ' and apt-get install pflogsumm failed' : ' (not root or no apt-get: apt-get install pflogsumm)') : ' (BENCH_INSTALL=0)'}` };
  const version = sh('perl', [bin, '--version']).stdout.trim().split('\n')[0] ?? '?';
  const pkg = sh('dpkg-query', ['-W', '-f', '${Version}', 'pflogsumm']).stdout?.trim();
  return { bin, version: `${version}${pkg ? ` (Debian package ${pkg})` : ''}` };
}

/** eximstats ships in Debian's exim4-base, which conflicts with an installed Postfix: unpacked, it runs beside it. */
function findEximstats() {
  const e2eRoot = process.env.MTA550_E2E_ROOT ?? '/var/tmp/mta550-e2e/root';
  const toolsRoot = path.join(outDir, 'tools');
  const candidates = [process.env.EXIMSTATS, onPath('eximstats'), path.join(e2eRoot, 'usr/sbin/eximstats'), path.join(toolsRoot, 'usr/sbin/eximstats')].filter(Boolean);
  let bin = candidates.find((p) => existsSync(p)) ?? null;
  if (bin === null && MAY_INSTALL && hasApt) {
    note(`eximstats not found: unpacking Debian's exim4-base into ${path.relative(root, toolsRoot)} (apt-get download, dpkg -x)...`);
    const debs = path.join(toolsRoot, 'debs');
    mkdirSync(debs, { recursive: true });
    let r = sh('apt-get', ['download', 'exim4-base'], { cwd: debs });
    if (r.status !== 0 && isRoot) {
      sh('apt-get', ['update', '-qq']);
      r = sh('apt-get', ['download', 'exim4-base'], { cwd: debs });
    }
    const deb = r.status === 0 ? sh('sh', ['-c', 'ls exim4-base_*.deb | tail -1'], { cwd: debs }).stdout.trim() : '';
    if (deb !== '') sh('dpkg', ['-x', path.join(debs, deb), toolsRoot]);
    bin = existsSync(path.join(toolsRoot, 'usr/sbin/eximstats')) ? path.join(toolsRoot, 'usr/sbin/eximstats') : null;
    if (bin !== null) note(`eximstats unpacked: ${bin}`);
  }
  if (bin === null) return { missing: `eximstats not found${MAY_INSTALL ? ' and exim4-base could not be downloaded' : ' (BENCH_INSTALL=0)'}` };
  const script = readFileSync(bin, 'utf8');
  const own = /\$VERSION\s*=\s*'([^']+)'/.exec(script)?.[1] ?? '?';
  const build = /build: (\S+)/.exec(sh('perl', [bin, '--version']).stdout)?.[1] ?? '?';
  // The Debian version of the package it came from, from its changelog when unpacked beside it.
  let pkg = '';
  const changelog = path.join(path.dirname(path.dirname(path.dirname(bin))), 'usr/share/doc/exim4-base/changelog.Debian.gz');
  if (existsSync(changelog)) pkg = /\(([^)]+)\)/.exec(gunzipSync(readFileSync(changelog)).toString('utf8', 0, 200))?.[1] ?? '';
  return { bin, version: `eximstats ${own}, Exim ${build}${pkg ? ` (Debian exim4-base ${pkg})` : ''}` };
}

// ---------------------------------------------------------------------------------------------
// One timed child process.

const GNU_TIME = existsSync('/usr/bin/time') && sh('/usr/bin/time', ['-f', '%M', 'true']).status === 0 ? '/usr/bin/time' : null;
const scratch = mkdtempSync(path.join(tmpdir(), 'mta550-bench-'));
const devNull = openSync('/dev/null', 'w');

/** Runs cmd argv with stdout to /dev/null (or captured), resolves { seconds, rssMiB, stdout }. */
function runChild(cmd, argv, { capture = false } = {}) {
  return new Promise((resolve, reject) => {
    const timeOut = path.join(scratch, 'time.txt');
    const [file, fileArgs] = GNU_TIME ? [GNU_TIME, ['-f', '%e %M', '-o', timeOut, cmd, ...argv]] : [cmd, argv];
    const t0 = process.hrtime.bigint();
    const child = spawn(file, fileArgs, { stdio: ['ignore', capture ? 'pipe' : devNull, 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    // Without GNU time: the high-water mark of the child's RSS, read until it exits.
    let hwmKiB = 0;
    const poll = GNU_TIME
      ? null
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwmKiB = Math.max(hwmKiB, Number(m[1]));
          } catch {
            /* exited between two polls */
          }
        }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      if (code !== 0) return reject(new Error(`${cmd} ${argv.join(' ')} exited with ${code}\n${stderr}`));
      if (GNU_TIME) hwmKiB = Number(readFileSync(timeOut, 'utf8').trim().split('\n').at(-1).split(' ')[1]);
      resolve({ seconds, rssMiB: hwmKiB / 1024, stdout });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The contenders of one log, and their runs in turns.

const cli = underTest.cli;
const countScript = path.join(here, 'count-lines.mjs');

function contenders(kind, file, tools) {
  const list = [
    { name: 'split2 line count', key: 'split2', cmd: process.execPath, argv: [countScript, file], capture: true },
    // The generated Postfix log is of March 2024 and has no year: say so, as a user would.
    { name: 'mta550 analyze --output json', key: 'mta550', cmd: process.execPath, argv: [cli, 'analyze', file, '--output', 'json', ...(kind === 'postfix' ? ['--year', '2024'] : [])] },
  ];
  if (kind === 'postfix' && tools.pflogsumm.bin) list.push({ name: 'pflogsumm --problems-first', key: 'tool', cmd: 'perl', argv: [tools.pflogsumm.bin, '--problems-first', file] });
  if (kind === 'exim' && tools.eximstats.bin) list.push({ name: 'eximstats', key: 'tool', cmd: 'perl', argv: [tools.eximstats.bin, file] });
  return list;
}

async function measure(kind, lines, rounds, tools) {
  const file = await logFile(kind, lines);
  const bytes = statSync(file).size;
  warm(file);
  const list = contenders(kind, file, tools);
  const best = list.map(() => ({ seconds: Infinity, rssMiB: 0, runs: [] }));
  let counted = null;
  for (let round = 0; round < rounds; round++) {
    for (const [i, c] of list.entries()) {
      const r = await runChild(c.cmd, c.argv, { capture: c.capture });
      if (c.capture) counted = Number(r.stdout.trim());
      best[i].runs.push(r.seconds);
      best[i].seconds = Math.min(best[i].seconds, r.seconds);
      best[i].rssMiB = Math.max(best[i].rssMiB, r.rssMiB);
      note(`${kind} ${fmt(lines)} round ${round + 1}/${rounds}: ${c.name} ${fmt(r.seconds, 2)} s, ${fmt(r.rssMiB)} MiB`);
    }
  }
  if (counted !== lines) throw new Error(`${file}: split2 counted ${counted} lines, expected ${lines}`);
  const results = list.map((c, i) => ({ ...c, ...best[i], linesPerSec: lines / best[i].seconds, mbPerSec: bytes / 1e6 / best[i].seconds }));
  return { kind, lines, bytes, rounds, file, results, by: Object.fromEntries(results.map((r) => [r.key, r])) };
}

// ---------------------------------------------------------------------------------------------

const tools = { pflogsumm: findPflogsumm(), eximstats: findEximstats() };
for (const t of Object.values(tools)) if (t.missing) note(`${t.missing}: skipped`);
if (!GNU_TIME) note('GNU time (/usr/bin/time) not found: peak RSS from polling VmHWM in /proc/PID/status every 20 ms');

const runs = [];
for (const kind of ['postfix', 'exim']) runs.push(await measure(kind, LINES, ROUNDS, tools));
if (WITH_10M) for (const kind of ['postfix', 'exim']) runs.push(await measure(kind, 10_000_000, ROUNDS_10M, tools));
rmSync(scratch, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------
// Report.

const check = (ok) => (ok ? 'met' : 'NOT met');
const pkgVersion = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const perl = sh('perl', ['-e', 'print $^V']).stdout || '?';
const sizeName = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6} M` : fmt(n));
const toolName = { postfix: 'pflogsumm', exim: 'eximstats' };

const tables = runs.map((run) => {
  const title = `### ${run.kind === 'postfix' ? 'Postfix' : 'Exim'}, ${sizeName(run.lines)} lines (${fmt(run.bytes / 1e6, 1)} MB, ${path.relative(root, run.file)})`;
  const rows = run.results.map((r) => `| ${r.name} | ${fmt(r.seconds, 2)} | ${fmt(r.linesPerSec)} | ${fmt(r.mbPerSec, 1)} | ${fmt(r.rssMiB)} | ${r.runs.map((s) => fmt(s, 2)).join(', ')} |`);
  const missing = run.by.tool ? [] : [`| ${toolName[run.kind]} | skipped: ${tools[run.kind === 'postfix' ? 'pflogsumm' : 'eximstats'].missing} | | | | |`];
  return [title, '', `| run | seconds (best of ${run.rounds}) | lines/s | MB/s | peak RSS (MiB) | all runs (s) |`, '| --- | ---: | ---: | ---: | ---: | --- |', ...rows, ...missing].join('\n');
});

const ratioLines = [];
for (const run of runs) {
  const { split2, mta550, tool } = run.by;
  const label = `${run.kind === 'postfix' ? 'Postfix' : 'Exim'} ${sizeName(run.lines)}`;
  const vsBase = split2.seconds / mta550.seconds;
  ratioLines.push(`- ${label}: mta550 speed / split2 line count speed = **${fmt(vsBase, 2)}** (target >= 0.6: ${check(vsBase >= 0.6)})`);
  if (tool) {
    const vsTool = tool.seconds / mta550.seconds;
    ratioLines.push(`- ${label}: mta550 speed / ${toolName[run.kind]} speed = **${fmt(vsTool, 2)}** (target >= 8: ${check(vsTool >= 8)})`);
  } else ratioLines.push(`- ${label}: mta550 / ${toolName[run.kind]}: not measured (${toolName[run.kind]} skipped)`);
}
const rssLines = [];
for (const kind of ['postfix', 'exim']) {
  const small = runs.find((r) => r.kind === kind && r.lines === LINES)?.by.mta550;
  const big = runs.find((r) => r.kind === kind && r.lines === 10_000_000)?.by.mta550;
  const label = kind === 'postfix' ? 'Postfix' : 'Exim';
  if (big) rssLines.push(`- ${label}: mta550 peak RSS on 10 M lines **${fmt(big.rssMiB)} MiB** (target <= 150: ${check(big.rssMiB <= 150)}); on ${sizeName(LINES)} lines ${fmt(small.rssMiB)} MiB; ratio 10 M / ${sizeName(LINES)} = **${fmt(big.rssMiB / small.rssMiB, 2)}**`);
  else rssLines.push(`- ${label}: mta550 peak RSS on ${sizeName(LINES)} lines ${fmt(small.rssMiB)} MiB; 10 M lines not measured in this run (\`npm run bench -- --10m\`)`);
}

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const text = `# Benchmark results (\`npm run bench\`)

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu} (${cpus().length} cores, ${fmt(totalmem() / 2 ** 30, 1)} GiB), Linux ${release()}; load average (1, 5, 15 min) ${load0.map((l) => fmt(l, 2)).join(' ')} at the start, ${loadavg().map((l) => fmt(l, 2)).join(' ')} at the end (the bench's own children count: about 1 while it runs).
Node ${process.version}, mta550 ${pkgVersion} (commit ${underTest.commit}, dist/ as built at the start, run from a copy in bench/out/mta550-bench/), perl ${perl}.
Tools: ${tools.pflogsumm.version ?? tools.pflogsumm.missing}; ${tools.eximstats.version ?? tools.eximstats.missing}.

Each contender is a child process of its own, its output to /dev/null; time from spawn to exit; peak RSS ${GNU_TIME ? 'from GNU time (`/usr/bin/time -f "%e %M"`, the maximum resident set size of the child)' : 'polled from VmHWM in /proc/PID/status'}. Each time is the best of the runs, taken in turns (A B C A B C ...); the peak RSS is the largest of them. The file is read once before the first run (page cache warm for all).

Commands (FILE is the generated log; TZ=UTC):

- split2 line count: \`node bench/count-lines.mjs FILE\` (createReadStream, split2, a counter)
- mta550: \`node dist/src/cli.js analyze FILE --output json\` (Postfix: \`--year 2024\` too, the generated log's year)
- pflogsumm: \`pflogsumm --problems-first FILE\` (the whole file: no \`-d today\`/\`-d yesterday\` filter, which would skip most of the work)
- eximstats: \`eximstats FILE\` (default report: text, all sections)

Inputs: bench/generate.mjs (Postfix, seed 550: about 20 messages in flight, most lines connection/TLS/dovecot noise, ~5% bounces, NOQUEUE rejects, greylisting deferrals) and bench/generate-exim.mjs (Exim 4.96 mainlog, seed 550: arrivals, deliveries, ~5% bounces with Gmail, Microsoft, Yahoo, Postfix and Exim replies and their non-delivery reports, deferrals retried at queue runs, long-lived deferred messages, inbound \`rejected RCPT\`, connection and TLS noise).

## Results

${tables.join('\n\n')}

## Ratios and targets

${ratioLines.join('\n')}
${rssLines.join('\n')}

## How to run

- \`npm run bench\`: builds, then 1 M lines of Postfix and of Exim, 3 rounds (about 3 minutes; the logs are generated once into bench/out/). This run: ${sizeName(LINES)} lines, ${ROUNDS} rounds${WITH_10M ? `, 10 M lines ${ROUNDS_10M} round(s)` : ''}.
- \`npm run bench -- --10m\` or \`BENCH_10M=1 npm run bench\` (\`npm run bench:10m\`): also 10 M lines of each (1.3-1.5 GB each; generated once, a few minutes; then about 7 minutes per round of all contenders).
- \`BENCH_ROUNDS\` (default 3), \`BENCH_10M_ROUNDS\` (default 1), \`BENCH_LINES\` (default 1,000,000), \`BENCH_INSTALL=0\` (never install pflogsumm nor unpack eximstats; they are then skipped when missing).
- Tail at a steady 20,000 lines/s: \`npm run bench:tail-rate\` (bench/TAIL-RATE.md).
`;
process.stdout.write(text);
writeFileSync(path.join(here, 'RESULTS.md'), text);
