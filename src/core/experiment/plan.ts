import { InputError } from '../../errors.js';
import type { AnalysisDesign, AnalysisResult } from './report.js';

/**
 * The experiment plan: what `mlv sample-size --save plan.json` writes and `mlv analyze --plan`
 * reads — the design the test was sized for, so the analysis uses the same family, alpha and MDE.
 */

export interface ExperimentPlan {
  mlv_plan: 1;
  /** The metric the MDE is for (null: every primary metric). */
  metric: string | null;
  metric_type: 'proportion' | 'mean';
  /** Primary metrics analyzed together (the family is variants × metrics). */
  metrics: number;
  variants: number;
  baseline: number | null;
  sd: number | null;
  mde_absolute: number;
  mde_relative: number | null;
  alpha: number;
  alpha_per_comparison: number;
  power: number;
  alternative: 'two-sided' | 'one-sided';
  /** Treatment units per control unit. */
  ratio: number;
  correction: 'holm' | 'bonferroni';
  method: string;
  per_variant: { control: number; treatment: number };
  total: number;
  /** ISO date (YYYY-MM-DD) the experiment starts, if given. */
  start_date: string | null;
  daily_traffic: number | null;
  days: number | null;
  /** The command that made it. */
  command: string;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The sample-size result fields a plan records. */
export interface SizedDesign {
  method: string;
  alpha: number;
  alpha_per_comparison: number;
  power: number;
  alternative: 'two-sided' | 'one-sided';
  baseline: number | null;
  sd: number | null;
  mde_absolute: number;
  mde_relative: number | null;
  ratio: number;
  variants: number;
  metrics: number;
  correction: 'holm' | 'bonferroni';
  per_variant: { control: number; treatment: number };
  total: number;
  daily_traffic?: number;
  days?: number;
}

/** The plan of a sized design (what `mlv sample-size --save` writes). */
export function makePlan(
  d: SizedDesign,
  extra: { metric: string | null; startDate: string | null; command: string },
): ExperimentPlan {
  return {
    mlv_plan: 1,
    metric: extra.metric,
    metric_type: d.sd !== null ? 'mean' : 'proportion',
    metrics: d.metrics,
    variants: d.variants,
    baseline: d.baseline,
    sd: d.sd,
    mde_absolute: d.mde_absolute,
    mde_relative: d.mde_relative,
    alpha: d.alpha,
    alpha_per_comparison: d.alpha_per_comparison,
    power: d.power,
    alternative: d.alternative,
    ratio: d.ratio,
    correction: d.correction,
    method: d.method,
    per_variant: d.per_variant,
    total: d.total,
    start_date: extra.startDate,
    daily_traffic: d.daily_traffic ?? null,
    days: d.days ?? null,
    command: extra.command,
  };
}

/** Validates a parsed plan file; InputError (exit 2) naming the file and the field. */
export function parsePlan(json: unknown, source: string): ExperimentPlan {
  const bad = (field: string, expected: string) =>
    new InputError(`--plan ${source}: ${field} must be ${expected}`, {
      hint: 'write plans with: mlv sample-size … --save plan.json',
    });
  if (typeof json !== 'object' || json === null || (json as { mlv_plan?: unknown }).mlv_plan !== 1) {
    throw bad('mlv_plan', '1 (not an mlv experiment plan)');
  }
  const p = json as Record<string, unknown>;
  for (const k of ['alpha', 'power']) if (!(isNum(p[k]) && p[k] > 0 && p[k] < 1)) throw bad(k, 'a number in (0, 1)');
  for (const k of ['metrics', 'variants'])
    if (!(Number.isInteger(p[k]) && (p[k] as number) >= 1)) throw bad(k, 'an integer ≥ 1');
  if (!(isNum(p.mde_absolute) && p.mde_absolute !== 0)) throw bad('mde_absolute', 'a non-zero number');
  if (!(isNum(p.ratio) && p.ratio > 0)) throw bad('ratio', 'a number > 0');
  if (p.correction !== 'holm' && p.correction !== 'bonferroni') throw bad('correction', 'holm or bonferroni');
  if (p.alternative !== 'two-sided' && p.alternative !== 'one-sided')
    throw bad('alternative', 'two-sided or one-sided');
  if (p.metric_type !== 'proportion' && p.metric_type !== 'mean') throw bad('metric_type', 'proportion or mean');
  const pv = p.per_variant as { control?: unknown; treatment?: unknown } | undefined;
  if (!(pv && Number.isInteger(pv.control) && Number.isInteger(pv.treatment))) {
    throw bad('per_variant', '{ control, treatment } whole numbers');
  }
  if (p.start_date !== null && p.start_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(p.start_date))) {
    throw bad('start_date', 'a date YYYY-MM-DD or null');
  }
  if (p.metric !== null && typeof p.metric !== 'string') throw bad('metric', 'a metric name or null');
  return { start_date: null, daily_traffic: null, days: null, command: '', ...p } as unknown as ExperimentPlan;
}

