#!/usr/bin/env python3
"""Reference values for test/stats/: every expected number with the library call that produced it.

Run from the repo root:   python3 scripts/reference/stats_reference.py
  - python3:          scipy 1.17 + mpmath (pyenv)
  - /usr/bin/python3: statsmodels (Debian python3-statsmodels), via scripts/reference/statsmodels_part.py
Writes test/stats/reference-values.generated.ts (do not edit by hand; re-run this script).
"""
import json
import math
import os
import subprocess
import sys

import mpmath as mp
import numpy as np
import scipy
from scipy import integrate, optimize, special, stats

mp.mp.dps = 50
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
out = []


def add(group, call, args, expected):
    out.append({"group": group, "call": call, "args": args, "expected": expected})


def f(x):
    return float(x)


# ---------------------------------------------------------------- distributions
for x in [-30, -5, -1, -0.3, 0, 1e-10, 0.2, 0.46875, 0.5, 1, 2, 3.9, 4, 4.1, 5, 10, 26, 27]:
    add("erf", f"scipy.special.erf({x})", [x], f(special.erf(x)))
    add("erfc", f"scipy.special.erfc({x})", [x], f(special.erfc(x)))

for x in [-38, -37.5, -20, -8, -1.959963984540054, -0.5, 0, 0.3, 1, 5, 8.3, 20, 38]:
    add("norm_cdf", f"scipy.stats.norm.cdf({x})", [x], f(stats.norm.cdf(x)))
    add("norm_sf", f"scipy.stats.norm.sf({x})", [x], f(stats.norm.sf(x)))

for p in [1e-300, 1e-100, 1e-12, 1e-6, 0.001, 0.025, 0.075, 0.1, 0.3, 0.5, 0.7, 0.925, 0.975, 0.999, 1 - 1e-6, 1 - 1e-12]:
    add("norm_ppf", f"scipy.stats.norm.ppf({p!r})", [p], f(stats.norm.ppf(p)))

for x in [1e-300, 1e-8, 0.1, 0.5, 1, 1.5, 2, 2.5, 3.7, 9.99, 10, 10.5, 100, 12345.678, 1e6, 1e15]:
    add("gammaln", f"scipy.special.gammaln({x!r})", [x], f(special.gammaln(x)))

for a, b in [(0.5, 0.5), (1, 1), (2.5, 7), (300, 7000), (5e5, 0.5), (1e-3, 5), (1e8, 3e8), (15, 0.5)]:
    add("betaln", f"mpmath.log(mpmath.beta({a!r}, {b!r}))", [a, b], f(mp.log(mp.beta(a, b))))

beta_cases = [
    (2, 3, 0.4), (0.5, 0.5, 0.1), (0.5, 0.5, 0.999), (1, 1, 0.3), (5, 2, 0.999), (30, 40, 0.2), (30, 40, 0.45),
    (500, 9500, 0.052), (500, 9500, 0.04), (500, 9500, 0.06), (5e5, 0.5, 1 - 4e-6), (0.5, 5e5, 1e-5),
    (1, 20000, 1e-4), (20000, 1, 0.9999), (0.01, 3, 0.2), (100, 100, 0.5), (3e6, 5e6, 0.375),
]
for a, b, x in beta_cases:
    add("betainc", f"scipy.special.betainc({a!r}, {b!r}, {x!r}), scipy.special.betaincc({a!r}, {b!r}, {x!r})",
        [a, b, x], [f(special.betainc(a, b, x)), f(special.betaincc(a, b, x))])

for a, x in [(2, 3), (0.5, 0.1), (0.5, 30), (1, 1e-5), (10, 5), (10, 25), (100, 90), (100, 130), (1000, 1200), (0.01, 1), (50.5, 50.5)]:
    add("gammainc", f"scipy.special.gammainc({a!r}, {x!r}), scipy.special.gammaincc({a!r}, {x!r})",
        [a, x], [f(special.gammainc(a, x)), f(special.gammaincc(a, x))])


def t_sf_mp(t, df):
    t, df = mp.mpf(t), mp.mpf(df)
    if t < 0:
        return 1 - t_sf_mp(-t, df)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2


for df in [1, 2, 2.5, 3, 10, 29.5, 30, 1e3, 1e6, 1e10]:
    for t in [-40, -3, -0.5, 0, 0.001, 1, 2, 5, 12, 40]:
        sf = f(stats.t.sf(t, df))
        check = f(t_sf_mp(t, df))
        assert abs(sf - check) <= 1e-12 * check, (t, df, sf, check)
        add("t_sf", f"scipy.stats.t.sf({t}, {df!r})", [t, df], sf)
