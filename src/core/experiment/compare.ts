import {
  chiSquare2x2,
  fisherExact,
  meanDifferenceInterval,
  proportionDifferenceInterval,
  relativeUplift,
  sequentialTest,
  twoProportionZTest,
  welchTTest,
  type Alternative,
  type Interval,
  type MeanArm,
  type ProportionArm,
} from '../stats/index.js';
import type { MeanSummary } from './arms.js';
import { bayesianComparison } from './extras.js';
import type { AnalysisOptions, ComparisonReport } from './report.js';

/**
 * One treatment arm against the control on one metric: the test, the intervals, and the optional
 * Bayesian and sequential parts. Significance and the verdict are decided later (verdict.ts), once
 * the p-values of the whole family are known.
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
  if (opts.test === 'chi2') {
    const r = chiSquare2x2(t, c, { yates: opts.yates, alternative });
    statistic = r.statistic;
    pValue = r.pValue;
    df = r.df;
    testName = opts.yates ? 'chi2_yates' : 'chi2';
  } else if (opts.test === 'fisher') {
    const r = fisherExact(t, c, { alternative });
    statistic = r.statistic;
    pValue = r.pValue;
    testName = 'fisher_exact';
  } else {
    const r = twoProportionZTest(t, c, { alternative, nullDifference: delta0 });
    statistic = r.statistic;
    pValue = r.pValue;
    testName = delta0 === 0 ? 'z_pooled' : 'z_unpooled';
  }
  const diff = proportionDifferenceInterval(t, c, opts.alpha, alternative);
  const pt = t.conversions / t.n;
  const pc = c.conversions / c.n;
  const rel = relativeUplift(pt, (pt * (1 - pt)) / t.n, pc, (pc * (1 - pc)) / c.n, opts.alpha, alternative);
  const report = baseReport(setup, testName, statistic, df, pValue, diff, rel);
  if (opts.bayesian) report.bayesian = bayesianComparison({ type: 'proportion', t, c }, opts.alpha);
  const decisionP = addSequential(report, diff, t.n + c.n, setup, opts);
  return { report, decisionP, props: { c, t } };
}

export function compareMeans(t: MeanSummary, c: MeanSummary, setup: ComparisonSetup, opts: AnalysisOptions): Compared {
  const { alternative, delta0 } = setup;
  const w = welchTTest(toArm(t), toArm(c), { alternative, nullDifference: delta0 });
  const diff = meanDifferenceInterval(toArm(t), toArm(c), opts.alpha, alternative);
  const rel = relativeUplift(t.mean, t.variance / t.n, c.mean, c.variance / c.n, opts.alpha, alternative, diff.df);
  const report = baseReport(setup, 'welch_t', w.statistic, w.df, w.pValue, diff, rel);
  if (opts.bayesian) report.bayesian = bayesianComparison({ type: 'mean', t: toArm(t), c: toArm(c) }, opts.alpha);
  const decisionP = addSequential(report, diff, t.n + c.n, setup, opts);
  return { report, decisionP, means: { c, t } };
}

export function toArm(s: MeanSummary): MeanArm {
  return { mean: s.mean, sd: Math.sqrt(s.variance), n: s.n };
}

function baseReport(
  setup: ComparisonSetup,
  test: string,
  statistic: number,
  df: number | undefined,
  pValue: number,
  diff: { estimate: number; ci: Interval },
  rel: { estimate: number | null; ci: Interval },
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
    difference: { estimate: diff.estimate, ci: diff.ci },
    relative_uplift: { estimate: rel.estimate, ci: rel.ci },
    verdict: 'inconclusive',
  };
}

/** Under --sequential: the always-valid p-value and confidence sequence; returns the deciding p. */
function addSequential(
  report: ComparisonReport,
  diff: { estimate: number; se: number },
  nTotal: number,
  setup: ComparisonSetup,
  opts: AnalysisOptions,
): number {
  if (!opts.sequential) return report.p_value;
  const { delta0, alternative } = setup;
  const s = sequentialTest(diff.estimate - delta0, diff.se, nTotal, opts.alpha, alternative, opts.tuning);
  report.sequential = { p_value: s.pValue, ci: shift(s.ci, delta0) };
  report.p_value_basis = 'sequential';
  return s.pValue;
}

function shift(ci: Interval, delta0: number): Interval {
  return [ci[0] === null ? null : ci[0] + delta0, ci[1] === null ? null : ci[1] + delta0];
}
