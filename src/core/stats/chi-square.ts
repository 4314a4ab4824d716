import { erfc } from './erf.js';
import { incompleteGamma } from './incomplete-gamma.js';

/**
 * Upper tail P(X > x) of the chi-square distribution with k > 0 degrees of freedom:
 * Q(k/2, x/2), the regularized upper incomplete gamma (k = 1: erfc(√(x/2)); k = 2: e^(−x/2)).
 *
 * Reference: Abramowitz & Stegun 26.4.19; scipy.stats.chi2.sf.
 * @example chiSquareSf(3.841458820694124, 1) // 0.05000000000000007
 */
export function chiSquareSf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  if (x <= 0) return 1;
  if (k === 1) return erfc(Math.sqrt(x / 2));
  if (k === 2) return Math.exp(-x / 2);
  return incompleteGamma(k / 2, x / 2)[1];
}

/**
 * CDF P(X ≤ x) of the chi-square distribution with k > 0 degrees of freedom: P(k/2, x/2).
 *
 * @example chiSquareCdf(2, 3) // 0.42759329552912084
 */
export function chiSquareCdf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  if (x <= 0) return 0;
  if (k === 2) return -Math.expm1(-x / 2);
  return incompleteGamma(k / 2, x / 2)[0];
}
