import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { concatRequests, joinable, planBatch, rowsOf, splitOutputs } from '../core/serve/batch.js';
import type { HostTensor } from '../core/smoke/tensor.js';
import { InputError } from '../errors.js';
import { loadOrt, OnnxSession } from '../onnx/runtime.js';
import type { WorkerExit, WorkerReply, WorkerRequest } from './inference-worker.js';

/**
 * Where inference runs. onnxruntime-node's `session.run` is synchronous on the calling thread, so:
 *   - inline: on the HTTP thread — cheapest for tiny models (a run costs less than a thread hop);
 *   - worker: on a pool of worker threads, each holding its own sessions — for models whose run
 *     would otherwise stall every other request.
 * Either way a Batcher in front joins concurrent requests into one run when the model's batch
 * dimension is dynamic (README "Serving / Inference" has the measurements behind the choice).
 */

export type Tensors = Record<string, HostTensor>;

export interface Runner {
  readonly mode: 'inline' | 'worker';
  /** Runs that may be in progress at once (1 inline; one per worker thread). */
  readonly slots: number;
  run(feeds: Tensors): Promise<Tensors>;
  /**
   * The same run, synchronously, where the model runs on this thread: no promise, no event-loop
   * turn. Throws on failure; `run` then words the error.
   */
  runSync?(feeds: Tensors): Tensors;
  release(): Promise<void>;
}

/** The model on the HTTP thread; `direct`: run through the native session (see below). */
export async function openInline(file: string, label: string, direct = true): Promise<Runner> {
  const session = await OnnxSession.open(file, label, { threads: 1 });
  return direct ? withDirect(session, file) : publicRunner(session);
}

function publicRunner(session: OnnxSession): Runner {
  return {
    mode: 'inline',
    slots: 1,
    run: (feeds) => session.run(session.feeds(feeds)),
    release: () => session.release(),
  };
}

async function withDirect(session: OnnxSession, file: string): Promise<Runner> {
  const direct = await openDirect(file);
  if (direct) {
    // The same model through onnxruntime-node's native binding, run synchronously: its public
    // `run` defers every call by a setImmediate, a second event-loop turn per batch.
    const ort = await loadOrt();
    const fetches = Object.fromEntries(session.outputNames.map((n) => [n, null]));
    const runSync = (feeds: Tensors): Tensors => {
      const input: Record<string, unknown> = {};
      for (const name in feeds) {
        const t = feeds[name]!;
        input[name] = new ort.Tensor(t.type, t.data as never, t.dims);
      }
      const out = direct.run(input, fetches, RUN_OPTIONS);
      const result: Tensors = {};
      for (const name of session.outputNames) {
        const t = out[name];
        if (t)
          result[name] = {
            type: t.type as HostTensor['type'],
            dims: t.dims as number[],
            data: t.data as HostTensor['data'],
          };
      }
      return result;
    };
    return {
      mode: 'inline',
      slots: 1,
      runSync,
      run: (feeds) => {
        try {
          return Promise.resolve(runSync(feeds));
        } catch {
          // The public API words the error the way mlv reports it.
          return session.run(session.feeds(feeds));
        }
      },
      release: async () => {
        direct.dispose();
        await session.release();
      },
    };
  }
  return publicRunner(session);
}

interface NativeSession {
  loadModel(file: string, options: object): void;
  run(
    feeds: Record<string, unknown>,
    fetches: Record<string, null>,
    options: object,
  ): Record<string, { type: string; dims: readonly number[]; data: unknown }>;
  dispose(): void;
}

const RUN_OPTIONS = { logSeverityLevel: 4 };

/** A session on onnxruntime-node's native binding, or undefined when its layout is not the known one. */
async function openDirect(file: string): Promise<NativeSession | undefined> {
  try {
    await loadOrt();
    const { binding, initOrt } = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as {
      binding: { InferenceSession: new () => NativeSession };
      initOrt(): void;
    };
    initOrt();
    const s = new binding.InferenceSession();
    s.loadModel(file, {
      logSeverityLevel: 4,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    return s;
  } catch {
    return undefined;
  }
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

class PoolWorker {
  readonly worker: Worker;
  busy = 0;
  alive = true;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  constructor(onExit: (w: PoolWorker, why: string) => void) {
    // Little JavaScript runs there: a small young generation keeps each thread's memory down.
    this.worker = new Worker(new URL('./inference-worker.js', import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      p?.(reply);
    });
    let why = '';
    this.worker.on('error', (err) => (why = err.message));
    this.worker.on('exit', (code) => {
      this.alive = false;
      const reason = why || `exit code ${code}`;
      for (const p of this.pending.values()) p({ id: 0, ok: false, error: `inference thread failed: ${reason}` });
      this.pending.clear();
      onExit(this, reason);
    });
  }

  /** Asks the thread to end between runs; resolves when it has (terminated after `graceMs`). */
  exit(graceMs: number): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate(), graceMs);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ op: 'exit' } satisfies WorkerExit);
    });
  }

  call(msg: WithoutId<WorkerRequest>): Promise<WorkerReply> {
    if (!this.alive) return Promise.resolve({ id: 0, ok: false, error: 'inference thread has exited' });
    const id = this.nextId++;
    this.busy++;
    return new Promise<WorkerReply>((resolve) => {
      this.pending.set(id, (reply) => {
        this.busy--;
        resolve(reply);
      });
      this.worker.postMessage({ ...msg, id });
    });
  }
}