for df in [1, 2.5, 7, 1e6]:
    for t in [-12, -2, 0.7, 3]:
        add("t_cdf", f"scipy.stats.t.cdf({t}, {df!r})", [t, df], f(stats.t.cdf(t, df)))

for df in [1, 2, 2.5, 3, 5, 10, 30, 100, 1e6]:
    for p in [1e-12, 1e-6, 0.001, 0.025, 0.1, 0.4, 0.5, 0.6, 0.975, 0.999, 1 - 1e-12]:
        add("t_ppf", f"scipy.stats.t.ppf({p!r}, {df!r})", [p, df], f(stats.t.ppf(p, df)))

for x, k in [(3.841458820694124, 1), (0.001, 1), (50, 1), (2, 2), (2, 3), (100, 3), (10, 5), (0.5, 9), (300, 10), (1e-3, 10)]:
    add("chi2", f"scipy.stats.chi2.cdf({x!r}, {k}), scipy.stats.chi2.sf({x!r}, {k})",
        [x, k], [f(stats.chi2.cdf(x, k)), f(stats.chi2.sf(x, k))])

for k, M, n, N in [(2, 10, 4, 5), (0, 10, 4, 5), (4, 10, 4, 5), (520, 20000, 970, 10000), (3, 22, 12, 10),
                   (50000, 2000000, 99000, 1000000), (0, 200000, 5, 100000)]:
    # exact binomials: scipy.stats.hypergeom.pmf is off by up to 1.5e-10 relative on the large cases
    exact = mp.binomial(n, k) * mp.binomial(M - n, N - k) / mp.binomial(M, N)
    assert abs(f(stats.hypergeom.pmf(k, M, n, N)) - f(exact)) <= 1e-9 * f(exact)
    add("hypergeom", f"mpmath.binomial({n}, {k}) * mpmath.binomial({M - n}, {N - k}) / mpmath.binomial({M}, {N})  (≈ scipy.stats.hypergeom.pmf({k}, {M}, {n}, {N}))", [k, M, n, N], f(exact))

for x, a, b in [(0.3, 2, 5), (0.5, 1, 1), (0.05, 46, 956), (0.001, 1, 1001), (0.999, 1000, 2), (0.1, 0.5, 0.5)]:
    add("beta_dist", f"scipy.stats.beta.pdf({x}, {a}, {b}), .cdf(…), .sf(…)", [x, a, b],
        [f(stats.beta.pdf(x, a, b)), f(stats.beta.cdf(x, a, b)), f(stats.beta.sf(x, a, b))])

# ---------------------------------------------------------------- tests
for table in [(520, 10000, 450, 10000), (3, 100000, 1, 100000), (9990, 10000, 9970, 10000), (1, 3, 2, 4),
              (0, 1000, 5, 1000), (260, 5000, 900, 20000), (5_000_000, 100_000_000, 4_990_000, 100_000_000)]:
    xt, nt, xc, nc = table
    obs = [[xt, nt - xt], [xc, nc - xc]]
    for yates in [False, True]:
        chi, p, dof, _ = stats.chi2_contingency(obs, correction=yates)
        add("chi2_2x2", f"scipy.stats.chi2_contingency({obs}, correction={yates})[:2]", [xt, nt, xc, nc, yates], [f(chi), f(p)])

for xt, nt, xc, nc in [(3, 10, 9, 12), (520, 10000, 450, 10000), (0, 1000, 5, 1000), (1, 3, 2, 4), (7, 7, 0, 9),
                       (10, 20000, 30, 2000), (45, 1000, 45, 1000), (12, 1000000, 2, 1000000), (5000, 100000, 4800, 100000)]:
    obs = [[xt, nt - xt], [xc, nc - xc]]
    for alt in ["two-sided", "greater", "less"]:
        r = stats.fisher_exact(obs, alternative=alt)
        add("fisher", f"scipy.stats.fisher_exact({obs}, alternative='{alt}').pvalue", [xt, nt, xc, nc, alt], f(r.pvalue))


def exact_sample(mean, sd, n, seed):
    z = np.random.default_rng(seed).standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + sd * z


