import { sequentialTest } from '../stats/sequential.js';
import { fmtValue } from './expression.js';

export interface ErrorCounts {
  requests: number;
  errors: number;
}

export interface NotWorseResult {
  verdict: 'worse' | 'not_worse' | 'insufficient';
  /** Candidate error rate minus stable's (null without requests on either side). */
  difference: number | null;
  /** Always-valid one-sided p-value of H0: difference ≤ margin. */
  p_value: number | null;
  /** Lower end of the one-sided (1 − α) confidence sequence for the difference. */
  ci_lower: number | null;
  detail: string;
}

const pct = (x: number) => `${fmtValue(100 * x)}%`;

/**
 * "The candidate's error rate is not worse than stable's", judged by an always-valid one-sided
 * sequential test, so checking it at every interval does not inflate false alarms (rollbacks of a
 * good candidate stay ≤ α over the whole step):
 *   d = p_c − p_s,  se = √(p_c(1 − p_c)/n_c + p_s(1 − p_s)/n_s)  (unpooled, as analyze's interval)
 *   H0: d ≤ margin vs H1: d > margin → sequentialTest(d − margin, se, n_c + n_s, α, 'greater')
 *   worse iff the always-valid p < α.
 * Counts are cumulative since the step began (the confidence sequence is over the step's data).
 * With no errors on either side se = 0 and p = 1 (not worse).
 *
 * Reference: src/core/stats/sequential.ts (Waudby-Smith et al., GrowthBook's one-sided sequential test).
 * @example errorRateNotWorse({ requests: 1000, errors: 40 }, { requests: 1000, errors: 5 }, 0.05, 0).verdict // 'worse'
 */
export function errorRateNotWorse(
  candidate: ErrorCounts,
  stable: ErrorCounts,
  alpha: number,
  margin: number,
  tuning = 5000,
): NotWorseResult {
  if (candidate.requests <= 0 || stable.requests <= 0) {
    return {
      verdict: 'insufficient',
      difference: null,
      p_value: null,
      ci_lower: null,
      detail: `no requests on ${candidate.requests <= 0 ? 'the candidate' : 'stable'} yet`,
    };
  }
  const pc = candidate.errors / candidate.requests;
  const ps = stable.errors / stable.requests;
  const d = pc - ps;
  const se = Math.sqrt((pc * (1 - pc)) / candidate.requests + (ps * (1 - ps)) / stable.requests);
  const r = sequentialTest(d - margin, se, candidate.requests + stable.requests, alpha, 'greater', tuning);
  const worse = r.pValue < alpha;
  const lower = r.ci[0] === null ? null : r.ci[0] + margin;
  return {
    verdict: worse ? 'worse' : 'not_worse',
    difference: d,
    p_value: r.pValue,
    ci_lower: lower,
    detail: `${pct(pc)} vs stable ${pct(ps)} (${candidate.requests} vs ${stable.requests} requests): ${
      worse ? 'worse' : 'not shown worse'
    }, always-valid p = ${fmtValue(r.pValue)} ${worse ? '<' : '≥'} ${alpha}`,
  };
}
