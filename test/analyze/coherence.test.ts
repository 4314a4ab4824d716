import { describe, expect, it } from 'vitest';
import { analyze, renderAnalyze, type AnalyzeInput } from '../../src/commands/analyze.js';
import { sequentialHalfWidth } from '../../src/core/stats/index.js';
import { plainStyle } from '../../src/terminal/style.js';
import { testContext } from '../helpers/context.js';
import { expectClose } from '../stats/close.js';

/**
 * The objections of issue 10 as regression tests, on the exact commands of the issue. Expected
 * values come from R 4.2 (Debian r-base-core); scripts/reference/intervals.R writes out the
 * Newcombe, Katz and fisher.test (tightened uniroot) computations.
 */

const run = (input: AnalyzeInput) => analyze(testContext().ctx, input);
const TOL = 1e-10;

describe('--sequential is coherent: mlv analyze --control 500/10000 --treatment 590/10000 --sequential', () => {
  it('headline p, interval, verdict and units needed are all sequential; fixed-horizon ones are named so', async () => {
    const r = await run({ control: '500/10000', treatment: ['590/10000'], sequential: true });
    const c = r.metrics[0]!.comparisons[0]!;
    expect(c.p_value_basis).toBe('sequential');
    expect(c.p_value).toBe(c.p_value_adjusted);
    expect(c.p_value).toBeGreaterThan(0.05);
    expect(c.significant).toBe(false);
    // the headline interval is the confidence sequence and agrees with the p-value: it contains 0
    expect(c.difference.ci_method).toBe('confidence_sequence');
    expect(c.difference.ci[0]!).toBeLessThan(0);
    expect(c.relative_uplift.ci[0]!).toBeLessThan(0);
    // R: prop.test(c(590, 500), c(10000, 10000), correct = FALSE)$p.value
    expectClose(c.fixed_horizon!.p_value, 0.0050553323578739857, 1e-9, 0, 'prop.test p.value');
    expect(c.fixed_horizon!.difference_ci[0]!).toBeGreaterThan(0);
    expect(r.verdict).toBe('keep_running');
    // "about 0 more units" was the fixed-horizon formula; the sequence needs more than it has
    expect(c.units_needed).toMatchObject({ basis: 'observed_effect', horizon: 'sequential' });
    expect(r.additional_units_needed!).toBeGreaterThan(0);
    const text = renderAnalyze(r, plainStyle);
    expect(text).toContain('p (seq)');
    expect(text).toContain('fixed-horizon (valid only at the planned end');
    expect(text).not.toContain('about 0 more units');
  });

  it("the sequence's units needed are the smallest n at which its half-width plus z_β·SE reaches the effect", async () => {
    const r = await run({ control: '500/10000', treatment: ['520/10000'], sequential: true, mde: 0.005 });
    const u = r.metrics[0]!.comparisons[0]!.units_needed!;
    expect(u).toMatchObject({ basis: 'design', horizon: 'sequential', effect: 0.005 });
    const margin = (n: number) => {
      const se = Math.sqrt((0.05 * 0.95) / n + (0.055 * 0.945) / n);
      return 0.005 - sequentialHalfWidth(se, 2 * n, 0.05, 5000, 'two-sided') - 0.8416212335729143 * se;
    };
    expect(margin(u.control)).toBeGreaterThanOrEqual(0);
    expect(margin(u.control - 1)).toBeLessThan(0);
    // and more than the fixed horizon: R ceiling(power.prop.test(p1=0.05, p2=0.055, power=0.8)$n) = 31234
    expect(u.control).toBeGreaterThan(31234);
  });
});

describe('units needed come from the design', () => {
  it('--mde: R ceiling(power.prop.test(p1 = 0.05, p2 = 0.055, power = 0.8)$n) = 31234 per arm', async () => {
    const r = await run({ control: '500/10000', treatment: ['520/10000'], mde: 0.005 });
    const c = r.metrics[0]!.comparisons[0]!;
    expect(c.units_needed).toEqual({
      control: 31234,
      treatment: 31234,
      basis: 'design',
      effect: 0.005,
      horizon: 'fixed',
    });
    expect(c.observed_effect_units_needed).toBeDefined(); // secondary
    expect(r.additional_units_basis).toBe('design');
    expect(r.additional_units_needed).toBe(2 * (31234 - 10000));
    expect(renderAnalyze(r, plainStyle)).toContain("more units to detect the design's MDE");
  });

  it('a zero baseline is not "zero or undefined": --control 0/50 --treatment 3/50', async () => {
    const r = await run({ control: '0/50', treatment: ['3/50'] });
    const c = r.metrics[0]!.comparisons[0]!;
    // R: ceiling(power.prop.test(p1 = 0, p2 = 0.06, power = 0.8)$n) = 126
    expect(c.units_needed).toMatchObject({ control: 126, treatment: 126, basis: 'observed_effect' });
    const text = renderAnalyze(r, plainStyle);
    expect(text).not.toContain('zero or undefined');
    expect(text).toContain('the observed effect +6pp would need about 126');
  });
});

