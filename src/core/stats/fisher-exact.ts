import type { Alternative } from './alternative.js';
import { hypergeometricRatio, hypergeometricSupport, logHypergeometricPmf } from './hypergeometric.js';
import type { ProportionArm } from './two-proportion-z-test.js';

export interface FisherExactResult {
  /** The sample odds ratio (x_t·(n_c − x_c)) / ((n_t − x_t)·x_c), as scipy reports it. */
  statistic: number;
  pValue: number;
}

/** Relative tolerance when comparing table probabilities (R's fisher.test uses 1 + 1e-7). */
const REL_ERR = 1 + 1e-7;

/**
 * Fisher's exact test on [[x_t, n_t − x_t], [x_c, n_c − x_c]]. With the margins fixed, x_t is
 * hypergeometric: population N = n_t + n_c, successes K = x_t + x_c, draws n_t.
 *   greater:   P(X ≥ x_t)  (treatment converts more)
 *   less:      P(X ≤ x_t)
 *   two-sided: Σ P(k) over tables with P(k) ≤ P(x_t)·(1 + 1e-7)
 * Sums walk the support from the observed table outwards with the ratio P(k+1)/P(k), so tail
 * p-values keep full relative precision (no 1 − cdf).
 *
 * Reference: scipy.stats.fisher_exact([[x_t, n_t−x_t], [x_c, n_c−x_c]], alternative=…);
 * R fisher.test (the 1e-7 tolerance).
 * @example fisherExact({ conversions: 3, n: 10 }, { conversions: 9, n: 12 }).pValue // 0.0835573095635013
 */
export function fisherExact(
  treatment: ProportionArm,
  control: ProportionArm,
  opts: { alternative?: Alternative } = {},
): FisherExactResult {
  const a = treatment.conversions;
  const b = treatment.n - treatment.conversions;
  const c = control.conversions;
  const d = control.n - control.conversions;
  const statistic = b * c === 0 ? (a * d === 0 ? NaN : Infinity) : (a * d) / (b * c);
  const N = treatment.n + control.n;
  const K = a + c;
  const n = treatment.n;
  const alternative = opts.alternative ?? 'two-sided';
  const [lo, hi] = hypergeometricSupport(N, K, n);
  if (lo === hi) return { statistic, pValue: 1 };

  const pmf = (k: number) => Math.exp(logHypergeometricPmf(k, N, K, n));
  /** Σ_{k=from..to} P(k) walking away from `from` (to ≥ from: upwards, else downwards). */
  const tailSum = (from: number, to: number, limit?: number): number => {
    let p = pmf(from);
    let sum = 0;
    if (to >= from) {
      for (let k = from; k <= to; k++) {
        if (limit === undefined || p <= limit) sum += p;
        if (p === 0 || (sum > 0 && p < sum * 1e-17 && k > from)) break;
        if (k < to) p *= hypergeometricRatio(k, N, K, n);
      }
    } else {
      for (let k = from; k >= to; k--) {
        if (limit === undefined || p <= limit) sum += p;
        if (p === 0 || (sum > 0 && p < sum * 1e-17 && k < from)) break;
        if (k > to) p /= hypergeometricRatio(k - 1, N, K, n);
      }
    }
    return sum;
  };

  const mode = Math.floor(((n + 1) * (K + 1)) / (N + 2));
  // One-sided: sum the short tail (from the observed table away from the mode); the long one as 1 − short.
  if (alternative === 'greater') {
    const pValue = a > mode ? tailSum(a, hi) : a === lo ? 1 : 1 - tailSum(a - 1, lo);
    return { statistic, pValue: Math.min(1, Math.max(0, pValue)) };
  }
  if (alternative === 'less') {
    const pValue = a < mode ? tailSum(a, lo) : a === hi ? 1 : 1 - tailSum(a + 1, hi);
    return { statistic, pValue: Math.min(1, Math.max(0, pValue)) };
  }

  // Two-sided: the observed side's tail from a outwards, plus the far side's tables that are no
  // more probable than the observed one.
  const pObs = pmf(a);
  const pMode = pmf(mode);
  if (Math.abs(pObs - pMode) <= 1e-14 * Math.max(pObs, pMode)) return { statistic, pValue: 1 };
  const limit = pObs * REL_ERR;
  let pValue: number;
  if (a < mode) {
    pValue = tailSum(a, lo, limit) + farTail(mode, hi, +1, limit, pMode);
  } else {
    pValue = tailSum(a, hi, limit) + farTail(mode, lo, -1, limit, pMode);
  }
  return { statistic, pValue: Math.min(1, pValue) };

  /** From the mode towards `end`, skip tables more probable than `limit`, then sum the rest. */
  function farTail(start: number, end: number, step: 1 | -1, lim: number, pStart: number): number {
    let k = start;
    let p = pStart;
    while (p > lim && k !== end) {
      p = step > 0 ? p * hypergeometricRatio(k, N, K, n) : p / hypergeometricRatio(k - 1, N, K, n);
      k += step;
    }
    if (p > lim) return 0;
    return tailSum(k, end, lim);
  }
}
