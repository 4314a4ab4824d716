import type { MetricType } from './types.js';

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

  /** The cohorts as plain data (to post from a reader thread; see addData). */
  toData(): DailyCohortsData {
    return {
      variantCount: this.variantCount,
      days: [...this.byDay].map(([day, d]) => ({ day, ...d })),
    };
  }

  /**
   * Adds cohorts built with another numbering of the variants: variant v there is
   * `variantIndex[v]` here (the metrics are the same).
   */
  addData(data: DailyCohortsData, variantIndex: Int32Array): void {
    const V = this.variantCount;
    const W = data.variantCount;
    for (const d of data.days) {
      let mine = this.byDay.get(d.day);
      if (mine === undefined) {
        const cells = V * this.metricCount;
        mine = { n: new Float64Array(V), sum: new Float64Array(cells), sumSq: new Float64Array(cells) };
        this.byDay.set(d.day, mine);
      }
      for (let v = 0; v < W; v++) {
        const to = variantIndex[v]!;
        mine.n[to]! += d.n[v]!;
        for (let k = 0; k < this.metricCount; k++) {
          mine.sum[k * V + to]! += d.sum[k * W + v]!;
          mine.sumSq[k * V + to]! += d.sumSq[k * W + v]!;
        }
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

/** A DailyCohortsBuilder's state as data: per UTC day number, n per variant and sums per metric × variant. */
export interface DailyCohortsData {
  variantCount: number;
  days: { day: number; n: Float64Array; sum: Float64Array; sumSq: Float64Array }[];
}
