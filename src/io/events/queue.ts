import { InputError } from '../../errors.js';
import { inputError } from '../input.js';
import { BadLineError, type EventsAccumulator } from './accumulator.js';
import { readRange, type RangeSegment } from './segments.js';

/**
 * The work shared by the reader threads (parallel.ts), in a SharedArrayBuffer of three Int32:
 * [0] the next range to take, [1] the lowest segment that failed (no range after it is taken),
 * [2] rows read so far (progress).
 */
export const NEXT = 0;
export const STOP = 1;
export const ROWS = 2;

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

/** Counts rows into ctl[ROWS] now and then. */
export function progressCounter(acc: EventsAccumulator, ctl: Int32Array): { tick(): void; flush(): void } {
  let reported = 0;
  const flush = (): void => {
    Atomics.add(ctl, ROWS, acc.rows - reported);
    reported = acc.rows;
  };
  return { tick: () => (acc.rows - reported >= 65_536 ? flush() : undefined), flush };
}

/** Takes ranges from the queue into `acc` until it is empty, past the stop mark, or one fails. */
export async function takeRanges(
  acc: EventsAccumulator,
  ranges: RangeSegment[],
  ctl: Int32Array,
  tick: () => void,
): Promise<Failure | undefined> {
  for (;;) {
    const i = Atomics.add(ctl, NEXT, 1);
    if (i >= ranges.length) return undefined;
    const seg = ranges[i]!;
    if (seg.id > Atomics.load(ctl, STOP)) return undefined;
    try {
      await readRange(acc, seg, tick);
    } catch (err) {
      return failure(acc, ctl, err, seg.id, seg.name);
    }
  }
}

/** Describes what went wrong in segment `segment`, and lowers the stop mark to it. */
export function failure(acc: EventsAccumulator, ctl: Int32Array, err: unknown, segment: number, name: string): Failure {
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
    const cur = Atomics.load(ctl, STOP);
    if (cur <= segment || Atomics.compareExchange(ctl, STOP, cur, segment) === cur) break;
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
