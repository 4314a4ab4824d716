import type { ArmStats, ExperimentData, MetricData, MetricType } from '../core/experiment/types.js';
import { InputError } from '../errors.js';
import { splitCsvLine } from './events.js';
import { type InputOptions, inputName, readInput } from './input.js';

/**
 * The summary-file reader of `mlv analyze --summary FILE`: per-variant sufficient statistics, as
 * a warehouse query produces them (templates/sql/ has the queries; templates/sql/README.md is the
 * contract). Long format, one row per variant and metric:
 *
 *   variant,metric,n,conversions,sum,sum_sq,pre_sum,pre_sum_sq,cross_sum
 *   control,converted,10000,450,,,,,
 *   control,revenue,10000,,123456.5,9876543.25,,,
 *
 * - n: units in the variant (the same on every row of a variant);
 * - a proportion metric fills `conversions` (units with the event); a mean metric fills `sum` and
 *   `sum_sq` (Σy, Σy² over units, 0 for units without observations);
 * - optional `pre_sum`, `pre_sum_sq`, `cross_sum` (Σx, Σx², Σxy with x the pre-exposure value)
 *   enable CUPED; optional `type` (proportion|mean) and `experiment` columns.
 * CSV (with a header) or JSON (an array of such row objects, or {"rows": [...]}); numbers may be
 * strings (BigQuery's JSON export writes INT64 as strings). Gzip is detected by magic bytes.
 */

export interface ReadSummaryOptions {
  /** Only these metrics (and as these types), in this order; default every metric in the file. */
  metrics?: { name: string; type?: MetricType }[];
}

interface Row {
  line: string; // "FILE:LINE" or "FILE row N" for messages
  variant: string;
  metric: string;
  n: number;
  type: MetricType | undefined;
  conversions: number | undefined;
  sum: number | undefined;
  sumSq: number | undefined;
  preSum: number | undefined;
  preSumSq: number | undefined;
  crossSum: number | undefined;
  experiment: string | undefined;
}

const COLUMNS = [
  'variant',
  'metric',
  'n',
  'conversions',
  'sum',
  'sum_sq',
  'pre_sum',
  'pre_sum_sq',
  'cross_sum',
  'type',
  'experiment',
] as const;

/** Reads `--summary FILE` (`-` = stdin; a relative path is resolved against `cwd`). */
export async function readSummaryFile(
  file: string,
  opts: ReadSummaryOptions,
  io: Pick<InputOptions, 'cwd' | 'stdin'>,
): Promise<ExperimentData> {
  const bytes = await readInput(file, { what: '--summary', gunzip: true, ...io });
  return parseSummary(bytes.toString('utf8'), inputName(file), opts);
}

/** Parses the text of a summary file (CSV or JSON, decided by the first non-blank character). */
export function parseSummary(text: string, name: string, opts: ReadSummaryOptions = {}): ExperimentData {
  const body = text.replace(/^\uFEFF/, '');
  const trimmed = body.trimStart();
  if (trimmed === '') throw new InputError(`--summary ${name}: the file is empty`);
  const rows = trimmed.startsWith('[') || trimmed.startsWith('{') ? jsonRows(body, name) : csvRows(body, name);
  if (rows.length === 0) throw new InputError(`--summary ${name}: no data rows`);
  return assemble(rows, name, opts);
}

const isNull = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  (typeof v === 'string' && (v.trim() === '' || v.trim() === 'NULL' || v.trim() === 'null'));

function num(v: unknown, where: string, column: string): number | undefined {
  if (isNull(v)) return undefined;
  const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  if (!Number.isFinite(x))
    throw new InputError(`--summary ${where}: ${column} must be a number, got ${JSON.stringify(v)}`);
  return x;
}

function toRow(get: (c: (typeof COLUMNS)[number]) => unknown, where: string): Row {
  const str = (c: (typeof COLUMNS)[number]): string | undefined => {
    const v = get(c);
    return isNull(v) ? undefined : String(v).trim();
  };
  const variant = str('variant');
  const metric = str('metric');
  if (variant === undefined) throw new InputError(`--summary ${where}: missing variant`);
  if (metric === undefined) throw new InputError(`--summary ${where}: missing metric`);
  const n = num(get('n'), where, 'n');
  if (n === undefined) throw new InputError(`--summary ${where}: missing n`);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`--summary ${where}: n must be a whole number ≥ 0, got ${n}`);
  const type = str('type');
  if (type !== undefined && type !== 'proportion' && type !== 'mean') {
    throw new InputError(`--summary ${where}: type must be proportion or mean, got "${type}"`);
  }
  return {
    line: where,
    variant,
    metric,
    n,
    type,
    conversions: num(get('conversions'), where, 'conversions'),
    sum: num(get('sum'), where, 'sum'),
    sumSq: num(get('sum_sq'), where, 'sum_sq'),
    preSum: num(get('pre_sum'), where, 'pre_sum'),
    preSumSq: num(get('pre_sum_sq'), where, 'pre_sum_sq'),
    crossSum: num(get('cross_sum'), where, 'cross_sum'),
    experiment: str('experiment'),
  };
}

