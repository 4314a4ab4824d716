import { describe, expect, it } from 'vitest';
import {
  chiSquare2x2,
  fisherExact,
  twoProportionZTest,
  welchTTest,
  type Alternative,
} from '../../src/core/stats/index.js';
import { expectClose } from './close.js';
import * as ref from './reference-values.generated.js';

const arm = (conversions: number, n: number) => ({ conversions, n });

describe('two-proportion z-test (pooled SE)', () => {
  it.each(ref.ztest)('$call', ({ call, args: [xt, nt, xc, nc, alt], expected: [z, p] }) => {
    const r = twoProportionZTest(arm(xt, nt), arm(xc, nc), { alternative: alt as Alternative });
    if (Number.isNaN(z)) {
      // statsmodels gives nan for the degenerate table; we define z = 0, p = 1
      expect([r.statistic, r.pValue]).toEqual([0, 1]);
      return;
    }
    expectClose(r.statistic, z, 1e-12, 1e-15, call);
    expectClose(r.pValue, p, 1e-10, 1e-300, call);
  });

  it('equals the chi-square test without correction (two-sided)', () => {
    for (const [t, c] of [
      [arm(520, 10000), arm(450, 10000)],
      [arm(3, 40), arm(0, 45)],
      [arm(260, 5000), arm(900, 20000)],
    ] as const) {
      const z = twoProportionZTest(t, c);
      const chi = chiSquare2x2(t, c);
      expectClose(z.statistic ** 2, chi.statistic, 1e-12);
      expectClose(z.pValue, chi.pValue, 1e-12);
    }
  });

  it('gives z = 0, p = 1 when no unit (or every unit) converted', () => {
    expect(twoProportionZTest(arm(0, 100), arm(0, 120))).toMatchObject({ statistic: 0, pValue: 1 });
    expect(twoProportionZTest(arm(100, 100), arm(120, 120), { alternative: 'greater' })).toMatchObject({ pValue: 1 });
  });
});

describe('non-inferiority margin (Wald test of p_t − p_c = δ₀)', () => {
  it.each(ref.ztest_margin)('$call', ({ call, args: [xt, nt, xc, nc, value, alt], expected: [z, p] }) => {
    const r = twoProportionZTest(arm(xt, nt), arm(xc, nc), { alternative: alt as Alternative, nullDifference: value });
    expectClose(r.statistic, z, 1e-12, 0, call);
    expectClose(r.pValue, p, 1e-10, 1e-300, call);
  });
});

describe('chi-square 2×2 (Pearson, optional Yates)', () => {
  it.each(ref.chi2_2x2)('$call', ({ call, args: [xt, nt, xc, nc, yates], expected: [chi, p] }) => {
    const r = chiSquare2x2(arm(xt, nt), arm(xc, nc), { yates });
    expectClose(r.statistic, chi, 1e-11, 1e-15, call);
    expectClose(r.pValue, p, 1e-10, 1e-300, call);
  });

  it('one-sided: the signed root against the normal equals the one-sided z-test', () => {
    const t = arm(520, 10000);
    const c = arm(450, 10000);
    for (const alternative of ['greater', 'less'] as const) {
      expectClose(chiSquare2x2(t, c, { alternative }).pValue, twoProportionZTest(t, c, { alternative }).pValue, 1e-12);
    }
  });
});

describe("Fisher's exact test", () => {
  it.each(ref.fisher)('$call', ({ call, args: [xt, nt, xc, nc, alt], expected }) => {
    const r = fisherExact(arm(xt, nt), arm(xc, nc), { alternative: alt as Alternative });
    // scipy's hypergeometric pmf itself is good to ~1e-10 on tables this large
    expectClose(r.pValue, expected, 1e-9, 1e-300, call);
  });

  it('reports the sample odds ratio', () => {
    // scipy.stats.fisher_exact([[3, 7], [9, 3]]).statistic = 0.14285714285714285
    expectClose(fisherExact(arm(3, 10), arm(9, 12)).statistic, 0.14285714285714285, 1e-15);
  });
});

describe("Welch's t-test from summary statistics", () => {
  it.each(ref.welch)('$call', ({ call, args: [t, c, alt], expected: [stat, p] }) => {
    const r = welchTTest(
      { mean: t[0], sd: t[1], n: t[2] },
      { mean: c[0], sd: c[1], n: c[2] },
      { alternative: alt as Alternative },
    );
    expectClose(r.statistic, stat, 1e-12, 1e-15, call);
    expectClose(r.pValue, p, 1e-10, 1e-300, call);
  });

  it.each(ref.welch_ci.filter((r) => r.args[3] === 'two-sided' && r.args[2] === 0.05))(
    'Welch–Satterthwaite df: $call',
    ({ call, args: [t, c], expected: [df] }) => {
      const r = welchTTest({ mean: t[0], sd: t[1], n: t[2] }, { mean: c[0], sd: c[1], n: c[2] });
      expectClose(r.df, df, 1e-10, 0, call);
    },
  );

  it.each(ref.welch_margin)(
    'non-inferiority margin: $call',
    ({ call, args: [t, c, delta0, alt], expected: [stat, p] }) => {
      const r = welchTTest(
        { mean: t[0], sd: t[1], n: t[2] },
        { mean: c[0], sd: c[1], n: c[2] },
        {
          alternative: alt as Alternative,
          nullDifference: delta0,
        },
      );
      expectClose(r.statistic, stat, 1e-12, 0, call);
      expectClose(r.pValue, p, 1e-10, 0, call);
    },
  );

  it('gives t = 0, p = 1 when both sds are 0', () => {
    expect(welchTTest({ mean: 1, sd: 0, n: 10 }, { mean: 1, sd: 0, n: 10 })).toMatchObject({ statistic: 0, pValue: 1 });
  });
});
