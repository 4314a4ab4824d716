/**
 * mlv's statistics core: pure functions, no I/O. Each file holds one concept with its formula,
 * reference and an example in the doc comment; tests in test/stats/ cite the scipy / statsmodels /
 * mpmath call behind every expected value.
 *
 * API (alternative is always treatment vs control: 'two-sided' | 'greater' | 'less'):
 *
 * Distributions
 *   erf(x), erfc(x)
 *   normalPdf(x), normalCdf(x), normalSf(x), normalQuantile(p), normalQuantileUpper(q)
 *   logGamma(x), logBeta(a, b), logFactorial(n)
 *   incompleteBeta(a, b, x, y?) → [I_x, 1 − I_x]; regularizedBeta(x, a, b); regularizedBetaComplement(x, a, b)
 *   incompleteGamma(a, x) → [P, Q]; regularizedGammaP(a, x); regularizedGammaQ(a, x)
 *   tPdf(t, df), tCdf(t, df), tSf(t, df), tQuantile(p, df)          (any real df > 0, Infinity = normal)
 *   chiSquareCdf(x, k), chiSquareSf(x, k)
 *   hypergeometricPmf(k, population, successes, draws), logHypergeometricPmf(…)
 *   betaPdf(x, a, b), betaLogPdf, betaCdf(x, a, b), betaSf(x, a, b), betaMoments(a, b)
 * Numerics
 *   brentRoot(f, lo, hi, {tol?}), expandBracket(f, lo, hi), integrate(f, a, b, {absTol?, relTol?})
 */
export * from './erf.js';
export * from './normal.js';
export * from './log-gamma.js';
export * from './binomial-terms.js';
export * from './incomplete-beta.js';
export * from './incomplete-gamma.js';
export * from './student-t.js';
export * from './chi-square.js';
export * from './hypergeometric.js';
export * from './beta-distribution.js';
export * from './root.js';
export * from './integrate.js';
