import type { Interval } from '../stats/index.js';
import type { DailySeries } from './daily.js';
import {
  armRows,
  fmtDiff,
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
 * `mlv analyze --report report.html`: one self-contained HTML file (inline CSS and SVG, no script,
 * no network) — the verdict, the SRM check, per metric a table and forest plots of the absolute and
 * relative effects, the cumulative effect per day (events form), guardrails, the plan and the
 * command. Every number that is also in `--json` carries `data-json` (its path in the JSON
 * document) and `data-value` (the exact value), so a test can compare the page with the JSON.
 */

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A number shown formatted, with its JSON path and exact value. */
function n(path: string, value: number | null, text: string): string {
  // As JSON.stringify writes it: non-finite numbers are null there.
  const json = value === null || !Number.isFinite(value) ? 'null' : String(value);
  return `<span data-json="${esc(path)}" data-value="${json}">${esc(text)}</span>`;
}

function ciSpans(path: string, ci: Interval, f: (x: number) => string): string {
  return `[${ci[0] === null ? '−∞' : n(`${path}.0`, ci[0], f(ci[0]))}, ${ci[1] === null ? '+∞' : n(`${path}.1`, ci[1], f(ci[1]))}]`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2433;margin:0;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
section{background:#fff;border:1px solid #e2e5ea;border-radius:8px;padding:14px 18px;margin:14px 0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:4px 6px;border-bottom:1px solid #eef0f3}td{font-size:13px}
th:first-child,td:first-child{text-align:left}th{font-weight:600;color:#556}
.verdict{display:inline-block;padding:4px 12px;border-radius:6px;font-weight:700;letter-spacing:.04em}
.ship{background:#daf5e4;color:#11643a}.dont_ship{background:#fde2e1;color:#9b1c1c}.keep_running{background:#fff4d6;color:#7a5600}
.treatment_better,.non_inferior{color:#11643a}.treatment_worse{color:#9b1c1c}.inconclusive{color:#7a5600}
.warn{background:#fff4d6;border-color:#f0d58a}.bad{background:#fde2e1;border-color:#f3b3b0}
.muted{color:#667}code,pre{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f0f2f5;padding:10px;border-radius:6px;white-space:pre-wrap;word-break:break-all}
svg{display:block;margin:6px 0}svg text{font:11px system-ui,sans-serif;fill:#445}
`;

interface ForestRow {
  label: string;
  estimate: number | null;
  ci: Interval;
}

/** A forest plot: one row per comparison, the estimate as a dot, the interval as a bar, zero as a rule. */
export function forestSvg(rows: ForestRow[], format: (x: number) => string, title: string): string {
  const usable = rows.filter((r) => r.estimate !== null && Number.isFinite(r.estimate));
  if (usable.length === 0) return '';
  const vals = usable
    .flatMap((r) => [r.estimate!, r.ci[0], r.ci[1]])
    .filter((x): x is number => x !== null && Number.isFinite(x));
  let lo = Math.min(0, ...vals);
  let hi = Math.max(0, ...vals);
  if (hi - lo === 0) [lo, hi] = [lo - 0.01, hi + 0.01];
  const pad = (hi - lo) * 0.06;
  lo -= pad;
  hi += pad;
  const W = 640;
  const left = 120;
  const right = 20;
  const rowH = 26;
  const H = 34 + rowH * usable.length;
  const x = (v: number) => left + ((v - lo) / (hi - lo)) * (W - left - right);
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="14" font-weight="600">${esc(title)}</text>`);
  parts.push(`<line x1="${x(0)}" y1="20" x2="${x(0)}" y2="${H - 14}" stroke="#99a" stroke-dasharray="3 3"/>`);
  usable.forEach((r, i) => {
    const y = 34 + i * rowH;
    const a = r.ci[0] === null ? left : x(r.ci[0]);
    const b = r.ci[1] === null ? W - right : x(r.ci[1]);
    const colour =
      r.ci[0] !== null && r.ci[0] > 0 ? '#1c8c4e' : r.ci[1] !== null && r.ci[1] < 0 ? '#c0392b' : '#5b6b8c';
    parts.push(`<text x="8" y="${y + 4}">${esc(r.label)}</text>`);
    parts.push(`<line x1="${a}" y1="${y}" x2="${b}" y2="${y}" stroke="${colour}" stroke-width="3"/>`);
    if (r.ci[0] !== null)
      parts.push(`<line x1="${a}" y1="${y - 6}" x2="${a}" y2="${y + 6}" stroke="${colour}" stroke-width="2"/>`);
    if (r.ci[1] !== null)
      parts.push(`<line x1="${b}" y1="${y - 6}" x2="${b}" y2="${y + 6}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<circle cx="${x(r.estimate!)}" cy="${y}" r="5" fill="${colour}"/>`);
  });
  const axisY = H - 2;
  // The ends of the axis, unless they would sit on the zero label.
  if (x(0) - x(lo + pad) > 40) parts.push(`<text x="${x(lo + pad)}" y="${axisY}">${esc(format(lo + pad))}</text>`);
  if (x(hi - pad) - x(0) > 40) {
    parts.push(`<text x="${x(hi - pad)}" y="${axisY}" text-anchor="end">${esc(format(hi - pad))}</text>`);
  }
  parts.push(`<text x="${x(0)}" y="${axisY}" text-anchor="middle">0</text>`);
  return `<svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${parts.join('')}</svg>`;
}

/** The cumulative effect per day: the estimate as a line, its interval (sequence or fixed CI) as a band. */
export function dailySvg(s: DailySeries, percent: boolean): string {
  const pts = s.points.filter((p) => Number.isFinite(p.estimate));
  if (pts.length === 0) return '';
  const W = 640;
  const H = 220;
  const L = 60;
  const R = 16;
  const T = 24;
  const B = 36;
  const vals = pts
    .flatMap((p) => [p.estimate, p.ci[0], p.ci[1]])
    .filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = Math.min(0, ...vals);
  let hi = Math.max(0, ...vals);
  if (hi - lo === 0) [lo, hi] = [lo - 0.01, hi + 0.01];
  const x = (i: number) => L + (pts.length === 1 ? (W - L - R) / 2 : (i / (pts.length - 1)) * (W - L - R));
  const y = (v: number) => T + ((hi - v) / (hi - lo)) * (H - T - B);
  const clampY = (v: number | null, end: 'lo' | 'hi') => (v === null ? (end === 'lo' ? y(lo) : y(hi)) : y(v));
  const upper = pts.map((p, i) => `${x(i)},${clampY(p.ci[1], 'hi')}`);
  const lower = pts.map((p, i) => `${x(i)},${clampY(p.ci[0], 'lo')}`).reverse();
  const fmt = (v: number) => (percent ? `${fmtNum(v * 100, true, 3)} pp` : fmtNum(v, true, 3));
  const parts = [
    `<polygon points="${[...upper, ...lower].join(' ')}" fill="#5b6b8c" fill-opacity="0.18" stroke="none"/>`,
    `<line x1="${L}" y1="${y(0)}" x2="${W - R}" y2="${y(0)}" stroke="#99a" stroke-dasharray="3 3"/>`,
    `<polyline points="${pts.map((p, i) => `${x(i)},${y(p.estimate)}`).join(' ')}" fill="none" stroke="#2b4c9b" stroke-width="2"/>`,
    `<text x="4" y="${y(hi) + 10}">${esc(fmt(hi))}</text>`,
    `<text x="4" y="${y(lo)}">${esc(fmt(lo))}</text>`,
    `<text x="${L}" y="${H - 8}">${esc(pts[0]!.day)}</text>`,
    `<text x="${W - R}" y="${H - 8}" text-anchor="end">${esc(pts[pts.length - 1]!.day)}</text>`,
  ];
  const label = `${s.variant} vs control, units exposed up to each day; band: ${s.interval === 'confidence_sequence' ? 'confidence sequence (valid every day)' : 'fixed-horizon CI (valid only at the planned end)'}`;
  parts.push(`<text x="${L + 6}" y="${T + 4}">${esc(label)}</text>`);
  return `<svg role="img" aria-label="${esc(`${s.metric}: ${label}`)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${parts.join('')}</svg>`;
}

/** The lines under a metric's table: omnibus, methods, odds ratio, fixed-horizon numbers, units needed. */
function metricNotes(m: MetricReport, k: number): string[] {
  const notes: string[] = [];
  if (m.omnibus) {
    notes.push(
      `Omnibus ${omnibusParts(m.omnibus).name} over all ${m.arms.length} arms: ${omnibusParts(m.omnibus).symbol} = ${n(`metrics.${k}.omnibus.statistic`, m.omnibus.statistic, fmtNum(m.omnibus.statistic))}, df ${omnibusParts(m.omnibus).df}, p = ${n(`metrics.${k}.omnibus.p_value`, m.omnibus.p_value, fmtP(m.omnibus.p_value))}`,
    );
  }
  m.comparisons.forEach((c, j) => {
    const cp = `metrics.${k}.comparisons.${j}`;
    const how = `${esc(c.test)}; difference interval ${esc(c.difference.ci_method)}, relative ${esc(c.relative_uplift.ci_method)}`;
    notes.push(`${esc(c.variant)}: ${how}${c.hypothesis !== 'difference = 0' ? `; H0: ${esc(c.hypothesis)}` : ''}`);
    if (c.odds_ratio) {
      notes.push(
        `${esc(c.variant)}: odds ratio ${n(`${cp}.odds_ratio.estimate`, c.odds_ratio.estimate, fmtNum(c.odds_ratio.estimate))} (conditional MLE), exact ${ciSpans(`${cp}.odds_ratio.ci`, c.odds_ratio.ci, (x) => fmtNum(x))}`,
      );
    }
    if (c.fixed_horizon) {
      notes.push(
        `${esc(c.variant)}: fixed-horizon (valid only at the planned end): p = ${n(`${cp}.fixed_horizon.p_value`, c.fixed_horizon.p_value, fmtP(c.fixed_horizon.p_value))}, CI ${ciSpans(`${cp}.fixed_horizon.difference_ci`, c.fixed_horizon.difference_ci, (x) => fmtDiff(m, x))}`,
      );
    }
    if (c.units_needed) {
      const u = c.units_needed;
      notes.push(
        `${esc(c.variant)}: ${u.basis === 'design' ? `to detect the design's MDE ${esc(fmtDiff(m, u.effect))}` : `for the observed effect ${esc(fmtDiff(m, u.effect))}`} about ${n(`${cp}.units_needed.control`, u.control, u.control.toLocaleString('en-US'))} + ${n(`${cp}.units_needed.treatment`, u.treatment, u.treatment.toLocaleString('en-US'))} units per arm (${esc(u.horizon)})`,
      );
    }
  });
  return notes;
}

function metricSection(r: ReportDocument, m: MetricReport, k: number): string {
  const rate = m.type === 'proportion';
  const level = levelLabel(r);
  const head = [
    'variant',
    'units',
    rate ? 'rate' : 'mean',
    `difference (${level})`,
    `relative (${level})`,
    r.settings.sequential ? 'p (sequential)' : 'p',
    'p adjusted',
    'verdict',
  ];
  const rows = armRows(m).map(({ arm, c, i }) => {
    const base = `metrics.${k}.arms.${i}`;
    const centre = rate
      ? n(`${base}.rate`, arm.rate ?? null, fmtPct(arm.rate ?? null))
      : n(`${base}.mean`, arm.mean ?? null, fmtNum(arm.mean ?? null));
    if (!c)
      return [
        esc(arm.variant) + (arm.variant === 'control' ? '' : ' <span class="muted">(control)</span>'),
        n(`${base}.n`, arm.n, arm.n.toLocaleString('en-US')),
        centre,
        '',
        '',
        '',
        '',
        '',
      ];
    const j = m.comparisons.indexOf(c);
    const cp = `metrics.${k}.comparisons.${j}`;
    return [
      esc(arm.variant),
      n(`${base}.n`, arm.n, arm.n.toLocaleString('en-US')),
      centre,
      `${n(`${cp}.difference.estimate`, c.difference.estimate, fmtDiff(m, c.difference.estimate))} ${ciSpans(`${cp}.difference.ci`, c.difference.ci, (x) => fmtDiff(m, x))}`,
      c.relative_uplift.estimate === null
        ? '–'
        : `${n(`${cp}.relative_uplift.estimate`, c.relative_uplift.estimate, fmtPct(c.relative_uplift.estimate, 2, true))} ${ciSpans(`${cp}.relative_uplift.ci`, c.relative_uplift.ci, (x) => fmtPct(x, 2, true))}`,
      n(`${cp}.p_value`, c.p_value, fmtP(c.p_value)),
      n(`${cp}.p_value_adjusted`, c.p_value_adjusted, fmtP(c.p_value_adjusted)),
      `<span class="${c.verdict}">${esc(c.verdict)}</span>`,
    ];
  });
  const table = `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const notes = metricNotes(m, k);
  const forest = (kind: 'difference' | 'relative_uplift') =>
    forestSvg(
      m.comparisons.map((c) => ({ label: c.variant, estimate: c[kind].estimate, ci: c[kind].ci })),
      kind === 'difference' ? (x) => fmtDiff(m, x) : (x) => fmtPct(x, 1, true),
      kind === 'difference' ? `absolute difference (${level})` : `relative uplift (${level})`,
    );
  const tags = [m.type, m.role, m.direction === 'lower_is_better' ? 'lower is better' : ''].filter(Boolean).join(' · ');
  const daily = (r.daily ?? []).filter((s) => s.metric === m.name).map((s) => dailySvg(s, rate));
  return `<section data-metric="${esc(m.name)}"><h3>${esc(m.name)} <span class="muted">${esc(tags)}</span></h3>${table}${forest('difference')}${forest('relative_uplift')}${
    notes.length ? `<ul>${notes.map((x) => `<li>${x}</li>`).join('')}</ul>` : ''
  }${daily.length ? `<h3>Cumulative effect per day</h3>${daily.join('')}` : ''}</section>`;
}

export function renderHtmlReport(r: ReportDocument): string {
  const title = r.experiment !== undefined ? `Experiment ${r.experiment}` : 'Experiment analysis';
  const out: string[] = [];
  out.push(`<h1>${esc(title)}</h1>`);
  const s = r.settings;
  out.push(
    `<p class="muted">${esc(
      [
        `${r.source} form`,
        `control ${r.control}`,
        `alpha ${s.alpha}`,
        s.alternative,
        `test ${s.test}${s.yates ? ' (Yates)' : ''}`,
        `CI ${s.ci}`,
        `correction ${s.correction}`,
        s.sequential ? `sequential (N* = ${s.tuning})` : 'fixed horizon',
        s.cuped ? 'CUPED' : '',
        r.days !== undefined ? `${r.days} day(s)` : '',
      ]
        .filter(Boolean)
        .join(' · '),
    )}</p>`,
  );
  const more = moreUnitsText(r);
  out.push(
    `<section><span class="verdict ${r.verdict}" data-json="verdict" data-value="${r.verdict}">${esc(verdictLabel(r.verdict))}</span>${
      more ? ` <span>${esc(more)}</span>` : ''
    }<ul>${r.verdict_reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul></section>`,
  );
  if (r.warnings.length > 0) {
    out.push(
      `<section class="warn"><h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`,
    );
  }
  out.push(
    `<section class="${r.srm.ok ? '' : 'bad'}"><h2>Sample ratio</h2><p>${r.srm.ok ? 'ok' : '<strong>MISMATCH — the results below cannot be trusted</strong>'}: χ² = ${n('srm.statistic', r.srm.statistic, fmtNum(r.srm.statistic))}, p = ${n('srm.p_value', r.srm.p_value, fmtP(r.srm.p_value))} (threshold ${s.srm_threshold})</p><table><thead><tr><th>variant</th><th>units</th><th>expected</th></tr></thead><tbody>${r.srm.variants
      .map(
        (v, i) =>
          `<tr><td>${esc(v)}</td><td>${n(`srm.counts.${i}`, r.srm.counts[i]!, r.srm.counts[i]!.toLocaleString('en-US'))}</td><td>${n(`srm.expected.${i}`, r.srm.expected[i]!, fmtNum(r.srm.expected[i]!, false, 7))}</td></tr>`,
      )
      .join('')}</tbody></table></section>`,
  );
  const primary = r.metrics.map((m, k) => ({ m, k })).filter(({ m }) => m.role === 'primary');
  const guard = r.metrics.map((m, k) => ({ m, k })).filter(({ m }) => m.role === 'guardrail');
  out.push(`<h2>Primary metrics</h2>${primary.map(({ m, k }) => metricSection(r, m, k)).join('')}`);
  if (guard.length > 0) {
    out.push(
      `<h2>Guardrails</h2><p class="muted">Tested two-sided and not corrected: a significant move the bad way blocks the release.</p>${guard
        .map(({ m, k }) => metricSection(r, m, k))
        .join('')}`,
    );
  }
  if (r.plan) {
    const p = r.plan;
    const rows: [string, string][] = [
      ['metric', p.metric ?? '(every primary metric)'],
      ['baseline', p.baseline === null ? '–' : String(p.baseline)],
      ['MDE (absolute)', String(p.mde_absolute)],
      ['alpha / power', `${p.alpha} / ${p.power}`],
      ['sides', p.alternative],
      ['family', `${p.variants} arm(s) × ${p.metrics} metric(s), ${p.correction}`],
      [
        'units per arm',
        `${p.per_variant.control.toLocaleString('en-US')} control, ${p.per_variant.treatment.toLocaleString('en-US')} per treatment`,
      ],
      ['start date', p.start_date ?? '–'],
    ];
    out.push(
      `<section><h2>Plan</h2><table><tbody>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table><pre>${esc(p.command)}</pre></section>`,
    );
  }
  out.push(`<section><h2>Command</h2><pre data-testid="command">${esc(r.command)}</pre></section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — mlv analyze</title><style>${CSS}</style></head>
<body><main>${out.join('\n')}</main></body></html>
`;
}