welch_cases = [
    ((12.6, 4.1, 5000), (12.3, 4.0, 5000)),
    ((1.0, 1.0, 2), (0.0, 3.0, 3)),  # tiny n
    ((100.2, 30.0, 200000), (100.0, 31.0, 180000)),  # huge n
    ((5.0, 0.5, 40), (5.3, 2.5, 15)),  # very unequal variances and sizes
    ((3.3, 1.2, 1000), (3.3, 1.2, 1000)),  # equal arms
]
for i, (t_arm, c_arm) in enumerate(welch_cases):
    for alt in ["two-sided", "greater", "less"]:
        r = stats.ttest_ind_from_stats(*t_arm, *c_arm, equal_var=False, alternative=alt)
        add("welch", f"scipy.stats.ttest_ind_from_stats({t_arm[0]}, {t_arm[1]}, {t_arm[2]}, {c_arm[0]}, {c_arm[1]}, {c_arm[2]}, equal_var=False, alternative='{alt}')",
            [t_arm, c_arm, alt], [f(r.statistic), f(r.pvalue)])
    if t_arm[2] <= 200000:
        a = exact_sample(*t_arm, seed=i)
        b = exact_sample(*c_arm, seed=100 + i)
        r = stats.ttest_ind(a, b, equal_var=False)
        for conf in [0.95, 0.99]:
            ci = r.confidence_interval(conf)
            add("welch_ci", f"scipy.stats.ttest_ind(a, b, equal_var=False).confidence_interval({conf}) with a, b of exactly mean/sd {t_arm} / {c_arm}",
                [t_arm, c_arm, round(1 - conf, 10), "two-sided"], [f(r.df), f(ci.low), f(ci.high)])
        r1 = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
        ci = r1.confidence_interval(0.95)
        add("welch_ci", f"scipy.stats.ttest_ind(a, b, equal_var=False, alternative='greater').confidence_interval(0.95) (same a, b)",
            [t_arm, c_arm, 0.05, "greater"], [f(r1.df), f(ci.low), None])

# margin on means: ttest_ind_from_stats on the shifted treatment mean (x̄_t + M vs x̄_c)
for t_arm, c_arm, m in [((12.2, 4.1, 5000), (12.3, 4.0, 5000), 0.25), ((12.0, 4.1, 5000), (12.3, 4.0, 5000), 0.25)]:
    r = stats.ttest_ind_from_stats(t_arm[0] + m, t_arm[1], t_arm[2], *c_arm, equal_var=False, alternative="greater")
    add("welch_margin", f"scipy.stats.ttest_ind_from_stats({t_arm[0]} + {m}, {t_arm[1]}, {t_arm[2]}, {c_arm[0]}, {c_arm[1]}, {c_arm[2]}, equal_var=False, alternative='greater')",
        [t_arm, c_arm, -m, "greater"], [f(r.statistic), f(r.pvalue)])

for obs, exp in [([5030, 4970], [1, 1]), ([8100, 1900], [80, 20]), ([1000, 1100, 950], [1, 1, 1]), ([50000, 50600], [1, 1]),
                 ([0, 10], [1, 1]), ([333, 333, 334, 300], [1, 1, 1, 1])]:
    tot = sum(obs)
    fexp = [tot * w / sum(exp) for w in exp]
    r = stats.chisquare(obs, f_exp=fexp)
    add("srm", f"scipy.stats.chisquare({obs}, f_exp={fexp})", [obs, exp], [f(r.statistic), f(r.pvalue)])

# ---------------------------------------------------------------- relative uplift (delta method)
for mt, vt, mc, vc, alpha, alt, df in [
    (0.052, 0.052 * 0.948 / 10000, 0.045, 0.045 * 0.955 / 10000, 0.05, "two-sided", None),
    (0.052, 0.052 * 0.948 / 10000, 0.045, 0.045 * 0.955 / 10000, 0.05, "greater", None),
    (12.6, 4.1**2 / 5000, 12.3, 4.0**2 / 5000, 0.05, "two-sided", 9991.910156986174),
    (0.0, 0.0, 0.005, 0.005 * 0.995 / 1000, 0.01, "less", None),
]:
    est = mt / mc - 1
    se = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
    tail = alpha / 2 if alt == "two-sided" else alpha
    crit = f(stats.norm.isf(tail)) if df is None else f(stats.t.isf(tail, df))
    lo = est - crit * se if alt != "less" else None
    hi = est + crit * se if alt != "greater" else None
    q = f"scipy.stats.norm.isf({tail})" if df is None else f"scipy.stats.t.isf({tail}, {df})"
    add("rel_uplift", f"delta method: est = mt/mc - 1, se = sqrt(vt/mc**2 + mt**2*vc/mc**4), est ± {q}·se",
        [mt, vt, mc, vc, alpha, alt, df], [est, se, lo, hi])

