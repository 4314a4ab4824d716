import { formatNumber, groupDigits } from '../format.js';
import type { Interval } from '../stats/index.js';
import type { DailySeries } from './daily.js';
import type { ExperimentPlan } from './plan.js';
import type { AnalysisResult, ComparisonReport, MetricReport } from './report.js';

/**
 * What the HTML and Markdown reports are made from: the analysis with what the command adds (the
 * input form, the plan, the daily series, the command line) — `mlv analyze --json` printed this.
 * Number formatting shared by both reports.
 */
export type ReportDocument = AnalysisResult & {
  source: string;
  command: string;
  plan?: ExperimentPlan;
  daily?: DailySeries[];
  days?: number;
};

export function fmtP(p: number): string {
  if (p === 0) return '< 1e-300';
  if (p < 1e-4) return p.toExponential(1);
  return p.toFixed(4);
}

export function fmtPct(x: number | null, digits = 2, sign = false): string {
  if (x === null || !Number.isFinite(x)) return '-';
  const s = (x * 100).toFixed(digits) + '%';
  return sign && x >= 0 ? '+' + s : s;
}

export function fmtNum(x: number | null, sign = false, digits = 5): string {
  if (x === Infinity) return '∞'; // an odds ratio at the end of its support
  return formatNumber(x, { digits, small: 1e-4, large: 1e7, expDigits: digits - 1, dashNonFinite: true, sign });
}

/** The difference in the metric's unit: percentage points for rates. */
export function fmtDiff(m: MetricReport, x: number | null): string {
  if (x === null) return '-';
  return m.type === 'proportion' ? `${fmtNum(x * 100, true, 3)} pp` : fmtNum(x, true, 4);
}

export function fmtInterval(ci: Interval, f: (x: number) => string): string {
  return `[${ci[0] === null ? '−∞' : f(ci[0])}, ${ci[1] === null ? '+∞' : f(ci[1])}]`;
}

/** "95% CI" or, under --sequential, "95% CS" (confidence sequence). */
export function levelLabel(r: AnalysisResult): string {
  return `${Number(((1 - r.settings.alpha) * 100).toPrecision(4))}% ${r.settings.sequential ? 'CS' : 'CI'}`;
}

export function verdictLabel(v: string): string {
  return v.toUpperCase().replace('_', ' ');
}

/** The keep_running sentence of the reports (what the extra units are for). */
export function moreUnitsText(r: AnalysisResult): string | undefined {
  if (r.verdict !== 'keep_running' || r.additional_units_needed === undefined) return undefined;
  const how = r.settings.sequential ? ' (confidence sequence)' : '';
  const n = r.additional_units_needed;
  if (r.additional_units_basis === 'design') {
    if (n === null) return "the design's MDE lies on the side the test does not look at";
    if (n === 0) return "the design's sample is reached: any effect is smaller than the MDE it was sized for";
    return `about ${groupDigits(n)} more units to detect the design's MDE${how}`;
  }
  if (n === null) {
    return 'the observed effect is zero or on the side the test does not look at, so no sample size would detect it; give --mde or --plan';
  }
  if (n === 0) return 'the observed effect is already at a detectable size';
  return `about ${groupDigits(n)} more units for the observed effect to be significant${how} (no design: give --mde or --plan)`;
}

/** One table row per arm: the arm's centre and, for treatments, the comparison. */
export function armRows(m: MetricReport): { arm: MetricReport['arms'][number]; c?: ComparisonReport; i: number }[] {
  return m.arms.map((arm, i) => {
    const c = m.comparisons.find((x) => x.variant === arm.variant);
    return c ? { arm, c, i } : { arm, i };
  });
}

/** The omnibus test's name, statistic symbol and degrees of freedom, for the report lines. */
export function omnibusParts(o: NonNullable<MetricReport['omnibus']>): { name: string; symbol: string; df: string } {
  const chi = o.test === 'chi2';
  return {
    name: chi ? 'χ²' : 'Welch ANOVA',
    symbol: chi ? 'X²' : 'F',
    df: o.df2 === undefined ? String(o.df) : `${o.df}, ${fmtNum(o.df2)}`,
  };
}
