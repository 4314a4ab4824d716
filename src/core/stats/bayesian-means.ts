import { normalCdf, normalPdf, normalQuantileUpper } from './normal.js';

export interface BayesianMeanResult {
  probBetter: number;
  expectedLossTreatment: number;
  expectedLossControl: number;
  relativeUpliftCi: [number | null, number | null];
}

/**
 * The Bayesian read of a continuous metric by the normal approximation (flat prior): the
 * difference D = μ_t − μ_c has posterior N(d, se²), d = x̄_t − x̄_c, se² = s_t²/n_t + s_c²/n_c.
 *   P(D > 0)            = Φ(d/se)
 *   E[max(−D, 0)]       = se·φ(d/se) − d·Φ(−d/se)     (loss of shipping the treatment)
 *   E[max(D, 0)]        = se·φ(d/se) + d·Φ(d/se)      (loss of keeping the control)
 *   relative uplift CI  = (x̄_t/x̄_c − 1) ± z(1−α/2)·√(v_t/x̄_c² + x̄_t²·v_c/x̄_c⁴)  (delta method; null if x̄_c = 0)
 * se = 0 degenerates to a point mass at d.
 *
 * Reference: the normal expected-loss identity E[max(X, 0)] = μΦ(μ/σ) + σφ(μ/σ) (Stucchio 2015);
 * check: scipy.stats.norm.expect(lambda x: max(-x, 0), loc=d, scale=se).
 * @example bayesianMeans({ mean: 12.6, sd: 4.1, n: 5000 }, { mean: 12.3, sd: 4.0, n: 5000 }, 0.05).probBetter // 0.9998936444820025
 */
export function bayesianMeans(
  treatment: { mean: number; sd: number; n: number },
  control: { mean: number; sd: number; n: number },
  alpha: number,
): BayesianMeanResult {
  const vt = (treatment.sd * treatment.sd) / treatment.n;
  const vc = (control.sd * control.sd) / control.n;
  const d = treatment.mean - control.mean;
  const se = Math.sqrt(vt + vc);
  let probBetter: number;
  let lossT: number;
  let lossC: number;
  if (se > 0) {
    const z = d / se;
    probBetter = normalCdf(z);
    lossT = se * normalPdf(z) - d * normalCdf(-z);
    lossC = se * normalPdf(z) + d * normalCdf(z);
  } else {
    probBetter = d > 0 ? 1 : d < 0 ? 0 : 0.5;
    lossT = Math.max(-d, 0);
    lossC = Math.max(d, 0);
  }
  let relativeUpliftCi: [number | null, number | null] = [null, null];
  if (control.mean !== 0) {
    const est = treatment.mean / control.mean - 1;
    const mc2 = control.mean * control.mean;
    const seRel = Math.sqrt(vt / mc2 + (treatment.mean * treatment.mean * vc) / (mc2 * mc2));
    const z = normalQuantileUpper(alpha / 2);
    relativeUpliftCi = [est - z * seRel, est + z * seRel];
  }
  return {
    probBetter,
    expectedLossTreatment: Math.max(0, lossT),
    expectedLossControl: Math.max(0, lossC),
    relativeUpliftCi,
  };
}
