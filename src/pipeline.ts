/**
 * The one file that connects streams (STYLE.md): sources -> lines -> parser -> year clock ->
 * correlator -> code filter -> consumers. Everything else is a pure step or a sink.
 */
import type { Readable } from 'node:stream';
import { parsers } from '../parsers/index.js';
import type { CodeFilter } from './aggregate/codes.js';
import { classify } from './classify/classify.js';
import { EximCorrelator } from './correlate/exim.js';
import type { Correlator, CorrelatorOptions, CorrelatorSink, CorrelatorStats } from './correlate/messages.js';
import { PostfixCorrelator } from './correlate/postfix.js';
import { readLines, type Line } from './framing/lines.js';
import { OnsetEngine, type DeliveryUnit, type OnsetOptions, type OnsetRecord } from './onset/engine.js';
import { YearClock, type YearAnchor } from './input/clock.js';
import { openInput } from './input/open.js';
import type { InputSource } from './input/resolve.js';
import type { DeliveryAttempt, RejectionEvent, YearSource } from './model/event.js';
import type { Format, Parser } from './model/parser.js';

/** Lines looked at to choose a file's format. */
const SNIFF_LINES = 50;
/** Distinct program or daemon names counted one by one before the rest are folded into `(others)`. */
const MAX_NAMED_COUNTERS = 50;
/** Malformed lines quoted in the summary per input. */
const MAX_MALFORMED_EXAMPLES = 5;

/** Each format's correlator (STYLE.md habit 3: registries are data). */
const CORRELATORS: Readonly<Record<Format, new (sink: CorrelatorSink, options?: CorrelatorOptions) => Correlator>> = {
  postfix: PostfixCorrelator,
  exim: EximCorrelator,
};

/** The accounting of one input: lines = records + unsupported + otherPrograms + malformed + blank + continuation. */
export interface InputSummary {
  path: string;
  format: Format | null;
  compression: 'gzip' | null;
  lines: number;
  records: number;
  unsupported: number;
  unsupportedByDaemon: Record<string, number>;
  otherPrograms: number;
  otherByProgram: Record<string, number>;
  malformed: number;
  malformedExamples: { line: number; reason: string; excerpt: string }[];
  blank: number;
  /** Lines that continue the entry before them (Exim rejectlog header dumps, stderr `LOG:` headers). */
  continuation: number;
  /** How the format was chosen: `sniffed` from the first lines, or `forced` by --format. */
  formatChoice: 'sniffed' | 'forced';
  /** Lines cut at the length cap (still decoded and counted above). */
  truncated: number;
  yearSource: YearSource | null;
  firstTime: string | null;
  lastTime: string | null;
  warnings: string[];
}

export interface PipelineConsumer {
  /** A rejection that passed the code filter. May return a promise to apply backpressure. */
  event(event: RejectionEvent): void | Promise<void>;
  outcome(domain: string | null, status: string): void;
  /** An onset or recovery record (emitted in stream order, interleaved with events). */
  onset?(record: OnsetRecord): void | Promise<void>;
  /** A decided delivery unit (one message x recipient domain): the denominators of rates. */
  unit?(unit: DeliveryUnit): void;
}

export interface PipelineOptions {
  /** Onset detection settings; `false` turns it off. */
  onsets?: OnsetOptions | false;
  codes: CodeFilter;
  /** `--format`: read every input as this format instead of sniffing it. */
  format?: Format;
  /** `--year`: the year of the first yearless line of each input. */
  year?: number;
  correlator?: CorrelatorOptions;
  stdin: Readable;
  /** The clock for stdin's year anchor (tests pin it). */
  nowMs?: number;
  /** Classify each event (default true; the benchmark turns it off to measure its cost). */
  classify?: boolean;
  /** Polled between lines: true stops reading (the output was closed, e.g. `| head`). */
  shouldStop?: () => boolean;
}

