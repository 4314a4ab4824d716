import {
  chiSquare2x2,
  fisherExact,
  fisherOddsRatio,
  meanDifferenceInterval,
  proportionDifferenceCi,
  relativeUpliftLogRatio,
  sequentialHalfWidth,
  sequentialTest,
  twoProportionZTest,
  welchTTest,
  type Alternative,
  type DifferenceCiMethod,
  type Interval,
  type MeanArm,
  type ProportionArm,
} from '../stats/index.js';
import { InputError } from '../../errors.js';
import type { MeanSummary } from './arms.js';
import { bayesianComparison } from './extras.js';
import type { AnalysisOptions, ComparisonReport } from './report.js';

/**
 * One treatment arm against the control on one metric: the test, the intervals, and the optional
 * Bayesian and sequential parts. Significance and the verdict are decided later (verdict.ts), once
 * the p-values of the whole family are known.
 *
 * Under --sequential every headline number (p_value, difference.ci, relative_uplift.ci) is the
 * sequential one (always-valid p-value, confidence sequence); the fixed-horizon ones move to
 * `fixed_horizon`, named as such.
 */

/** What a comparison is about: shared by the proportion and the mean versions. */
export interface ComparisonSetup {
  variant: string;
  control: string;
  alternative: Alternative;
  hypothesis: string;
  /** The difference under H0: 0, or −M / +M with a non-inferiority margin. */
  delta0: number;
}

/** A comparison before the family-wise correction, with what "units needed" will need. */
export interface Compared {
  report: ComparisonReport;
  /** The p-value that decides (fixed-horizon, or sequential under --sequential). */
  decisionP: number;
  props?: { c: ProportionArm; t: ProportionArm };
  means?: { c: MeanSummary; t: MeanSummary };
  /** The smallest expected cell of the 2×2 table (proportions). */
  minExpected?: number;
}

/**
 * The difference interval that goes with each test unless --ci says otherwise: Wald for the z-test
 * and χ² (the interval of the z statistic's own estimate and SE), continuity-corrected Wald with
 * --yates (R's prop.test), Newcombe's hybrid score interval with Fisher's test (a small-sample
 * interval whose coverage does not rely on the normal approximation).
 */
export function defaultCiMethod(opts: Pick<AnalysisOptions, 'test'>): DifferenceCiMethod {
  return opts.test === 'fisher' ? 'newcombe' : 'wald';
}

export function compareProportions(
  t: ProportionArm,
  c: ProportionArm,
  setup: ComparisonSetup,
  opts: AnalysisOptions,
): Compared {
  const { alternative, delta0 } = setup;
  let statistic: number;
  let pValue: number;
  let df: number | undefined;
  let testName: string;
  let oddsRatio: ComparisonReport['odds_ratio'];
  if (opts.test === 'chi2') {
    const r = chiSquare2x2(t, c, { yates: opts.yates, alternative });
    statistic = r.statistic;
    pValue = r.pValue;
    df = r.df;
    testName = opts.yates ? 'chi2_yates' : 'chi2';
  } else if (opts.test === 'fisher') {
    pValue = fisherExact(t, c, { alternative }).pValue;
    const or = fisherOddsRatio(t, c, opts.alpha, alternative);
    oddsRatio = { estimate: or.estimate, ci: or.ci, method: 'conditional_mle' };
    statistic = or.estimate;
    testName = 'fisher_exact';
  } else {
    const r = twoProportionZTest(t, c, { alternative, nullDifference: delta0 });
    statistic = r.statistic;
    pValue = r.pValue;
    testName = delta0 === 0 ? 'z_pooled' : 'z_unpooled';
  }
  const method = opts.ci ?? defaultCiMethod(opts);
  const diff = proportionDifferenceCi(t, c, opts.alpha, method, alternative, opts.yates);
  const rel = proportionUplift(t, c, opts.alpha, alternative);
  const report = baseReport(setup, testName, statistic, df, pValue, diff, rel);
  report.difference.ci_method = method.replace('-', '_') + (opts.yates && method !== 'agresti-caffo' ? '_cc' : '');
  if (oddsRatio) report.odds_ratio = oddsRatio;
  if (opts.bayesian) report.bayesian = bayesianComparison({ type: 'proportion', t, c }, opts.alpha);
  const decisionP = makeSequential(report, diff, t.n + c.n, setup, opts, (crit) =>
    proportionUplift(t, c, opts.alpha, alternative, crit),
  );
  return { report, decisionP, props: { c, t }, minExpected: minExpectedCell(t, c) };
}

