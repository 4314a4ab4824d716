# Reference values of test/stats/noncentral-t.test.ts and the sample-size tests (R 4.2, Debian r-base-core).
# Run: Rscript scripts/reference/power-t.R
options(digits = 17)
for (a in list(c(2, 10, 1.5), c(1.96, 58, 2.8), c(-1, 5, 0.5), c(3, 3, -1), c(2.5, 1000, 2.9), c(0.3, 2.5, 4), c(1.6, 20, 0)))
  cat("pt(", a[1], ",", a[2], ",", a[3], ") =", pt(a[1], a[2], a[3]), "\n")
# power.t.test's default tol (eps^0.25) is tightened so the references are exact to ~1e-12
print(power.t.test(delta = 0.3, sd = 4.1, sig.level = 0.05, power = 0.8, strict = TRUE, tol = 1e-13)$n)
print(power.t.test(delta = 0.3, sd = 4.1, sig.level = 0.05 / 3, power = 0.8, alternative = "one.sided", tol = 1e-13)$n)
print(power.t.test(delta = 1.5, sd = 20, sig.level = 0.01 / 4, power = 0.9, strict = TRUE, tol = 1e-13)$n)
print(power.t.test(n = 2933, delta = 0.3, sd = 4.1, strict = TRUE)$power)
print(power.t.test(n = 1000, sd = 4.1, power = 0.8, strict = TRUE, tol = 1e-13)$delta)
print(power.prop.test(p1 = 0.045, p2 = 0.0495, sig.level = 0.05 / 4, power = 0.8, tol = 1e-13)$n)
