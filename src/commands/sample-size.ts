import { type Command, Option } from 'commander';
import type { Context } from '../context.js';
import {
  daysNeeded,
  minimumDetectableEffect,
  sampleSize as computeSampleSize,
  type SampleSizeDesign,
  type SampleSizeMethod,
  type SampleSizeResult,
  type Sides,
} from '../core/stats/sample-size.js';
import { InputError, UsageError } from '../errors.js';
import { action } from '../run.js';
import { commandLine, numberArg } from './args.js';
import type { Style } from '../terminal/style.js';
import { renderTable } from '../terminal/table.js';

export type ProportionMethod = Exclude<SampleSizeMethod, 'continuous' | 't'>;
export type MeanMethod = 't' | 'continuous';
/** How analyze will correct for multiplicity; both size each comparison at alpha / (variants × metrics). */
export type SizingCorrection = 'holm' | 'bonferroni';

export interface SampleSizeInput {
  /** Proportions: the control conversion rate. Continuous: the control mean (optional). */
  baseline?: number;
  /** Absolute minimum detectable effect (difference in rates or means). */
  mde?: number;
  /** Relative minimum detectable effect (0.1 = +10% of baseline). */
  mdeRelative?: number;
  /** The inverse question: units per arm (control; treatment = ceil(ratio·n)) → the detectable effect. */
  n?: number;
  /** Continuous metric: the per-unit standard deviation. */
  sd?: number;
  alpha?: number;
  power?: number;
  alternative?: Sides;
  ratio?: number;
  variants?: number;
  /** Primary metrics analyzed together (alpha split over variants × metrics). */
  metrics?: number;
  correction?: SizingCorrection;
  dailyTraffic?: number;
  method?: ProportionMethod | MeanMethod;
  /** Write the design as an experiment plan (for `mlv analyze --plan`). */
  save?: string;
  /** The metric the MDE is for (recorded in the plan; default: every primary metric). */
  metric?: string;
  /** YYYY-MM-DD the experiment starts (recorded in the plan). */
  startDate?: string;
}

/** The `--json` document (field names fixed by issue 5; `days` only with --daily-traffic). */
export interface SampleSizeOutput {
  solve_for: 'sample_size' | 'mde';
  method: SampleSizeMethod;
  alpha: number;
  alpha_per_comparison: number;
  power: number;
  alternative: Sides;
  baseline: number | null;
  sd: number | null;
  treatment_rate: number | null;
  mde_absolute: number;
  mde_relative: number | null;
  ratio: number;
  variants: number;
  metrics: number;
  correction: SizingCorrection;
  per_variant: { control: number; treatment: number };
  total: number;
  daily_traffic?: number;
  days?: number;
  /** With --save: the plan file written. */
  saved_plan?: string;
}

const METHODS: ProportionMethod[] = ['pooled', 'unpooled', 'arcsine', 'evanmiller'];
const MEAN_METHODS: MeanMethod[] = ['t', 'continuous'];

const HELP = `
Proportion metric: --baseline P and exactly one of --mde D (absolute, e.g. 0.005 = +0.5 points),
--mde-relative R (0.1 = +10% of the baseline) or --n N (units per arm → the detectable effect).
Continuous metric: --sd S with --mde D (difference in means), or --n N; --baseline MEAN is optional
(needed for --mde-relative).

Methods (proportions), n_control for an effect D, p2 = p1 + D, K = --ratio, z_a = z(1 − alpha/(V·M·sides)):
  pooled      (z_a·√(p̄q̄(1+1/K)) + z_b·√(p1q1 + p2q2/K))² / D²,  p̄ = (p1 + K·p2)/(1 + K)   [default]
  unpooled    (z_a + z_b)²·(p1q1 + p2q2/K) / D²
  arcsine     statsmodels NormalIndPower().solve_power(effect_size=proportion_effectsize(p2, p1), …, ratio=K)
  evanmiller  evanmiller.org's calculator: (z_a·√(2·p1q1) + z_b·√(p1q1 + p2q2))² / D², two-sided, 1:1
Means (--sd S):
  t           the two-sample t-test's power by the noncentral t, as R power.t.test(strict = TRUE) and
              statsmodels TTestIndPower (ν = n(1 + K) − 2)   [default with --sd]
  continuous  the normal approximation (z_a + z_b)²·S²·(1 + 1/K) / D²
Each arm is rounded up; n_treatment = ceil(K·n_control); total = control + V·treatment.
Multiplicity: --variants V treatment arms × --metrics M primary metrics are one family, as
\`mlv analyze\` corrects them; --correction holm (default, what analyze applies) or bonferroni both size
each comparison at alpha/(V·M) — Holm's first step, so Holm keeps at least the planned power.

Examples:
  mlv sample-size --baseline 0.045 --mde-relative 0.1
  mlv sample-size --baseline 0.045 --mde 0.005 --power 0.9 --ratio 2 --daily-traffic 20000
  mlv sample-size --baseline 0.2 --n 5000 --method arcsine
  mlv sample-size --sd 4.1 --mde 0.3 --variants 3 --alternative one-sided --json
  mlv sample-size --baseline 0.045 --mde-relative 0.1 --metrics 2 --save plan.json`;

