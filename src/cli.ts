#!/usr/bin/env node
/**
 * The command line: wires commands to the pipeline and the sinks. Exit codes: 0 ok, 1 runtime
 * error (unreadable input, failed output), 2 usage error.
 */
import { fstatSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseCodes } from './aggregate/codes.js';
import { ReportBuilder } from './aggregate/report.js';
import { EXIT, Mta550Error } from './errors.js';
import { expandGlob } from './input/glob.js';
import { resolveInputs } from './input/resolve.js';
import { eventLine } from './output/ndjson.js';
import { renderText } from './output/text.js';
import { OutputWriter } from './output/writer.js';
import { runPipeline, type PipelineResult } from './pipeline.js';

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Whether stdout is a terminal (text output by default) and its width. */
  stdoutIsTTY: boolean;
  /** Whether stderr is a terminal: the NDJSON run's line accounting is printed there only then. */
  stderrIsTTY: boolean;
  columns?: number;
  /** Whether standard input has data for us (a pipe or a redirected file). */
  stdinHasData: boolean;
  cwd: string;
}

type OutputFormat = 'text' | 'json' | 'ndjson';

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
  const files = await expandGlob(path.join(packageRoot(), 'samples', '[!_]*', '*.log'));
  return files.map((f) => {
    const rel = path.relative(cwd, f);
    return rel.startsWith('..') ? f : rel;
  });
}

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(s.trim());
  if (m === null) throw new Mta550Error('usage', `--idle-timeout: "${s}" is not a duration (examples: 90m, 6h, 1d)`);
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
  codes: string;
  output?: OutputFormat;
  year?: number;
  maxOpenMessages: number;
  idleTimeout: string;
  maxRows: number;
  quiet: boolean;
}

async function analyzeCommand(args: AnalyzeArgs, io: CliIo): Promise<number> {
  const codes = parseCodes(args.codes);
  if (args.year !== undefined && (!Number.isInteger(args.year) || args.year < 1970 || args.year > 9999)) {
    throw new Mta550Error('usage', `--year: "${args.year}" is not a year (example: --year 2024)`);
  }
  if (!Number.isInteger(args.maxOpenMessages) || args.maxOpenMessages < 1) {
    throw new Mta550Error('usage', '--max-open-messages must be a whole number of at least 1');
  }
  const idleTimeoutMs = parseDuration(args.idleTimeout);
  const output: OutputFormat = args.output ?? (io.stdoutIsTTY ? 'text' : 'ndjson');

  let inputArgs = args.inputs;
  if (inputArgs.length === 0) {
    if (io.stdinHasData) inputArgs = ['-'];
    else {
      inputArgs = await bundledSamples(io.cwd);
      if (!args.quiet) {
        io.stderr.write('mta550: no input given: analysing the bundled samples (name files, or - for standard input)\n');
      }
    }
  }
  const sources = await resolveInputs(inputArgs);
  const out = new OutputWriter(io.stdout);
  const report = new ReportBuilder(codes.items);
  const result = await runPipeline(
    sources,
    {
      codes,
      ...(args.year !== undefined ? { year: args.year } : {}),
      correlator: { maxOpenMessages: args.maxOpenMessages, idleTimeoutMs },
      stdin: io.stdin,
      shouldStop: () => out.closed,
    },
    {
      event(e) {
        report.event(e);
        if (output === 'ndjson') return out.write(eventLine(e));
      },
      outcome: (domain, status) => report.outcome(domain, status),
    },
  );
  if (result.stopped) return EXIT.ok; // the reader went away (`| head`): not an error
  const built = report.build(result.inputs, result.correlation);
  if (output === 'text') await out.write(renderText(built, { width: io.columns ?? 120, maxRows: args.maxRows }));
  else if (output === 'json') await out.write(JSON.stringify(built, null, 2) + '\n');
  else if (!args.quiet && io.stderrIsTTY) io.stderr.write(unparsedSummary(result, result.eventsEmitted));
  await out.end();
  if (out.error !== null) throw new Mta550Error('output_failed', `cannot write the output: ${out.error.message}`);
  return EXIT.ok;
}

/** Runs the CLI with the given arguments; resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let result: Promise<number> | null = null;
  const ver = await version();
  const parser = yargs(argv)
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
            describe: 'text (a report), json (the report as JSON) or ndjson (one event per line) [default: text on a terminal, else ndjson]',
            choices: ['text', 'json', 'ndjson'] as const,
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
          .option('max-rows', {
            describe: 'Most rows per table in the text report',
            type: 'number',
            default: 40,
          })
          .option('quiet', {
            alias: 'q',
            describe: 'No notes on standard error (errors are still printed)',
            type: 'boolean',
            default: false,
          })
          .example('$0 analyze /var/log/mail.log', 'Report on the live mail log')
          .example("$0 analyze '/var/log/mail.log*' --codes 5xx", 'Every 5xx in the rotated set, oldest first')
          .example('$0 analyze mail.log --output ndjson | jq .recipient', 'One JSON event per line'),
      (args) => {
        result = analyzeCommand(args as unknown as AnalyzeArgs, io);
      },
    )
    .demandCommand(1, 'name a command: analyze')
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
      io.stderr.write(`mta550: ${err.message}\n`);
      if (err.code === 'usage') io.stderr.write("Try 'mta550 --help' for the commands and options.\n");
      return err.exitCode;
    }
    io.stderr.write(`mta550: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
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
  main(hideBin(process.argv), {
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