const replyError = (reply: WorkerReply & { ok: false }) =>
  new InputError(reply.error, { code: reply.code ?? 'MLV_ONNX_RUN' });

/** Restart delays of a thread that keeps exiting: 0.1 s (by default), doubling, at most 10 s. */
const RESPAWN_MS = { first: 100, max: 10_000 };

/**
 * Worker threads shared by the versions that run off the HTTP thread. A thread that exits (an
 * uncaught error in it, or it was terminated) is replaced and the open models are opened in the
 * new one; meanwhile the others take its share, and requests it was running are answered with an
 * error (500), never left waiting.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly models = new Map<string, { file: string; label: string }>();
  private nextKey = 1;
  private closing = false;
  private delayMs: number;
  respawns = 0;

  constructor(
    readonly size: number,
    /** Told about a thread that exited and its replacement (for the log). */
    private readonly onEvent: (message: string) => void = () => {},
    private readonly firstDelayMs = RESPAWN_MS.first,
  ) {
    this.delayMs = firstDelayMs;
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  private spawn(): PoolWorker {
    return new PoolWorker((w, why) => this.exited(w, why));
  }

  private exited(dead: PoolWorker, why: string): void {
    if (this.closing) return;
    const i = this.workers.indexOf(dead);
    if (i < 0) return;
    this.onEvent(`inference thread ${i + 1} of ${this.size} exited (${why}); restarting it in ${this.delayMs} ms`);
    const delay = this.delayMs;
    this.delayMs = Math.min(RESPAWN_MS.max, this.delayMs * 2);
    setTimeout(() => void this.replace(i, dead), delay).unref();
  }

  private async replace(i: number, dead: PoolWorker): Promise<void> {
    if (this.closing || this.workers[i] !== dead) return;
    const fresh = this.spawn();
    // Models first: the thread takes runs only once every open model is open in it.
    const replies = await Promise.all(
      [...this.models].map(([key, m]) => fresh.call({ op: 'open', key, file: m.file, label: m.label })),
    );
    const failed = replies.find((r) => !r.ok);
    if (this.closing || !fresh.alive) return void (await fresh.exit(1000));
    if (failed && !failed.ok) {
      this.onEvent(`inference thread ${i + 1}: reopening the models failed: ${failed.error}`);
      return void (await fresh.exit(1000));
    }
    this.workers[i] = fresh;
    this.respawns++;
    this.delayMs = this.firstDelayMs;
    this.onEvent(`inference thread ${i + 1} of ${this.size} restarted`);
  }

  /** Opens the model in every thread of the pool. */
  async open(file: string, label: string): Promise<Runner> {
    const key = `m${this.nextKey++}`;
    this.models.set(key, { file, label });
    const replies = await Promise.all(this.workers.map((w) => w.call({ op: 'open', key, file, label })));
    const failed = replies.find((r) => !r.ok);
    const close = async () => {
      this.models.delete(key);
      await Promise.all(this.workers.map((w) => w.call({ op: 'close', key })));
    };
    if (failed && !failed.ok) {
      await close();
      throw replyError(failed);
    }
    return {
      mode: 'worker',
      slots: this.workers.length,
      run: async (feeds) => {
        // The least busy thread that is running (while one restarts, the others take its share).
        let w: PoolWorker | undefined;
        for (const x of this.workers) if (x.alive && (w === undefined || x.busy < w.busy)) w = x;
        if (!w) throw new InputError('no inference thread is running (restarting)', { code: 'MLV_ONNX_RUN' });
        // Inputs are copied, not transferred: a shadow copy of the request may still read them.
        const reply = await w.call({ op: 'run', key, feeds });
        if (!reply.ok) throw replyError(reply);
        return reply.outputs!;
      },
      release: close,
    };
  }

  /**
   * Ends every thread once its run in progress is done. Never `terminate()` a thread inside a run:
   * onnxruntime-node then throws a C++ exception from the torn-down thread and the whole process
   * aborts. (Only a thread stuck for `graceMs` is terminated.)
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.exit(graceMs)));
  }

  /** For tests: the threads' Worker objects. */
  get threads(): readonly Worker[] {
    return this.workers.map((w) => w.worker);
  }
}

/** A request whose deadline (--timeout) passed while it was queued or running. */
export class QueueTimeoutError extends Error {}

/** How a submitted request learns its outcome: an error, or the outputs of its rows. */
export type Done = (err: unknown, outputs: Tensors | undefined) => void;

interface Queued {
  feeds: Tensors;
  rows: number;
  /** performance.now() after which nobody waits for the answer: skipped instead of run. */
  deadline: number;
  done: Done;
  settled: boolean;
}

