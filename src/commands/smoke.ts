import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Context } from '../context.js';
import {
  classAgreement,
  compareToExpected,
  diffTensors,
  type ExpectResult,
  type WorstElement,
} from '../core/smoke/compare.js';
import { countNonFinite, evaluateGates, outputProblems, type Check, type Gates } from '../core/smoke/checks.js';
import { generateInputs } from '../core/smoke/generate.js';
import { GOLDEN_FORMAT, encodeTensors, parseGoldenFile, type GoldenFile } from '../core/smoke/golden.js';
import { summarizeLatency, throughput, type LatencySummary } from '../core/smoke/latency.js';
import { bindSymbols, tensorsFromDocument, tensorsFromLines } from '../core/smoke/records.js';
import {
  FLOAT_TYPES,
  elementCount,
  formatIndex,
  formatShape,
  type Dim,
  type HostTensor,
  type TensorSpec,
} from '../core/smoke/tensor.js';
import { CheckFailedError, InputError, UsageError } from '../errors.js';
import { action } from '../run.js';
import { intArg, numberArg } from './args.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';

/**
 * `mlv smoke MODEL`: load an ONNX model in onnxruntime-node, feed it generated or given inputs,
 * check its outputs, time it, and optionally compare it with a baseline model and golden outputs.
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

export const SMOKE_DEFAULTS = { batch: 16, iterations: 100, warmup: 10, seed: 0, atol: 1e-5, rtol: 1e-5 } as const;

export interface IoEntry {
  name: string;
  type: string;
  shape: Dim[] | null;
}

export interface ComparisonOutput {
  name: string;
  max_abs_diff: number | null;
  mean_abs_diff: number | null;
  nonfinite_mismatches: number;
}

export interface SmokeReport {
  model: string;
  sha256: string;
  inputs: IoEntry[];
  outputs: IoEntry[];
  checks: Check[];
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  throughput_rows_per_s: number;
  comparison?: {
    baseline: string;
    baseline_sha256: string;
    outputs: ComparisonOutput[];
    /** Share of rows with the same predicted class; null when no output looks like a classifier's. */
    agreement: number | null;
    agreement_output: string | null;
    /** Candidate p50 latency / baseline p50 latency, timed interleaved on the same inputs. */
    latency_ratio: number;
    baseline_latency_ms: { p50: number; p95: number; p99: number; max: number };
    baseline_throughput_rows_per_s: number;
  };
  expected?: {
    file: string;
    atol: number;
    rtol: number;
    compared: number;
    mismatches: number;
    max_abs_diff: number;
    worst: WorstElement | null;
  };
  run: {
    rows: number;
    iterations: number;
    warmup: number;
    /** The seed of generated inputs; null when they came from a file. */
    seed: number | null;
    input: string;
    threads: number | null;
    onnxruntime: string;
  };
  passed: boolean;
}

