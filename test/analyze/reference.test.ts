import { describe, expect, it } from 'vitest';
import { analyze, type AnalyzeInput } from '../../src/commands/analyze.js';
import { testContext } from '../helpers/context.js';
import { expectClose } from '../stats/close.js';

/**
 * The counts form of `mlv analyze` against reference implementations. Every expected value was
 * produced by the call written next to it (Debian's python3: scipy 1.10.1, statsmodels 0.13.5;
 * `from scipy import stats`, `from statsmodels.stats.proportion import proportions_ztest,
 * confint_proportions_2indep, test_proportions_2indep`, `from statsmodels.stats.multitest import
 * multipletests`). Agreement is required to 1e-9 relative.
 */

const TOL = 1e-9;
/** Relative agreement to TOL; NaN, null or a missing value never passes (test/stats/close.ts). */
const close = (actual: number | null | undefined, expected: number): void => expectClose(actual, expected, TOL);

async function run(input: AnalyzeInput) {
  return analyze(testContext().ctx, input);
}

describe('proportions', () => {
  it('z-test, Wald interval and log-ratio uplift: 520/10000 vs 450/10000', async () => {
    const r = await run({ control: '450/10000', treatment: ['520/10000'] });
    const c = r.metrics[0]!.comparisons[0]!;
    expect(c.test).toBe('z_pooled');
    // proportions_ztest([520, 450], [10000, 10000]) → (2.304134234005453, 0.021215109553289507)
    close(c.statistic, 2.304134234005453);
    close(c.p_value, 0.021215109553289507);
    // confint_proportions_2indep(520, 10000, 450, 10000, method='wald', compare='diff')
    close(c.difference.ci[0], 0.001046385578119223);
    close(c.difference.ci[1], 0.012953614421880776);
    // Katz log ratio, written out in R (scripts/reference/intervals.R): katz(520, 10000, 450, 10000)
    close(c.relative_uplift.estimate, 0.15555555555555545);
    close(c.relative_uplift.ci[0], 0.021704920916545412);
    close(c.relative_uplift.ci[1], 0.306941578374152257);
    expect(c.relative_uplift.ci_method).toBe('log_ratio');
    expect(c.verdict).toBe('treatment_better');
    expect(r.verdict).toBe('ship');
  });

  it('one-sided: greater gives a one-sided interval with an open end', async () => {
    const r = await run({ control: '450/10000', treatment: ['520/10000'], alternative: 'greater' });
    const c = r.metrics[0]!.comparisons[0]!;
    // proportions_ztest([520, 450], [10000, 10000], alternative='larger')[1]
    close(c.p_value, 0.010607554776644754);
    // confint_proportions_2indep(520, 10000, 450, 10000, method='wald', compare='diff', alpha=0.1)[0]
    close(c.difference.ci[0], 0.002003569273442911);
    expect(c.difference.ci[1]).toBeNull();
    expect(c.relative_uplift.ci[1]).toBeNull();
  });

  it.each([
    // [control, treatment, alternative, z, p] — proportions_ztest([t, c], [n_t, n_c], alternative=…)
    ['450/10000', '420/10000', 'less', -1.0399660006006533, 0.14917784842924625], // alternative='smaller'
    ['9999/10000', '9990/10000', 'two-sided', -2.7143486497430067, 0.006640623650929196], // rates near 1
    ['5000000/100000000', '5012000/100000000', 'two-sided', 3.8911030978434487, 9.978951797880886e-5], // huge n
    ['0/500', '3/2000', 'two-sided', 0.8665454871485726, 0.38619109298542975], // zero conversions, unequal n
    ['450/10000', '260/5000', 'two-sided', 1.9031954158158544, 0.05701505111175074], // ratio 1:2
  ] as const)('z-test %s vs %s (%s)', async (control, treatment, alternative, z, p) => {
    const r = await run({ control, treatment: [treatment], alternative });
    const c = r.metrics[0]!.comparisons[0]!;
    close(c.statistic, z);
    close(c.p_value, p);
  });

  it('equal arms: z = 0, p = 1, inconclusive, and the zero effect needs no finite sample', async () => {
    const r = await run({ control: '450/10000', treatment: ['450/10000'] });
    const c = r.metrics[0]!.comparisons[0]!;
    // proportions_ztest([450, 450], [10000, 10000]) → (0.0, 1.0)
    expect(c.statistic).toBe(0);
    expect(c.p_value).toBe(1);
    expect(c.verdict).toBe('inconclusive');
    expect(c.units_needed).toBeNull();
    expect(r.verdict).toBe('keep_running');
    expect(r.additional_units_needed).toBeNull();
  });

  it('intervals with unequal arms and zero conversions', async () => {
    let c = (await run({ control: '450/10000', treatment: ['260/5000'] })).metrics[0]!.comparisons[0]!;
    // confint_proportions_2indep(260, 5000, 450, 10000, method='wald', compare='diff')
    close(c.difference.ci[0], -0.0003744410016570448);
    close(c.difference.ci[1], 0.014374441001657044);
    c = (await run({ control: '0/500', treatment: ['3/2000'] })).metrics[0]!.comparisons[0]!;
    // confint_proportions_2indep(3, 2000, 0, 500, method='wald', compare='diff')
    close(c.difference.ci[0], -0.00019610508941731385);
    close(c.difference.ci[1], 0.003196105089417314);
    expect(c.relative_uplift.estimate).toBeNull(); // control rate 0: no relative uplift
  });

  it('chi-square with and without Yates, Fisher exact', async () => {
    const chi = (await run({ control: '450/10000', treatment: ['520/10000'], test: 'chi2' })).metrics[0]!
      .comparisons[0]!;
    // stats.chi2_contingency([[520, 9480], [450, 9550]], correction=False)
    close(chi.statistic, 5.309034568315898);
    close(chi.p_value, 0.021215109553289542);
    expect(chi.df).toBe(1);
    const yates = (await run({ control: '450/10000', treatment: ['520/10000'], test: 'chi2', yates: true })).metrics[0]!
      .comparisons[0]!;
    // stats.chi2_contingency([[520, 9480], [450, 9550]], correction=True)
    close(yates.statistic, 5.158431342806529);
    close(yates.p_value, 0.023133782442716817);
    const fisher = (await run({ control: '450/10000', treatment: ['520/10000'], test: 'fisher' })).metrics[0]!
      .comparisons[0]!;
    // the conditional MLE odds ratio, R fisher.test's algorithm at uniroot tol 1e-13
    // (scripts/reference/intervals.R: f(520, 10000, 450, 10000)); scipy's sample odds ratio is 1.164088138771683
    close(fisher.statistic, 1.1640793076284759);
    close(fisher.odds_ratio!.ci[0], 1.0207552207675972);
    close(fisher.p_value, 0.023089294772391047);
    const greater = (
      await run({ control: '450/10000', treatment: ['520/10000'], test: 'fisher', alternative: 'greater' })
    ).metrics[0]!.comparisons[0]!;
    // stats.fisher_exact([[520, 9480], [450, 9550]], alternative='greater')
    close(greater.p_value, 0.011544647386195523);
    const small = (await run({ control: '2/10', treatment: ['7/10'], test: 'fisher' })).metrics[0]!.comparisons[0]!;
    // R: f(7, 10, 2, 10) (fisher.test()$estimate 8.1530626 at its default tol); scipy's sample odds ratio is 9.33
    close(small.statistic, 8.1538354145043606);
    close(small.p_value, 0.06977851869492736);
  });

  it('non-inferiority with a margin (Wald z)', async () => {
    const r = await run({ control: '520/10000', treatment: ['500/10000'], margin: 0.01 });
    const c = r.metrics[0]!.comparisons[0]!;
    // test_proportions_2indep(500, 10000, 520, 10000, value=-0.01, method='wald', compare='diff', alternative='larger')
    close(c.statistic, 2.571350513758477);
    close(c.p_value, 0.0050651369392030856);
    expect(c.hypothesis).toBe('difference <= -0.01 (non-inferiority)');
    expect(c.verdict).toBe('non_inferior');
    expect(r.verdict).toBe('ship');
  });
});

