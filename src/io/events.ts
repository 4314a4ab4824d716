/**
 * The raw-events reader of `mlv analyze --events`, in src/io/events/: the accumulator and its
 * semantics (accumulator.ts), the unit table (units.ts), the JSON and CSV scanners (json.ts,
 * csv.ts), number and timestamp parsing (numbers.ts), and the sources (sources.ts).
 */
export { EventsAccumulator } from './events/accumulator.js';
export { splitCsvLine } from './events/csv.js';
export { epochToMs, parseNumber, parseTimestamp } from './events/numbers.js';
export { eventSource, readEvents } from './events/sources.js';
export type {
  BadLine,
  EventMetricSpec,
  EventSource,
  EventsResult,
  ParallelOptions,
  ReadEventsOptions,
} from './events/types.js';
