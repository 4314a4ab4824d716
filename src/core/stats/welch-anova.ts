import { incompleteBeta } from './incomplete-beta.js';
import type { MeanArm } from './welch-t-test.js';

export interface WelchAnovaResult {
  /** Welch's F. */
  statistic: number;
  df1: number;
  /** The Welch–Satterthwaite-type denominator degrees of freedom (not an integer). */
  df2: number;
  pValue: number;
}

/**
 * Welch's one-way ANOVA of k ≥ 2 means with unequal variances (the omnibus test of means):
 *   w_i = n_i/s_i²,  W = Σw_i,  m = Σw_i·x̄_i/W,  A = Σw_i(x̄_i − m)²/(k − 1)
 *   λ = Σ(1 − w_i/W)²/(n_i − 1),  F = A / (1 + 2(k − 2)λ/(k² − 1)),  df = (k − 1, (k² − 1)/(3λ))
 *   p = P(F_{df1, df2} > F) = I_{df2/(df2 + df1·F)}(df2/2, df1/2).
 * An arm with zero variance (or every arm equal) has no Welch statistic: p = 1 when the means are
 * equal, else NaN is avoided by reporting F = ∞, p = 0.
 *
 * Reference: B. L. Welch, "On the comparison of several mean values: an alternative approach",
 * Biometrika 38 (1951) 330–336; R's oneway.test(y ~ g, var.equal = FALSE).
 * @example welchAnova([{ mean: 12.3, sd: 4.1, n: 5000 }, { mean: 12.6, sd: 4.2, n: 5000 }, { mean: 12.4, sd: 4.0, n: 5000 }]).pValue // 0.0011769850697809928
 */
export function welchAnova(arms: readonly MeanArm[]): WelchAnovaResult {
  const k = arms.length;
  const df1 = k - 1;
  if (arms.some((a) => !(a.sd > 0))) {
    const same = arms.every((a) => a.mean === arms[0]!.mean);
    return { statistic: same ? 0 : Infinity, df1, df2: NaN, pValue: same ? 1 : 0 };
  }
  const w = arms.map((a) => a.n / (a.sd * a.sd));
  const W = w.reduce((s, x) => s + x, 0);
  const m = arms.reduce((s, a, i) => s + w[i]! * a.mean, 0) / W;
  const A = arms.reduce((s, a, i) => s + w[i]! * (a.mean - m) ** 2, 0) / df1;
  const lambda = arms.reduce((s, a, i) => s + (1 - w[i]! / W) ** 2 / (a.n - 1), 0);
  const statistic = A / (1 + (2 * (k - 2) * lambda) / (k * k - 1));
  const df2 = (k * k - 1) / (3 * lambda);
  if (statistic === 0) return { statistic, df1, df2, pValue: 1 };
  const x = df2 / (df2 + df1 * statistic);
  const pValue = incompleteBeta(df2 / 2, df1 / 2, x, (df1 * statistic) / (df2 + df1 * statistic))[0];
  return { statistic, df1, df2, pValue };
}
