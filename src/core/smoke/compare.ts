import { InputError } from '../../errors.js';
import {
  FLOAT_TYPES,
  INT_TYPES,
  elementCount,
  formatIndex,
  formatShape,
  jsonAt,
  numberAt,
  type HostTensor,
} from './tensor.js';

/** Difference between a candidate's and a baseline's values of one output. */
export interface OutputDiff {
  name: string;
  /** max |candidate − baseline| over elements where both are finite; null for strings. */
  max_abs_diff: number | null;
  /** mean of the same; null for strings. */
  mean_abs_diff: number | null;
  /** Elements where one side is NaN/±Inf and the other is not the same value. */
  nonfinite_mismatches: number;
  /** Elements that differ at all (strings compare by equality). */
  differing: number;
  count: number;
}

function sameDims(a: HostTensor, b: HostTensor): boolean {
  return a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
}

/**
 * Element-wise absolute differences of two tensors of the same shape. Identical values (also
 * NaN = NaN and matching infinities) differ by 0; a non-finite value against anything else is
 * counted in nonfinite_mismatches and left out of max and mean.
 */
export function diffTensors(name: string, candidate: HostTensor, baseline: HostTensor): OutputDiff {
  if (!sameDims(candidate, baseline)) {
    throw new InputError(
      `output "${name}" has shape ${formatShape(candidate.dims)} in the candidate but ${formatShape(baseline.dims)} in the baseline`,
    );
  }
  const n = elementCount(candidate.dims);
  if (candidate.type === 'string' || baseline.type === 'string') {
    let differing = 0;
    for (let i = 0; i < n; i++) if (jsonAt(candidate, i) !== jsonAt(baseline, i)) differing++;
    return { name, max_abs_diff: null, mean_abs_diff: null, nonfinite_mismatches: 0, differing, count: n };
  }
  let max = 0;
  let sum = 0;
  let finite = 0;
  let nonfinite = 0;
  let differing = 0;
  for (let i = 0; i < n; i++) {
    const a = numberAt(candidate, i);
    const b = numberAt(baseline, i);
    if (Number.isFinite(a) && Number.isFinite(b)) {
      const d = Math.abs(a - b);
      if (d > max) max = d;
      sum += d;
      finite++;
      if (d !== 0) differing++;
    } else if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) {
      nonfinite++;
      differing++;
    }
  }
  return {
    name,
    max_abs_diff: max,
    mean_abs_diff: finite > 0 ? sum / finite : 0,
    nonfinite_mismatches: nonfinite,
    differing,
    count: n,
  };
}

const PROBABILITY_NAME = /prob|logit|score|softmax|class/i;

/**
 * The predicted class of each row when an output looks like a classifier's: an integer, bool or
 * string tensor of shape [N] or [N, 1] (a label), or a float matrix [N, K≥2] whose name says
 * probabilities, logits or scores (argmax per row; the first index wins ties). Else null.
 */
export function predictedClasses(name: string, t: HostTensor): (number | string | boolean)[] | null {
  const out: (number | string | boolean)[] = [];
  return eachPredictedClass(name, t, (c) => out.push(c)) ? out : null;
}

/**
 * predictedClasses without the array: calls `each` with each row's class in order, and says
 * whether the output looks like a classifier's (false: `each` was never called).
 */
export function eachPredictedClass(
  name: string,
  t: HostTensor,
  each: (cls: number | string | boolean) => void,
): boolean {
  if (!classLike(name, t)) return false;
  if (!FLOAT_TYPES.has(t.type)) {
    const rows = t.dims[0]!;
    for (let i = 0; i < rows; i++) each(jsonAt(t, i));
    return true;
  }
  const [rows, k] = t.dims as [number, number];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const v = numberAt(t, r * k + c);
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    each(best);
  }
  return true;
}

/**
 * The share of rows on which candidate and baseline predict the same class, from the first
 * label-like output, else the first probability/logit matrix (see predictedClasses). Null when
 * no output shared by both looks like a classifier's.
 * @example 0.96 for 24 of 25 rows agreeing
 */
