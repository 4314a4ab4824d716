import { InputError, UsageError } from '../../errors.js';
import { chiSquareGoodnessOfFit, chiSquareIndependence, welchAnova, type Alternative } from '../stats/index.js';
import { chooseControl, cupedAdjust, meanSummary, validateProportion } from './arms.js';
import { compareMeans, compareProportions, defaultCiMethod, toArm, type ComparisonSetup } from './compare.js';
import type { AnalysisOptions, AnalysisResult, MetricReport, MetricRole } from './report.js';
import type { ArmStats, ExperimentData, MetricData } from './types.js';
import { additionalUnits, armVerdicts, decideComparisons, overallVerdict, type Pending } from './verdict.js';

export * from './report.js';
export { chooseControl, cupedAdjust, meanAndVariance } from './arms.js';

/**
 * `mlv analyze` as a pure function: sufficient statistics in, tests, intervals and a verdict out.
 * Per metric and per treatment arm against the control:
 *   - proportion: two-proportion z-test (pooled SE; = Pearson χ² without correction), or χ²
 *     (optionally Yates) or Fisher's exact test on request; the difference CI goes with the test
 *     (Wald; continuity-corrected with Yates; Newcombe with Fisher, plus the conditional-MLE odds
 *     ratio and its exact CI) unless --ci chooses; with more than two arms an omnibus k×2 χ²;
 *     a warning when an expected cell is below 5 (use Fisher);
 *   - mean: Welch's t-test with Welch–Satterthwaite df; intervals use the same t critical value;
 *     with more than two arms Welch's ANOVA as the omnibus test;
 *   - relative uplift t/c − 1 with a log-ratio (Katz) interval, which stays above −100 %
 *     (the delta method when a mean is ≤ 0);
 *   - under --sequential every headline number is the sequential one (compare.ts);
 *   - with a margin M: a non-inferiority test, H0: Δ ≤ −M (higher is better) or Δ ≥ M (lower);
 *   - p-values of the primary metrics' comparisons are corrected together (Holm by default);
 *     guardrails are tested two-sided and NOT corrected (erring toward blocking a release).
 * The pieces: arms.ts (inputs per arm), compare.ts (one comparison), verdict.ts (decisions).
 */

/** Runs the whole analysis. Throws InputError/UsageError (exit 2) on data or option problems. */
export function analyzeExperiment(data: ExperimentData, opts: AnalysisOptions): AnalysisResult {
  validateOptions(data, opts);
  const control = chooseControl(
    data.variants.map((v) => v.variant),
    opts.controlVariant,
  );
  requireUnits(data);
  // Report order: control first, then treatments as first seen.
  const order = [control, ...data.variants.map((v) => v.variant).filter((v) => v !== control)];
  const treatments = order.slice(1);
  const srm = sampleRatio(data, order, opts);

  const roleOf = (name: string): MetricRole =>
    opts.roles.find((r) => r.name === name) ?? { name, guardrail: false, lowerIsBetter: false };
  const pending: Pending[] = [];
  const warnings: string[] = [];
  const metrics = data.metrics.map((metric) =>
    analyzeMetric(metric, roleOf(metric.name), order, opts, pending, warnings),
  );
  decideComparisons(pending, opts);

  const reasons: string[] = [];
  if (!srm.ok) {
    reasons.push(
      `sample ratio mismatch (p = ${srm.p_value === 0 ? '< 1e-300' : srm.p_value.toExponential(2)} < ${opts.srmThreshold}): arms ${order.join('/')} got ${srm.counts.join('/')} units, expected ${srm.expected.map((e) => Math.round(e)).join('/')} — the assignment or logging is broken and the results cannot be trusted`,
    );
  }
  const arms = armVerdicts(treatments, control, pending, opts, reasons);
  const verdict = overallVerdict(srm.ok, arms);
  const additional = verdict === 'keep_running' ? additionalUnits(arms, pending) : undefined;

  return {
    ...(data.experiment !== undefined ? { experiment: data.experiment } : {}),
    srm,
    metrics,
    verdict,
    verdict_reasons: reasons,
    trustworthy: srm.ok,
    arm_verdicts: arms,
    ...(additional !== undefined
      ? { additional_units_needed: additional.units, additional_units_basis: additional.basis }
      : {}),
    warnings,
    control,
    settings: {
      alpha: opts.alpha,
      alternative: opts.alternative ?? (opts.margin !== undefined ? 'greater' : 'two-sided'),
      margin: opts.margin ?? null,
      test: opts.test,
      yates: opts.yates,
      ci: opts.ci ?? defaultCiMethod(opts),
      correction: opts.correction,
      srm_threshold: opts.srmThreshold,
      sequential: opts.sequential,
      tuning: opts.sequential ? opts.tuning : null,
      cuped: opts.cuped,
    },
    excluded: data.excluded,
  };
}

function validateOptions(data: ExperimentData, opts: AnalysisOptions): void {
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
  if (opts.yates && opts.ci === 'agresti-caffo') {
    throw new UsageError('--yates has no Agresti–Caffo form: use --ci wald or --ci newcombe with it');
  }
}

function requireUnits(data: ExperimentData): void {
  for (const v of data.variants) {
    if (v.n === 0) {
      throw new InputError(
        `variant ${v.variant} has no units${data.excluded.multi_variant_units ? ' left after excluding the units exposed to several variants' : ''}`,
      );
    }
  }
}

