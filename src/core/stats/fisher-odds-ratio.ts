import type { Alternative, Interval } from './alternative.js';
import { hypergeometricSupport, logHypergeometricPmf } from './hypergeometric.js';
import { brentRoot } from './root.js';
import type { ProportionArm } from './two-proportion-z-test.js';

export interface OddsRatioEstimate {
  /** Conditional maximum-likelihood odds ratio (0 or Infinity at the ends of the support). */
  estimate: number;
  /** Exact conditional interval; one-sided → 0 or null (∞) at the open end. */
  ci: Interval;
}

/**
 * The odds ratio of [[x_t, n_t − x_t], [x_c, n_c − x_c]] as R's fisher.test reports it: conditional
 * on the margins, X = x_t follows Fisher's noncentral hypergeometric distribution
 *   P_ψ(X = k) ∝ C(K, k)·C(N − K, n_t − k)·ψᵏ,  N = n_t + n_c, K = x_t + x_c,
 * the estimate is the conditional MLE (E_ψ[X] = x_t) and the (1 − α) interval inverts the exact
 * tests: P_ψL(X ≥ x_t) = α/2 and P_ψU(X ≤ x_t) = α/2 (one-sided: α). The roots are found in ln ψ
 * by Brent's method to full precision (R's uniroot stops at ~1e-4). The sums run over the support
 * within 40 central standard deviations (and ≥ 50 values) of x_t, where every distribution the
 * roots visit has all but ~e⁻⁸⁰⁰ of its mass.
 *
 * Reference: R's stats::fisher.test (conf.int, estimate); Cornfield (1956); Agresti, Categorical
 * Data Analysis (3rd ed.) §3.5.
 * @example fisherOddsRatio({ conversions: 9, n: 21 }, { conversions: 3, n: 20 }, 0.05).estimate // 4.099344691227241
 */
export function fisherOddsRatio(
  treatment: ProportionArm,
  control: ProportionArm,
  alpha: number,
  alternative: Alternative = 'two-sided',
): OddsRatioEstimate {
  const x = treatment.conversions;
  const N = treatment.n + control.n;
  const K = treatment.conversions + control.conversions;
  const n = treatment.n;
  const [lo, hi] = hypergeometricSupport(N, K, n);
  if (lo === hi) return { estimate: NaN, ci: [0, null] };
  const variance = (n * K * (N - K) * (N - n)) / (N * N * Math.max(1, N - 1));
  const w = Math.max(50, Math.ceil(40 * Math.sqrt(variance)));
  const from = Math.max(lo, x - w);
  const to = Math.min(hi, x + w);
  const logd = new Float64Array(to - from + 1);
  for (let k = from; k <= to; k++) logd[k - from] = logHypergeometricPmf(k, N, K, n);

  /** Normalized noncentral probabilities at ln ψ = t. */
  const probs = (t: number): Float64Array => {
    const d = new Float64Array(logd.length);
    let max = -Infinity;
    for (let i = 0; i < d.length; i++) max = Math.max(max, (d[i] = logd[i]! + t * (i + from)));
    let sum = 0;
    for (let i = 0; i < d.length; i++) sum += d[i] = Math.exp(d[i]! - max);
    for (let i = 0; i < d.length; i++) d[i]! /= sum;
    return d;
  };
  const mean = (t: number) => probs(t).reduce((s, p, i) => s + p * (i + from), 0);
  /** P_ψ(X ≥ x) (upper) or P_ψ(X ≤ x). */
  const tail = (t: number, upper: boolean) => {
    const d = probs(t);
    let s = 0;
    for (let i = 0; i < d.length; i++) if (upper ? i + from >= x : i + from <= x) s += d[i]!;
    return s;
  };
  /** The ln ψ where the increasing g crosses 0. */
  const solve = (g: (t: number) => number): number => {
    let a = -1;
    let b = 1;
    while (g(a) > 0) a *= 2;
    while (g(b) < 0) b *= 2;
    return brentRoot(g, a, b, { tol: 1e-14 });
  };

  const estimate = x === lo ? 0 : x === hi ? Infinity : Math.exp(solve((t) => mean(t) - x));
  const lower = (a: number) => (x === lo ? 0 : Math.exp(solve((t) => tail(t, true) - a)));
  const upper = (a: number) => (x === hi ? null : Math.exp(solve((t) => a - tail(t, false))));
  const ci: Interval =
    alternative === 'greater'
      ? [lower(alpha), null]
      : alternative === 'less'
        ? [0, upper(alpha)]
        : [lower(alpha / 2), upper(alpha / 2)];
  return { estimate, ci };
}
