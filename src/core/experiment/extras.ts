import type { Alternative, Interval, MeanArm, ProportionArm } from '../stats/index.js';

/**
 * Adapters from the orchestration to the Bayesian, sequential and sample-size parts of the stats
 * core (src/core/stats), in the shapes the report needs.
 */

export interface BayesianReport {
  prob_better: number;
  expected_loss_treatment: number;
  expected_loss_control: number;
  relative_uplift_ci: Interval;
}

export function bayesianComparison(
  _arms: { type: 'proportion'; t: ProportionArm; c: ProportionArm } | { type: 'mean'; t: MeanArm; c: MeanArm },
  _alpha: number,
): BayesianReport {
  throw new Error('bayesian: not yet available');
}

export function sequentialComparison(
  _estimate: number,
  _se: number,
  _totalN: number,
  _alpha: number,
  _alternative: Alternative,
  _tuning: number,
): { pValue: number; ci: Interval } {
  throw new Error('sequential: not yet available');
}

export function unitsNeededForEffect(
  _effect:
    | { type: 'proportion'; baseline: number; treatment: number; ratio: number }
    | { type: 'mean'; difference: number; sd: number; ratio: number },
  _alpha: number,
  _power: number,
  _alternative: Alternative,
): { control: number; treatment: number } | null {
  return null;
}
