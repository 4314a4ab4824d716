import { describe, expect, it } from 'vitest';
import {
  pValueFromZ,
  sequentialHalfWidth,
  sequentialRho,
  sequentialTest,
  type Alternative,
} from '../../src/core/stats/index.js';
import { mulberry32 } from '../../src/core/smoke/random.js';
import { expectClose } from './close.js';
import * as ref from './reference-values.generated.js';

describe('normal-mixture confidence sequence (GrowthBook gbstats formulas)', () => {
  it.each(ref.sequential)(
    '$args: $call',
    ({ call, args: [est, se, n, alpha, alt, N], expected: [rho, hw, p, lo, hi] }) => {
      const twoSided = alt === 'two-sided';
      expectClose(sequentialRho(alpha, N, twoSided), rho, 1e-15, 0, call);
      expectClose(sequentialHalfWidth(se, n, alpha, N, alt as Alternative), hw, 1e-14, 0, call);
      const r = sequentialTest(est, se, n, alpha, alt as Alternative, N);
      expectClose(r.pValue, p, 1e-10, 1e-300, call);
      expectClose(r.ci[0], lo, 1e-13, 1e-16, call);
      expectClose(r.ci[1], hi, 1e-13, 1e-16, call);
    },
  );

  it('the always-valid p-value is the α at which the sequence touches 0', () => {
    const r = sequentialTest(0.3, 0.08, 10000, 0.05, 'two-sided');
    const rho = sequentialRho(0.05, 5000);
    expectClose(sequentialHalfWidth(0.08, 10000, r.pValue, 5000, 'two-sided', rho), 0.3, 1e-12);
  });
});

describe('peeking simulation (A/A tests looked at daily)', () => {
  it('keeps the false-positive rate at or under α with the sequential test, and not without', () => {
    const random = mulberry32(20260102);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const experiments = 1000;
    const days = 30;
    const perDay = 200; // units per arm per day, unit-variance metric
    const alpha = 0.05;
    let naive = 0;
    let sequential = 0;
    for (let e = 0; e < experiments; e++) {
      let sumT = 0;
      let sumC = 0;
      let naiveHit = false;
      let seqHit = false;
      for (let d = 1; d <= days; d++) {
        // the sum of `perDay` N(0, 1) values is N(0, perDay)
        sumT += Math.sqrt(perDay) * gauss();
        sumC += Math.sqrt(perDay) * gauss();
        const n = d * perDay;
        const diff = sumT / n - sumC / n;
        const se = Math.sqrt(2 / n);
        if (pValueFromZ(diff / se, 'two-sided') < alpha) naiveHit = true;
        if (sequentialTest(diff, se, 2 * n, alpha, 'two-sided').pValue < alpha) seqHit = true;
      }
      if (naiveHit) naive++;
      if (seqHit) sequential++;
    }
    const naiveRate = naive / experiments;
    const seqRate = sequential / experiments;
    // 30 looks inflate a nominal 5% to roughly 25–30%; the confidence sequence stays valid
    expect(naiveRate).toBeGreaterThan(0.15);
    expect(seqRate).toBeLessThanOrEqual(alpha);
  });
});
