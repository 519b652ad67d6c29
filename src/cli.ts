#!/usr/bin/env node
/**
 * The command line: wires commands to the pipeline and the sinks. Exit codes: 0 ok, 1 runtime
 * error (unreadable input, failed output), 2 usage error.
 */
import { fstatSync, realpathSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import split2 from 'split2';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseCodes } from './aggregate/codes.js';
import { aggregate } from './aggregate/fleet.js';
import { ReportBuilder } from './aggregate/report.js';
import { FindingsBuilder } from './findings/builder.js';
import { ResentDetector } from './findings/resent.js';
import { onsetWorkerAvailable } from './onset/remote.js';
import { checkPosture, parseDnsServer, PostureCollector, resolveHosts, toFindings as postureFindings, type PostureReport } from './findings/posture.js';
import { renderPostureText } from './output/posture.js';
import { EXIT, Mta550Error } from './errors.js';
import { heapGrowthPercent, restrainHeapGrowth } from './heap.js';
import { expandGlob } from './input/glob.js';
import { resolveInputs, type InputSource } from './input/resolve.js';
import { renderTrace } from './output/trace.js';
import { trace, TraceQuery } from './trace/trace.js';
import { classify } from './classify/classify.js';
import { renderExplanation } from './output/explain.js';
import type { DeliveryAttempt } from './model/event.js';
import type { Stage } from './model/records.js';
import type { Format } from './model/parser.js';
import { DocWriter, parseRecords } from './output/docs.js';
import { parseRedact, Redactor } from './output/redact.js';
import { renderHtml } from './output/html.js';
import { DEFAULT_WIDTH, renderText, type TextOptions } from './output/text.js';
import { printableDeep, useColor, type ColorMode } from './output/ansi.js';
import { ProgressLine, wantsProgress } from './output/progress.js';
import { ecsLog, logFormatOf, textLog, type OpLog } from './log.js';
import { OutputWriter } from './output/writer.js';
import { liveEventLine, liveOnsetLine, liveSummaryLine } from './output/live.js';
import { runLive, runPipeline, type InputSummary, type LiveControl, type PipelineResult } from './pipeline.js';

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Whether stdout is a terminal (text output by default) and its width. */
  stdoutIsTTY: boolean;
  /** Whether stderr is a terminal: the NDJSON run's line accounting is printed there only then. */
  stderrIsTTY: boolean;
  columns?: number;
  /** Environment for the text report's colour (NO_COLOR, FORCE_COLOR, TERM); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether standard input has data for us (a pipe or a redirected file). */
  stdinHasData: boolean;
  cwd: string;
  /** For `tail`: set by signal handlers to stop or re-open (the CLI entry point installs them). */
  control?: LiveControl;
}

type OutputFormat = 'text' | 'json' | 'ndjson' | 'records' | 'html';

/** The package root: where package.json and samples/ live, from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      realpathSync(path.join(dir, 'package.json'));
      return dir;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Mta550Error('internal', 'cannot find the mta550 package root');
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The bundled samples analysed when no input is given: every `samples/<format>/*.log`. */
async function bundledSamples(cwd: string): Promise<string[]> {
  const files = await expandGlob(path.join(packageRoot(), 'samples', '[!_]*', '*.log*'));
  return files.map((f) => {
    const rel = path.relative(cwd, f);
    return rel.startsWith('..') ? f : rel;
  });
}

