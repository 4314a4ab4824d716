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

/**
 * Relative uplift μ_t/μ_c − 1 with an interval that respects the ratio's −100 % bound: when both
 * means are positive the interval is formed on the log ratio (Katz et al.) and transformed back,
 *   ln(μ_t/μ_c) ± c·√(v_t/μ_t² + v_c/μ_c²)  →  [e^lo − 1, e^hi − 1]   (always > −1)
 * (for proportions v/μ² = 1/x − 1/n: Katz's interval of the risk ratio). Otherwise (a mean ≤ 0)
 * the delta-method interval of `relativeUplift`. `crit` overrides the critical value (the
 * sequential multiplier under --sequential); c is Student t with `df` when given, else normal.
 *
 * Reference: D. Katz, J. Baptista, S. P. Azen & M. C. Pike, "Obtaining confidence intervals for the
 * risk ratio in cohort studies", Biometrics 34 (1978) 469–474; Agresti, Categorical Data Analysis
 * (3rd ed.) §3.1.4.
 * @example relativeUpliftLogRatio(0.052, 0.052 * 0.948 / 10000, 0.045, 0.045 * 0.955 / 10000, 0.05).ci // [0.02170492091654537, 0.3069415783741524]
 */
export function relativeUpliftLogRatio(
  meanT: number,
  varMeanT: number,
  meanC: number,
  varMeanC: number,
  alpha: number,
  alternative: Alternative = 'two-sided',
  opts: { df?: number; crit?: number } = {},
): RelativeUplift & { method: 'log_ratio' | 'delta' } {
  const crit = opts.crit ?? criticalValue(alpha, alternative, opts.df);
  if (!(meanT > 0 && meanC > 0)) {
    const d = relativeUplift(meanT, varMeanT, meanC, varMeanC, alpha, alternative, opts.df);
    if (d.estimate === null || opts.crit === undefined) return { ...d, method: 'delta' };
    return { ...d, ci: intervalAround(d.estimate, d.se!, crit, alternative), method: 'delta' };
  }
  const estimate = meanT / meanC - 1;
  const seLog = Math.sqrt(varMeanT / (meanT * meanT) + varMeanC / (meanC * meanC));
  const [lo, hi] = intervalAround(Math.log(meanT / meanC), seLog, crit, alternative);
  return {
    estimate,
    se: (estimate + 1) * seLog,
    ci: [lo === null ? null : Math.expm1(lo), hi === null ? null : Math.expm1(hi)],
    method: 'log_ratio',
  };
}
