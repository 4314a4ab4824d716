import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostTensor } from '../../src/core/smoke/tensor.js';
import { Batcher, QueueTimeoutError, type Runner, type Tensors } from '../../src/serve/inference.js';

// Unit tests of the Batcher with a stand-in Runner (the model runs are counted, not executed);
// the real runners are exercised end to end in serve.e2e.test.ts and traffic.e2e.test.ts.

const rows = (...values: number[]): Tensors => ({
  x: { type: 'float32', dims: [values.length, 1], data: Float32Array.from(values) },
});
/** The model: y = 2x, row by row. */
const double = (feeds: Tensors): Tensors => {
  const x = feeds.x!;
  return { y: { type: 'float32', dims: x.dims, data: (x.data as Float32Array).map((v) => v * 2) } };
};
const values = (t: Tensors | undefined) => [...((t!.y as HostTensor).data as Float32Array)];

interface Outcome {
  err: unknown;
  out: Tensors | undefined;
  calls: number;
}
function submit(b: Batcher, feeds: Tensors, deadline = Number.POSITIVE_INFINITY): Outcome {
  const o: Outcome = { err: undefined, out: undefined, calls: 0 };
  b.submit(feeds, deadline, (err, out) => {
    o.calls++;
    o.err = err;
    o.out = out;
  });
  return o;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Batcher on a runner of this thread (runSync)', () => {
  const syncRunner = (): Runner & { batches: number[] } => {
    const batches: number[] = [];
    return {
      mode: 'inline',
      slots: 1,
      batches,
      runSync: (feeds) => {
        batches.push(feeds.x!.dims[0]!);
        return double(feeds);
      },
      run: (feeds) => Promise.resolve(double(feeds)),
      release: () => Promise.resolve(),
    };
  };

  it('joins the requests of one event-loop turn into runs of at most maxBatch rows; each gets its rows', async () => {
    const r = syncRunner();
    const b = new Batcher(r, { maxBatch: 4, maxWaitMs: 0 });
    const a = submit(b, rows(1, 2));
    const c = submit(b, rows(3));
    const d = submit(b, rows(4, 5));
    expect(a.calls).toBe(0); // never answered from inside submit
    await vi.runAllTimersAsync();
    expect(r.batches).toEqual([3, 2]);
    expect([values(a.out), values(c.out), values(d.out)]).toEqual([[2, 4], [6], [8, 10]]);
    expect([a.calls, c.calls, d.calls]).toEqual([1, 1, 1]);
    expect(b.runs).toBe(2);
    expect(b.batchedRows).toBe(5);
  });

  it('a request queued past its deadline is answered with QueueTimeoutError and not run', async () => {
    const r = syncRunner();
    const b = new Batcher(r, { maxBatch: 8, maxWaitMs: 0 });
    const late = submit(b, rows(1), performance.now() - 1);
    const fine = submit(b, rows(2), performance.now() + 1000);
    await vi.runAllTimersAsync();
    expect(late.err).toBeInstanceOf(QueueTimeoutError);
    expect(values(fine.out)).toEqual([4]);
    expect(r.batches).toEqual([1]);
  });

  it('a failing runSync falls back to run(), whose error every request of the batch gets', async () => {
    const b = new Batcher(
      {
        mode: 'inline',
        slots: 1,
        runSync: () => {
          throw new Error('native');
        },
        run: () => Promise.reject(new Error('input "x": expected float32')),
        release: () => Promise.resolve(),
      },
      { maxBatch: 8, maxWaitMs: 0 },
    );
    const a = submit(b, rows(1));
    const c = submit(b, rows(2));
    await vi.runAllTimersAsync();
    expect((a.err as Error).message).toBe('input "x": expected float32');
    expect((c.err as Error).message).toBe('input "x": expected float32');
    expect([a.calls, c.calls]).toEqual([1, 1]);
  });

  it('maxWaitMs holds a small batch until more rows arrive or the wait ends', async () => {
    const r = syncRunner();
    const b = new Batcher(r, { maxBatch: 4, maxWaitMs: 5 });
    submit(b, rows(1));
    await vi.advanceTimersByTimeAsync(2);
    expect(r.batches).toEqual([]);
    submit(b, rows(2));
    await vi.advanceTimersByTimeAsync(4);
    expect(r.batches).toEqual([2]);
  });
});

describe('Batcher on a runner of another thread (async run, one slot)', () => {
  function asyncRunner() {
    const pending: { feeds: Tensors; resolve: (t: Tensors) => void }[] = [];
    const runner: Runner = {
      mode: 'worker',
      slots: 1,
      run: (feeds) => new Promise<Tensors>((resolve) => pending.push({ feeds, resolve })),
      release: () => Promise.resolve(),
    };
    return { runner, pending, finish: (i = 0) => pending[i]!.resolve(double(pending[i]!.feeds)) };
  }

  it('requests arriving while the slot is busy form the next batch', async () => {
    const w = asyncRunner();
    const b = new Batcher(w.runner, { maxBatch: 8, maxWaitMs: 0 });
    const a = submit(b, rows(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.pending).toHaveLength(1);
    const c = submit(b, rows(2));
    const d = submit(b, rows(3));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.pending).toHaveLength(1); // the slot is taken
    w.finish(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(values(a.out)).toEqual([2]);
    expect(w.pending).toHaveLength(2);
    expect(w.pending[1]!.feeds.x!.dims).toEqual([2, 1]);
    w.finish(1);
    await vi.advanceTimersByTimeAsync(0);
    expect([values(c.out), values(d.out)]).toEqual([[4], [6]]);
  });

  it('a run past the deadline answers QueueTimeoutError at the deadline, once; the slot frees when the run ends', async () => {
    const w = asyncRunner();
    const b = new Batcher(w.runner, { maxBatch: 1, maxWaitMs: 0 });
    const t0 = performance.now();
    const a = submit(b, rows(1), t0 + 30);
    const c = submit(b, rows(2), t0 + 1000);
    await vi.advanceTimersByTimeAsync(29);
    expect(a.calls).toBe(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(a.err).toBeInstanceOf(QueueTimeoutError);
    expect(w.pending).toHaveLength(1); // c still waits for the slot
    w.finish(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(a.calls).toBe(1); // the late result is not delivered a second time
    expect(w.pending).toHaveLength(2);
    w.finish(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(values(c.out)).toEqual([4]);
  });

  it('run() is the promise form of submit', async () => {
    const w = asyncRunner();
    const b = new Batcher(w.runner, { maxBatch: 8, maxWaitMs: 0 });
    const p = b.run(rows(5));
    await vi.advanceTimersByTimeAsync(0);
    w.finish(0);
    expect(values(await p)).toEqual([10]);
  });
});
