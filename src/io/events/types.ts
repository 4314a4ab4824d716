import type { DailyCohorts } from '../../core/experiment/daily.js';
import type { ExperimentData, MetricType } from '../../core/experiment/types.js';

/** The public shapes of the events reader; see accumulator.ts for the semantics. */

export interface EventMetricSpec {
  name: string;
  type: MetricType;
}

export interface ReadEventsOptions {
  experiment: string;
  metrics: EventMetricSpec[];
  /** Collect the CUPED covariate of mean metrics over this many milliseconds before exposure. */
  cupedWindowMs?: number;
  /** Any unparseable line is an error naming file:line. */
  strict?: boolean;
  /** How many bad lines to remember for the report (default 5). */
  badLineSamples?: number;
  /** Also return the per-day cohorts (units by first-exposure day) for the report. */
  daily?: boolean;
}

export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

export interface EventsResult extends ExperimentData {
  experiment: string;
  /** Non-empty lines read, over all files. */
  rows: number;
  bad_line_samples: BadLine[];
  /** Units that had metric rows but no exposure to this experiment (ignored). */
  unexposed_units: number;
  /** Exposure rows of other experiments (ignored). */
  other_experiment_rows: number;
  /** The most observations held at once because they preceded their unit's exposure. */
  peak_pending_observations: number;
  /** With `daily`: the units and metric sums by first-exposure day. */
  daily?: DailyCohorts;
}

/** A named input: a path, or `-` for standard input. */
export interface EventSource {
  name: string;
  chunks(): AsyncIterable<Buffer>;
}
