import { criticalValue, type Alternative, type Interval } from './alternative.js';
import type { Estimate } from './difference-interval.js';
import type { ProportionArm } from './two-proportion-z-test.js';

/** How the interval of a difference in proportions is formed (`mlv analyze --ci`). */
export type DifferenceCiMethod = 'wald' | 'newcombe' | 'agresti-caffo';

const clamp = (x: number) => Math.max(-1, Math.min(1, x));

/**
 * The Wilson score interval of one proportion, optionally with a continuity correction, as R's
 * prop.test(x, n, correct = …)$conf.int computes it: with p̂ = x/n, y = ½ (corrected) or 0,
 *   upper = (p_u + z²/2n + z·√(p_u(1 − p_u)/n + z²/4n²)) / (1 + z²/n),  p_u = p̂ + y/n (1 if p_u ≥ 1)
 *   lower = (p_l + z²/2n − z·√(p_l(1 − p_l)/n + z²/4n²)) / (1 + z²/n),  p_l = p̂ − y/n (0 if p_l ≤ 0)
 * z = Φ⁻¹(1 − α/2) two-sided, Φ⁻¹(1 − α) for a one-sided bound (the other end then 0 or 1).
 *
 * Reference: E. B. Wilson, JASA 22 (1927) 209–212; R. G. Newcombe, "Two-sided confidence intervals
 * for the single proportion", Stat. Med. 17 (1998) 857–872, methods 3 and 4; R's prop.test.
 * @example wilsonInterval({ conversions: 9, n: 21 }, 0.05) // [0.2446996892537596, 0.6345344563069328]
 */
export function wilsonInterval(
  arm: ProportionArm,
  alpha: number,
  alternative: Alternative = 'two-sided',
  continuity = false,
): [number, number] {
  const { conversions: x, n } = arm;
  const z = criticalValue(alpha, alternative);
  const p = x / n;
  const y = continuity ? 0.5 : 0;
  const z22n = (z * z) / (2 * n);
  const bound = (pc: number, sign: 1 | -1) =>
    (pc + z22n + sign * z * Math.sqrt((pc * (1 - pc)) / n + z22n / (2 * n))) / (1 + 2 * z22n);
  const pu = p + y / n;
  const pl = p - y / n;
  const upper = pu >= 1 ? 1 : bound(pu, 1);
  const lower = pl <= 0 ? 0 : bound(pl, -1);
  return [alternative === 'less' ? 0 : lower, alternative === 'greater' ? 1 : upper];
}

/**
 * Interval of p̂_t − p̂_c, by `method`:
 *   wald:          (p̂_t − p̂_c) ± (z·√(p̂_t q̂_t/n_t + p̂_c q̂_c/n_c) + y·(1/n_t + 1/n_c)), with the continuity
 *                  correction y = min(½, |p̂_t − p̂_c|/(1/n_t + 1/n_c)) or 0 — R's prop.test(c(x_t, x_c),
 *                  c(n_t, n_c), correct = …)$conf.int;
 *   newcombe:      Newcombe's hybrid score interval (method 10; 11 with the correction) from the Wilson
 *                  intervals [l_t, u_t], [l_c, u_c]:
 *                  [d − √((p̂_t − l_t)² + (u_c − p̂_c)²),  d + √((u_t − p̂_t)² + (p̂_c − l_c)²)];
 *   agresti-caffo: Wald on p̃ = (x + 1)/(n + 2) with ñ = n + 2 (one success and one failure added to each arm).
 * Ends are clamped to [−1, 1]; one-sided intervals are open (null) at the far end.
 *
 * Reference: R. G. Newcombe, "Interval estimation for the difference between independent proportions:
 * comparison of eleven methods", Stat. Med. 17 (1998) 873–890; A. Agresti & B. Caffo, "Simple and
 * effective confidence intervals for proportions and differences of proportions result from adding two
 * successes and two failures", Am. Stat. 54 (2000) 280–288; R's prop.test (wald).
 * @example proportionDifferenceCi({ conversions: 9, n: 21 }, { conversions: 3, n: 20 }, 0.05, 'newcombe').ci // [-0.000865353471476038, 0.5065026255845922]
 */
export function proportionDifferenceCi(
  treatment: ProportionArm,
  control: ProportionArm,
  alpha: number,
  method: DifferenceCiMethod,
  alternative: Alternative = 'two-sided',
  continuity = false,
): Estimate {
  const pt = treatment.conversions / treatment.n;
  const pc = control.conversions / control.n;
  const d = pt - pc;
  const se = Math.sqrt((pt * (1 - pt)) / treatment.n + (pc * (1 - pc)) / control.n);
  let lo: number;
  let hi: number;
  if (method === 'newcombe') {
    // One-sided: the two-sided Wilson intervals at level 1 − 2α give the one-sided bounds at 1 − α.
    const a = alternative === 'two-sided' ? alpha : 2 * alpha;
    const [lt2, ut2] = wilsonInterval(treatment, a, 'two-sided', continuity);
    const [lc, uc] = wilsonInterval(control, a, 'two-sided', continuity);
    lo = d - Math.sqrt((pt - lt2) ** 2 + (uc - pc) ** 2);
    hi = d + Math.sqrt((ut2 - pt) ** 2 + (pc - lc) ** 2);
  } else {
    const z = criticalValue(alpha, alternative);
    if (method === 'agresti-caffo') {
      const qt = (treatment.conversions + 1) / (treatment.n + 2);
      const qc = (control.conversions + 1) / (control.n + 2);
      const w = z * Math.sqrt((qt * (1 - qt)) / (treatment.n + 2) + (qc * (1 - qc)) / (control.n + 2));
      lo = qt - qc - w;
      hi = qt - qc + w;
    } else {
      const inv = 1 / treatment.n + 1 / control.n;
      const y = continuity ? Math.min(0.5, Math.abs(d) / inv) : 0;
      const w = z * se + y * inv;
      lo = d - w;
      hi = d + w;
    }
  }
  const ci: Interval = [alternative === 'less' ? null : clamp(lo), alternative === 'greater' ? null : clamp(hi)];
  return { estimate: d, se, ci };
}