export function classAgreement(
  candidate: Readonly<Record<string, HostTensor>>,
  baseline: Readonly<Record<string, HostTensor>>,
  pairs: readonly { candidate: string; baseline: string }[],
): { output: string; rate: number; rows: number } | null {
  // The classes are worked out for the chosen pair only (this runs per request on a shadow).
  let chosen: { candidate: string; baseline: string } | undefined;
  for (const p of pairs) {
    const c = candidate[p.candidate];
    const b = baseline[p.baseline];
    if (!c || !b || !classLike(p.candidate, c) || !classLike(p.baseline, b)) continue;
    if (c.dims[0] !== b.dims[0] || c.dims[0] === 0) continue;
    if (!FLOAT_TYPES.has(c.type)) {
      chosen = p;
      break;
    }
    chosen ??= p;
  }
  if (!chosen) return null;
  const pc = predictedClasses(chosen.candidate, candidate[chosen.candidate]!)!;
  const pb = predictedClasses(chosen.baseline, baseline[chosen.baseline]!)!;
  let same = 0;
  for (let i = 0; i < pc.length; i++) if (pc[i] === pb[i]) same++;
  return { output: chosen.candidate, rate: same / pc.length, rows: pc.length };
}

/** Whether predictedClasses(name, t) gives classes (one per row, dims[0] of them). */
function classLike(name: string, t: HostTensor): boolean {
  const labelShape = t.dims.length === 1 || (t.dims.length === 2 && t.dims[1] === 1);
  if ((INT_TYPES.has(t.type) || t.type === 'bool' || t.type === 'string') && labelShape) return true;
  return FLOAT_TYPES.has(t.type) && t.dims.length === 2 && t.dims[1]! >= 2 && PROBABILITY_NAME.test(name);
}

/** The element farthest outside tolerance when comparing against expected outputs. */
export interface WorstElement {
  output: string;
  index: string;
  actual: number | string | boolean;
  expected: number | string | boolean;
  abs_diff: number | null;
  /** atol + rtol·|expected| at that element. */
  allowed: number | null;
}

export interface ExpectResult {
  passed: boolean;
  compared: number;
  mismatches: number;
  /** Structural problems: a missing output, a different shape or type. */
  problems: string[];
  worst: WorstElement | null;
  /** Largest |actual − expected| over all compared numeric elements. */
  max_abs_diff: number;
}

/**
 * Compares outputs against expected (golden) ones as numpy.allclose / Polygraphy do: an element
 * matches when |actual − expected| ≤ atol + rtol·|expected|; NaN matches NaN and an infinity
 * matches the same infinity. Non-numeric values must be equal.
 */
export function compareToExpected(
  actual: Readonly<Record<string, HostTensor>>,
  expected: Readonly<Record<string, HostTensor>>,
  tol: { atol: number; rtol: number },
): ExpectResult {
  const problems: string[] = [];
  let compared = 0;
  let mismatches = 0;
  let maxAbs = 0;
  let worst: WorstElement | null = null;
  let worstExcess = -1;
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    if (!a) {
      problems.push(`output "${name}" is expected but the model does not produce it`);
      continue;
    }
    if (!sameDims(a, e)) {
      problems.push(`output "${name}" has shape ${formatShape(a.dims)}, expected ${formatShape(e.dims)}`);
      continue;
    }
    const numeric = a.type !== 'string' && e.type !== 'string';
    const n = elementCount(a.dims);
    for (let i = 0; i < n; i++) {
      compared++;
      if (!numeric) {
        if (jsonAt(a, i) !== jsonAt(e, i)) {
          mismatches++;
          if (worstExcess < 0) {
            worstExcess = 0;
            worst = {
              output: name,
              index: formatIndex(a.dims, i),
              actual: jsonAt(a, i),
              expected: jsonAt(e, i),
              abs_diff: null,
              allowed: null,
            };
          }
        }
        continue;
      }
      const x = numberAt(a, i);
      const y = numberAt(e, i);
      const allowed = tol.atol + tol.rtol * Math.abs(y);
      let excess: number;
      let d: number;
      if (Number.isFinite(x) && Number.isFinite(y)) {
        d = Math.abs(x - y);
        if (d > maxAbs) maxAbs = d;
        excess = d - allowed;
      } else {
        const same = Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
        d = same ? 0 : Number.POSITIVE_INFINITY;
        excess = same ? 0 : Number.POSITIVE_INFINITY;
      }
      if (excess > 0) {
        mismatches++;
        if (excess > worstExcess) {
          worstExcess = excess;
          worst = {
            output: name,
            index: formatIndex(a.dims, i),
            actual: jsonAt(a, i),
            expected: jsonAt(e, i),
            abs_diff: Number.isFinite(d) ? d : null,
            allowed,
          };
        }
      }
    }
  }
  return {
    passed: problems.length === 0 && mismatches === 0,
    compared,
    mismatches,
    problems,
    worst,
    max_abs_diff: maxAbs,
  };
}