# ---------------------------------------------------------------- Bayesian (independent: scipy quadrature)
def beta_bulk(a, b, k=40):
    m = a / (a + b)
    s = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return max(0.0, m - k * s), min(1.0, m + k * s), m, s


def quad_pts(fn, a, b, m, s):
    pts = sorted({p for p in [m + k * s for k in range(-12, 13)] if a < p < b})
    total, lo = 0.0, a
    for p in pts + [b]:
        total += integrate.quad(fn, lo, p, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
        lo = p
    return total


bayes_cases = [(52, 1000, 45, 1000), (520, 10000, 450, 10000), (0, 500, 0, 500), (3, 40, 0, 45), (999, 1000, 990, 1000),
               (5200, 100000, 4500, 100000), (10, 20000, 30, 2000), (500000, 10000000, 498000, 10000000)]
for xt, nt, xc, nc in bayes_cases:
    aT, bT, aC, bC = 1 + xt, 1 + nt - xt, 1 + xc, 1 + nc - xc
    lo, hi, m, s = beta_bulk(aC, bC)
    pb = quad_pts(lambda x: stats.beta.pdf(x, aC, bC) * stats.beta.sf(x, aT, bT), lo, hi, m, s)
    # E[max(p_c - p_t, 0)] = ∫ f_C(x) ∫_0^x (x - y) f_T(y) dy dx = ∫ f_C(x) [x F_T(x) − μ_T F_{T+}(x)] dx
    muT = aT / (aT + bT)
    muC = aC / (aC + bC)
    loss_t = quad_pts(lambda x: stats.beta.pdf(x, aC, bC) * (x * stats.beta.cdf(x, aT, bT) - muT * stats.beta.cdf(x, aT + 1, bT)), lo, hi, m, s)
    loT, hiT, mT, sT = beta_bulk(aT, bT)
    loss_c = quad_pts(lambda y: stats.beta.pdf(y, aT, bT) * (y * stats.beta.cdf(y, aC, bC) - muC * stats.beta.cdf(y, aC + 1, bC)), loT, hiT, mT, sT)

    def ratio_cdf(r):
        k = 1 + r
        up = min(hi, 1 / k)
        v = quad_pts(lambda x: stats.beta.pdf(x, aC, bC) * stats.beta.cdf(k * x, aT, bT), lo, up, m, s) if up > lo else 0.0
        if up < hi:
            v += stats.beta.sf(max(lo, up), aC, bC) - stats.beta.sf(hi, aC, bC)
        return v

    def solve(target):
        g = lambda u: ratio_cdf(math.expm1(u)) - target
        a, b = -1.0, 1.0
        while g(a) > 0:
            a -= 1
        while g(b) < 0:
            b += 1
        return math.expm1(optimize.brentq(g, a, b, xtol=1e-14, rtol=1e-13))

    ci = [solve(0.025), solve(0.975)]
    add("bayes", f"scipy.integrate.quad: P(p_t > p_c) = ∫ beta.pdf(x, {aC}, {bC})·beta.sf(x, {aT}, {bT}); losses ∫ f(x)(x·F(x) − μ·F⁺(x)); uplift CI: brentq on ∫ beta.pdf(x, {aC}, {bC})·beta.cdf((1+r)x, {aT}, {bT}) = 0.025, 0.975",
        [xt, nt, xc, nc, 0.05], [pb, loss_t, loss_c, ci[0], ci[1]])

for t_arm, c_arm in [((12.6, 4.1, 5000), (12.3, 4.0, 5000)), ((5.0, 2.0, 100), (5.1, 2.0, 100))]:
    d = t_arm[0] - c_arm[0]
    se = math.sqrt(t_arm[1] ** 2 / t_arm[2] + c_arm[1] ** 2 / c_arm[2])
    pb = stats.norm.sf(0, loc=d, scale=se)
    lt = stats.norm.expect(lambda x: max(-x, 0.0), loc=d, scale=se, epsabs=1e-16, epsrel=1e-13)
    lc = stats.norm.expect(lambda x: max(x, 0.0), loc=d, scale=se, epsabs=1e-16, epsrel=1e-13)
    add("bayes_means", f"scipy.stats.norm.sf(0, loc={d!r}, scale={se!r}); norm.expect(lambda x: max(∓x, 0), loc, scale)",
        [t_arm, c_arm, 0.05], [f(pb), f(lt), f(lc)])

# ---------------------------------------------------------------- sequential (GrowthBook gbstats formulas, one-sided p by bisection)
def gb_rho(alpha, N, two_sided=True):
    a = alpha if two_sided else 2 * alpha
    return math.sqrt((-2 * math.log(a) + math.log(-2 * math.log(a) + 1)) / N)


def gb_halfwidth(s2, n, alpha, rho, two_sided=True):
    if two_sided:
        return math.sqrt(s2) * math.sqrt(2 * (n * rho**2 + 1) * math.log(math.sqrt(n * rho**2 + 1) / alpha) / (n * rho) ** 2)
    return math.sqrt(s2 * (2 * (n * rho**2 + 1)) / (n * rho) ** 2 * math.log(1 + math.sqrt(n * rho**2 + 1) / (2 * alpha)))


for est, se, n, alpha, alt, N in [(0.007, 0.003, 20000, 0.05, "two-sided", 5000), (0.007, 0.003, 20000, 0.05, "greater", 5000),
                                  (-0.3, 0.08, 10000, 0.05, "two-sided", 5000), (-0.3, 0.08, 10000, 0.05, "less", 5000),
                                  (0.3, 0.08, 10000, 0.01, "two-sided", 20000), (0.0001, 0.003, 200, 0.05, "two-sided", 5000)]:
    two = alt == "two-sided"
    rho = gb_rho(alpha, N, two)
    hw = gb_halfwidth(se**2 * n, n, alpha, rho, two)
    if two:
        st2 = est**2 * n / se**2
        tr2p1 = n * rho**2 + 1
        p = min(1.0, 1 / (math.exp(rho**2 * st2 / (2 * tr2p1)) / math.sqrt(tr2p1)))
        how = "p = min(1/evalue, 1) (gbstats SequentialTwoSidedTTest.p_value)"
    else:
        # gbstats bisects alpha until the one-sided bound touches 0; we bisect to 1e-15
        def bound(a):
            h = gb_halfwidth(se**2 * n, n, a, rho, False)
            return est - h if alt == "greater" else -(est + h)
        # bound(a) rises with a (a narrower interval); no crossing below a = 1e6 means p = 1
        p = min(1.0, optimize.brentq(bound, 1e-300, 1e6, xtol=1e-300, rtol=1e-15)) if bound(1e-300) < 0 < bound(1e6) else 1.0
        how = "p = the alpha at which the one-sided bound crosses 0, by brentq (gbstats bisects)"
    lo = est - hw if alt != "less" else None
    hi = est + hw if alt != "greater" else None
    add("sequential", f"gbstats sequential_rho / sequential_interval_halfwidth{'' if two else '_one_sided'} (N*={N}); {how}",
        [est, se, n, alpha, alt, N], [rho, hw, p, lo, hi])

# ---------------------------------------------------------------- sample size by formula (scipy quantiles)
def z(q):
    return f(stats.norm.isf(q))


def n_formula(method, p1, d, alpha, power, K, sides, variants=1, sd=None):
    za, zb = z(alpha / variants / sides), z(1 - power)
    if method == "continuous":
        return (za + zb) ** 2 * sd**2 * (1 + 1 / K) / d**2
    p2 = p1 + d
    v1, v2 = p1 * (1 - p1), p2 * (1 - p2)
    if method == "pooled":
        pb = (p1 + K * p2) / (1 + K)
        return (za * math.sqrt(pb * (1 - pb) * (1 + 1 / K)) + zb * math.sqrt(v1 + v2 / K)) ** 2 / d**2
    if method == "unpooled":
        return (za + zb) ** 2 * (v1 + v2 / K) / d**2
    if method == "evanmiller":
        return (za * math.sqrt(v1 * (1 + 1 / K)) + zb * math.sqrt(v1 + v2 / K)) ** 2 / d**2


ss_cases = [
    ("pooled", 0.1, 0.01, 0.05, 0.8, 1, 2, 1, None),
    ("pooled", 0.1, 0.01, 0.05, 0.8, 2.5, 1, 1, None),
    ("pooled", 0.001, 0.0005, 0.05, 0.8, 1, 2, 1, None),
    ("pooled", 0.98, -0.01, 0.01, 0.9, 0.5, 2, 3, None),
    ("pooled", 0.045, 0.0045, 0.05, 0.8, 1, 2, 4, None),
    ("unpooled", 0.1, 0.01, 0.05, 0.8, 1, 2, 1, None),
    ("unpooled", 0.3, 0.05, 0.1, 0.95, 3, 1, 2, None),
    ("evanmiller", 0.1, 0.01, 0.05, 0.8, 1, 2, 1, None),
    ("evanmiller", 0.2, 0.02, 0.05, 0.8, 1, 2, 1, None),
    ("evanmiller", 0.001, 0.0005, 0.05, 0.8, 1, 2, 1, None),
    ("continuous", None, 0.3, 0.05, 0.8, 1, 2, 1, 4.0),
    ("continuous", None, 1.5, 0.01, 0.9, 3, 1, 2, 20.0),
]
for method, p1, d, alpha, pw, K, sides, V, sd in ss_cases:
    n = n_formula(method, p1, d, alpha, pw, K, sides, V, sd)
    add("sample_size", f"{method} formula with scipy.stats.norm.isf(alpha/{V}/{sides}), scipy.stats.norm.isf(1 - power)",
        [method, p1, d, alpha, pw, K, "two-sided" if sides == 2 else "one-sided", V, sd], n)

# the command tests' scenarios (unrounded n_control; the CLI rounds up)
for method, p1, d, alpha, pw, K, sides, V, sd in [
    ("pooled", 0.045, 0.045 * 0.1, 0.05, 0.8, 1, 2, 1, None),
    ("pooled", 0.045, 0.005, 0.05, 0.9, 2, 2, 1, None),
    ("evanmiller", 0.1, 0.01, 0.05, 0.8, 1, 2, 1, None),
    ("continuous", None, 0.3, 0.05, 0.8, 1, 1, 3, 4.1),
]:
    add("cli", f"{method} formula with scipy.stats.norm.isf(alpha/{V}/{sides}), scipy.stats.norm.isf(1 - power)",
        [method, p1, d, alpha, pw, K, "two-sided" if sides == 2 else "one-sided", V, sd], n_formula(method, p1, d, alpha, pw, K, sides, V, sd))

# MDE by formula: the D with n_formula(D) = n (brentq)
for method, p1, n, alpha, pw, K, sides in [("pooled", 0.1, 14751, 0.05, 0.8, 1, 2), ("unpooled", 0.05, 30000, 0.05, 0.8, 2, 1),
                                           ("evanmiller", 0.2, 6000, 0.05, 0.8, 1, 2)]:
    d = optimize.brentq(lambda d: n_formula(method, p1, d, alpha, pw, K, sides) - n, 1e-9, 1 - p1 - 1e-9, xtol=1e-16, rtol=1e-15)
    add("mde", f"scipy.optimize.brentq(lambda D: {method}_formula(D) - {n}, …)", [method, p1, n, alpha, pw, K, "two-sided" if sides == 2 else "one-sided"], d)

# ---------------------------------------------------------------- statsmodels part
sm = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts/reference/statsmodels_part.py")],
                    check=True, capture_output=True, text=True)
