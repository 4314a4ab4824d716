import { describe, expect, it } from 'vitest';
import { analyzeExperiment, cupedAdjust, DEFAULT_ANALYSIS_OPTIONS } from '../../src/core/experiment/analyze.js';
import { EventsAccumulator } from '../../src/io/events.js';
import { rng } from './synthetic.js';

const DAY = 86_400_000;

/**
 * Units whose post-exposure spending y shares a per-unit level with their pre-exposure spending x
 * (corr(x, y) ≈ 0.8), logged as events. The treatment adds +1 to y.
 */
function correlatedEvents(units: number, seed: number): string[] {
  const rand = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const lines: string[] = [];
  const t0 = Date.UTC(2024, 4, 15);
  for (let i = 0; i < units; i++) {
    const treat = i % 2 === 1;
    const level = 20 + 6 * gauss();
    const first = t0 + Math.floor(rand() * 5 * DAY);
    const iso = (t: number) => new Date(t).toISOString();
    lines.push(
      JSON.stringify({
        type: 'exposure',
        experiment: 'exp',
        unit: `u${i}`,
        variant: treat ? 'treatment' : 'control',
        ts: iso(first),
      }),
    );
    lines.push(
      JSON.stringify({
        type: 'metric',
        unit: `u${i}`,
        metric: 'spend',
        value: level + 3 * gauss(),
        ts: iso(first - 3 * DAY),
      }),
    );
    lines.push(
      JSON.stringify({ type: 'metric', unit: `u${i}`, metric: 'spend', value: 100, ts: iso(first - 30 * DAY) }),
    ); // outside the window
    lines.push(
      JSON.stringify({
        type: 'metric',
        unit: `u${i}`,
        metric: 'spend',
        value: level + 3 * gauss() + (treat ? 1 : 0),
        ts: iso(first + DAY),
      }),
    );
  }
  return lines;
}

describe('CUPED', () => {
  const acc = new EventsAccumulator({
    experiment: 'exp',
    metrics: [{ name: 'spend', type: 'mean' }],
    cupedWindowMs: 14 * DAY,
  });
  acc.beginFile('e');
  acc.pushText(correlatedEvents(4000, 99).join('\n'));
  const data = acc.finish(['e']);

  it('reduces the variance on data with a correlated pre-period, and narrows the interval', () => {
    const plain = analyzeExperiment(data, DEFAULT_ANALYSIS_OPTIONS);
    const cuped = analyzeExperiment(data, { ...DEFAULT_ANALYSIS_OPTIONS, cuped: true });
    const m = cuped.metrics[0]!;
    // var(y) = 36 + 9, cov(x, y) = 36, var(x) = 45: θ = 0.8, reduction ρ² = 0.64 (sampling error ≈ 0.02)
    expect(m.cuped!.theta).toBeGreaterThan(0.74);
    expect(m.cuped!.theta).toBeLessThan(0.86);
    expect(m.cuped!.variance_reduction).toBeGreaterThan(0.58);
    expect(m.cuped!.variance_reduction).toBeLessThan(0.7);
    const p = plain.metrics[0]!.comparisons[0]!;
    const c = m.comparisons[0]!;
    const width = (ci: [number | null, number | null]) => ci[1]! - ci[0]!;
    expect(width(c.difference.ci) / width(p.difference.ci)).toBeLessThan(0.65);
    // both estimate the true +1 (the CUPED one more precisely)
    expect(Math.abs(c.difference.estimate - 1)).toBeLessThan(3 * ((c.difference.ci[1]! - c.difference.ci[0]!) / 3.92));
    expect(m.arms[0]!.sd_adjusted!).toBeLessThan(m.arms[0]!.sd!);
    expect(c.p_value).toBeLessThan(p.p_value);
  });

  it('θ pooled within arms; adjusted means keep the overall mean of x', () => {
    const r = cupedAdjust([
      { n: 3, mean: 2, variance: 1, x: { mean: 1, variance: 1, cov: 0.5 } },
      { n: 5, mean: 4, variance: 2, x: { mean: 2, variance: 3, cov: 1.5 } },
    ])!;
    // θ = (2·0.5 + 4·1.5) / (2·1 + 4·3) = 7/14 = 0.5; x̄ = (3·1 + 5·2)/8 = 1.625
    expect(r.theta).toBe(0.5);
    expect(r.arms[0]!.mean).toBeCloseTo(2 - 0.5 * (1 - 1.625), 15);
    expect(r.arms[1]!.mean).toBeCloseTo(4 - 0.5 * (2 - 1.625), 15);
    // var' = var + θ²·var(x) − 2θ·cov: 1 + 0.25 − 0.5 = 0.75 and 2 + 0.75 − 1.5 = 1.25
    expect(r.arms[0]!.variance).toBeCloseTo(0.75, 15);
    expect(r.arms[1]!.variance).toBeCloseTo(1.25, 15);
    // 1 − (2·0.75 + 4·1.25)/(2·1 + 4·2) = 1 − 6.5/10
    expect(r.varianceReduction).toBeCloseTo(0.35, 15);
  });
});
