import { criticalValue, intervalAround, type Alternative, type Interval } from './alternative.js';
import type { ProportionArm } from './two-proportion-z-test.js';
import { welchDf, type MeanArm } from './welch-t-test.js';

export interface Estimate {
  estimate: number;
  /** Standard error of the estimate. */
  se: number;
  ci: Interval;
}

/**
 * Confidence interval of p̂_t − p̂_c with the unpooled (Wald) standard error:
 *   (p̂_t − p̂_c) ± z·√(p̂_t q̂_t/n_t + p̂_c q̂_c/n_c),  z = Φ⁻¹(1 − α/2) two-sided, Φ⁻¹(1 − α) one-sided
 * (one-sided: [lo, null] for greater, [null, hi] for less).
 *
 * Reference: statsmodels.stats.proportion.confint_proportions_2indep(x_t, n_t, x_c, n_c,
 * method='wald', compare='diff', alpha=…).
 * @example proportionDifferenceInterval({ conversions: 520, n: 10000 }, { conversions: 450, n: 10000 }, 0.05).ci // [0.0010463855781192247, 0.012953614421880774]
 */
export function proportionDifferenceInterval(
  treatment: ProportionArm,
  control: ProportionArm,
  alpha: number,
  alternative: Alternative = 'two-sided',
): Estimate {
  const pt = treatment.conversions / treatment.n;
  const pc = control.conversions / control.n;
  const se = Math.sqrt((pt * (1 - pt)) / treatment.n + (pc * (1 - pc)) / control.n);
  const estimate = pt - pc;
  return { estimate, se, ci: intervalAround(estimate, se, criticalValue(alpha, alternative), alternative) };
}

/**
 * Confidence interval of x̄_t − x̄_c: (x̄_t − x̄_c) ± t_ν·√(s_t²/n_t + s_c²/n_c) with the Welch–
 * Satterthwaite ν (the same critical value as Welch's test).
 *
 * Reference: scipy.stats.ttest_ind(…, equal_var=False).confidence_interval(1 − α) (same formula).
 * @example meanDifferenceInterval({ mean: 12.6, sd: 4.1, n: 5000 }, { mean: 12.3, sd: 4.0, n: 5000 }, 0.05).ci // [0.14121158445979723, 0.45878841554020067]
 */
export function meanDifferenceInterval(
  treatment: MeanArm,
  control: MeanArm,
  alpha: number,
  alternative: Alternative = 'two-sided',
): Estimate & { df: number } {
  const se = Math.sqrt((treatment.sd * treatment.sd) / treatment.n + (control.sd * control.sd) / control.n);
  const estimate = treatment.mean - control.mean;
  const df = se > 0 ? welchDf(treatment, control) : treatment.n + control.n - 2;
  return { estimate, se, df, ci: intervalAround(estimate, se, criticalValue(alpha, alternative, df), alternative) };
}
