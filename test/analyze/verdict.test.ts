import { describe, expect, it } from 'vitest';
import {
  analyzeExperiment,
  DEFAULT_ANALYSIS_OPTIONS,
  type AnalysisOptions,
} from '../../src/core/experiment/analyze.js';
import type { ArmStats, ExperimentData } from '../../src/core/experiment/types.js';
import { unitsPerArmToDetect } from '../../src/core/stats/index.js';

/** Two metrics (a conversion and a latency) for control and one or two treatment arms. */
function experiment(
  arms: { variant: string; n: number; conversions: number; latency: [number, number] }[],
): ExperimentData {
  return {
    variants: arms.map((a) => ({ variant: a.variant, n: a.n })),
    metrics: [
      {
        name: 'converted',
        type: 'proportion',
        arms: arms.map((a): ArmStats => ({
          variant: a.variant,
          n: a.n,
          type: 'proportion',
          conversions: a.conversions,
        })),
      },
      {
        name: 'latency_ms',
        type: 'mean',
        arms: arms.map((a): ArmStats => ({
          variant: a.variant,
          n: a.n,
          type: 'mean',
          mean: a.latency[0],
          sd: a.latency[1],
        })),
      },
    ],
    excluded: { multi_variant_units: 0, bad_lines: 0 },
  };
}

const guardrail: AnalysisOptions = {
  ...DEFAULT_ANALYSIS_OPTIONS,
  roles: [{ name: 'latency_ms', guardrail: true, lowerIsBetter: true }],
};

describe('verdicts', () => {
  it('ship: the primary metric is better and the guardrail holds', () => {
    const r = analyzeExperiment(
      experiment([
        { variant: 'control', n: 10000, conversions: 450, latency: [120, 30] },
        { variant: 'treatment', n: 10000, conversions: 540, latency: [120.2, 30] },
      ]),
      guardrail,
    );
    expect(r.metrics.map((m) => [m.name, m.role, m.direction])).toEqual([
      ['converted', 'primary', 'higher_is_better'],
      ['latency_ms', 'guardrail', 'lower_is_better'],
    ]);
    expect(r.metrics[1]!.comparisons[0]!.verdict).toBe('inconclusive');
    expect(r.verdict).toBe('ship');
  });

  it('a guardrail moving significantly the bad way blocks the release', () => {
    const r = analyzeExperiment(
      experiment([
        { variant: 'control', n: 10000, conversions: 450, latency: [120, 30] },
        { variant: 'treatment', n: 10000, conversions: 540, latency: [125, 30] },
      ]),
      guardrail,
    );
    const g = r.metrics[1]!.comparisons[0]!;
    expect(g.verdict).toBe('treatment_worse');
    expect(g.alternative).toBe('two-sided');
    expect(g.p_value_adjusted).toBe(g.p_value); // guardrails are not corrected
    expect(r.metrics[0]!.comparisons[0]!.verdict).toBe('treatment_better');
    expect(r.verdict).toBe('dont_ship');
    expect(r.verdict_reasons).toContain('treatment: guardrail latency_ms moved significantly in the bad direction');
  });

  it('lower-is-better primary metric: a significant decrease is better', () => {
    const r = analyzeExperiment(
      experiment([
        { variant: 'control', n: 10000, conversions: 450, latency: [120, 30] },
        { variant: 'treatment', n: 10000, conversions: 450, latency: [118, 30] },
      ]),
      { ...DEFAULT_ANALYSIS_OPTIONS, roles: [{ name: 'latency_ms', guardrail: false, lowerIsBetter: true }] },
    );
    expect(r.metrics[1]!.comparisons[0]!.verdict).toBe('treatment_better');
    expect(r.metrics[0]!.comparisons[0]!.verdict).toBe('inconclusive');
    expect(r.verdict).toBe('ship');
  });

  it('dont_ship when the primary metric is significantly worse', () => {
    const r = analyzeExperiment(
      experiment([
        { variant: 'control', n: 10000, conversions: 540, latency: [120, 30] },
        { variant: 'treatment', n: 10000, conversions: 450, latency: [120, 30] },
      ]),
      guardrail,
    );
    expect(r.metrics[0]!.comparisons[0]!.verdict).toBe('treatment_worse');
    expect(r.verdict).toBe('dont_ship');
  });

  it('keep_running reports the units the observed effect needs, from the sample-size formula', () => {
    const r = analyzeExperiment(
      experiment([
        { variant: 'control', n: 5000, conversions: 225, latency: [120, 30] },
        { variant: 'treatment', n: 5000, conversions: 260, latency: [120, 30] },
      ]),
      guardrail,
    );
    const c = r.metrics[0]!.comparisons[0]!;
    expect(c.verdict).toBe('inconclusive');
    const need = unitsPerArmToDetect({
      baseline: 0.045,
      effect: 0.052 - 0.045,
      alpha: 0.05,
      power: 0.8,
      alternative: 'two-sided',
      ratio: 1,
    })!;
    expect(c.units_needed).toEqual({ ...need, basis: 'observed_effect', effect: 0.052 - 0.045, horizon: 'fixed' });
    expect(r.verdict).toBe('keep_running');
    expect(r.additional_units_needed).toBe(need.control - 5000 + need.treatment - 5000);
  });

  it('several arms: Holm over all primary comparisons; one winning arm ships', () => {
    const data = experiment([
      { variant: 'control', n: 10000, conversions: 450, latency: [120, 30] },
      { variant: 'b', n: 10000, conversions: 560, latency: [120, 30] },
      { variant: 'c', n: 10000, conversions: 470, latency: [120, 30] },
    ]);
    const r = analyzeExperiment(data, guardrail);
    const [b, c] = r.metrics[0]!.comparisons;
    expect([b!.variant, c!.variant]).toEqual(['b', 'c']);
    expect(b!.p_value_adjusted).toBe(Math.min(1, 2 * b!.p_value)); // the smaller p is multiplied by 2
    expect(c!.p_value_adjusted).toBe(Math.max(c!.p_value, b!.p_value_adjusted));
    expect(r.arm_verdicts).toEqual([
      { variant: 'b', verdict: 'ship' },
      { variant: 'c', verdict: 'keep_running' },
    ]);
    expect(r.verdict).toBe('ship');
    const none = analyzeExperiment(data, { ...guardrail, correction: 'none' });
    expect(none.metrics[0]!.comparisons[1]!.p_value_adjusted).toBe(none.metrics[0]!.comparisons[1]!.p_value);
  });

  it('the control is reported first whatever the input order', () => {
    const r = analyzeExperiment(
      experiment([
        { variant: 'treatment', n: 100, conversions: 5, latency: [1, 1] },
        { variant: 'control', n: 100, conversions: 4, latency: [1, 1] },
      ]),
      DEFAULT_ANALYSIS_OPTIONS,
    );
    expect(r.control).toBe('control');
    expect(r.srm.variants).toEqual(['control', 'treatment']);
    expect(r.metrics[0]!.arms.map((a) => a.variant)).toEqual(['control', 'treatment']);
  });
});
