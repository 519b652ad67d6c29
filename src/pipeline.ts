/**
 * The one file that connects streams (STYLE.md): sources -> lines -> unwrapping (journald, Docker)
 * -> parser -> year clock -> correlator -> code filter -> consumers. Everything else is a pure step
 * or a sink.
 *
 * `Pipeline` is push-based so that batch runs (`runPipeline`, one input after another) and `tail`
 * (lines from many followed files as they are written, plus clock ticks) share every step: batch
 * output is what a live run over the same lines emits.
 */
import type { Readable } from 'node:stream';
import { parsers } from '../parsers/index.js';
import type { CodeFilter } from './aggregate/codes.js';
import { classify } from './classify/classify.js';
import { AppCorrelator } from './correlate/app.js';
import { EximCorrelator } from './correlate/exim.js';
import { SourceLinker, type LinkOptions } from './correlate/link.js';
import { ExchangeCorrelator } from './correlate/exchange.js';
import type { Correlator, CorrelatorOptions, CorrelatorSink, CorrelatorStats, Observation } from './correlate/messages.js';
import { PostfixCorrelator } from './correlate/postfix.js';
import { LineSplitter, ownString, readLineBatches, type Line } from './framing/lines.js';
import { asUtf8, type TextEncoding } from './input/encoding.js';
import { MultilineFramer, type FramedUnit } from './framing/multiline.js';
import { sniffWrapper, Unwrapper, type Wrapper } from './framing/wrappers.js';
import { OnsetEngine, type DeliveryUnit, type OnsetOptions, type OnsetRecord } from './onset/engine.js';
import { RemoteOnsetEngine } from './onset/remote.js';
import { YearClock, type YearAnchor } from './input/clock.js';
import { Mta550Error } from './errors.js';
import { Follower, type FileCheckpoint } from './input/follow.js';
import { looksBinary, openInput, type Compression } from './input/open.js';
import { loadState, saveState } from './input/state.js';
import { rotationKey, type InputSource } from './input/resolve.js';
import type { DeliveryAttempt, RejectionEvent, YearSource } from './model/event.js';
import type { Format, LineDecoder, Parser } from './model/parser.js';
import type { Decoded } from './model/records.js';

/** Lines looked at to choose a file's format. */
const SNIFF_LINES = 50;

/** A live file's unit (a stack trace being written) ends when no line came for this long. */
const FRAME_IDLE_MS = 1_000;

/**
 * Live runs: the longest an app event waits (wall clock) for the MTA's record of the same refusal
 * before it is written with what is known; an MTA logs its side when it refuses, before the app does.
 */
const LIVE_LINK_WAIT_MS = 3_000;
/** Distinct program or daemon names counted one by one before the rest are folded into `(others)`. */
const MAX_NAMED_COUNTERS = 50;
/** Malformed lines quoted in the summary per input. */
const MAX_MALFORMED_EXAMPLES = 5;

/** Each format's correlator (STYLE.md habit 3: registries are data). */
const CORRELATORS: Readonly<Record<Format, new (sink: CorrelatorSink, options?: CorrelatorOptions) => Correlator>> = {
  postfix: PostfixCorrelator,
  exim: EximCorrelator,
  exchange: ExchangeCorrelator,
  app: AppCorrelator,
};

/** The accounting of one input: lines = records + unsupported + otherPrograms + malformed + blank + continuation + joined. */
export interface InputSummary {
  path: string;
  format: Format | null;
  compression: Compression | null;
  /** `utf-16le` or `utf-16be` when the input was transcoded to UTF-8 (detected from its first bytes). */
  encoding: TextEncoding | null;
  /** The JSON wrapper the lines came in (journald export, Docker json-file), or null for plain lines. */
  wrapper: Wrapper | null;
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
  /** Docker records that were pieces of a longer line, joined into the line that follows them. */
  joined: number;
  /** How the format was chosen: `sniffed` from the first lines, or `forced` by --format. */
  formatChoice: 'sniffed' | 'forced';
  /** Lines cut at the length cap (still decoded and counted above). */
  truncated: number;
  /** journald records whose MESSAGE was null (longer than 4096 bytes, exported without -a). */
  messageMissing: number;
  /** Lines with bytes that are not valid UTF-8 (decoded with U+FFFD replacement, still handled). */
  invalidUtf8: number;
  /** Why the input was not read at all: `binary` (it is not text: an archive, an executable...). */
  skipped: 'binary' | null;
  yearSource: YearSource | null;
  firstTime: string | null;
  lastTime: string | null;
  warnings: string[];
  /** A read error that ended this input early (everything before it was read); the run exits 1. */
  error?: string;
}

export interface PipelineConsumer {
  /** A rejection that passed the code filter. May return a promise to apply backpressure. */
  event(event: RejectionEvent): void | Promise<void>;
  outcome(domain: string | null, status: string): void;
  /** An onset or recovery record (emitted in stream order, interleaved with events). */
  onset?(record: OnsetRecord): void | Promise<void>;
  /** A decided delivery unit (one message x recipient domain): the denominators of rates. */
  unit?(unit: DeliveryUnit): void;
  /** Every delivery attempt, whatever its outcome, with the input it came from (`--records attempts`). */
  attempt?(attempt: DeliveryAttempt, from: { format: Format; path: string }): void | Promise<void>;
}

