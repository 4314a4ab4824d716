import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type * as Inference from '../../src/serve/inference.js';
import { fixture } from './helpers.js';

// The real pool and real worker threads running the fixture classifier with onnxruntime-node.
// The worker script is the built one (the pool starts dist/serve/inference-worker.js), so this
// imports the pool from dist/ too: `npm test` builds first.
const built = pathToFileURL(path.resolve(import.meta.dirname, '../../dist/serve/inference.js')).href;
const { WorkerPool } = (await import(built)) as typeof Inference;
// As in `mlv serve` (whose load-time timing session runs here), this thread holds onnxruntime's
// native library: a thread that exits then never takes the last reference to it with it.
await import('onnxruntime-node');

const row = (): Inference.Tensors => ({
  features: { type: 'float32', dims: [1, 4], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) },
});

let pool: Inference.WorkerPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

/** Resolves when `events` gets a line matching `re`; rejects on a failure line. */
const until = (events: string[], re: RegExp) =>
  new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      const failed = events.find((e) => / failed/.test(e));
      if (failed || events.some((e) => re.test(e))) {
        clearInterval(t);
        if (failed) reject(new Error(failed));
        else resolve();
      }
    }, 5);
  });

describe('WorkerPool: a thread that exits is replaced, with its models', () => {
  it('answers again after its only thread was terminated, with its models reopened', async () => {
    const events: string[] = [];
    pool = new WorkerPool(1, (m) => events.push(m), 0);
    const runner = await pool.open(fixture('classifier-v1.onnx'), 'churn version 1');
    const before = await runner.run(row());
    expect(Object.keys(before).sort()).toEqual(['label', 'probabilities']);

    // Terminated between runs, as an uncaught error in the thread would end it. (Never inside a
    // native run: onnxruntime-node then aborts the whole process — which is why close() asks the
    // threads to exit instead of terminating them.)
    await pool.threads[0]!.terminate();
    await expect(runner.run(row())).rejects.toThrow('no inference thread is running (restarting)');
    await until(events, /restarted/);
    expect(events[0]).toMatch(/^inference thread 1 of 1 exited \(exit code 1\); restarting it in 0 ms$/);
    expect(pool.respawns).toBe(1);
    const after = await runner.run(row());
    expect([...(after.probabilities!.data as Float32Array)]).toEqual([...(before.probabilities!.data as Float32Array)]);
  });

  it('with two threads the other one answers while the first restarts', async () => {
    const events: string[] = [];
    pool = new WorkerPool(2, (m) => events.push(m), 300);
    const runner = await pool.open(fixture('classifier-v1.onnx'), 'churn version 1');
    await pool.threads[0]!.terminate();
    const out = await runner.run(row());
    expect(out.label!.dims).toEqual([1]);
    expect(pool.respawns).toBe(0);
    await until(events, /restarted/);
    expect(pool.respawns).toBe(1);
  });

  it('close() lets a run in progress finish, ends the threads and restarts nothing', async () => {
    const events: string[] = [];
    pool = new WorkerPool(1, (m) => events.push(m), 0);
    const slow = await pool.open(fixture('slow.onnx'), 'slow version 1');
    // A large batch of the slow model: still running when close() is called.
    const running = slow.run({
      x: { type: 'float32', dims: [2000, 256], data: new Float32Array(2000 * 256).fill(0.5) },
    });
    await new Promise((r) => setTimeout(r, 5));
    await pool.close();
    expect((await running).y!.dims[0]).toBe(2000);
    expect(pool.threads[0]!.threadId).toBe(-1); // ended
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([]);
  });
});
