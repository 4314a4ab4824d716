import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from '../context.js';
import { outputProblems, type Gates } from '../core/smoke/checks.js';
import { GOLDEN_FORMAT, encodeTensors, type GoldenFile } from '../core/smoke/golden.js';
import { bindSymbols } from '../core/smoke/records.js';
import {
  SMOKE_DEFAULTS,
  assembleReport,
  baselineInputProblem,
  rowsOf,
  type Measured,
  type SmokeReport,
} from '../core/smoke/report.js';
import type { HostTensor } from '../core/smoke/tensor.js';
import { InputError, UsageError } from '../errors.js';
import type { OnnxSession } from '../onnx/runtime.js';
import { chooseInputs, loadModel, readGoldenFile, type LoadedModel } from './inputs.js';

/**
 * The smoke test as `mlv smoke`, `compare --predictions` and `promote --smoke` run it: load the
 * model (and a baseline) in onnxruntime-node, feed it generated or given inputs, check its
 * outputs, time it, and compare with the baseline and golden outputs.
 */

export interface SmokeInput {
  /** A local .onnx file, an MLflow model directory, or models:/NAME/REF. */
  model: string;
  /** JSON / JSON Lines file of inputs (`-` = stdin); generated from `seed` when absent. */
  input?: string | undefined;
  batch?: number | undefined;
  iterations?: number | undefined;
  warmup?: number | undefined;
  seed?: number | undefined;
  threads?: number | undefined;
  /** Sizes of named symbolic dimensions for generated inputs (`--dim seq=16`). */
  dims?: Record<string, number> | undefined;
  baseline?: string | undefined;
  gates?: Gates | undefined;
  allowNonfinite?: boolean | undefined;
  saveOutputs?: string | undefined;
  expectOutputs?: string | undefined;
  atol?: number | undefined;
  rtol?: number | undefined;
}

const BASELINE_GATES = [
  ['maxAbsDiff', '--max-abs-diff'],
  ['minAgreement', '--min-agreement'],
  ['maxLatencyRatio', '--max-latency-ratio'],
] as const;

/**
 * Runs the smoke test and returns the report; never throws for a failed check (the report says
 * `passed: false`), only for bad models, inputs and usage.
 */
export async function runSmoke(ctx: Context, input: SmokeInput): Promise<SmokeReport> {
  const iterations = input.iterations ?? SMOKE_DEFAULTS.iterations;
  const warmup = input.warmup ?? SMOKE_DEFAULTS.warmup;
  const tol = { atol: input.atol ?? SMOKE_DEFAULTS.atol, rtol: input.rtol ?? SMOKE_DEFAULTS.rtol };
  const gates = input.gates ?? {};
  const needsBaseline = BASELINE_GATES.find(([k]) => gates[k] !== undefined);
  if (needsBaseline && input.baseline === undefined) {
    throw new UsageError(`${needsBaseline[1]} compares with a baseline: add --baseline MODEL`);
  }
  if (iterations < 1) throw new UsageError(`--iterations must be at least 1, got ${iterations}`);

  const candidate = await loadModel(ctx, input.model);
  const baseline = input.baseline !== undefined ? await loadModel(ctx, input.baseline) : undefined;
  if (baseline) {
    const problem = baselineInputProblem(candidate, baseline);
    if (problem) throw new InputError(problem);
  }
  // The golden file, read first: without --input its recorded inputs are the ones to replay.
  const golden = input.expectOutputs !== undefined ? await readGoldenFile(ctx, input.expectOutputs) : undefined;
  const batch = await chooseInputs(ctx, candidate.inputs, {
    input: input.input,
    golden,
    goldenFile: input.expectOutputs,
    seed: input.seed ?? SMOKE_DEFAULTS.seed,
    batch: input.batch ?? SMOKE_DEFAULTS.batch,
    dims: input.dims,
  });
  const rows = rowsOf(batch.tensors);
  if (batch.seed === null && (input.batch !== undefined || input.dims !== undefined || input.seed !== undefined)) {
    ctx.warn(`--batch, --dim and --seed apply to generated inputs; using the ${rows} rows of ${batch.source}`);
  }

  const { ortVersion } = await import('../onnx/runtime.js');
  const measured = await measure(ctx, {
    candidate,
    baseline,
    tensors: batch.tensors,
    iterations,
    warmup,
    rows,
    threads: input.threads,
  });
  const report = assembleReport({
    candidate,
    baseline,
    measured,
    rows,
    warmup,
    inputs: batch,
    golden:
      golden && input.expectOutputs !== undefined ? { file: input.expectOutputs, outputs: golden.outputs } : undefined,
    tol,
    gates,
    allowNonfinite: input.allowNonfinite === true,
    threads: input.threads ?? null,
    onnxruntime: ortVersion(),
  });
  if (input.saveOutputs !== undefined)
    await saveGolden(ctx, input.saveOutputs, candidate, batch.tensors, measured.outputs);
  return report;
}