export interface PipelineOptions {
  /** Onset detection settings; `false` turns it off. */
  onsets?: OnsetOptions | false;
  /**
   * Run onset detection in a worker thread (onset/remote.ts): batch runs whose consumer collects
   * onsets and units until the end (they reach it later than the events read meanwhile).
   */
  onsetWorker?: boolean;
  /**
   * Index MTA refusals for joins with app events (default true). Batch runs turn it off when no
   * input can be an app log (runPipeline sniffs them first): the index holds up to 50,000 refusals.
   */
  linkIndex?: boolean;
  codes: CodeFilter;
  /** `--format`: read every input as this format instead of sniffing it. */
  format?: Format;
  /** `--year`: the year of the first yearless line of each input. */
  year?: number;
  correlator?: CorrelatorOptions;
  /** Joining app events with MTA records (window, bounds). */
  links?: LinkOptions;
  /** Sees every decoded record with its time and place, before correlation (`mta550 trace`). */
  tap?: (o: Observation) => void;
  stdin: Readable;
  /** The clock for stdin's year anchor (tests pin it). */
  nowMs?: number;
  /** Classify each event (default true; the benchmark turns it off to measure its cost). */
  classify?: boolean;
  /** Polled between lines: true stops reading and skips the rest (the output was closed, e.g. `| head`). */
  shouldStop?: () => boolean;
  /** Polled between lines: true stops reading but still closes what is open and reports (SIGTERM during a batch run). */
  interrupted?: () => boolean;
  /** Batch runs: called after each batch of lines (progress display, the memory benchmark's probes). */
  progress?: (p: BatchProgress) => void;
}

export interface BatchProgress {
  path: string;
  /** Bytes of the input read so far (of the decompressed stream for compressed inputs). */
  bytes: number;
  lines: number;
  pipeline: Pipeline;
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
  /** Reading ended early on request (a signal); what was read is complete in the result. */
  interrupted: boolean;
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

export function emptySummary(path: string, forced: boolean): InputSummary {
  return {
    path,
    format: null,
    compression: null,
    encoding: null,
    wrapper: null,
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
    joined: 0,
    formatChoice: forced ? 'forced' : 'sniffed',
    truncated: 0,
    messageMissing: 0,
    invalidUtf8: 0,
    skipped: null,
    yearSource: null,
    firstTime: null,
    lastTime: null,
    warnings: [],
  };
}

/**
 * One stream of lines: a batch input file, or a followed path in `tail` (which stays the same
 * channel across rotations). It owns the year clock, the format choice and the summary.
 */
export class Channel {
  readonly summary: InputSummary;
  parser: Parser | null = null;
  /** The parser's decoder for this input (its own state for formats that need one, such as Exchange's header). */
  decoder: LineDecoder | null = null;
  correlator: Correlator | null = null;
  /** Assembles multi-line units (stack traces) for formats that have them (app logs). */
  framer: MultilineFramer | null = null;
  /** Undecided until the first lines are seen (the wrapper is chosen before the format). */
  unwrapper: Unwrapper | null | undefined = undefined;
  /** Lines kept while the format is being chosen. */
  readonly sample: { line: Line; identity: string }[] = [];
  /** When the first sample line arrived (wall clock): `tail` decides on fewer lines after a while. */
  sampleSinceMs = 0;
  firstMs = Infinity;
  lastMs = -Infinity;
  /** Identity of the file the latest line came from. */
  identity = 'unknown';
  /** Where this channel's attempts come from (one object for all of them while the format stays). */
  private from: { format: Format; path: string } | null = null;

  constructor(
    readonly path: string,
    readonly clock: YearClock,
    forced: boolean,
  ) {
    this.summary = emptySummary(path, forced);
    this.summary.warnings = clock.warnings;
  }

  /** The source of this channel's attempts: one shared object (consumers only read it). */
  attemptSource(): { format: Format; path: string } {
    const format = this.parser?.format ?? 'postfix';
    if (this.from === null || this.from.format !== format) this.from = { format, path: this.path };
    return this.from;
  }

  /**
   * Where a checkpoint of the file with `identity` may stand: not past a line this channel still
   * holds (format sample, unfinished Docker line). `at` is the file's read position in lines.
   */
  safePoint(identity: string | null, at: { offset: number; line: number }): { offset: number; line: number } {
    let best = at;
    const first = this.sample.find((x) => x.identity === identity);
    if (first !== undefined && first.line.offset < best.offset) best = { offset: first.line.offset, line: first.line.number - 1 };
    const held = this.unwrapper?.heldLine ?? null;
    if (held !== null && this.identity === identity && held.offset < best.offset) best = { offset: held.offset, line: held.number - 1 };
    const unit = this.framer?.heldLine(identity) ?? null;
    if (unit !== null && unit.offset < best.offset) best = { offset: unit.offset, line: unit.number - 1 };
    return best;
  }
}

type Queued = { kind: 'event'; e: RejectionEvent } | { kind: 'onset'; r: OnsetRecord } | { kind: 'attempt'; a: DeliveryAttempt; from: { format: Format; path: string } };

export class Pipeline {
  private readonly queue: Queued[] = [];
  private readonly engine: OnsetEngine | RemoteOnsetEngine | null;
  private readonly sink: CorrelatorSink;
  /** One correlator per format, shared by that format's inputs so rotated sets stay joined. */
  private readonly correlators = new Map<Format, Correlator>();
  private readonly channels: Channel[] = [];
  /** Joins app events with MTA records of the same message (correlate/link.ts). */
  private readonly linker: SourceLinker;
  private eventsSeen = 0;
  private eventsEmitted = 0;
  /** Latest log time handled, for advancing onset detection while a live log is quiet. */
  private latestMs = -Infinity;
  /** The channel whose lines are being handled (attempts are attributed to it). */
  private current: Channel | null = null;
  stopped = false;
  interrupted = false;

