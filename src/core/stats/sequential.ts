import type { Alternative, Interval } from './alternative.js';
import { normalQuantile } from './normal.js';
import { brentRoot } from './root.js';

/**
 * Mixing parameter ρ of the normal-mixture confidence sequence, tuned so the sequence is
 * tightest near N* total units:
 *   ρ = √((−2·ln a + ln(−2·ln a + 1)) / N*),  a = α two-sided, a = 2α one-sided
 *
 * Reference: Waudby-Smith et al., "Time-uniform central limit theory and asymptotic confidence
 * sequences" (arXiv:2103.06476v7, eq. 161); GrowthBook gbstats frequentist/tests.py sequential_rho.
 * @example sequentialRho(0.05, 5000) // 0.03984006677137368
 */
export function sequentialRho(alpha: number, tuning: number, twoSided = true): number {
  const a = twoSided ? alpha : 2 * alpha;
  return Math.sqrt((-2 * Math.log(a) + Math.log(-2 * Math.log(a) + 1)) / tuning);
}

/**
 * Half-width of the asymptotic confidence sequence for an estimate with standard error `se`
 * after `n` total units (s² = n·se² is the per-unit variance):
 *   two-sided: √(s²) · √( 2(nρ² + 1)/(n²ρ²) · ln(√(nρ² + 1)/α) )
 *   one-sided: √(s²) · √( 2(nρ² + 1)/(n²ρ²) · ln(1 + √(nρ² + 1)/(2α)) )
 *
 * Reference: Waudby-Smith et al. (arXiv:2103.06476v7, eqs. 9 and 134); GrowthBook gbstats
 * sequential_interval_halfwidth / sequential_interval_halfwidth_one_sided.
 * @example sequentialHalfWidth(0.003, 20000, 0.05, 5000, 'two-sided') // 0.009381342431063972
 */
export function sequentialHalfWidth(
  se: number,
  n: number,
  alpha: number,
  tuning: number,
  alternative: Alternative,
  rho?: number,
): number {
  const twoSided = alternative === 'two-sided';
  const r = rho ?? sequentialRho(alpha, tuning, twoSided);
  const s2 = se * se * n;
  const nr2 = n * r * r;
  const factor = (2 * (nr2 + 1)) / (n * n * r * r);
  const log = twoSided ? Math.log(Math.sqrt(nr2 + 1) / alpha) : Math.log1p(Math.sqrt(nr2 + 1) / (2 * alpha));
  return Math.sqrt(s2 * factor * log);
}

export interface SequentialResult {
  /** Always-valid p-value: the smallest α′ whose confidence sequence (same ρ) excludes 0. */
  pValue: number;
  /** The (1 − α) confidence sequence at this look; one-sided → null at the open end. */
  ci: Interval;
}

/**
 * Always-valid inference for an estimate (e.g. a difference in means or rates) with standard
 * error `se` after `n` total units, valid under continuous monitoring.
 *   ci = estimate ± half-width (see sequentialHalfWidth), ρ from α and the tuning N* (default 5000)
 *   two-sided p = min(1, √(nρ² + 1) · exp(−E)),              E = nρ²·(estimate/se)² / (2(nρ² + 1))
 *   one-sided p = min(1, √(nρ² + 1) / (2·(e^E − 1)))  when the estimate is on the tested side, else 1
 * Both p-values are exactly the smallest α′ at which the sequence (with the same ρ) excludes 0,
 * i.e. the inversion of the half-width formulas; the two-sided one is GrowthBook's 1/e-value (eq. 155).
 *
 * Reference: Waudby-Smith et al. (arXiv:2103.06476v7); GrowthBook gbstats SequentialTwoSidedTTest,
 * SequentialOneSidedTreatment{Greater,Lesser}TTest (which bisect for the one-sided p-value).
 * @example sequentialTest(0.007, 0.003, 20000, 0.05, 'two-sided').pValue // 0.40872285882285075
 */
export function sequentialTest(
  estimate: number,
  se: number,
  n: number,
  alpha: number,
  alternative: Alternative,
  tuning = 5000,
): SequentialResult {
  const twoSided = alternative === 'two-sided';
  const rho = sequentialRho(alpha, tuning, twoSided);
  const hw = sequentialHalfWidth(se, n, alpha, tuning, alternative, rho);
  const ci: Interval =
    alternative === 'greater'
      ? [estimate - hw, null]
      : alternative === 'less'
        ? [null, estimate + hw]
        : [estimate - hw, estimate + hw];
  if (!(se > 0)) return { pValue: 1, ci };
  const nr2 = n * rho * rho;
  const z = estimate / se;
  const E = (nr2 * z * z) / (2 * (nr2 + 1));
  let pValue: number;
  if (twoSided) pValue = Math.sqrt(nr2 + 1) * Math.exp(-E);
  else {
    const right = alternative === 'greater' ? estimate > 0 : estimate < 0;
    pValue = right ? Math.sqrt(nr2 + 1) / (2 * Math.expm1(E)) : 1;
  }
  return { pValue: Math.min(1, pValue), ci };
}

/**
 * Units per arm at which the confidence sequence excludes 0 with probability `power` when the true
 * difference is `effect` — the sequential counterpart of a fixed-horizon sample size. With
 * per-unit variances v_c, v_t, n_c control and K·n_c treatment units, se(n_c) = √(v_c/n_c + v_t/(K·n_c))
 * and N = n_c(1 + K), it solves |effect| = halfWidth(se, N) + z_β·se (the estimate must land a
 * half-width beyond 0 with probability 1 − β), rounded up. Null for a zero effect.
 *
 * Reference: the fixed-horizon analogue |δ| = (z_α + z_β)·se with z_α replaced by the sequence's
 * half-width (Waudby-Smith et al., arXiv:2103.06476v7, eq. 9; see sequentialHalfWidth).
 * @example sequentialUnitsPerArm({ effect: 0.0045, varianceControl: 0.045 * 0.955, varianceTreatment: 0.0495 * 0.9505, alpha: 0.05, power: 0.8, alternative: 'two-sided' }) // { control: 80090, treatment: 80090 }
 */
export function sequentialUnitsPerArm(opts: {
  effect: number;
  varianceControl: number;
  varianceTreatment: number;
  alpha: number;
  power: number;
  alternative: Alternative;
  ratio?: number;
  tuning?: number;
}): { control: number; treatment: number } | null {
  const K = opts.ratio ?? 1;
  const tuning = opts.tuning ?? 5000;
  const d = Math.abs(opts.effect);
  if (!(d > 0) || !Number.isFinite(d) || !(opts.varianceControl + opts.varianceTreatment > 0)) return null;
  const zb = -normalQuantile(1 - opts.power);
  const rho = sequentialRho(opts.alpha, tuning, opts.alternative === 'two-sided');
  const g = (nc: number) => {
    const se = Math.sqrt(opts.varianceControl / nc + opts.varianceTreatment / (K * nc));
    return d - sequentialHalfWidth(se, nc * (1 + K), opts.alpha, tuning, opts.alternative, rho) - zb * se;
  };
  let hi = 16;
  while (g(hi) < 0) {
    hi *= 2;
    if (hi > 2 ** 60) return null;
  }
  const nc = hi <= 16 ? hi : brentRoot(g, hi / 2, hi, { tol: 1e-9 * hi });
  const control = Math.ceil(nc - 1e-9 * nc);
  return { control, treatment: Math.ceil(K * control - 1e-9 * K * control) };
}