// Flag values are parsed as finite numbers only; ranges are checked in sampleSize() so tests see them too.
export function registerSampleSize(program: Command): void {
  program
    .command('sample-size')
    .description('units needed to detect an effect in an A/B test (or the effect detectable with N units)')
    .option(
      '--baseline <p>',
      'control conversion rate in (0, 1) (continuous: control mean, optional)',
      numberArg('--baseline'),
    )
    .option('--mde <d>', 'absolute minimum detectable effect (difference in rates or means)', numberArg('--mde'))
    .option(
      '--mde-relative <r>',
      'relative minimum detectable effect, e.g. 0.1 = +10% of baseline',
      numberArg('--mde-relative'),
    )
    .option('--n <n>', 'units per arm: report the minimum detectable effect instead', numberArg('--n'))
    .option('--sd <s>', 'standard deviation of a continuous metric (selects the continuous formula)', numberArg('--sd'))
    .option('--alpha <a>', 'significance level (family-wise with --variants)', numberArg('--alpha'), 0.05)
    .option('--power <p>', 'power, 1 − beta', numberArg('--power'), 0.8)
    .addOption(
      new Option('--alternative <sides>', 'two-sided or one-sided test')
        .choices(['two-sided', 'one-sided'])
        .default('two-sided'),
    )
    .option('--ratio <k>', 'allocation: treatment units per control unit', numberArg('--ratio'), 1)
    .option('--variants <v>', 'number of treatment arms (alpha split Bonferroni-style)', numberArg('--variants'), 1)
    .option(
      '--metrics <m>',
      'number of primary metrics analyzed together (alpha split over arms × metrics)',
      numberArg('--metrics'),
      1,
    )
    .addOption(
      new Option('--correction <method>', 'the multiplicity correction analyze will apply')
        .choices(['holm', 'bonferroni'])
        .default('holm'),
    )
    .option(
      '--daily-traffic <n>',
      'units entering the test per day (all arms) → days needed',
      numberArg('--daily-traffic'),
    )
    .addOption(
      new Option(
        '--method <method>',
        'formula: pooled|unpooled|arcsine|evanmiller (proportions), t|continuous (--sd)',
      ).choices([...METHODS, ...MEAN_METHODS]),
    )
    .option('--save <file>', 'write the design as an experiment plan for `mlv analyze --plan`')
    .option('--metric <name>', 'the metric the MDE is for (recorded in the plan)')
    .option('--start-date <date>', 'the day the experiment starts, YYYY-MM-DD (recorded in the plan)')
    .addHelpText('after', HELP)
    .action(
      action(async (ctx, opts: SampleSizeInput) => {
        ctx.output(await sampleSize(ctx, opts), renderSampleSize);
      }),
    );
}

// 15 significant digits: 0.045 × 1.1 is 0.0495 to a reader, not 0.049499999999999995
function tidy(x: number): number;
function tidy(x: number | null): number | null;
function tidy(x: number | null): number | null {
  return x === null ? null : +x.toPrecision(15);
}

function usage(message: string, hint?: string): UsageError {
  return new UsageError(message, hint === undefined ? undefined : { hint });
}

function requireRange(flag: string, x: number | undefined, ok: (x: number) => boolean, expected: string): void {
  if (x !== undefined && !(Number.isFinite(x) && ok(x))) throw usage(`${flag} must be ${expected}, got ${x}`);
}

/**
 * `mlv sample-size`: validates the inputs (usage errors, exit 2, name the flag and the range) and
 * solves either for the sample size (given an MDE) or for the MDE (given --n).
 */
