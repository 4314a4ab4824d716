import { parentPort, workerData } from 'node:worker_threads';
import { EventsAccumulator, type SegmentStart } from './accumulator.js';
import { type Failure, failure, progressCounter, takeRanges } from './queue.js';
import type { RangeSegment } from './segments.js';
import type { ReadEventsOptions } from './types.js';

/**
 * One reader thread of parallel.ts: takes ranges from the shared queue (queue.ts), then the
 * blocks the main thread posts (stdin and gzip input), all into one accumulator whose state it
 * posts back at the end.
 */

export interface WorkerInput {
  opts: ReadEventsOptions;
  ranges: RangeSegment[];
  control: SharedArrayBuffer;
  /** This thread's zone of the ranges (queue.ts), and whether it takes from others' when done. */
  zone: number;
  steal: boolean;
}

export type ToWorker =
  | { type: 'block'; id: number; name: string; begin?: SegmentStart; bytes: ArrayBuffer; length: number }
  | { type: 'finish' };

export type FromWorker =
  | { type: 'block-done'; failed: boolean }
  | { type: 'state'; state: ReturnType<EventsAccumulator['exportState']>['state']; failure?: Failure };

const { opts, ranges, control, zone, steal } = workerData as WorkerInput;
const acc = new EventsAccumulator(opts);
const port = parentPort!;
const progress = progressCounter(acc, control);

const blocks: Extract<ToWorker, { type: 'block' }>[] = [];
let finishing = false;
let wake: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  if (m.type === 'block') blocks.push(m);
  else finishing = true;
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
const { state, transfer } = acc.exportState();
port.postMessage({ type: 'state', state, ...(failed ? { failure: failed } : {}) } satisfies FromWorker, transfer);
port.close();
