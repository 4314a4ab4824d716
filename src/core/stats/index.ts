/**
 * mlv's statistics core: pure functions, no I/O. Each file holds one concept with its formula,
 * reference and an example in the doc comment; tests in test/stats/ cite the scipy / statsmodels /
 * mpmath call behind every expected value.
 *
 * Accuracy (test/stats, against scipy 1.17 / statsmodels / mpmath): distributions ~1e-13 relative
 * (t tails at |t| = 40: ~40²·ε, the conditioning), tests and intervals ≤ 1e-10, sample sizes ≤ 1e-12,
 * Bayesian credible intervals ~1e-9 (quadrature + Brent, deterministic).
 *
 * Why not a library (measured by scripts/reference/stats-libraries.mjs on the same scipy values,
 * see README "Why the distributions are mlv's own"): simple-statistics 7.12 has no t, beta or gamma
 * distribution, and its normal cdf is a 0.01-step table (1e-3 relative error, 0 in the tails);
 * @stdlib 0.2–0.3 is accurate (t cdf 9e-16, incomplete beta 7e-11) but has no t survival function
 * (1 − cdf is 0 below 1e-16, where small p-values live) and its six packages (~230 modules) cost
 * +420–710 ms of start-up against +100–150 ms for this folder.
 *
 * API (alternative is always treatment vs control: 'two-sided' | 'greater' | 'less'):
 *
 * Distributions
 *   erf(x), erfc(x)
 *   normalPdf(x), normalCdf(x), normalSf(x), normalQuantile(p), normalQuantileUpper(q)
 *   logGamma(x), logBeta(a, b), logFactorial(n), stirlingRemainder(x), logGammaRatio(big, s)
 *   incompleteBeta(a, b, x, y?) → [I_x, 1 − I_x]; regularizedBeta(x, a, b); regularizedBetaComplement(x, a, b);
 *     logBetaPowerTerms(a, b, x, y) = ln[xᵃyᵇ/B(a, b)]
 *   incompleteGamma(a, x) → [P, Q]; regularizedGammaP(a, x); regularizedGammaQ(a, x); scaledGammaQ(a, x)
 *   stirlerr(n), bd0(x, M), logBinomialRaw(x, n, p, q)   (Loader's binomial terms)
 *   tPdf(t, df), tCdf(t, df), tSf(t, df), tQuantile(p, df)          (any real df > 0, Infinity = normal)
 *   noncentralTCdf(t, df, ncp)                                     (AS 243, as R's pt(q, df, ncp))
 *   chiSquareCdf(x, k), chiSquareSf(x, k)
 *   hypergeometricPmf(k, population, successes, draws), logHypergeometricPmf(…), hypergeometricSupport(…), hypergeometricRatio(k, …)
 *   betaPdf(x, a, b), betaLogPdf, betaCdf(x, a, b), betaSf(x, a, b), betaMoments(a, b)
 * Tests (arms: ProportionArm {conversions, n} | MeanArm {mean, sd, n}; nullDifference δ₀ = −M for a margin)
 *   twoProportionZTest(t, c, {alternative?, nullDifference?}) → {statistic, pValue, difference, se}
 *     (pooled SE; with a margin δ₀ ≠ 0 the Wald/unpooled SE, consistent with the difference interval;
 *      SE = 0, i.e. nobody or everybody converted: z = 0, p = 1)
 *   chiSquare2x2(t, c, {yates?, alternative?}) → {statistic, df: 1, pValue}
 *   fisherExact(t, c, {alternative?}) → {statistic (odds ratio), pValue}
 *   welchTTest(t, c, {alternative?, nullDifference?}) → {statistic, df, pValue, difference, se}; welchDf(t, c)
 *   pValueFromZ(z, alt), pValueFromT(t, df, alt), criticalValue(alpha, alt, df?), intervalAround(est, se, crit, alt)
 * Intervals (Interval = [number | null, number | null]; one-sided → null at the open end)
 *   proportionDifferenceInterval(t, c, alpha, alt?) → {estimate, se, ci}
 *   meanDifferenceInterval(t, c, alpha, alt?) → {estimate, se, df, ci}
 *   relativeUplift(meanT, varMeanT, meanC, varMeanC, alpha, alt?, df?) → {estimate, se, ci} (nulls when μ_c = 0)
 *   relativeUpliftLogRatio(…, {df?, crit?}) → {…, method: 'log_ratio' | 'delta'}  (Katz; > −100 %)
 *   wilsonInterval(arm, alpha, alt?, continuity?)  (= R prop.test(x, n)$conf.int)
 *   proportionDifferenceCi(t, c, alpha, 'wald' | 'newcombe' | 'agresti-caffo', alt?, continuity?) → {estimate, se, ci}
 *   fisherOddsRatio(t, c, alpha, alt?) → {estimate (conditional MLE), ci (exact)}  (as R fisher.test)
 *   chiSquareIndependence(arms[]) → {statistic, df, pValue, minExpected}  (k×2, = R chisq.test)
 * Multiple comparisons and SRM
 *   holm(p[]), benjaminiHochberg(p[]), adjustPValues(p[], 'holm' | 'bonferroni' | 'bh' | 'none')
 *   chiSquareGoodnessOfFit(observed[], proportions[]) → {statistic, df, pValue, expected[]}
 * Bayesian (Beta(1, 1) priors for proportions; normal approximation for means)
 *   bayesianProportions(t, c, alpha, prior?) → {probBetter, expectedLossTreatment, expectedLossControl, relativeUpliftCi}
 *   bayesianMeans(t, c, alpha) → same shape (relativeUpliftCi ends null when x̄_c = 0)
 *   betaPosterior(arm, prior?), probBetaGreater(A, B) = P(p_B > p_A), expectedLoss(A, B) = E[(p_A − p_B)⁺],
 *   relativeUpliftCdf(T, C, r), relativeUpliftCredibleInterval(T, C, alpha)
 * Sequential (normal-mixture confidence sequence, GrowthBook-style, tuning N* default 5000)
 *   sequentialTest(estimate, se, nTotal, alpha, alt, tuning?) → {pValue, ci}
 *   sequentialRho(alpha, tuning, twoSided?), sequentialHalfWidth(se, n, alpha, tuning, alt, rho?)
 *   sequentialUnitsPerArm({effect, varianceControl, varianceTreatment, alpha, power, alternative, ratio?, tuning?})
 * Sample size (SampleSizeDesign {method, alpha, power, alternative: 'two-sided'|'one-sided', ratio, variants, baseline?, sd?})
 *   sampleSize(design, mdeAbsolute) → SampleSizeResult {…, perVariant: {control, treatment}, total, controlExact}
 *   minimumDetectableEffect(design, nControl) → SampleSizeResult | null
 *   tTestPower(D, S, n1, K, alphaEach, sides), alphaPerComparison(design)  (design.metrics: K primary metrics)
 *   controlSizeExact(design, mde), daysNeeded(total, dailyTraffic), ceilUnits(x), cohensH(p2, p1)
 *   unitsPerArmToDetect({effect, alpha, power?, alternative, ratio?, baseline? | sd?}) → {control, treatment} | null
 * Numerics
 *   brentRoot(f, lo, hi, {tol?}), integrate(f, a, b, {absTol?, relTol?})  (adaptive Gauss–Kronrod 7/15)
 */
export * from './erf.js';
export * from './normal.js';
export * from './log-gamma.js';
export * from './binomial-terms.js';
export * from './incomplete-beta.js';
export * from './incomplete-gamma.js';
export * from './student-t.js';
export * from './noncentral-t.js';
export * from './chi-square.js';
export * from './hypergeometric.js';
export * from './beta-distribution.js';
export * from './root.js';
export * from './integrate.js';
export * from './alternative.js';
export * from './two-proportion-z-test.js';
export * from './chi-square-2x2.js';
export * from './fisher-exact.js';
export * from './welch-t-test.js';
export * from './difference-interval.js';
export * from './proportion-intervals.js';
export * from './fisher-odds-ratio.js';
export * from './chi-square-independence.js';
export * from './welch-anova.js';
export * from './relative-uplift.js';
export * from './multiple-comparisons.js';
export * from './sample-ratio-mismatch.js';
export * from './bayesian-proportions.js';
export * from './bayesian-means.js';
export * from './sequential.js';
export * from './sample-size.js';
