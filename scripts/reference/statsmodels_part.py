"""Reference values from statsmodels (run by stats_reference.py with Debian's /usr/bin/python3,
which has python3-statsmodels). Prints a JSON list of {group, call, args, expected}."""
import json
import math
import sys

from scipy.optimize import brentq

from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
    test_proportions_2indep,
)

out = []


def add(group, call, args, expected):
    out.append({"group": group, "call": call, "args": args, "expected": expected})


ALT = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}

# two-proportion z-test (pooled SE), treatment first
ztests = [
    (520, 10000, 450, 10000),
    (3, 100000, 1, 100000),  # rates near 0
    (9990, 10000, 9970, 10000),  # rates near 1
    (1, 3, 2, 4),  # tiny n
    (5_000_000, 100_000_000, 4_990_000, 100_000_000),  # huge n
    (0, 1000, 5, 1000),  # zero conversions in one arm
    (450, 10000, 450, 10000),  # equal arms
    (260, 5000, 900, 20000),  # unequal sizes
]
for xt, nt, xc, nc in ztests:
    for alt in ["two-sided", "greater", "less"]:
        z, p = proportions_ztest([xt, xc], [nt, nc], alternative=ALT[alt])
        add(
            "ztest",
            f"statsmodels.stats.proportion.proportions_ztest([{xt}, {xc}], [{nt}, {nc}], alternative='{ALT[alt]}')",
            [xt, nt, xc, nc, alt],
            [float(z), float(p)],
        )

# non-inferiority margin: Wald test of p_t - p_c = -M
for xt, nt, xc, nc, m, alt in [(520, 10000, 450, 10000, 0.005, "greater"), (440, 10000, 450, 10000, 0.01, "greater"),
                               (130, 2000, 900, 20000, 0.02, "greater"), (460, 10000, 450, 10000, 0.005, "less")]:
    value = -m if alt == "greater" else m
    r = test_proportions_2indep(xt, nt, xc, nc, value=value, method="wald", compare="diff", alternative=ALT[alt])
    add(
        "ztest_margin",
        f"statsmodels.stats.proportion.test_proportions_2indep({xt}, {nt}, {xc}, {nc}, value={value}, method='wald', compare='diff', alternative='{ALT[alt]}')",
        [xt, nt, xc, nc, value, alt],
        [float(r.statistic), float(r.pvalue)],
    )

# Wald interval of the difference in proportions
for xt, nt, xc, nc in [(520, 10000, 450, 10000), (3, 100000, 1, 100000), (9990, 10000, 9970, 10000), (0, 1000, 5, 1000),
                       (260, 5000, 900, 20000), (5_000_000, 100_000_000, 4_990_000, 100_000_000)]:
    for alpha in [0.05, 0.01]:
        lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff", alpha=alpha)
        add(
            "diff_ci",
            f"statsmodels.stats.proportion.confint_proportions_2indep({xt}, {nt}, {xc}, {nc}, method='wald', compare='diff', alpha={alpha})",
            [xt, nt, xc, nc, alpha, "two-sided"],
            [float(lo), float(hi)],
        )
    # one-sided (1 - 0.05): one end of the two-sided 90% interval
    lo, hi = confint_proportions_2indep(xt, nt, xc, nc, method="wald", compare="diff", alpha=0.1)
    add("diff_ci", f"statsmodels.stats.proportion.confint_proportions_2indep({xt}, {nt}, {xc}, {nc}, method='wald', compare='diff', alpha=0.1)[0]",
        [xt, nt, xc, nc, 0.05, "greater"], [float(lo), None])
    add("diff_ci", f"statsmodels.stats.proportion.confint_proportions_2indep({xt}, {nt}, {xc}, {nc}, method='wald', compare='diff', alpha=0.1)[1]",
        [xt, nt, xc, nc, 0.05, "less"], [None, float(hi)])