export async function sampleSize(ctx: Context, input: SampleSizeInput): Promise<SampleSizeOutput> {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const ratio = input.ratio ?? 1;
  const variants = input.variants ?? 1;
  const metrics = input.metrics ?? 1;
  const correction = input.correction ?? 'holm';
  const alternative = input.alternative ?? 'two-sided';
  const continuous = input.sd !== undefined;

  requireRange('--alpha', alpha, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  requireRange('--power', power, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  requireRange('--ratio', ratio, (x) => x > 0, 'a number > 0 (treatment units per control unit)');
  requireRange('--variants', variants, (x) => Number.isInteger(x) && x >= 1, 'an integer ≥ 1');
  requireRange('--metrics', metrics, (x) => Number.isInteger(x) && x >= 1, 'an integer ≥ 1');
  if (correction !== 'holm' && correction !== 'bonferroni') {
    throw usage(`--correction must be holm or bonferroni, got ${String(correction)}`);
  }
  requireRange('--daily-traffic', input.dailyTraffic, (x) => x > 0, 'a number > 0 (units per day)');
  requireRange('--n', input.n, (x) => Number.isInteger(x) && x >= 2, 'an integer ≥ 2 (units per arm)');
  requireRange('--sd', input.sd, (x) => x > 0, 'a number > 0');
  if (alternative !== 'two-sided' && alternative !== 'one-sided') {
    throw usage(`--alternative must be two-sided or one-sided, got ${String(alternative)}`);
  }

  const given = (['mde', 'mdeRelative', 'n'] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) {
    const names = { mde: '--mde', mdeRelative: '--mde-relative', n: '--n' };
    throw usage(
      given.length === 0
        ? 'give exactly one of --mde, --mde-relative or --n'
        : `give exactly one of --mde, --mde-relative or --n, got ${given.map((k) => names[k]).join(' and ')}`,
      'e.g. --baseline 0.045 --mde-relative 0.1',
    );
  }

  let method: SampleSizeMethod;
  if (continuous) {
    if (input.method !== undefined && !MEAN_METHODS.includes(input.method as MeanMethod)) {
      throw usage(`--method ${input.method} applies to proportion metrics; with --sd use --method t or continuous`);
    }
    method = input.method ?? 't';
    requireRange('--baseline', input.baseline, (x) => x !== 0, 'a non-zero number (the control mean)');
    if (input.mdeRelative !== undefined && input.baseline === undefined) {
      throw usage('--mde-relative with --sd needs --baseline (the control mean)', 'or give the absolute --mde');
    }
  } else {
    if (input.method !== undefined && MEAN_METHODS.includes(input.method as MeanMethod)) {
      throw usage(`--method ${input.method} is for a mean metric: give --sd`);
    }
    method = input.method ?? 'pooled';
    if (!METHODS.includes(method as ProportionMethod)) {
      throw usage(`--method must be one of ${METHODS.join(', ')}, got ${String(method)}`);
    }
    if (input.baseline === undefined) {
      throw usage('--baseline is required: the control conversion rate in (0, 1)', 'for a continuous metric give --sd');
    }
    requireRange('--baseline', input.baseline, (x) => x > 0 && x < 1, 'a rate in (0, 1)');
    if (method === 'evanmiller' && alternative !== 'two-sided') {
      throw usage(
        '--method evanmiller is two-sided by its convention',
        'drop --alternative one-sided, or use --method pooled',
      );
    }
    if (method === 'evanmiller' && ratio !== 1) {
      throw usage('--method evanmiller has no allocation ratio (it sizes 1:1)', 'drop --ratio, or use --method pooled');
    }
  }

  const sides = alternative === 'two-sided' ? 2 : 1;
  if (power <= alpha / variants / metrics / sides) {
    throw usage(
      `--power must exceed the one-tail alpha per comparison (${tidy(alpha / variants / metrics / sides)}), got ${power}`,
      'a test has at least that power with no units at all',
    );
  }

  const design: SampleSizeDesign = {
    method,
    alpha,
    power,
    alternative,
    ratio,
    variants,
    metrics,
    ...(input.baseline !== undefined ? { baseline: input.baseline } : {}),
    ...(input.sd !== undefined ? { sd: input.sd } : {}),
  };

  let result: SampleSizeResult;
  let solveFor: SampleSizeOutput['solve_for'];
  if (input.n !== undefined) {
    solveFor = 'mde';
    const r = minimumDetectableEffect(design, input.n);
    if (r === null) {
      throw new InputError(
        `--n ${input.n} is too small: no treatment rate below 1 is detectable from a baseline of ${input.baseline} with power ${power}`,
        { hint: 'raise --n, or lower --power' },
      );
    }
    result = r;
  } else {
    solveFor = 'sample_size';
    let mde: number;
    if (input.mde !== undefined) {
      requireRange('--mde', input.mde, (x) => x !== 0, 'a non-zero number');
      mde = input.mde;
    } else {
      requireRange('--mde-relative', input.mdeRelative, (x) => x !== 0 && x > -1, 'a non-zero number > −1');
      mde = input.mdeRelative! * input.baseline!;
    }
    if (!continuous) {
      const p2 = input.baseline! + mde;
      if (!(p2 > 0 && p2 < 1)) {
        throw usage(
          `the treatment rate ${input.baseline} ${mde >= 0 ? '+' : '−'} ${tidy(Math.abs(mde))} = ${tidy(p2)} must stay in (0, 1)`,
          `--mde must lie in (${tidy(-input.baseline!)}, ${tidy(1 - input.baseline!)})`,
        );
      }
    }
    result = computeSampleSize(design, mde);
    // An effect of 1e-300 needs more units than exist (NaN or Infinity, or past 2^53 where counts are not exact).
    const counts = [result.perVariant.control, result.perVariant.treatment, result.total];
    if (!counts.every((n) => Number.isSafeInteger(n))) {
      throw usage(
        `an effect of ${input.mde ?? input.mdeRelative} is too small to size: it needs more than 2^53 units per arm`,
        'a detectable effect needs a finite sample; raise --mde or --mde-relative',
      );
    }
  }
  const out: SampleSizeOutput = {
    solve_for: solveFor,
    method: result.method,
    alpha: result.alpha,
    alpha_per_comparison: result.alphaPerComparison,
    power: result.power,
    alternative: result.alternative,
    baseline: result.baseline,
    sd: result.sd,
    treatment_rate: tidy(result.treatmentRate),
    mde_absolute: tidy(result.mdeAbsolute)!,
    mde_relative: input.mdeRelative ?? tidy(result.mdeRelative),
    ratio: result.ratio,
    variants: result.variants,
    metrics: result.metrics,
    correction,
    per_variant: result.perVariant,
    total: result.total,
  };
  if (input.dailyTraffic !== undefined) {
    out.daily_traffic = input.dailyTraffic;
    out.days = daysNeeded(result.total, input.dailyTraffic);
  }
  if (input.save !== undefined) await savePlan(ctx, input, out);
  else if (input.startDate !== undefined || input.metric !== undefined) {
    throw usage(
      `${input.startDate !== undefined ? '--start-date' : '--metric'} is recorded in a plan: add --save FILE`,
    );
  }
  return out;
}

/** Writes the plan file (`--save`), resolved against the working directory. */
async function savePlan(ctx: Context, input: SampleSizeInput, out: SampleSizeOutput): Promise<void> {
  if (out.solve_for !== 'sample_size')
    throw usage('--save writes a plan for a sample size: give --mde or --mde-relative, not --n');
  const date = input.startDate;
  if (date !== undefined && !(/^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(Date.parse(date + 'T00:00:00Z')))) {
    throw usage(`--start-date must be a date YYYY-MM-DD, got ${date}`);
  }
  const command = commandLine(
    ['mlv', 'sample-size'],
    [
      ['--baseline', input.baseline],
      ['--sd', input.sd],
      ['--mde', input.mde],
      ['--mde-relative', input.mdeRelative],
      ['--alpha', input.alpha],
      ['--power', input.power],
      ['--alternative', input.alternative === 'two-sided' ? undefined : input.alternative],
      ['--ratio', input.ratio === 1 ? undefined : input.ratio],
      ['--variants', input.variants === 1 ? undefined : input.variants],
      ['--metrics', input.metrics === 1 ? undefined : input.metrics],
      ['--correction', input.correction === 'holm' ? undefined : input.correction],
      ['--method', input.method],
      ['--daily-traffic', input.dailyTraffic],
      ['--metric', input.metric],
      ['--start-date', input.startDate],
      ['--save', input.save],
    ],
  );
  const { makePlan } = await import('../core/experiment/plan.js');
  const plan = makePlan(out, { metric: input.metric ?? null, startDate: date ?? null, command });
  const { writeFile } = await import('node:fs/promises');
  const { resolve } = await import('node:path');
  try {
    await writeFile(resolve(ctx.cwd, input.save!), JSON.stringify(plan, null, 2) + '\n');
  } catch (err) {
    throw new InputError(`--save ${input.save}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  out.saved_plan = input.save!;
}

const METHOD_NAMES: Record<SampleSizeMethod, string> = {
  pooled: 'two-proportion z-test, pooled variance under H0 (Fleiss)',
  unpooled: 'two-proportion z-test, unpooled variance',
  arcsine: "arcsine transform, Cohen's h (as statsmodels NormalIndPower)",
  evanmiller: "evanmiller.org calculator's convention (null variance at the baseline)",
  t: 'difference in means, two-sample t-test (noncentral t, as R power.t.test)',
  continuous: 'difference in means, normal approximation',
};

/** Human view: the conventions first (numbers from different calculators differ by them), then the arms. */
export function renderSampleSize(r: SampleSizeOutput, style: Style): string {
  const int = (x: number) => (style.tty ? x.toLocaleString('en-US') : String(x));
  const pct = (x: number, digits = 2) => `${+(x * 100).toFixed(digits)}%`;
  const signed = (s: string, x: number) => (x > 0 ? '+' : x < 0 ? '−' : '') + s;
  const num = (x: number) => String(+x.toPrecision(6));
  const proportion = r.method !== 'continuous' && r.method !== 't';

  const effect = proportion
    ? `${signed(`${+(Math.abs(r.mde_absolute) * 100).toPrecision(6)} pp`, r.mde_absolute)} absolute` +
      (r.mde_relative !== null ? ` (${signed(pct(Math.abs(r.mde_relative), 2), r.mde_relative)} relative)` : '') +
      ` → treatment rate ${pct(r.treatment_rate!, 4)}`
    : `${signed(num(Math.abs(r.mde_absolute)), r.mde_absolute)} in the mean (absolute)` +
      (r.mde_relative !== null
        ? `, ${signed(pct(Math.abs(r.mde_relative), 2), r.mde_relative)} of ${num(r.baseline!)}`
        : '');

  const lines: string[] = [];
  lines.push(
    style.bold(r.solve_for === 'mde' ? 'Minimum detectable effect' : 'Sample size') +
      style.dim(` · method ${r.method}: ${METHOD_NAMES[r.method]}`),
  );
  const kv: [string, string][] = [];
  if (proportion) kv.push(['baseline rate', pct(r.baseline!, 4)]);
  else {
    kv.push(['standard deviation', num(r.sd!)]);
    if (r.baseline !== null) kv.push(['control mean', num(r.baseline)]);
  }
  kv.push([r.solve_for === 'mde' ? 'detectable effect' : 'minimum effect', effect]);
  kv.push(['test', `${r.alternative}, alpha ${num(r.alpha)}, power ${pct(r.power, 2)}`]);
  kv.push(['allocation', `1 control : ${num(r.ratio)} treatment${r.ratio === 1 ? ' (equal)' : ''}`]);
  const family = r.variants * r.metrics;
  kv.push([
    'comparisons',
    family === 1
      ? '1 (no multiplicity split)'
      : `${r.variants} arm(s) × ${r.metrics} metric(s) (analyzed with ${r.correction}), Bonferroni: alpha ${num(r.alpha)}/${family} = ${num(r.alpha_per_comparison)} per comparison`,
  ]);
  const width = Math.max(...kv.map(([k]) => k.length));
  for (const [k, v] of kv) lines.push(`  ${k.padEnd(width)}  ${v}`);
  lines.push('');

  const rows: (string | number)[][] = [['control', int(r.per_variant.control)]];
  for (let i = 1; i <= r.variants; i++) {
    rows.push([r.variants === 1 ? 'treatment' : `treatment ${i}`, int(r.per_variant.treatment)]);
  }
  rows.push(['total', int(r.total)]);
  lines.push(renderTable(style, ['arm', 'units'], rows));
  if (r.days !== undefined) {
    lines.push(`days needed: ${style.bold(int(r.days))} at ${int(r.daily_traffic!)} units/day (all arms)`);
  }
  if (r.saved_plan !== undefined)
    lines.push(`plan saved to ${r.saved_plan} (use: mlv analyze … --plan ${r.saved_plan})`);
  lines.push('');
  lines.push(
    style.dim(
      r.solve_for === 'mde'
        ? `Conventions: --n is the control arm; each treatment arm gets ceil(ratio × n). The effect is the smallest increase detectable (${r.alternative}).`
        : 'Conventions: each arm rounded up; treatment = ceil(ratio × control); total = control + arms × treatment.',
    ),
  );
  lines.push(
    style.dim(
      proportion
        ? 'MDE is an absolute difference in rates (pp = percentage points); relative = absolute / baseline.'
        : 'MDE is an absolute difference in means; S is the per-unit standard deviation.',
    ),
  );
  return lines.join('\n');
}
