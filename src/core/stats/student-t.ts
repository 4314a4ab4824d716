import { incompleteBeta } from './incomplete-beta.js';
import { logBeta } from './log-gamma.js';
import { normalCdf, normalPdf, normalQuantileUpper, normalSf } from './normal.js';

/**
 * The two tail pieces for Student's t with df > 0: x = df/(df + t²) and y = t²/(df + t²),
 * formed without overflow or cancellation.
 */
function betaArgs(t: number, df: number): [number, number] {
  const rt = Math.sqrt(df);
  if (Math.abs(t) <= rt) {
    const s = (t / rt) * (t / rt);
    return [1 / (1 + s), s / (1 + s)];
  }
  const u = (rt / t) * (rt / t);
  return [u / (1 + u), 1 / (1 + u)];
}

/**
 * Upper tail P(T > t) of Student's t with df > 0 degrees of freedom (any real df, incl. huge):
 *   P(T > |t|) = ½·I_{df/(df+t²)}(df/2, ½)
 * using the incomplete beta pair so both tails keep full relative precision; df = ∞ is the normal.
 *
 * Reference: Abramowitz & Stegun 26.7.1; scipy.stats.t.sf.
 * @example tSf(2, 10) // 0.03669401738537014
 */
export function tSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (df === Infinity) return normalSf(t);
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  if (Math.abs(t) / Math.sqrt(df) > 1e50) {
    // Far tail: I_x(a, ½) = xᵃ/(a·B(a, ½))·(1 + O(x)) with x = df/(df + t²) < 1e-100.
    const tail = Math.exp((df / 2 - 1) * Math.log(df) - df * Math.log(Math.abs(t)) - logBeta(df / 2, 0.5));
    return t > 0 ? tail : 1 - tail;
  }
  const [x, y] = betaArgs(t, df);
  const [ix, cx] = incompleteBeta(df / 2, 0.5, x, y);
  const tail = 0.5 * ix; // P(T > |t|)
  return t >= 0 ? tail : 0.5 + 0.5 * cx;
}

/**
 * CDF P(T ≤ t) of Student's t with df > 0 (see tSf).
 *
 * @example tCdf(-2, 10) // 0.03669401738537014
 */
export function tCdf(t: number, df: number): number {
  if (df === Infinity) return normalCdf(t);
  return tSf(-t, df);
}

/**
 * Density of Student's t: (1 + t²/df)^(−(df+1)/2) / (√df·B(df/2, ½)).
 *
 * @example tPdf(0, 1) // 0.3183098861837916 (≈ 1/π)
 */
export function tPdf(t: number, df: number): number {
  if (df === Infinity) return normalPdf(t);
  const s = t / Math.sqrt(df);
  if (Math.abs(s) > 1e50)
    return Math.exp(-(df + 1) * Math.log(Math.abs(s)) - 0.5 * Math.log(df) - logBeta(df / 2, 0.5));
  return Math.exp(-((df + 1) / 2) * Math.log1p((t / df) * t) - 0.5 * Math.log(df) - logBeta(df / 2, 0.5));
}

/**
 * Quantile of Student's t: the t with P(T ≤ t) = p, for any real df > 0.
 * Closed forms for df = 1 (−cot(πp)) and df = 2 ((2p−1)/√(2p(1−p))); otherwise a starting value
 * from the Cornish–Fisher expansion around z = Φ⁻¹ or Hill's tail asymptote
 * t ≈ √df·(q·df·B(df/2, ½))^(−1/df), whichever fits better, refined by Newton's method on
 * ln P(T > t) = ln q with a bisection safeguard, to full double precision.
 *
 * Reference: G. W. Hill, "Algorithm 396: Student's t-quantiles", CACM 13 (1970);
 * scipy.stats.t.ppf.
 * @example tQuantile(0.975, 10) // 2.2281388519862735
 */
export function tQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(df > 0)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (df === Infinity) return -normalQuantileUpper(p);
  const upper = p > 0.5;
  const q = upper ? 1 - p : p; // lower-tail probability of −|t|; exact for p ≥ ½
  if (q === 0.5) return 0;
  const sign = upper ? 1 : -1;
  if (df === 1) return sign / Math.tan(Math.PI * q);
  if (df === 2) return sign * ((1 - 2 * q) / Math.sqrt(2 * q * (1 - q)));
  return sign * tQuantileUpper(q, df);
}

/** The t > 0 with P(T > t) = q, 0 < q < ½. */
function tQuantileUpper(q: number, df: number): number {
  const lnq = Math.log(q);
  const g = (t: number) => Math.log(tSf(t, df)) - lnq;

  const z = normalQuantileUpper(q);
  const z2 = z * z;
  const cf =
    z +
    (z * (z2 + 1)) / (4 * df) +
    (z * (5 * z2 * z2 + 16 * z2 + 3)) / (96 * df * df) +
    (z * (3 * z2 * z2 * z2 + 19 * z2 * z2 + 17 * z2 - 15)) / (384 * df * df * df);
  const tail = Math.sqrt(df) * Math.exp(-(Math.log(q * df) + logBeta(df / 2, 0.5)) / df);
  const candidates = [cf, tail].filter((t) => Number.isFinite(t) && t > 0);
  let t = candidates[0] ?? 1;
  let gt = g(t);
  for (const c of candidates.slice(1)) {
    const gc = g(c);
    if (Math.abs(gc) < Math.abs(gt)) {
      t = c;
      gt = gc;
    }
  }

  // Bracket [lo, hi] with g(lo) > 0 ≥ g(hi) (g decreases in t).
  let lo = 0;
  let hi = Infinity;
  if (gt > 0) lo = t;
  else hi = t;
  for (let i = 0; i < 200; i++) {
    if (gt === 0) return t;
    const sf = Math.exp(gt + lnq);
    let next = t + (gt * sf) / tPdf(t, df);
    if (!(next > lo && next < hi)) next = hi === Infinity ? Math.max(2 * t, lo * 2, 1) : 0.5 * (lo + hi);
    if (Math.abs(next - t) <= 4e-16 * t) return next;
    t = next;
    gt = g(t);
    if (gt > 0) lo = t;
    else hi = t;
    if (hi < Infinity && hi - lo <= 4e-16 * hi) return t;
  }
  return t;
}
