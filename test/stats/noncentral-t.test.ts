import { describe, expect, it } from 'vitest';
import {
  controlSizeExact,
  minimumDetectableEffect,
  noncentralTCdf,
  sampleSize,
  tTestPower,
  type SampleSizeDesign,
} from '../../src/core/stats/index.js';
import { expectClose } from './close.js';

/**
 * The noncentral t CDF and the t-test sample size against R 4.2 (Debian r-base-core):
 * `pt(q, df, ncp)` and `power.t.test(…, strict = TRUE, tol = 1e-13)` (tol tightened from R's
 * default eps^0.25 so the reference itself is exact to ~1e-12).
 */

describe('noncentralTCdf = R pt(q, df, ncp)', () => {
  it.each([
    [2, 10, 1.5, 0.65915407244202628],
    [1.96, 58, 2.8, 0.20191357724034331],
    [-1, 5, 0.5, 0.082444091056970814],
    [3, 3, -1, 0.99627695299846042],
    [2.5, 1000, 2.9, 0.34457784999338442],
    [0.3, 2.5, 4, 0.00010943572376707959],
    [1.6, 20, 0, 0.9373614870968644],
  ])('pt(%d, %d, %d)', (q, df, ncp, expected) => {
    expectClose(noncentralTCdf(q, df, ncp), expected, 0, 1e-12, `pt(${q}, ${df}, ${ncp})`);
  });

  it('limits and bad input', () => {
    expect(noncentralTCdf(Infinity, 5, 1)).toBe(1);
    expect(noncentralTCdf(-Infinity, 5, 1)).toBe(0);
    expect(noncentralTCdf(1, 0, 1)).toBeNaN();
  });
});

const design = (o: Partial<SampleSizeDesign>): SampleSizeDesign => ({
  method: 't',
  alpha: 0.05,
  power: 0.8,
  alternative: 'two-sided',
  ratio: 1,
  variants: 1,
  sd: 4.1,
  ...o,
});

describe("means sized by the t-test's noncentral t (R power.t.test, strict = TRUE)", () => {
  it.each([
    // [delta, sd, alpha per comparison as power.t.test sees it, power, sides, design overrides, n]
    ['power.t.test(delta=0.3, sd=4.1, power=0.8, strict=TRUE)', 0.3, {}, 2932.9461213757459],
    [
      'power.t.test(delta=0.3, sd=4.1, sig.level=0.05/3, power=0.8, alternative="one.sided")',
      0.3,
      { alternative: 'one-sided', variants: 3 },
      3295.4886125104108,
    ],
    [
      'power.t.test(delta=1.5, sd=20, sig.level=0.01/4, power=0.9, strict=TRUE)',
      1.5,
      { sd: 20, alpha: 0.01, power: 0.9, variants: 2, metrics: 2 },
      6591.4778438708554,
    ],
  ] as const)('%s', (call, mde, o, n) => {
    expectClose(controlSizeExact(design(o as Partial<SampleSizeDesign>), mde), n, 1e-10, 0, call);
  });

  it('achieved power at the rounded n reaches the target (the normal approximation falls short)', () => {
    const t = sampleSize(design({}), 0.3).perVariant.control;
    const z = sampleSize(design({ method: 'continuous' }), 0.3).perVariant.control;
    expect(t).toBe(2933);
    expect(z).toBeLessThan(t);
    // power.t.test(n=2933, delta=0.3, sd=4.1, strict=TRUE)$power
    expectClose(tTestPower(0.3, 4.1, 2933, 1, 0.05, 2), 0.80000720632909383, 1e-10, 0, 'power.t.test(n=2933)');
    expect(tTestPower(0.3, 4.1, z, 1, 0.05, 2)).toBeLessThan(0.8);
  });

  it('the inverse: power.t.test(n=1000, sd=4.1, power=0.8, strict=TRUE)$delta', () => {
    expectClose(minimumDetectableEffect(design({}), 1000)!.mdeAbsolute, 0.51393831649822719, 1e-10, 0, 'delta');
  });

  it('--metrics splits alpha with the arms: power.prop.test(p1=0.045, p2=0.0495, sig.level=0.05/4)', () => {
    const n = controlSizeExact(design({ method: 'pooled', baseline: 0.045, variants: 2, metrics: 2 }), 0.0045);
    expectClose(n, 49578.256590864228, 1e-10, 0, 'power.prop.test(p1=0.045, p2=0.0495, sig.level=0.0125, power=0.8)');
  });
});
