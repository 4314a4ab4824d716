import { InputError } from '../../errors.js';
import type { ProportionArm } from '../stats/index.js';
import type { ArmStats } from './types.js';

/** Per-arm inputs of the tests: validation of the sufficient statistics, CUPED, the control. */

export interface MeanSummary {
  n: number;
  mean: number;
  variance: number;
  /** Covariate x (CUPED): mean, variance and covariance with y. */
  x?: { mean: number; variance: number; cov: number };
}

/** Mean and sample variance (n − 1) from Σy and Σy²; the variance is clamped at 0 against rounding. */
export function meanAndVariance(n: number, sum: number, sumSq: number): { mean: number; variance: number } {
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, (sumSq - sum * mean) / (n - 1)) : 0;
  return { mean, variance };
}

export function meanSummary(arm: ArmStats, metric: string): MeanSummary {
  if (arm.type !== 'mean') throw new Error(`internal: ${metric} is not a mean metric`);
  if (arm.n < 2) {
    throw new InputError(`metric ${metric}, variant ${arm.variant}: n must be at least 2 for a mean, got ${arm.n}`);
  }
  if ('mean' in arm) {
    if (!(arm.sd >= 0)) throw new InputError(`metric ${metric}, variant ${arm.variant}: sd must be ≥ 0, got ${arm.sd}`);
    return { n: arm.n, mean: arm.mean, variance: arm.sd * arm.sd };
  }
  const { mean, variance } = meanAndVariance(arm.n, arm.sum, arm.sumSq);
  if (!arm.cuped) return { n: arm.n, mean, variance };
  const { preSum, preSumSq, crossSum } = arm.cuped;
  const x = meanAndVariance(arm.n, preSum, preSumSq);
  const cov = (crossSum - preSum * mean) / (arm.n - 1);
  return { n: arm.n, mean, variance, x: { mean: x.mean, variance: x.variance, cov } };
}

/**
 * CUPED (Deng et al. 2013): y' = y − θ(x − x̄), θ = Σ(n_a−1)cov_a(x,y) / Σ(n_a−1)var_a(x) pooled
 * within arms, x̄ the mean of x over all arms. Per arm: mean' = ȳ − θ(x̄_a − x̄),
 * var' = var(y) + θ²var(x) − 2θcov(x,y). The variance reduction is 1 − Σ(n−1)var' / Σ(n−1)var(y).
 */
export function cupedAdjust(
  arms: MeanSummary[],
): { arms: MeanSummary[]; theta: number; varianceReduction: number } | undefined {
  if (arms.some((a) => a.x === undefined)) return undefined;
  let num = 0;
  let den = 0;
  let xSum = 0;
  let nSum = 0;
  for (const a of arms) {
    num += (a.n - 1) * a.x!.cov;
    den += (a.n - 1) * a.x!.variance;
    xSum += a.x!.mean * a.n;
    nSum += a.n;
  }
  const theta = den > 0 ? num / den : 0;
  const xBar = xSum / nSum;
  let before = 0;
  let after = 0;
  const adjusted = arms.map((a) => {
    const variance = Math.max(0, a.variance + theta * theta * a.x!.variance - 2 * theta * a.x!.cov);
    before += (a.n - 1) * a.variance;
    after += (a.n - 1) * variance;
    return { n: a.n, mean: a.mean - theta * (a.x!.mean - xBar), variance };
  });
  return { arms: adjusted, theta, varianceReduction: before > 0 ? 1 - after / before : 0 };
}

export function validateProportion(arm: ArmStats, metric: string): ProportionArm {
  if (arm.type !== 'proportion') throw new Error(`internal: ${metric} is not a proportion metric`);
  const where = `metric ${metric}, variant ${arm.variant}`;
  if (!Number.isInteger(arm.n) || arm.n < 1)
    throw new InputError(`${where}: units must be a whole number ≥ 1, got ${arm.n}`);
  if (!Number.isInteger(arm.conversions) || arm.conversions < 0) {
    throw new InputError(`${where}: conversions must be a whole number ≥ 0, got ${arm.conversions}`);
  }
  if (arm.conversions > arm.n) throw new InputError(`${where}: conversions (${arm.conversions}) > units (${arm.n})`);
  return { conversions: arm.conversions, n: arm.n };
}

/** Picks the control: the named one (error if absent), else `control`, else the first variant. */
export function chooseControl(variants: string[], requested: string | undefined): string {
  if (requested !== undefined) {
    if (!variants.includes(requested)) {
      throw new InputError(`--control-variant ${requested}: no such variant`, {
        hint: `variants: ${variants.join(', ')}`,
      });
    }
    return requested;
  }
  return variants.includes('control') ? 'control' : variants[0]!;
}
