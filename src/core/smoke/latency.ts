/**
 * The p-th percentile of a sample by linear interpolation between closest ranks: sort x, take
 * h = (n − 1)·p/100, and return x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). This is Hyndman & Fan
 * type 7, the default of numpy.percentile and R's quantile().
 * @example percentile([1, 2, 3, 4], 50) // 2.5
 */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return Number.NaN;
  const x = [...sample].sort((a, b) => a - b);
  const h = ((x.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, x.length - 1);
  return x[lo]! + (h - lo) * (x[hi]! - x[lo]!);
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles, max and mean of per-run latencies (milliseconds in, milliseconds out). */
export function summarizeLatency(ms: readonly number[]): LatencySummary {
  const mean = ms.length === 0 ? Number.NaN : ms.reduce((a, b) => a + b, 0) / ms.length;
  return {
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    max: ms.length === 0 ? Number.NaN : Math.max(...ms),
    mean,
  };
}

/**
 * Rows per second over the timed runs: rows·runs / Σ latency. Only time inside the runtime
 * counts, so the figure does not depend on how fast the caller loops.
 * @example throughput(32, [10, 10]) // 3200
 */
export function throughput(rowsPerRun: number, ms: readonly number[]): number {
  const total = ms.reduce((a, b) => a + b, 0);
  return total > 0 ? (rowsPerRun * ms.length * 1000) / total : Number.NaN;
}
