import { describe, expect, it } from 'vitest';
import {
  ceilUnits,
  controlSizeExact,
  daysNeeded,
  minimumDetectableEffect,
  sampleSize,
  unitsPerArmToDetect,
  type SampleSizeDesign,
  type SampleSizeMethod,
  type Sides,
} from '../../src/core/stats/index.js';
import { expectClose } from './close.js';
import * as ref from './reference-values.generated.js';

const design = (over: Partial<SampleSizeDesign>): SampleSizeDesign => ({
  method: 'pooled',
  alpha: 0.05,
  power: 0.8,
  alternative: 'two-sided',
  ratio: 1,
  variants: 1,
  ...over,
});

describe('control-arm size by formula', () => {
  it.each(ref.sample_size)('$args: $call', ({ call, args: [method, p1, d, alpha, power, K, alt, V, sd], expected }) => {
    const dz = design({
      method: method as SampleSizeMethod,
      alpha,
      power,
      ratio: K,
      alternative: alt as Sides,
      variants: V,
      ...(p1 !== null ? { baseline: p1 } : {}),
      ...(sd !== null ? { sd } : {}),
    });
    expectClose(controlSizeExact(dz, d), expected, 1e-12, 0, call);
  });
});

describe('arcsine = statsmodels NormalIndPower on proportion_effectsize', () => {
  it.each(ref.arcsine)('$call', ({ call, args: [p1, d, alpha, power, K, alt], expected: [solvePower, tight] }) => {
    const n = controlSizeExact(
      design({ method: 'arcsine', baseline: p1, alpha, power, ratio: K, alternative: alt as Sides }),
      d,
    );
    // solve_power's own answer (it stops at a power residual ~1e-9) …
    expectClose(n, solvePower, 1e-8, 0, call);
    // … and the exact root of statsmodels' power function
    expectClose(n, tight, 1e-12, 0, call);
  });

  it.each(ref.arcsine_mde)('inverse: $call', ({ call, args: [p1, n1, alpha, power, K, alt], expected }) => {
    const r = minimumDetectableEffect(
      design({ method: 'arcsine', baseline: p1, alpha, power, ratio: K, alternative: alt as Sides }),
      n1,
    );
    expectClose(r!.mdeAbsolute, expected, 1e-9, 0, call);
  });
});

describe('continuous one-sided = statsmodels (no far tail)', () => {
  it.each(ref.continuous_sm)('$call', ({ call, args: [d, sd, alpha, power, K], expected }) => {
    const n = controlSizeExact(
      design({ method: 'continuous', sd, alpha, power, ratio: K, alternative: 'one-sided' }),
      d,
    );
    expectClose(n, expected, 1e-9, 0, call);
  });
});

describe('minimum detectable effect (inverse)', () => {
  it.each(ref.mde)('$call', ({ call, args: [method, p1, n, alpha, power, K, alt], expected }) => {
    const r = minimumDetectableEffect(
      design({ method: method as SampleSizeMethod, baseline: p1, alpha, power, ratio: K, alternative: alt as Sides }),
      n,
    );
    expectClose(r!.mdeAbsolute, expected, 1e-9, 0, call);
    expectClose(r!.mdeRelative, expected / p1, 1e-9, 0, call);
    expectClose(r!.treatmentRate, p1 + expected, 1e-12, 0, call);
  });

  it('continuous MDE is the closed form (z_a + z_b)·S·√((1 + 1/K)/n) and round-trips', () => {
    const dz = design({ method: 'continuous', sd: 4 });
    const r = minimumDetectableEffect(dz, 2791)!;
    expectClose(controlSizeExact(dz, r.mdeAbsolute), 2791, 1e-12);
  });

  it('is null when no treatment rate below 1 is detectable at that size', () => {
    expect(minimumDetectableEffect(design({ baseline: 0.5 }), 3)).toBeNull();
  });
});

describe('rounding, allocation, variants, days', () => {
  it('rounds each arm up, treatment = ceil(K·control), total = control + V·treatment', () => {
    const dz = design({ baseline: 0.1, ratio: 2.5, variants: 3 });
    const exact = controlSizeExact(dz, 0.01);
    const r = sampleSize(dz, 0.01);
    expect(r.perVariant.control).toBe(Math.ceil(exact));
    expect(r.perVariant.treatment).toBe(Math.ceil(2.5 * r.perVariant.control));
    expect(r.total).toBe(r.perVariant.control + 3 * r.perVariant.treatment);
    expect(r.alphaPerComparison).toBeCloseTo(0.05 / 3, 15);
  });

  it('splits alpha Bonferroni-style: V variants at α equal one comparison at α/V', () => {
    const a = controlSizeExact(design({ baseline: 0.2, variants: 4 }), 0.02);
    const b = controlSizeExact(design({ baseline: 0.2, alpha: 0.05 / 4 }), 0.02);
    expect(a).toBe(b);
  });

  it('forgives floating-point noise when rounding up', () => {
    expect(ceilUnits(3000.0000000000005)).toBe(3000);
    expect(ceilUnits(3000.001)).toBe(3001);
    expect(daysNeeded(29502, 1000)).toBe(30);
    expect(daysNeeded(30000, 1000)).toBe(30);
  });

  it('reports relative MDE and treatment rate', () => {
    const r = sampleSize(design({ baseline: 0.1 }), 0.01);
    expectClose(r.mdeRelative, 0.1, 1e-14);
    expectClose(r.treatmentRate, 0.11, 1e-14);
  });
});

describe('unitsPerArmToDetect (for keep_running)', () => {
  it('is the pooled size at the observed effect and baseline', () => {
    const exact = controlSizeExact(design({ baseline: 0.045 }), 0.007);
    expect(unitsPerArmToDetect({ baseline: 0.045, effect: 0.007, alpha: 0.05, alternative: 'two-sided' })).toEqual({
      control: Math.ceil(exact),
      treatment: Math.ceil(exact),
    });
  });

  it('uses one side for greater/less and the continuous formula with sd', () => {
    const one = controlSizeExact(design({ method: 'continuous', sd: 4, alternative: 'one-sided' }), -0.3);
    expect(unitsPerArmToDetect({ sd: 4, effect: -0.3, alpha: 0.05, alternative: 'less' })).toEqual({
      control: Math.ceil(one),
      treatment: Math.ceil(one),
    });
  });

  it('is null for a zero effect or an impossible rate', () => {
    expect(unitsPerArmToDetect({ baseline: 0.1, effect: 0, alpha: 0.05, alternative: 'two-sided' })).toBeNull();
    expect(unitsPerArmToDetect({ baseline: 0.95, effect: 0.1, alpha: 0.05, alternative: 'two-sided' })).toBeNull();
  });
});