/** Sample-ratio mismatch: χ² goodness of fit of the units per arm to the expected split. */
function sampleRatio(data: ExperimentData, order: string[], opts: AnalysisOptions): AnalysisResult['srm'] {
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
  if (data.metrics.every((m) => opts.roles.find((r) => r.name === m.name)?.guardrail === true)) {
    throw new UsageError('every metric is a guardrail: at least one primary metric (--metric) is needed for a verdict');
  }
  return {
    p_value: gof.pValue,
    ok: !(gof.pValue < opts.srmThreshold),
    counts,
    expected: gof.expected,
    variants: order,
    statistic: gof.statistic,
    threshold: opts.srmThreshold,
  };
}

/** One metric: its arms and every treatment's comparison against the control (appended to `pending`). */
function analyzeMetric(
  metric: MetricData,
  role: MetricRole,
  order: string[],
  opts: AnalysisOptions,
  pending: Pending[],
  warnings: string[],
): MetricReport {
  const armsByVariant = new Map(metric.arms.map((a) => [a.variant, a]));
  const arms = order.map((v) => {
    const a = armsByVariant.get(v);
    if (a === undefined) throw new InputError(`metric ${metric.name}: no data for variant ${v}`);
    return a;
  });
  const report: MetricReport = {
    name: metric.name,
    type: metric.type,
    role: role.guardrail ? 'guardrail' : 'primary',
    direction: role.lowerIsBetter ? 'lower_is_better' : 'higher_is_better',
    arms: [],
    comparisons: [],
  };
  const m: MetricContext = {
    name: metric.name,
    order,
    setup: comparisonSetup(role, order[0]!, opts),
    add: (compared) => {
      report.comparisons.push(compared.report);
      pending.push({ ...compared, metric: metric.name, guardrail: role.guardrail, lowerIsBetter: role.lowerIsBetter });
    },
  };
  if (metric.type === 'proportion') proportionMetric(arms, report, m, opts, warnings);
  else meanMetric(arms, report, m, opts);
  return report;
}

/** What the per-type halves of analyzeMetric share. */
interface MetricContext {
  name: string;
  order: string[];
  setup: (variant: string) => ComparisonSetup;
  add: (compared: Omit<Pending, 'metric' | 'guardrail' | 'lowerIsBetter'>) => void;
}

/** The alternative, the null difference and its wording, for the metric's role and the options. */
function comparisonSetup(
  role: MetricRole,
  control: string,
  opts: AnalysisOptions,
): (variant: string) => ComparisonSetup {
  let alternative: Alternative = 'two-sided';
  if (!role.guardrail && opts.alternative !== undefined) alternative = opts.alternative;
  else if (!role.guardrail && opts.margin !== undefined) alternative = role.lowerIsBetter ? 'less' : 'greater';
  const margin = role.guardrail ? undefined : opts.margin;
  const delta0 = margin === undefined ? 0 : alternative === 'greater' ? -margin : margin;
  const hypothesis =
    margin === undefined
      ? 'difference = 0'
      : alternative === 'greater'
        ? `difference <= ${fmtNum(-margin)} (non-inferiority)`
        : `difference >= ${fmtNum(margin)} (non-inferiority)`;
  return (variant) => ({ variant, control, alternative, hypothesis, delta0 });
}

/** Rates: pairwise tests against the control, small-cell warnings, and the omnibus χ² for k > 2 arms. */
function proportionMetric(
  arms: ArmStats[],
  report: MetricReport,
  m: MetricContext,
  opts: AnalysisOptions,
  warnings: string[],
): void {
  const props = arms.map((a) => validateProportion(a, m.name));
  report.arms = arms.map((a, i) => ({
    variant: a.variant,
    n: a.n,
    conversions: props[i]!.conversions,
    rate: props[i]!.conversions / props[i]!.n,
  }));
  m.order.slice(1).forEach((variant, j) => {
    const compared = compareProportions(props[j + 1]!, props[0]!, m.setup(variant), opts);
    m.add(compared);
    if (opts.test !== 'fisher' && compared.minExpected! < 5) {
      warnings.push(
        `${m.name}, ${variant} vs ${m.order[0]}: an expected cell count is ${fmtNum(compared.minExpected!)} (< 5), too few for the normal approximation of the ${opts.test === 'z' ? 'z-test' : 'χ² test'}; use --test fisher`,
      );
    }
  });
  if (props.length > 2) {
    const o = chiSquareIndependence(props);
    report.omnibus = { test: 'chi2', statistic: o.statistic, df: o.df, p_value: o.pValue };
    if (o.minExpected < 5) {
      warnings.push(
        `${m.name}: an expected cell count of the ${props.length}×2 table is ${fmtNum(o.minExpected)} (< 5): the omnibus χ² p-value is approximate`,
      );
    }
  }
}

/** Means: CUPED when asked (and possible), then Welch against the control; Welch's ANOVA for k > 2 arms. */
function meanMetric(arms: ArmStats[], report: MetricReport, m: MetricContext, opts: AnalysisOptions): void {
  const raw = arms.map((a) => meanSummary(a, m.name));
  let summaries = raw;
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
  if (summaries.length > 2) {
    const o = welchAnova(summaries.map(toArm));
    report.omnibus = { test: 'welch_anova', statistic: o.statistic, df: o.df1, df2: o.df2, p_value: o.pValue };
  }
  m.order
    .slice(1)
    .forEach((variant, j) => m.add(compareMeans(summaries[j + 1]!, summaries[0]!, m.setup(variant), opts)));
}

function fmtNum(x: number): string {
  return String(Number(x.toPrecision(6)));
}
