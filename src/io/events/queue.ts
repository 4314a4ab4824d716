import { InputError } from '../../errors.js';
import { inputError } from '../input-error.js';
import { BadLineError, type EventsAccumulator } from './accumulator.js';
import { readRange, type RangeSegment } from './segments.js';

/**
 * The work shared by the reader threads (parallel.ts), in a SharedArrayBuffer of BigInt64: [0]
 * the lowest segment that failed (no range after it is taken), [1] rows read so far (progress),
 * then per thread its zone of the ranges, front << 32 | back.
 *
 * The ranges (in input order) are dealt out in contiguous zones, one per thread, which each
 * thread reads front to back; a thread done with its zone takes ranges from the back of the zone
 * with the most left. So a thread mostly reads one contiguous stretch of the input — the units
 * whose rows cross from one of its ranges into the next stay in one state, and the merge has
 * fewer units to combine — while no thread idles as long as there is work.
 */
const STOP = 0;
const ROWS = 1;

/** The shared control block for `threads` zones over `ranges` ranges. */
export function controlBlock(ranges: number, threads: number): SharedArrayBuffer {
  const control = new SharedArrayBuffer(16 + 8 * threads);
  new BigInt64Array(control, 0, 2)[STOP] = BigInt(Number.MAX_SAFE_INTEGER);
  const zones = new BigInt64Array(control, 16, threads);
  for (let z = 0; z < threads; z++) {
    zones[z] = (BigInt(Math.floor((z * ranges) / threads)) << 32n) | BigInt(Math.floor(((z + 1) * ranges) / threads));
  }
  return control;
}

/** Takes the front (or back) range of zone z; -1 when it is empty. */
function claim(zones: BigInt64Array, z: number, front: boolean): number {
  for (;;) {
    const x = Atomics.load(zones, z);
    const f = Number(x >> 32n);
    const b = Number(x & 0xffffffffn);
    if (f >= b) return -1;
    const next = front ? (BigInt(f + 1) << 32n) | BigInt(b) : (BigInt(f) << 32n) | BigInt(b - 1);
    if (Atomics.compareExchange(zones, z, x, next) === x) return front ? f : b - 1;
  }
}

/** The next range for the thread of zone `zone`: its own zone's front, else another's back; -1 at the end. */
function nextRange(zones: BigInt64Array, zone: number, steal: boolean): number {
  const own = claim(zones, zone, true);
  if (own >= 0 || !steal) return own;
  for (;;) {
    let best = -1;
    let most = 0;
    for (let z = 0; z < zones.length; z++) {
      const x = Atomics.load(zones, z);
      const left = Number(x & 0xffffffffn) - Number(x >> 32n);
      if (left > most) [best, most] = [z, left];
    }
    if (best < 0) return -1;
    const i = claim(zones, best, false);
    if (i >= 0) return i;
  }
}

/** A reader's first failure, positioned so the earliest in input order can be raised. */
export interface Failure {
  segment: number;
  line: number;
  message: string;
  hint?: string;
  code?: string;
  /** Set for a bad line under --strict: the merge renumbers the line within its file. */
  bad?: { file: string; reason: string };
}

/** The lowest segment that failed so far (MAX_SAFE_INTEGER when none). */
export function stopMark(control: SharedArrayBuffer): number {
  return Number(Atomics.load(new BigInt64Array(control, 0, 2), STOP));
}

/** Rows read so far by all threads (as far as they have told). */
export function rowsRead(control: SharedArrayBuffer): number {
  return Number(Atomics.load(new BigInt64Array(control, 0, 2), ROWS));
}

/** Counts rows into the shared counter now and then. */
export function progressCounter(acc: EventsAccumulator, control: SharedArrayBuffer): { tick(): void; flush(): void } {
  const ctl = new BigInt64Array(control, 0, 2);
  let reported = 0;
  const flush = (): void => {
    Atomics.add(ctl, ROWS, BigInt(acc.rows - reported));
    reported = acc.rows;
  };
  return { tick: () => (acc.rows - reported >= 65_536 ? flush() : undefined), flush };
}

/** Reads ranges into `acc` (thread of zone `zone`) until none is left or one fails. */
export async function takeRanges(
  acc: EventsAccumulator,
  ranges: RangeSegment[],
  control: SharedArrayBuffer,
  zone: number,
  steal: boolean,
  tick: () => void,
): Promise<Failure | undefined> {
  const zones = new BigInt64Array(control, 16);
  for (;;) {
    const i = nextRange(zones, zone, steal);
    if (i < 0) return undefined;
    const seg = ranges[i]!;
    if (seg.id > stopMark(control)) continue; // after a failure: not needed
    try {
      await readRange(acc, seg, tick);
    } catch (err) {
      return failure(acc, control, err, seg.id, seg.name);
    }
  }
}

/** Describes what went wrong in segment `segment`, and lowers the stop mark to it. */
export function failure(
  acc: EventsAccumulator,
  control: SharedArrayBuffer,
  err: unknown,
  segment: number,
  name: string,
): Failure {
  const at = acc.position();
  const line = at.segment === segment ? at.line : 0;
  if (!(err instanceof InputError) && (err as NodeJS.ErrnoException).code !== undefined) {
    err = inputError('--events', name, err); // the file went away or changed since it was planned
  }
  let f: Failure;
  if (err instanceof BadLineError)
    f = { segment, line, message: err.message, bad: { file: err.file, reason: err.reason } };
  else if (err instanceof InputError) {
    f = { segment, line, message: err.message, code: err.code, ...(err.hint ? { hint: err.hint } : {}) };
  } else f = { segment, line, message: err instanceof Error ? (err.stack ?? err.message) : String(err), code: 'BUG' };
  for (;;) {
    const ctl = new BigInt64Array(control, 0, 2);
    const cur = Atomics.load(ctl, STOP);
    if (cur <= BigInt(segment) || Atomics.compareExchange(ctl, STOP, cur, BigInt(segment)) === cur) break;
  }
  return f;
}

/** The error to raise for the earliest failure; `lineOffset` renumbers a bad line within its file. */
export function earliestError(failures: Failure[], lineOffset: (segment: number) => number): Error | undefined {
  if (failures.length === 0) return undefined;
  const f = [...failures].sort((x, y) => x.segment - y.segment || x.line - y.line)[0]!;
  if (f.bad) return new BadLineError(f.bad.file, f.line + lineOffset(f.segment), f.bad.reason);
  if (f.code === 'BUG') return new Error(f.message);
  return new InputError(f.message, { ...(f.hint ? { hint: f.hint } : {}), ...(f.code ? { code: f.code } : {}) });
}
