/**
 * The onset engine on the second core (`analyze` over big inputs, see remote.ts): a worker thread
 * that owns one OnsetEngine and feeds it the batches of inputs the main thread sends, in order.
 * Each batch is answered with what it produced (onset records, decided units) and the engine's
 * counters; a `flush` message ends the run. The engine is a pure reducer, so the records are those
 * the main thread's own engine would make from the same inputs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnsetEngine, type OnsetOptions, type OnsetRecord } from './engine.js';
import type { EngineReply } from './remote.js';
import { decodeBatch, UnitEncoder, type WireBatch } from './wire.js';

const port = parentPort;
if (port === null) throw new Error('onset worker: not started as a worker thread');

const options = workerData as { onsets: OnsetOptions; units: boolean };
let records: OnsetRecord[] = [];
const units = new UnitEncoder();
const engine = new OnsetEngine((r) => records.push(r), {
  ...options.onsets,
  ...(options.units ? { onUnit: (u) => units.add(u) } : {}),
});

let done = false;
/** The engine, with the end of input noted (the batch's answer says so). */
const sink = {
  attempt: engine.attempt.bind(engine),
  inbound: engine.inbound.bind(engine),
  flush: () => {
    engine.flush();
    done = true;
  },
};

port.on('message', (batch: WireBatch) => {
  decodeBatch(batch, sink);
  const u = units.take();
  const reply: EngineReply = { records, units: u, stats: engine.stats, state: engine.state(), done };
  records = [];
  port.postMessage(reply, [u.t.buffer, u.refs.buffer]);
});