describe('means (Welch)', () => {
  it('Welch t-test, t interval with Welch df, relative uplift', async () => {
    const r = await run({ control: 'mean=12.3,sd=4.1,n=5000', treatment: ['mean=12.6,sd=4.2,n=5000'] });
    const c = r.metrics[0]!.comparisons[0]!;
    expect(c.test).toBe('welch_t');
    // stats.ttest_ind_from_stats(12.6, 4.2, 5000, 12.3, 4.1, 5000, equal_var=False)
    close(c.statistic, 3.6141955244319988);
    close(c.p_value, 0.0003027625289242004);
    // (vt + vc)² / (vt²/(n_t − 1) + vc²/(n_c − 1)), v = s²/n
    close(c.df, 9992.199855089479);
    // 0.3 ∓ stats.t.ppf(0.975, df)·√(vt + vc)
    close(c.difference.ci[0], 0.1372914737012344);
    close(c.difference.ci[1], 0.4627085262987656);
    // exp(ln(mt/mc) ∓ qt(0.975, df)·√(vt/mt² + vc/mc²)) − 1, R: welch_logratio(12.6, 4.2, 5000, 12.3, 4.1, 5000)
    close(c.relative_uplift.estimate, 0.024390243902439046);
    close(c.relative_uplift.ci[0], 0.011090591720907872);
    close(c.relative_uplift.ci[1], 0.037864836637861332);
  });

  it('one-sided and small unequal samples', async () => {
    let c = (
      await run({ control: 'mean=12.3,sd=4.1,n=5000', treatment: ['mean=12.6,sd=4.2,n=5000'], alternative: 'greater' })
    ).metrics[0]!.comparisons[0]!;
    // stats.ttest_ind_from_stats(12.6, 4.2, 5000, 12.3, 4.1, 5000, equal_var=False, alternative='greater')[1]
    close(c.p_value, 0.0001513812644621002);
    // 0.3 − stats.t.ppf(0.95, df)·√(vt + vc)
    close(c.difference.ci[0], 0.16345458130971507);
    expect(c.difference.ci[1]).toBeNull();
    c = (await run({ control: 'mean=3.5,sd=1,n=40', treatment: ['mean=5,sd=3,n=12'] })).metrics[0]!.comparisons[0]!;
    // stats.ttest_ind_from_stats(5.0, 3.0, 12, 3.5, 1.0, 40, equal_var=False)
    close(c.statistic, 1.7038855027411943);
    close(c.p_value, 0.11469564257624586);
  });

  it('non-inferiority for a mean', async () => {
    const c = (await run({ control: 'mean=12.3,sd=4.1,n=5000', treatment: ['mean=12.6,sd=4.2,n=5000'], margin: 0.2 }))
      .metrics[0]!.comparisons[0]!;
    // H0: Δ ≤ −0.2 ⇔ shift the treatment by +0.2:
    // stats.ttest_ind_from_stats(12.8, 4.2, 5000, 12.3, 4.1, 5000, equal_var=False, alternative='greater')
    close(c.statistic, 6.023659207386665);
    close(c.p_value, 8.82647830824717e-10);
  });
});

