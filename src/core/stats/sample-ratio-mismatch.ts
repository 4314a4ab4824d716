import { chiSquareSf } from './chi-square.js';

export interface GoodnessOfFitResult {
  /** Pearson's X² = Σ (O − E)² / E. */
  statistic: number;
  /** k − 1 for k arms. */
  df: number;
  pValue: number;
  /** Expected counts E = total · proportion (proportions are normalised to sum to 1). */
  expected: number[];
}

/**
 * Chi-square goodness of fit of observed counts against expected proportions — the sample-ratio
 * mismatch (SRM) check of an experiment's units per arm:
 *   X² = Σᵢ (Oᵢ − N·wᵢ)² / (N·wᵢ),  wᵢ = proportionᵢ/Σ proportion,  p = P(χ²_{k−1} > X²)
 * No units at all gives X² = 0, p = 1.
 *
 * Reference: scipy.stats.chisquare(observed, f_exp=N·w); GrowthBook gbstats check_srm.
 * @example chiSquareGoodnessOfFit([5030, 4970], [1, 1]).pValue // 0.5485062355001472
 */
export function chiSquareGoodnessOfFit(
  observed: readonly number[],
  proportions: readonly number[],
): GoodnessOfFitResult {
  if (observed.length !== proportions.length || observed.length < 2) {
    throw new RangeError('chiSquareGoodnessOfFit: need at least two arms and one proportion per arm');
  }
  if (proportions.some((w) => !(w > 0))) throw new RangeError('chiSquareGoodnessOfFit: proportions must be > 0');
  const total = observed.reduce((s, o) => s + o, 0);
  const weight = proportions.reduce((s, w) => s + w, 0);
  const expected = proportions.map((w) => (total * w) / weight);
  const df = observed.length - 1;
  if (total === 0) return { statistic: 0, df, pValue: 1, expected };
  let statistic = 0;
  observed.forEach((o, i) => {
    const e = expected[i]!;
    statistic += ((o - e) * (o - e)) / e;
  });
  return { statistic, df, pValue: chiSquareSf(statistic, df), expected };
}
