import { describe, expect, it } from 'vitest';
import {
  bayesianMeans,
  bayesianProportions,
  betaPosterior,
  probBetaGreater,
  relativeUpliftCdf,
} from '../../src/core/stats/index.js';
import { expectClose } from './close.js';
import * as ref from './reference-values.generated.js';

describe('Bayesian proportions, Beta(1, 1) priors', () => {
  it.each(ref.bayes)(
    '$args: $call',
    ({ call, args: [xt, nt, xc, nc, alpha], expected: [pb, lossT, lossC, lo, hi] }) => {
      const r = bayesianProportions({ conversions: xt, n: nt }, { conversions: xc, n: nc }, alpha);
      expectClose(r.probBetter, pb, 1e-10, 1e-15, `${call} (prob_better)`);
      expectClose(r.expectedLossTreatment, lossT, 1e-8, 1e-16, `${call} (expected_loss_treatment)`);
      expectClose(r.expectedLossControl, lossC, 1e-8, 1e-16, `${call} (expected_loss_control)`);
      expectClose(r.relativeUpliftCi[0], lo, 1e-8, 1e-12, `${call} (ci low)`);
      expectClose(r.relativeUpliftCi[1], hi, 1e-8, 1e-12, `${call} (ci high)`);
    },
  );

  it('the exact sum agrees with quadrature for non-integer parameters', () => {
    // same posterior shifted by 1e-9 forces the quadrature path; the answer must barely move
    const A = { alpha: 46, beta: 956 };
    const B = { alpha: 53, beta: 949 };
    const exact = probBetaGreater(A, B);
    const quad = probBetaGreater({ alpha: 46 + 1e-9, beta: 956 }, { alpha: 53 + 1e-9, beta: 949 });
    expectClose(quad, exact, 1e-8);
  });

  it('P(better) is ½ and the uplift CDF is symmetric in log-ratio for identical arms', () => {
    const arm = { conversions: 45, n: 1000 };
    const r = bayesianProportions(arm, arm, 0.05);
    expectClose(r.probBetter, 0.5, 1e-12);
    expectClose(r.expectedLossTreatment, r.expectedLossControl, 1e-12);
    const P = betaPosterior(arm);
    expectClose(relativeUpliftCdf(P, P, 0), 0.5, 1e-11);
  });
});

describe('Bayesian means, normal approximation', () => {
  it.each(ref.bayes_means)('$call', ({ call, args: [t, c, alpha], expected: [pb, lossT, lossC] }) => {
    const r = bayesianMeans({ mean: t[0], sd: t[1], n: t[2] }, { mean: c[0], sd: c[1], n: c[2] }, alpha);
    expectClose(r.probBetter, pb, 1e-12, 0, call);
    expectClose(r.expectedLossTreatment, lossT, 1e-8, 1e-15, call);
    expectClose(r.expectedLossControl, lossC, 1e-8, 1e-15, call);
  });

  it('has no relative-uplift interval when the control mean is 0', () => {
    expect(bayesianMeans({ mean: 1, sd: 1, n: 10 }, { mean: 0, sd: 1, n: 10 }, 0.05).relativeUpliftCi).toEqual([
      null,
      null,
    ]);
  });
});
