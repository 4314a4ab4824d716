import type { AnalysisMetric } from './analysis.js';
import { errorRateNotWorse, type ErrorCounts } from './comparative.js';
import {
  evaluateCondition,
  fmtValue,
  MissingValueError,
  parseCondition,
  variablesOf,
  type Values,
} from './expression.js';

/**
 * What a provider measured for one metric at one moment. `values.result` is the query's value for
 * the candidate; `values.stable` the same quantity for stable (when the condition needs it);
 * `values.requests` the candidate's requests in the window when the provider knows it. `counts`
 * (serve provider) are the window's request and error counts, for the sequential test.
 * A provider that could not measure sets `error` instead (unreachable, bad query, 5xx).
 */
export interface Measurement {
  values?: Values;
  counts?: { candidate: ErrorCounts; stable: ErrorCounts };
  error?: string;
}

export type CheckPhase = 'successful' | 'failed' | 'inconclusive' | 'error';

/** One evaluated measurement: what goes into the check history. */
export interface CheckResult {
  metric: string;
  phase: CheckPhase;
  /** Epoch milliseconds of the measurement. */
  at: number;
  /** The candidate's value (null: none). */
  value: number | null;
  /** Stable's value when the check compared with it. */
  stable?: number | null;
  /** Numbers that decided it: `51.2 > 25`, `not enough traffic: 3 < 10 requests`. */
  detail: string;
}

/** A check as one line of a reason: `p99-latency: 51.2 > 25`. */
export function describeCheck(c: CheckResult): string {
  return `${c.metric}: ${c.detail}`;
}

/**
 * Turns a measurement into a verdict. Order matters, and follows what users of Argo and Flagger
 * asked for: a provider error is an error (never a failure); no data or fewer than `minRequests`
 * candidate requests is inconclusive (never success, never failure); only then the condition
 * decides. With a failureCondition, a measurement is failed only when it holds, successful when the
 * successCondition holds, else inconclusive (Argo's rule). `cumulative` carries the step's counts so
 * far for the sequential test.
 */
export function evaluateMeasurement(
  metric: AnalysisMetric,
  m: Measurement,
  at: number,
  cumulative?: { candidate: ErrorCounts; stable: ErrorCounts },
): CheckResult {
  const base = { metric: metric.name, at };
  if (m.error !== undefined) return { ...base, phase: 'error', value: null, detail: `provider error: ${m.error}` };
  const values = m.values ?? {};
  const result = values.result ?? null;
  const requests = values.requests ?? m.counts?.candidate.requests ?? null;
  if (metric.minRequests > 0 && (requests === null || requests < metric.minRequests)) {
    return {
      ...base,
      phase: 'inconclusive',
      value: result,
      detail:
        requests === null
          ? `not enough traffic: request count unknown (minRequests ${metric.minRequests})`
          : `not enough traffic: ${requests} < ${metric.minRequests} requests`,
    };
  }
  if (metric.test !== null) {
    const counts = cumulative ?? m.counts;
    if (!counts) return { ...base, phase: 'inconclusive', value: result, detail: 'no request counts' };
    const r = errorRateNotWorse(counts.candidate, counts.stable, metric.test.alpha, metric.test.margin);
    const phase = r.verdict === 'worse' ? 'failed' : r.verdict === 'not_worse' ? 'successful' : 'inconclusive';
    return { ...base, phase, value: r.difference, detail: r.detail };
  }
  if (result === null) return { ...base, phase: 'inconclusive', value: null, detail: 'no data' };
  const success = parseCondition(metric.successCondition ?? 'result == result');
  // `stable` is shown only when a condition compares with it (the serve provider always measures it).
  const compares =
    variablesOf(success).has('stable') ||
    (metric.failureCondition !== null && variablesOf(parseCondition(metric.failureCondition)).has('stable'));
  const stable = compares ? values.stable : undefined;
  const extra = stable === undefined ? {} : { stable: stable ?? null };
  try {
    if (metric.failureCondition !== null) {
      const f = evaluateCondition(parseCondition(metric.failureCondition), values);
      if (f.holds) return { ...base, ...extra, phase: 'failed', value: result, detail: f.detail };
    }
    const s = evaluateCondition(success, values);
    const comparative = stable !== undefined && stable !== null ? ` (stable ${fmtValue(stable)})` : '';
    if (s.holds) return { ...base, ...extra, phase: 'successful', value: result, detail: s.detail + comparative };
    return {
      ...base,
      ...extra,
      phase: metric.failureCondition !== null ? 'inconclusive' : 'failed',
      value: result,
      detail: s.detail + comparative,
    };
  } catch (err) {
    if (err instanceof MissingValueError)
      return { ...base, ...extra, phase: 'inconclusive', value: result, detail: `no data for ${err.variable}` };
    throw err;
  }
}
