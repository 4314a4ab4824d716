import { FLOAT_TYPES, elementCount, formatShape, numberAt, type HostTensor, type TensorSpec } from './tensor.js';

/** One line of the report's checklist. */
export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

/**
 * How the produced outputs differ from the declared ones: a missing output, another element
 * type, another rank, a fixed dimension of another size, or a symbolic dimension shared with an
 * input (e.g. the batch "N") of another size. Empty when everything conforms.
 */
export function outputProblems(
  declared: readonly TensorSpec[],
  produced: Readonly<Record<string, HostTensor>>,
  inputSymbols: Readonly<Record<string, number>>,
): string[] {
  const problems: string[] = [];
  for (const spec of declared) {
    const t = produced[spec.name];
    if (!t) {
      problems.push(`output "${spec.name}" is declared but was not produced`);
      continue;
    }
    if (spec.type !== null && t.type !== spec.type) {
      problems.push(`output "${spec.name}" is declared ${spec.type} but the model produced ${t.type}`);
    }
    if (spec.shape === null) continue;
    const bad =
      spec.shape.length !== t.dims.length ||
      spec.shape.some((d, a) => {
        if (typeof d === 'number') return d !== t.dims[a];
        if (typeof d === 'string' && d in inputSymbols) return inputSymbols[d] !== t.dims[a];
        return false;
      });
    if (bad) {
      const bindings = spec.shape
        .filter((d): d is string => typeof d === 'string' && d in inputSymbols)
        .map((d) => `${d}=${inputSymbols[d]}`);
      problems.push(
        `output "${spec.name}" is declared ${formatShape(spec.shape)}${bindings.length ? ` (${bindings.join(', ')})` : ''} but the model produced ${formatShape(t.dims)}`,
      );
    }
  }
  return problems;
}

export interface NonFinite {
  nan: number;
  posInf: number;
  negInf: number;
  /** Flat index of the first non-finite element, -1 when none. */
  first: number;
}

/** Counts NaN, +Inf and −Inf in a floating-point tensor (zero for other types). */
export function countNonFinite(t: HostTensor): NonFinite {
  const r: NonFinite = { nan: 0, posInf: 0, negInf: 0, first: -1 };
  if (!FLOAT_TYPES.has(t.type)) return r;
  const n = elementCount(t.dims);
  for (let i = 0; i < n; i++) {
    const x = numberAt(t, i);
    if (Number.isFinite(x)) continue;
    if (r.first < 0) r.first = i;
    if (Number.isNaN(x)) r.nan++;
    else if (x > 0) r.posInf++;
    else r.negInf++;
  }
  return r;
}

export interface Gates {
  maxP99Ms?: number | undefined;
  minThroughput?: number | undefined;
  maxAbsDiff?: number | undefined;
  minAgreement?: number | undefined;
  maxLatencyRatio?: number | undefined;
}

export interface GateMeasures {
  p99Ms: number;
  throughput: number;
  /** Largest max_abs_diff over the compared outputs; Infinity when NaN/Inf disagree. */
  maxAbsDiff?: number | undefined;
  agreement?: number | null | undefined;
  latencyRatio?: number | undefined;
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));

/**
 * One check per gate that was set, named after its flag. A gate that needs a comparison it did
 * not get (e.g. --min-agreement when no output looks like a classifier's) fails, saying why.
 */
export function evaluateGates(gates: Gates, m: GateMeasures): Check[] {
  const checks: Check[] = [];
  const atMost = (name: string, what: string, value: number | undefined, limit: number, unit = '') => {
    if (value === undefined || Number.isNaN(value)) {
      checks.push({ name, passed: false, detail: `no ${what} to compare with ${fmt(limit)}${unit}` });
    } else {
      const passed = value <= limit;
      checks.push({ name, passed, detail: `${what} ${fmt(value)}${unit} ${passed ? '≤' : '>'} ${fmt(limit)}${unit}` });
    }
  };
  const atLeast = (name: string, what: string, value: number | null | undefined, limit: number, unit = '') => {
    if (value === undefined || value === null || Number.isNaN(value)) {
      checks.push({ name, passed: false, detail: `no ${what} to compare with ${fmt(limit)}${unit}` });
    } else {
      const passed = value >= limit;
      checks.push({ name, passed, detail: `${what} ${fmt(value)}${unit} ${passed ? '≥' : '<'} ${fmt(limit)}${unit}` });
    }
  };
  if (gates.maxP99Ms !== undefined) atMost('max-p99-ms', 'p99', m.p99Ms, gates.maxP99Ms, ' ms');
  if (gates.minThroughput !== undefined)
    atLeast('min-throughput', 'throughput', m.throughput, gates.minThroughput, ' rows/s');
  if (gates.maxAbsDiff !== undefined) atMost('max-abs-diff', 'max abs diff', m.maxAbsDiff, gates.maxAbsDiff);
  if (gates.minAgreement !== undefined) atLeast('min-agreement', 'agreement', m.agreement, gates.minAgreement);
  if (gates.maxLatencyRatio !== undefined)
    atMost('max-latency-ratio', 'latency ratio', m.latencyRatio, gates.maxLatencyRatio);
  return checks;
}
