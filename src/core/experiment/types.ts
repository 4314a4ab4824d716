/**
 * The sufficient statistics that every input form of `mlv analyze` (counts, summary file, raw
 * events) is reduced to before any test runs. Keeping one representation is what makes the three
 * forms give identical numbers on the same data.
 */

export type MetricType = 'proportion' | 'mean';

/** Per-unit covariate sums for CUPED: x = the unit's same-metric total in the pre-exposure window. */
export interface CovariateSums {
  /** Σx */
  preSum: number;
  /** Σx² */
  preSumSq: number;
  /** Σx·y */
  crossSum: number;
}

/** One metric in one variant. */
export type ArmStats =
  | { variant: string; n: number; type: 'proportion'; conversions: number }
  | {
      variant: string;
      n: number;
      type: 'mean';
      /** Σy over units (0 for units without observations). */
      sum: number;
      /** Σy² over units. */
      sumSq: number;
      cuped?: CovariateSums;
    }
  | {
      variant: string;
      n: number;
      type: 'mean';
      /** Given directly (counts form): the sample mean and sample standard deviation (n − 1). */
      mean: number;
      sd: number;
    };

export interface MetricData {
  name: string;
  type: MetricType;
  /** One entry per variant, in the order variants were first seen. */
  arms: ArmStats[];
}

/** What an input form hands to the analysis. */
export interface ExperimentData {
  experiment?: string;
  /** Units per variant, in the order first seen (the SRM check runs on these). */
  variants: { variant: string; n: number }[];
  metrics: MetricData[];
  excluded: {
    /** Units exposed to more than one variant (null when the input form cannot know). */
    multi_variant_units: number | null;
    bad_lines: number;
  };
}