  constructor(
    private readonly options: PipelineOptions,
    private readonly consumer: PipelineConsumer,
  ) {
    const emit = (r: OnsetRecord) => this.queue.push({ kind: 'onset', r });
    const onUnit = consumer.unit === undefined ? undefined : (u: DeliveryUnit) => consumer.unit!(u);
    this.engine =
      options.onsets === false
        ? null
        : options.onsetWorker === true
          ? new RemoteOnsetEngine(emit, options.onsets ?? {}, onUnit)
          : new OnsetEngine(emit, { ...(options.onsets ?? {}), ...(onUnit !== undefined ? { onUnit } : {}) });
    this.linker = new SourceLinker(options.links);
    this.sink = {
      event: (e) => {
        this.eventsSeen++;
        // An app error that names a status shared by several codes is kept when one of them is asked for.
        if (e.code === null ? !(e.app?.codeCandidates ?? []).some((c) => options.codes.matches(c)) : !options.codes.matches(e.code)) return;
        if (options.classify !== false) {
          e.classification = classify({
            reply: e.reply,
            direction: e.direction,
            stage: e.stage,
            code: e.code,
            enhancedStatus: e.enhancedStatus,
            remoteHost: e.remote?.name ?? null,
            recipientDomain: e.recipientDomain,
          });
        }
        if (e.direction === 'inbound' && e.classification !== null) {
          this.engine?.inbound(e.time === null ? null : Date.parse(e.time), e.classification.subtype, e.client?.ip ?? null, e.recipient);
        }
        if (e.direction === 'submission') {
          for (const r of this.linker.hold(e, options.correlator?.clock?.() ?? 0)) this.queue.push({ kind: 'event', e: r });
          return;
        }
        if (options.linkIndex !== false) this.linker.index(e);
        this.queue.push({ kind: 'event', e });
      },
      outcome: (domain, status) => consumer.outcome(domain, status),
      ...(this.engine === null && consumer.attempt === undefined
        ? {}
        : {
            attempt: (a: DeliveryAttempt) => {
              this.engine?.attempt(a);
              const ch = this.current;
              if (consumer.attempt !== undefined && ch !== null) this.queue.push({ kind: 'attempt', a, from: ch.attemptSource() });
            },
          }),
    };
  }

  /** A new channel. `anchor` places BSD timestamps in a year (FORMATS.md 0.2). */
  channel(path: string, anchor: YearAnchor): Channel {
    const forced = this.options.format !== undefined;
    const ch = new Channel(path, new YearClock(anchor), forced);
    if (forced) {
      ch.parser = parsers.find((p) => p.format === this.options.format) ?? null;
      ch.decoder = ch.parser?.newDecoder?.() ?? ch.parser;
      if (ch.parser?.multiline === true) ch.framer = new MultilineFramer();
      if (ch.parser !== null) ch.correlator = this.correlatorFor(ch.parser.format);
    }
    this.channels.push(ch);
    return ch;
  }

  private correlatorFor(format: Format): Correlator {
    let c = this.correlators.get(format);
    if (c === undefined) {
      c = new CORRELATORS[format](this.sink, this.options.correlator);
      this.correlators.set(format, c);
    }
    return c;
  }

  /** Hands lines of one channel to the pipeline; `identity` is their file's (framing/lines.ts). */
  async lines(ch: Channel, lines: readonly Line[], identity: string): Promise<void> {
    const stop = this.options.shouldStop;
    for (const line of lines) {
      if (this.stopped) return;
      if (ch.parser === null || ch.unwrapper === undefined) {
        if (ch.sample.length === 0) ch.sampleSinceMs = Date.now();
        ch.sample.push({ line, identity });
        if (ch.sample.length < SNIFF_LINES) continue;
        this.decide(ch);
        await this.replaySample(ch);
      } else {
        this.handle(ch, line, identity);
      }
      if (this.queue.length > 0) {
        const p = this.drain();
        if (p !== undefined) await p;
      }
      if (this.engine instanceof RemoteOnsetEngine && this.engine.behind) await this.engine.settle();
      if (stop !== undefined && stop()) this.stopped = true;
      if (this.options.interrupted?.() === true) {
        this.interrupted = true;
        return;
      }
    }
  }

  /** Decides the wrapper and format of a channel still sampling, on the lines it has. */
  async settle(ch: Channel): Promise<void> {
    if (this.stopped) return;
    if (ch.parser === null || ch.unwrapper === undefined) {
      this.decide(ch);
      await this.replaySample(ch);
    }
  }

  /** The end of one input (batch): decides its format if still open and flushes a joined line. */
  async endInput(ch: Channel): Promise<void> {
    if (this.stopped) return;
    await this.settle(ch);
    const rest = ch.unwrapper?.end() ?? null;
    if (rest !== null && rest.kind === 'line') {
      // An unfinished Docker line at the end of input: its last piece, counted as joined, is the line.
      ch.summary.joined--;
      this.decodeLine(ch, rest.line, rest.text, ch.identity);
    }
    this.endUnits(ch, ch.framer?.end() ?? []);
    await this.drain();
    this.finishSummary(ch);
  }

