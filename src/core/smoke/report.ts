import { formatNumber, type NumberFormat } from '../format.js';
import { InputError } from '../../errors.js';
import { countNonFinite, evaluateGates, type Check, type Gates } from './checks.js';
import { classAgreement, compareToExpected, diffTensors, type ExpectResult, type WorstElement } from './compare.js';
import { summarizeLatency, throughput, type LatencySummary } from './latency.js';
import { FLOAT_TYPES, elementCount, formatIndex, type Dim, type HostTensor, type TensorSpec } from './tensor.js';

/**
 * The smoke report and the pure steps that build it from what the runner measured
 * (src/smoke/run.ts loads the models, runs and times them; this decides what the numbers say).
 */

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

export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SmokeComparison {
  baseline: string;
  baseline_sha256: string;
  outputs: ComparisonOutput[];
  /** Share of rows with the same predicted class; null when no output looks like a classifier's. */
  agreement: number | null;
  agreement_output: string | null;
  /** Candidate p50 latency / baseline p50 latency, timed interleaved on the same inputs. */
  latency_ratio: number;
  baseline_latency_ms: LatencyMs;
  baseline_throughput_rows_per_s: number;
}

export interface SmokeExpected {
  file: string;
  atol: number;
  rtol: number;
  compared: number;
  mismatches: number;
  max_abs_diff: number;
  worst: WorstElement | null;
}

