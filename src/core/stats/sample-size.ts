import { noncentralTCdf } from './noncentral-t.js';
import { normalCdf, normalQuantileUpper, normalSf } from './normal.js';
import { brentRoot } from './root.js';
import { tQuantile } from './student-t.js';

/** How the sample size of a two-arm comparison is computed. */
export type SampleSizeMethod = 'pooled' | 'unpooled' | 'arcsine' | 'evanmiller' | 't' | 'continuous';
export type Sides = 'two-sided' | 'one-sided';

export interface SampleSizeDesign {
  method: SampleSizeMethod;
  /** Family-wise α; split Bonferroni-style across `variants` × `metrics` comparisons. */
  alpha: number;
  power: number;
  alternative: Sides;
  /** K = n_treatment / n_control. */
  ratio: number;
  /** Number of treatment arms V (each compared with the control). */
  variants: number;
  /** Primary metrics K analyzed together (default 1): α is split over V·K comparisons. */
  metrics?: number;
  /** Proportions: the control rate p₁ ∈ (0, 1). Continuous: the control mean (optional, for relative MDEs). */
  baseline?: number;
  /** Continuous: the standard deviation S of the metric (per unit). */
  sd?: number;
}

export interface SampleSizeResult {
  method: SampleSizeMethod;
  alpha: number;
  /** α / (V·K), the level of each comparison. */
  alphaPerComparison: number;
  power: number;
  alternative: Sides;
  ratio: number;
  variants: number;
  metrics: number;
  baseline: number | null;
  sd: number | null;
  /** p₂ = p₁ + D (proportions), else null. */
  treatmentRate: number | null;
  mdeAbsolute: number;
  /** D / baseline, or null without a (non-zero) baseline. */
  mdeRelative: number | null;
  /** The unrounded n_control of the formula (before ceil). */
  controlExact: number;
  perVariant: { control: number; treatment: number };
  /** control + V·treatment. */
  total: number;
}

/**
 * Rounds up, forgiving floating-point noise of 1e-10 relative (3000.0000000004 → 3000), at most
 * 1e-6 absolute: 1e-10 of 1.4e12 units would be 141 units, and ceil(1·control) would then differ
 * from control at ratio 1.
 */
export function ceilUnits(x: number): number {
  return Math.ceil(x - Math.min(1e-10 * Math.max(1, Math.abs(x)), 1e-6));
}

function zValues(design: SampleSizeDesign): { za: number; zb: number; alphaEach: number; sides: 1 | 2 } {
  const sides = design.alternative === 'two-sided' ? 2 : 1;
  const alphaEach = alphaPerComparison(design);
  return { za: normalQuantileUpper(alphaEach / sides), zb: normalQuantileUpper(1 - design.power), alphaEach, sides };
}

/**
 * The level of each comparison: α / (V·K) for V treatment arms and K primary metrics. Holm's first
 * step is this Bonferroni level, so sizing at it gives Holm (which `analyze` applies) at least the
 * requested power for each comparison; the conventional, slightly conservative choice.
 */
export function alphaPerComparison(design: SampleSizeDesign): number {
  return design.alpha / (design.variants * (design.metrics ?? 1));
}

/**
 * Power of the two-sample t-test (equal variances) with n₁ control and K·n₁ treatment units for a
 * difference D and standard deviation S, as statsmodels' TTestIndPower and R's power.t.test(…,
 * strict = TRUE): ν = n₁(1 + K) − 2, δ = D/(S·√(1/n₁ + 1/(K·n₁))), c = t_ν(1 − α/sides),
 *   power = 1 − F_{ν,δ}(c) + [two-sided] F_{ν,δ}(−c),  F the noncentral t CDF.
 */
export function tTestPower(D: number, S: number, n1: number, K: number, alphaEach: number, sides: 1 | 2): number {
  const df = n1 * (1 + K) - 2;
  if (!(df > 0)) return 0;
  const ncp = Math.abs(D) / (S * Math.sqrt(1 / n1 + 1 / (K * n1)));
  const crit = tQuantile(1 - alphaEach / sides, df);
  let p = 1 - noncentralTCdf(crit, df, ncp);
  if (sides === 2) p += noncentralTCdf(-crit, df, ncp);
  return p;
}

