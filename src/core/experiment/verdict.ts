import { adjustPValues } from '../stats/index.js';
import type { Compared } from './compare.js';
import { unitsNeededForEffect } from './extras.js';
import type { AnalysisOptions, ComparisonReport, OverallVerdict } from './report.js';

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
      r.units_needed = unitsNeeded(p, opts);
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
): number | null {
  const candidates: number[] = [];
  let unknowable = false;
  for (const a of arms.filter((x) => x.verdict === 'keep_running')) {
    for (const p of pending.filter((x) => !x.guardrail && x.report.variant === a.variant)) {
      const need = p.report.units_needed;
      if (need === null || need === undefined) {
        unknowable = true;
        continue;
      }
      const nc = p.props?.c.n ?? p.means!.c.n;
      const nt = p.props?.t.n ?? p.means!.t.n;
      candidates.push(Math.max(0, need.control - nc) + Math.max(0, need.treatment - nt));
    }
  }
  return candidates.length > 0 ? Math.min(...candidates) : unknowable ? null : 0;
}

/** Units per arm at which the observed difference would be significant with the requested power. */
function unitsNeeded(p: Compared, opts: AnalysisOptions): ComparisonReport['units_needed'] {
  const alternative = p.report.alternative;
  if (p.props) {
    const { c, t } = p.props;
    return unitsNeededForEffect(
      { type: 'proportion', baseline: c.conversions / c.n, treatment: t.conversions / t.n, ratio: t.n / c.n },
      opts.alpha,
      opts.power,
      alternative,
    );
  }
  const { c, t } = p.means!;
  return unitsNeededForEffect(
    {
      type: 'mean',
      difference: t.mean - c.mean,
      // A pooled sd, weighting the arms by their size.
      sd: Math.sqrt(((c.n - 1) * c.variance + (t.n - 1) * t.variance) / (c.n + t.n - 2)),
      ratio: t.n / c.n,
    },
    opts.alpha,
    opts.power,
    alternative,
  );
}
