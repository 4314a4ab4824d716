import { chiSquareSf } from './chi-square.js';
import type { ProportionArm } from './two-proportion-z-test.js';

export interface ChiSquareIndependenceResult {
  /** Pearson's X² (no continuity correction). */
  statistic: number;
  /** (k − 1) for k arms × 2 outcomes. */
  df: number;
  pValue: number;
  /** The smallest expected cell count (the usual rule of thumb wants ≥ 5 everywhere). */
  minExpected: number;
}

/**
 * Pearson's chi-square test of homogeneity on the k×2 table of arms × (converted, not converted):
 *   X² = Σ (O − E)²/E,  E = row total·column total/N,  df = k − 1,  p = P(χ²_df > X²).
 * The omnibus question "do any of the k arms differ?", beside the pairwise tests against the control.
 * An empty column (nobody or everybody converted) gives X² = 0, p = 1.
 *
 * Reference: R's chisq.test(matrix(c(x, n − x), ncol = 2)) (no correction for k > 2).
 * @example chiSquareIndependence([{ conversions: 450, n: 10000 }, { conversions: 520, n: 10000 }, { conversions: 505, n: 10000 }]).pValue // 0.05471764700325411
 */
export function chiSquareIndependence(arms: readonly ProportionArm[]): ChiSquareIndependenceResult {
  const N = arms.reduce((s, a) => s + a.n, 0);
  const X = arms.reduce((s, a) => s + a.conversions, 0);
  const df = arms.length - 1;
  let minExpected = Infinity;
  let statistic = 0;
  for (const a of arms) {
    const e1 = (a.n * X) / N;
    const e0 = (a.n * (N - X)) / N;
    minExpected = Math.min(minExpected, e1, e0);
    if (e1 > 0) statistic += (a.conversions - e1) ** 2 / e1;
    if (e0 > 0) statistic += (a.n - a.conversions - e0) ** 2 / e0;
  }
  if (X === 0 || X === N) return { statistic: 0, df, pValue: 1, minExpected };
  return { statistic, df, pValue: chiSquareSf(statistic, df), minExpected };
}
