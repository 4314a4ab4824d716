import type { Alternative, Correction, DifferenceCiMethod, Interval } from '../stats/index.js';
import type { MetricType } from './types.js';

/**
 * The options and the result document of `mlv analyze`'s analysis (src/core/experiment/analyze.ts).
 * The field names are the `--json` names.
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
  /** The difference interval for proportions (default: wald, newcombe with --test fisher). */
  ci?: DifferenceCiMethod;
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
  /**
   * The design "units needed" comes from: the minimum detectable effect (absolute) the test was sized
   * for, per metric name or for every primary metric (`*`), and the planned units per arm (a plan).
   * Without it, units needed are computed for the observed effect and labelled so.
   */
  design?: AnalysisDesign;
  /** Role and direction per metric name (metrics not listed: primary, higher is better). */
  roles: MetricRole[];
}

export interface AnalysisDesign {
  source: 'plan' | 'mde';
  /** Absolute MDE per metric name; `*` for every primary metric. */
  mde: Record<string, number>;
  /** A plan's fixed-horizon units per arm (used as "units needed" without --sequential). */
  perVariant?: { control: number; treatment: number };
  /** Means: a plan's standard deviation (else the observed pooled one). */
  sd?: number;
  /** Proportions: a plan's baseline (else the observed control rate). */
  baseline?: number;
}

export interface UnitsNeeded {
  control: number;
  treatment: number;
  /** design: to detect the design's MDE; observed_effect: for the effect seen so far (no design given). */
  basis: 'design' | 'observed_effect';
  /** The effect the units are for (absolute difference). */
  effect: number;
  /** fixed: the fixed-horizon test; sequential: the confidence sequence. */
  horizon: 'fixed' | 'sequential';
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
  /** Under --sequential the confidence sequence (ci_method confidence_sequence). */
  difference: { estimate: number; ci: Interval; ci_method: string };
  /** Log-ratio (Katz) interval when both estimates are positive, else the delta method. */
  relative_uplift: { estimate: number | null; ci: Interval; ci_method: string };
  /** --test fisher: the conditional-MLE odds ratio (treatment vs control) and its exact interval. */
  odds_ratio?: { estimate: number; ci: Interval; method: 'conditional_mle' };
  /** Under --sequential only: the fixed-horizon numbers (NOT valid when the data were looked at early). */
  fixed_horizon?: {
    p_value: number;
    difference_ci: Interval;
    difference_ci_method: string;
    relative_uplift_ci: Interval;
  };
  bayesian?: {
    prob_better: number;
    expected_loss_treatment: number;
    expected_loss_control: number;
    relative_uplift_ci: Interval;
  };
  verdict: Verdict;
  /** When inconclusive (primary metrics): units per arm to detect the design's MDE (or the observed effect). */
  units_needed?: UnitsNeeded | null;
  /** With a design: units per arm for the observed effect, a secondary figure. */
  observed_effect_units_needed?: { control: number; treatment: number } | null;
}

export interface MetricReport {
  name: string;
  type: MetricType;
  role: 'primary' | 'guardrail';
  direction: 'higher_is_better' | 'lower_is_better';
  arms: ArmReport[];
  cuped?: { theta: number; variance_reduction: number };
  /**
   * More than two arms (do any differ?): Pearson's χ² on the k×2 table for rates, Welch's ANOVA
   * for means (df2 its denominator degrees of freedom).
   */
  omnibus?: { test: 'chi2' | 'welch_anova'; statistic: number; df: number; df2?: number; p_value: number };
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
  /** For keep_running: more units (all arms together) needed, or null when unknowable. */
  additional_units_needed?: number | null;
  /** What additional_units_needed is for: the design's MDE, or (no design given) the observed effect. */
  additional_units_basis?: 'design' | 'observed_effect';
  /** Things the reader must know (small expected cells, a plan not followed, …). */
  warnings: string[];
  control: string;
  settings: {
    alpha: number;
    alternative: Alternative;
    margin: number | null;
    test: TestName;
    yates: boolean;
    ci: DifferenceCiMethod;
    correction: Correction;
    srm_threshold: number;
    sequential: boolean;
    tuning: number | null;
    cuped: boolean;
  };
  excluded: { multi_variant_units: number | null; bad_lines: number };
}