  /** Chooses the wrapper and the format from the sample (at SNIFF_LINES lines, or earlier when told). */
  private decide(ch: Channel): void {
    const texts = ch.sample.map((s) => s.line.text);
    if (ch.unwrapper === undefined) {
      const wrapper = sniffWrapper(texts);
      ch.unwrapper = wrapper === null ? null : new Unwrapper(wrapper);
      ch.summary.wrapper = wrapper;
    }
    if (ch.parser === null) {
      const plain: string[] = [];
      if (ch.unwrapper === null) plain.push(...texts);
      else {
        // Sniff on unwrapped texts with a scratch unwrapper, so the real one sees each record once.
        const scratch = new Unwrapper(ch.unwrapper.kind);
        for (const s of ch.sample) {
          const u = scratch.unwrap(s.line);
          if (u.kind === 'line') plain.push(u.text);
        }
      }
      ch.parser = chooseParser(plain) ?? parsers[0]!;
      ch.decoder = ch.parser.newDecoder?.() ?? ch.parser;
      if (ch.parser.multiline === true) ch.framer = new MultilineFramer();
      ch.correlator = this.correlatorFor(ch.parser.format);
    }
  }

  private async replaySample(ch: Channel): Promise<void> {
    for (const s of ch.sample.splice(0)) {
      this.handle(ch, s.line, s.identity);
      if (this.queue.length > 0) {
        const p = this.drain();
        if (p !== undefined) await p;
      }
    }
  }

  private handle(ch: Channel, line: Line, identity: string): void {
    const summary = ch.summary;
    summary.lines++;
    ch.identity = identity;
    this.current = ch;
    if (line.truncated) summary.truncated++;
    if (line.text.includes('\ufffd')) summary.invalidUtf8++;
    if (ch.unwrapper === null || ch.unwrapper === undefined) {
      this.decodeLine(ch, line, line.text, identity);
      return;
    }
    const u = ch.unwrapper.unwrap(line);
    summary.messageMissing = ch.unwrapper.messageMissing;
    if (u.kind === 'held') summary.joined++;
    else if (u.kind === 'malformed') this.malformed(summary, line, u.reason);
    else this.decodeLine(ch, u.line, u.text, identity);
  }

  private malformed(summary: InputSummary, line: Line, reason: string, text = line.text): void {
    summary.malformed++;
    if (summary.malformedExamples.length < MAX_MALFORMED_EXAMPLES) {
      summary.malformedExamples.push({ line: line.number, reason, excerpt: ownString(text.slice(0, 160)) });
    }
  }

  /** Decodes one (unwrapped) line, already counted in `lines`; multi-line formats frame it first. */
  private decodeLine(ch: Channel, line: Line, text: string, identity: string): void {
    if (ch.framer !== null) {
      const before = ch.framer.continuations;
      const f = ch.framer.push(line, text, Date.now(), identity);
      for (const u of f.units) this.decodeUnit(ch, u.line, u.text, u.identity);
      if (f.blank) ch.summary.blank++;
      ch.summary.continuation += ch.framer.continuations - before;
      return;
    }
    this.decodeUnit(ch, line, text, identity);
  }

  /** Units the framer gave up at the end of input or after an idle time. */
  private endUnits(ch: Channel, units: readonly FramedUnit[]): void {
    for (const u of units) this.decodeUnit(ch, u.line, u.text, u.identity);
  }

  private decodeUnit(ch: Channel, line: Line, text: string, identity: string): void {
    const summary = ch.summary;
    const d = ch.decoder!.decode(text);
    switch (d.type) {
      case 'blank':
        summary.blank++;
        return;
      case 'continuation':
        summary.continuation++;
        return;
      case 'malformed':
        this.malformed(summary, line, d.reason, text);
        return;
      case 'other':
        summary.otherPrograms++;
        bump(summary.otherByProgram, d.program);
        return;
      case 'unsupported':
        summary.unsupported++;
        bump(summary.unsupportedByDaemon, d.daemon);
        return;
      case 'many':
        // Several records on one line (a compact JSON export): the line counts once.
        summary.records++;
        for (const item of d.items) this.record(ch, line, text, identity, item);
        return;
      case 'record':
        summary.records++;
        this.record(ch, line, text, identity, d);
    }
  }

  /** Hands one decoded record to its format's correlator, with its time resolved and its source. */
  private record(ch: Channel, line: Line, text: string, identity: string, d: Extract<Decoded, { type: 'record' }>): void {
    const summary = ch.summary;
    const t = ch.clock.resolve(d.envelope.time);
    if (t.yearSource !== 'none') summary.yearSource = t.yearSource === 'logged' ? (summary.yearSource ?? 'logged') : t.yearSource;
    if (t.epochMs !== null) {
      if (t.epochMs < ch.firstMs) ch.firstMs = t.epochMs;
      if (t.epochMs > ch.lastMs) ch.lastMs = t.epochMs;
      if (t.epochMs > this.latestMs) this.latestMs = t.epochMs;
    }
    const o: Observation = {
      record: d.record,
      envelope: d.envelope,
      daemon: d.daemon,
      timeMs: t.epochMs,
      yearSource: t.yearSource,
      source: { format: ch.parser!.format, file: ch.path, line: line.number, offset: line.offset, identity },
      raw: text,
    };
    this.options.tap?.(o);
    ch.correlator!.push(o);
  }

  /**
   * Hands the queued items to the consumer in order. Synchronous while the consumer is (it returns
   * a promise only when its output applies backpressure): the per-line path awaits nothing unless
   * it has to, since an await per line costs a microtask turn on every record.
   */
  private drain(): Promise<void> | undefined {
    const queue = this.queue;
    let i = 0;
    while (i < queue.length) {
      const item = queue[i++]!;
      let p: void | Promise<void>;
      if (item.kind === 'event') {
        this.eventsEmitted++;
        p = this.consumer.event(item.e);
      } else if (item.kind === 'onset') {
        p = this.consumer.onset?.(item.r);
      } else {
        p = this.consumer.attempt?.(item.a, item.from);
      }
      if (p !== undefined) {
        queue.splice(0, i);
        return p.then(() => this.drain());
      }
    }
    queue.length = 0;
    return undefined;
  }