/**
 * statsmodels' NormalIndPower power for Cohen's h with n₁ control units and ratio K:
 *   nobs = n₁K/(1 + K);  power = Φ̄(c − |h|√nobs) + [two-sided] Φ(−c − |h|√nobs),  c = z(1 − α/sides)
 */
function arcsinePower(h: number, n1: number, K: number, alphaEach: number, sides: 1 | 2): number {
  const crit = normalQuantileUpper(alphaEach / sides);
  const shift = Math.abs(h) * Math.sqrt((n1 * K) / (1 + K));
  let p = normalSf(crit - shift);
  if (sides === 2) p += normalCdf(-crit - shift);
  return p;
}

/** Cohen's h = 2·asin(√p₂) − 2·asin(√p₁) (statsmodels proportion_effectsize(p₂, p₁)). */
export function cohensH(p2: number, p1: number): number {
  return 2 * Math.asin(Math.sqrt(p2)) - 2 * Math.asin(Math.sqrt(p1));
}

/**
 * The unrounded control-arm size n_control for an absolute effect D (p₂ = p₁ + D for proportions),
 * with z_a = z(1 − α/(V·sides)), z_b = z(power), K = ratio, q = 1 − p:
 *   pooled:     (z_a·√(p̄q̄(1 + 1/K)) + z_b·√(p₁q₁ + p₂q₂/K))² / D²,  p̄ = (p₁ + K·p₂)/(1 + K)
 *   unpooled:   (z_a + z_b)²·(p₁q₁ + p₂q₂/K) / D²
 *   arcsine:    the n₁ solving statsmodels' NormalIndPower power(h, n₁, α, ratio=K) = power exactly,
 *               h = 2·asin√p₂ − 2·asin√p₁ (two-sided power includes the far tail, as statsmodels does)
 *   evanmiller: (z_a·√(p₁q₁(1 + 1/K)) + z_b·√(p₁q₁ + p₂q₂/K))² / D²  — with K = 1 and two sides the
 *               evanmiller.org calculator: null term √(2p₁q₁) at the baseline, alternative unpooled
 *   t:          the n₁ solving tTestPower(D, S, n₁, K) = power (noncentral t; the default for means)
 *   continuous: (z_a + z_b)²·S²·(1 + 1/K) / D²  (the normal approximation, 1–2 units per arm fewer)
 *
 * Reference: Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions (3rd ed.) §4.2
 * (pooled); Chow, Shao & Wang, Sample Size Calculations in Clinical Research §4.2 (unpooled, continuous);
 * statsmodels.stats.power.NormalIndPower().solve_power(effect_size=proportion_effectsize(p₂, p₁),
 * alpha, power, ratio=K) (arcsine); statsmodels TTestIndPower().solve_power(effect_size=D/S, alpha,
 * power, ratio=K) = R power.t.test(delta=D, sd=S, power, strict=TRUE) for K = 1 (t); E. Miller, evanmiller.org/ab-testing/sample-size.html.
 * @example controlSizeExact({ method: 'pooled', alpha: 0.05, power: 0.8, alternative: 'two-sided', ratio: 1, variants: 1, baseline: 0.1 }, 0.01) // 14750.790469044938
 */