describe('SRM and multiple comparisons', () => {
  it.each([
    // stats.chisquare([10000, 10400], [10200, 10200])
    [['10000/10000', ['10/10400']], undefined, 7.8431372549019605, 0.005101399646004981],
    // stats.chisquare([8100, 1900], [8000, 2000])
    [['10/8100', ['10/1900']], '80/20', 6.25, 0.01241933065155227],
    // stats.chisquare([5000, 2600, 2400], [5000, 2500, 2500])
    [['10/5000', ['b:10/2600', 'c:10/2400']], '50/25/25', 8.0, 0.018315638888734182],
  ] as const)('sample-ratio check %j split %s', async ([control, treatment], split, statistic, p) => {
    const r = await run({ control, treatment: [...treatment], ...(split ? { expectedSplit: split } : {}) });
    close(r.srm.statistic, statistic);
    close(r.srm.p_value, p);
    expect(r.srm.ok).toBe(true); // all above the default threshold 0.001
  });

  it('an SRM below the threshold makes the verdict dont_ship, untrustworthy, and says so first', async () => {
    const r = await run({ control: '450/10000', treatment: ['600/10000'], expectedSplit: '60/40' });
    expect(r.srm.ok).toBe(false);
    expect(r.trustworthy).toBe(false);
    expect(r.metrics[0]!.comparisons[0]!.verdict).toBe('treatment_better');
    expect(r.verdict).toBe('dont_ship');
    expect(r.verdict_reasons[0]).toMatch(/^sample ratio mismatch/);
  });

  it('Holm and BH across arms, with adjusted p-values', async () => {
    const input = { control: '100/1000', treatment: ['b:125/1000', 'c:131/1000', 'd:112/1000'] };
    const raw = (await run({ ...input, correction: 'none' })).metrics[0]!.comparisons.map((c) => c.p_value);
    const holm = (await run({ ...input, correction: 'holm' })).metrics[0]!.comparisons.map((c) => c.p_value_adjusted);
    const bh = (await run({ ...input, correction: 'bh' })).metrics[0]!.comparisons.map((c) => c.p_value_adjusted);
    // raw: proportions_ztest([t, 100], [1000, 1000])[1] for t = 125, 131, 112
    close(raw[0], 0.07686890551568953);
    close(raw[1], 0.030102695927324397);
    close(raw[2], 0.3833966925145822);
    // multipletests(raw, method='holm')[1] and method='fdr_bh'
    close(holm[0], 0.15373781103137907);
    close(holm[1], 0.09030808778197319);
    close(holm[2], 0.3833966925145822);
    close(bh[0], 0.1153033582735343);
    close(bh[1], 0.09030808778197319);
    close(bh[2], 0.3833966925145822);
  });
});