# multiple comparisons
for ps in [[0.01, 0.04, 0.03, 0.5, 0.001], [0.2, 0.2, 0.2], [1e-10, 0.049, 0.051, 0.9, 0.3, 0.0125], [0.04], [0.6, 0.7, 0.01, 0.02]]:
    for method, name in [("holm", "holm"), ("fdr_bh", "bh")]:
        adj = multipletests(ps, method=method)[1]
        add("multitest", f"statsmodels.stats.multitest.multipletests({ps}, method='{method}')[1]", [ps, name], [float(x) for x in adj])

# arcsine sample size: NormalIndPower().solve_power(effect_size=proportion_effectsize(p2, p1), ...)
power = NormalIndPower()
for p1, d, alpha, pw, K, alt in [
    (0.1, 0.01, 0.05, 0.8, 1, "two-sided"),
    (0.1, 0.01, 0.05, 0.8, 2.5, "one-sided"),
    (0.001, 0.0005, 0.05, 0.8, 1, "two-sided"),
    (0.05, 0.005, 0.01, 0.9, 1, "two-sided"),
    (0.5, -0.02, 0.05, 0.8, 0.5, "two-sided"),
    (0.97, 0.02, 0.05, 0.8, 1, "two-sided"),
    (0.2, 0.1, 0.05 / 3, 0.8, 1, "two-sided"),
    (0.3, 0.2, 0.2, 0.5, 1, "two-sided"),
]:
    h = proportion_effectsize(p1 + d, p1)
    a = "two-sided" if alt == "two-sided" else ("larger" if d > 0 else "smaller")
    n = power.solve_power(effect_size=h, alpha=alpha, power=pw, ratio=K, alternative=a)
    # solve_power stops at a power residual of ~1e-9; the same power function solved tightly:
    tight = brentq(lambda n1: power.power(effect_size=h, nobs1=n1, alpha=alpha, ratio=K, alternative=a) - pw,
                   n / 2, n * 2, xtol=1e-300, rtol=1e-15)
    add(
        "arcsine",
        f"statsmodels.stats.power.NormalIndPower().solve_power(effect_size=proportion_effectsize({p1 + d!r}, {p1}), alpha={alpha!r}, power={pw}, ratio={K}, alternative='{a}'); and scipy.optimize.brentq on NormalIndPower().power(…) - {pw} (rtol=1e-15)",
        [p1, d, alpha, pw, K, alt],
        [float(n), float(tight)],
    )

# continuous, one-sided: statsmodels has no far tail there, so it equals the closed form
for d, s, alpha, pw, K in [(0.3, 4.0, 0.05, 0.8, 1), (1.5, 20.0, 0.01, 0.9, 3)]:
    n = power.solve_power(effect_size=d / s, alpha=alpha, power=pw, ratio=K, alternative="larger")
    add("continuous_sm", f"statsmodels.stats.power.NormalIndPower().solve_power(effect_size={d}/{s}, alpha={alpha}, power={pw}, ratio={K}, alternative='larger')",
        [d, s, alpha, pw, K], float(n))

# arcsine MDE: the effect size detectable with nobs1 control units
for p1, n1, alpha, pw, K, alt in [(0.1, 14745, 0.05, 0.8, 1, "two-sided"), (0.02, 5000, 0.05, 0.8, 2, "one-sided"),
                                  (0.2, 5000, 0.05, 0.8, 1, "two-sided")]:
    a = "two-sided" if alt == "two-sided" else "larger"
    # solve_power(nobs1=…) leaves a power residual up to 2e-5 (effect size off by 3.5e-5 relative),
    # so the effect size is solved tightly on statsmodels' own power function
    h = brentq(lambda h: power.power(effect_size=h, nobs1=n1, alpha=alpha, ratio=K, alternative=a) - pw,
               1e-9, math.pi, xtol=1e-300, rtol=1e-15)
    p2 = math.sin(math.asin(math.sqrt(p1)) + h / 2) ** 2
    add("arcsine_mde", f"scipy.optimize.brentq(lambda h: statsmodels.stats.power.NormalIndPower().power(effect_size=h, nobs1={n1}, alpha={alpha}, ratio={K}, alternative='{a}') - {pw}, …) -> h; p2 = sin(asin(sqrt({p1})) + h/2)**2",
        [p1, n1, alpha, pw, K, alt], p2 - p1)

json.dump(out, sys.stdout)
