import { criticalValue, intervalAround, type Alternative, type Interval } from './alternative.js';

export interface RelativeUplift {
  /** μ_t/μ_c − 1, or null when μ_c = 0. */
  estimate: number | null;
  /** Delta-method standard error, or null when μ_c = 0. */
  se: number | null;
  ci: Interval;
}

/**
 * Relative uplift μ_t/μ_c − 1 with a delta-method interval (independent arms):
 *   Var(μ̂_t/μ̂_c) ≈ v_t/μ_c² + μ_t²·v_c/μ_c⁴,   v = variance of the arm's mean (p(1−p)/n or s²/n)
 *   CI = estimate ± c·√Var, c = normal critical value, or Student t with `df` (Welch ν for means).
 * μ_c = 0 has no relative uplift: estimate, se and both ends are null.
 *
 * Reference: GrowthBook gbstats frequentist TTest.variance (relative effects); Casella & Berger,
 * Statistical Inference §5.5.4 (delta method).
 * @example relativeUplift(0.052, 0.052 * 0.948 / 10000, 0.045, 0.045 * 0.955 / 10000, 0.05).ci // [0.013296837734347977, 0.2978142733767629]
 */
export function relativeUplift(
  meanT: number,
  varMeanT: number,
  meanC: number,
  varMeanC: number,
  alpha: number,
  alternative: Alternative = 'two-sided',
  df?: number,
): RelativeUplift {
  if (meanC === 0) return { estimate: null, se: null, ci: [null, null] };
  const estimate = meanT / meanC - 1;
  const mc2 = meanC * meanC;
  const se = Math.sqrt(varMeanT / mc2 + (meanT * meanT * varMeanC) / (mc2 * mc2));
  return { estimate, se, ci: intervalAround(estimate, se, criticalValue(alpha, alternative, df), alternative) };
}