interface LoadedModel {
  ref: string;
  label: string;
  file: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** Resolves MODEL (file, directory or models:/) and reads its declared inputs and outputs. */
async function loadModel(ctx: Context, ref: string): Promise<LoadedModel> {
  const { resolveModel } = await import('../onnx/registry-model.js');
  const { readOnnxInfo, toTensorSpecs } = await import('../onnx/model-info.js');
  const { sha256File } = await import('../onnx/resolve.js');
  const resolved = await resolveModel(ctx, ref);
  const info = await readOnnxInfo(resolved.file).catch((err: unknown) => {
    // Name the model as the user did, not by the cache path.
    if (err instanceof InputError && resolved.label !== path.basename(resolved.file)) {
      throw new InputError(err.message.replace(path.basename(resolved.file), resolved.label), { code: err.code });
    }
    throw err;
  });
  return {
    ref,
    label: resolved.label,
    file: resolved.file,
    sha256: resolved.sha256 ?? (await sha256File(resolved.file)),
    inputs: toTensorSpecs(info.inputs),
    outputs: toTensorSpecs(info.outputs),
  };
}

async function readText(ctx: Context, file: string, flag: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of ctx.stdin) chunks.push(Buffer.from(c as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path.resolve(ctx.cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${flag} ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`);
  }
}

/** JSON, or JSON Lines when the name says so or the text is several JSON values, one a line. */
function parseJsonOrLines(text: string, label: string, preferLines: boolean): { doc: unknown } | { lines: unknown[] } {
  const asLines = () => {
    const lines: unknown[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        lines.push(JSON.parse(line));
      } catch (err) {
        throw new InputError(`${label} line ${i + 1} is not valid JSON: ${(err as Error).message}`);
      }
    });
    if (lines.length === 0) throw new InputError(`${label} is empty`);
    return { lines };
  };
  if (preferLines) return asLines();
  try {
    return { doc: JSON.parse(text) };
  } catch (err) {
    const nonEmpty = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    if (nonEmpty.length > 1 && nonEmpty.every((l) => /^\s*\{.*\}\s*$/.test(l))) return asLines();
    if (text.trim() === '') throw new InputError(`${label} is empty`);
    throw new InputError(`${label} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readInputFile(ctx: Context, file: string, specs: TensorSpec[]): Promise<Record<string, HostTensor>> {
  const label = `--input ${file}`;
  const text = await readText(ctx, file, '--input');
  const parsed = parseJsonOrLines(text, label, /\.(jsonl|ndjson)$/i.test(file));
  return 'doc' in parsed ? tensorsFromDocument(parsed.doc, specs, label) : tensorsFromLines(parsed.lines, specs, label);
}

function rowsOf(tensors: Record<string, HostTensor>): number {
  const first = Object.values(tensors)[0];
  return first && first.dims.length > 0 ? first.dims[0]! : 1;
}

/** Pairs the candidate's outputs with the baseline's: by name, else by position when no name is shared. */
function pairOutputs(candidate: TensorSpec[], baseline: TensorSpec[]): { candidate: string; baseline: string }[] {
  const names = new Set(baseline.map((o) => o.name));
  const shared = candidate.filter((o) => names.has(o.name)).map((o) => ({ candidate: o.name, baseline: o.name }));
  if (shared.length > 0 || candidate.length !== baseline.length) return shared;
  return candidate.map((o, i) => ({ candidate: o.name, baseline: baseline[i]!.name }));
}

function checkBaselineInputs(candidate: LoadedModel, baseline: LoadedModel): void {
  for (const b of baseline.inputs) {
    const c = candidate.inputs.find((x) => x.name === b.name);
    if (!c) {
      throw new InputError(
        `baseline ${baseline.label} needs input "${b.name}", which ${candidate.label} does not have (its inputs: ${candidate.inputs.map((x) => x.name).join(', ')})`,
      );
    }
    if (c.type !== b.type) {
      throw new InputError(
        `input "${b.name}" is ${c.type} in ${candidate.label} but ${b.type} in baseline ${baseline.label}`,
      );
    }
  }
}

const round = (x: number, digits = 6) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);
const latencyOf = (s: LatencySummary) => ({
  p50: round(s.p50),
  p95: round(s.p95),
  p99: round(s.p99),
  max: round(s.max),
});

/**
 * Runs the smoke test and returns the report; never throws for a failed check (the report says
 * `passed: false`), only for bad models, inputs and usage. `promote --smoke` and
 * `compare --predictions` call this with their own models.
 */
export async function runSmoke(ctx: Context, input: SmokeInput): Promise<SmokeReport> {
  const batch = input.batch ?? SMOKE_DEFAULTS.batch;
  const iterations = input.iterations ?? SMOKE_DEFAULTS.iterations;
  const warmup = input.warmup ?? SMOKE_DEFAULTS.warmup;
  const seed = input.seed ?? SMOKE_DEFAULTS.seed;
  const atol = input.atol ?? SMOKE_DEFAULTS.atol;
  const rtol = input.rtol ?? SMOKE_DEFAULTS.rtol;
  const gates = input.gates ?? {};
  const needsBaseline = (
    [
      ['maxAbsDiff', '--max-abs-diff'],
      ['minAgreement', '--min-agreement'],
      ['maxLatencyRatio', '--max-latency-ratio'],
    ] as const
  ).find(([k]) => gates[k] !== undefined);
  if (needsBaseline && input.baseline === undefined) {
    throw new UsageError(`${needsBaseline[1]} compares with a baseline: add --baseline MODEL`);
  }
  if (iterations < 1) throw new UsageError(`--iterations must be at least 1, got ${iterations}`);

  const candidate = await loadModel(ctx, input.model);
  const baseline = input.baseline !== undefined ? await loadModel(ctx, input.baseline) : undefined;
  if (baseline) checkBaselineInputs(candidate, baseline);

  // The golden file, read first: without --input its recorded inputs are the ones to replay.
  let golden: ReturnType<typeof parseGoldenFile> | undefined;
  if (input.expectOutputs !== undefined) {
    const label = `--expect-outputs ${input.expectOutputs}`;
    const text = await readText(ctx, input.expectOutputs, '--expect-outputs');
    const parsed = parseJsonOrLines(text, label, false);
    golden = parseGoldenFile('doc' in parsed ? parsed.doc : null, label);
  }

  let tensors: Record<string, HostTensor>;
  let inputSource: string;
  let usedSeed: number | null = null;
  if (input.input !== undefined) {
    tensors = await readInputFile(ctx, input.input, candidate.inputs);
    inputSource = input.input;
  } else if (golden?.inputsDocument) {
    tensors = tensorsFromDocument(
      golden.inputsDocument,
      candidate.inputs,
      `--expect-outputs ${input.expectOutputs} inputs`,
    );
    inputSource = `${input.expectOutputs} (recorded inputs)`;
    ctx.debug(`replaying the inputs recorded in ${input.expectOutputs}`);
  } else {
    tensors = generateInputs(candidate.inputs, { seed, batch, dims: input.dims });
    inputSource = 'generated';
    usedSeed = seed;
  }
  const rows = rowsOf(tensors);
  if (usedSeed === null && (input.batch !== undefined || input.dims !== undefined || input.seed !== undefined)) {
    ctx.warn(`--batch, --dim and --seed apply to generated inputs; using the ${rows} rows of ${inputSource}`);
  }
  const symbols = bindSymbols(tensors, candidate.inputs);

  const { OnnxSession, ortVersion } = await import('../onnx/runtime.js');
  const spinner = ctx.spinner(`loading ${candidate.label}`);
  const sessions: { release(): Promise<void> }[] = [];
  try {
    const cand = await OnnxSession.open(candidate.file, candidate.label, { threads: input.threads });
    sessions.push(cand);
    const base = baseline
      ? await OnnxSession.open(baseline.file, baseline.label, { threads: input.threads })
      : undefined;
    if (base) sessions.push(base);

    const candFeeds = cand.feeds(tensors);
    spinner.update(`running ${candidate.label}`);
    const outputs = await cand.run(candFeeds);
    const problems = outputProblems(candidate.outputs, outputs, symbols);
    if (problems.length > 0) {
      throw new InputError(
        `${candidate.label}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
        {
          code: 'MLV_ONNX_INCONSISTENT',
        },
      );
    }

    const checks: Check[] = [
      { name: 'loads', passed: true, detail: `onnxruntime ${ortVersion()}` },
      {
        name: 'outputs',
        passed: true,
        detail: `${candidate.outputs.length} output${candidate.outputs.length === 1 ? '' : 's'} with the declared types and shapes`,
      },
    ];

    const nonfinite = Object.entries(outputs)
      .map(([name, t]) => ({ name, t, c: countNonFinite(t) }))
      .filter((x) => x.c.first >= 0);
    if (nonfinite.length === 0) {
      checks.push({ name: 'finite', passed: true, detail: 'no NaN or Inf in the outputs' });
    } else {
      const parts = nonfinite.map(({ name, t, c }) => {
        const kinds = [c.nan && `${c.nan} NaN`, c.posInf && `${c.posInf} +Inf`, c.negInf && `${c.negInf} -Inf`]
          .filter(Boolean)
          .join(', ');
        return `${name}: ${kinds} of ${elementCount(t.dims)} (first at ${formatIndex(t.dims, c.first)})`;
      });
      checks.push({
        name: 'finite',
        passed: input.allowNonfinite === true,
        detail: `${parts.join('; ')}${input.allowNonfinite ? ' — allowed by --allow-nonfinite' : ''}`,
      });
    }

    let baseOutputs: Record<string, HostTensor> | undefined;
    let baseFeeds: ReturnType<typeof cand.feeds> | undefined;
    if (base && baseline) {
      const feedsForBase: Record<string, HostTensor> = {};
      for (const s of baseline.inputs) feedsForBase[s.name] = tensors[s.name]!;
      baseFeeds = base.feeds(feedsForBase);
      spinner.update(`running baseline ${baseline.label}`);
      baseOutputs = await base.run(baseFeeds);
    }

    // Warm-up, then timed runs; with a baseline, interleaved so drift hits both alike.
    spinner.update(`timing ${candidate.label}: ${iterations} runs of ${rows} rows`);
    for (let i = 0; i < warmup; i++) {
      await cand.time(candFeeds);
      if (base && baseFeeds) await base.time(baseFeeds);
    }
    const candMs: number[] = [];
    const baseMs: number[] = [];
    for (let i = 0; i < iterations; i++) {
      if (ctx.signal.aborted) break;
      candMs.push(await cand.time(candFeeds));
      if (base && baseFeeds) baseMs.push(await base.time(baseFeeds));
    }
    spinner.stop();
    const latency = summarizeLatency(candMs);
    const rowsPerS = throughput(rows, candMs);

    let comparison: SmokeReport['comparison'];
    if (baseline && baseOutputs) {
      const pairs = pairOutputs(candidate.outputs, baseline.outputs);
      if (pairs.length === 0) {
        throw new InputError(
          `${candidate.label} and baseline ${baseline.label} share no output to compare (${candidate.outputs.map((o) => o.name).join(', ')} vs ${baseline.outputs.map((o) => o.name).join(', ')})`,
        );
      }
      const diffs = pairs.map((p) => diffTensors(p.candidate, outputs[p.candidate]!, baseOutputs![p.baseline]!));
      const agreement = classAgreement(outputs, baseOutputs, pairs);
      const baseLatency = summarizeLatency(baseMs);
      comparison = {
        baseline: baseline.ref,
        baseline_sha256: baseline.sha256,
        outputs: diffs.map((d) => ({
          name: d.name,
          max_abs_diff: d.max_abs_diff === null ? null : round(d.max_abs_diff),
          mean_abs_diff: d.mean_abs_diff === null ? null : round(d.mean_abs_diff),
          nonfinite_mismatches: d.nonfinite_mismatches,
        })),
        agreement: agreement ? round(agreement.rate) : null,
        agreement_output: agreement?.output ?? null,
        latency_ratio: round(latency.p50 / baseLatency.p50, 4),
        baseline_latency_ms: latencyOf(baseLatency),
        baseline_throughput_rows_per_s: round(throughput(rows, baseMs), 4),
      };
    }

    let expected: SmokeReport['expected'];
    if (golden && input.expectOutputs !== undefined) {
      const r: ExpectResult = compareToExpected(outputs, golden.outputs, { atol, rtol });
      expected = {
        file: input.expectOutputs,
        atol,
        rtol,
        compared: r.compared,
        mismatches: r.mismatches,
        max_abs_diff: round(r.max_abs_diff),
        worst: r.worst,
      };
      checks.push({ name: 'expected-outputs', passed: r.passed, detail: describeExpect(r, { atol, rtol }) });
    }

    // Class labels differ by whole classes; --max-abs-diff is about scores, so floats only when there are any.
    const floatDiffs = comparison?.outputs.filter((o) => FLOAT_TYPES.has(outputs[o.name]!.type));
    const gated = floatDiffs && floatDiffs.length > 0 ? floatDiffs : comparison?.outputs;
    const maxAbs = gated?.reduce<number | undefined>((m, o) => {
      const v = o.nonfinite_mismatches > 0 ? Number.POSITIVE_INFINITY : o.max_abs_diff;
      return v === null ? m : Math.max(m ?? 0, v);
    }, undefined);
    checks.push(
      ...evaluateGates(gates, {
        p99Ms: latency.p99,
        throughput: rowsPerS,
        maxAbsDiff: maxAbs,
        agreement: comparison?.agreement,
        latencyRatio: comparison?.latency_ratio,
      }),
    );

    const report: SmokeReport = {
      model: candidate.ref,
      sha256: candidate.sha256,
      inputs: candidate.inputs.map(io),
      outputs: candidate.outputs.map(io),
      checks,
      latency_ms: latencyOf(latency),
      throughput_rows_per_s: round(rowsPerS, 4),
      ...(comparison ? { comparison } : {}),
      ...(expected ? { expected } : {}),
      run: {
        rows,
        iterations: candMs.length,
        warmup,
        seed: usedSeed,
        input: inputSource,
        threads: input.threads ?? null,
        onnxruntime: ortVersion(),
      },
      passed: checks.every((c) => c.passed),
    };

    if (input.saveOutputs !== undefined) {
      const file: GoldenFile = {
        format: GOLDEN_FORMAT,
        model: candidate.ref,
        sha256: candidate.sha256,
        inputs: encodeTensors(tensors),
        outputs: encodeTensors(outputs),
      };
      const target = path.resolve(ctx.cwd, input.saveOutputs);
      try {
        await writeFile(target, JSON.stringify(file) + '\n');
      } catch (err) {
        throw new InputError(
          `--save-outputs ${input.saveOutputs} cannot be written (${(err as NodeJS.ErrnoException).code})`,
        );
      }
      ctx.info(`${ctx.errStyle.pass} saved inputs and outputs to ${input.saveOutputs}`);
    }
    return report;
  } finally {
    spinner.stop();
    for (const s of sessions) await s.release();
  }
}

function io(s: TensorSpec): IoEntry {
  return { name: s.name, type: s.type ?? s.typeText, shape: s.shape };
}

function describeExpect(r: ExpectResult, tol: { atol: number; rtol: number }): string {
  if (r.problems.length > 0) return r.problems.join('; ');
  if (r.passed)
    return `${r.compared} values within atol ${tol.atol} + rtol ${tol.rtol}·|expected| (max abs diff ${fmtNum(r.max_abs_diff)})`;
  const w = r.worst!;
  const diff = w.abs_diff === null ? '' : `, |diff| ${fmtNum(w.abs_diff)} > ${fmtNum(w.allowed ?? 0)}`;
  const value = (v: number | string | boolean) =>
    typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(8))) : String(v);
  return `${r.mismatches} of ${r.compared} values differ; worst ${w.output}${w.index}: got ${value(w.actual)}, expected ${value(w.expected)}${diff}`;
}

function fmtNum(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? Number(x.toPrecision(4)).toString() : x.toExponential(2);
}

function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1);
}

/** The human report: I/O, checks, latency, comparison; tab-separated when piped. */
export function renderSmoke(r: SmokeReport, style: Style): string {
  const parts: string[] = [];
  parts.push(`${style.bold('model')} ${r.model}  ${style.dim(`sha256 ${r.sha256.slice(0, 12)}`)}`);
  const source = r.run.seed === null ? `rows from ${r.run.input}` : `generated rows (seed ${r.run.seed})`;
  parts.push(
    style.dim(
      `${r.run.rows} ${source} · ${r.run.iterations} runs after ${r.run.warmup} warm-up · onnxruntime ${r.run.onnxruntime}${r.run.threads ? ` · ${r.run.threads} threads` : ''}`,
    ),
  );
  parts.push(
    renderTable(
      style,
      ['io', 'name', 'type', 'shape'],
      [
        ...r.inputs.map((x) => ['input', x.name, x.type, formatShape(x.shape)]),
        ...r.outputs.map((x) => ['output', x.name, x.type, formatShape(x.shape)]),
      ],
    ),
  );
  parts.push(
    renderTable(
      style,
      ['check', 'ok', 'detail'],
      r.checks.map((c) => [c.name, c.passed ? style.pass : style.fail, c.detail]),
    ),
  );
  const cmp = r.comparison;
  const lat = (l: SmokeReport['latency_ms']) => [fmtMs(l.p50), fmtMs(l.p95), fmtMs(l.p99), fmtMs(l.max)];
  const latencyRows: (string | number)[][] = [['candidate', ...lat(r.latency_ms), Math.round(r.throughput_rows_per_s)]];
  if (cmp) {
    const b = cmp.baseline_latency_ms;
    latencyRows.push(['baseline', ...lat(b), Math.round(cmp.baseline_throughput_rows_per_s)]);
  }
  parts.push(renderTable(style, ['latency ms', 'p50', 'p95', 'p99', 'max', 'rows/s'], latencyRows));
  if (cmp) {
    const notes = cmp.outputs.some((o) => o.nonfinite_mismatches > 0);
    const rows: (string | number)[][] = cmp.outputs.map((o) => [
      o.name,
      fmtNum(o.max_abs_diff),
      fmtNum(o.mean_abs_diff),
      ...(notes ? [o.nonfinite_mismatches > 0 ? `${o.nonfinite_mismatches} NaN/Inf mismatches` : ''] : []),
    ]);
    parts.push(
      `${style.bold('vs baseline')} ${cmp.baseline}  ${style.dim(`sha256 ${cmp.baseline_sha256.slice(0, 12)}`)}`,
    );
    parts.push(renderTable(style, ['output', 'max abs diff', 'mean abs diff', ...(notes ? ['note'] : [])], rows));
    const agreement =
      cmp.agreement === null
        ? 'n/a (no classifier-like output)'
        : `${(cmp.agreement * 100).toFixed(2)}% (${cmp.agreement_output})`;
    parts.push(`agreement ${agreement} · latency ratio ${cmp.latency_ratio.toFixed(2)}× (p50)`);
  }
  const failed = r.checks.filter((c) => !c.passed).map((c) => c.name);
  parts.push(
    r.passed
      ? style.green(`${style.pass} smoke test passed`)
      : style.red(`${style.fail} smoke test failed: ${failed.join(', ')}`),
  );
  return parts.join('\n\n');
}

// ---- registration -------------------------------------------------------------------------

function dimArg(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const m = /^([^=\s]+)=(\d+)$/.exec(value.trim());
  if (!m || Number(m[2]) < 1) throw new InvalidArgumentError(`--dim must be NAME=SIZE with SIZE ≥ 1, got "${value}"`);
  return { ...previous, [m[1]!]: Number(m[2]) };
}

interface SmokeFlags {
  input?: string;
  batch?: number;
  iterations?: number;
  warmup?: number;
  seed?: number;
  threads?: number;
  dim?: Record<string, number>;
  baseline?: string;
  maxP99Ms?: number;
  minThroughput?: number;
  maxAbsDiff?: number;
  minAgreement?: number;
  maxLatencyRatio?: number;
  allowNonfinite?: boolean;
  saveOutputs?: string;
  expectOutputs?: string;
  atol?: number;
  rtol?: number;
}

export function registerSmoke(program: Command): void {
  const nonNeg = (flag: string) => numberArg(flag, (n) => n >= 0, 'a number ≥ 0');
  program
    .command('smoke')
    .description(
      'load an ONNX model, run it on generated or given inputs, check outputs, time it, compare with a baseline',
    )
    .argument('<model>', 'an .onnx file, an MLflow model directory, or models:/NAME/VERSION|v1.2.0|@alias')
    .option(
      '--input <file>',
      'inputs as JSON or JSON Lines ({"inputs": {...}}, dataframe_split, dataframe_records, instances; - for stdin)',
    )
    .option('--batch <n>', `rows of generated inputs (default ${SMOKE_DEFAULTS.batch})`, intArg('--batch', 1))
    .option('--iterations <n>', `timed runs (default ${SMOKE_DEFAULTS.iterations})`, intArg('--iterations', 1))
    .option('--warmup <n>', `untimed runs first (default ${SMOKE_DEFAULTS.warmup})`, intArg('--warmup', 0))
    .option('--seed <n>', `seed of generated inputs (default ${SMOKE_DEFAULTS.seed})`, intArg('--seed', 0))
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)', intArg('--threads', 1))
    .option('--dim <name=size>', 'size of a symbolic dimension for generated inputs (repeatable)', dimArg)
    .option('--baseline <model>', 'compare with this model on the same inputs (e.g. models:/NAME/@production)')
    .option('--max-p99-ms <ms>', 'gate: p99 latency at most this', nonNeg('--max-p99-ms'))
    .option('--min-throughput <rows>', 'gate: rows per second at least this', nonNeg('--min-throughput'))
    .option(
      '--max-abs-diff <x>',
      'gate: largest |candidate − baseline| over the float outputs at most this',
      nonNeg('--max-abs-diff'),
    )
    .option(
      '--min-agreement <x>',
      'gate: share of rows with the same predicted class, in [0, 1]',
      numberArg('--min-agreement', (n) => n >= 0 && n <= 1, 'a number in [0, 1]'),
    )
    .option(
      '--max-latency-ratio <x>',
      'gate: candidate/baseline p50 latency at most this',
      numberArg('--max-latency-ratio', (n) => n > 0, 'a number > 0'),
    )
    .option('--allow-nonfinite', 'NaN or Inf in the outputs does not fail the test')
    .option('--save-outputs <file>', 'write the inputs used and the outputs to FILE (golden file)')
    .option(
      '--expect-outputs <file>',
      'compare the outputs with a golden file (replays its inputs unless --input is given)',
    )
    .addOption(
      new Option('--atol <x>', `absolute tolerance for --expect-outputs (default ${SMOKE_DEFAULTS.atol})`).argParser(
        nonNeg('--atol'),
      ),
    )
    .addOption(
      new Option('--rtol <x>', `relative tolerance for --expect-outputs (default ${SMOKE_DEFAULTS.rtol})`).argParser(
        nonNeg('--rtol'),
      ),
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 all checks passed · 1 a check or gate failed (the report is printed first) · 2 bad model, input or flag
Examples:
  mlv smoke model.onnx --batch 32 --max-p99-ms 20
  mlv smoke models:/churn/@candidate --baseline models:/churn/@production --min-agreement 0.98
  mlv smoke model.onnx --save-outputs golden.json   then   mlv smoke model.onnx --expect-outputs golden.json`,
    )
    .action(
      action(async (ctx, model: string, flags: SmokeFlags) => {
        if ((flags.atol !== undefined || flags.rtol !== undefined) && flags.expectOutputs === undefined) {
          throw new UsageError('--atol and --rtol apply to --expect-outputs, which is missing');
        }
        const report = await runSmoke(ctx, {
          model,
          input: flags.input,
          batch: flags.batch,
          iterations: flags.iterations,
          warmup: flags.warmup,
          seed: flags.seed,
          threads: flags.threads,
          dims: flags.dim,
          baseline: flags.baseline,
          gates: {
            maxP99Ms: flags.maxP99Ms,
            minThroughput: flags.minThroughput,
            maxAbsDiff: flags.maxAbsDiff,
            minAgreement: flags.minAgreement,
            maxLatencyRatio: flags.maxLatencyRatio,
          },
          allowNonfinite: flags.allowNonfinite,
          saveOutputs: flags.saveOutputs,
          expectOutputs: flags.expectOutputs,
          atol: flags.atol,
          rtol: flags.rtol,
        });
        ctx.output(report, renderSmoke);
        if (!report.passed) {
          const failed = report.checks.filter((c) => !c.passed);
          throw new CheckFailedError(
            `smoke test of ${model} failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`,
          );
        }
      }),
    );
}
