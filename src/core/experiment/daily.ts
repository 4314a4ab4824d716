import type { Interval } from '../stats/index.js';
import { analyzeExperiment } from './analyze.js';
import type { AnalysisOptions } from './report.js';
import type { ArmStats, ExperimentData } from './types.js';
import type { DailyCohorts } from './cohorts.js';

// The cohorts themselves (built while the events are read, in reader threads too) are in
// cohorts.ts, which imports no statistics.
export { type DailyCohorts, DailyCohortsBuilder } from './cohorts.js';

/** The experiment as of the end of day index `upTo` (units exposed on days 0..upTo). */
export function cumulativeData(c: DailyCohorts, upTo: number, experiment?: string): ExperimentData {
  const V = c.variants.length;
  const n = new Array<number>(V).fill(0);
  const sum = c.metrics.map(() => new Array<number>(V).fill(0));
  const sumSq = c.metrics.map(() => new Array<number>(V).fill(0));
  for (let d = 0; d <= upTo; d++) {
    for (let v = 0; v < V; v++) {
      n[v]! += c.n[d]![v]!;
      c.metrics.forEach((_, k) => {
        sum[k]![v]! += c.sum[d]![k]![v]!;
        sumSq[k]![v]! += c.sumSq[d]![k]![v]!;
      });
    }
  }
  return {
    ...(experiment !== undefined ? { experiment } : {}),
    variants: c.variants.map((variant, v) => ({ variant, n: n[v]! })),
    metrics: c.metrics.map((m, k) => ({
      name: m.name,
      type: m.type,
      arms: c.variants.map((variant, v): ArmStats =>
        m.type === 'proportion'
          ? { variant, n: n[v]!, type: 'proportion', conversions: sum[k]![v]! }
          : { variant, n: n[v]!, type: 'mean', sum: sum[k]![v]!, sumSq: sumSq[k]![v]! },
      ),
    })),
    excluded: { multi_variant_units: null, bad_lines: 0 },
  };
}

export interface DailyPoint {
  day: string;
  /** Units so far, all arms. */
  units: number;
  estimate: number;
  /** The interval of the final analysis' kind: the confidence sequence under --sequential, else the fixed CI. */
  ci: Interval;
  relative_estimate: number | null;
  relative_ci: Interval;
}

export interface DailySeries {
  metric: string;
  variant: string;
  /** confidence_sequence (valid at every day) or fixed (valid only at the planned end). */
  interval: 'confidence_sequence' | 'fixed';
  points: DailyPoint[];
}

/**
 * The cumulative effect per day of every metric × treatment arm, analysed with the same options as
 * the final analysis (without CUPED, which needs per-day covariates, and without the Bayesian part).
 * Days before every arm has enough units for the tests are left out.
 */
export function cumulativeSeries(c: DailyCohorts, opts: AnalysisOptions): DailySeries[] {
  const series = new Map<string, DailySeries>();
  const options: AnalysisOptions = { ...opts, cuped: false, bayesian: false, expectedSplit: undefined };
  let units = 0;
  for (let d = 0; d < c.days.length; d++) {
    units += c.n[d]!.reduce((s, x) => s + x, 0);
    let result;
    try {
      result = analyzeExperiment(cumulativeData(c, d), options);
    } catch {
      continue; // an arm still without (enough) units
    }
    for (const m of result.metrics) {
      for (const cmp of m.comparisons) {
        const key = `${m.name}\u0000${cmp.variant}`;
        let s = series.get(key);
        if (s === undefined) {
          s = {
            metric: m.name,
            variant: cmp.variant,
            interval: opts.sequential ? 'confidence_sequence' : 'fixed',
            points: [],
          };
          series.set(key, s);
        }
        s.points.push({
          day: c.days[d]!,
          units,
          estimate: cmp.difference.estimate,
          ci: cmp.difference.ci,
          relative_estimate: cmp.relative_uplift.estimate,
          relative_ci: cmp.relative_uplift.ci,
        });
      }
    }
  }
  return [...series.values()];
}
