import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { analyzeExperiment, DEFAULT_ANALYSIS_OPTIONS } from '../../src/core/experiment/analyze.js';
import { cumulativeData, cumulativeSeries, DailyCohortsBuilder } from '../../src/core/experiment/daily.js';
import { EventsAccumulator, eventSource, readEvents } from '../../src/io/events.js';
import { syntheticExperiment } from './synthetic.js';

/** The per-day cohorts of the events form add up, on the last day, to exactly what the reader reports. */

const read = () => {
  const acc = new EventsAccumulator({
    experiment: 'exp',
    metrics: [
      { name: 'converted', type: 'proportion' },
      { name: 'revenue', type: 'mean' },
    ],
    daily: true,
  });
  acc.beginFile('events.jsonl');
  acc.pushText(syntheticExperiment({ units: 2000, seed: 11, convLift: 0.05 }).lines.join('\n') + '\n');
  return acc.finish(['events.jsonl']);
};

describe('daily cohorts', () => {
  const events = read();
  const daily = events.daily!;

  it('every UTC day from the first exposure to the last; the last cumulative day is the whole experiment', () => {
    expect(daily.days[0]).toBe('2024-05-01');
    expect(daily.days).toHaveLength(10); // exposures over ten days (test/analyze/synthetic.ts)
    const last = cumulativeData(daily, daily.days.length - 1, 'exp');
    expect(last.variants).toEqual(events.variants);
    expect(last.metrics).toEqual(events.metrics);
    const units = daily.n.flat().reduce((s, x) => s + x, 0);
    expect(units).toBe(events.variants.reduce((s, v) => s + v.n, 0));
  });

  it('the cumulative series ends at the final analysis and uses its interval kind', () => {
    const final = analyzeExperiment(events, { ...DEFAULT_ANALYSIS_OPTIONS, sequential: true });
    const series = cumulativeSeries(daily, { ...DEFAULT_ANALYSIS_OPTIONS, sequential: true });
    expect(series.map((s) => [s.metric, s.variant, s.interval])).toEqual([
      ['converted', 'treatment', 'confidence_sequence'],
      ['revenue', 'treatment', 'confidence_sequence'],
    ]);
    series.forEach((s, k) => {
      const end = s.points[s.points.length - 1]!;
      const c = final.metrics[k]!.comparisons[0]!;
      expect(end.day).toBe('2024-05-10');
      expect(end.estimate).toBe(c.difference.estimate);
      expect(end.ci).toEqual(c.difference.ci);
      expect(end.relative_ci).toEqual(c.relative_uplift.ci);
      // units grow day by day
      for (let i = 1; i < s.points.length; i++) expect(s.points[i]!.units).toBeGreaterThan(s.points[i - 1]!.units);
    });
  });

  it('the same cohorts from the reader on several threads (units split across ranges)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlv-daily-'));
    const lines = syntheticExperiment({ units: 600, seed: 4 }).lines;
    writeFileSync(path.join(dir, 'e.jsonl'), lines.join('\n') + '\n');
    const opts = {
      experiment: 'exp',
      metrics: [
        { name: 'converted', type: 'proportion' as const },
        { name: 'revenue', type: 'mean' as const },
      ],
      daily: true,
    };
    const src = () => [eventSource('e.jsonl', { cwd: dir, stdin: new PassThrough() })];
    const one = await readEvents(src(), opts);
    const two = await readEvents(src(), opts, undefined, { threads: 2, minParallelBytes: 0, chunkBytes: 997 });
    expect(one.daily!.days).toHaveLength(10);
    expect(two.daily).toEqual(one.daily); // values are multiples of 1/4: sums exact in any order
  });

  it('days without exposures are kept (the axis is calendar time), with zero units', () => {
    const b = new DailyCohortsBuilder(2, 1);
    b.addUnit(Date.UTC(2024, 0, 1, 10), 0);
    b.addValue(0, 1);
    b.addUnit(Date.UTC(2024, 0, 3, 23, 59), 1);
    b.addValue(0, 0);
    const c = b.build(['control', 'treatment'], [{ name: 'converted', type: 'proportion' }]);
    expect(c.days).toEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
    expect(c.n).toEqual([
      [1, 0],
      [0, 0],
      [0, 1],
    ]);
    expect(c.sum[0]).toEqual([[1, 0]]);
    // merged with another part: the sums add up day by day
    const other = new DailyCohortsBuilder(2, 1);
    other.addUnit(Date.UTC(2024, 0, 1, 12), 1);
    other.addValue(0, 1);
    other.addUnit(Date.UTC(2024, 0, 4), 0);
    other.addValue(0, 0);
    b.merge(other);
    const m = b.build(['control', 'treatment'], [{ name: 'converted', type: 'proportion' }]);
    expect(m.days).toEqual(['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']);
    expect(m.n[0]).toEqual([1, 1]);
    expect(m.sum[0]).toEqual([[1, 1]]);
    expect(m.n[3]).toEqual([1, 0]);
  });

  it("adds cohorts built with another numbering of the variants (a reader thread's)", () => {
    // here: control 0, treatment 1, late 2; there: treatment 0, control 1
    const b = new DailyCohortsBuilder(3, 2);
    b.addUnit(Date.UTC(2024, 0, 1), 2);
    b.addValue(0, 1);
    b.addValue(1, 5);
    const other = new DailyCohortsBuilder(2, 2);
    other.addUnit(Date.UTC(2024, 0, 1, 8), 0);
    other.addValue(0, 1);
    other.addValue(1, 2.5);
    other.addUnit(Date.UTC(2024, 0, 2), 1);
    other.addValue(0, 0);
    other.addValue(1, 4);
    b.addData(other.toData(), Int32Array.from([1, 0]));
    const metrics = [
      { name: 'converted', type: 'proportion' as const },
      { name: 'revenue', type: 'mean' as const },
    ];
    const c = b.build(['control', 'treatment', 'late'], metrics);
    expect(c.days).toEqual(['2024-01-01', '2024-01-02']);
    expect(c.n).toEqual([
      [0, 1, 1],
      [1, 0, 0],
    ]);
    expect(c.sum).toEqual([
      [
        [0, 1, 1],
        [0, 2.5, 5],
      ],
      [
        [0, 0, 0],
        [4, 0, 0],
      ],
    ]);
    expect(c.sumSq[0]![1]).toEqual([0, 6.25, 25]);
  });
});