export interface BatchOptions {
  /** Rows per run at most; 1 = no batching. */
  maxBatch: number;
  /** How long the oldest queued request may wait for others to join its batch (ms; 0 = only those already queued). */
  maxWaitMs: number;
}

/**
 * Feeds a Runner: requests are run as soon as a slot is free; those that arrive while every slot
 * is busy (or within one turn of the event loop) are joined into one run of up to `maxBatch` rows.
 * At low load this adds no latency; at high load it turns many small runs into few large ones.
 *
 * Deadlines: a request still queued at its deadline is answered with a QueueTimeoutError without
 * being run; one running on another thread is answered with it when the deadline passes (its run
 * still occupies the slot until it ends). A run on this thread cannot be interrupted. Times are the
 * global `performance.now()`, which tests replace with a fake clock.
 */
export class Batcher {
  private queue: Queued[] = [];
  private active = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  runs = 0;
  batchedRows = 0;

  constructor(
    readonly runner: Runner,
    private readonly opts: BatchOptions,
  ) {}

  /** Queues a request; `done` is called exactly once (synchronously from a later event-loop turn, never from here). */
  submit(feeds: Tensors, deadline: number, done: Done): void {
    this.queue.push({ feeds, rows: rowsOf(feeds), deadline, done, settled: false });
    this.schedule();
  }

  run(feeds: Tensors, deadline = Number.POSITIVE_INFINITY): Promise<Tensors> {
    return new Promise<Tensors>((resolve, reject) => {
      this.submit(feeds, deadline, (err, out) => (err === null ? resolve(out!) : reject(err)));
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.active >= this.runner.slots || this.queue.length === 0) return;
    if (this.opts.maxWaitMs > 0 && this.opts.maxBatch > 1) {
      let rows = 0;
      for (const q of this.queue) rows += q.rows;
      if (rows < this.opts.maxBatch) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, this.opts.maxWaitMs);
        return;
      }
    }
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    if (this.queue.some((q) => q.deadline < now)) {
      for (const q of this.queue)
        if (q.deadline < now) settle(q, new QueueTimeoutError('deadline passed while queued'));
      this.queue = this.queue.filter((q) => q.deadline >= now);
    }
    const sync = this.runner.runSync;
    while (this.active < this.runner.slots && this.queue.length > 0) {
      const first = this.queue[0]!;
      const take =
        this.opts.maxBatch > 1
          ? planBatch(
              this.queue.map((q) => q.rows),
              this.opts.maxBatch,
              (i) => joinable(first.feeds, this.queue[i]!.feeds),
            )
          : 1;
      const batch = this.queue.splice(0, take);
      this.runs++;
      for (const q of batch) this.batchedRows += q.rows;
      const feeds = batch.length === 1 ? batch[0]!.feeds : concatRequests(batch.map((q) => q.feeds));
      if (sync) {
        let out: Tensors | undefined;
        try {
          out = sync(feeds);
        } catch {
          // The async run words the error (and takes the slot like any other run).
        }
        if (out) {
          deliver(batch, out);
          continue;
        }
      }
      this.start(batch, feeds);
    }
  }

  /** One run in progress on the runner's own time: the slot is taken until it ends. */
  private start(batch: Queued[], feeds: Tensors): void {
    this.active++;
    let timer: NodeJS.Timeout | undefined;
    // Answers each request at its own deadline; the earliest first, then re-armed for the rest.
    const arm = (): NodeJS.Timeout | undefined => {
      let next = Number.POSITIVE_INFINITY;
      for (const q of batch) if (!q.settled && q.deadline < next) next = q.deadline;
      if (!Number.isFinite(next)) return undefined;
      return setTimeout(
        () => {
          // Timers run on whole milliseconds: 1 ms of slack so a timer never re-arms for nothing.
          const now = performance.now() + 1;
          for (const q of batch)
            if (q.deadline <= now) settle(q, new QueueTimeoutError('deadline passed while running'));
          timer = arm();
        },
        Math.max(0, next - performance.now()),
      );
    };
    timer = arm();
    const end = (answer: () => void) => {
      if (timer) clearTimeout(timer);
      this.active--;
      answer();
      this.schedule();
    };
    this.runner.run(feeds).then(
      (out) => end(() => deliver(batch, out)),
      (err: unknown) =>
        end(() => {
          for (const q of batch) settle(q, err);
        }),
    );
  }
}

function settle(q: Queued, err: unknown, out?: Tensors): void {
  if (q.settled) return;
  q.settled = true;
  q.done(err, out);
}

/** Each request of a batch gets its rows of the outputs. */
function deliver(batch: readonly Queued[], out: Tensors): void {
  if (batch.length === 1) return settle(batch[0]!, null, out);
  let parts: Tensors[];
  try {
    parts = splitOutputs(
      out,
      batch.map((q) => q.rows),
    );
  } catch (err) {
    for (const q of batch) settle(q, err);
    return;
  }
  for (let i = 0; i < batch.length; i++) settle(batch[i]!, null, parts[i]);
}
