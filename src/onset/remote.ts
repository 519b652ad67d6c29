/**
 * The onset engine in a worker thread, for batch runs over big inputs (#11: use the second core).
 * Onset detection is about a third of `analyze`'s work and depends on nothing but the delivery
 * attempts and inbound refusals, in order, so it can run beside parsing and correlation: the main
 * thread sends its inputs in batches, the worker (worker.ts) answers each with the records and
 * units it produced, and `finish()` waits for the last answer.
 *
 * The records and their order are the same as with the in-thread engine; what changes is when they
 * reach the consumer (after the events that were read meanwhile). So only consumers that collect
 * onsets and units until the end (the JSON and text reports) use it; streams (NDJSON), the HTML
 * timeline (units against groups as they appear) and `tail` keep the in-thread engine.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SubtypeId } from '../classify/subtypes.js';
import type { DeliveryAttempt } from '../model/event.js';
import { emptyOnsetStats, failedAttempt, type DeliveryUnit, type OnsetEngine, type OnsetOptions, type OnsetRecord } from './engine.js';
import { BatchEncoder, UnitDecoder, type WireBatch, type WireUnits } from './wire.js';

/** The worker's answer to one batch. */
export interface EngineReply {
  records: OnsetRecord[];
  units: WireUnits;
  stats: OnsetEngine['stats'];
  state: ReturnType<OnsetEngine['state']>;
  done: boolean;
}

/**
 * Inputs per message to the worker: enough that messaging costs little per attempt, few enough that
 * a batch's copies in the worker die young (batches of 2,048 survived into its old space: +100 MiB
 * RSS on 3 M lines, and slower; 256 measured best of 64 to 2,048).
 */
const BATCH = 256;
/** Batches sent and not yet answered before the main thread waits for the worker (bounds memory). */
const MAX_IN_FLIGHT = 32;

/**
 * The worker's young generation, in MiB (V8's default is 32 or more): a batch's inputs die there
 * within the batch, so a small one keeps the second heap's RSS down at no measurable cost in speed.
 */
const WORKER_YOUNG_MB = 8;

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** True when the compiled worker script is there (not when running from the TypeScript sources). */
export function onsetWorkerAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

export class RemoteOnsetEngine {
  private readonly worker: Worker;
  /** The batch being filled (wire.ts: appended to, not an object per input). */
  private readonly buffer = new BatchEncoder(BATCH + 1);
  private readonly units = new UnitDecoder();
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private finished = false;
  /** The engine's counters, updated with every answer (the same object throughout). */
  readonly stats: OnsetEngine['stats'];
  private lastState: ReturnType<OnsetEngine['state']> = { pendingUnits: 0, decidedKeys: 0, ringUnits: 0, domainSeries: 0, domainDetectors: 0, detectors: 0 };

  constructor(
    private readonly emit: (record: OnsetRecord) => void,
    options: OnsetOptions,
    private readonly onUnit: ((unit: DeliveryUnit) => void) | undefined,
  ) {
    const { onUnit: _callback, ...cloneable } = options;
    this.stats = emptyOnsetStats();
    this.worker = new Worker(WORKER_URL, { workerData: { onsets: cloneable, units: onUnit !== undefined }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
    this.worker.on('message', (reply: EngineReply) => this.answer(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.finished) this.fail(new Error(`onset worker exited with code ${code}`));
    });
    this.worker.unref();
  }

  attempt(a: DeliveryAttempt): void {
    if (this.failure !== null) throw this.failure;
    // Only what the engine reads goes over: the reply text of a failure only (a success's reply is
    // never classified), no Message-ID (the re-send finding's, in this thread).
    this.buffer.attempt(a, failedAttempt(a) ? a.reply : null);
    if (this.buffer.size >= BATCH) this.send();
  }

  inbound(t: number | null, subtype: SubtypeId, client: string | null, recipient: string | null): void {
    if (this.failure !== null) throw this.failure;
    this.buffer.inbound(t, subtype, client, recipient);
    if (this.buffer.size >= BATCH) this.send();
  }

  /** The engine's state sizes at its last answer. */
  state(): ReturnType<OnsetEngine['state']> {
    return this.lastState;
  }

  /** True when the caller should `await settle()` before sending more (the worker is behind). */
  get behind(): boolean {
    return this.inFlight >= MAX_IN_FLIGHT;
  }

  /** Waits until the worker has caught up to half the allowed backlog. */
  async settle(): Promise<void> {
    while (this.inFlight > MAX_IN_FLIGHT / 2) await this.nextAnswer();
  }

  /** Sends what is buffered and the end of input, waits for every answer, and stops the worker. */
  async finish(): Promise<void> {
    this.buffer.flush();
    this.send();
    while (this.inFlight > 0) await this.nextAnswer();
    this.finished = true;
    await this.worker.terminate();
  }

  /** Stops the worker without waiting for what it has (a run that ended early). */
  async close(): Promise<void> {
    this.finished = true;
    await this.worker.terminate();
  }

  private send(): void {
    if (this.buffer.size === 0) return;
    // The worker keeps the process alive only while an answer is awaited.
    if (this.inFlight === 0) this.worker.ref();
    this.inFlight++;
    const batch: WireBatch = this.buffer.take();
    // The typed arrays move to the worker (no copy); the text is copied once, flat.
    this.worker.postMessage(batch, [batch.kinds.buffer, batch.lens.buffer, batch.nums.buffer]);
  }

  private nextAnswer(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private answer(reply: EngineReply): void {
    this.inFlight--;
    if (this.inFlight === 0) this.worker.unref();
    for (const r of reply.records) this.emit(r);
    if (this.onUnit !== undefined) this.units.decode(reply.units, this.onUnit);
    Object.assign(this.stats, reply.stats);
    this.lastState = reply.state;
    this.wake();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
