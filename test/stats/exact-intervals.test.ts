import { describe, expect, it } from 'vitest';
import {
  chiSquareIndependence,
  fisherOddsRatio,
  proportionDifferenceCi,
  relativeUpliftLogRatio,
  wilsonInterval,
  type Interval,
} from '../../src/core/stats/index.js';
import { expectClose } from './close.js';

/**
 * Intervals that agree with their test, against R 4.2 (Debian r-base-core). exact2x2 and PropCIs
 * are not packaged, so Newcombe, Agresti–Caffo and Katz were written out in R from the papers'
 * formulas (scripts/reference/intervals.R, which prints every value below); Wilson is prop.test's
 * own interval, the odds ratio R's fisher.test algorithm with uniroot's tol tightened to 1e-13
 * (the released fisher.test stops at ~1e-4: 4.0989748659, [0.8003731613, 28.5671716728]).
 */

const t = { conversions: 9, n: 21 };
const c = { conversions: 3, n: 20 };
const big = [
  { conversions: 520, n: 10000 },
  { conversions: 450, n: 10000 },
] as const;

function closeCi(got: Interval, want: [number | null, number | null], rel: number, call: string): void {
  expectClose(got[0], want[0], rel, 1e-15, `${call} lower`);
  expectClose(got[1], want[1], rel, 1e-15, `${call} upper`);
}

describe('Wilson = R prop.test(x, n)$conf.int', () => {
  it('with and without the continuity correction, one-sided', () => {
    closeCi(
      wilsonInterval(t, 0.05),
      [0.24469968925375948, 0.63453445630693284],
      1e-12,
      'prop.test(9, 21, correct=FALSE)',
    );
    // prop.test(3, 20, correct=FALSE)$conf.int
    closeCi(wilsonInterval(c, 0.05), [0.052368745896216609, 0.360418864740756906], 1e-12, 'prop.test(3, 20)');
    expect(wilsonInterval(t, 0.05, 'greater')[1]).toBe(1);
  });
});

describe('difference intervals', () => {
  it.each([
    ['newcombe(9,21,3,20)', 'newcombe', false, [-0.00086535347147609354, 0.5065026255845922476]],
    ['newcombe(9,21,3,20,correct=TRUE)', 'newcombe', true, [-0.0345015492892492, 0.53104371232428749]],
    ['ac(9,21,3,20)', 'agresti-caffo', false, [-0.0059175997240029643, 0.5118464534789436415]],
    ['prop.test(c(9,3), c(21,20), correct=TRUE)$conf.int', 'wald', true, [-0.033463575722081751, 0.590606432864938968]],
  ] as const)('%s', (call, method, cc, want) => {
    closeCi(proportionDifferenceCi(t, c, 0.05, method, 'two-sided', cc).ci, [...want], 1e-11, call);
  });

  it('one-sided: newcombe(9,21,3,20,conf=0.9)[1]; prop.test(…, correct=TRUE, alternative="greater")', () => {
    closeCi(proportionDifferenceCi(t, c, 0.05, 'newcombe', 'greater').ci, [0.044308261183658465, null], 1e-11, 'nc');
    closeCi(proportionDifferenceCi(t, c, 0.05, 'wald', 'greater', true).ci, [0.0088561178722880718, null], 1e-11, 'pt');
  });

  it('large arms and a zero arm: newcombe(520,10000,450,10000), newcombe(3,50,0,50)', () => {
    closeCi(
      proportionDifferenceCi(big[0], big[1], 0.05, 'newcombe').ci,
      [0.0010439213016236607, 0.0129690401379995573],
      1e-11,
      'nc',
    );
    closeCi(
      proportionDifferenceCi({ conversions: 3, n: 50 }, { conversions: 0, n: 50 }, 0.05, 'newcombe').ci,
      [-0.021496383126532945, 0.1621709168883817],
      1e-11,
      'nc0',
    );
  });
});

describe("Fisher's conditional MLE odds ratio and exact interval (R fisher.test's algorithm)", () => {
  it('3/20 vs 9/21: 4.0993, [0.8004, 28.551]', () => {
    const r = fisherOddsRatio(t, c, 0.05);
    expectClose(r.estimate, 4.09934469122726597, 1e-11, 0, 'fisher estimate');
    closeCi(r.ci, [0.80039786824720649, 28.55111288912956624], 1e-11, 'fisher conf.int');
    // and the released fisher.test to its own 1e-4
    expectClose(r.estimate, 4.0989748659225773, 2e-4, 0, 'fisher.test()$estimate');
    closeCi(r.ci, [0.80037316132902925, 28.56717167281641068], 1e-3, 'fisher.test()$conf.int');
  });

  it('one-sided, large and zero tables', () => {
    closeCi(fisherOddsRatio(t, c, 0.05, 'greater').ci, [0.98829768925496808, null], 1e-11, 'greater');
    closeCi(fisherOddsRatio(t, c, 0.05, 'less').ci, [0, 21.124515348476709], 1e-11, 'less');
    const b = fisherOddsRatio(big[0], big[1], 0.05);
    expectClose(b.estimate, 1.1640793076284759, 1e-11, 0, '520/10000 vs 450/10000');
    closeCi(b.ci, [1.0207552207675972, 1.3279101178920971], 1e-10, '520/10000 vs 450/10000');
    const z = fisherOddsRatio({ conversions: 3, n: 50 }, { conversions: 0, n: 50 }, 0.05);
    expect(z.estimate).toBe(Infinity);
    closeCi(z.ci, [0.41826579813776182, null], 1e-11, '3/50 vs 0/50');
  });
});

describe('relative uplift on the log ratio (Katz), never below −100 %', () => {
  it('katz(520,10000,450,10000) and katz(9,21,3,20)', () => {
    const v = (p: number, n: number) => (p * (1 - p)) / n;
    const a = relativeUpliftLogRatio(0.052, v(0.052, 10000), 0.045, v(0.045, 10000), 0.05);
    expect(a.method).toBe('log_ratio');
    closeCi(a.ci, [0.021704920916545412, 0.306941578374152257], 1e-12, 'katz big');
    const b = relativeUpliftLogRatio(9 / 21, v(9 / 21, 21), 0.15, v(0.15, 20), 0.05);
    closeCi(b.ci, [-0.09916898011263453, 8.06192740470142155], 1e-12, 'katz small');
    expect(b.ci[0]!).toBeGreaterThan(-1);
  });

  it('falls back to the delta method when a mean is not positive', () => {
    expect(relativeUpliftLogRatio(-1, 0.1, 2, 0.1, 0.05).method).toBe('delta');
    expect(relativeUpliftLogRatio(1, 0.1, 0, 0.1, 0.05).estimate).toBeNull();
  });
});

describe('omnibus k×2 chi-square = R chisq.test', () => {
  it('chisq.test(matrix(c(450,520,505,9550,9480,9495), ncol=2))', () => {
    const r = chiSquareIndependence([big[1], big[0], { conversions: 505, n: 10000 }]);
    expectClose(r.statistic, 5.8111380145278444, 1e-12, 0, 'X-squared');
    expectClose(r.pValue, 0.054717647003254162, 1e-12, 0, 'p.value');
    expect(r.df).toBe(2);
  });

  it('the smallest expected cell: chisq.test(matrix(c(0,3,50,47), ncol=2))$expected has 1.5', () => {
    expect(
      chiSquareIndependence([
        { conversions: 0, n: 50 },
        { conversions: 3, n: 50 },
      ]).minExpected,
    ).toBe(1.5);
  });
});