export interface PipelineResult {
  inputs: InputSummary[];
  /** Correlation counters summed over the formats seen. */
  correlation: CorrelatorStats;
  /** Events before the code filter, and after it. */
  eventsSeen: number;
  eventsEmitted: number;
  /** Delivery units seen by onset detection, and the records it produced. */
  onsetStats: OnsetEngine['stats'] | null;
  stopped: boolean;
}

function bump(counters: Record<string, number>, name: string): void {
  if (counters[name] === undefined && Object.keys(counters).length >= MAX_NAMED_COUNTERS) name = '(others)';
  counters[name] = (counters[name] ?? 0) + 1;
}

function chooseParser(sample: readonly string[]): Parser | null {
  let best: Parser | null = null;
  let bestScore = 0;
  for (const p of parsers) {
    const score = p.sniff(sample);
    if (score > bestScore) {
      best = p;
      bestScore = score;
    }
  }
  return best;
}

export async function runPipeline(
  sources: readonly InputSource[],
  options: PipelineOptions,
  consumer: PipelineConsumer,
): Promise<PipelineResult> {
  const queue: ({ kind: 'event'; e: RejectionEvent } | { kind: 'onset'; r: OnsetRecord })[] = [];
  const engine =
    options.onsets === false
      ? null
      : new OnsetEngine((r) => queue.push({ kind: 'onset', r }), {
          ...(options.onsets ?? {}),
          ...(consumer.unit !== undefined ? { onUnit: (u: DeliveryUnit) => consumer.unit!(u) } : {}),
        });
  let eventsSeen = 0;
  let eventsEmitted = 0;
  const sink: CorrelatorSink = {
      event(e) {
        eventsSeen++;
        if (e.code === null || !options.codes.matches(e.code)) return;
        if (options.classify === false) {
          queue.push({ kind: 'event', e });
          return;
        }
        e.classification = classify({
          reply: e.reply,
          direction: e.direction,
          stage: e.stage,
          code: e.code,
          enhancedStatus: e.enhancedStatus,
          remoteHost: e.remote?.name ?? null,
          recipientDomain: e.recipientDomain,
        });
        queue.push({ kind: 'event', e });
      },
      outcome: (domain, status) => consumer.outcome(domain, status),
      ...(engine === null ? {} : { attempt: (a: DeliveryAttempt) => engine.attempt(a) }),
    };
  // One correlator per format, shared by that format's inputs so rotated sets stay joined.
  const correlators = new Map<Format, Correlator>();
  const correlatorFor = (format: Format): Correlator => {
    let c = correlators.get(format);
    if (c === undefined) {
      c = new CORRELATORS[format](sink, options.correlator);
      correlators.set(format, c);
    }
    return c;
  };
  const drain = async () => {
    while (queue.length > 0) {
      const item = queue.shift()!;
      let p: void | Promise<void>;
      if (item.kind === 'event') {
        eventsEmitted++;
        p = consumer.event(item.e);
      } else {
        p = consumer.onset?.(item.r);
      }
      if (p !== undefined) await p;
    }
  };
  const stop = options.shouldStop ?? (() => false);
  const inputs: InputSummary[] = [];
  let stopped = false;

  for (const source of sources) {
    const opened = await openInput(source, options.stdin);
    const anchor: YearAnchor =
      options.year !== undefined
        ? { kind: 'explicit', year: options.year }
        : opened.mtimeMs !== null
          ? { kind: 'mtime', epochMs: opened.mtimeMs }
          : { kind: 'now', epochMs: options.nowMs ?? Date.now() };
    const clock = new YearClock(anchor);
    const summary: InputSummary = {
      path: source.path,
      format: null,
      compression: opened.compression,
      lines: 0,
      records: 0,
      unsupported: 0,
      unsupportedByDaemon: {},
      otherPrograms: 0,
      otherByProgram: {},
      malformed: 0,
      malformedExamples: [],
      blank: 0,
      continuation: 0,
      formatChoice: options.format === undefined ? 'sniffed' : 'forced',
      truncated: 0,
      yearSource: null,
      firstTime: null,
      lastTime: null,
      warnings: clock.warnings,
    };
    inputs.push(summary);

    let parser: Parser | null = options.format === undefined ? null : (parsers.find((p) => p.format === options.format) ?? null);
    let correlator: Correlator | null = parser === null ? null : correlatorFor(parser.format);
    const sample: Line[] = [];
    const choose = () => {
      parser = chooseParser(sample.map((l) => l.text)) ?? parsers[0]!;
      correlator = correlatorFor(parser.format);
    };
    let firstMs = Infinity;
    let lastMs = -Infinity;
    /** Decodes one line; true when the correlator queued events to drain. */
    const handle = (line: Line): boolean => {
      summary.lines++;
      if (line.truncated) summary.truncated++;
      const d = parser!.decode(line.text);
      switch (d.type) {
        case 'blank':
          summary.blank++;
          return false;
        case 'continuation':
          summary.continuation++;
          return false;
        case 'malformed':
          summary.malformed++;
          if (summary.malformedExamples.length < MAX_MALFORMED_EXAMPLES) {
            summary.malformedExamples.push({ line: line.number, reason: d.reason, excerpt: line.text.slice(0, 160) });
          }
          return false;
        case 'other':
          summary.otherPrograms++;
          bump(summary.otherByProgram, d.program);
          return false;
        case 'unsupported':
          summary.unsupported++;
          bump(summary.unsupportedByDaemon, d.daemon);
          return false;
        case 'record': {
          summary.records++;
          const t = clock.resolve(d.envelope.time);
          if (t.yearSource !== 'none') summary.yearSource = t.yearSource === 'logged' ? (summary.yearSource ?? 'logged') : t.yearSource;
          if (t.epochMs !== null) {
            if (t.epochMs < firstMs) firstMs = t.epochMs;
            if (t.epochMs > lastMs) lastMs = t.epochMs;
          }
          correlator!.push({
            record: d.record,
            envelope: d.envelope,
            daemon: d.daemon,
            timeMs: t.epochMs,
            yearSource: t.yearSource,
            source: { format: parser!.format, file: source.path, line: line.number },
            raw: line.text,
          });
          return queue.length > 0;
        }
      }
    };

    const lines = readLines(opened.stream);
    try {
      for await (const line of lines) {
        if (parser === null) {
          sample.push(line);
          if (sample.length < SNIFF_LINES) continue;
          choose();
          for (const l of sample.splice(0)) if (handle(l)) await drain();
        } else if (handle(line)) {
          await drain();
        }
        if (stop()) {
          stopped = true;
          break;
        }
      }
      if (parser === null && !stopped) {
        choose();
        for (const l of sample.splice(0)) if (handle(l)) await drain();
      }
    } finally {
      if (source.kind === 'file') opened.stream.destroy();
    }
    if (firstMs !== Infinity) {
      summary.firstTime = new Date(firstMs).toISOString();
      summary.lastTime = new Date(lastMs).toISOString();
    }
    summary.format = parser === null || summary.records + summary.unsupported === 0 ? null : parser.format;
    if (summary.lines > 0 && summary.format === null) {
      clock.warnings.push('no line of this input was recognised as a supported mail log format');
    }
    if (stopped) break;
  }
  if (!stopped) {
    for (const c of correlators.values()) c.flush();
    engine?.flush();
    await drain();
  }
  const correlation: CorrelatorStats = { messagesOpened: 0, messagesClosed: 0, evictedIdle: 0, evictedOverflow: 0, openAtEnd: 0, nonRefusingActions: {} };
  for (const c of correlators.values()) {
    const st = c.stats;
    correlation.messagesOpened += st.messagesOpened;
    correlation.messagesClosed += st.messagesClosed;
    correlation.evictedIdle += st.evictedIdle;
    correlation.evictedOverflow += st.evictedOverflow;
    correlation.openAtEnd += st.openAtEnd;
    for (const [k, v] of Object.entries(st.nonRefusingActions)) correlation.nonRefusingActions[k] = (correlation.nonRefusingActions[k] ?? 0) + v;
  }
  return { inputs, correlation, eventsSeen, eventsEmitted, onsetStats: engine?.stats ?? null, stopped };
}
