import { bayesianMeans, bayesianProportions, type Interval, type MeanArm, type ProportionArm } from '../stats/index.js';

/** The adapter from the orchestration to the Bayesian part of the stats core, in the shape the report needs. */

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
