# Reference values of the Welch ANOVA tests (R 4.2, Debian r-base-core). Run: Rscript scripts/reference/welch-anova.R
options(digits=17)
# Welch's ANOVA from summary statistics: build samples with exactly the given mean and sd
arm <- function(m, s, n) { z <- scale(seq_len(n))[, 1]; m + s * z }
w <- function(ms, ss, ns) { y <- unlist(mapply(arm, ms, ss, ns, SIMPLIFY = FALSE)); g <- factor(rep(seq_along(ns), ns)); r <- oneway.test(y ~ g, var.equal = FALSE); print(c(r$statistic, r$parameter, r$p.value)) }
w(c(12.3, 12.6, 12.4), c(4.1, 4.2, 4.0), c(5000, 5000, 5000))
w(c(3.5, 5, 4.1, 3.9), c(1, 3, 2, 1.5), c(40, 12, 20, 15))