export interface SmokeReport {
  model: string;
  sha256: string;
  inputs: IoEntry[];
  outputs: IoEntry[];
  checks: Check[];
  latency_ms: LatencyMs;
  throughput_rows_per_s: number;
  comparison?: SmokeComparison;
  expected?: SmokeExpected;
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

/** A model as the report needs it: how it is named, its digest and declared inputs/outputs. */
export interface ModelFacts {
  ref: string;
  label: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export const round = (x: number, digits = 6): number => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

export const latencyOf = (s: LatencySummary): LatencyMs => ({
  p50: round(s.p50),
  p95: round(s.p95),
  p99: round(s.p99),
  max: round(s.max),
});

export function ioEntry(s: TensorSpec): IoEntry {
  return { name: s.name, type: s.type ?? s.typeText, shape: s.shape };
}

/** Rows of a batch: the first dimension of the first input (1 for a scalar input). */
export function rowsOf(tensors: Record<string, HostTensor>): number {
  const first = Object.values(tensors)[0];
  return first && first.dims.length > 0 ? first.dims[0]! : 1;
}

/** Pairs the candidate's outputs with the baseline's: by name, else by position when no name is shared. */
export function pairOutputs(
  candidate: readonly TensorSpec[],
  baseline: readonly TensorSpec[],
): { candidate: string; baseline: string }[] {
  const names = new Set(baseline.map((o) => o.name));
  const shared = candidate.filter((o) => names.has(o.name)).map((o) => ({ candidate: o.name, baseline: o.name }));
  if (shared.length > 0 || candidate.length !== baseline.length) return shared;
  return candidate.map((o, i) => ({ candidate: o.name, baseline: baseline[i]!.name }));
}

/** Why the baseline cannot be fed the candidate's inputs, or undefined when it can. */
export function baselineInputProblem(candidate: ModelFacts, baseline: ModelFacts): string | undefined {
  for (const b of baseline.inputs) {
    const c = candidate.inputs.find((x) => x.name === b.name);
    if (!c) {
      return `baseline ${baseline.label} needs input "${b.name}", which ${candidate.label} does not have (its inputs: ${candidate.inputs.map((x) => x.name).join(', ')})`;
    }
    if (c.type !== b.type) {
      return `input "${b.name}" is ${c.type} in ${candidate.label} but ${b.type} in baseline ${baseline.label}`;
    }
  }
  return undefined;
}

/** The `loads` and `outputs` checks: both pass once the candidate ran with conforming outputs. */
export function loadChecks(candidate: ModelFacts, onnxruntime: string): Check[] {
  const n = candidate.outputs.length;
  return [
    { name: 'loads', passed: true, detail: `onnxruntime ${onnxruntime}` },
    { name: 'outputs', passed: true, detail: `${n} output${n === 1 ? '' : 's'} with the declared types and shapes` },
  ];
}

/** The `finite` check: NaN or ±Inf in any output fails it unless allowed. */
export function finiteCheck(outputs: Readonly<Record<string, HostTensor>>, allowNonfinite: boolean): Check {
  const nonfinite = Object.entries(outputs)
    .map(([name, t]) => ({ name, t, c: countNonFinite(t) }))
    .filter((x) => x.c.first >= 0);
  if (nonfinite.length === 0) return { name: 'finite', passed: true, detail: 'no NaN or Inf in the outputs' };
  const parts = nonfinite.map(({ name, t, c }) => {
    const kinds = [c.nan && `${c.nan} NaN`, c.posInf && `${c.posInf} +Inf`, c.negInf && `${c.negInf} -Inf`]
      .filter(Boolean)
      .join(', ');
    return `${name}: ${kinds} of ${elementCount(t.dims)} (first at ${formatIndex(t.dims, c.first)})`;
  });
  return {
    name: 'finite',
    passed: allowNonfinite,
    detail: `${parts.join('; ')}${allowNonfinite ? ' — allowed by --allow-nonfinite' : ''}`,
  };
}

/**
 * The baseline section: output differences, class agreement and the latency ratio of the
 * interleaved timings. Undefined pairs (no shared output) are the caller's input error.
 */
export function comparisonOf(
  m: { candidate: ModelFacts; baseline: ModelFacts; rows: number },
  pairs: readonly { candidate: string; baseline: string }[],
  outputs: Readonly<Record<string, HostTensor>>,
  baseOutputs: Readonly<Record<string, HostTensor>>,
  timings: { candidate: LatencySummary; baselineMs: readonly number[] },
): SmokeComparison {
  const diffs = pairs.map((p) => diffTensors(p.candidate, outputs[p.candidate]!, baseOutputs[p.baseline]!));
  const agreement = classAgreement(outputs, baseOutputs, pairs);
  const baseLatency = summarizeLatency(timings.baselineMs);
  return {
    baseline: m.baseline.ref,
    baseline_sha256: m.baseline.sha256,
    outputs: diffs.map((d) => ({
      name: d.name,
      max_abs_diff: d.max_abs_diff === null ? null : round(d.max_abs_diff),
      mean_abs_diff: d.mean_abs_diff === null ? null : round(d.mean_abs_diff),
      nonfinite_mismatches: d.nonfinite_mismatches,
    })),
    agreement: agreement ? round(agreement.rate) : null,
    agreement_output: agreement?.output ?? null,
    latency_ratio: round(timings.candidate.p50 / baseLatency.p50, 4),
    baseline_latency_ms: latencyOf(baseLatency),
    baseline_throughput_rows_per_s: round(throughput(m.rows, timings.baselineMs), 4),
  };
}

/** The golden-file section and its `expected-outputs` check. */
export function expectedOf(
  file: string,
  outputs: Readonly<Record<string, HostTensor>>,
  golden: Readonly<Record<string, HostTensor>>,
  tol: { atol: number; rtol: number },
): { expected: SmokeExpected; check: Check } {
  const r = compareToExpected(outputs, golden, tol);
  return {
    expected: {
      file,
      atol: tol.atol,
      rtol: tol.rtol,
      compared: r.compared,
      mismatches: r.mismatches,
      max_abs_diff: round(r.max_abs_diff),
      worst: r.worst,
    },
    check: { name: 'expected-outputs', passed: r.passed, detail: describeExpect(r, tol) },
  };
}

/**
 * What --max-abs-diff gates: the largest difference over the float outputs (class labels differ by
 * whole classes, and the flag is about scores), over all outputs when none is a float; a NaN/Inf
 * mismatch counts as infinite. Undefined without a comparison.
 */
export function gatedMaxAbsDiff(
  comparison: SmokeComparison | undefined,
  outputs: Readonly<Record<string, HostTensor>>,
): number | undefined {
  const floatDiffs = comparison?.outputs.filter((o) => FLOAT_TYPES.has(outputs[o.name]!.type));
  const gated = floatDiffs && floatDiffs.length > 0 ? floatDiffs : comparison?.outputs;
  return gated?.reduce<number | undefined>((m, o) => {
    const v = o.nonfinite_mismatches > 0 ? Number.POSITIVE_INFINITY : o.max_abs_diff;
    return v === null ? m : Math.max(m ?? 0, v);
  }, undefined);
}

export function describeExpect(r: ExpectResult, tol: { atol: number; rtol: number }): string {
  if (r.problems.length > 0) return r.problems.join('; ');
  if (r.passed)
    return `${r.compared} values within atol ${tol.atol} + rtol ${tol.rtol}·|expected| (max abs diff ${fmtNum(r.max_abs_diff)})`;
  const w = r.worst!;
  const diff = w.abs_diff === null ? '' : `, |diff| ${fmtNum(w.abs_diff)} > ${fmtNum(w.allowed ?? 0)}`;
  const value = (v: number | string | boolean) =>
    typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(8))) : String(v);
  return `${r.mismatches} of ${r.compared} values differ; worst ${w.output}${w.index}: got ${value(w.actual)}, expected ${value(w.expected)}${diff}`;
}

