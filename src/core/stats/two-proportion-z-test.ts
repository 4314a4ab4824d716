import { pValueFromZ, type Alternative } from './alternative.js';

/** One arm of a proportion metric: `conversions` of `n` units. */
export interface ProportionArm {
  conversions: number;
  n: number;
}

export interface ZTestResult {
  /** z = (p̂_t − p̂_c − δ₀) / SE. */
  statistic: number;
  pValue: number;
  /** p̂_t − p̂_c. */
  difference: number;
  /** The standard error used by the test (pooled when δ₀ = 0, unpooled otherwise). */
  se: number;
}

/**
 * Two-proportion z-test of treatment vs control.
 *
 *   δ₀ = 0 (default):  z = (p̂_t − p̂_c) / √(p̄(1 − p̄)(1/n_t + 1/n_c)),  p̄ = (x_t + x_c)/(n_t + n_c)
 *     two-sided z² equals Pearson's chi-square without continuity correction.
 *   δ₀ ≠ 0 (non-inferiority / superiority by a margin, e.g. δ₀ = −M):
 *     z = (p̂_t − p̂_c − δ₀) / √(p̂_t q̂_t/n_t + p̂_c q̂_c/n_c)   (Wald: pooling assumes p_t = p_c,
 *     which a shifted null denies; this keeps the test and the unpooled interval consistent)
 * Degenerate data (SE = 0: all or no units converted) gives z = 0, p = 1: the data cannot reject.
 *
 * Reference: statsmodels.stats.proportion.proportions_ztest([x_t, x_c], [n_t, n_c]) (δ₀ = 0);
 * statsmodels.stats.proportion.test_proportions_2indep(x_t, n_t, x_c, n_c, value=δ₀,
 * compare='diff', method='wald') (δ₀ ≠ 0).
 * @example twoProportionZTest({ conversions: 520, n: 10000 }, { conversions: 450, n: 10000 }).pValue // 0.021215109553289504
 */
export function twoProportionZTest(
  treatment: ProportionArm,
  control: ProportionArm,
  opts: { alternative?: Alternative; nullDifference?: number } = {},
): ZTestResult {
  const alternative = opts.alternative ?? 'two-sided';
  const delta0 = opts.nullDifference ?? 0;
  const pt = treatment.conversions / treatment.n;
  const pc = control.conversions / control.n;
  const difference = pt - pc;
  let se: number;
  if (delta0 === 0) {
    const pooled = (treatment.conversions + control.conversions) / (treatment.n + control.n);
    se = Math.sqrt(pooled * (1 - pooled) * (1 / treatment.n + 1 / control.n));
  } else {
    se = Math.sqrt((pt * (1 - pt)) / treatment.n + (pc * (1 - pc)) / control.n);
  }
  if (!(se > 0)) return { statistic: 0, pValue: 1, difference, se: 0 };
  const statistic = (difference - delta0) / se;
  return { statistic, pValue: pValueFromZ(statistic, alternative), difference, se };
}