  private finishSummary(ch: Channel): void {
    const summary = ch.summary;
    for (const note of ch.decoder?.notes?.() ?? []) if (!summary.warnings.includes(note)) summary.warnings.push(note);
    if (ch.firstMs !== Infinity) {
      summary.firstTime = new Date(ch.firstMs).toISOString();
      summary.lastTime = new Date(ch.lastMs).toISOString();
    }
    summary.format = ch.parser === null || summary.records + summary.unsupported === 0 ? null : ch.parser.format;
    if (summary.lines > 0 && summary.format === null && !summary.warnings.includes(NOT_RECOGNISED)) {
      summary.warnings.push(NOT_RECOGNISED);
    }
  }

  /**
   * Live mode's clock: decides formats of channels that have waited `sniffWaitMs` with fewer lines
   * than a full sample, releases correlation waits older than `maxWaitMs` (wall clock), and when the
   * log has been quiet, lets onset detection's unit window pass as if the log had gone on.
   */
  async tick(nowMs: number, opts: { sniffWaitMs: number; maxWaitMs: number; quietForMs: number }): Promise<void> {
    for (const ch of this.channels) {
      if (ch.sample.length > 0 && nowMs - ch.sampleSinceMs >= opts.sniffWaitMs) {
        this.decide(ch);
        await this.replaySample(ch);
      }
    }
    for (const ch of this.channels) if (ch.framer !== null) this.endUnits(ch, ch.framer.idle(nowMs, FRAME_IDLE_MS));
    for (const c of this.correlators.values()) c.expireWaiting?.(nowMs, opts.maxWaitMs);
    if (this.linker.holding > 0) {
      // Logs without times (console output) release by the wall clock alone.
      const watermark = this.latestMs === -Infinity ? -Infinity : this.latestMs + opts.quietForMs;
      for (const e of this.linker.releaseBefore(watermark, nowMs - Math.min(opts.maxWaitMs, LIVE_LINK_WAIT_MS))) this.queue.push({ kind: 'event', e });
    }
    if (this.engine instanceof OnsetEngine && opts.quietForMs > 0 && this.latestMs > -Infinity) this.engine.advance(this.latestMs + opts.quietForMs);
    await this.drain();
  }

  /** The first line whose event still waits in a correlator, per source identity (for checkpoints). */
  waitingFrom(): Map<string, { offset: number; line: number }> {
    const out = new Map<string, { offset: number; line: number }>();
    for (const c of [...this.correlators.values(), { waitingFrom: () => this.linker.heldFrom() }]) {
      for (const [identity, at] of c.waitingFrom?.() ?? []) {
        const prev = out.get(identity);
        if (prev === undefined || at.offset < prev.offset) out.set(identity, at);
      }
    }
    return out;
  }

  /** Closes every open message and onset window, emits what waits, and returns the run's figures. */
  async finish(): Promise<PipelineResult> {
    if (!this.stopped) {
      for (const ch of this.channels) {
        if (ch.sample.length > 0) {
          this.decide(ch);
          await this.replaySample(ch);
        }
      }
      for (const ch of this.channels) if (ch.framer !== null) this.endUnits(ch, ch.framer.end());
      for (const c of this.correlators.values()) c.flush();
      for (const e of this.linker.releaseAll()) this.queue.push({ kind: 'event', e });
      if (this.engine instanceof RemoteOnsetEngine) await this.engine.finish();
      else this.engine?.flush();
      await this.drain();
    } else if (this.engine instanceof RemoteOnsetEngine) await this.engine.close();
    for (const ch of this.channels) this.finishSummary(ch);
    return {
      inputs: this.channels.map((c) => c.summary),
      correlation: this.correlationStats(),
      eventsSeen: this.eventsSeen,
      eventsEmitted: this.eventsEmitted,
      onsetStats: this.engine?.stats ?? null,
      stopped: this.stopped,
      interrupted: this.interrupted,
    };
  }

  /** Messages open in the correlators now. */
  onsetState(): ReturnType<OnsetEngine['state']> | null {
    return this.engine?.state() ?? null;
  }

  openMessages(): number {
    let n = 0;
    for (const c of this.correlators.values()) n += c.openMessages ?? 0;
    return n;
  }

  /** Correlation counters summed over the formats seen. */
  correlationStats(): CorrelatorStats {
    const correlation: CorrelatorStats = { messagesOpened: 0, messagesClosed: 0, evictedIdle: 0, evictedOverflow: 0, openAtEnd: 0, releasedWaiting: 0, nonRefusingActions: {} };
    for (const c of this.correlators.values()) {
      const st = c.stats;
      correlation.messagesOpened += st.messagesOpened;
      correlation.messagesClosed += st.messagesClosed;
      correlation.evictedIdle += st.evictedIdle;
      correlation.evictedOverflow += st.evictedOverflow;
      correlation.openAtEnd += st.openAtEnd;
      correlation.releasedWaiting += st.releasedWaiting;
      for (const [k, v] of Object.entries(st.nonRefusingActions)) correlation.nonRefusingActions[k] = (correlation.nonRefusingActions[k] ?? 0) + v;
    }
    return correlation;
  }

