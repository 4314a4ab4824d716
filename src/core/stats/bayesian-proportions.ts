import { betaCdf, betaPdf, betaSf } from './beta-distribution.js';
import { integrate } from './integrate.js';
import { logBeta } from './log-gamma.js';
import { normalQuantileUpper } from './normal.js';
import { brentRoot } from './root.js';
import type { ProportionArm } from './two-proportion-z-test.js';

/** A Beta(alpha, beta) posterior of a conversion rate. */
export interface BetaPosterior {
  alpha: number;
  beta: number;
}

/**
 * Posterior of a conversion rate after `conversions` of `n` with a Beta(a₀, b₀) prior:
 * Beta(a₀ + x, b₀ + n − x). Default prior Beta(1, 1) (uniform).
 *
 * @example betaPosterior({ conversions: 45, n: 1000 }) // { alpha: 46, beta: 956 }
 */
export function betaPosterior(arm: ProportionArm, prior: BetaPosterior = { alpha: 1, beta: 1 }): BetaPosterior {
  return { alpha: prior.alpha + arm.conversions, beta: prior.beta + arm.n - arm.conversions };
}

/**
 * P(Y > X) for independent X ~ Beta(a1, b1), Y ~ Beta(a2, b2) with integer a2, by Evan Miller's
 * closed form, summed in log space with the term ratio
 *   P(Y > X) = Σ_{i=0}^{a2−1} B(a1+i, b1+b2) / ((b2+i)·B(1+i, b2)·B(a1, b1))
 *   termᵢ₊₁/termᵢ = (a1+i)(b2+i) / ((a1+b1+b2+i)(i+1)),  term₀ = B(a1, b1+b2)/B(a1, b1)
 */
function probYGreaterX(a1: number, b1: number, a2: number, b2: number): number {
  let logTerm = logBeta(a1, b1 + b2) - logBeta(a1, b1);
  let maxLog = logTerm;
  let scaled = 1; // Σ exp(logTermᵢ − maxLog)
  for (let i = 0; i < a2 - 1; i++) {
    logTerm += Math.log(((a1 + i) * (b2 + i)) / ((a1 + b1 + b2 + i) * (i + 1)));
    if (logTerm > maxLog) {
      scaled = scaled * Math.exp(maxLog - logTerm) + 1;
      maxLog = logTerm;
    } else scaled += Math.exp(logTerm - maxLog);
  }
  return Math.min(1, scaled * Math.exp(maxLog));
}

/**
 * P(p_B > p_A) for independent Beta posteriors, exactly.
 * Evan Miller's sum has four equivalent forms (summing over α_B, α_A, β_A or β_B, the last
 * three through P = 1 − P(A > B) and p ↔ 1 − p); the one with the fewest terms among those with an
 * integer count is used. Non-integer parameters fall back to adaptive quadrature of
 * ∫ f_A(x)·(1 − F_B(x)) dx.
 *
 * Reference: E. Miller, "Formulas for Bayesian A/B testing" (2015), evanmiller.org/bayesian-ab-testing.html;
 * check: scipy.integrate.quad(lambda x: beta.pdf(x, αA, βA) * beta.sf(x, αB, βB), 0, 1).
 * @example probBetaGreater({ alpha: 46, beta: 956 }, { alpha: 53, beta: 949 }) // 0.7657134580529446
 */
export function probBetaGreater(A: BetaPosterior, B: BetaPosterior): number {
  const options: Array<[number, () => number]> = [];
  if (Number.isInteger(B.alpha)) options.push([B.alpha, () => probYGreaterX(A.alpha, A.beta, B.alpha, B.beta)]);
  if (Number.isInteger(A.alpha)) options.push([A.alpha, () => 1 - probYGreaterX(B.alpha, B.beta, A.alpha, A.beta)]);
  if (Number.isInteger(A.beta)) options.push([A.beta, () => probYGreaterX(B.beta, B.alpha, A.beta, A.alpha)]);
  if (Number.isInteger(B.beta)) options.push([B.beta, () => 1 - probYGreaterX(A.beta, A.alpha, B.beta, B.alpha)]);
  if (options.length > 0 && Math.min(...options.map((o) => o[0])) <= 200_000) {
    options.sort((x, y) => x[0] - y[0]);
    return Math.min(1, Math.max(0, options[0]![1]()));
  }
  const [lo, hi] = betaSupport(A);
  return integrate((x) => betaPdf(x, A.alpha, A.beta) * betaSf(x, B.alpha, B.beta), lo, hi, QUAD);
}

/**
 * Expected loss of choosing B over A: E[max(p_A − p_B, 0)], by size-biasing
 * (x·Beta(α, β) density = mean · Beta(α+1, β) density):
 *   E[(p_A − p_B)⁺] = E[p_A]·P(A⁺ > B) − E[p_B]·P(A > B⁺),  A⁺ ~ Beta(α_A+1, β_A), B⁺ ~ Beta(α_B+1, β_B)
 *
 * Reference: C. Stucchio, "Bayesian A/B testing at VWO" (2015) §4; check:
 * scipy.integrate.dblquad of max(x − y, 0)·beta.pdf(x, αA, βA)·beta.pdf(y, αB, βB).
 * @example expectedLoss({ alpha: 46, beta: 956 }, { alpha: 53, beta: 949 }) // 0.0013247446830103888
 */
export function expectedLoss(A: BetaPosterior, B: BetaPosterior): number {
  const meanA = A.alpha / (A.alpha + A.beta);
  const meanB = B.alpha / (B.alpha + B.beta);
  const aPlusBeatsB = 1 - probBetaGreater({ alpha: A.alpha + 1, beta: A.beta }, B);
  const aBeatsBPlus = 1 - probBetaGreater(A, { alpha: B.alpha + 1, beta: B.beta });
  return Math.max(0, meanA * aPlusBeatsB - meanB * aBeatsBPlus);
}

