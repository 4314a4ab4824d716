import { logGamma, stirlingRemainder } from './log-gamma.js';

/**
 * Loader's saddle-point pieces for binomial-type probabilities, accurate to full relative
 * precision even when ln Γ terms of size 1e7 would cancel.
 *
 *   stirlerr(n) = ln n! − ln(√(2πn)·(n/e)ⁿ)
 *   bd0(x, M)   = x·ln(x/M) + M − x   (deviance term, series in v = (x − M)/(x + M) when |v| < 0.1)
 *   ln b(x; n, p) = stirlerr(n) − stirlerr(x) − stirlerr(n − x) − bd0(x, np) − bd0(n − x, nq)
 *                   − ½·ln(2πx(n − x)/n)
 *
 * Reference: C. Loader, "Fast and accurate computation of binomial probabilities" (2000);
 * R's dbinom_raw / dhyper (src/nmath).
 */

const LN_2PI = 1.8378770664093454836;

/** stirlerr(n) = ln n! − ln(√(2πn)(n/e)ⁿ), n ≥ 0 (real). @example stirlerr(10) // 0.00833056343336287 */
export function stirlerr(n: number): number {
  if (n === 0) return 0;
  // ln n! = ln Γ(n+1) = ln Γ(n) + ln n, so stirlerr(n) = δ(n) (the Stirling remainder at n).
  if (n >= 10) return stirlingRemainder(n);
  return logGamma(n + 1) - (n + 0.5) * Math.log(n) + n - 0.5 * LN_2PI;
}

/** bd0(x, M) = x·ln(x/M) + M − x ≥ 0, stable when x ≈ M. @example bd0(10, 11) // 0.0468982019567514 */
export function bd0(x: number, M: number): number {
  if (Math.abs(x - M) < 0.1 * (x + M)) {
    const v = (x - M) / (x + M);
    let s = (x - M) * v;
    let ej = 2 * x * v;
    const v2 = v * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v2;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / M) + M - x;
}

/**
 * ln of the binomial probability C(n, x)·pˣ·qⁿ⁻ˣ (q = 1 − p passed separately so either can be
 * tiny), by Loader's method.
 *
 * @example Math.exp(logBinomialRaw(3, 10, 0.5, 0.5)) // 0.11718750000000008
 */
export function logBinomialRaw(x: number, n: number, p: number, q: number): number {
  if (p === 0) return x === 0 ? 0 : -Infinity;
  if (q === 0) return x === n ? 0 : -Infinity;
  if (x < 0 || x > n) return -Infinity;
  if (x === 0) {
    if (n === 0) return 0;
    return p < 0.1 ? -bd0(n, n * q) - n * p : n * Math.log(q);
  }
  if (x === n) return q < 0.1 ? -bd0(n, n * p) - n * q : n * Math.log(p);
  const lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
  const lf = LN_2PI + Math.log(x) + Math.log1p(-x / n);
  return lc - 0.5 * lf;
}