  /** The figures so far, without closing anything (tail's periodic summary). */
  snapshot(): { inputs: InputSummary[]; eventsSeen: number; eventsEmitted: number; onsetStats: OnsetEngine['stats'] | null } {
    return { inputs: this.channels.map((c) => c.summary), eventsSeen: this.eventsSeen, eventsEmitted: this.eventsEmitted, onsetStats: this.engine?.stats ?? null };
  }
}

const NOT_RECOGNISED = 'no line of this input was recognised as a supported mail log format';

/** Batch: reads the sources one after another (rotated sets oldest first) through one pipeline. */
/**
 * Whether any input of a batch run may be an application log, decided before reading from each
 * input's first lines with the run's own sniff (the same lines, so the same choice). When none can
 * be, MTA refusals need not be indexed for app joins. Anything unsure counts as "may": standard
 * input, a JSON wrapper, an input compressed with an external tool, one that cannot be read or
 * whose format is not clear.
 */
export async function mayHoldAppLogs(sources: readonly InputSource[], options: Pick<PipelineOptions, 'format' | 'stdin'>): Promise<boolean> {
  if (options.format !== undefined) return options.format === 'app';
  for (const source of sources) {
    if (source.kind !== 'file') return true;
    let stream: Readable | null = null;
    try {
      const opened = await openInput(source, options.stdin);
      stream = opened.stream;
      if (opened.compression !== null && opened.compression !== 'gzip') return true;
      const text = await asUtf8(opened.stream);
      stream = text.stream;
      const sample: string[] = [];
      for await (const batch of readLineBatches(text.stream, new LineSplitter())) {
        for (const line of batch) if (sample.length < SNIFF_LINES) sample.push(line.text);
        if (sample.length >= SNIFF_LINES) break;
      }
      if (sniffWrapper(sample) !== null) return true;
      const parser = chooseParser(sample);
      if (parser === null || parser.format === 'app') return true;
    } catch {
      return true;
    } finally {
      stream?.destroy();
    }
  }
  return false;
}

export async function runPipeline(
  sources: readonly InputSource[],
  options: PipelineOptions,
  consumer: PipelineConsumer,
): Promise<PipelineResult> {
  if (options.linkIndex === undefined && !(await mayHoldAppLogs(sources, options))) options = { ...options, linkIndex: false };
  const pipeline = new Pipeline(options, consumer);
  // A Docker line split across a rotation continues in the next file of the same rotated set.
  const unwrappers = new Map<string, Unwrapper | null>();
  for (const source of sources) {
    let opened;
    try {
      opened = await openInput(source, options.stdin);
    } catch (err) {
      // Listed, then gone or unreadable when its turn came (rotated away, permissions changed):
      // recorded on the input; the other inputs are still read and the run exits 1.
      if (!(err instanceof Mta550Error)) throw err;
      const ch = pipeline.channel(source.path, { kind: 'now', epochMs: options.nowMs ?? Date.now() });
      ch.summary.error = err.message;
      continue;
    }
    const anchor: YearAnchor =
      options.year !== undefined
        ? { kind: 'explicit', year: options.year }
        : opened.mtimeMs !== null
          ? { kind: 'mtime', epochMs: opened.mtimeMs }
          : { kind: 'now', epochMs: options.nowMs ?? Date.now() };
    const ch = pipeline.channel(source.path, anchor);
    ch.summary.compression = opened.compression;
    const raw = opened.stream;
    try {
      const text = await asUtf8(raw);
      opened = { ...opened, stream: text.stream };
      ch.summary.encoding = text.encoding;
    } catch (err) {
      if (!(err instanceof Mta550Error)) throw err;
      ch.summary.error = err.message;
      continue;
    }
    const base = source.kind === 'file' ? rotationKey(source.path).base : '-';
    const carried = unwrappers.get(base);
    if (carried !== undefined && carried !== null && carried.heldLine !== null) {
      ch.unwrapper = carried;
      ch.summary.wrapper = carried.kind;
    }
    const splitter = new LineSplitter();
    try {
      for await (const batch of readLineBatches(opened.stream, splitter, (first) => {
        if (!looksBinary(first)) return true;
        ch.summary.skipped = 'binary';
        ch.summary.warnings.push('not a text file (binary content in its first bytes): skipped');
        return false;
      })) {
        await pipeline.lines(ch, batch, splitter.identity ?? 'unknown');
        options.progress?.({ path: source.path, bytes: splitter.offset, lines: splitter.lines, pipeline });
        if (pipeline.stopped || pipeline.interrupted) break;
      }
    } catch (err) {
      // A read error mid-file (a truncated .gz, a failing decompressor, an I/O error): what was read
      // is kept, the error is recorded on the input, and the other inputs are still read.
      if (!(err instanceof Mta550Error)) throw err;
      ch.summary.error = err.message;
    } finally {
      if (source.kind === 'file') {
        opened.stream.destroy();
        raw.destroy();
      }
    }
    if (pipeline.stopped) break;
    if (ch.summary.skipped !== null) {
      ch.sample.length = 0;
      continue;
    }
    await pipeline.settle(ch);
    if (ch.unwrapper !== undefined && ch.unwrapper !== null && ch.unwrapper.heldLine !== null) {
      // Keep the unfinished Docker line for the next file of the set; the summary still closes.
      unwrappers.set(base, ch.unwrapper);
      ch.unwrapper = new Unwrapper(ch.unwrapper.kind);
    } else unwrappers.set(base, ch.unwrapper ?? null);
    await pipeline.endInput(ch);
    if (pipeline.interrupted) break;
  }
  return pipeline.finish();
}

/** Live mode (`mta550 tail`) settings on top of the pipeline's. */
export interface LiveOptions extends PipelineOptions {
  /** Files, globs or directories to follow; `-` follows standard input until it ends. */
  patterns: readonly string[];
  /** Poll interval (default 250 ms); fs.watch events wake a poll earlier. */
  pollMs?: number;
  /**
   * Longest an event waits for its message to close before it is written with what is known
   * (default 10 s): Postfix logs `removed` within milliseconds of the last delivery, so this only
   * bites for messages that stay queued (a deferred co-recipient).
   */
  maxWaitMs?: number;
  /** A new file with fewer lines than a full sample has its format chosen after this long (default 2 s). */
  sniffWaitMs?: number;
  /** Checkpoint file (--state); none when absent. */
  statePath?: string;
  /** How often the checkpoint is written while running (default 5 s); always on a clean stop. */
  checkpointEveryMs?: number;
  /** Read files that exist at startup from their start (default: their end). */
  fromStart?: boolean;
  /** Periodic summary records (--summary-every), in ms; off when absent. */
  summaryEveryMs?: number;
  /** Diagnostics for standard error. */
  warn: (message: string) => void;
  /** Set `stop` to end the run cleanly (SIGINT/SIGTERM), `reopen` to re-open files (SIGHUP); `wake()` interrupts a wait. */
  control: LiveControl;
  now?: () => number;
}

export interface LiveControl {
  stop: boolean;
  reopen: boolean;
  wake: () => void;
  /** The signal that set `stop`, for the exit code of an interrupted batch run. */
  signal?: 'SIGINT' | 'SIGTERM';
}

export interface LiveSummary {
  type: 'summary';
  at: string;
  /** Since the previous summary (or the start). */
  since: string;
  window: { lines: number; events: number; bySubtype: Record<string, number> };
  total: { lines: number; events: number; duplicatesSuppressed: number };
  files: { path: string; current: string | null; offset: number; lines: number }[];
  follower: Follower['stats'];
  correlation: { open: number; releasedWaiting: number; evictedIdle: number; evictedOverflow: number };
  memory: { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number };
  /** The onset engine's state sizes (null with --no-onsets). */
  onsets: ReturnType<OnsetEngine['state']> | null;
}

export interface LiveConsumer extends PipelineConsumer {
  summary?(s: LiveSummary): void | Promise<void>;
  /** Resolves once everything written so far has reached the OS (before a checkpoint is saved). */
  flush?(): Promise<void>;
}

/** How many written event ids are remembered for the checkpoint's duplicate suppression. */
const EMITTED_RING = 10_000;

/** Follows files (or stdin) and runs every line through one pipeline until told to stop. */
export async function runLive(options: LiveOptions, consumer: LiveConsumer): Promise<PipelineResult & { follower: Follower['stats'] | null }> {
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 250;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const sniffWaitMs = options.sniffWaitMs ?? 2_000;
  const checkpointEveryMs = options.checkpointEveryMs ?? 5_000;
  const control = options.control;

  let restore: FileCheckpoint[] = [];
  let suppress = new Set<string>();
  let restored = false;
  if (options.statePath !== undefined) {
    const loaded = await loadState(options.statePath);
    if (loaded.kind === 'corrupt') {
      options.warn(`tail: the state file ${options.statePath} is unusable (${loaded.reason}); starting without it (it will be rewritten)`);
    } else if (loaded.kind === 'loaded') {
      restore = loaded.state.files;
      suppress = new Set(loaded.state.emitted);
      restored = true;
    }
  }

  // Written event ids with their place, for the checkpoint (ring buffer).
  const emitted: { identity: string; offset: number; id: string }[] = [];
  let emittedNext = 0;
  let duplicatesSuppressed = 0;
  let windowLines = 0;
  let windowEvents = 0;
  let windowBySubtype: Record<string, number> = {};
  let totalLines = 0;
  const pipeline = new Pipeline(
    { ...options, correlator: { ...options.correlator, clock: now } },
    {
      ...consumer,
      event(e) {
        if (suppress.size > 0 && suppress.has(e.id)) {
          duplicatesSuppressed++;
          return;
        }
        const entry = { identity: e.source.identity, offset: e.source.offset, id: e.id };
        if (emitted.length < EMITTED_RING) emitted.push(entry);
        else emitted[emittedNext] = entry;
        emittedNext = (emittedNext + 1) % EMITTED_RING;
        windowEvents++;
        const sub = e.classification?.subtype ?? 'unclassified';
        windowBySubtype[sub] = (windowBySubtype[sub] ?? 0) + 1;
        return consumer.event(e);
      },
    },
  );
  const channels = new Map<string, Channel>();
  const channelFor = (name: string): Channel => {
    let ch = channels.get(name);
    if (ch === undefined) {
      ch = pipeline.channel(name, options.year !== undefined ? { kind: 'explicit', year: options.year } : { kind: 'now', epochMs: now() });
      channels.set(name, ch);
    }
    return ch;
  };

  let lastLineMs = now();
  // Standard input and the clock both feed the pipeline: one at a time.
  let busy: Promise<void> = Promise.resolve();
  const exclusive = (fn: () => Promise<void>): Promise<void> => {
    const run = busy.then(fn);
    busy = run.catch(() => undefined);
    return run;
  };

  const stdinMode = options.patterns.length === 1 && options.patterns[0] === '-';
  const follower = stdinMode ? null : new Follower(options.patterns, { restore, restored, ...(options.fromStart ? { fromStart: true } : {}), warn: options.warn, now });
  let stdinDone: Promise<void> | null = null;
  if (stdinMode) {
    const ch = channelFor('-');
    const splitter = new LineSplitter();
    stdinDone = (async () => {
      try {
        for await (const chunk of options.stdin) {
          const lines = splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
          if (lines.length === 0) continue;
          lastLineMs = now();
          totalLines += lines.length;
          windowLines += lines.length;
          await exclusive(() => pipeline.lines(ch, lines, splitter.identity ?? 'unknown'));
          if (control.stop || pipeline.stopped) break;
        }
        const last = splitter.end();
        if (last !== null) await exclusive(() => pipeline.lines(ch, [last], splitter.identity ?? 'unknown'));
      } catch (err) {
        options.warn(`tail: standard input: ${(err as Error).message}`);
      }
      control.stop = true;
      control.wake();
    })();
  }

  const checkpoint = async (final: boolean): Promise<void> => {
    if (options.statePath === undefined || follower === null) return;
    const waiting = final ? new Map<string, { offset: number; line: number }>() : pipeline.waitingFrom();
    const files = follower.checkpoints((t) => {
      let at = { offset: t.splitter.offset, line: t.splitter.lines };
      const ch = channels.get(t.name);
      if (ch !== undefined) at = ch.safePoint(t.identity, at);
      const w = t.identity === null ? undefined : waiting.get(t.identity);
      if (w !== undefined && w.offset < at.offset) at = w;
      return at;
    });
    const from = new Map(files.filter((f) => f.identity !== null).map((f) => [f.identity!, f.offset]));
    const ids = emitted.filter((x) => x.offset >= (from.get(x.identity) ?? Infinity)).map((x) => x.id);
    await consumer.flush?.();
    try {
      await saveState(options.statePath, { version: 1, savedAt: new Date(now()).toISOString(), files, emitted: ids });
      stateFailing = false;
    } catch (err) {
      if (!stateFailing) options.warn(`tail: cannot write the state file ${options.statePath}: ${(err as Error).message}; still running, will retry`);
      stateFailing = true;
    }
  };
  let stateFailing = false;

  let lastCheckpoint = now();
  let lastSummary = now();
  let summarySince = new Date(now()).toISOString();
  follower?.startWatching();
  const summary = async (t: number): Promise<void> => {
    if (consumer.summary === undefined) return;
    const snap = pipeline.snapshot();
    const mem = process.memoryUsage();
    const corr = pipeline.correlationStats();
    await consumer.summary({
      type: 'summary',
      at: new Date(t).toISOString(),
      since: summarySince,
      window: { lines: windowLines, events: windowEvents, bySubtype: windowBySubtype },
      total: { lines: totalLines, events: snap.eventsEmitted, duplicatesSuppressed },
      files: (follower?.files() ?? []).map((f) => ({ path: f.name, current: f.current, offset: f.splitter.offset, lines: f.splitter.lines })),
      follower: follower?.stats ?? { rotations: 0, truncations: 0, recreated: 0, opened: 0, closed: 0, copiesResumed: 0 },
      correlation: { open: pipeline.openMessages(), releasedWaiting: corr.releasedWaiting, evictedIdle: corr.evictedIdle, evictedOverflow: corr.evictedOverflow },
      memory: {
        rssMiB: Math.round(mem.rss / 1048576),
        heapUsedMiB: Math.round(mem.heapUsed / 1048576),
        heapTotalMiB: Math.round(mem.heapTotal / 1048576),
        externalMiB: Math.round(mem.external / 1048576),
      },
      onsets: pipeline.onsetState(),
    });
    lastSummary = t;
    summarySince = new Date(t).toISOString();
    windowLines = 0;
    windowEvents = 0;
    windowBySubtype = {};
  };
  let sleeping: (() => void) | null = null;
  control.wake = () => {
    sleeping?.();
    follower?.wakeNow();
  };
  let restoredWarned = false;
  try {
    while (!control.stop && !pipeline.stopped) {
      let more = false;
      if (follower !== null) {
        if (control.reopen) {
          control.reopen = false;
          follower.reopen();
          options.warn('tail: SIGHUP: re-reading the file list and closing rotated files once read to their end');
        }
        await exclusive(async () => {
          more = await follower.poll(async (t, lines) => {
            lastLineMs = now();
            totalLines += lines.length;
            windowLines += lines.length;
            await pipeline.lines(channelFor(t.name), lines, t.identity ?? t.splitter.identity ?? 'unknown');
          });
        });
        if (!restoredWarned) {
          restoredWarned = true;
          for (const c of follower.unmatched()) {
            options.warn(`tail: ${c.path} from the state file is gone and no rotated copy was found; lines written to it after the last checkpoint are lost`);
          }
        }
      }
      const t = now();
      const quietFor = t - lastLineMs;
      await exclusive(() => pipeline.tick(t, { sniffWaitMs, maxWaitMs, quietForMs: quietFor >= maxWaitMs ? quietFor : 0 }));
      if (t - lastCheckpoint >= checkpointEveryMs) {
        lastCheckpoint = t;
        await checkpoint(false);
      }
      if (options.summaryEveryMs !== undefined && t - lastSummary >= options.summaryEveryMs) await summary(t);
      if (!more && !control.stop) {
        if (follower !== null) await follower.waitForHint(pollMs);
        else {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, pollMs);
            function done(): void {
              clearTimeout(timer);
              resolve();
            }
            sleeping = done;
          });
          sleeping = null;
        }
      }
    }
    if (stdinDone !== null) await stdinDone;
    await busy;
    const result = await pipeline.finish();
    // The last summary covers the time since the previous one (a clean stop only).
    if (options.summaryEveryMs !== undefined && !pipeline.stopped) await summary(now());
    await checkpoint(true);
    return { ...result, follower: follower?.stats ?? null };
  } finally {
    await follower?.closeAll();
  }
}