export function compareMeans(t: MeanSummary, c: MeanSummary, setup: ComparisonSetup, opts: AnalysisOptions): Compared {
  const { alternative, delta0 } = setup;
  // Both arms constant: Welch's t is ±∞ or 0/0 and every interval collapses; refuse rather than
  // report p = 1 for what may be a certain difference (README, mlv analyze).
  if (!(t.variance > 0) && !(c.variance > 0)) {
    throw new InputError(
      `zero variance in both ${setup.control} and ${setup.variant} (every unit has the same value), so Welch's t-test is undefined`,
      { code: 'MLV_ZERO_VARIANCE', hint: 'check the metric; a constant metric has nothing to test' },
    );
  }
  const w = welchTTest(toArm(t), toArm(c), { alternative, nullDifference: delta0 });
  const diff = meanDifferenceInterval(toArm(t), toArm(c), opts.alpha, alternative);
  const uplift = (crit?: number) =>
    relativeUpliftLogRatio(t.mean, t.variance / t.n, c.mean, c.variance / c.n, opts.alpha, alternative, {
      df: diff.df,
      ...(crit !== undefined ? { crit } : {}),
    });
  const report = baseReport(setup, 'welch_t', w.statistic, w.df, w.pValue, diff, uplift());
  report.difference.ci_method = 'welch_t';
  if (opts.bayesian) report.bayesian = bayesianComparison({ type: 'mean', t: toArm(t), c: toArm(c) }, opts.alpha);
  const decisionP = makeSequential(report, diff, t.n + c.n, setup, opts, uplift);
  return { report, decisionP, means: { c, t } };
}

export function toArm(s: MeanSummary): MeanArm {
  return { mean: s.mean, sd: Math.sqrt(s.variance), n: s.n };
}

/**
 * Relative uplift of a rate on the log ratio (Katz). A treatment arm without conversions has the
 * estimate −100 % and the lower end −100 %; its upper end uses ½ conversion (Haldane's correction),
 * the only finite choice. No control conversions: no relative uplift.
 */
function proportionUplift(
  t: ProportionArm,
  c: ProportionArm,
  alpha: number,
  alternative: Alternative,
  crit?: number,
): { estimate: number | null; ci: Interval; method: string } {
  const pc = c.conversions / c.n;
  const xt = t.conversions === 0 ? 0.5 : t.conversions;
  const pt = xt / t.n;
  const r = relativeUpliftLogRatio(pt, (pt * (1 - pt)) / t.n, pc, (pc * (1 - pc)) / c.n, alpha, alternative, {
    ...(crit !== undefined ? { crit } : {}),
  });
  if (r.estimate === null || t.conversions > 0) return r;
  return { estimate: -1, ci: [alternative === 'less' ? null : -1, r.ci[1]], method: 'log_ratio_haldane' };
}

function minExpectedCell(t: ProportionArm, c: ProportionArm): number {
  const N = t.n + c.n;
  const X = t.conversions + c.conversions;
  return Math.min(t.n, c.n) * (Math.min(X, N - X) / N);
}

function baseReport(
  setup: ComparisonSetup,
  test: string,
  statistic: number,
  df: number | undefined,
  pValue: number,
  diff: { estimate: number; ci: Interval },
  rel: { estimate: number | null; ci: Interval; method: string },
): ComparisonReport {
  return {
    variant: setup.variant,
    vs: setup.control,
    test,
    hypothesis: setup.hypothesis,
    alternative: setup.alternative,
    statistic,
    ...(df !== undefined ? { df } : {}),
    p_value: pValue,
    p_value_adjusted: pValue,
    p_value_basis: 'fixed',
    significant: false,
    difference: { estimate: diff.estimate, ci: diff.ci, ci_method: '' },
    relative_uplift: { estimate: rel.estimate, ci: rel.ci, ci_method: rel.method },
    verdict: 'inconclusive',
  };
}

/**
 * Under --sequential: the always-valid p-value and the confidence sequences (difference, and the
 * relative uplift with the same multiplier on its log-ratio SE) become the headline numbers, the
 * fixed-horizon ones go to `fixed_horizon`. Returns the p-value that decides.
 */
function makeSequential(
  report: ComparisonReport,
  diff: { estimate: number; se: number },
  nTotal: number,
  setup: ComparisonSetup,
  opts: AnalysisOptions,
  uplift: (crit: number) => { ci: Interval; method: string },
): number {
  if (!opts.sequential) return report.p_value;
  const { delta0, alternative } = setup;
  const s = sequentialTest(diff.estimate - delta0, diff.se, nTotal, opts.alpha, alternative, opts.tuning);
  report.fixed_horizon = {
    p_value: report.p_value,
    difference_ci: report.difference.ci,
    difference_ci_method: report.difference.ci_method,
    relative_uplift_ci: report.relative_uplift.ci,
  };
  report.p_value = s.pValue;
  report.p_value_adjusted = s.pValue;
  report.p_value_basis = 'sequential';
  report.difference.ci = shift(s.ci, delta0);
  report.difference.ci_method = 'confidence_sequence';
  // The sequence's multiplier (half-width / SE) does not depend on the SE.
  const rel = uplift(sequentialHalfWidth(1, nTotal, opts.alpha, opts.tuning, alternative));
  report.relative_uplift.ci = rel.ci;
  report.relative_uplift.ci_method = `${rel.method}_confidence_sequence`;
  return s.pValue;
}

function shift(ci: Interval, delta0: number): Interval {
  return [ci[0] === null ? null : ci[0] + delta0, ci[1] === null ? null : ci[1] + delta0];
}
