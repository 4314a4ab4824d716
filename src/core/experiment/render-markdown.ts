import {
  armRows,
  fmtDiff,
  fmtInterval,
  fmtNum,
  fmtP,
  fmtPct,
  levelLabel,
  moreUnitsText,
  omnibusParts,
  verdictLabel,
  type ReportDocument,
} from './render-format.js';
import type { MetricReport } from './report.js';

/**
 * `mlv analyze --md`: the tables of the HTML report as GitHub-flavoured Markdown, for a pull
 * request or an experiment log.
 */

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(head: string[], rows: string[][]): string[] {
  const align = head.map((_, i) => (i === 0 ? ':--' : '--:'));
  return [head, align, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`);
}

function metricTable(r: ReportDocument, m: MetricReport): string[] {
  const rate = m.type === 'proportion';
  const level = levelLabel(r);
  const lines = [
    `### ${m.name} (${[m.type, m.role, m.direction === 'lower_is_better' ? 'lower is better' : ''].filter(Boolean).join(', ')})`,
    '',
  ];
  lines.push(
    ...table(
      [
        'variant',
        'units',
        rate ? 'rate' : 'mean',
        `difference (${level})`,
        `relative (${level})`,
        r.settings.sequential ? 'p (sequential)' : 'p',
        'p adjusted',
        'verdict',
      ],
      armRows(m).map(({ arm, c }) => {
        const centre = rate ? fmtPct(arm.rate ?? null) : fmtNum(arm.mean ?? null);
        if (!c)
          return [
            arm.variant === 'control' ? arm.variant : `${arm.variant} (control)`,
            arm.n.toLocaleString('en-US'),
            centre,
            '',
            '',
            '',
            '',
            '',
          ];
        return [
          arm.variant,
          arm.n.toLocaleString('en-US'),
          centre,
          `${fmtDiff(m, c.difference.estimate)} ${fmtInterval(c.difference.ci, (x) => fmtDiff(m, x))}`,
          c.relative_uplift.estimate === null
            ? '-'
            : `${fmtPct(c.relative_uplift.estimate, 2, true)} ${fmtInterval(c.relative_uplift.ci, (x) => fmtPct(x, 2, true))}`,
          fmtP(c.p_value),
          fmtP(c.p_value_adjusted),
          c.verdict,
        ];
      }),
    ),
  );
  const notes: string[] = [];
  if (m.omnibus) {
    notes.push(
      `omnibus ${omnibusParts(m.omnibus).name} over all ${m.arms.length} arms: ${omnibusParts(m.omnibus).symbol} = ${fmtNum(m.omnibus.statistic)}, df ${omnibusParts(m.omnibus).df}, p = ${fmtP(m.omnibus.p_value)}`,
    );
  }
  for (const c of m.comparisons) {
    if (c.odds_ratio) {
      notes.push(
        `${c.variant}: odds ratio ${fmtNum(c.odds_ratio.estimate)} (conditional MLE), exact ${fmtInterval(c.odds_ratio.ci, (x) => fmtNum(x))}`,
      );
    }
    if (c.fixed_horizon) {
      notes.push(
        `${c.variant}: fixed-horizon (valid only at the planned end): p = ${fmtP(c.fixed_horizon.p_value)}, CI ${fmtInterval(c.fixed_horizon.difference_ci, (x) => fmtDiff(m, x))}`,
      );
    }
  }
  if (notes.length > 0) lines.push('', ...notes.map((x) => `- ${x}`));
  lines.push('');
  return lines;
}

export function renderMarkdownReport(r: ReportDocument): string {
  const out: string[] = [];
  out.push(
    `## ${r.experiment !== undefined ? `Experiment ${r.experiment}` : 'Experiment analysis'}: **${verdictLabel(r.verdict)}**`,
    '',
  );
  const more = moreUnitsText(r);
  if (more) out.push(more, '');
  out.push(...r.verdict_reasons.map((x) => `- ${x}`), '');
  if (r.warnings.length > 0) out.push('**Warnings**', '', ...r.warnings.map((w) => `- ⚠️ ${w}`), '');
  const s = r.settings;
  out.push(
    `Settings: alpha ${s.alpha}, ${s.alternative}, test ${s.test}${s.yates ? ' (Yates)' : ''}, CI ${s.ci}, correction ${s.correction}${s.sequential ? `, sequential (N* = ${s.tuning})` : ''}${s.cuped ? ', CUPED' : ''}`,
    '',
  );
  out.push(
    `### Sample ratio: ${r.srm.ok ? 'ok' : 'MISMATCH — results untrustworthy'} (χ² p = ${fmtP(r.srm.p_value)})`,
    '',
  );
  out.push(
    ...table(
      ['variant', 'units', 'expected'],
      r.srm.variants.map((v, i) => [v, r.srm.counts[i]!.toLocaleString('en-US'), fmtNum(r.srm.expected[i]!, false, 7)]),
    ),
    '',
  );
  for (const m of r.metrics.filter((x) => x.role === 'primary')) out.push(...metricTable(r, m));
  const guard = r.metrics.filter((x) => x.role === 'guardrail');
  if (guard.length > 0) {
    out.push('#### Guardrails (two-sided, not corrected)', '');
    for (const m of guard) out.push(...metricTable(r, m));
  }
  if (r.plan) {
    const p = r.plan;
    out.push(
      '### Plan',
      '',
      ...table(
        ['field', 'value'],
        [
          ['metric', p.metric ?? '(every primary metric)'],
          ['MDE (absolute)', String(p.mde_absolute)],
          ['alpha / power', `${p.alpha} / ${p.power}`],
          ['family', `${p.variants} arm(s) × ${p.metrics} metric(s), ${p.correction}`],
          ['units per arm', `${p.per_variant.control} control, ${p.per_variant.treatment} per treatment`],
          ['start date', p.start_date ?? '-'],
        ],
      ),
      '',
    );
  }
  out.push('```', r.command, '```');
  return out.join('\n');
}
