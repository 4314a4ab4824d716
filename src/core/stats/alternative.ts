import { normalCdf, normalQuantileUpper, normalSf } from './normal.js';
import { tCdf, tQuantile, tSf } from './student-t.js';

/**
 * The alternative hypothesis, always about treatment − control: 'greater' means the treatment
 * is higher, 'less' lower, 'two-sided' either.
 */
export type Alternative = 'two-sided' | 'greater' | 'less';

/** A confidence interval; a one-sided interval has `null` at its open end (±∞). */
export type Interval = [number | null, number | null];

/**
 * p-value of a z statistic: two-sided 2·(1 − Φ(|z|)), greater 1 − Φ(z), less Φ(z).
 *
 * @example pValueFromZ(1.959963984540054, 'two-sided') // 0.04999999999999999
 */
export function pValueFromZ(z: number, alternative: Alternative): number {
  if (alternative === 'greater') return normalSf(z);
  if (alternative === 'less') return normalCdf(z);
  return Math.min(1, 2 * normalSf(Math.abs(z)));
}

/**
 * p-value of a t statistic with df degrees of freedom (as pValueFromZ, with Student's t).
 *
 * @example pValueFromT(2.228138851986274, 10, 'two-sided') // 0.050000000000000024
 */
export function pValueFromT(t: number, df: number, alternative: Alternative): number {
  if (alternative === 'greater') return tSf(t, df);
  if (alternative === 'less') return tCdf(t, df);
  return Math.min(1, 2 * tSf(Math.abs(t), df));
}

/**
 * Critical value for a (1 − α) interval: z(1 − α/2) two-sided, z(1 − α) one-sided; with
 * `df` the Student t quantile instead of the normal one.
 *
 * @example criticalValue(0.05, 'two-sided') // 1.9599639845400538
 */
export function criticalValue(alpha: number, alternative: Alternative, df?: number): number {
  const tail = alternative === 'two-sided' ? alpha / 2 : alpha;
  if (df === undefined || df === Infinity) return normalQuantileUpper(tail);
  return -tQuantile(tail, df);
}

/**
 * The interval estimate ± c·se, opened on one side for one-sided alternatives:
 * greater → [estimate − c·se, null], less → [null, estimate + c·se].
 *
 * @example intervalAround(0.007, 0.003, 1.96, 'greater') // [0.0011200000000000003, null]
 */
export function intervalAround(estimate: number, se: number, crit: number, alternative: Alternative): Interval {
  const lo = estimate - crit * se;
  const hi = estimate + crit * se;
  if (alternative === 'greater') return [lo, null];
  if (alternative === 'less') return [null, hi];
  return [lo, hi];
}