function parseDuration(s: string, option = '--idle-timeout'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(String(s).trim());
  if (m === null) throw new Mta550Error('usage', `${option}: "${s}" is not a duration (examples: 500ms, 10s, 5m, 6h, 1d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function unparsedSummary(result: PipelineResult, events: number): string {
  const sum = (f: (i: PipelineResult['inputs'][number]) => number) => result.inputs.reduce((a, i) => a + f(i), 0);
  const lines = sum((i) => i.lines);
  return (
    `mta550: ${result.inputs.length} input(s), ${lines.toLocaleString('en-US')} lines: ` +
    `${sum((i) => i.records)} decoded, ${sum((i) => i.unsupported)} unsupported, ` +
    `${sum((i) => i.otherPrograms)} from other programs, ${sum((i) => i.malformed)} malformed; ` +
    `${events} event(s) written\n`
  );
}

interface AnalyzeArgs {
  inputs: string[];
  format?: Format;
  codes: string;
  output?: OutputFormat;
  year?: number;
  maxOpenMessages: number;
  idleTimeout: string;
  top: number;
  color: ColorMode;
  quiet: boolean;
  onsets: boolean;
  records: string;
  ecs: boolean;
  redact: string[];
  redactSalt?: string;
  strict: boolean;
  checkDns?: boolean;
  dnsServer?: string[];
}

/** `--redact` and its salt (`--redact-salt`, else MTA550_REDACT_SALT): null when nothing is redacted. */
function redactorFor(args: { redact: string[]; redactSalt?: string }): Redactor | null {
  const modes = parseRedact(args.redact);
  if (modes.size === 0) return null;
  return new Redactor(modes, args.redactSalt ?? process.env.MTA550_REDACT_SALT ?? '');
}

/** Sizes of the uncompressed input files (the progress line's share and time left). */
async function plainSizes(sources: readonly InputSource[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const s of sources) {
    if (s.kind !== 'file' || /\.(?:gz|bz2|xz|zst)$/.test(s.path)) continue;
    try {
      sizes.set(s.path, (await stat(s.path)).size);
    } catch {
      // unreadable: the run reports it
    }
  }
  return sizes;
}

/** Inputs of at least this many bytes (compressed ones counted 8x) run onset detection on the second core. */
const ONSET_WORKER_MIN_BYTES = 8 * 1024 * 1024;

/**
 * Whether `analyze` runs onset detection in a worker thread (onset/remote.ts): for the reports built
 * at the end (json, text), over inputs big enough that a thread's start-up (tens of ms) is nothing.
 * MTA550_ONSET_WORKER=0 keeps it in the main thread (a one-core container), =1 forces it.
 */
async function wantsOnsetWorker(output: OutputFormat, sources: readonly InputSource[]): Promise<boolean> {
  const env = process.env.MTA550_ONSET_WORKER;
  if (env === '0' || !onsetWorkerAvailable()) return false;
  if (output !== 'json' && output !== 'text') return false;
  if (env === '1') return true;
  let bytes = 0;
  for (const s of sources) {
    // Standard input's size is unknown: often a big decompressed export.
    if (s.kind !== 'file') return true;
    try {
      bytes += (await stat(s.path)).size * (/\.(?:gz|bz2|xz|zst)$/.test(s.path) ? 8 : 1);
    } catch {
      // unreadable: the run reports it
    }
  }
  return bytes >= ONSET_WORKER_MIN_BYTES;
}

/** The run's statistics as ECS log fields (`--log-format ecs`). */
function runStats(r: { inputs: readonly InputSummary[]; eventsEmitted: number }): Record<string, unknown> {
  const sum = (f: (i: InputSummary) => number) => r.inputs.reduce((a, i) => a + f(i), 0);
  return {
    mta550: {
      inputs: r.inputs.length,
      lines: sum((i) => i.lines),
      decoded: sum((i) => i.records),
      unsupported: sum((i) => i.unsupported),
      other_programs: sum((i) => i.otherPrograms),
      malformed: sum((i) => i.malformed),
      events: r.eventsEmitted,
    },
  };
}

async function analyzeCommand(args: AnalyzeArgs, io: CliIo, log: OpLog): Promise<number> {
  const control = io.control;
  const codes = parseCodes(args.codes);
  if (args.year !== undefined && (!Number.isInteger(args.year) || args.year < 1970 || args.year > 9999)) {
    throw new Mta550Error('usage', `--year: "${args.year}" is not a year (example: --year 2024)`);
  }
  if (!Number.isInteger(args.maxOpenMessages) || args.maxOpenMessages < 1) {
    throw new Mta550Error('usage', '--max-open-messages must be a whole number of at least 1');
  }
  const idleTimeoutMs = parseDuration(args.idleTimeout);
  const output: OutputFormat = args.output ?? (io.stdoutIsTTY ? 'text' : 'ndjson');
  const dnsServers = (args.dnsServer ?? []).flatMap((v) => v.split(',')).filter((v) => v.trim() !== '').map((v) => {
    const server = parseDnsServer(v);
    if (server === null) throw new Mta550Error('usage', `--dns-server: "${v}" is not an IP address or ip:port (example: --dns-server 192.0.2.53 or 127.0.0.1:5353)`);
    return server;
  });

  let inputArgs = args.inputs;
  if (inputArgs.length === 0) {
    if (io.stdinHasData) inputArgs = ['-'];
    else {
      inputArgs = await bundledSamples(io.cwd);
      if (!args.quiet) {
        log.info('no input given: analysing the bundled samples (name files, or - for standard input)');
      }
    }
  }
  const kinds = parseRecords(args.records);
  const redactor = redactorFor(args);
  const docs = new DocWriter(output === 'records' ? 'records' : args.ecs ? 'ecs' : 'flat', redactor);
  const lines = output === 'ndjson' || output === 'records';
  const sources = await resolveInputs(inputArgs);
  const progress = wantsProgress(io.stderrIsTTY, args.quiet) ? new ProgressLine(io.stderr, await plainSizes(sources), { ...(io.columns !== undefined ? { columns: io.columns } : {}) }) : null;
  const out = new OutputWriter(io.stdout);
  // The HTML report's chart needs the timeline; the other outputs stay as they are without it.
  const report = new ReportBuilder(codes.items, output === 'html' ? { timeline: true } : {});
  const findings = new FindingsBuilder();
  // #14 item 3: a message refused on one path and delivered through another (joined by Message-ID).
  const resent = new ResentDetector();
  const posture = args.checkDns === true ? new PostureCollector() : null;
  const onsetWorker = args.onsets && (await wantsOnsetWorker(output, sources));
  const result = await runPipeline(
    sources,
    {
      codes,
      ...(args.year !== undefined ? { year: args.year } : {}),
      ...(args.format !== undefined ? { format: args.format } : {}),
      correlator: { maxOpenMessages: args.maxOpenMessages, idleTimeoutMs },
      ...(args.onsets ? {} : { onsets: false as const }),
      ...(onsetWorker ? { onsetWorker: true } : {}),
      stdin: io.stdin,
      shouldStop: () => out.closed,
      interrupted: () => control?.stop === true,
      ...(progress === null ? {} : { progress: (p: { path: string; bytes: number; lines: number }) => progress.update(p) }),
    },
    {
      event(e) {
        report.event(e);
        findings.event(e);
        resent.event(e);
        posture?.event(e);
        if (lines && kinds.has('events')) return out.write(docs.event(e));
      },
      outcome: (domain, status) => report.outcome(domain, status),
      unit: (u) => report.unit(u),
      onset(r) {
        report.onset(r);
        findings.onset(r);
        if (lines && kinds.has('onsets')) return out.write(docs.onset(r));
      },
      attempt(a: DeliveryAttempt, from: { format: Format; path: string }) {
        findings.attempt(a);
        resent.attempt(a);
        if (lines && kinds.has('attempts')) return out.write(docs.attempt(a, from));
      },
    },
  );
  progress?.clear();
  if (result.stopped) return EXIT.ok; // the reader went away (`| head`): not an error
  const built = report.build(result.inputs, result.correlation, findings.build({ extra: resent.build() }));
  let postureReport: PostureReport | null = null;
  if (posture !== null) {
    // --check-dns (#14 item 5): after the run, the DNS records of the senders behind auth/rDNS/address refusals.
    const targets = posture.targets();
    const dnsOptions = dnsServers.length > 0 ? { servers: dnsServers } : {};
    await resolveHosts(targets, dnsOptions);
    postureReport = await checkPosture(targets, dnsOptions);
    const rank = { high: 0, medium: 1, low: 2 };
    built.findings = [...built.findings, ...postureFindings(postureReport, targets)].sort((a, b) => rank[a.severity] - rank[b.severity]);
    if (!postureReport.checked && output !== 'text') log.warn(`DNS not checked: ${postureReport.reason ?? 'no DNS server answered'}`);
  }
  if (redactor !== null) {
    built.groups = built.groups.map((g) => ({ ...redactor.group(g), ...(g.exampleRecipients === undefined ? {} : { exampleRecipients: g.exampleRecipients.map((a) => redactor.address(a)) }) }));
    built.onsets = built.onsets.map((r) => redactor.onset(r));
    built.findings = built.findings.map((f) => redactor.finding(f));
  }
  if (lines && kinds.has('groups')) for (const g of built.groups) await out.write(docs.group(g, built.totals.lastSeen));
  if (lines && kinds.has('findings')) for (const f of built.findings) await out.write(docs.finding(f));
  // Log text reaches a terminal here: its control characters are made printable first.
  if (output === 'text') await out.write(renderText(printableDeep(built), textOptions(args, io)) + (postureReport === null ? '' : renderPostureText(printableDeep(postureReport))));
  else if (output === 'json') await out.write(JSON.stringify(postureReport === null ? built : { ...built, posture: postureReport }, null, 2) + '\n');
  else if (output === 'html') await out.write(renderHtml(built, { generator: `mta550 ${await version()}` }));
  else if (!args.quiet && io.stderrIsTTY) log.human(unparsedSummary(result, result.eventsEmitted));
  if (log.format === 'ecs' && !args.quiet) log.info('analyze finished', runStats(result));
  await out.end();
  if (out.error !== null) throw new Mta550Error('output_failed', `cannot write the output: ${out.error.message}`);
  const failed = result.inputs.filter((i) => i.error !== undefined);
  for (const i of failed) log.error(i.error!, { file: { path: i.path } });
  for (const i of result.inputs.filter((x) => x.skipped === 'binary')) {
    log.warn(`${i.path} is not a text file (binary content): skipped`, { file: { path: i.path } });
  }
  if (result.interrupted) {
    const signal = control?.signal ?? 'SIGTERM';
    log.warn(`interrupted by ${signal}: the output covers the lines read until then`);
    return signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  }
  if (failed.length > 0) return EXIT.runtime;
  const malformed = result.inputs.reduce((a, i) => a + i.malformed, 0);
  if (args.strict && malformed > 0) {
    const where = result.inputs.filter((i) => i.malformed > 0).length;
    log.error(`--strict: ${malformed} malformed line(s) in ${where} input(s) (the report lists the first ones)`);
    return EXIT.strict;
  }
  return EXIT.ok;
}

interface TailArgs extends Omit<AnalyzeArgs, 'top' | 'color' | 'output'> {
  output?: 'text' | 'ndjson' | 'records';
  state?: string;
  fromBeginning: boolean;
  pollInterval: string;
  maxWait: string;
  checkpointEvery: string;
  summaryEvery?: string;
}

async function tailCommand(args: TailArgs, io: CliIo, control: LiveControl, log: OpLog): Promise<number> {
  const codes = parseCodes(args.codes);
  if (args.inputs.length === 0) throw new Mta550Error('usage', 'tail needs files to follow: mta550 tail /var/log/mail.log (or - for standard input)');
  if (args.inputs.includes('-') && args.inputs.length > 1) throw new Mta550Error('usage', 'tail follows either files or standard input (-), not both');
  if (args.state !== undefined && args.inputs.includes('-')) throw new Mta550Error('usage', '--state needs files: standard input cannot be resumed');
  if (!Number.isInteger(args.maxOpenMessages) || args.maxOpenMessages < 1) {
    throw new Mta550Error('usage', '--max-open-messages must be a whole number of at least 1');
  }
  const pollMs = parseDuration(args.pollInterval, '--poll-interval');
  const maxWaitMs = parseDuration(args.maxWait, '--max-wait');
  const checkpointEveryMs = parseDuration(args.checkpointEvery, '--checkpoint-every');
  const summaryEveryMs = args.summaryEvery === undefined ? undefined : parseDuration(args.summaryEvery, '--summary-every');
  if (pollMs < 10) throw new Mta550Error('usage', '--poll-interval must be at least 10ms');
  const output = args.output ?? 'ndjson';
  const kinds = parseRecords(args.records, ['events', 'onsets', 'attempts', 'findings']);
  const redactor = redactorFor(args);
  const docs = new DocWriter(output === 'records' ? 'records' : args.ecs ? 'ecs' : 'flat', redactor);
  const out = new OutputWriter(io.stdout);
  const width = io.columns ?? 160;
  // `--records findings`: findings (#14) written live, at each summary and at the stop, each again only when it changed.
  const live = kinds.has('findings') && output !== 'text' ? { builder: new FindingsBuilder(), resent: new ResentDetector(), written: new Map<string, string>() } : null;
  const writeFindings = async (): Promise<void> => {
    if (live === null) return;
    for (const f of live.builder.build({ extra: live.resent.build() })) {
      const doc = docs.finding(redactor === null ? f : redactor.finding(f));
      const { counts, examples } = f;
      const sig = JSON.stringify({ counts, examples: examples.length, severity: f.severity });
      if (live.written.get(f.id) === sig) continue;
      live.written.set(f.id, sig);
      await out.write(doc);
    }
  };
  const result = await runLive(
    {
      patterns: args.inputs,
      codes,
      ...(args.year !== undefined ? { year: args.year } : {}),
      ...(args.format !== undefined ? { format: args.format } : {}),
      correlator: { maxOpenMessages: args.maxOpenMessages, idleTimeoutMs: parseDuration(args.idleTimeout) },
      ...(args.onsets ? {} : { onsets: false as const }),
      stdin: io.stdin,
      shouldStop: () => out.closed,
      pollMs,
      maxWaitMs,
      checkpointEveryMs,
      ...(summaryEveryMs !== undefined ? { summaryEveryMs } : {}),
      ...(args.state !== undefined ? { statePath: args.state } : {}),
      fromStart: args.fromBeginning,
      warn: (m) => {
        if (!args.quiet || m.includes('cannot')) log.warn(m);
      },
      control,
    },
    {
      event(e) {
        if (live !== null) {
          live.builder.event(e);
          live.resent.event(e);
        }
        if (!kinds.has('events')) return;
        return out.write(output === 'text' ? liveEventLine(printableDeep(e), width) : docs.event(e));
      },
      outcome: () => undefined,
      onset(r) {
        live?.builder.onset(r);
        if (!kinds.has('onsets')) return;
        return out.write(output === 'text' ? liveOnsetLine(printableDeep(r)) : docs.onset(r));
      },
      ...((output !== 'text' && kinds.has('attempts')) || live !== null
        ? {
            attempt: (a: DeliveryAttempt, from: { format: Format; path: string }) => {
              if (live !== null) {
                live.builder.attempt(a);
                live.resent.attempt(a);
              }
              if (output !== 'text' && kinds.has('attempts')) return out.write(docs.attempt(a, from));
            },
          }
        : {}),
      async summary(sm) {
        await writeFindings();
        return out.write(output === 'text' ? liveSummaryLine(sm) : docs.summary(sm));
      },
      flush: () => out.end(),
    },
  );
  await writeFindings();
  await out.end();
  if (out.error !== null) throw new Mta550Error('output_failed', `cannot write the output: ${out.error.message}`);
  if (!args.quiet) {
    const lines = result.inputs.reduce((a, i) => a + i.lines, 0);
    log.info(`tail stopped: ${lines.toLocaleString('en-US')} lines read, ${result.eventsEmitted} event(s) written`, runStats(result));
  }
  return EXIT.ok;
}

interface AggregateArgs {
  inputs: string[];
  codes: string;
  output?: OutputFormat;
  records: string;
  ecs: boolean;
  top: number;
  color: ColorMode;
  quiet: boolean;
}

/** `mta550 aggregate`: groups and onsets across hosts from the NDJSON their mta550 wrote. */
async function aggregateCommand(args: AggregateArgs, io: CliIo, log: OpLog): Promise<number> {
  const codes = parseCodes(args.codes);
  const output: OutputFormat = args.output ?? (io.stdoutIsTTY ? 'text' : 'json');
  const kinds = parseRecords(args.records, ['onsets', 'groups', 'findings']);
  let inputArgs = args.inputs;
  if (inputArgs.length === 0) {
    if (!io.stdinHasData) throw new Mta550Error('usage', 'aggregate needs NDJSON from mta550 (files, or - for standard input): mta550 aggregate host1.ndjson host2.ndjson');
    inputArgs = ['-'];
  }
  const sources = await resolveInputs(inputArgs);
  const { report, counts } = await aggregate(sources, codes, io.stdin);
  const out = new OutputWriter(io.stdout);
  if (output === 'text') await out.write(renderText(printableDeep(report), textOptions(args, io)));
  else if (output === 'json') await out.write(JSON.stringify(report, null, 2) + '\n');
  else {
    const docs = new DocWriter(output === 'records' ? 'records' : args.ecs ? 'ecs' : 'flat');
    if (kinds.has('onsets')) for (const r of report.onsets) await out.write(docs.onset(r));
    if (kinds.has('groups')) for (const g of report.groups) await out.write(docs.group(g, report.totals.lastSeen));
    if (kinds.has('findings')) for (const f of report.findings) await out.write(docs.finding(f));
  }
  await out.end();
  if (out.error !== null) throw new Mta550Error('output_failed', `cannot write the output: ${out.error.message}`);
  if (!args.quiet) {
    const attempts = counts.reduce((a, c) => a + c.attempts, 0);
    if (attempts === 0 && report.totals.events > 0) {
      log.warn("no delivery attempts in the input: rates and rate onsets need them (write the hosts' NDJSON with --records events,attempts)");
    }
    const malformed = report.inputs.reduce((a, i) => a + i.malformed, 0);
    if (malformed > 0) log.warn(`${malformed} line(s) were not mta550 records (the report lists the first ones)`);
  }
  const failed = report.inputs.filter((i) => i.error !== undefined);
  for (const i of failed) log.error(i.error!, { file: { path: i.path } });
  return failed.length > 0 ? EXIT.runtime : EXIT.ok;
}

interface TraceArgs {
  query: string;
  inputs: string[];
  since?: string;
  until?: string;
  output?: 'text' | 'json';
  raw: boolean;
  limit: number;
  codes: string;
  format?: Format;
  year?: number;
}

function parseTime(s: string | undefined, option: string): number | null {
  if (s === undefined) return null;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Mta550Error('usage', `${option}: "${s}" is not a time (example: 2024-03-11T08:00Z)`);
  return ms;
}

/** `mta550 trace`: three or more reads of the inputs (src/trace/trace.ts), then the stories. */
async function traceCommand(args: TraceArgs, io: CliIo): Promise<number> {
  if (args.inputs.length === 0) throw new Mta550Error('usage', 'trace: name the log files to search (trace reads them several times, so not standard input)');
  if (args.inputs.includes('-')) throw new Mta550Error('usage', 'trace reads its inputs several times: give files, not standard input (-)');
  const codes = parseCodes(args.codes);
  if (!Number.isInteger(args.limit) || args.limit < 1) throw new Mta550Error('usage', '--limit must be a whole number of at least 1');
  const window = { sinceMs: parseTime(args.since, '--since'), untilMs: parseTime(args.until, '--until') };
  const sources = await resolveInputs(args.inputs);
  const out = new OutputWriter(io.stdout);
  let failed: string[] = [];
  const t = await trace(new TraceQuery(args.query), window, async (tap, onEvent) => {
    const r = await runPipeline(
      sources,
      {
        codes,
        ...(args.year !== undefined ? { year: args.year } : {}),
        ...(args.format !== undefined ? { format: args.format } : {}),
        onsets: false,
        classify: onEvent !== null,
        stdin: io.stdin,
        tap,
      },
      { event: (e) => onEvent?.(e), outcome: () => {} },
    );
    failed = r.inputs.filter((i) => i.error !== undefined).map((i) => i.error!);
  }, { limit: args.limit, keepRaw: args.raw || args.output === 'json' });
  if ((args.output ?? 'text') === 'json') await out.write(JSON.stringify(t, null, 2) + '\n');
  else await out.write(renderTrace(printableDeep(t), { raw: args.raw }));
  await out.end();
  if (out.error !== null) throw new Mta550Error('output_failed', `cannot write the output: ${out.error.message}`);
  for (const f of failed) io.stderr.write(`mta550: ${f}\n`);
  return failed.length > 0 ? EXIT.runtime : EXIT.ok;
}

interface ExplainArgs {
  reply?: string;
  lines: boolean;
  output?: OutputFormat;
  remoteHost?: string;
  stage?: Stage;
  direction: 'inbound' | 'outbound';
  recipient?: string;
}

const STAGE_CHOICES = ['connect', 'helo', 'starttls', 'auth', 'mail', 'rcpt', 'data', 'end_of_data'] as const;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

async function explainCommand(args: ExplainArgs, io: CliIo): Promise<number> {
  let input = args.reply;
  const fromStdin = input === undefined || input === '-';
  if (fromStdin) {
    if (!io.stdinHasData && input === undefined) {
      throw new Mta550Error('usage', 'explain needs a reply text: mta550 explain "550 5.1.1 <bob@example.net>: User unknown" (or pipe it in)');
    }
    // --lines streams standard input line by line (a list of bounces can be long); otherwise the
    // whole input is one reply.
    if (!args.lines) input = await readAll(io.stdin);
  }
  const recipientDomain = args.recipient === undefined ? null : (args.recipient.split('@').pop() ?? '').toLowerCase() || null;
  const explain = (reply: string) =>
    classify({
      reply,
      direction: args.direction,
      stage: args.stage ?? null,
      remoteHost: args.remoteHost ?? null,
      recipientDomain,
    });
  const out = new OutputWriter(io.stdout);
  if (args.lines) {
    const output = args.output ?? 'ndjson';
    if (output === 'text') throw new Mta550Error('usage', 'explain --lines writes ndjson or json (one answer per input line)');
    // split2 frames the text lines (no byte offsets are needed here, unlike log inputs).
    const source: AsyncIterable<string> | Iterable<string> = fromStdin ? (io.stdin.pipe(split2(/\r?\n/)) as AsyncIterable<string>) : (input ?? '').split(/\r?\n/);
    const answers: object[] = [];
    for await (const line of source) {
      if (line.trim() === '') continue;
      const a = { input: line, ...explain(line) };
      if (output === 'json') answers.push(a);
      else await out.write(JSON.stringify(a) + '\n');
      if (out.closed) break;
    }
    if (output === 'json') await out.write(JSON.stringify(answers, null, 2) + '\n');
  } else {
    const reply = (input ?? '').trim();
    if (reply === '') throw new Mta550Error('usage', 'explain got an empty reply text');
    const c = explain(reply);
    const output = args.output ?? 'text';
    if (output === 'text') await out.write(renderExplanation(c));
    else await out.write(JSON.stringify(c, null, output === 'json' ? 2 : undefined) + '\n');
  }
  await out.end();
  return EXIT.ok;
}

const STDIN_TOKEN = '\u0000stdin';

/** Options several commands share, defined once. */
const QUIET_OPTION = { alias: 'q', describe: 'No notes on standard error (errors are still printed)', type: 'boolean', default: false } as const;
const TOP_OPTION = { alias: 'max-rows', describe: 'Most rows per table in the text report; the rest are summed in one line (--max-rows: its old name)', type: 'number', default: 40 } as const;
const COLOR_OPTION = {
  describe: 'Colour in the text report: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always or never',
  choices: ['auto', 'always', 'never'] as const,
  default: 'auto' as const,
} as const;

/** The text report's width (the terminal's, else 100), rows per table and colour. */
function textOptions(args: { top: number; color: ColorMode }, io: CliIo): TextOptions {
  if (!Number.isInteger(args.top) || args.top < 1) throw new Mta550Error('usage', `--top takes a whole number of rows, 1 or more (got ${String(args.top)})`);
  return { width: io.columns ?? DEFAULT_WIDTH, top: args.top, color: useColor(args.color, io.stdoutIsTTY, io.env ?? process.env) };
}

/** Runs the CLI with the given arguments; resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let result: Promise<number> | null = null;
  const ver = await version();
  const log = logFormatOf(argv) === 'ecs' ? ecsLog(io.stderr, ver) : textLog(io.stderr);
  // yargs drops a lone `-` (standard input) from positionals: carry it through as a token.
  const fromToken = (x: string) => (x === STDIN_TOKEN ? '-' : x);
  const parser = yargs(argv.map((a) => (a === '-' ? STDIN_TOKEN : a)))
    .scriptName('mta550')
    .usage('$0 <command> [options]\n\nTurn mail-server logs into answers about SMTP 550 rejections.')
    .command(
      'analyze [inputs..]',
      'Analyse logs (files, globs, directories, .gz, - for stdin) and report the rejections',
      (y) =>
        y
          .positional('inputs', {
            describe: 'Log files, quoted globs, directories or - for standard input (default: stdin when piped, else the bundled samples)',
            type: 'string',
            array: true,
            default: [] as string[],
          })
          .option('codes', {
            describe: 'Reply codes that count as rejections: codes or patterns, comma-separated (550, 554, 55x, 5xx)',
            type: 'string',
            default: '550',
          })
          .option('output', {
            alias: 'o',
            describe:
              'text (a report), json (the report as JSON), html (one self-contained page: onsets, a rate chart, sortable groups; > report.html), ndjson (one ECS document per line; --ecs=false: flat) or records (mta550\'s own record shape) [default: text on a terminal, else ndjson]',
            choices: ['text', 'json', 'html', 'ndjson', 'records'] as const,
          })
          .option('format', {
            describe: 'Read every input as this format (app: application logs, the exceptions of SMTP client libraries) [default: chosen per input from its first lines]',
            choices: ['postfix', 'exim', 'exchange', 'app'] as const,
          })
          .option('year', {
            describe: 'Year of the first line of each input whose timestamps have no year (default: inferred from the file time)',
            type: 'number',
          })
          .option('max-open-messages', {
            describe: 'Most messages the correlator keeps open at once; older ones are closed and counted',
            type: 'number',
            default: 100_000,
          })
          .option('idle-timeout', {
            describe: 'Log time after which a message with no new line is closed (ms, s, m, h, d)',
            type: 'string',
            default: '6h',
          })
          .option('onsets', {
            describe: 'Detect onsets (rates that step up) and name their cause; --no-onsets turns it off',
            type: 'boolean',
            default: true,
          })
          .option('records', {
            describe: 'With --output ndjson or records: which records to write, comma-separated: events, onsets, groups (summaries at the end), findings (at the end: retries after a 5xx, poisoned sends, one domain only...), attempts (every delivery attempt, for mta550 aggregate); all = events,onsets,groups,findings',
            type: 'string',
            default: 'all',
          })
          .option('ecs', {
            describe: 'With --output ndjson: ECS documents (nested); --ecs=false writes the same content flat, with dotted keys',
            type: 'boolean',
            default: true,
          })
          .option('redact', {
            describe: 'Hash or remove personal data in every record: local-parts, addresses, subjects (comma-separated or repeated)',
            type: 'string',
            array: true,
            default: [] as string[],
          })
          .option('redact-salt', {
            describe: 'Salt of the --redact hashes (default: MTA550_REDACT_SALT, else none)',
            type: 'string',
          })
          .option('strict', {
            describe: 'Exit with code 3 when any line is malformed (the output is still written)',
            type: 'boolean',
            default: false,
          })
          .option('check-dns', {
            describe: 'After the run, look up SPF, DMARC and MX of the sender domains and the PTR of the sending IPs behind sender_auth_failed, reverse_dns_failed and sender_address_invalid refusals (DNS queries: off unless asked)',
            type: 'boolean',
            default: false,
          })
          .option('dns-server', {
            describe: 'With --check-dns: the DNS server(s) to ask, ip or ip:port, repeated or comma-separated [default: the system resolver]',
            type: 'string',
            array: true,
            default: [] as string[],
          })
          .option('top', TOP_OPTION)
          .option('color', COLOR_OPTION)
          .option('quiet', QUIET_OPTION)
          .example('$0 analyze /var/log/mail.log', 'Report on the live mail log')
          .example("$0 analyze '/var/log/mail.log*' --codes 5xx", 'Every 5xx in the rotated set, oldest first')
          .example("$0 analyze mail.log --output ndjson | jq '.email.to.address[0]'", 'One ECS document per line'),
      (args) => {
        const a = args as unknown as AnalyzeArgs;
        result = analyzeCommand({ ...a, inputs: a.inputs.map(fromToken) }, io, log);
      },
    )
    .command(
      'tail [inputs..]',
      'Follow live logs (like tail -F: rotation-safe, resumable with --state) and write events as they happen',
      (y) =>
        y
          .positional('inputs', {
            describe: 'Log files, quoted globs or directories to follow, or - for standard input',
            type: 'string',
            array: true,
            default: [] as string[],
          })
          .option('state', {
            describe: 'Checkpoint file: a restart continues exactly where the last run stopped, also across a rotation',
            type: 'string',
          })
          .option('from-beginning', {
            describe: 'Read files that exist at startup from their start (default: from their end, like tail -F; --state overrides both)',
            type: 'boolean',
            default: false,
          })
          .option('output', {
            alias: 'o',
            describe: 'ndjson (one ECS document per line; --ecs=false: flat), records (mta550\'s own record shape) or text (one readable line per event)',
            choices: ['ndjson', 'records', 'text'] as const,
            default: 'ndjson' as const,
          })
          .option('records', {
            describe: 'Which records to write, comma-separated: events, onsets, findings (new or changed ones at each --summary-every and at the stop), attempts (every delivery attempt, for mta550 aggregate); all = events,onsets,findings',
            type: 'string',
            default: 'all',
          })
          .option('ecs', {
            describe: 'With --output ndjson: ECS documents (nested); --ecs=false writes the same content flat, with dotted keys',
            type: 'boolean',
            default: true,
          })
          .option('redact', {
            describe: 'Hash or remove personal data in every record: local-parts, addresses, subjects',
            type: 'string',
            array: true,
            default: [] as string[],
          })
          .option('redact-salt', {
            describe: 'Salt of the --redact hashes (default: MTA550_REDACT_SALT, else none)',
            type: 'string',
          })
          .option('summary-every', {
            describe: 'Write a summary record this often (e.g. 5m)',
            type: 'string',
          })
          .option('codes', {
            describe: 'Reply codes that count as rejections (550, 554, 55x, 5xx)',
            type: 'string',
            default: '550',
          })
          .option('format', {
            describe: 'Read every input as this format [default: chosen per file from its first lines]',
            choices: ['postfix', 'exim', 'exchange', 'app'] as const,
          })
          .option('onsets', {
            describe: 'Detect onsets; --no-onsets turns it off',
            type: 'boolean',
            default: true,
          })
          .option('poll-interval', {
            describe: 'How often files are checked for new lines, rotation and truncation',
            type: 'string',
            default: '250ms',
          })
          .option('max-wait', {
            describe: 'Longest an event waits for the rest of its message before it is written',
            type: 'string',
            default: '10s',
          })
          .option('checkpoint-every', {
            describe: 'How often the --state file is written (and always on SIGINT/SIGTERM)',
            type: 'string',
            default: '5s',
          })
          .option('year', {
            describe: 'Year of yearless timestamps (default: the current year)',
            type: 'number',
          })
          .option('max-open-messages', {
            describe: 'Most messages the correlator keeps open at once',
            type: 'number',
            default: 100_000,
          })
          .option('idle-timeout', {
            describe: 'Log time after which a message with no new line is closed',
            type: 'string',
            default: '6h',
          })
          .option('quiet', {
            alias: 'q',
            describe: 'No notes on standard error (warnings about unreadable files are still printed)',
            type: 'boolean',
            default: false,
          })
          .example('$0 tail /var/log/mail.log --state /var/lib/mta550/state.json', 'Follow the mail log, resumable')
          .example("$0 tail '/var/log/mail.log*' -o text", 'Watch rejections as they happen')
          .example('journalctl -f -o json -u postfix | $0 tail -', 'Follow the journal'),
      (args) => {
        const a = args as unknown as TailArgs;
        result = tailCommand({ ...a, inputs: a.inputs.map(fromToken) }, io, io.control ?? { stop: false, reopen: false, wake: () => undefined }, log);
      },
    )
    .command(
      'aggregate [inputs..]',
      "Groups and onsets across hosts, from the NDJSON each host's mta550 wrote (--records events,attempts)",
      (y) =>
        y
          .positional('inputs', {
            describe: 'NDJSON files of mta550 (ECS, flat or records; .gz too), quoted globs, or - for standard input',
            type: 'string',
            array: true,
            default: [] as string[],
          })
          .option('codes', {
            describe: 'The reply codes the hosts counted as rejections (for the report heading)',
            type: 'string',
            default: '550',
          })
          .option('output', {
            alias: 'o',
            describe: 'text (the report), json (the report as JSON), ndjson (onset and group ECS documents) or records [default: text on a terminal, else json]',
            choices: ['text', 'json', 'ndjson', 'records'] as const,
          })
          .option('records', {
            describe: 'With --output ndjson or records: onsets, groups, findings, or all',
            type: 'string',
            default: 'all',
          })
          .option('ecs', {
            describe: 'With --output ndjson: ECS documents; --ecs=false writes them flat',
            type: 'boolean',
            default: true,
          })
          .option('top', TOP_OPTION)
          .option('color', COLOR_OPTION)
          .option('quiet', QUIET_OPTION)
          .example('$0 aggregate mx1.ndjson mx2.ndjson --output json', 'One report over two hosts')
          .example('kcat -C -t mta550 -e | $0 aggregate -', 'From a Kafka topic the hosts ship to'),
      (args) => {
        const a = args as unknown as AggregateArgs;
        result = aggregateCommand({ ...a, inputs: a.inputs.map(fromToken) }, io, log);
      },
    )
    .command(
      'trace <query> [inputs..]',
      "One message's whole story across the inputs: every line of the messages matching a Message-ID, queue ID, address or domain, in time order",
      (y) =>
        y
          .positional('query', {
            describe: 'A Message-ID (with or without <>), a queue ID (Postfix, Exim, Exchange), a recipient or sender address, or a domain',
            type: 'string',
          })
          .positional('inputs', {
            describe: 'Log files, globs or directories (read several times: not standard input)',
            type: 'string',
            array: true,
            default: [] as string[],
          })
          .option('since', { describe: 'Only messages matching from this time on (ISO 8601, e.g. 2024-03-11T08:00Z)', type: 'string' })
          .option('until', { describe: 'Only messages matching up to this time (ISO 8601)', type: 'string' })
          .option('output', {
            alias: 'o',
            describe: 'text (default) or json',
            choices: ['text', 'json'] as const,
          })
          .option('raw', { describe: 'Print each record\'s log line under it', type: 'boolean', default: false })
          .option('limit', { describe: 'Most messages matching the query directly that are followed (the rest are counted)', type: 'number', default: 100 })
          .option('codes', { describe: 'Refusal codes shown with their cause (same syntax as analyze)', type: 'string', default: '4xx,5xx' })
          .option('format', {
            describe: 'Read every input as this format [default: chosen per input from its first lines]',
            choices: ['postfix', 'exim', 'exchange', 'app'] as const,
          })
          .option('year', { describe: 'Year of the first line of each input whose timestamps have no year', type: 'number' })
          .example('$0 trace bob@example.org /var/log/mail.log app.log', 'Every message to or from bob, across the MTA log and an app log')
          .example("$0 trace '<20240311081539.5d0b7f3a@web01.example.com>' '/var/log/mail.log*'", 'One message by its Message-ID'),
      (args) => {
        const a = args as unknown as TraceArgs;
        result = traceCommand({ ...a, inputs: a.inputs.map(fromToken) }, io);
      },
    )
    .command(
      'explain [reply]',
      'Explain one bounce or reply text (or many with --lines): cause, provider, confidence, next move',
      (y) =>
        y
          .positional('reply', {
            describe: 'The reply or NDR excerpt; - or nothing to read standard input',
            type: 'string',
          })
          .option('lines', {
            describe: 'Each input line is a separate reply; answers one JSON object per line',
            type: 'boolean',
            default: false,
          })
          .option('output', {
            alias: 'o',
            describe: 'text (default), json, or ndjson (default with --lines)',
            choices: ['text', 'json', 'ndjson'] as const,
          })
          .option('remote-host', {
            describe: 'The host that sent the reply (mx.example.net), when known: it identifies the provider',
            type: 'string',
          })
          .option('stage', {
            describe: 'The SMTP stage the reply answered, when known',
            choices: STAGE_CHOICES,
          })
          .option('direction', {
            describe: 'outbound: a remote server refused us; inbound: our server refused a client',
            choices: ['outbound', 'inbound'] as const,
            default: 'outbound' as const,
          })
          .option('recipient', {
            describe: 'The refused recipient address (its domain hints at the provider, weakly)',
            type: 'string',
          })
          .example('$0 explain "550 5.7.26 Unauthenticated email from example.org is not accepted due to DMARC policy - gsmtp"', 'What a Gmail refusal means')
          .example('$0 explain --lines --output ndjson < bounces.txt', 'Classify a list of bounce strings'),
      (args) => {
        const a = args as unknown as ExplainArgs;
        result = explainCommand({ ...a, ...(a.reply !== undefined ? { reply: fromToken(a.reply) } : {}) }, io);
      },
    )
    .option('log-format', {
      describe: "The tool's own messages on standard error: text (one line each) or ecs (ECS JSON through pino, for log pipelines)",
      choices: ['text', 'ecs'] as const,
      default: 'text' as const,
      global: true,
    })
    .demandCommand(1, 'name a command: analyze, tail, aggregate, trace or explain')
    .strict()
    .version(ver)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, io.columns ?? 110))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err instanceof Mta550Error) throw err;
      throw new Mta550Error('usage', msg ?? err?.message ?? 'invalid command line');
    });
  try {
    await parser.parseAsync();
    return result === null ? EXIT.ok : await result;
  } catch (err) {
    if (err instanceof Mta550Error) {
      log.error(err.message, { error: { type: err.code }, mta550: { exit_code: err.exitCode } });
      if (err.code === 'usage' && log.format === 'text') io.stderr.write("Try 'mta550 --help' for the commands and options.\n");
      return err.exitCode;
    }
    if (log.format === 'ecs') log.error('internal error', { err });
    else io.stderr.write(`mta550: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.runtime;
  }
}

