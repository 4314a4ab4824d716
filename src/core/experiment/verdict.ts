import { adjustPValues, sequentialUnitsPerArm, unitsPerArmToDetect, type Alternative } from '../stats/index.js';
import type { Compared } from './compare.js';
import type { AnalysisOptions, OverallVerdict, UnitsNeeded } from './report.js';

/**
 * From comparisons to decisions: the family-wise correction, each comparison's verdict, each
 * treatment arm's verdict, the overall verdict and the extra units a keep_running verdict needs.
 */

/** A comparison with its metric's role. */
export interface Pending extends Compared {
  metric: string;
  guardrail: boolean;
  lowerIsBetter: boolean;
}

/**
 * The primary metrics' comparisons form one family (corrected together); guardrails are not
 * corrected. Sets p_value_adjusted, significant, verdict and (inconclusive primaries) units_needed.
 */
export function decideComparisons(pending: Pending[], opts: AnalysisOptions): void {
  const primary = pending.filter((p) => !p.guardrail);
  const adjusted = adjustPValues(
    primary.map((p) => p.decisionP),
    opts.correction,
  );
  primary.forEach((p, i) => (p.report.p_value_adjusted = adjusted[i]!));
  for (const p of pending.filter((x) => x.guardrail)) p.report.p_value_adjusted = p.decisionP;

  for (const p of pending) {
    const r = p.report;
    r.significant = r.p_value_adjusted < opts.alpha;
    const d = r.difference.estimate;
    const good = p.lowerIsBetter ? d < 0 : d > 0;
    if (!r.significant) r.verdict = 'inconclusive';
    else if (!p.guardrail && opts.margin !== undefined) r.verdict = 'non_inferior';
    else if (d === 0) r.verdict = 'inconclusive';
    else r.verdict = good ? 'treatment_better' : 'treatment_worse';
    if (!p.guardrail && r.verdict === 'inconclusive') {
      const alphaEach = opts.correction === 'none' ? opts.alpha : opts.alpha / primary.length;
      const mde = designMde(p.metric, opts);
      const observed = unitsFor(p, p.report.difference.estimate, alphaEach, opts, false);
      if (mde === undefined) {
        r.units_needed = observed && { ...observed, basis: 'observed_effect', effect: p.report.difference.estimate };
      } else {
        const planned = opts.design?.perVariant;
        const need = planned && !opts.sequential ? planned : unitsFor(p, mde, alphaEach, opts, true);
        r.units_needed = need && {
          ...need,
          basis: 'design',
          effect: mde,
          horizon: opts.sequential ? 'sequential' : 'fixed',
        };
        r.observed_effect_units_needed = observed && { control: observed.control, treatment: observed.treatment };
      }
    }
  }
}

/** Per treatment arm: dont_ship (guardrail hit or a primary worse), ship, or keep_running; with reasons. */
export function armVerdicts(
  treatments: string[],
  control: string,
  pending: Pending[],
  opts: AnalysisOptions,
  reasons: string[],
): { variant: string; verdict: OverallVerdict }[] {
  return treatments.map((variant) => {
    const mine = pending.filter((p) => p.report.variant === variant);
    const blocked = mine.filter((p) => p.guardrail && p.report.verdict === 'treatment_worse');
    const worse = mine.filter((p) => !p.guardrail && p.report.verdict === 'treatment_worse');
    const better = mine.filter(
      (p) => !p.guardrail && (p.report.verdict === 'treatment_better' || p.report.verdict === 'non_inferior'),
    );
    let verdict: OverallVerdict;
    if (blocked.length > 0) {
      verdict = 'dont_ship';
      reasons.push(
        `${variant}: guardrail ${blocked.map((b) => b.metric).join(', ')} moved significantly in the bad direction`,
      );
    } else if (worse.length > 0) {
      verdict = 'dont_ship';
      reasons.push(`${variant}: ${worse.map((b) => b.metric).join(', ')} significantly worse than ${control}`);
    } else if (better.length > 0) {
      verdict = 'ship';
      reasons.push(
        `${variant}: ${better.map((b) => b.metric).join(', ')} ${opts.margin !== undefined ? 'non-inferior to' : 'significantly better than'} ${control}, no primary metric worse, no guardrail hit`,
      );
    } else {
      verdict = 'keep_running';
      reasons.push(`${variant}: no primary metric significant yet`);
    }
    return { variant, verdict };
  });
}

