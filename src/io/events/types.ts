import type { DailyCohorts } from '../../core/experiment/cohorts.js';
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
  /** The absolute path of a file (readers in parallel read its byte ranges); absent for stdin. */
  path?: string;
  chunks(): AsyncIterable<Buffer>;
}

/** How many threads read the input, and how it is cut (see parallel.ts). */
export interface ParallelOptions {
  /** Reader threads; 1 reads in the calling thread, as one pass over the input. */
  threads: number;
  /** Size of a range of a plain file (default: the plain input / (16 × threads), within 1–16 MiB). */
  chunkBytes?: number;
  /** Size of a block of stdin or gzip input handed to a reader (default 2 MiB). */
  blockBytes?: number;
  /** Whether a thread done with its zone of ranges takes others' (default true; false for tests: a fixed split). */
  steal?: boolean;
  /** Plain files smaller than this in all (and no stdin or gzip) are read by one thread (default 128 MiB). */
  minParallelBytes?: number;
}