/** A number in a smoke message: 4 significant digits, exponent notation outside [1e-3, 1e6). */
export function fmtNum(x: number | null | undefined): string {
  return formatNumber(x, SMOKE_NUMBER);
}

const SMOKE_NUMBER: NumberFormat = { digits: 4, small: 1e-3, large: 1e6, expDigits: 2 };

/** What the runner measured: the candidate's (and the baseline's) outputs and timed runs. */
export interface Measured {
  outputs: Record<string, HostTensor>;
  baseOutputs: Record<string, HostTensor> | undefined;
  candidateMs: number[];
  baselineMs: number[];
}

/**
 * The report from the measurements: the checks (loads, outputs, finite, expected-outputs, gates),
 * latency and throughput, the baseline comparison and the golden-file section. InputError when
 * the candidate and the baseline share no output.
 */
export function assembleReport(m: {
  candidate: ModelFacts;
  baseline: ModelFacts | undefined;
  measured: Measured;
  rows: number;
  warmup: number;
  inputs: { source: string; seed: number | null };
  golden: { file: string; outputs: Record<string, HostTensor> } | undefined;
  tol: { atol: number; rtol: number };
  gates: Gates;
  allowNonfinite: boolean;
  threads: number | null;
  onnxruntime: string;
}): SmokeReport {
  const { candidate, baseline, measured } = m;
  const { outputs } = measured;
  const checks: Check[] = [...loadChecks(candidate, m.onnxruntime), finiteCheck(outputs, m.allowNonfinite)];
  const latency = summarizeLatency(measured.candidateMs);
  const rowsPerS = throughput(m.rows, measured.candidateMs);
  let comparison: SmokeComparison | undefined;
  if (baseline && measured.baseOutputs) {
    const pairs = pairOutputs(candidate.outputs, baseline.outputs);
    if (pairs.length === 0) {
      throw new InputError(
        `${candidate.label} and baseline ${baseline.label} share no output to compare (${candidate.outputs.map((o) => o.name).join(', ')} vs ${baseline.outputs.map((o) => o.name).join(', ')})`,
      );
    }
    comparison = comparisonOf({ candidate, baseline, rows: m.rows }, pairs, outputs, measured.baseOutputs, {
      candidate: latency,
      baselineMs: measured.baselineMs,
    });
  }
  const expected = m.golden && expectedOf(m.golden.file, outputs, m.golden.outputs, m.tol);
  if (expected) checks.push(expected.check);
  checks.push(
    ...evaluateGates(m.gates, {
      p99Ms: latency.p99,
      throughput: rowsPerS,
      maxAbsDiff: gatedMaxAbsDiff(comparison, outputs),
      agreement: comparison?.agreement,
      latencyRatio: comparison?.latency_ratio,
    }),
  );
  return {
    model: candidate.ref,
    sha256: candidate.sha256,
    inputs: candidate.inputs.map(ioEntry),
    outputs: candidate.outputs.map(ioEntry),
    checks,
    latency_ms: latencyOf(latency),
    throughput_rows_per_s: round(rowsPerS, 4),
    ...(comparison ? { comparison } : {}),
    ...(expected ? { expected: expected.expected } : {}),
    run: {
      rows: m.rows,
      iterations: measured.candidateMs.length,
      warmup: m.warmup,
      seed: m.inputs.seed,
      input: m.inputs.source,
      threads: m.threads,
      onnxruntime: m.onnxruntime,
    },
    passed: checks.every((c) => c.passed),
  };
}
