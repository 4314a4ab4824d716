import { InputError, UsageError } from '../../errors.js';
import {
  adjustPValues,
  chiSquare2x2,
  chiSquareGoodnessOfFit,
  fisherExact,
  proportionDifferenceInterval,
  relativeUplift,
  sequentialTest,
  twoProportionZTest,
  meanDifferenceInterval,
  welchTTest,
  type Alternative,
  type Correction,
  type Interval,
  type MeanArm,
  type ProportionArm,
} from '../stats/index.js';
import { bayesianComparison, unitsNeededForEffect } from './extras.js';
import type { ArmStats, ExperimentData, MetricData, MetricType } from './types.js';

/**
 * `mlv analyze` as a pure function: sufficient statistics in, tests, intervals and a verdict out.
 * Per metric and per treatment arm against the control:
 *   - proportion: two-proportion z-test (pooled SE; = Pearson χ² without correction), or χ²
 *     (optionally Yates) or Fisher's exact test on request; difference CI with the unpooled SE;
 *   - mean: Welch's t-test with Welch–Satterthwaite df; intervals use the same t critical value;
 *   - relative uplift t/c − 1 with a delta-method interval (var ≈ var_t/μ_c² + μ_t²·var_c/μ_c⁴);
 *   - with a margin M: a non-inferiority test, H0: Δ ≤ −M (higher is better) or Δ ≥ M (lower);
 *   - p-values of the primary metrics' comparisons are corrected together (Holm by default);
 *     guardrails are tested two-sided and NOT corrected (erring toward blocking a release).
 */

export type TestName = 'z' | 'chi2' | 'fisher';
export type Verdict = 'treatment_better' | 'treatment_worse' | 'inconclusive' | 'non_inferior';
export type OverallVerdict = 'ship' | 'dont_ship' | 'keep_running';

export interface MetricRole {
  name: string;
  guardrail: boolean;
  lowerIsBetter: boolean;
}

export interface AnalysisOptions {
  /** Default `control` when present, else the first variant seen. */
  controlVariant?: string;
  alpha: number;
  /** Default two-sided; with a margin, the direction of each metric (greater, or less when lower is better). */
  alternative?: Alternative;
  margin?: number;
  test: TestName;
  yates: boolean;
  correction: Correction;
  /** Expected share per arm in report order (control first, then treatments as first seen). */
  expectedSplit?: number[];
  srmThreshold: number;
  bayesian: boolean;
  sequential: boolean;
  /** Tuning N* of the normal-mixture confidence sequence. */
  tuning: number;
  cuped: boolean;
  /** Power used for "units needed" when the verdict is keep_running. */
  power: number;
  /** Role and direction per metric name (metrics not listed: primary, higher is better). */
  roles: MetricRole[];
}

/** The defaults of `mlv analyze` (what the flags default to). */
export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = {
  alpha: 0.05,
  test: 'z',
  yates: false,
  correction: 'holm',
  srmThreshold: 0.001,
  bayesian: false,
  sequential: false,
  tuning: 5000,
  cuped: false,
  power: 0.8,
  roles: [],
};

export interface ArmReport {
  variant: string;
  n: number;
  conversions?: number;
  rate?: number;
  mean?: number;
  sd?: number;
  /** CUPED-adjusted mean and sd (what the tests used). */
  mean_adjusted?: number;
  sd_adjusted?: number;
}

export interface ComparisonReport {
  variant: string;
  vs: string;
  test: string;
  /** The null hypothesis tested, e.g. "difference = 0" or "difference <= -0.01". */
  hypothesis: string;
  alternative: Alternative;
  statistic: number;
  df?: number;
  p_value: number;
  p_value_adjusted: number;
  /** Whether significance was decided on the fixed-horizon or the sequential (always-valid) p-value. */
  p_value_basis: 'fixed' | 'sequential';
  significant: boolean;
  difference: { estimate: number; ci: Interval };
  relative_uplift: { estimate: number | null; ci: Interval };
  bayesian?: {
    prob_better: number;
    expected_loss_treatment: number;
    expected_loss_control: number;
    relative_uplift_ci: Interval;
  };
  sequential?: { p_value: number; ci: Interval };
  verdict: Verdict;
  /** When inconclusive: units per arm (control, treatment) at which the observed effect would be detected. */
  units_needed?: { control: number; treatment: number } | null;
}