function csvRows(text: string, name: string): Row[] {
  const lines = text.split('\n');
  let header: string[] | null = null;
  const rows: Row[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    if (cells === null) throw new InputError(`--summary ${name}:${i + 1}: unbalanced quotes`);
    if (header === null) {
      header = cells.map((c) => c.trim().toLowerCase());
      for (const required of ['variant', 'metric', 'n']) {
        if (!header.includes(required)) {
          throw new InputError(`--summary ${name}: the CSV header has no "${required}" column`, {
            hint: 'columns: variant,metric,n,conversions,sum,sum_sq (see templates/sql/README.md)',
          });
        }
      }
      continue;
    }
    const where = `${name}:${i + 1}`;
    if (cells.length !== header.length) {
      throw new InputError(`--summary ${where}: expected ${header.length} fields like the header, got ${cells.length}`);
    }
    const h = header;
    rows.push(toRow((c) => cells[h.indexOf(c)], where));
  }
  return rows;
}

function jsonRows(text: string, name: string): Row[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`--summary ${name}: not valid JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(doc)
    ? doc
    : doc !== null && typeof doc === 'object' && Array.isArray((doc as { rows?: unknown }).rows)
      ? (doc as { rows: unknown[] }).rows
      : undefined;
  if (list === undefined) {
    throw new InputError(`--summary ${name}: expected a JSON array of rows or {"rows": [...]}`);
  }
  return list.map((r, i) => {
    const where = `${name} row ${i + 1}`;
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw new InputError(`--summary ${where}: not an object`);
    const o = r as Record<string, unknown>;
    return toRow((c) => o[c], where);
  });
}

function assemble(rows: Row[], name: string, opts: ReadSummaryOptions): ExperimentData {
  const variantN = new Map<string, { n: number; line: string }>();
  const byMetric = new Map<string, Map<string, Row>>();
  const experiments = new Set<string>();
  for (const r of rows) {
    const seen = variantN.get(r.variant);
    if (seen === undefined) variantN.set(r.variant, { n: r.n, line: r.line });
    else if (seen.n !== r.n) {
      throw new InputError(`--summary ${r.line}: variant ${r.variant} has n=${r.n}, but n=${seen.n} at ${seen.line}`, {
        hint: 'n is the number of units in the variant and must be the same for every metric',
      });
    }
    let m = byMetric.get(r.metric);
    if (m === undefined) byMetric.set(r.metric, (m = new Map()));
    if (m.has(r.variant))
      throw new InputError(`--summary ${r.line}: a second row for variant ${r.variant}, metric ${r.metric}`);
    m.set(r.variant, r);
    if (r.experiment !== undefined) experiments.add(r.experiment);
  }
  if (experiments.size > 1) {
    throw new InputError(`--summary ${name}: rows of several experiments (${[...experiments].join(', ')})`, {
      hint: 'filter the file to one experiment',
    });
  }
  const variants = [...variantN].map(([variant, v]) => ({ variant, n: v.n }));
  const wanted: { name: string; type?: MetricType }[] = opts.metrics ?? [...byMetric.keys()].map((name) => ({ name }));
  const metrics: MetricData[] = wanted.map((w) => {
    const m = byMetric.get(w.name);
    if (m === undefined) {
      throw new InputError(`--metric ${w.name}: not in --summary ${name}`, {
        hint: `metrics in the file: ${[...byMetric.keys()].join(', ')}`,
      });
    }
    let type: MetricType | undefined = w.type;
    const arms = variants.map(({ variant }): ArmStats => {
      const r = m.get(variant);
      if (r === undefined) throw new InputError(`--summary ${name}: no row for variant ${variant}, metric ${w.name}`);
      const rowType: MetricType = r.type ?? (r.conversions !== undefined ? 'proportion' : 'mean');
      type ??= rowType;
      if (type === 'proportion') {
        if (r.conversions === undefined) {
          throw new InputError(`--summary ${r.line}: metric ${w.name} is a proportion but the row has no conversions`);
        }
        if (!Number.isInteger(r.conversions) || r.conversions < 0) {
          throw new InputError(`--summary ${r.line}: conversions must be a whole number ≥ 0, got ${r.conversions}`);
        }
        if (r.conversions > r.n) {
          throw new InputError(
            `--summary ${r.line}: conversions (${r.conversions}) > n (${r.n}) for variant ${variant}`,
          );
        }
        return { variant, n: r.n, type: 'proportion', conversions: r.conversions };
      }
      // A mean of a 0/1 metric can be read from conversions: Σy = Σy² = conversions.
      const sum = r.sum ?? r.conversions;
      const sumSq = r.sumSq ?? (r.sum === undefined ? r.conversions : undefined);
      if (sum === undefined || sumSq === undefined) {
        throw new InputError(`--summary ${r.line}: metric ${w.name} is a mean but the row lacks sum and sum_sq`);
      }
      if (sumSq < 0) throw new InputError(`--summary ${r.line}: sum_sq must be ≥ 0, got ${sumSq}`);
      const cupedCols = [r.preSum, r.preSumSq, r.crossSum];
      const anyCuped = cupedCols.some((x) => x !== undefined);
      if (anyCuped && cupedCols.some((x) => x === undefined)) {
        throw new InputError(`--summary ${r.line}: pre_sum, pre_sum_sq and cross_sum go together (CUPED)`);
      }
      return {
        variant,
        n: r.n,
        type: 'mean',
        sum,
        sumSq,
        ...(anyCuped ? { cuped: { preSum: r.preSum!, preSumSq: r.preSumSq!, crossSum: r.crossSum! } } : {}),
      };
    });
    return { name: w.name, type: type ?? 'proportion', arms };
  });
  const experiment = [...experiments][0];
  return {
    ...(experiment !== undefined ? { experiment } : {}),
    variants,
    metrics,
    excluded: { multi_variant_units: null, bad_lines: 0 },
  };
}
