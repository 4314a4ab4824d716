import type { Analysis } from '../core/rollout/analysis.js';
import { humanDuration } from '../core/rollout/duration.js';
import { fmtValue } from '../core/rollout/expression.js';
import { nextWakeAt, type RolloutState, type Transition } from '../core/rollout/machine.js';
import type { CheckResult } from '../core/rollout/measurement.js';
import { renderTable } from '../terminal/table.js';
import type { Style } from '../terminal/style.js';

/** Pure renderers of the rollout commands. */

const PHASE_LABEL: Record<RolloutState['phase'], string> = {
  shadow: 'shadow',
  progressing: 'progressing',
  paused: 'paused',
  promoted: 'promoted',
  rolled_back: 'rolled back',
  aborted: 'aborted',
};

export function phaseLabel(s: Pick<RolloutState, 'phase'>, style: Style): string {
  const t = PHASE_LABEL[s.phase];
  if (s.phase === 'promoted') return style.green(t);
  if (s.phase === 'rolled_back' || s.phase === 'aborted') return style.red(t);
  if (s.phase === 'paused') return style.yellow(t);
  return style.cyan(t);
}

export function stepText(s: RolloutState): string {
  if (s.phase === 'shadow') return `shadow (0 %, candidate mirrored)`;
  return `${s.step + 1}/${s.steps.length} (${s.steps.join(' → ')} %)`;
}

const mark = (c: CheckResult, style: Style) =>
  c.phase === 'successful' ? style.pass : c.phase === 'failed' ? style.fail : style.warn;

/** One line per metric: its last verdict, value and the numbers behind it, and its tally. */
export function checkLines(state: RolloutState, analysis: Analysis, style: Style): string[] {
  return analysis.metrics.map((m) => {
    const t = state.tallies[m.name];
    const last = t?.last;
    const tally = t ? `${t.successful}✓ ${t.failed}✗ ${t.inconclusive}? ${t.errors}!` : '';
    if (!last) return `  ${style.dim('·')} ${m.name.padEnd(20)} ${style.dim('not measured yet')}`;
    return `  ${mark(last, style)} ${m.name.padEnd(20)} ${last.phase.padEnd(12)} ${last.detail}  ${style.dim(tally)}`;
  });
}

/** The live view (and the body of `status`): phase, step, weight, each check, time to next. */
export function statusBlock(state: RolloutState, analysis: Analysis, now: number, style: Style): string {
  const wake = nextWakeAt(state, analysis);
  const stepEnd = state.phase === 'progressing' ? state.stepStartedAt + state.stepDurationMs : null;
  const lines = [
    `${style.bold(state.model)}  candidate v${state.candidate.version} (${state.candidate.ref}) vs stable v${state.stable.version} (${state.stable.ref})  ${phaseLabel(state, style)}`,
    `  step ${stepText(state)}  weight ${fmtValue(state.weight)} %${
      stepEnd !== null ? `  step ends in ${humanDuration(Math.max(0, stepEnd - now))}` : ''
    }${wake !== null ? `  next check in ${humanDuration(Math.max(0, wake - now))}` : ''}`,
    ...checkLines(state, analysis, style),
    `  ${style.dim(state.reason)}`,
  ];
  return lines.join('\n');
}

/** A plain progress line for pipes: one per event, greppable. */
export function progressLine(at: number, what: string): string {
  return `${new Date(at).toISOString()} ${what}`;
}

export function transitionLine(t: Transition): string {
  return `${t.action} ${fmtValue(t.from.weight)}% → ${fmtValue(t.to.weight)}% (${t.to.phase}): ${t.reason}`;
}

export function resultLine(r: CheckResult): string {
  return `${r.metric} ${r.phase}: ${r.detail}`;
}

export function renderHistory(history: Transition[], style: Style): string {
  if (history.length === 0) return 'no transitions';
  const rows = history.map((t) => [
    t.seq,
    new Date(t.at).toISOString().replace('T', ' ').slice(0, 19),
    t.action,
    `${fmtValue(t.from.weight)} → ${fmtValue(t.to.weight)}`,
    t.to.phase,
    t.reason,
    t.by,
  ]);
  const table = renderTable(style, ['#', 'at (UTC)', 'action', 'weight %', 'phase', 'reason', 'by'], rows);
  const checks = history
    .filter((t) => t.checks.length > 0 && (t.action === 'rollback' || t.action === 'pause'))
    .map((t) => `#${t.seq} checks:\n${t.checks.map((c) => `  ${c.metric}: ${c.phase} ${c.detail}`).join('\n')}`);
  return [table, ...checks].join('\n');
}
