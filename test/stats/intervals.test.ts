import { describe, expect, it } from 'vitest';
import {
  meanDifferenceInterval,
  proportionDifferenceInterval,
  relativeUplift,
  type Alternative,
} from '../../src/core/stats/index.js';
import { expectClose } from './close.js';
import * as ref from './reference-values.generated.js';

describe('difference of proportions, unpooled (Wald) interval', () => {
  it.each(ref.diff_ci)('$call', ({ call, args: [xt, nt, xc, nc, alpha, alt], expected: [lo, hi] }) => {
    const r = proportionDifferenceInterval(
      { conversions: xt, n: nt },
      { conversions: xc, n: nc },
      alpha,
      alt as Alternative,
    );
    expectClose(r.ci[0], lo, 1e-10, 1e-16, call);
    expectClose(r.ci[1], hi, 1e-10, 1e-16, call);
  });
});

describe('difference of means, Welch interval', () => {
  it.each(ref.welch_ci)('$call', ({ call, args: [t, c, alpha, alt], expected: [df, lo, hi] }) => {
    const r = meanDifferenceInterval(
      { mean: t[0], sd: t[1], n: t[2] },
      { mean: c[0], sd: c[1], n: c[2] },
      alpha,
      alt as Alternative,
    );
    // the reference samples reproduce the summary statistics to ~1e-15, hence 1e-9 not 1e-12
    expectClose(r.df, df, 1e-9, 0, call);
    expectClose(r.ci[0], lo, 1e-9, 1e-14, call);
    expectClose(r.ci[1], hi, 1e-9, 1e-14, call);
  });
});

describe('relative uplift, delta method', () => {
  it.each(ref.rel_uplift)('$call', ({ call, args: [mt, vt, mc, vc, alpha, alt, df], expected: [est, se, lo, hi] }) => {
    const r = relativeUplift(mt, vt, mc, vc, alpha, alt as Alternative, df ?? undefined);
    expectClose(r.estimate, est, 1e-14, 1e-16, call);
    expectClose(r.se, se, 1e-13, 0, call);
    expectClose(r.ci[0], lo, 1e-12, 1e-16, call);
    expectClose(r.ci[1], hi, 1e-12, 1e-16, call);
  });

  it('has no relative uplift when the control mean is 0', () => {
    expect(relativeUplift(0.01, 1e-6, 0, 0, 0.05)).toEqual({ estimate: null, se: null, ci: [null, null] });
  });
});
