import { logBinomialRaw } from './binomial-terms.js';

/**
 * ln of the hypergeometric probability of drawing k successes in `draws` draws without
 * replacement from a population of `population` items of which `successes` are successes:
 *   P(k) = C(K, k)·C(N−K, n−k) / C(N, n)
 * evaluated as b(k; K, p)·b(n−k; N−K, p) / b(n; N, p) with p = n/N and Loader's binomial terms
 * (so huge populations keep full relative precision; ln Γ differences would lose ~1e-10).
 *
 * Reference: R's dhyper (src/nmath/dhyper.c); scipy.stats.hypergeom.logpmf(k, N, K, n).
 * @example Math.exp(logHypergeometricPmf(2, 10, 4, 5)) // 0.4761904761904765
 */
export function logHypergeometricPmf(k: number, population: number, successes: number, draws: number): number {
  const N = population;
  const K = successes;
  const n = draws;
  if (k < 0 || k > K || k > n || n - k > N - K) return -Infinity;
  if (n === 0) return k === 0 ? 0 : -Infinity;
  const p = n / N;
  const q = (N - n) / N;
  return logBinomialRaw(k, K, p, q) + logBinomialRaw(n - k, N - K, p, q) - logBinomialRaw(n, N, p, q);
}

/** Hypergeometric pmf (see logHypergeometricPmf). @example hypergeometricPmf(2, 10, 4, 5) // 0.4761904761904765 */
export function hypergeometricPmf(k: number, population: number, successes: number, draws: number): number {
  return Math.exp(logHypergeometricPmf(k, population, successes, draws));
}

/** The support [max(0, n − (N − K)), min(K, n)] of the hypergeometric distribution. */
export function hypergeometricSupport(population: number, successes: number, draws: number): [number, number] {
  return [Math.max(0, draws - (population - successes)), Math.min(successes, draws)];
}

/**
 * Ratio P(k+1)/P(k) = (K − k)(n − k) / ((k + 1)(N − K − n + k + 1)): lets sums walk the
 * support with one multiplication per term.
 */
export function hypergeometricRatio(k: number, population: number, successes: number, draws: number): number {
  return ((successes - k) * (draws - k)) / ((k + 1) * (population - successes - draws + k + 1));
}
