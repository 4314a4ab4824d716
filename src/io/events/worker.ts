import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../../errors.js';
import { inputError } from '../input.js';
import { BadLineError, EventsAccumulator, type SegmentStart } from './accumulator.js';
import { readRange, type RangeSegment } from './segments.js';
import type { ReadEventsOptions } from './types.js';

/**
 * One reader thread of parallel.ts: takes ranges from the shared queue (control[0] is the next
 * range to take; control[1] the lowest segment that failed, after which no range is taken;
 * control[2] rows read, for progress), then the blocks the main thread posts (stdin and gzip
 * input), all into one accumulator whose state it posts back at the end.
 */

export interface WorkerInput {
  opts: ReadEventsOptions;
  ranges: RangeSegment[];
  control: SharedArrayBuffer;
}

export type ToWorker =
  | { type: 'block'; id: number; name: string; begin?: SegmentStart; bytes: ArrayBuffer; length: number }
  | { type: 'finish' };

export interface WorkerFailure {
  segment: number;
  line: number;
  message: string;
  hint?: string;
  code?: string;
  /** Set for a bad line under --strict: the merge renumbers the line within its file. */
  bad?: { file: string; reason: string };
}

export type FromWorker =
  | { type: 'block-done'; failed: boolean }
  | { type: 'state'; state: ReturnType<EventsAccumulator['exportState']>['state']; failure?: WorkerFailure };

const { opts, ranges, control } = workerData as WorkerInput;
const ctl = new Int32Array(control);
const acc = new EventsAccumulator(opts);
const port = parentPort!;
let failure: WorkerFailure | undefined;
let reported = 0;

function progress(): void {
  if (acc.rows - reported >= 65_536) {
    Atomics.add(ctl, 2, acc.rows - reported);
    reported = acc.rows;
  }
}

function fail(err: unknown, segment: number, name: string): void {
  const at = acc.position();
  const line = at.segment === segment ? at.line : 0;
  if (!(err instanceof InputError) && (err as NodeJS.ErrnoException).code !== undefined) {
    err = inputError('--events', name, err); // the file went away or changed since it was planned
  }
  if (err instanceof BadLineError) {
    failure = { segment, line, message: err.message, bad: { file: err.file, reason: err.reason } };
  } else if (err instanceof InputError) {
    failure = { segment, line, message: err.message, code: err.code, ...(err.hint ? { hint: err.hint } : {}) };
  } else {
    failure = { segment, line, message: err instanceof Error ? (err.stack ?? err.message) : String(err), code: 'BUG' };
  }
  // Lower the shared stop mark to this segment: later ranges need not be read.
  for (;;) {
    const cur = Atomics.load(ctl, 1);
    if (cur <= segment || Atomics.compareExchange(ctl, 1, cur, segment) === cur) break;
  }
}

const blocks: Extract<ToWorker, { type: 'block' }>[] = [];
let finishing = false;
let wake: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  if (m.type === 'block') blocks.push(m);
  else finishing = true;
  wake?.();
});

for (;;) {
  const i = Atomics.add(ctl, 0, 1);
  if (i >= ranges.length || failure) break;
  const seg = ranges[i]!;
  if (seg.id > Atomics.load(ctl, 1)) break;
  try {
    await readRange(acc, seg, progress);
  } catch (err) {
    fail(err, seg.id, seg.name);
  }
}
for (;;) {
  const b = blocks.shift();
  if (b === undefined) {
    if (finishing) break;
    await new Promise<void>((resolve) => (wake = resolve));
    continue;
  }
  if (!failure) {
    try {
      acc.beginSegment(b.name, b.id, b.begin);
      acc.push(new Uint8Array(b.bytes, 0, b.length), 0, b.length);
      acc.endSegment();
      progress();
    } catch (err) {
      fail(err, b.id, b.name);
    }
  }
  port.postMessage({ type: 'block-done', failed: failure !== undefined } satisfies FromWorker);
}
Atomics.add(ctl, 2, acc.rows - reported);
const { state, transfer } = acc.exportState();
port.postMessage({ type: 'state', state, ...(failure ? { failure } : {}) } satisfies FromWorker, transfer);
port.close();
