/**
 * Brent's method: a root of a continuous f on [lo, hi] where f(lo) and f(hi) differ in sign.
 * Inverse quadratic interpolation / secant steps with bisection fallback; converges to
 * |hi − lo| ≤ 2·ε·|x| + tol.
 *
 * Reference: R. P. Brent, "Algorithms for Minimization without Derivatives" (1973), ch. 4
 * (zeroin); scipy.optimize.brentq.
 * @example brentRoot((x) => x * x - 2, 0, 2) // 1.414213562373095
 */
export function brentRoot(
  f: (x: number) => number,
  lo: number,
  hi: number,
  opts: { tol?: number; maxIter?: number } = {},
): number {
  const tol = opts.tol ?? 0;
  const maxIter = opts.maxIter ?? 200;
  let a = lo;
  let b = hi;
  let fa = f(a);
  let fb = f(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (Math.sign(fa) === Math.sign(fb)) {
    throw new RangeError(`brentRoot: f(${lo}) and f(${hi}) have the same sign`);
  }
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let i = 0; i < maxIter; i++) {
    if (Math.sign(fb) === Math.sign(fc)) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol1 = 2 * Number.EPSILON * Math.abs(b) + 0.5 * tol;
    const xm = 0.5 * (c - b);
    if (Math.abs(xm) <= tol1 || fb === 0) return b;
    if (Math.abs(e) >= tol1 && Math.abs(fa) > Math.abs(fb)) {
      const s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * xm * s;
        q = 1 - s;
      } else {
        const qq = fa / fc;
        const r = fb / fc;
        p = s * (2 * xm * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      p = Math.abs(p);
      if (2 * p < Math.min(3 * xm * q - Math.abs(tol1 * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = xm;
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol1 ? d : xm > 0 ? tol1 : -tol1;
    fb = f(b);
  }
  return b;
}