/** Overall: dont_ship on a sample-ratio mismatch, else ship if any arm ships, else keep_running if any runs. */
export function overallVerdict(srmOk: boolean, arms: { verdict: OverallVerdict }[]): OverallVerdict {
  if (!srmOk) return 'dont_ship';
  if (arms.some((a) => a.verdict === 'ship')) return 'ship';
  if (arms.some((a) => a.verdict === 'keep_running')) return 'keep_running';
  return 'dont_ship';
}

/**
 * For keep_running: the smallest extra sample (all arms together) at which some still-running
 * arm's primary effect would be detected; null when no comparison can say.
 */
export function additionalUnits(
  arms: { variant: string; verdict: OverallVerdict }[],
  pending: Pending[],
): { units: number | null; basis: 'design' | 'observed_effect' } {
  const candidates: number[] = [];
  let basis: 'design' | 'observed_effect' = 'observed_effect';
  let unknowable = false;
  for (const a of arms.filter((x) => x.verdict === 'keep_running')) {
    for (const p of pending.filter((x) => !x.guardrail && x.report.variant === a.variant)) {
      const need = p.report.units_needed;
      if (need?.basis === 'design') basis = 'design';
      if (need === null || need === undefined) {
        unknowable = true;
        continue;
      }
      const nc = p.props?.c.n ?? p.means!.c.n;
      const nt = p.props?.t.n ?? p.means!.t.n;
      candidates.push(Math.max(0, need.control - nc) + Math.max(0, need.treatment - nt));
    }
  }
  return { units: candidates.length > 0 ? Math.min(...candidates) : unknowable ? null : 0, basis };
}

/** The design's absolute MDE for a metric (its own, else the one for every primary metric). */
function designMde(metric: string, opts: AnalysisOptions): number | undefined {
  return opts.design?.mde[metric] ?? opts.design?.mde['*'];
}

/**
 * Units per arm at which a difference `effect` would be detected with the requested power at the
 * level of one comparison in the family (α/m for Holm, Bonferroni and BH — their strictest step —
 * α without correction): the fixed-horizon formulas (pooled z for rates, noncentral t for means) or,
 * under --sequential, the confidence sequence's (sequentialUnitsPerArm). Proportions use the
 * design's baseline when given, else the observed control rate; means the design's sd, else the
 * pooled one. Null when no sample would do (a zero effect, or one on the untested side).
 */
function unitsFor(
  p: Compared,
  effect: number,
  alpha: number,
  opts: AnalysisOptions,
  fromDesign: boolean,
): Omit<UnitsNeeded, 'basis' | 'effect'> | null {
  const alternative: Alternative = p.report.alternative;
  // A design's MDE points the tested way; an observed effect on the other side is undetectable.
  if (fromDesign && alternative !== 'two-sided')
    effect = alternative === 'greater' ? Math.abs(effect) : -Math.abs(effect);
  if ((alternative === 'greater' && !(effect > 0)) || (alternative === 'less' && !(effect < 0))) return null;
  const horizon = opts.sequential ? 'sequential' : 'fixed';
  let v1: number;
  let v2: number;
  let ratio: number;
  let fixed: () => { control: number; treatment: number } | null;
  if (p.props) {
    const { c, t } = p.props;
    const p1 = fromDesign && opts.design?.baseline !== undefined ? opts.design.baseline : c.conversions / c.n;
    const p2 = p1 + effect;
    if (!(p2 >= 0 && p2 <= 1)) return null;
    [v1, v2, ratio] = [p1 * (1 - p1), p2 * (1 - p2), t.n / c.n];
    fixed = () => unitsPerArmToDetect({ effect, baseline: p1, alpha, power: opts.power, alternative, ratio });
  } else {
    const { c, t } = p.means!;
    // A pooled sd, weighting the arms by their size.
    const pooled = Math.sqrt(((c.n - 1) * c.variance + (t.n - 1) * t.variance) / (c.n + t.n - 2));
    const sd = fromDesign && opts.design?.sd !== undefined ? opts.design.sd : pooled;
    if (!(sd > 0)) return null;
    [v1, v2, ratio] = [sd * sd, sd * sd, t.n / c.n];
    fixed = () => unitsPerArmToDetect({ effect, sd, alpha, power: opts.power, alternative, ratio });
  }
  const need = opts.sequential
    ? sequentialUnitsPerArm({
        effect,
        varianceControl: v1,
        varianceTreatment: v2,
        alpha,
        power: opts.power,
        alternative,
        ratio,
        tuning: opts.tuning,
      })
    : fixed();
  return need && { ...need, horizon };
}
