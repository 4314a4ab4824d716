import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import type { Context } from '../context.js';
import {
  analyzeExperiment,
  type AnalysisDesign,
  type AnalysisOptions,
  type AnalysisResult,
  type ComparisonReport,
  type MetricReport,
  type MetricRole,
  type TestName,
} from '../core/experiment/analyze.js';
import {
  countsExperiment,
  parseArmSpec,
  parseDuration,
  parseMetricSpec,
  parseSplit,
  type MetricSpec,
} from '../core/experiment/inputs.js';
import type { ExperimentData, MetricType } from '../core/experiment/types.js';
import { cumulativeSeries, type DailyCohorts, type DailySeries } from '../core/experiment/daily.js';
import { designFromPlan, parsePlan, planWarnings, type ExperimentPlan } from '../core/experiment/plan.js';
import { fmtNum, fmtP, fmtPct, moreUnitsText, omnibusParts } from '../core/experiment/render-format.js';
import type { Alternative, Correction, DifferenceCiMethod, Interval } from '../core/stats/index.js';
import { groupDigits } from '../core/format.js';
import { CheckFailedError, InputError, UsageError } from '../errors.js';
import { action } from '../run.js';
import { collect, commandLine, intArg, numberArg } from './args.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';

export interface AnalyzeInput {
  control?: string;
  treatment?: string[];
  summary?: string;
  events?: string[];
  experiment?: string;
  metric?: string[];
  guardrail?: string[];
  controlVariant?: string;
  test?: TestName;
  yates?: boolean;
  ci?: DifferenceCiMethod;
  alternative?: Alternative;
  alpha?: number;
  margin?: number;
  expectedSplit?: string;
  srmThreshold?: number;
  bayesian?: boolean;
  sequential?: boolean;
  tuning?: number;
  correction?: Correction;
  cuped?: boolean;
  cupedWindow?: string;
  power?: number;
  /** The design's absolute minimum detectable effect (units needed come from it). */
  mde?: number;
  /** An experiment plan written by `mlv sample-size --save`. */
  plan?: string;
  /** Write a self-contained HTML report to this file. */
  report?: string;
  /** Print the report's tables as Markdown instead of the terminal rendering. */
  md?: boolean;
  strict?: boolean;
  /** Events form: reader threads (default: the machine's cores; 1 = one pass in this thread). */
  threads?: number;
  failUnless?: 'ship';
}

export type AnalyzeResult = AnalysisResult & {
  source: 'counts' | 'summary' | 'events';
  excluded: AnalysisResult['excluded'] & { bad_line_samples?: { file: string; line: number; reason: string }[] };
  /** Events form: lines read and units seen without an exposure to this experiment. */
  input?: { rows: number; unexposed_units: number; other_experiment_rows: number; peak_pending_observations: number };
  /** The plan given with --plan. */
  plan?: ExperimentPlan;
  /** Events form: days from the first exposure to the last (inclusive). */
  days?: number;
  /** Events form with --report: the cumulative effect per exposure day. */
  daily?: DailySeries[];
  /** The command line that reproduces this analysis. */
  command: string;
};

const HELP = `
Three ways in (exactly one):
  counts    --control 450/10000 --treatment 520/10000                 (conversions/units)
            --control mean=12.3,sd=4.1,n=5000 --treatment mean=12.6,sd=4.2,n=5000
            several arms: repeat --treatment and name them:  --treatment b:520/10000 --treatment c:505/10000
  summary   --summary stats.csv   per variant and metric: variant,metric,n,conversions | sum,sum_sq
            (templates/sql/ computes it in BigQuery, Postgres or DuckDB; see templates/sql/README.md)
  events    --events events.jsonl[.gz] more.csv -  --experiment NAME --metric converted --metric revenue:mean
            rows {"type":"exposure","experiment","unit","variant","ts"} / {"type":"metric","unit","metric","value","ts"}

Metrics: --metric NAME[:proportion|:mean][:lower-is-better] (primary; events default proportion);
--guardrail NAME[...][:lower-is-better] blocks the verdict when it moves significantly the bad way
(guardrails are tested two-sided and not corrected for multiplicity).
--expected-split lists one share per arm, control first, then treatments in the order shown.
Verdict: ship (a treatment arm is significantly better on a primary metric, none worse, no guardrail hit),
dont_ship (worse, a guardrail hit, or a sample-ratio mismatch), keep_running (nothing significant yet).

Examples:
  mlv analyze --control 450/10000 --treatment 520/10000
  mlv analyze --events exposures.jsonl metrics.jsonl.gz --experiment checkout --metric converted --metric revenue:mean --cuped
  mlv analyze --summary stats.csv --guardrail latency_ms:lower-is-better --fail-unless ship --json
  mlv analyze --control 3/20 --treatment 9/21 --test fisher --md
  mlv analyze --events e.jsonl --experiment checkout --metric converted --sequential --plan plan.json --report report.html

Intervals: --ci wald (default; with --yates the continuity-corrected one of R's prop.test), newcombe
(default with --test fisher, which also reports the conditional-MLE odds ratio and its exact CI) or
agresti-caffo; relative uplift on the log ratio (Katz), never below -100%.
Units needed for keep_running come from the design (--mde D or --plan), else from the observed effect.`;

