/**
 * The onset engine on the second core (`analyze` over big inputs, see remote.ts): a worker thread
 * that owns one OnsetEngine and feeds it the batches of inputs the main thread sends, in order.
 * Each batch is answered with what it produced (onset records, decided units) and the engine's
 * counters; a `flush` message ends the run. The engine is a pure reducer, so the records are those
 * the main thread's own engine would make from the same inputs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnsetEngine, type DeliveryUnit, type OnsetOptions, type OnsetRecord } from './engine.js';
import type { EngineInput, EngineReply } from './remote.js';

const port = parentPort;
if (port === null) throw new Error('onset worker: not started as a worker thread');

const options = workerData as { onsets: OnsetOptions; units: boolean };
let records: OnsetRecord[] = [];
let units: DeliveryUnit[] = [];
const engine = new OnsetEngine((r) => records.push(r), {
  ...options.onsets,
  ...(options.units ? { onUnit: (u: DeliveryUnit) => units.push(u) } : {}),
});

port.on('message', (batch: EngineInput[]) => {
  let done = false;
  for (const x of batch) {
    if (x.k === 'a') engine.attempt(x.a);
    else if (x.k === 'i') engine.inbound(x.t, x.subtype, x.client, x.recipient);
    else {
      engine.flush();
      done = true;
    }
  }
  const reply: EngineReply = { records, units, stats: engine.stats, state: engine.state(), done };
  records = [];
  units = [];
  port.postMessage(reply);
});
