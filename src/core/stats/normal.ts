import { erfc } from './erf.js';

const SQRT1_2 = Math.SQRT1_2;

/**
 * Standard normal density φ(x) = exp(−x²/2)/√(2π).
 *
 * @example normalPdf(1) // 0.24197072451914337
 */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Standard normal CDF Φ(x) = ½·erfc(−x/√2), with Cody's erfc, so the lower tail keeps full
 * relative precision (Φ(−37) ≈ 5.7e-300, not 0).
 *
 * Reference: W. J. Cody (1969), via erfc; scipy.stats.norm.cdf.
 * @example normalCdf(1.959963984540054) // 0.975
 */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/**
 * Standard normal survival function 1 − Φ(x) = ½·erfc(x/√2), accurate in the upper tail.
 *
 * @example normalSf(5) // 2.866515718791937e-7
 */
export function normalSf(x: number): number {
  return 0.5 * erfc(x * SQRT1_2);
}

/**
 * Standard normal quantile Φ⁻¹(p) — Wichura's Algorithm AS 241 (PPND16), relative accuracy
 * about 1e-16 over (0, 1). Three rational approximations: |p − ½| ≤ 0.425 in (p − ½)²;
 * otherwise in r = √(−ln min(p, 1−p)), for r ≤ 5 and r > 5.
 *
 * Reference: M. J. Wichura, "Algorithm AS 241: The percentage points of the normal
 * distribution", Applied Statistics 37 (1988) 477–484; R's qnorm; scipy.stats.norm.ppf.
 * @example normalQuantile(0.975) // 1.9599639845400536
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r +
          45921.953931549871457) *
          r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852854561 + 28729.085735721942674) * r + 39307.89580009271061) * r +
        21213.794301586595867) *
        r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  return tailQuantile(q < 0 ? p : 1 - p, q < 0 ? -1 : 1);
}

/**
 * Upper-tail quantile: the x with 1 − Φ(x) = q, i.e. −Φ⁻¹(q), without forming 1 − q
 * (so q = 1e-300 works).
 *
 * @example normalQuantileUpper(0.025) // 1.9599639845400538
 */
export function normalQuantileUpper(q: number): number {
  return -normalQuantile(q);
}

/** AS 241 for min(p, 1−p) = tail < 0.075; sign gives the side. */
function tailQuantile(tail: number, sign: number): number {
  let r = Math.sqrt(-Math.log(tail));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
        1.27045825245236838258) *
        r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
        0.14810397642748007459) *
        r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
        0.026532189526576123093) *
        r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
        7.868691311456132591e-4) *
        r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return sign * val;
}