export function controlSizeExact(design: SampleSizeDesign, mde: number): number {
  const { za, zb, alphaEach, sides } = zValues(design);
  const K = design.ratio;
  const D = mde;
  if (design.method === 'continuous' || design.method === 't') {
    const S = design.sd!;
    const normal = ((za + zb) * (za + zb) * S * S * (1 + 1 / K)) / (D * D);
    if (design.method === 'continuous') return normal;
    // The t-test needs more units than the z approximation; its n lies within [normal, 1.5·normal + 10].
    const f = (n: number) => tTestPower(D, S, n, K, alphaEach, sides) - design.power;
    const lo = Math.max(normal, 2 / (1 + K) + 1e-9);
    if (f(lo) >= 0) return lo;
    let hi = 1.5 * normal + 10;
    while (f(hi) < 0) hi *= 2;
    return brentRoot(f, lo, hi, { tol: 1e-10 * hi });
  }
  const p1 = design.baseline!;
  const p2 = p1 + D;
  const v1 = p1 * (1 - p1);
  const v2 = p2 * (1 - p2);
  switch (design.method) {
    case 'pooled': {
      const pbar = (p1 + K * p2) / (1 + K);
      const a = za * Math.sqrt(pbar * (1 - pbar) * (1 + 1 / K)) + zb * Math.sqrt(v1 + v2 / K);
      return (a * a) / (D * D);
    }
    case 'unpooled':
      return ((za + zb) * (za + zb) * (v1 + v2 / K)) / (D * D);
    case 'evanmiller': {
      const a = za * Math.sqrt(v1 * (1 + 1 / K)) + zb * Math.sqrt(v1 + v2 / K);
      return (a * a) / (D * D);
    }
    case 'arcsine': {
      const h = cohensH(p2, p1);
      // One-tail closed form is an upper bound (the far tail only adds power).
      const hi = ((za + zb) / Math.abs(h)) ** 2 * ((1 + K) / K);
      const f = (n: number) => arcsinePower(h, n, K, alphaEach, sides) - design.power;
      return brentRoot(f, hi * 1e-3, hi * 1.0000001, { tol: hi * 1e-15 });
    }
  }
}

/**
 * The sample size of a design for an absolute minimum detectable effect D: per arm rounded up,
 * n_treatment = ceil(K·n_control), total = n_control + V·n_treatment (see controlSizeExact for
 * the formulas).
 *
 * @example sampleSize({ method: 'pooled', alpha: 0.05, power: 0.8, alternative: 'two-sided', ratio: 1, variants: 1, baseline: 0.1 }, 0.01).perVariant // { control: 14751, treatment: 14751 }
 */
export function sampleSize(design: SampleSizeDesign, mde: number): SampleSizeResult {
  const exact = controlSizeExact(design, mde);
  const control = ceilUnits(exact);
  const treatment = ceilUnits(design.ratio * control);
  return describe(design, mde, exact, { control, treatment });
}

function describe(
  design: SampleSizeDesign,
  mde: number,
  exact: number,
  perVariant: { control: number; treatment: number },
): SampleSizeResult {
  const proportion = design.method !== 'continuous' && design.method !== 't';
  const baseline = design.baseline ?? null;
  return {
    method: design.method,
    alpha: design.alpha,
    alphaPerComparison: alphaPerComparison(design),
    power: design.power,
    alternative: design.alternative,
    ratio: design.ratio,
    variants: design.variants,
    metrics: design.metrics ?? 1,
    baseline,
    sd: proportion ? null : (design.sd ?? null),
    treatmentRate: proportion ? baseline! + mde : null,
    mdeAbsolute: mde,
    mdeRelative: baseline !== null && baseline !== 0 ? mde / baseline : null,
    controlExact: exact,
    perVariant,
    total: perVariant.control + design.variants * perVariant.treatment,
  };
}

/**
 * The inverse question: the smallest absolute effect D > 0 (an increase) detectable with
 * `nControl` control units (and K·nControl per treatment arm) — the D with controlSizeExact(D) = nControl,
 * in closed form for continuous metrics (D = (z_a + z_b)·S·√((1 + 1/K)/n)) and by Brent's method
 * otherwise (for arcsine: the h solving the power equation, then p₂ = sin²(asin√p₁ + h/2)).
 * Returns null when no p₂ < 1 is detectable at that size.
 *
 * @example minimumDetectableEffect({ method: 'pooled', alpha: 0.05, power: 0.8, alternative: 'two-sided', ratio: 1, variants: 1, baseline: 0.1 }, 14751)?.mdeAbsolute // 0.0099999274582538
 */
