import { incompleteBeta, logBetaPowerTerms } from './incomplete-beta.js';
import { logBeta } from './log-gamma.js';

/**
 * Density of the Beta(a, b) distribution: x^(a−1)(1−x)^(b−1) / B(a, b), 0 ≤ x ≤ 1.
 *
 * Reference: scipy.stats.beta.pdf.
 * @example betaPdf(0.3, 2, 5) // 2.1609
 */
export function betaPdf(x: number, a: number, b: number): number {
  if (x < 0 || x > 1) return 0;
  if (x === 0) return a === 1 ? Math.exp(-logBeta(a, b)) : a < 1 ? Infinity : 0;
  if (x === 1) return b === 1 ? Math.exp(-logBeta(a, b)) : b < 1 ? Infinity : 0;
  return Math.exp(betaLogPdf(x, a, b));
}

/**
 * ln of the Beta(a, b) density at 0 < x < 1, as ln[xᵃ(1−x)ᵇ/B(a, b)] − ln x − ln(1−x) with the
 * Stirling-form power terms, so large a, b (posteriors of millions of units) keep full precision
 * where (a−1)·ln x − ln B(a, b) would cancel ~1e7-sized terms.
 *
 * @example betaLogPdf(0.5, 1, 1) // 0
 */
export function betaLogPdf(x: number, a: number, b: number): number {
  if (a < 10 || b < 10) return (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logBeta(a, b);
  return logBetaPowerTerms(a, b, x, 1 - x) - Math.log(x) - Math.log1p(-x);
}

/**
 * CDF of the Beta(a, b) distribution, I_x(a, b).
 *
 * Reference: scipy.stats.beta.cdf.
 * @example betaCdf(0.3, 2, 5) // 0.5798250000000001
 */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return incompleteBeta(a, b, x)[0];
}

/**
 * Upper tail 1 − I_x(a, b) of the Beta(a, b) distribution, without cancellation.
 *
 * @example betaSf(0.3, 2, 5) // 0.42017499999999985
 */
export function betaSf(x: number, a: number, b: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  return incompleteBeta(a, b, x)[1];
}

/** Mean a/(a+b) and variance ab/((a+b)²(a+b+1)) of Beta(a, b). @example betaMoments(2, 5) // { mean: 0.2857142857142857, variance: 0.025510204081632654 } */
export function betaMoments(a: number, b: number): { mean: number; variance: number } {
  const s = a + b;
  return { mean: a / s, variance: (a * b) / (s * s * (s + 1)) };
}
