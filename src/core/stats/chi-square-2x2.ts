import { normalCdf, normalSf } from './normal.js';
import { chiSquareSf } from './chi-square.js';
import type { Alternative } from './alternative.js';
import type { ProportionArm } from './two-proportion-z-test.js';

export interface ChiSquare2x2Result {
  /** Pearson's X² (Yates-corrected when asked). */
  statistic: number;
  df: 1;
  pValue: number;
}

/**
 * Pearson's chi-square test of independence on the 2×2 table
 * [[x_t, n_t − x_t], [x_c, n_c − x_c]]:
 *   X² = Σ (|O − E| − c)² / E,   E = row total · column total / N,
 *   c = 0 without correction, c = min(½, |O − E|) with Yates' continuity correction (scipy's rule).
 * Two-sided p = P(χ²₁ > X²). For one-sided alternatives the signed root √X²·sign(p̂_t − p̂_c) is
 * referred to the normal distribution (without Yates this is exactly the pooled z-test).
 * A table with an empty row or column gives X² = 0, p = 1.
 *
 * Reference: scipy.stats.chi2_contingency([[x_t, n_t−x_t], [x_c, n_c−x_c]], correction=…).
 * @example chiSquare2x2({ conversions: 520, n: 10000 }, { conversions: 450, n: 10000 }).pValue // 0.02121510955328949
 */
export function chiSquare2x2(
  treatment: ProportionArm,
  control: ProportionArm,
  opts: { yates?: boolean; alternative?: Alternative } = {},
): ChiSquare2x2Result {
  const observed = [
    [treatment.conversions, treatment.n - treatment.conversions],
    [control.conversions, control.n - control.conversions],
  ];
  const rows = [treatment.n, control.n];
  const cols = [
    treatment.conversions + control.conversions,
    treatment.n + control.n - treatment.conversions - control.conversions,
  ];
  const total = treatment.n + control.n;
  if (rows.some((r) => r === 0) || cols.some((c) => c === 0)) return { statistic: 0, df: 1, pValue: 1 };
  let statistic = 0;
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      const e = (rows[i]! * cols[j]!) / total;
      let dev = Math.abs(observed[i]![j]! - e);
      if (opts.yates) dev -= Math.min(0.5, dev);
      statistic += (dev * dev) / e;
    }
  }
  const alternative = opts.alternative ?? 'two-sided';
  let pValue: number;
  if (alternative === 'two-sided') pValue = chiSquareSf(statistic, 1);
  else {
    const direction = Math.sign(treatment.conversions / treatment.n - control.conversions / control.n);
    const z = direction * Math.sqrt(statistic);
    pValue = alternative === 'greater' ? normalSf(z) : normalCdf(z);
  }
  return { statistic, df: 1, pValue };
}
