import { describe, expect, it } from 'vitest';
import {
  betaCdf,
  betaPdf,
  betaSf,
  brentRoot,
  chiSquareCdf,
  chiSquareSf,
  erf,
  erfc,
  hypergeometricPmf,
  incompleteBeta,
  incompleteGamma,
  integrate,
  logBeta,
  logGamma,
  normalCdf,
  normalQuantile,
  normalSf,
  tCdf,
  tQuantile,
  tSf,
} from '../../src/core/stats/index.js';
import { expectClose } from './close.js';
import * as ref from './reference-values.generated.js';

// Distributions aim at full double precision; these tolerances are ~100 ulp.
const REL = 1e-13;

describe('erf / erfc (Cody)', () => {
  it.each(ref.erf)('$call', ({ call, args: [x], expected }) => expectClose(erf(x), expected, REL, 1e-300, call));
  it.each(ref.erfc)('$call', ({ call, args: [x], expected }) => expectClose(erfc(x), expected, REL, 1e-300, call));
});

describe('normal distribution', () => {
  it.each(ref.norm_cdf)('$call', ({ call, args: [x], expected }) =>
    // relative error grows like x²·ε in the far tail (rounding of x/√2 inside erfc)
    expectClose(normalCdf(x), expected, REL * Math.max(1, x * x), 0, call),
  );
  it.each(ref.norm_sf)('$call', ({ call, args: [x], expected }) =>
    expectClose(normalSf(x), expected, REL * Math.max(1, x * x), 0, call),
  );
  it.each(ref.norm_ppf)('$call', ({ call, args: [p], expected }) =>
    expectClose(normalQuantile(p), expected, 1e-14, 1e-16, call),
  );
  it('is exact at the ends and rejects p outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe('log-gamma and log-beta', () => {
  it.each(ref.gammaln)('$call', ({ call, args: [x], expected }) =>
    // absolute near the zeros at 1 and 2
    expectClose(logGamma(x), expected, 1e-14, 2e-15, call),
  );
  it.each(ref.betaln)('$call', ({ call, args: [a, b], expected }) =>
    expectClose(logBeta(a, b), expected, 1e-13, 1e-14, call),
  );
});

describe('regularized incomplete beta', () => {
  it.each(ref.betainc)('$call', ({ call, args: [a, b, x], expected: [i, c] }) => {
    const [ix, cx] = incompleteBeta(a, b, x);
    expectClose(ix, i, 1e-11, 1e-300, call);
    expectClose(cx, c, 1e-11, 1e-300, call);
  });
});

describe('regularized incomplete gamma', () => {
  it.each(ref.gammainc)('$call', ({ call, args: [a, x], expected: [p, q] }) => {
    const [P, Q] = incompleteGamma(a, x);
    expectClose(P, p, 1e-12, 1e-300, call);
    expectClose(Q, q, 1e-12, 1e-300, call);
  });
});

describe("Student's t", () => {
  // d ln sf / d ln t ≈ t², so the attainable relative accuracy at |t| = 40 is ~40²·ε
  it.each(ref.t_sf)('$call', ({ call, args: [t, df], expected }) =>
    expectClose(tSf(t, df), expected, 1e-13 * Math.max(1, t * t), 1e-300, call),
  );
  it.each(ref.t_cdf)('$call', ({ call, args: [t, df], expected }) =>
    expectClose(tCdf(t, df), expected, 1e-13 * Math.max(1, t * t), 0, call),
  );
  it.each(ref.t_ppf)('$call', ({ call, args: [p, df], expected }) =>
    expectClose(tQuantile(p, df), expected, 1e-12, 1e-15, call),
  );
  it('is the normal at df = Infinity', () => {
    expect(tSf(1.5, Infinity)).toBe(normalSf(1.5));
    expect(tQuantile(0.975, Infinity)).toBe(normalQuantile(0.975));
  });
});

describe('chi-square', () => {
  it.each(ref.chi2)('$call', ({ call, args: [x, k], expected: [cdf, sf] }) => {
    expectClose(chiSquareCdf(x, k), cdf, 1e-12, 1e-300, call);
    expectClose(chiSquareSf(x, k), sf, 1e-12, 1e-300, call);
  });
});

describe('hypergeometric pmf (Loader)', () => {
  it.each(ref.hypergeom)('$call', ({ call, args: [k, M, n, N], expected }) =>
    expectClose(hypergeometricPmf(k, M, n, N), expected, 1e-12, 0, call),
  );
});

describe('beta distribution', () => {
  it.each(ref.beta_dist)('$call', ({ call, args: [x, a, b], expected: [pdf, cdf, sf] }) => {
    expectClose(betaPdf(x, a, b), pdf, 1e-12, 0, call);
    expectClose(betaCdf(x, a, b), cdf, 1e-12, 1e-300, call);
    expectClose(betaSf(x, a, b), sf, 1e-12, 1e-300, call);
  });
});

describe('numerics', () => {
  it('brentRoot finds √2 to full precision', () => {
    expect(brentRoot((x) => x * x - 2, 0, 2)).toBeCloseTo(Math.SQRT2, 15);
  });
  it('integrate is exact for polynomials and accurate for smooth functions', () => {
    // ∫₀¹ x¹⁰ dx = 1/11; ∫₀^π sin = 2 (closed forms)
    expectClose(
      integrate((x) => x ** 10, 0, 1),
      1 / 11,
      1e-15,
    );
    expectClose(
      integrate((x) => Math.sin(x), 0, Math.PI),
      2,
      1e-14,
    );
  });
});