export function minimumDetectableEffect(design: SampleSizeDesign, nControl: number): SampleSizeResult | null {
  const K = design.ratio;
  const perVariant = { control: nControl, treatment: ceilUnits(K * nControl) };
  const { za, zb, alphaEach, sides } = zValues(design);
  if (design.method === 'continuous' || design.method === 't') {
    const normal = (za + zb) * design.sd! * Math.sqrt((1 + 1 / K) / nControl);
    if (design.method === 'continuous') return describe(design, normal, nControl, perVariant);
    const f = (D: number) => tTestPower(D, design.sd!, nControl, K, alphaEach, sides) - design.power;
    let hi = 2 * normal;
    while (f(hi) < 0) hi *= 2;
    return describe(design, brentRoot(f, normal, hi, { tol: 1e-15 * hi }), nControl, perVariant);
  }
  const p1 = design.baseline!;
  const maxD = 1 - p1;
  if (design.method === 'arcsine') {
    const f = (h: number) => arcsinePower(h, nControl, K, alphaEach, sides) - design.power;
    const hMax = Math.PI - 2 * Math.asin(Math.sqrt(p1)); // p₂ → 1
    if (f(hMax) < 0) return null;
    const h = brentRoot(f, 0, hMax, { tol: 1e-15 });
    const p2 = Math.sin(Math.asin(Math.sqrt(p1)) + h / 2) ** 2;
    return describe(design, p2 - p1, nControl, perVariant);
  }
  const g = (D: number) => controlSizeExact(design, D) - nControl;
  const hiD = maxD * (1 - 1e-12);
  if (g(hiD) > 0) return null;
  const loD = Math.min(maxD * 1e-9, hiD / 2);
  if (g(loD) < 0) return describe(design, loD, nControl, perVariant);
  const D = brentRoot(g, loD, hiD, { tol: 1e-15 });
  return describe(design, D, nControl, perVariant);
}

/** Days to collect `total` units at `dailyTraffic` units per day entering the test (rounded up). */
export function daysNeeded(total: number, dailyTraffic: number): number {
  return ceilUnits(total / dailyTraffic);
}

/**
 * Units per arm needed to detect an observed effect with the given power — what `analyze` reports
 * for a `keep_running` verdict. Proportions use the pooled formula at baseline p (the control
 * rate), means the two-sample t-test (noncentral t) with sd s; the test's alternative sets the sides (greater/less → one).
 * Returns {control, treatment} rounded up (treatment = ceil(K·control)); null for a zero effect.
 *
 * @example unitsPerArmToDetect({ baseline: 0.045, effect: 0.007, alpha: 0.05, power: 0.8, alternative: 'two-sided' }) // { control: 14783, treatment: 14783 }
 */
export function unitsPerArmToDetect(opts: {
  effect: number;
  alpha: number;
  power?: number;
  alternative: 'two-sided' | 'greater' | 'less';
  ratio?: number;
  /** Means: 't' (noncentral t, the default) or 'continuous' (normal approximation). */
  meanMethod?: 't' | 'continuous';
  /** Proportion metric: the control rate. */
  baseline?: number;
  /** Mean metric: the per-unit standard deviation. */
  sd?: number;
}): { control: number; treatment: number } | null {
  if (opts.effect === 0 || !Number.isFinite(opts.effect)) return null;
  const design: SampleSizeDesign = {
    method: opts.sd !== undefined ? (opts.meanMethod ?? 't') : 'pooled',
    alpha: opts.alpha,
    power: opts.power ?? 0.8,
    alternative: opts.alternative === 'two-sided' ? 'two-sided' : 'one-sided',
    ratio: opts.ratio ?? 1,
    variants: 1,
    ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
    ...(opts.sd !== undefined ? { sd: opts.sd } : {}),
  };
  if (design.method === 'pooled') {
    // A zero (or one) baseline is fine as long as the pooled rate is not degenerate.
    const p2 = opts.baseline! + opts.effect;
    if (!(opts.baseline! >= 0 && opts.baseline! <= 1 && p2 >= 0 && p2 <= 1)) return null;
  }
  const control = ceilUnits(controlSizeExact(design, opts.effect));
  return { control, treatment: ceilUnits(design.ratio * control) };
}
