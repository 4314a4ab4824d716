import type { Interval } from '../stats/index.js';
import { analyzeExperiment } from './analyze.js';
import type { AnalysisOptions } from './report.js';
import type { ArmStats, ExperimentData, MetricType } from './types.js';

/**
 * Per-day cohorts of the events form: the units first exposed on each UTC day with their metric
 * sums, so the report can show how the estimate settled. Day d's cumulative data are the units
 * exposed up to and including day d, with their metrics as of the end of the input (the
 * "cumulative by exposure date" view). The events reader feeds a DailyCohortsBuilder one unit at a
 * time as it reduces its per-unit state (addUnit, then addValue per metric).
 */

export interface DailyCohorts {
  /** Every UTC day (YYYY-MM-DD) from the first exposure to the last, ascending. */
  days: string[];
  variants: string[];
  metrics: { name: string; type: MetricType }[];
  /** n[day][variant]: units first exposed that day. */
  n: number[][];
  /** sum[day][metric][variant] = Σy, sumSq likewise Σy². */
  sum: number[][][];
  sumSq: number[][][];
}

const DAY_MS = 86_400_000;

export class DailyCohortsBuilder {
  private readonly byDay = new Map<number, { n: Float64Array; sum: Float64Array; sumSq: Float64Array }>();
  private current: { n: Float64Array; sum: Float64Array; sumSq: Float64Array } | undefined;
  private variant = 0;

  constructor(
    private readonly variantCount: number,
    private readonly metricCount: number,
  ) {}

  /** A unit first exposed at `firstExposureMs` (epoch ms) to variant index `variant`. */
  addUnit(firstExposureMs: number, variant: number): void {
    const day = Math.floor(firstExposureMs / DAY_MS);
    let d = this.byDay.get(day);
    if (d === undefined) {
      const V = this.variantCount;
      const cells = V * this.metricCount;
      d = { n: new Float64Array(V), sum: new Float64Array(cells), sumSq: new Float64Array(cells) };
      this.byDay.set(day, d);
    }
    d.n[variant]!++;
    this.current = d;
    this.variant = variant;
  }

  /** The last added unit's value y of metric index `metric`. */
  addValue(metric: number, y: number): void {
    const i = metric * this.variantCount + this.variant;
    this.current!.sum[i]! += y;
    this.current!.sumSq[i]! += y * y;
  }

  /** Adds another builder's cohorts (same variant and metric indices): for readers that finish in parts. */
  merge(other: DailyCohortsBuilder): void {
    for (const [day, d] of other.byDay) {
      const mine = this.byDay.get(day);
      if (mine === undefined) {
        this.byDay.set(day, { n: d.n.slice(), sum: d.sum.slice(), sumSq: d.sumSq.slice() });
        continue;
      }
      for (let i = 0; i < d.n.length; i++) mine.n[i]! += d.n[i]!;
      for (let i = 0; i < d.sum.length; i++) {
        mine.sum[i]! += d.sum[i]!;
        mine.sumSq[i]! += d.sumSq[i]!;
      }
    }
  }

  build(variants: string[], metrics: { name: string; type: MetricType }[]): DailyCohorts {
    const keys = [...this.byDay.keys()].sort((a, b) => a - b);
    const out: DailyCohorts = { days: [], variants, metrics, n: [], sum: [], sumSq: [] };
    if (keys.length === 0) return out;
    const V = this.variantCount;
    for (let day = keys[0]!; day <= keys[keys.length - 1]!; day++) {
      const d = this.byDay.get(day);
      out.days.push(new Date(day * DAY_MS).toISOString().slice(0, 10));
      out.n.push(Array.from({ length: V }, (_, v) => d?.n[v] ?? 0));
      const per = (a: 'sum' | 'sumSq') =>
        metrics.map((_, k) => Array.from({ length: V }, (_, v) => d?.[a][k * V + v] ?? 0));
      out.sum.push(per('sum'));
      out.sumSq.push(per('sumSq'));
    }
    return out;
  }
}

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
