import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/commands/analyze.js';
import {
  analyzeExperiment,
  DEFAULT_ANALYSIS_OPTIONS,
  type AnalysisOptions,
} from '../../src/core/experiment/analyze.js';
import type { ArmStats } from '../../src/core/experiment/types.js';
import { EventsAccumulator } from '../../src/io/events.js';
import { parseSummary } from '../../src/io/summary.js';
import { testContext } from '../helpers/context.js';
import { repoRoot } from '../helpers/cli.js';
import { syntheticExperiment } from './synthetic.js';
import { expectClose } from '../stats/close.js';

/**
 * One synthetic experiment, four ways in: raw events, the summary file computed by the shipped SQL
 * template (run on SQLite here; the same text was checked on PostgreSQL 15), that summary as CSV
 * and as JSON, and the counts form. All must give the same statistics.
 */
const data = syntheticExperiment({ units: 4000, seed: 5, lift: 3, convLift: 0.03 });
const metrics = [
  { name: 'converted', type: 'proportion' as const },
  { name: 'revenue', type: 'mean' as const },
];
const WINDOW = 14 * 86_400_000;

function fromEvents() {
  const acc = new EventsAccumulator({ experiment: 'exp', metrics, cupedWindowMs: WINDOW });
  acc.beginFile('events.jsonl');
  acc.pushText(data.lines.join('\n'));
  return acc.finish(['events.jsonl']);
}

/** templates/sql/postgres.sql on SQLite: only the params line changes (SQLite has no INTERVAL; ts are epoch ms). */
function summaryRowsFromSql(): Record<string, unknown>[] {
  const template = readFileSync(path.join(repoRoot, 'templates/sql/postgres.sql'), 'utf8');
  const paramsLine = "SELECT 'checkout' AS experiment, INTERVAL '14 days' AS cuped_window";
  expect(template).toContain(paramsLine);
  const sql = template.replace(paramsLine, `SELECT 'exp' AS experiment, ${WINDOW} AS cuped_window`);
  const db = new Database(':memory:');
  db.exec('CREATE TABLE exposures (experiment TEXT, unit TEXT, variant TEXT, ts INTEGER)');
  db.exec('CREATE TABLE metric_events (unit TEXT, metric TEXT, value REAL, ts INTEGER)');
  const insE = db.prepare('INSERT INTO exposures VALUES (?, ?, ?, ?)');
  const insO = db.prepare('INSERT INTO metric_events VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const e of data.exposures) insE.run(e.experiment, e.unit, e.variant, e.ts);
    for (const o of data.observations) insO.run(o.unit, o.metric, o.value, o.ts);
  })();
  const rows = db.prepare(sql).all() as Record<string, unknown>[];
  db.close();
  return rows;
}

function toCsv(rows: Record<string, unknown>[]): string {
  const cols = ['variant', 'metric', 'n', 'conversions', 'sum', 'sum_sq', 'pre_sum', 'pre_sum_sq', 'cross_sum'];
  return (
    [cols.join(','), ...rows.map((r) => cols.map((c) => (r[c] === null ? '' : String(r[c]))).join(','))].join('\n') +
    '\n'
  );
}

const options: AnalysisOptions = { ...DEFAULT_ANALYSIS_OPTIONS, cuped: true, bayesian: true, sequential: true };

describe('events, summary (SQL template) and counts agree', () => {
  const events = fromEvents();
  const sqlRows = summaryRowsFromSql();

  it('the SQL template computes exactly the sufficient statistics of the events reader', () => {
    const summary = parseSummary(toCsv(sqlRows), 'stats.csv');
    const sortArms = (arms: ArmStats[]) => [...arms].sort((a, b) => a.variant.localeCompare(b.variant));
    expect(summary.metrics.map((m) => ({ ...m, arms: sortArms(m.arms) }))).toEqual(
      events.metrics.map((m) => ({ ...m, arms: sortArms(m.arms) })),
    );
    expect(events.excluded.multi_variant_units).toBeGreaterThan(50);
    expect(events.unexposed_units).toBe(200);
  });

  it('gives identical analyses from events, CSV summary and JSON summary', () => {
    const a = analyzeExperiment(events, options);
    const csv = analyzeExperiment(parseSummary(toCsv(sqlRows), 'stats.csv'), options);
    const json = analyzeExperiment(
      parseSummary(JSON.stringify(sqlRows.map((r) => ({ ...r, n: String(r.n) }))), 'stats.json'),
      options,
    );
    expect(csv.metrics).toEqual(a.metrics);
    expect(json.metrics).toEqual(a.metrics);
    expect(csv.srm).toEqual(a.srm);
    expect(csv.verdict).toBe(a.verdict);
    expect(a.metrics[1]!.cuped!.variance_reduction).toBeGreaterThan(0);
  });

  it('gives the same statistics from the counts form', async () => {
    const plain = { ...options, cuped: false };
    const a = analyzeExperiment(events, plain);
    const arm = (m: number, v: string) => events.metrics[m]!.arms.find((x) => x.variant === v)!;
    // proportion: the counts are integers, so everything is identical
    const conv = (v: string) => {
      const x = arm(0, v) as Extract<ArmStats, { type: 'proportion' }>;
      return `${x.conversions}/${x.n}`;
    };
    const { ctx } = testContext();
    const p = await analyze(ctx, {
      control: conv('control'),
      treatment: [conv('treatment')],
      metric: ['converted'],
      bayesian: true,
      sequential: true,
    });
    // Units needed are sized at alpha / (primary comparisons): one here, two in the events analysis.
    const withoutUnits = (m: (typeof a.metrics)[number]) => ({
      ...m,
      comparisons: m.comparisons.map(({ units_needed: _u, ...c }) => c),
    });
    expect(withoutUnits(p.metrics[0]!)).toEqual(withoutUnits(a.metrics[0]!));
    // mean: mean and sd printed with full precision (shortest round-trip) reproduce the sums' statistics
    const ms = (v: string) => {
      const x = arm(1, v) as Extract<ArmStats, { sum: number }>;
      const mean = x.sum / x.n;
      const sd = Math.sqrt((x.sumSq - x.sum * mean) / (x.n - 1));
      return `mean=${mean},sd=${sd},n=${x.n}`;
    };
    const m = await analyze(ctx, {
      control: ms('control'),
      treatment: [ms('treatment')],
      metric: ['revenue'],
      bayesian: true,
      sequential: true,
    });
    const got = m.metrics[0]!.comparisons[0]!;
    const want = a.metrics[1]!.comparisons[0]!;
    expect(got.test).toBe(want.test);
    const close = (x: number | null, y: number | null) => expectClose(x, y, 0, 1e-12 * Math.max(1, Math.abs(y ?? 0)));
    close(got.statistic, want.statistic);
    close(got.df!, want.df!);
    close(got.p_value, want.p_value);
    close(got.difference.estimate, want.difference.estimate);
    close(got.difference.ci[0], want.difference.ci[0]);
    close(got.difference.ci[1], want.difference.ci[1]);
    close(got.relative_uplift.ci[0], want.relative_uplift.ci[0]);
    close(got.relative_uplift.ci[1], want.relative_uplift.ci[1]);
    close(got.fixed_horizon!.p_value, want.fixed_horizon!.p_value);
    close(got.bayesian!.prob_better, want.bayesian!.prob_better);
    expect(got.verdict).toBe(want.verdict);
  });
});
