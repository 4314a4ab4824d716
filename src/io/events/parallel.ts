import { open, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { InputError } from '../../errors.js';
import { inputError, isGzip } from '../input-error.js';
import { type AccumulatorState, EventsAccumulator, type SegmentStart } from './accumulator.js';
import { controlBlock, earliestError, type Failure, progressCounter, rowsRead, stopMark, takeRanges } from './queue.js';
import { detectStart, PIECES, planRanges, type RangeSegment } from './segments.js';
import type { EventSource, EventsResult, ParallelOptions, ReadEventsOptions } from './types.js';
import type { FromWorker, ToWorker, WorkerInput } from './worker.js';

/**
 * The events reader on several threads. Plain files are cut into byte ranges at line boundaries
 * (segments.ts) that worker threads take from a shared queue, so several files and the parts of
 * one file are read at once; stdin and gzip input are read here — inflated by zlib on libuv's
 * thread pool — and handed to the workers as blocks of whole lines. Each worker accumulates its
 * segments into its own per-unit state; the states are merged exactly (EventsAccumulator.absorb):
 * the same units, exposures, counts, variants in the same order, bad lines and their line
 * numbers, and sums equal up to the order of floating-point additions.
 *
 * Errors are positioned (segment, line) and the earliest one in input order is raised, as one
 * reader would: a bad line under --strict, a bad CSV header, an unreadable or corrupt input.
 * `peak_pending_observations` is the sum of the workers' peaks.
 *
 * Returns undefined when one thread should read instead: a small input, or a file that cannot
 * be opened (the sequential reader then reports it in its turn).
 */
export async function readEventsParallel(
  sources: EventSource[],
  opts: ReadEventsOptions,
  par: ParallelOptions,
  onProgress?: (rows: number) => void,
): Promise<EventsResult | undefined> {
  const plain: { source: number; src: EventSource; size: number; first: ReturnType<typeof detectStart> }[] = [];
  const streamed = new Set<number>();
  let plainBytes = 0;
  for (const [i, src] of sources.entries()) {
    if (src.path === undefined) {
      streamed.add(i);
      continue;
    }
    let fh;
    try {
      // A pipe or device (`<(zcat …)`, /dev/stdin) is streamed: it has no size, and no second reading.
      if (!(await stat(src.path)).isFile()) {
        streamed.add(i);
        continue;
      }
      fh = await open(src.path, 'r');
      const size = (await fh.stat()).size;
      const head = Buffer.alloc(Math.min(size, 1 << 20));
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      if (isGzip(head)) streamed.add(i);
      else {
        plain.push({ source: i, src, size, first: detectStart(head.subarray(0, bytesRead), bytesRead === size) });
        plainBytes += size;
      }
    } catch {
      return undefined;
    } finally {
      await fh?.close();
    }
  }
  // Below this, a second thread costs more than it saves: a worker takes ~60 ms to start, and its
  // JIT warm-up competes with this thread's for the cores (measured on a 2-core VM: 2 threads
  // were ~30 ms slower than 1 on 100 MiB, ~25 % faster on 300 MiB).
  if (streamed.size === 0 && plainBytes < (par.minParallelBytes ?? MIN_PARALLEL_BYTES)) return undefined;

  const chunk = par.chunkBytes ?? Math.min(16 << 20, Math.max(1 << 20, Math.ceil(plainBytes / (16 * par.threads))));
  const ranges: RangeSegment[] = plain.flatMap((p) =>
    planRanges(p.source, p.src.name, p.src.path!, p.size, chunk, p.first),
  );
  // With only files, this thread reads ranges too (zone 0; its state is the one the others merge
  // into); with stdin or gzip it feeds the workers instead.
  const own = streamed.size === 0 ? new EventsAccumulator(opts, plainBytes / par.threads) : undefined;
  const steal = par.steal ?? true;
  const count = own ? Math.min(par.threads, ranges.length) - 1 : par.threads;
  const zones = count + (own ? 1 : 0);
  const control = controlBlock(ranges.length, zones);
  const pool = Array.from(
    { length: count },
    (_, i) => new Reader({ opts, ranges, control, zone: zones - count + i, steal, expectedBytes: plainBytes / zones }),
  );

  let lastReport = 0;
  const timer = onProgress
    ? setInterval(() => {
        const rows = rowsRead(control);
        if (rows - lastReport >= 1_000_000) onProgress((lastReport = rows));
      }, 200)
    : undefined;
  timer?.unref();

  let mainFailure: Failure | undefined;
  try {
    if (own) {
      const progress = progressCounter(own, control);
      mainFailure = await takeRanges(own, ranges, control, 0, steal, progress.tick);
      progress.flush();
    }
    for (const i of [...streamed].sort((a, b) => a - b)) {
      if (stopMark(control) < i * PIECES || pool.some((w) => w.failed)) break;
      mainFailure = await feed(sources[i]!, i, pool, par.blockBytes ?? 2 << 20);
      if (mainFailure) break;
    }
  } finally {
    for (const w of pool) w.finish();
  }
  let results: { state: AccumulatorState; failure?: Failure }[];
  try {
    // Each part reduces the units no other part has, all at once; the merge then has the rest.
    const filters = await Promise.all(pool.map((w) => w.filter));
    const mine = own?.unitFilter();
    pool.forEach((w, i) => w.fold([...(mine ? [mine] : []), ...filters.filter((_, j) => j !== i)]));
    if (own && !mainFailure) own.foldLocal(filters);
    results = await Promise.all(pool.map((w) => w.result));
  } finally {
    if (timer) clearInterval(timer);
    for (const w of pool) w.stop();
  }

  const lines = new Map<number, number>();
  for (const state of [...(own ? [own.exportLines()] : []), ...results.map((r) => r.state)]) {
    for (let j = 0; j < state.segmentLines.length; j += 2)
      lines.set(state.segmentLines[j]!, state.segmentLines[j + 1]!);
  }
  const lineOffset = (segment: number): number => {
    let n = 0;
    for (let s = segment - (segment % PIECES); s < segment; s++) n += lines.get(s) ?? 0;
    return n;
  };
  const failures = results.flatMap((r) => (r.failure ? [r.failure] : []));
  if (mainFailure) failures.push(mainFailure);
  const error = earliestError(failures, lineOffset);
  if (error) throw error;
  const merged = own ?? new EventsAccumulator(opts);
  merged.absorb(
    results.map((r) => r.state),
    lineOffset,
  );
  if (onProgress && merged.rows - lastReport >= 1_000_000) onProgress(merged.rows);
  return merged.finish(sources.map((s) => s.name));
}

/** Plain input (no stdin or gzip) below this is read by one thread; see ParallelOptions. */
export const MIN_PARALLEL_BYTES = 128 << 20;

const workerUrl = import.meta.url.endsWith('.ts')
  ? new URL('../../../dist/io/events/worker.js', import.meta.url) // under vitest: the built worker
  : new URL('./worker.js', import.meta.url);

/** One worker thread and the blocks it has not finished yet. */
class Reader {
  private readonly worker: Worker;
  /** Its unit filter, once it has read everything. */
  readonly filter: Promise<Int32Array>;
  readonly result: Promise<{ state: AccumulatorState; failure?: Failure }>;
  outstanding = 0;
  failed = false;
  private waiters: (() => void)[] = [];

  constructor(input: WorkerInput) {
    this.worker = new Worker(workerUrl, { workerData: input });
    let gotFilter: (f: Int32Array) => void = () => {};
    this.filter = new Promise((resolve) => (gotFilter = resolve));
    this.result = new Promise((resolve, reject) => {
      this.worker.on('message', (m: FromWorker) => {
        if (m.type === 'block-done') {
          this.outstanding--;
          if (m.failed) this.failed = true;
          for (const w of this.waiters.splice(0)) w();
        } else if (m.type === 'filter') gotFilter(m.filter);
        else resolve(m.failure ? { state: m.state, failure: m.failure } : { state: m.state });
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(`events reader thread exited with code ${code}`)));
    });
    // A thread that dies before its filter fails the filter's wait too.
    this.filter = Promise.race([this.filter, this.result.then(() => new Promise<never>(() => {}))]);
    this.filter.catch(() => {}); // raised where it is awaited
    this.result.catch(() => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (m.type === 'block') this.outstanding++;
    this.worker.postMessage(m, transfer);
  }

  finish(): void {
    this.worker.postMessage({ type: 'finish' } satisfies ToWorker);
  }

  /** The other parts' filters: the thread reduces its own units and posts its state. */
  fold(filters: Int32Array[]): void {
    this.worker.postMessage({ type: 'fold', filters } satisfies ToWorker);
  }

  /** Ends the thread if it still runs (another failed: it would wait for its filters forever). */
  stop(): void {
    void this.worker.terminate();
  }

  /** Resolves when a block is done (or the thread failed). */
  done(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * Streams one stdin or gzip source to the pool as blocks of whole lines (at most two waiting
 * per worker). Returns the failure of the source itself (unreadable, corrupt gzip), positioned
 * after the lines read before it.
 */
async function feed(
  src: EventSource,
  source: number,
  pool: Reader[],
  blockBytes: number,
): Promise<Failure | undefined> {
  let k = 0;
  let begin: SegmentStart | undefined;
  let known = false; // whether the first line (and so `begin`) is known
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const send = async (bytes: Buffer): Promise<void> => {
    for (;;) {
      const w = pool.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
      if (w.outstanding < 2) {
        const copy = new ArrayBuffer(bytes.length);
        new Uint8Array(copy).set(bytes);
        w.send(
          {
            type: 'block',
            id: source * PIECES + k,
            name: src.name,
            ...(k > 0 && begin ? { begin } : {}),
            bytes: copy,
            length: bytes.length,
          },
          [copy],
        );
        k++;
        return;
      }
      await Promise.race(pool.map((r) => r.done()));
    }
  };
  /** Sends the complete lines gathered so far (all of them at the end). */
  const flush = async (all: boolean): Promise<boolean> => {
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
    pending = [data];
    if (!known) {
      const first = detectStart(data, all);
      if (first === undefined && !all) return true;
      known = true;
      begin = first?.start;
      if (first !== undefined && first.start === undefined) {
        // Not a CSV header: the first block's reader fails on it, and nothing after it matters.
        await send(data.subarray(0, first.end));
        return false;
      }
    }
    const cut = all ? data.length : data.lastIndexOf(10) + 1;
    if (cut > 0) await send(data.subarray(0, cut));
    pending = cut < data.length ? [data.subarray(cut)] : [];
    pendingLen = data.length - cut;
    return true;
  };
  try {
    for await (const chunk of src.chunks()) {
      pending.push(chunk);
      pendingLen += chunk.length;
      if (pendingLen >= blockBytes && !(await flush(false))) return undefined;
      if (pool.some((w) => w.failed)) return undefined;
    }
    if (pendingLen > 0) await flush(true);
    return undefined;
  } catch (err) {
    const e = err instanceof InputError ? err : inputError('--events', src.name, err);
    if (pendingLen > 0 && known) {
      // The complete lines before the failure are read first, as one reader would.
      const data = Buffer.concat(pending, pendingLen);
      const cut = data.lastIndexOf(10) + 1;
      if (cut > 0) await send(data.subarray(0, cut));
    }
    return {
      segment: source * PIECES + k,
      line: 0,
      message: e.message,
      code: e.code,
      ...(e.hint ? { hint: e.hint } : {}),
    };
  }
}