/**
 * Opens the sessions, runs the candidate once (its outputs must conform to its declaration) and
 * the baseline once, then warm-up and timed runs — interleaved with a baseline, so drift hits both
 * alike. Ctrl-C ends the timed runs early. Sessions are always released.
 */
async function measure(
  ctx: Context,
  m: {
    candidate: LoadedModel;
    baseline: LoadedModel | undefined;
    tensors: Record<string, HostTensor>;
    iterations: number;
    warmup: number;
    rows: number;
    threads: number | undefined;
  },
): Promise<Measured> {
  const { OnnxSession } = await import('../onnx/runtime.js');
  const { candidate, baseline } = m;
  const spinner = ctx.spinner(`loading ${candidate.label}`);
  const sessions: OnnxSession[] = [];
  try {
    const cand = await OnnxSession.open(candidate.file, candidate.label, { threads: m.threads });
    sessions.push(cand);
    const base = baseline ? await OnnxSession.open(baseline.file, baseline.label, { threads: m.threads }) : undefined;
    if (base) sessions.push(base);

    const candFeeds = cand.feeds(m.tensors);
    spinner.update(`running ${candidate.label}`);
    const outputs = await cand.run(candFeeds);
    const problems = outputProblems(candidate.outputs, outputs, bindSymbols(m.tensors, candidate.inputs));
    if (problems.length > 0) {
      throw new InputError(
        `${candidate.label}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
        { code: 'MLV_ONNX_INCONSISTENT' },
      );
    }
    let baseOutputs: Record<string, HostTensor> | undefined;
    let baseFeeds: ReturnType<typeof cand.feeds> | undefined;
    if (base && baseline) {
      const feedsForBase: Record<string, HostTensor> = {};
      for (const s of baseline.inputs) feedsForBase[s.name] = m.tensors[s.name]!;
      baseFeeds = base.feeds(feedsForBase);
      spinner.update(`running baseline ${baseline.label}`);
      baseOutputs = await base.run(baseFeeds);
    }

    spinner.update(`timing ${candidate.label}: ${m.iterations} runs of ${m.rows} rows`);
    for (let i = 0; i < m.warmup; i++) {
      await cand.time(candFeeds);
      if (base && baseFeeds) await base.time(baseFeeds);
    }
    const candidateMs: number[] = [];
    const baselineMs: number[] = [];
    for (let i = 0; i < m.iterations; i++) {
      if (ctx.signal.aborted) break;
      candidateMs.push(await cand.time(candFeeds));
      if (base && baseFeeds) baselineMs.push(await base.time(baseFeeds));
    }
    return { outputs, baseOutputs, candidateMs, baselineMs };
  } finally {
    spinner.stop();
    for (const s of sessions) await s.release();
  }
}

/** --save-outputs: the inputs used and the outputs, as a golden file for --expect-outputs. */
async function saveGolden(
  ctx: Context,
  target: string,
  candidate: LoadedModel,
  tensors: Record<string, HostTensor>,
  outputs: Record<string, HostTensor>,
): Promise<void> {
  const file: GoldenFile = {
    format: GOLDEN_FORMAT,
    model: candidate.ref,
    sha256: candidate.sha256,
    inputs: encodeTensors(tensors),
    outputs: encodeTensors(outputs),
  };
  try {
    await writeFile(path.resolve(ctx.cwd, target), JSON.stringify(file) + '\n');
  } catch (err) {
    throw new InputError(`--save-outputs ${target} cannot be written (${(err as NodeJS.ErrnoException).code})`);
  }
  ctx.info(`${ctx.errStyle.pass} saved inputs and outputs to ${target}`);
}