describe('intervals agree with the chosen test', () => {
  it('--test fisher: conditional-MLE odds ratio, exact CI, Newcombe difference (--control 3/20 --treatment 9/21)', async () => {
    const r = await run({ control: '3/20', treatment: ['9/21'], test: 'fisher' });
    const c = r.metrics[0]!.comparisons[0]!;
    // R: fisher.test(matrix(c(9, 12, 3, 17), 2, byrow = TRUE))$p.value
    expectClose(c.p_value, 0.085493439938758603, 1e-9, 0, 'fisher.test p.value');
    // R: fisher.test()$estimate 4.0990, $conf.int [0.8004, 28.567] at uniroot's default tol; tightened:
    expectClose(c.statistic, 4.09934469122726597, TOL, 0, 'conditional MLE');
    expectClose(c.odds_ratio!.ci[0], 0.80039786824720649, TOL, 0, 'conf.int[1]');
    expectClose(c.odds_ratio!.ci[1], 28.55111288912956624, TOL, 0, 'conf.int[2]');
    expect(c.difference.ci_method).toBe('newcombe');
    // R: newcombe(9, 21, 3, 20) — contains 0, as the test's p = 0.085 says (Wald's [0.015, 0.542] did not)
    expectClose(c.difference.ci[0], -0.00086535347147609354, TOL, 0, 'newcombe lower');
    expectClose(c.difference.ci[1], 0.5065026255845922476, TOL, 0, 'newcombe upper');
    // the relative interval stays above −100 %: R katz(9, 21, 3, 20)
    expectClose(c.relative_uplift.ci[0], -0.09916898011263453, TOL, 0, 'katz lower');
    expectClose(c.relative_uplift.ci[1], 8.06192740470142155, TOL, 0, 'katz upper');
    expect(r.warnings).toEqual([]);
  });

  it("--test chi2 --yates: the continuity-corrected interval of R's prop.test", async () => {
    const r = await run({ control: '3/20', treatment: ['9/21'], test: 'chi2', yates: true });
    const c = r.metrics[0]!.comparisons[0]!;
    // R: prop.test(c(9, 3), c(21, 20), correct = TRUE)$p.value and $conf.int
    expectClose(c.p_value, 0.10604313841118339, 1e-9, 0, 'prop.test p.value');
    expect(c.difference.ci_method).toBe('wald_cc');
    expectClose(c.difference.ci[0], -0.033463575722081751, TOL, 0, 'prop.test conf.int[1]');
    expectClose(c.difference.ci[1], 0.590606432864938968, TOL, 0, 'prop.test conf.int[2]');
  });

  it('--ci chooses: agresti-caffo (R: ac(9, 21, 3, 20)); --yates has no Agresti–Caffo form', async () => {
    const r = await run({ control: '3/20', treatment: ['9/21'], ci: 'agresti-caffo' });
    const c = r.metrics[0]!.comparisons[0]!;
    expect(c.difference.ci_method).toBe('agresti_caffo');
    expectClose(c.difference.ci[0], -0.0059175997240029643, TOL, 0, 'ac lower');
    expect(r.settings.ci).toBe('agresti-caffo');
    await expect(
      run({ control: '3/20', treatment: ['9/21'], ci: 'agresti-caffo', test: 'chi2', yates: true }),
    ).rejects.toThrow('--yates has no Agresti–Caffo form');
  });
});

describe('small samples and many arms', () => {
  it('warns when an expected cell is below 5 and suggests Fisher (R chisq.test()$expected: 1.5)', async () => {
    const r = await run({ control: '0/50', treatment: ['3/50'] });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('an expected cell count is 1.5 (< 5)');
    expect(r.warnings[0]).toContain('--test fisher');
    // and with Fisher no warning: R fisher.test(matrix(c(3, 47, 0, 50), 2, byrow = TRUE))$p.value
    const f = await run({ control: '0/50', treatment: ['3/50'], test: 'fisher' });
    expect(f.warnings).toEqual([]);
    expectClose(f.metrics[0]!.comparisons[0]!.p_value, 0.24242424242424249, 1e-9, 0, 'fisher.test');
    expect((await run({ control: '450/10000', treatment: ['520/10000'] })).warnings).toEqual([]);
  });

  it('an omnibus k×2 chi-square beside the pairwise tests (R chisq.test)', async () => {
    const r = await run({ control: '450/10000', treatment: ['b:520/10000', 'c:505/10000'] });
    const o = r.metrics[0]!.omnibus!;
    // R: chisq.test(matrix(c(450, 520, 505, 9550, 9480, 9495), ncol = 2))
    expectClose(o.statistic, 5.8111380145278444, 1e-12, 0, 'X-squared');
    expectClose(o.p_value, 0.054717647003254162, 1e-12, 0, 'p.value');
    expect(o.df).toBe(2);
    expect(r.metrics[0]!.comparisons).toHaveLength(2);
    expect(renderAnalyze(r, plainStyle)).toContain('omnibus χ² over all 3 arms');
    expect((await run({ control: '450/10000', treatment: ['520/10000'] })).metrics[0]!.omnibus).toBeUndefined();
  });

  it("means: Welch's ANOVA beside the pairwise Welch tests (R oneway.test(var.equal = FALSE))", async () => {
    const r = await run({
      control: 'mean=3.5,sd=1,n=40',
      treatment: ['b:mean=5,sd=3,n=12', 'c:mean=4.1,sd=2,n=20', 'd:mean=3.9,sd=1.5,n=15'],
    });
    const o = r.metrics[0]!.omnibus!;
    // scripts/reference/welch-anova.R: samples with exactly these means and sds, oneway.test
    expect(o.test).toBe('welch_anova');
    expectClose(o.statistic, 1.51105877260930588, 1e-12, 0, 'F');
    expect(o.df).toBe(3);
    expectClose(o.df2!, 26.92601380134544797, 1e-12, 0, 'denom df');
    expectClose(o.p_value, 0.23420966901878854, 1e-11, 0, 'p.value');
    expect(renderAnalyze(r, plainStyle)).toContain(
      'omnibus Welch ANOVA over all 4 arms: F = 1.5111, df 3, 26.926, p = 0.2342',
    );
  });
});
