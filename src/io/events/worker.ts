import { parentPort, workerData } from 'node:worker_threads';
import { EventsAccumulator, type SegmentStart } from './accumulator.js';
import { type Failure, failure, progressCounter, takeRanges } from './queue.js';
import type { RangeSegment } from './segments.js';
import type { ReadEventsOptions } from './types.js';

/**
 * One reader thread of parallel.ts: takes ranges from the shared queue (queue.ts), then the
 * blocks the main thread posts (stdin and gzip input), all into one accumulator. At the end it
 * posts its unit filter, reduces the units that the other parts' filters say are its alone
 * (EventsAccumulator.foldLocal), and posts its state.
 */

export interface WorkerInput {
  opts: ReadEventsOptions;
  ranges: RangeSegment[];
  control: SharedArrayBuffer;
  /** This thread's zone of the ranges (queue.ts), and whether it takes from others' when done. */
  zone: number;
  steal: boolean;
  /** About how much input it will read (sizes its tables: EventsAccumulator's constructor). */
  expectedBytes: number;
}

export type ToWorker =
  | { type: 'block'; id: number; name: string; begin?: SegmentStart; bytes: ArrayBuffer; length: number }
  | { type: 'finish' }
  /** The other parts' unit filters: reduce the units none of them has, then post the state. */
  | { type: 'fold'; filters: Int32Array[] };

export type FromWorker =
  | { type: 'block-done'; failed: boolean }
  /** Done reading: this part's units (EventsAccumulator.unitFilter). */
  | { type: 'filter'; filter: Int32Array }
  | { type: 'state'; state: ReturnType<EventsAccumulator['exportState']>['state']; failure?: Failure };

const { opts, ranges, control, zone, steal, expectedBytes } = workerData as WorkerInput;
const acc = new EventsAccumulator(opts, expectedBytes);
const port = parentPort!;
const progress = progressCounter(acc, control);

const blocks: Extract<ToWorker, { type: 'block' }>[] = [];
let finishing = false;
let others: Int32Array[] | undefined;
let wake: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  if (m.type === 'block') blocks.push(m);
  else if (m.type === 'finish') finishing = true;
  else others = m.filters;
  wake?.();
});

let failed: Failure | undefined = await takeRanges(acc, ranges, control, zone, steal, progress.tick);
for (;;) {
  const b = blocks.shift();
  if (b === undefined) {
    if (finishing) break;
    await new Promise<void>((resolve) => (wake = resolve));
    continue;
  }
  if (!failed) {
    try {
      acc.beginSegment(b.name, b.id, b.begin);
      acc.push(new Uint8Array(b.bytes, 0, b.length), 0, b.length);
      acc.endSegment();
      progress.tick();
    } catch (err) {
      failed = failure(acc, control, err, b.id, b.name);
    }
  }
  port.postMessage({ type: 'block-done', failed: failed !== undefined } satisfies FromWorker);
}
progress.flush();
port.postMessage({ type: 'filter', filter: acc.unitFilter() } satisfies FromWorker);
while (others === undefined) await new Promise<void>((resolve) => (wake = resolve));
if (!failed) acc.foldLocal(others);
const { state, transfer } = acc.exportState();
port.postMessage({ type: 'state', state, ...(failed ? { failure: failed } : {}) } satisfies FromWorker, transfer);
port.close();