/**
 * [lo, hi] ⊂ [0, 1] holding all but ~1e-18 of a Beta(α ≥ 1, β ≥ 1) distribution: mean ± k·sd with
 * k = 40 for the exponential-like shapes (min(α, β) small) down to 12 for near-normal ones.
 */
function betaSupport(P: BetaPosterior): [number, number] {
  const s = P.alpha + P.beta;
  const mean = P.alpha / s;
  const sd = Math.sqrt((P.alpha * P.beta) / (s * s * (s + 1)));
  const k = Math.min(P.alpha, P.beta) >= 100 ? 12 : 40;
  return [Math.max(0, mean - k * sd), Math.min(1, mean + k * sd)];
}

const QUAD = { absTol: 1e-14, relTol: 1e-11 };

/**
 * CDF of the relative uplift R = p_T/p_C − 1 for independent Beta posteriors:
 *   P(R ≤ r) = ∫ f_C(x)·F_T(min(1, (1 + r)·x)) dx
 * by adaptive Gauss–Kronrod quadrature over the bulk of f_C.
 *
 * @example relativeUpliftCdf({ alpha: 53, beta: 949 }, { alpha: 46, beta: 956 }, 0) // 0.23428654194707543
 */
export function relativeUpliftCdf(T: BetaPosterior, C: BetaPosterior, r: number): number {
  if (r <= -1) return 0;
  const [lo, hi] = betaSupport(C);
  const k = 1 + r;
  const upper = Math.min(hi, 1 / k); // beyond x = 1/k, F_T(kx) = 1
  let total = 0;
  if (upper > lo) {
    total += integrate((x) => betaPdf(x, C.alpha, C.beta) * betaCdf(k * x, T.alpha, T.beta), lo, upper, QUAD);
  }
  if (upper < hi) total += betaSf(Math.max(lo, upper), C.alpha, C.beta) - betaSf(hi, C.alpha, C.beta);
  return Math.min(1, Math.max(0, total));
}

/**
 * Equal-tailed (1 − α) credible interval of the relative uplift p_T/p_C − 1, by solving
 * relativeUpliftCdf(r) = α/2 and 1 − α/2 with Brent's method (deterministic, ~1e-10 relative;
 * no simulation). Starting brackets come from the delta method on ln(p_T/p_C).
 *
 * Reference: check with scipy.optimize.brentq on scipy.integrate.quad of the same CDF, or a
 * Monte-Carlo of beta draws (agrees to its own sampling error).
 * @example relativeUpliftCredibleInterval({ alpha: 53, beta: 949 }, { alpha: 46, beta: 956 }, 0.05) // [-0.21569255387595035, 0.7024056144532944]
 */
export function relativeUpliftCredibleInterval(T: BetaPosterior, C: BetaPosterior, alpha: number): [number, number] {
  const mean = (P: BetaPosterior) => P.alpha / (P.alpha + P.beta);
  // ln p ≈ normal with variance β/(α(α+β+1)) (delta method on the Beta variance)
  const logVar = (P: BetaPosterior) => P.beta / (P.alpha * (P.alpha + P.beta + 1));
  const center = Math.log(mean(T) / mean(C));
  const sd = Math.sqrt(logVar(T) + logVar(C));
  const solve = (target: number, z: number): number => {
    const f = (r: number) => relativeUpliftCdf(T, C, r) - target;
    // bracket in u = ln(1 + r)
    let lo = center + (z - 1) * sd - 0.1;
    let hi = center + (z + 1) * sd + 0.1;
    let step = Math.max(sd, 0.1);
    for (let i = 0; i < 200 && f(Math.expm1(lo)) > 0; i++, step *= 2) lo -= step;
    step = Math.max(sd, 0.1);
    for (let i = 0; i < 200 && f(Math.expm1(hi)) < 0; i++, step *= 2) hi += step;
    const u = brentRoot((v) => f(Math.expm1(v)), lo, hi, { tol: 1e-12 });
    return Math.expm1(u);
  };
  const z = normalQuantileUpper(alpha / 2);
  return [solve(alpha / 2, -z), solve(1 - alpha / 2, z)];
}

export interface BayesianProportionResult {
  /** P(p_treatment > p_control). */
  probBetter: number;
  /** E[max(p_c − p_t, 0)]: what shipping the treatment costs if it is in fact worse. */
  expectedLossTreatment: number;
  /** E[max(p_t − p_c, 0)]: what keeping the control costs if the treatment is in fact better. */
  expectedLossControl: number;
  /** Equal-tailed (1 − α) credible interval of p_t/p_c − 1. */
  relativeUpliftCi: [number, number];
}

/**
 * The Bayesian read of a proportion metric with Beta(1, 1) priors (see probBetaGreater,
 * expectedLoss, relativeUpliftCredibleInterval).
 *
 * @example bayesianProportions({ conversions: 52, n: 1000 }, { conversions: 45, n: 1000 }, 0.05).probBetter // 0.7657134580529446
 */
export function bayesianProportions(
  treatment: ProportionArm,
  control: ProportionArm,
  alpha: number,
  prior: BetaPosterior = { alpha: 1, beta: 1 },
): BayesianProportionResult {
  const T = betaPosterior(treatment, prior);
  const C = betaPosterior(control, prior);
  return {
    probBetter: probBetaGreater(C, T),
    expectedLossTreatment: expectedLoss(C, T),
    expectedLossControl: expectedLoss(T, C),
    relativeUpliftCi: relativeUpliftCredibleInterval(T, C, alpha),
  };
}