export interface MetricReport {
  name: string;
  type: MetricType;
  role: 'primary' | 'guardrail';
  direction: 'higher_is_better' | 'lower_is_better';
  arms: ArmReport[];
  cuped?: { theta: number; variance_reduction: number };
  comparisons: ComparisonReport[];
}

export interface AnalysisResult {
  experiment?: string;
  srm: {
    p_value: number;
    ok: boolean;
    counts: number[];
    expected: number[];
    variants: string[];
    statistic: number;
    threshold: number;
  };
  metrics: MetricReport[];
  verdict: OverallVerdict;
  /** Why the verdict is what it is, most important first. */
  verdict_reasons: string[];
  /** False when the sample-ratio check failed: the numbers cannot be trusted. */
  trustworthy: boolean;
  /** Per treatment arm. */
  arm_verdicts: { variant: string; verdict: OverallVerdict }[];
  /** For keep_running: more units (all arms together) the current effects would need, or null when unknowable. */
  additional_units_needed?: number | null;
  control: string;
  settings: {
    alpha: number;
    alternative: Alternative;
    margin: number | null;
    test: TestName;
    yates: boolean;
    correction: Correction;
    srm_threshold: number;
    sequential: boolean;
    tuning: number | null;
    cuped: boolean;
  };
  excluded: { multi_variant_units: number | null; bad_lines: number };
}