out.extend(json.loads(sm.stdout))
sm_version = subprocess.run(["/usr/bin/python3", "-c", "import statsmodels; print(statsmodels.__version__)"],
                            check=True, capture_output=True, text=True).stdout.strip()


def js(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return repr(x)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(js(x) for x in v) + "]"
    raise TypeError(type(v))


groups = {}
for row in out:
    groups.setdefault(row["group"], []).append(row)

lines = [
    "// Generated by scripts/reference/stats_reference.py — do not edit; re-run the script.",
    f"// scipy {scipy.__version__}, mpmath {mp.__version__}, statsmodels {sm_version}, numpy {np.__version__}",
    "/* eslint-disable */",
    "",
    "export interface Reference<A extends unknown[] = any[], E = any> {",
    "  /** The library call that produced `expected`. */",
    "  call: string;",
    "  args: A;",
    "  expected: E;",
    "}",
    "",
]
for name, rows in groups.items():
    lines.append(f"export const {name}: Reference[] = [")
    for r in rows:
        lines.append(f"  {{ call: {js(r['call'])}, args: {js(r['args'])}, expected: {js(r['expected'])} }},")
    lines.append("];")
    lines.append("")
path = os.path.join(ROOT, "test/stats/reference-values.generated.ts")
with open(path, "w") as fh:
    fh.write("\n".join(lines))
print(f"wrote {len(out)} reference values in {len(groups)} groups to {os.path.relpath(path, ROOT)}")