function stdinHasData(): boolean {
  try {
    const s = fstatSync(0);
    return s.isFIFO() || s.isFile() || s.isSocket();
  } catch {
    return false;
  }
}

const invokedDirectly = (() => {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  let growth: number | null = null;
  try {
    growth = heapGrowthPercent(process.env.MTA550_HEAP_GROWTH);
  } catch (err) {
    process.stderr.write(`mta550: ${(err as Error).message}\n`);
    process.exitCode = EXIT.usage;
  }
  if (growth !== null) startCli(growth);
}

function startCli(growth: number): void {
  restrainHeapGrowth(growth);
  // SIGINT/SIGTERM: stop reading, write what waits and the checkpoint, exit 0 (a second one exits
  // at once with 130); SIGHUP: re-read the file list. Only `tail` runs long enough to care.
  const control: LiveControl = { stop: false, reopen: false, wake: () => undefined };
  const command = hideBin(process.argv)[0];
  const stop = (signal: 'SIGINT' | 'SIGTERM') => {
    if (control.stop) process.exit(signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    control.stop = true;
    control.signal = signal;
    control.wake();
  };
  if (command === 'tail' || command === 'analyze') {
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  }
  if (command === 'tail') {
    process.on('SIGHUP', () => {
      control.reopen = true;
      control.wake();
    });
  }
  main(hideBin(process.argv), {
    control,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stdout.columns !== undefined ? { columns: process.stdout.columns } : {}),
    stdinHasData: stdinHasData(),
    cwd: process.cwd(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`mta550: internal error: ${String(err)}\n`);
      process.exitCode = EXIT.runtime;
    },
  );
}
