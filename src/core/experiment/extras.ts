import {
  bayesianMeans,
  bayesianProportions,
  unitsPerArmToDetect,
  type Alternative,
  type Interval,
  type MeanArm,
  type ProportionArm,
} from '../stats/index.js';

/**
 * Adapters from the orchestration to the Bayesian and sample-size parts of the stats
 * core (src/core/stats), in the shapes the report needs.
 */

export interface BayesianReport {
  prob_better: number;
  expected_loss_treatment: number;
  expected_loss_control: number;
  relative_uplift_ci: Interval;
}

/** Beta(1, 1) posteriors for proportions (exact, no simulation); the normal approximation for means. */
export function bayesianComparison(
  arms: { type: 'proportion'; t: ProportionArm; c: ProportionArm } | { type: 'mean'; t: MeanArm; c: MeanArm },
  alpha: number,
): BayesianReport {
  const r =
    arms.type === 'proportion' ? bayesianProportions(arms.t, arms.c, alpha) : bayesianMeans(arms.t, arms.c, alpha);
  return {
    prob_better: r.probBetter,
    expected_loss_treatment: r.expectedLossTreatment,
    expected_loss_control: r.expectedLossControl,
    relative_uplift_ci: r.relativeUpliftCi,
  };
}

/** Units per arm at which the observed effect would be detected with the given power (null: never). */
export function unitsNeededForEffect(
  effect:
    | { type: 'proportion'; baseline: number; treatment: number; ratio: number }
    | { type: 'mean'; difference: number; sd: number; ratio: number },
  alpha: number,
  power: number,
  alternative: Alternative,
): { control: number; treatment: number } | null {
  const d = effect.type === 'proportion' ? effect.treatment - effect.baseline : effect.difference;
  // A one-sided test can never detect an effect on its other side.
  if ((alternative === 'greater' && !(d > 0)) || (alternative === 'less' && !(d < 0))) return null;
  if (effect.type === 'proportion') {
    return unitsPerArmToDetect({
      effect: effect.treatment - effect.baseline,
      baseline: effect.baseline,
      alpha,
      power,
      alternative,
      ratio: effect.ratio,
    });
  }
  if (!(effect.sd > 0)) return null;
  return unitsPerArmToDetect({
    effect: effect.difference,
    sd: effect.sd,
    alpha,
    power,
    alternative,
    ratio: effect.ratio,
  });
}
