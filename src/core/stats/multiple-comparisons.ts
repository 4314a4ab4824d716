/** How p-values of several comparisons are adjusted. */
export type Correction = 'holm' | 'bonferroni' | 'bh' | 'none';

/**
 * Holm's step-down adjusted p-values (controls the family-wise error rate):
 *   sort p₍₁₎ ≤ … ≤ p₍ₘ₎;  p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎)
 * returned in the input order.
 *
 * Reference: S. Holm, Scand. J. Statist. 6 (1979); statsmodels.stats.multitest.multipletests(p, method='holm').
 * @example holm([0.01, 0.04, 0.03]) // [0.03, 0.06, 0.06]
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/**
 * Benjamini–Hochberg step-up adjusted p-values (controls the false discovery rate):
 *   p̃₍ᵢ₎ = min(1, min_{j ≥ i} m·p₍ⱼ₎/j)
 * returned in the input order.
 *
 * Reference: Benjamini & Hochberg, JRSS B 57 (1995); statsmodels.stats.multitest.multipletests(p, method='fdr_bh').
 * @example benjaminiHochberg([0.01, 0.04, 0.03]) // [0.03, 0.04, 0.04]
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const [p, i] = order[rank]!;
    running = Math.min(running, (m * p) / (rank + 1));
    out[i] = Math.min(1, running);
  }
  return out;
}

/**
 * Adjusted p-values by the named correction (bonferroni: min(1, m·p), R p.adjust(p, "bonferroni");
 * 'none' returns a copy).
 *
 * @example adjustPValues([0.01, 0.04, 0.03], 'holm') // [0.03, 0.06, 0.06]
 */
export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  if (correction === 'holm') return holm(pValues);
  if (correction === 'bh') return benjaminiHochberg(pValues);
  if (correction === 'bonferroni') return pValues.map((p) => Math.min(1, p * pValues.length));
  return [...pValues];
}
