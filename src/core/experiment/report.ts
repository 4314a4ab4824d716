import type { Alternative, Correction, Interval } from '../stats/index.js';
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