/** What the analysis takes from a plan: the MDE (for its metric, or every primary one) and the planned arms. */
export function designFromPlan(plan: ExperimentPlan): AnalysisDesign {
  return {
    source: 'plan',
    mde: { [plan.metric ?? '*']: plan.mde_absolute },
    perVariant: plan.per_variant,
    ...(plan.sd !== null ? { sd: plan.sd } : {}),
    ...(plan.baseline !== null && plan.metric_type === 'proportion' ? { baseline: plan.baseline } : {}),
  };
}

/**
 * The ways an analysis can depart from its plan:
 *   - peeking: fewer units than planned in some arm, analyzed without --sequential;
 *   - duration: fewer than 7 days of exposures (a full weekly cycle), when the span is known;
 *   - metric: the plan's metric is not among the primary metrics analyzed;
 *   - sides: sized one-sided, analyzed two-sided (less power than planned);
 *   - family: more primary comparisons than the plan sized alpha for.
 */
export function planWarnings(plan: ExperimentPlan, result: AnalysisResult, days: number | null): string[] {
  const out: string[] = [];
  const [control, ...treatments] = result.srm.counts;
  const short = control! < plan.per_variant.control || treatments.some((n) => n < plan.per_variant.treatment);
  if (short && !result.settings.sequential) {
    out.push(
      `stopped before the planned sample (${result.srm.counts.map((n) => n.toLocaleString('en-US')).join('/')} units; planned ${plan.per_variant.control.toLocaleString('en-US')} per control and ${plan.per_variant.treatment.toLocaleString('en-US')} per treatment arm) without --sequential: reading a fixed-horizon test early (peeking) inflates false positives`,
    );
  }
  if (days !== null && days < 7) {
    out.push(
      `the experiment ran ${days} day(s), less than a full weekly cycle (7 days): weekday effects may not have averaged out`,
    );
  }
  if (plan.metric !== null && !result.metrics.some((m) => m.name === plan.metric && m.role === 'primary')) {
    out.push(
      `the plan is for metric ${plan.metric}, which is not a primary metric here: units needed come from the observed effects`,
    );
  }
  if (plan.alternative === 'one-sided' && result.settings.alternative === 'two-sided') {
    out.push(
      'the plan was sized for a one-sided test but the analysis is two-sided: it has less power than planned (give --alternative greater or less)',
    );
  }
  const family = result.metrics.filter((m) => m.role === 'primary').length * (result.srm.counts.length - 1);
  const sized = plan.metrics * plan.variants;
  if (family > sized) {
    out.push(
      `the analysis has ${family} primary comparisons but the plan sized alpha for ${sized} (${plan.variants} arm(s) × ${plan.metrics} metric(s)): the test is under-powered relative to its design`,
    );
  }
  return out;
}