interface MeanSummary {
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

function meanSummary(arm: ArmStats, metric: string): MeanSummary {
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

function validateProportion(arm: ArmStats, metric: string): ProportionArm {
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

function fmtNum(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** Runs the whole analysis. Throws InputError/UsageError (exit 2) on data or option problems. */
export function analyzeExperiment(data: ExperimentData, opts: AnalysisOptions): AnalysisResult {
  if (!(opts.alpha > 0 && opts.alpha < 1))
    throw new UsageError(`--alpha must be a number in (0, 1), got ${opts.alpha}`);
  if (data.variants.length < 2) {
    throw new InputError(
      `need a control and at least one treatment arm, got ${data.variants.length} variant(s): ${data.variants.map((v) => v.variant).join(', ')}`,
    );
  }
  if (opts.margin !== undefined) {
    if (!(opts.margin >= 0)) throw new UsageError(`--margin must be a number ≥ 0, got ${opts.margin}`);
    if (opts.alternative === 'two-sided') {
      throw new UsageError(
        '--margin needs a one-sided test: --alternative greater or less (or leave --alternative out)',
      );
    }
    if (opts.test !== 'z')
      throw new UsageError(`--margin works with the z-test and Welch's t-test, not --test ${opts.test}`);
  }
  const control = chooseControl(
    data.variants.map((v) => v.variant),
    opts.controlVariant,
  );
  // Report order: control first, then treatments as first seen.
  const order = [control, ...data.variants.map((v) => v.variant).filter((v) => v !== control)];
  const treatments = order.slice(1);

  for (const v of data.variants) {
    if (v.n === 0) {
      throw new InputError(
        `variant ${v.variant} has no units${data.excluded.multi_variant_units ? ' left after excluding the units exposed to several variants' : ''}`,
      );
    }
  }

  // Sample-ratio mismatch on the units per arm.
  const counts = order.map((v) => data.variants.find((x) => x.variant === v)!.n);
  const split = opts.expectedSplit ?? order.map(() => 1);
  if (split.length !== order.length) {
    throw new UsageError(
      `--expected-split has ${split.length} part(s) but the experiment has ${order.length} arms (${order.join(', ')})`,
      {
        hint: `give one share per arm, control first: e.g. ${order.map(() => Math.round(100 / order.length)).join('/')}`,
      },
    );
  }
  const gof = chiSquareGoodnessOfFit(counts, split);
  const srmOk = !(gof.pValue < opts.srmThreshold);

  if (data.metrics.every((m) => opts.roles.find((r) => r.name === m.name)?.guardrail === true)) {
    throw new UsageError('every metric is a guardrail: at least one primary metric (--metric) is needed for a verdict');
  }
  const roleOf = (name: string): MetricRole =>
    opts.roles.find((r) => r.name === name) ?? { name, guardrail: false, lowerIsBetter: false };

  // Per metric: arms and comparisons (p-values adjusted afterwards).
  const metrics: MetricReport[] = [];
  interface Pending {
    report: ComparisonReport;
    decisionP: number;
    guardrail: boolean;
    lowerIsBetter: boolean;
    metric: MetricData;
    means?: { c: MeanSummary; t: MeanSummary };
    props?: { c: ProportionArm; t: ProportionArm };
  }
  const pending: Pending[] = [];
  for (const metric of data.metrics) {
    const role = roleOf(metric.name);
    const armsByVariant = new Map(metric.arms.map((a) => [a.variant, a]));
    const arms = order.map((v) => {
      const a = armsByVariant.get(v);
      if (a === undefined) throw new InputError(`metric ${metric.name}: no data for variant ${v}`);
      return a;
    });
    const altFor = (guardrail: boolean): Alternative => {
      if (guardrail) return 'two-sided';
      if (opts.alternative !== undefined) return opts.alternative;
      if (opts.margin !== undefined) return role.lowerIsBetter ? 'less' : 'greater';
      return 'two-sided';
    };
    const alternative = altFor(role.guardrail);
    const margin = role.guardrail ? undefined : opts.margin;
    const delta0 = margin === undefined ? 0 : alternative === 'greater' ? -margin : margin;
    const hypothesis =
      margin === undefined
        ? 'difference = 0'
        : alternative === 'greater'
          ? `difference <= ${fmtNum(-margin)} (non-inferiority)`
          : `difference >= ${fmtNum(margin)} (non-inferiority)`;

    const report: MetricReport = {
      name: metric.name,
      type: metric.type,
      role: role.guardrail ? 'guardrail' : 'primary',
      direction: role.lowerIsBetter ? 'lower_is_better' : 'higher_is_better',
      arms: [],
      comparisons: [],
    };
    metrics.push(report);

    if (metric.type === 'proportion') {
      const props = arms.map((a) => validateProportion(a, metric.name));
      report.arms = arms.map((a, i) => ({
        variant: a.variant,
        n: a.n,
        conversions: props[i]!.conversions,
        rate: props[i]!.conversions / props[i]!.n,
      }));
      const c = props[0]!;
      treatments.forEach((variant, j) => {
        const t = props[j + 1]!;
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
        const cmp: ComparisonReport = {
          variant,
          vs: control,
          test: testName,
          hypothesis,
          alternative,
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
        if (opts.bayesian) cmp.bayesian = bayesianComparison({ type: 'proportion', t, c }, opts.alpha);
        let decisionP = pValue;
        if (opts.sequential) {
          const s = sequentialTest(diff.estimate - delta0, diff.se, t.n + c.n, opts.alpha, alternative, opts.tuning);
          cmp.sequential = { p_value: s.pValue, ci: shift(s.ci, delta0) };
          cmp.p_value_basis = 'sequential';
          decisionP = s.pValue;
        }
        report.comparisons.push(cmp);
        pending.push({
          report: cmp,
          decisionP,
          guardrail: role.guardrail,
          lowerIsBetter: role.lowerIsBetter,
          metric,
          props: { c, t },
        });
      });
    } else {
      let summaries = arms.map((a) => meanSummary(a, metric.name));
      const raw = summaries;
      if (opts.cuped) {
        const adj = cupedAdjust(summaries);
        if (adj) {
          summaries = adj.arms;
          report.cuped = { theta: adj.theta, variance_reduction: adj.varianceReduction };
        }
      }
      report.arms = arms.map((a, i) => ({
        variant: a.variant,
        n: a.n,
        mean: raw[i]!.mean,
        sd: Math.sqrt(raw[i]!.variance),
        ...(report.cuped ? { mean_adjusted: summaries[i]!.mean, sd_adjusted: Math.sqrt(summaries[i]!.variance) } : {}),
      }));
      const toArm = (s: MeanSummary): MeanArm => ({ mean: s.mean, sd: Math.sqrt(s.variance), n: s.n });
      const c = summaries[0]!;
      treatments.forEach((variant, j) => {
        const t = summaries[j + 1]!;
        // Both arms constant: Welch's t is ±∞ or 0/0 and every interval collapses; refuse rather
        // than report p = 1 for what may be a certain difference (see README, mlv analyze).
        if (!(t.variance > 0) && !(c.variance > 0)) {
          throw new InputError(
            `metric ${metric.name}: zero variance in both ${control} and ${variant} (every unit has the same value), so Welch's t-test is undefined`,
            { code: 'MLV_ZERO_VARIANCE', hint: 'check the metric; a constant metric has nothing to test' },
          );
        }
        const w = welchTTest(toArm(t), toArm(c), { alternative, nullDifference: delta0 });
        const diff = meanDifferenceInterval(toArm(t), toArm(c), opts.alpha, alternative);
        const rel = relativeUplift(
          t.mean,
          t.variance / t.n,
          c.mean,
          c.variance / c.n,
          opts.alpha,
          alternative,
          diff.df,
        );
        const cmp: ComparisonReport = {
          variant,
          vs: control,
          test: 'welch_t',
          hypothesis,
          alternative,
          statistic: w.statistic,
          df: w.df,
          p_value: w.pValue,
          p_value_adjusted: w.pValue,
          p_value_basis: 'fixed',
          significant: false,
          difference: { estimate: diff.estimate, ci: diff.ci },
          relative_uplift: { estimate: rel.estimate, ci: rel.ci },
          verdict: 'inconclusive',
        };
        if (opts.bayesian) cmp.bayesian = bayesianComparison({ type: 'mean', t: toArm(t), c: toArm(c) }, opts.alpha);
        let decisionP = w.pValue;
        if (opts.sequential) {
          const s = sequentialTest(diff.estimate - delta0, diff.se, t.n + c.n, opts.alpha, alternative, opts.tuning);
          cmp.sequential = { p_value: s.pValue, ci: shift(s.ci, delta0) };
          cmp.p_value_basis = 'sequential';
          decisionP = s.pValue;
        }
        report.comparisons.push(cmp);
        pending.push({
          report: cmp,
          decisionP,
          guardrail: role.guardrail,
          lowerIsBetter: role.lowerIsBetter,
          metric,
          means: { c, t },
        });
      });
    }
  }

  // Multiple comparisons: the primary metrics' comparisons form one family.
  const primary = pending.filter((p) => !p.guardrail);
  const adjusted = adjustPValues(
    primary.map((p) => p.decisionP),
    opts.correction,
  );
  primary.forEach((p, i) => (p.report.p_value_adjusted = adjusted[i]!));
  for (const p of pending.filter((x) => x.guardrail)) p.report.p_value_adjusted = p.decisionP;

  for (const p of pending) {
    const r = p.report;
    r.significant = r.p_value_adjusted < opts.alpha;
    const d = r.difference.estimate;
    const good = p.lowerIsBetter ? d < 0 : d > 0;
    if (!r.significant) r.verdict = 'inconclusive';
    else if (!p.guardrail && opts.margin !== undefined) r.verdict = 'non_inferior';
    else if (d === 0) r.verdict = 'inconclusive';
    else r.verdict = good ? 'treatment_better' : 'treatment_worse';
    if (!p.guardrail && r.verdict === 'inconclusive') {
      r.units_needed = unitsNeeded(p, opts);
    }
  }

  // Verdicts per arm, then overall.
  const reasons: string[] = [];
  if (!srmOk) {
    reasons.push(
      `sample ratio mismatch (p = ${gof.pValue === 0 ? '< 1e-300' : gof.pValue.toExponential(2)} < ${opts.srmThreshold}): arms ${order.join('/')} got ${counts.join('/')} units, expected ${gof.expected.map((e) => Math.round(e)).join('/')} — the assignment or logging is broken and the results cannot be trusted`,
    );
  }
  const armVerdicts = treatments.map((variant) => {
    const mine = pending.filter((p) => p.report.variant === variant);
    const blocked = mine.filter((p) => p.guardrail && p.report.verdict === 'treatment_worse');
    const worse = mine.filter((p) => !p.guardrail && p.report.verdict === 'treatment_worse');
    const better = mine.filter(
      (p) => !p.guardrail && (p.report.verdict === 'treatment_better' || p.report.verdict === 'non_inferior'),
    );
    let verdict: OverallVerdict;
    if (blocked.length > 0) {
      verdict = 'dont_ship';
      reasons.push(
        `${variant}: guardrail ${blocked.map((b) => b.metric.name).join(', ')} moved significantly in the bad direction`,
      );
    } else if (worse.length > 0) {
      verdict = 'dont_ship';
      reasons.push(`${variant}: ${worse.map((b) => b.metric.name).join(', ')} significantly worse than ${control}`);
    } else if (better.length > 0) {
      verdict = 'ship';
      reasons.push(
        `${variant}: ${better.map((b) => b.metric.name).join(', ')} ${opts.margin !== undefined ? 'non-inferior to' : 'significantly better than'} ${control}, no primary metric worse, no guardrail hit`,
      );
    } else {
      verdict = 'keep_running';
      reasons.push(`${variant}: no primary metric significant yet`);
    }
    return { variant, verdict };
  });
  let verdict: OverallVerdict;
  if (!srmOk) verdict = 'dont_ship';
  else if (armVerdicts.some((a) => a.verdict === 'ship')) verdict = 'ship';
  else if (armVerdicts.some((a) => a.verdict === 'keep_running')) verdict = 'keep_running';
  else verdict = 'dont_ship';

  let additional: number | null | undefined;
  if (verdict === 'keep_running') {
    // The smallest extra sample at which some still-running arm's primary effect would be detected.
    const candidates: number[] = [];
    let unknowable = false;
    for (const a of armVerdicts.filter((x) => x.verdict === 'keep_running')) {
      for (const p of pending.filter((x) => !x.guardrail && x.report.variant === a.variant)) {
        const need = p.report.units_needed;
        if (need === null || need === undefined) {
          unknowable = true;
          continue;
        }
        const nc = p.props?.c.n ?? p.means!.c.n;
        const nt = p.props?.t.n ?? p.means!.t.n;
        candidates.push(Math.max(0, need.control - nc) + Math.max(0, need.treatment - nt));
      }
    }
    additional = candidates.length > 0 ? Math.min(...candidates) : unknowable ? null : 0;
  }

  const result: AnalysisResult = {
    ...(data.experiment !== undefined ? { experiment: data.experiment } : {}),
    srm: {
      p_value: gof.pValue,
      ok: srmOk,
      counts,
      expected: gof.expected,
      variants: order,
      statistic: gof.statistic,
      threshold: opts.srmThreshold,
    },
    metrics,
    verdict,
    verdict_reasons: reasons,
    trustworthy: srmOk,
    arm_verdicts: armVerdicts,
    ...(additional !== undefined ? { additional_units_needed: additional } : {}),
    control,
    settings: {
      alpha: opts.alpha,
      alternative: opts.alternative ?? (opts.margin !== undefined ? 'greater' : 'two-sided'),
      margin: opts.margin ?? null,
      test: opts.test,
      yates: opts.yates,
      correction: opts.correction,
      srm_threshold: opts.srmThreshold,
      sequential: opts.sequential,
      tuning: opts.sequential ? opts.tuning : null,
      cuped: opts.cuped,
    },
    excluded: data.excluded,
  };
  return result;
}

function shift(ci: Interval, delta0: number): Interval {
  return [ci[0] === null ? null : ci[0] + delta0, ci[1] === null ? null : ci[1] + delta0];
}

/** Units per arm at which the observed difference would be significant with the requested power. */
function unitsNeeded(
  p: {
    props?: { c: ProportionArm; t: ProportionArm };
    means?: { c: MeanSummary; t: MeanSummary };
    report: ComparisonReport;
  },
  opts: AnalysisOptions,
): { control: number; treatment: number } | null {
  const alternative = p.report.alternative;
  if (p.props) {
    const { c, t } = p.props;
    return unitsNeededForEffect(
      { type: 'proportion', baseline: c.conversions / c.n, treatment: t.conversions / t.n, ratio: t.n / c.n },
      opts.alpha,
      opts.power,
      alternative,
    );
  }
  const { c, t } = p.means!;
  return unitsNeededForEffect(
    {
      type: 'mean',
      difference: t.mean - c.mean,
      // A pooled sd, weighting the arms by their size.
      sd: Math.sqrt(((c.n - 1) * c.variance + (t.n - 1) * t.variance) / (c.n + t.n - 2)),
      ratio: t.n / c.n,
    },
    opts.alpha,
    opts.power,
    alternative,
  );
}