// Long by nature: one declaration per flag.
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('analyze an A/B test: tests, intervals, SRM check, multiple-comparison correction and a ship verdict')
    .option('--control <spec>', 'control arm counts: CONVERSIONS/UNITS or mean=M,sd=S,n=N')
    .option(
      '--treatment <spec>',
      'treatment arm counts, [NAME:]CONVERSIONS/UNITS or [NAME:]mean=M,sd=S,n=N (repeatable)',
      collect,
    )
    .option('--summary <file>', 'per-variant sufficient statistics (CSV or JSON; - for stdin)')
    .option('--events <files...>', 'raw events, JSON Lines or CSV, optionally gzipped; - for stdin')
    .option('--experiment <name>', 'experiment whose exposures to read (events form)')
    .option('--metric <name>', 'metric to analyze: NAME[:proportion|:mean][:lower-is-better] (repeatable)', collect)
    .option('--guardrail <name>', 'guardrail metric: NAME[:proportion|:mean][:lower-is-better] (repeatable)', collect)
    .option('--control-variant <name>', 'the control arm (default: "control", else the first seen)')
    .addOption(new Option('--test <test>', 'test for proportion metrics').choices(['z', 'chi2', 'fisher']).default('z'))
    .option('--yates', 'Yates continuity correction for --test chi2 (and its interval, as R prop.test)')
    .addOption(
      new Option(
        '--ci <method>',
        'difference interval for proportions (default wald; newcombe with --test fisher)',
      ).choices(['wald', 'newcombe', 'agresti-caffo']),
    )
    .addOption(
      new Option('--alternative <alt>', 'treatment vs control (default two-sided; with --margin one-sided)').choices([
        'two-sided',
        'greater',
        'less',
      ]),
    )
    .option(
      '--alpha <a>',
      "significance level (default 0.05, or the plan's)",
      numberArg('--alpha', (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    )
    .option(
      '--margin <m>',
      'non-inferiority margin (absolute): treatment no worse than control by more than M',
      numberArg('--margin', (x) => x >= 0, 'a number ≥ 0'),
    )
    .option(
      '--expected-split <shares>',
      'expected share of units per arm, control first, e.g. 80/20 or 50/25/25 (default equal)',
    )
    .option(
      '--srm-threshold <p>',
      'flag a sample-ratio mismatch when its p-value is below this',
      numberArg('--srm-threshold', (x) => x > 0 && x < 1, 'a number in (0, 1)'),
      0.001,
    )
    .option('--bayesian', 'add P(treatment better), expected losses and a credible interval of the uplift')
    .option('--sequential', 'always-valid p-values and confidence sequences (safe to look every day)')
    .option(
      '--tuning <n>',
      'tuning N* of the sequential confidence sequence',
      numberArg('--tuning', (x) => x > 0, 'a number > 0'),
      5000,
    )
    .addOption(
      new Option(
        '--correction <method>',
        "multiple-comparison correction over primary metrics × arms (default holm, or the plan's)",
      ).choices(['holm', 'bonferroni', 'bh', 'none']),
    )
    .option('--cuped', 'CUPED variance reduction for mean metrics (events form, or summary with pre_* columns)')
    .option('--cuped-window <duration>', 'pre-exposure window for the CUPED covariate', '14d')
    .option(
      '--power <p>',
      'power for "units needed" when the verdict is keep_running',
      numberArg('--power', (x) => x > 0 && x < 1, 'a number in (0, 1)'),
      0.8,
    )
    .option(
      '--mde <d>',
      'the absolute minimum detectable effect the test was sized for ("units needed" comes from it)',
      numberArg('--mde', (x) => x !== 0, 'a non-zero number'),
    )
    .option('--plan <file>', 'the experiment plan from `mlv sample-size --save` (design, alpha, correction)')
    .option('--report <file>', 'also write a self-contained HTML report (verdict, forest plots, SRM, daily effect)')
    .option('--md', 'print the tables as Markdown (for a pull request or an experiment log)')
    .option('--strict', 'an unparseable event line is an error (exit 2) instead of being skipped and counted')
    .option(
      '--threads <n>',
      'events form: threads reading the input (default: the number of cores)',
      intArg('--threads', 1),
    )
    .addOption(
      new Option('--fail-unless <verdict>', 'exit 1 unless the overall verdict is this (for CI)').choices(['ship']),
    )
    .addHelpText('after', HELP)
    .action(
      action(async (ctx, opts: AnalyzeInput) => {
        const result = await analyze(ctx, opts);
        if (opts.report !== undefined) {
          const { renderHtmlReport } = await import('../core/experiment/render-html.js');
          const { writeFile } = await import('node:fs/promises');
          const { resolve } = await import('node:path');
          const file = resolve(ctx.cwd, opts.report);
          try {
            await writeFile(file, renderHtmlReport(result));
          } catch (err) {
            throw new InputError(
              `--report ${opts.report}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
            );
          }
          ctx.info(`report written to ${opts.report}`);
        }
        if (opts.md) {
          const { renderMarkdownReport } = await import('../core/experiment/render-markdown.js');
          ctx.stdout.write(renderMarkdownReport(result) + '\n');
        } else ctx.output(result, renderAnalyze);
        if (opts.failUnless === 'ship' && result.verdict !== 'ship') {
          throw new CheckFailedError(`verdict is ${result.verdict}, not ship`, {
            hint: result.verdict_reasons[0],
          });
        }
      }),
    );
}

/**
 * Runs `mlv analyze`: reads the chosen input form and returns the analysis. Over 80 lines because
 * it reads the three input forms one after the other, each a few flag checks and one reader call,
 * in the order a reader of the code wants them.
 */
export async function analyze(ctx: Context, input: AnalyzeInput): Promise<AnalyzeResult> {
  const forms = [
    input.control !== undefined || (input.treatment?.length ?? 0) > 0 ? 'counts' : undefined,
    input.summary !== undefined ? 'summary' : undefined,
    (input.events?.length ?? 0) > 0 ? 'events' : undefined,
  ].filter((f): f is 'counts' | 'summary' | 'events' => f !== undefined);
  if (forms.length === 0) {
    throw new UsageError('nothing to analyze: give --control/--treatment counts, --summary FILE or --events FILE…', {
      hint: 'mlv analyze --control 450/10000 --treatment 520/10000',
    });
  }
  if (forms.length > 1) throw new UsageError(`choose one input form, got ${forms.join(' and ')}`);
  const form = forms[0]!;

  const metricSpecs = (input.metric ?? []).map((m) => parseMetricSpec(m, '--metric'));
  const guardSpecs = (input.guardrail ?? []).map((m) => parseMetricSpec(m, '--guardrail'));
  const specs = mergeSpecs(metricSpecs, guardSpecs);
  const roles: MetricRole[] = specs.map((s) => ({
    name: s.name,
    guardrail: s.guardrail,
    lowerIsBetter: s.lowerIsBetter,
  }));
  const cupedWindowMs = parseDuration(input.cupedWindow ?? '14d', '--cuped-window');
  const expectedSplit = input.expectedSplit !== undefined ? parseSplit(input.expectedSplit) : undefined;
  if (input.yates && input.test !== 'chi2') throw new UsageError('--yates goes with --test chi2');
  const design = await designSettings(ctx, input);

  let data: ExperimentData;
  let cohorts: DailyCohorts | undefined;
  let extra: Pick<AnalyzeResult, 'input'> & { samples?: AnalyzeResult['excluded']['bad_line_samples'] } = {};
  if (form === 'counts') {
    if (input.control === undefined) throw new UsageError('--treatment needs --control');
    if ((input.treatment?.length ?? 0) === 0) throw new UsageError('--control needs at least one --treatment');
    if (metricSpecs.length > 1) throw new UsageError('the counts form has one metric; give at most one --metric NAME');
    if (guardSpecs.length > 0) throw new UsageError('--guardrail needs several metrics: use --summary or --events');
    if (input.cuped)
      throw new UsageError('--cuped needs per-unit data: use --events (or --summary with pre_* columns)');
    const control = parseArmSpec(input.control, '--control');
    const treatments = input.treatment!.map((t) => parseArmSpec(t, '--treatment'));
    data = countsExperiment(control, treatments, {
      ...(input.controlVariant !== undefined ? { controlName: input.controlVariant } : {}),
      ...(specs[0] ? { metric: specs[0].name } : {}),
    });
    if (specs[0]?.type !== undefined && specs[0].type !== data.metrics[0]!.type) {
      throw new UsageError(
        `--metric ${specs[0].name} says ${specs[0].type} but the counts are a ${data.metrics[0]!.type}`,
      );
    }
  } else if (form === 'summary') {
    const { readSummaryFile } = await import('../io/summary.js');
    // Without --metric every metric in the file is analysed (the --guardrail ones as guardrails).
    data = await readSummaryFile(
      input.summary!,
      metricSpecs.length > 0
        ? { metrics: specs.map((s) => ({ name: s.name, ...(s.type ? { type: s.type } : {}) })) }
        : {},
      ctx,
    );
    if (input.experiment !== undefined) {
      if (data.experiment !== undefined && data.experiment !== input.experiment) {
        throw new InputError(
          `--experiment ${input.experiment}: --summary ${input.summary} is for experiment ${data.experiment}`,
        );
      }
      data = { ...data, experiment: input.experiment };
    }
    for (const g of guardSpecs) {
      if (!data.metrics.some((m) => m.name === g.name)) {
        throw new InputError(`--guardrail ${g.name}: not in --summary ${input.summary}`, {
          hint: `metrics in the file: ${data.metrics.map((m) => m.name).join(', ')}`,
        });
      }
    }
    if (input.cuped && !data.metrics.some((m) => m.arms.some((a) => a.type === 'mean' && 'cuped' in a && a.cuped))) {
      ctx.warn('--cuped: the summary has no pre_sum/pre_sum_sq/cross_sum columns; analysing without CUPED');
    }
  } else {
    if (input.experiment === undefined) throw new UsageError('--events needs --experiment NAME');
    if (specs.length === 0) throw new UsageError('--events needs at least one --metric NAME[:proportion|:mean]');
    const { readEvents, eventSource } = await import('../io/events.js');
    const files = input.events!;
    if (files.filter((f) => f === '-').length > 1) throw new UsageError('--events: stdin (-) can be read only once');
    const spinner = ctx.spinner('reading events');
    let result;
    try {
      result = await readEvents(
        files.map((f) => eventSource(f, ctx)),
        {
          experiment: input.experiment,
          metrics: specs.map((s) => ({ name: s.name, type: s.type ?? 'proportion' })),
          ...(input.cuped ? { cupedWindowMs } : {}),
          strict: input.strict === true,
          daily: input.report !== undefined || design.plan !== undefined,
        },
        (rows) => spinner.update(`reading events: ${groupDigits(rows)} rows`),
        { threads: input.threads ?? availableParallelism() },
      );
    } finally {
      spinner.stop();
    }
    data = result;
    cohorts = result.daily;
    extra = {
      input: {
        rows: result.rows,
        unexposed_units: result.unexposed_units,
        other_experiment_rows: result.other_experiment_rows,
        peak_pending_observations: result.peak_pending_observations,
      },
      samples: result.bad_line_samples,
    };
    if (result.peak_pending_observations > 5_000_000) {
      ctx.warn(
        `${groupDigits(result.peak_pending_observations)} observations were held in memory because they came before their unit's exposure; list the exposures file first in --events to read in less memory`,
      );
    }
    if (result.excluded.bad_lines > 0) {
      const shown = result.bad_line_samples.map((b) => `${b.file}:${b.line} (${b.reason})`).join(', ');
      ctx.warn(
        `skipped ${result.excluded.bad_lines} unparseable line(s): ${shown}${result.excluded.bad_lines > result.bad_line_samples.length ? ', …' : ''}`,
      );
    }
  }
  if (input.cuped && !data.metrics.some((m) => m.type === 'mean'))
    ctx.warn('--cuped applies to mean metrics only; there are none');

  const options: AnalysisOptions = {
    ...(input.controlVariant !== undefined ? { controlVariant: input.controlVariant } : {}),
    alpha: design.alpha,
    ...(input.alternative !== undefined ? { alternative: input.alternative } : {}),
    ...(input.margin !== undefined ? { margin: input.margin } : {}),
    test: input.test ?? 'z',
    yates: input.yates === true,
    ...(input.ci !== undefined ? { ci: input.ci } : {}),
    correction: design.correction,
    ...(expectedSplit ? { expectedSplit } : {}),
    srmThreshold: input.srmThreshold ?? 0.001,
    bayesian: input.bayesian === true,
    sequential: input.sequential === true,
    tuning: input.tuning ?? 5000,
    cuped: input.cuped === true,
    power: input.power ?? 0.8,
    roles,
    ...(design.design ? { design: design.design } : {}),
  };
  const analysis = analyzeExperiment(data, options);
  let days: number | undefined;
  if (cohorts) days = cohorts.days.length;
  else if (design.plan?.start_date) {
    days = Math.floor((ctx.now().getTime() - Date.parse(design.plan.start_date + 'T00:00:00Z')) / 86_400_000);
  }
  if (design.plan) analysis.warnings.push(...planWarnings(design.plan, analysis, days ?? null));
  return {
    ...analysis,
    source: form,
    excluded: { ...analysis.excluded, ...(extra.samples ? { bad_line_samples: extra.samples } : {}) },
    ...(extra.input ? { input: extra.input } : {}),
    ...(design.plan ? { plan: design.plan } : {}),
    ...(days !== undefined ? { days } : {}),
    ...(cohorts && input.report !== undefined ? { daily: cumulativeSeries(cohorts, options) } : {}),
    command: analyzeCommandLine(input),
  };
}

/**
 * Alpha, correction and the design, from the flags and the plan: the plan's alpha and correction
 * apply unless a flag names another (then it is an error: the plan sized the test for its own).
 */
async function designSettings(
  ctx: Context,
  input: AnalyzeInput,
): Promise<{ alpha: number; correction: Correction; design?: AnalysisDesign; plan?: ExperimentPlan }> {
  if (input.md && ctx.json) throw new UsageError('--md and --json are two output formats: choose one');
  if (input.plan === undefined) {
    return {
      alpha: input.alpha ?? 0.05,
      correction: input.correction ?? 'holm',
      ...(input.mde !== undefined ? { design: { source: 'mde', mde: { '*': input.mde } } } : {}),
    };
  }
  if (input.mde !== undefined) throw new UsageError('--mde and --plan both give the design: use one');
  const { readInputText } = await import('../io/input.js');
  const text = await readInputText(input.plan, { what: '--plan', cwd: ctx.cwd, stdin: ctx.stdin });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InputError(`--plan ${input.plan}: not JSON`, {
      hint: 'write plans with: mlv sample-size … --save plan.json',
    });
  }
  const plan = parsePlan(json, input.plan);
  if (input.alpha !== undefined && input.alpha !== plan.alpha) {
    throw new UsageError(`--alpha ${input.alpha} differs from the plan's alpha ${plan.alpha}`, {
      hint: 'drop --alpha (the plan sized the test for its own), or make a new plan',
    });
  }
  if (input.correction !== undefined && input.correction !== plan.correction) {
    throw new UsageError(`--correction ${input.correction} differs from the plan's ${plan.correction}`, {
      hint: 'drop --correction, or make a new plan',
    });
  }
  return { alpha: plan.alpha, correction: plan.correction, design: designFromPlan(plan), plan };
}

/** The command line that reproduces an analysis (flags in a fixed order, defaults left out). */
export function analyzeCommandLine(input: AnalyzeInput): string {
  const unless = <T>(v: T | undefined, dflt: T) => (v === dflt ? undefined : v);
  return commandLine(
    ['mlv', 'analyze'],
    [
      ['--control', input.control],
      ['--treatment', input.treatment],
      ['--summary', input.summary],
      ['--events', input.events],
      ['--experiment', input.experiment],
      ['--metric', input.metric],
      ['--guardrail', input.guardrail],
      ['--control-variant', input.controlVariant],
      ['--test', unless(input.test, 'z')],
      ['--yates', input.yates],
      ['--ci', input.ci],
      ['--alternative', input.alternative],
      ['--alpha', input.alpha],
      ['--margin', input.margin],
      ['--expected-split', input.expectedSplit],
      ['--srm-threshold', unless(input.srmThreshold, 0.001)],
      ['--bayesian', input.bayesian],
      ['--sequential', input.sequential],
      ['--tuning', unless(input.tuning, 5000)],
      ['--correction', input.correction],
      ['--cuped', input.cuped],
      ['--cuped-window', unless(input.cupedWindow, '14d')],
      ['--power', unless(input.power, 0.8)],
      ['--mde', input.mde],
      ['--plan', input.plan],
      ['--strict', input.strict],
      ['--threads', input.threads],
      ['--report', input.report],
      ['--md', input.md],
      ['--fail-unless', input.failUnless],
    ],
  );
}

function mergeSpecs(metrics: MetricSpec[], guardrails: MetricSpec[]): (MetricSpec & { guardrail: boolean })[] {
  const out: (MetricSpec & { guardrail: boolean })[] = [];
  for (const m of metrics) {
    if (out.some((o) => o.name === m.name)) throw new UsageError(`--metric ${m.name} is given twice`);
    out.push({ ...m, guardrail: false });
  }
  for (const g of guardrails) {
    const i = out.findIndex((o) => o.name === g.name);
    if (i < 0) out.push({ ...g, guardrail: true });
    else {
      const m = out[i]!;
      if (g.type !== undefined && m.type !== undefined && g.type !== m.type) {
        throw new UsageError(`--guardrail ${g.name} says ${g.type} but --metric says ${m.type}`);
      }
      out[i] = {
        name: g.name,
        type: (g.type ?? m.type) as MetricType | undefined,
        lowerIsBetter: g.lowerIsBetter || m.lowerIsBetter,
        guardrail: true,
      };
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Human rendering

function fmtCi(ci: Interval, f: (x: number) => string): string {
  const lo = ci[0] === null ? '-∞' : f(ci[0]);
  const hi = ci[1] === null ? '+∞' : f(ci[1]);
  return `[${lo}, ${hi}]`;
}

function verdictText(v: ComparisonReport['verdict'], style: Style): string {
  if (v === 'treatment_better' || v === 'non_inferior') return style.green(v);
  if (v === 'treatment_worse') return style.red(v);
  return style.yellow(v);
}

const ci = (alpha: number) => `${Number(((1 - alpha) * 100).toPrecision(4))}% CI`;
const cs = (alpha: number) => `${Number(((1 - alpha) * 100).toPrecision(4))}% CS`;

/**
 * The uplift-with-CI chart: one line per comparison on a shared axis, the interval as ───,
 * the estimate as ●, zero as │ (ASCII `-`, `o`, `|` when not on a terminal).
 */
export function renderUpliftChart(
  rows: { label: string; estimate: number | null; ci: Interval }[],
  style: Style,
  width = 44,
): string[] {
  const usable = rows.filter((r) => r.estimate !== null);
  if (usable.length === 0) return [];
  const vals = usable
    .flatMap((r) => [r.estimate!, r.ci[0], r.ci[1]])
    .filter((x): x is number => x !== null && Number.isFinite(x));
  let lo = Math.min(0, ...vals);
  let hi = Math.max(0, ...vals);
  if (hi - lo === 0) {
    lo -= 0.01;
    hi += 0.01;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const col = (x: number) => Math.max(0, Math.min(width - 1, Math.round(((x - lo) / (hi - lo)) * (width - 1))));
  const uni = style.tty;
  const g = uni
    ? { line: '─', dot: '●', zero: '│', left: '├', right: '┤', openL: '◀', openR: '▶', axis: '┼' }
    : { line: '-', dot: 'o', zero: '|', left: '[', right: ']', openL: '<', openR: '>', axis: '+' };
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const z = col(0);
  const out: string[] = [];
  for (const r of usable) {
    const cells = Array.from({ length: width }, () => ' ');
    cells[z] = g.zero;
    const a = r.ci[0] === null ? 0 : col(r.ci[0]);
    const b = r.ci[1] === null ? width - 1 : col(r.ci[1]);
    for (let i = a; i <= b; i++) cells[i] = g.line;
    if (a <= z && z <= b) cells[z] = g.axis;
    cells[a] = r.ci[0] === null ? g.openL : g.left;
    cells[b] = r.ci[1] === null ? g.openR : g.right;
    cells[col(r.estimate!)] = g.dot;
    const colour =
      r.ci[0] !== null && r.ci[0] > 0 ? style.green : r.ci[1] !== null && r.ci[1] < 0 ? style.red : (s: string) => s;
    out.push(`  ${r.label.padEnd(labelWidth)}  ${colour(cells.join('').trimEnd())}`);
  }
  const scale = Array.from({ length: width }, () => ' ');
  const put = (x: number, text: string, align: 'left' | 'center' | 'right') => {
    let at = col(x) - (align === 'center' ? Math.floor(text.length / 2) : align === 'right' ? text.length - 1 : 0);
    at = Math.max(0, Math.min(width - text.length, at));
    for (let i = 0; i < text.length; i++) scale[at + i] = text[i]!;
  };
  const label = (x: number) => (Math.abs(x) < 1e-12 ? '0' : fmtPct(x, 1, true));
  put(lo + pad, label(lo + pad), 'left');
  put(hi - pad, label(hi - pad), 'right');
  if (col(0) - col(lo + pad) > 6 && col(hi - pad) - col(0) > 6) put(0, '0', 'center');
  out.push(`  ${' '.repeat(labelWidth)}  ${style.dim(scale.join('').trimEnd())}`);
  return out;
}

/** The lines under a comparison: H0, odds ratio, fixed-horizon numbers, Bayesian read, units needed. */
function comparisonNotes(c: ComparisonReport, m: MetricReport, r: AnalyzeResult, style: Style): string[] {
  const pctDiff = m.type === 'proportion';
  const units = (u: { control: number; treatment: number }, c: ComparisonReport) =>
    `${groupDigits(u.control)} (${c.vs}) + ${groupDigits(u.treatment)} (${c.variant}) units`;
  const effect = (x: number) => (pctDiff ? fmtNum(x * 100, true) + 'pp' : fmtNum(x, true));
  const notes: string[] = [];
  if (c.hypothesis !== 'difference = 0') notes.push(`H0: ${c.hypothesis}`);
  if (c.odds_ratio) {
    notes.push(
      `odds ratio ${fmtNum(c.odds_ratio.estimate)} (conditional MLE), exact ${ci(r.settings.alpha)} ${fmtCi(c.odds_ratio.ci, (x) => fmtNum(x))}`,
    );
  }
  if (c.fixed_horizon) {
    notes.push(
      `fixed-horizon (valid only at the planned end, not under peeking): p = ${fmtP(c.fixed_horizon.p_value)}, ${ci(r.settings.alpha)} ${fmtCi(c.fixed_horizon.difference_ci, effect)}`,
    );
  }
  if (c.bayesian) {
    notes.push(
      `P(${c.variant} better) = ${fmtPct(c.bayesian.prob_better, 1)}, expected loss ${fmtNum(c.bayesian.expected_loss_treatment)} (${c.variant}) / ${fmtNum(c.bayesian.expected_loss_control)} (${c.vs}), uplift credible interval ${fmtCi(c.bayesian.relative_uplift_ci, (x) => fmtPct(x, 2, true))}`,
    );
  }
  const seq = r.settings.sequential ? ' (confidence sequence)' : '';
  if (c.units_needed?.basis === 'design') {
    notes.push(`to detect the design's MDE ${effect(c.units_needed.effect)}${seq}: about ${units(c.units_needed, c)}`);
    if (c.observed_effect_units_needed) {
      notes.push(style.dim(`for the observed effect: about ${units(c.observed_effect_units_needed, c)}`));
    }
  } else if (c.units_needed) {
    notes.push(
      `the observed effect ${effect(c.units_needed.effect)} would need about ${units(c.units_needed, c)}${seq} (no design: give --plan or --mde)`,
    );
  }
  return notes.map((note) => `  ${c.variant}: ${note}`);
}

function metricBlock(m: MetricReport, r: AnalyzeResult, style: Style): string[] {
  const lines: string[] = [];
  const pctDiff = m.type === 'proportion';
  const tags = [m.type, m.role, m.direction === 'lower_is_better' ? 'lower is better' : undefined]
    .filter(Boolean)
    .join(', ');
  lines.push(style.bold(`${m.name}`) + style.dim(` (${tags})`));
  const head = [
    'variant',
    'units',
    pctDiff ? 'rate' : 'mean',
    ...(pctDiff ? [] : ['sd']),
    pctDiff ? 'difference (pp)' : 'difference',
    `uplift (${r.settings.sequential ? cs(r.settings.alpha) : ci(r.settings.alpha)})`,
    r.settings.sequential ? 'p (seq)' : 'p',
    r.settings.sequential ? 'p adj (seq)' : 'p adj',
    'verdict',
  ];
  const rows = m.arms.map((a) => {
    const c = m.comparisons.find((x) => x.variant === a.variant);
    const centre = pctDiff
      ? fmtPct(a.rate ?? null)
      : fmtNum(a.mean_adjusted ?? a.mean ?? null) + (a.mean_adjusted !== undefined ? '*' : '');
    const diff = c
      ? pctDiff
        ? `${fmtNum(c.difference.estimate * 100, true, 3)} ${fmtCi(c.difference.ci, (x) => fmtNum(x * 100, true, 3))}`
        : `${fmtNum(c.difference.estimate, true, 4)} ${fmtCi(c.difference.ci, (x) => fmtNum(x, true, 4))}`
      : '';
    const upl =
      c && c.relative_uplift.estimate !== null
        ? `${fmtPct(c.relative_uplift.estimate, 2, true)} ${fmtCi(c.relative_uplift.ci, (x) => fmtPct(x, 2, true))}`
        : c
          ? '-'
          : '';
    return [
      a.variant + (a.variant === r.control && a.variant !== 'control' ? style.dim(' (control)') : ''),
      groupDigits(a.n),
      centre,
      ...(pctDiff ? [] : [fmtNum(a.sd_adjusted ?? a.sd ?? null)]),
      diff,
      upl,
      c ? fmtP(c.p_value) : '',
      c ? fmtP(c.p_value_adjusted) : '',
      c ? verdictText(c.verdict, style) : '',
    ];
  });
  lines.push(renderTable(style, head, rows));
  if (m.cuped) {
    lines.push(
      style.dim(
        `  * CUPED-adjusted (θ = ${fmtNum(m.cuped.theta)}): variance reduced by ${fmtPct(m.cuped.variance_reduction, 1)}`,
      ),
    );
  }
  if (m.omnibus) {
    lines.push(
      `  omnibus ${omnibusParts(m.omnibus).name} over all ${m.arms.length} arms: ${omnibusParts(m.omnibus).symbol} = ${fmtNum(m.omnibus.statistic)}, df ${omnibusParts(m.omnibus).df}, p = ${fmtP(m.omnibus.p_value)}`,
    );
  }
  for (const c of m.comparisons) lines.push(...comparisonNotes(c, m, r, style));
  const chart = renderUpliftChart(
    m.comparisons.map((c) => ({ label: c.variant, estimate: c.relative_uplift.estimate, ci: c.relative_uplift.ci })),
    style,
  );
  if (chart.length > 0) lines.push(style.dim('  relative uplift'), ...chart);
  return lines;
}

/** The human report: SRM first (loudly when it failed), a table and chart per metric, the verdict. */
export function renderAnalyze(r: AnalyzeResult, style: Style): string {
  const out: string[] = [];
  const srmCounts = r.srm.variants.map((v, i) => `${v} ${groupDigits(r.srm.counts[i]!)}`).join(' / ');
  if (!r.srm.ok) {
    out.push(style.red(style.bold(`${style.fail} SAMPLE RATIO MISMATCH — results are untrustworthy`)));
    out.push(
      style.red(
        `  units ${srmCounts}, expected ${r.srm.expected.map((e) => groupDigits(Math.round(e))).join(' / ')} (χ² p = ${fmtP(r.srm.p_value)} < ${r.srm.threshold})`,
      ),
    );
    out.push(style.red('  check assignment, exposure logging and filters before reading anything below'));
  } else {
    out.push(`${style.pass} sample ratio ok: ${srmCounts} (χ² p = ${fmtP(r.srm.p_value)})`);
  }
  const s = r.settings;
  const setting = [
    r.experiment !== undefined ? `experiment ${r.experiment}` : undefined,
    `control ${r.control}`,
    `alpha ${s.alpha}`,
    s.alternative,
    s.margin !== null ? `margin ${s.margin}` : undefined,
    s.test === 'z'
      ? 'z-test / Welch t'
      : s.test === 'chi2'
        ? `χ²${s.yates ? ' (Yates)' : ''} / Welch t`
        : 'Fisher exact / Welch t',
    `correction ${s.correction}`,
    r.metrics.some((m) => m.type === 'proportion') ? `CI ${s.ci}` : undefined,
    s.sequential ? `sequential (N* = ${s.tuning})` : undefined,
    s.cuped ? 'CUPED' : undefined,
  ].filter(Boolean);
  out.push(style.dim(setting.join(' · ')));
  for (const m of r.metrics) {
    out.push('');
    out.push(...metricBlock(m, r, style));
  }
  out.push('');
  const colour = r.verdict === 'ship' ? style.green : r.verdict === 'dont_ship' ? style.red : style.yellow;
  let verdict = `verdict: ${colour(style.bold(r.verdict.toUpperCase().replace('_', ' ')))}`;
  if (r.verdict === 'keep_running' && r.additional_units_needed !== undefined) verdict += ` — ${moreUnitsText(r)}`;
  out.push(verdict);
  for (const reason of r.verdict_reasons) out.push(`  ${reason}`);
  for (const w of r.warnings) out.push(style.yellow(`${style.warn} ${w}`));
  const ex = r.excluded;
  const excluded: string[] = [];
  if (ex.multi_variant_units !== null && ex.multi_variant_units > 0)
    excluded.push(`${groupDigits(ex.multi_variant_units)} units exposed to several variants`);
  if (ex.bad_lines > 0) {
    const shown = (ex.bad_line_samples ?? []).map((b) => `${b.file}:${b.line} ${b.reason}`).join('; ');
    excluded.push(
      `${groupDigits(ex.bad_lines)} unparseable lines (${shown}${ex.bad_lines > (ex.bad_line_samples?.length ?? 0) ? '; …' : ''})`,
    );
  }
  if (excluded.length > 0) out.push(style.dim(`excluded: ${excluded.join(', ')}`));
  return out.join('\n');
}
