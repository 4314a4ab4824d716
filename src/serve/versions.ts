import { performance } from 'node:perf_hooks';
import { batchDimension } from '../core/serve/batch.js';
import { countNonFinite, outputProblems } from '../core/smoke/checks.js';
import { generateInputs } from '../core/smoke/generate.js';
import { bindSymbols } from '../core/smoke/records.js';
import type { TensorSpec } from '../core/smoke/tensor.js';
import type { ServeHost } from './host.js';
import { InputError } from '../errors.js';
import { Batcher, openInline, type Runner, type WorkerPool } from './inference.js';
import { fetchVersion } from './model-source.js';

/**
 * A model version loaded for serving: its sessions (inline or in the worker pool), a Batcher in
 * front, the declared signature requests are validated against, and a count of the requests
 * running on it, so it is released only once drained.
 */
export class LoadedVersion {
  inFlight = 0;
  /** When it stopped being part of the route (ms since epoch); undefined while serving. */
  retiredAt: number | undefined;
  released = false;

  constructor(
    readonly version: string,
    readonly sha256: string,
    readonly inputs: TensorSpec[],
    readonly outputs: TensorSpec[],
    readonly batcher: Batcher,
    /** Fastest batch-1 run measured at load (ms). */
    readonly runMs: number,
    readonly batchDim: string | null,
  ) {}

  get mode(): Runner['mode'] {
    return this.batcher.runner.mode;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.batcher.runner.release();
  }
}

export interface LoadOptions {
  /** 'auto': inline when a run is cheaper than a thread hop, else the pool; 0: inline; N: the pool. */
  threads: 'auto' | number;
  pool: () => WorkerPool;
  maxBatch: number;
  maxWaitMs: number;
}

/** Below this batch-1 run time a model runs on the HTTP thread (see README "Inference"). */
export const INLINE_BELOW_MS = 0.25;

/** Downloads (cached, sha256-verified), opens, warms up and smoke-checks one version. */
export async function loadVersion(
  ctx: ServeHost,
  model: string,
  version: string,
  opts: LoadOptions,
): Promise<LoadedVersion> {
  const fetched = await fetchVersion(ctx, model, version);
  const { readOnnxInfo, toTensorSpecs } = await import('../onnx/model-info.js');
  const info = await readOnnxInfo(fetched.onnxPath);
  const inputs = toTensorSpecs(info.inputs);
  const outputs = toTensorSpecs(info.outputs);
  const label = `${model} version ${fetched.version}`;
  const bad = [...inputs, ...outputs].find((s) => s.type === null);
  if (bad) throw new InputError(`${label}: "${bad.name}" is ${bad.typeText}; mlv serve serves tensor models only`);

  // Warm-up and timing on a plain session; the runner that serves is opened once the place is chosen.
  const inline = await openInline(fetched.onnxPath, label, false);
  let runner: Runner = inline;
  try {
    const warm = generateInputs(inputs, { seed: 0, batch: 2 });
    const symbols = bindSymbols(warm, inputs);
    const out = await inline.run(warm);
    const problems = outputProblems(outputs, out, symbols);
    if (problems.length > 0)
      throw new InputError(`${label} failed its warm-up: ${problems[0]}`, { code: 'MLV_SERVE_WARMUP' });
    for (const [name, t] of Object.entries(out)) {
      const c = countNonFinite(t);
      if (c.first >= 0) {
        throw new InputError(
          `${label} failed its warm-up: output "${name}" has ${c.nan} NaN, ${c.posInf + c.negInf} infinite values`,
          { code: 'MLV_SERVE_WARMUP' },
        );
      }
    }
    // The batch-1 run time decides where the model runs: the fastest of 30 runs, since a busy
    // machine only ever adds to a run's time.
    const one = generateInputs(inputs, { seed: 1, batch: 1 });
    let runMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      await inline.run(one);
      runMs = Math.min(runMs, performance.now() - t0);
    }
    const useWorkers = opts.threads === 'auto' ? runMs >= INLINE_BELOW_MS : opts.threads > 0;
    // The timing session goes first: two copies of the model are never held at once.
    await inline.release();
    runner = useWorkers ? await opts.pool().open(fetched.onnxPath, label) : await openInline(fetched.onnxPath, label);
    await runner.run(warm);
    const batchDim = batchDimension(inputs, outputs);
    const batcher = new Batcher(runner, {
      maxBatch: batchDim === null ? 1 : opts.maxBatch,
      maxWaitMs: opts.maxWaitMs,
    });
    return new LoadedVersion(fetched.version, fetched.sha256, inputs, outputs, batcher, runMs, batchDim);
  } catch (err) {
    if (runner !== inline) await runner.release();
    await inline.release();
    throw err;
  }
}
