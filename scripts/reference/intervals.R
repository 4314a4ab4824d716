options(digits=17)
# R's fisher.test internals (stats:::fisher.test, 2x2 branch) with uniroot tol tightened to 1e-13
fisher_or <- function(x, m, n, k, conf.level=0.95, alternative="two.sided", tol=1e-13) {
  lo <- max(0L, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dnhyper <- function(ncp) { d <- logdc + log(ncp) * support; d <- exp(d - max(d)); d/sum(d) }
  mnhyper <- function(ncp) { if (ncp == 0) return(lo); if (ncp == Inf) return(hi); sum(support * dnhyper(ncp)) }
  pnhyper <- function(q, ncp, upper.tail = FALSE) {
    if (ncp == 1) { return(if (upper.tail) phyper(x - 1, m, n, k, lower.tail = FALSE) else phyper(x, m, n, k)) }
    if (ncp == 0) { return(as.numeric(if (upper.tail) q <= lo else q >= lo)) }
    if (ncp == Inf) { return(as.numeric(if (upper.tail) q <= hi else q >= hi)) }
    sum(dnhyper(ncp)[if (upper.tail) support >= q else support <= q]) }
  mle <- function(x) { if (x == lo) return(0); if (x == hi) return(Inf); mu <- mnhyper(1)
    if (mu > x) uniroot(function(t) mnhyper(t) - x, c(0, 1), tol=tol)$root
    else if (mu < x) 1/uniroot(function(t) mnhyper(1/t) - x, c(.Machine$double.eps, 1), tol=tol)$root else 1 }
  ncp.U <- function(x, alpha) { if (x == hi) return(Inf); p <- pnhyper(x, 1)
    if (p < alpha) uniroot(function(t) pnhyper(x, t) - alpha, c(0, 1), tol=tol)$root
    else if (p > alpha) 1/uniroot(function(t) pnhyper(x, 1/t) - alpha, c(.Machine$double.eps, 1), tol=tol)$root else 1 }
  ncp.L <- function(x, alpha) { if (x == lo) return(0); p <- pnhyper(x, 1, upper.tail = TRUE)
    if (p > alpha) uniroot(function(t) pnhyper(x, t, upper.tail = TRUE) - alpha, c(0, 1), tol=tol)$root
    else if (p < alpha) 1/uniroot(function(t) pnhyper(x, 1/t, upper.tail = TRUE) - alpha, c(.Machine$double.eps, 1), tol=tol)$root else 1 }
  ci <- switch(alternative, less = c(0, ncp.U(x, 1 - conf.level)), greater = c(ncp.L(x, 1 - conf.level), Inf),
    two.sided = { alpha <- (1 - conf.level)/2; c(ncp.L(x, alpha), ncp.U(x, alpha)) })
  c(mle(x), ci)
}
# table [[x_t, n_t-x_t],[x_c, n_c-x_c]]: x = x_t, m = x_t + x_c, n = N - m, k = n_t
f <- function(xt, nt, xc, nc, ...) fisher_or(xt, xt + xc, nt + nc - xt - xc, nt, ...)
print(f(9, 21, 3, 20)); print(f(9,21,3,20, alternative="greater")); print(f(9,21,3,20, alternative="less"))
print(f(520, 10000, 450, 10000)); print(f(3, 50, 0, 50))
print(fisher.test(matrix(c(520,9480,450,9550),2,byrow=TRUE))$conf.int)
# Newcombe hybrid score, from Wilson intervals of prop.test (Newcombe 1998, methods 10 and 11)
newcombe <- function(xt, nt, xc, nc, conf=0.95, correct=FALSE) {
  wt <- prop.test(xt, nt, conf.level=conf, correct=correct)$conf.int; wc <- prop.test(xc, nc, conf.level=conf, correct=correct)$conf.int
  pt <- xt/nt; pc <- xc/nc; d <- pt - pc
  c(d - sqrt((pt - wt[1])^2 + (wc[2] - pc)^2), d + sqrt((wt[2] - pt)^2 + (pc - wc[1])^2)) }
print(newcombe(9,21,3,20)); print(newcombe(9,21,3,20,correct=TRUE)); print(newcombe(9,21,3,20,conf=0.9)[1])
print(newcombe(520,10000,450,10000)); print(newcombe(3,50,0,50))
# Agresti-Caffo
ac <- function(xt, nt, xc, nc, conf=0.95) { qt <- (xt+1)/(nt+2); qc <- (xc+1)/(nc+2); z <- qnorm(1-(1-conf)/2)
  w <- z*sqrt(qt*(1-qt)/(nt+2) + qc*(1-qc)/(nc+2)); c(qt-qc-w, qt-qc+w) }
print(ac(9,21,3,20))
print(prop.test(c(9,3),c(21,20),correct=TRUE, alternative="greater")$conf.int)
# Katz log ratio
katz <- function(xt, nt, xc, nc, conf=0.95) { r <- (xt/nt)/(xc/nc); se <- sqrt(1/xt - 1/nt + 1/xc - 1/nc); z <- qnorm(1-(1-conf)/2); exp(log(r) + c(-1,1)*z*se) - 1 }
print(katz(520,10000,450,10000)); print(katz(9,21,3,20))
# chisq k x 2
print(chisq.test(matrix(c(450,520,505,9550,9480,9495),ncol=2))[c("statistic","p.value")])
print(chisq.test(matrix(c(0,3,50,47),ncol=2))$expected)
# Katz-style log ratio for means (delta method on the log, Student t with the Welch df)
welch_logratio <- function(mt, st, nt, mc, sc, nc, conf = 0.95) {
  vt <- st^2/nt; vc <- sc^2/nc; df <- (vt + vc)^2/(vt^2/(nt - 1) + vc^2/(nc - 1))
  se <- sqrt(vt/mt^2 + vc/mc^2); exp(log(mt/mc) + c(-1, 1) * qt(1 - (1 - conf)/2, df) * se) - 1 }
print(welch_logratio(12.6, 4.2, 5000, 12.3, 4.1, 5000))
print(f(7, 10, 2, 10))
print(fisher.test(matrix(c(7, 3, 2, 8), 2, byrow = TRUE))$estimate)
