import { pValueFromT, type Alternative } from './alternative.js';

/** One arm of a continuous metric by its summary statistics (sd is the sample sd, n − 1). */
export interface MeanArm {
  mean: number;
  sd: number;
  n: number;
}

export interface WelchResult {
  /** t = (x̄_t − x̄_c − δ₀) / SE. */
  statistic: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  pValue: number;
  /** x̄_t − x̄_c. */
  difference: number;
  /** SE = √(s_t²/n_t + s_c²/n_c). */
  se: number;
}

/**
 * Welch–Satterthwaite degrees of freedom for the difference of two means:
 *   ν = (v_t + v_c)² / (v_t²/(n_t − 1) + v_c²/(n_c − 1)),   v = s²/n
 *
 * @example welchDf({ mean: 0, sd: 4.1, n: 5000 }, { mean: 0, sd: 3.9, n: 5200 }) // 10117.610869897073
 */
export function welchDf(treatment: MeanArm, control: MeanArm): number {
  const vt = (treatment.sd * treatment.sd) / treatment.n;
  const vc = (control.sd * control.sd) / control.n;
  return ((vt + vc) * (vt + vc)) / ((vt * vt) / (treatment.n - 1) + (vc * vc) / (control.n - 1));
}

/**
 * Welch's unequal-variances t-test from summary statistics, treatment vs control, with the
 * null difference δ₀ (0, or −M for a non-inferiority margin M):
 *   t = (x̄_t − x̄_c − δ₀) / √(s_t²/n_t + s_c²/n_c),  ν = Welch–Satterthwaite (see welchDf)
 * Both sds zero: t = 0, p = 1 (no information), ν = n_t + n_c − 2.
 *
 * Reference: scipy.stats.ttest_ind_from_stats(x̄_t, s_t, n_t, x̄_c, s_c, n_c, equal_var=False,
 * alternative=…); B. L. Welch, Biometrika 34 (1947).
 * @example welchTTest({ mean: 12.6, sd: 4.1, n: 5000 }, { mean: 12.3, sd: 4.0, n: 5000 }).pValue // 0.00021385691801811918
 */
export function welchTTest(
  treatment: MeanArm,
  control: MeanArm,
  opts: { alternative?: Alternative; nullDifference?: number } = {},
): WelchResult {
  const alternative = opts.alternative ?? 'two-sided';
  const delta0 = opts.nullDifference ?? 0;
  const difference = treatment.mean - control.mean;
  const se = Math.sqrt((treatment.sd * treatment.sd) / treatment.n + (control.sd * control.sd) / control.n);
  if (!(se > 0)) return { statistic: 0, df: treatment.n + control.n - 2, pValue: 1, difference, se: 0 };
  const df = welchDf(treatment, control);
  const statistic = (difference - delta0) / se;
  return { statistic, df, pValue: pValueFromT(statistic, df, alternative), difference, se };
}
