import { InputError } from '../../errors.js';
import { isComparative, type Analysis, type AnalysisMetric } from './analysis.js';
import type { ErrorCounts } from './comparative.js';
import { humanDuration } from './duration.js';
import { fmtValue } from './expression.js';
import { describeCheck, evaluateMeasurement, type CheckResult, type Measurement } from './measurement.js';

/**
 * The rollout state machine: pure. The controller (src/rollout/controller.ts) measures, hands the
 * measurements to `observe`, asks `decide` what to do, applies the decision to the backend and
 * records the state `applyDecision` returns.
 *
 *   shadow ──(shadow time over)──▶ progressing ──(last step passed)──▶ promoted
 *                                   │  ▲    │
 *          (inconclusive / errors)  ▼  │    └──(failures > failureLimit)──▶ rolled_back
 *                                  paused ──(resume)
 *   any non-final phase ──(abort)──▶ aborted ; ──(promote)──▶ promoted
 *
 * A step passes when its duration is over and every metric has taken `count` measurements, at least
 * one of them successful, with no limit exceeded. Counters are per step (they start over after an
 * advance and after resume).
 */

export type Phase = 'shadow' | 'progressing' | 'paused' | 'promoted' | 'rolled_back' | 'aborted';
export const FINAL_PHASES: readonly Phase[] = ['promoted', 'rolled_back', 'aborted'];
export const isFinal = (p: Phase): boolean => FINAL_PHASES.includes(p);

export interface VersionPin {
  version: string;
  ref: string;
}

export interface Tally {
  measurements: number;
  successful: number;
  failed: number;
  inconclusive: number;
  errors: number;
  consecutiveErrors: number;
  /** Epoch ms of the last measurement attempt (errors included). */
  lastAt: number | null;
  last: CheckResult | null;
  /** Request and error counts summed over the step (for the sequential test). */
  cumulative: { candidate: ErrorCounts; stable: ErrorCounts } | null;
}

export type PauseCause = 'inconclusive' | 'provider' | 'manual';

export interface RolloutState {
  model: string;
  /** Identifies one rollout of this model (the start time in base 36 and a random suffix). */
  id: string;
  candidate: VersionPin;
  stable: VersionPin;
  steps: number[];
  /** Index into steps; -1 during the shadow phase. */
  step: number;
  /** The candidate's share of traffic now, 0–100. */
  weight: number;
  phase: Phase;
  pause: { cause: PauseCause; from: 'shadow' | 'progressing' } | null;
  stepStartedAt: number;
  stepDurationMs: number;
  shadowMs: number | null;
  promoteTo: string;
  /** Where the weight goes: `{kind: 'route'}`, `{kind: 'kubernetes', …}`, `{kind: 'command', …}`. */
  backend: { kind: string } & Record<string, unknown>;
  tallies: Record<string, Tally>;
  /** Transitions recorded so far (the number of the last history entry). */
  seq: number;
  reason: string;
  startedAt: number;
  updatedAt: number;
  by: string;
}

export interface PhasePoint {
  phase: Phase;
  step: number;
  weight: number;
}

/** One entry of `mlv rollout history`. */
export interface Transition {
  seq: number;
  at: number;
  by: string;
  action: TransitionKind;
  from: PhasePoint;
  to: PhasePoint;
  reason: string;
  checks: CheckResult[];
}

export type TransitionKind = 'start' | 'advance' | 'promote' | 'rollback' | 'pause' | 'resume' | 'abort';

export interface Decision {
  action: Exclude<TransitionKind, 'start'>;
  reason: string;
  cause?: PauseCause;
  checks: CheckResult[];
}

/**
 * `5,25,50,100` → [5, 25, 50, 100]: strictly increasing weights in (0, 100] with at most two decimals.
 * @example parseSteps('5,25,50,100') // [5, 25, 50, 100]
 */
export function parseSteps(text: string, what = '--steps'): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const steps = parts.map((p) => (/^\d+(\.\d{1,2})?$/.test(p) ? Number(p) : NaN));
  const bad = steps.findIndex((s, i) => !(s > 0 && s <= 100) || (i > 0 && s <= steps[i - 1]!));
  if (parts.length === 0 || bad >= 0)
    throw new InputError(
      `${what} must be increasing weights in (0, 100] with at most two decimals, like 5,25,50,100; got "${text}"`,
    );
  return steps;
}

export const emptyTally = (): Tally => ({
  measurements: 0,
  successful: 0,
  failed: 0,
  inconclusive: 0,
  errors: 0,
  consecutiveErrors: 0,
  lastAt: null,
  last: null,
  cumulative: null,
});

function freshTallies(analysis: Analysis): Record<string, Tally> {
  return Object.fromEntries(analysis.metrics.map((m) => [m.name, emptyTally()]));
}

export interface StartInput {
  model: string;
  id: string;
  candidate: VersionPin;
  stable: VersionPin;
  steps: number[];
  stepDurationMs: number;
  shadowMs: number | null;
  promoteTo: string;
  backend: RolloutState['backend'];
  by: string;
  now: number;
}

/** The state `mlv rollout start` records, and its first history entry. */
export function startRollout(input: StartInput, analysis: Analysis): { state: RolloutState; transition: Transition } {
  const shadow = input.shadowMs !== null && input.shadowMs > 0;
  const state: RolloutState = {
    model: input.model,
    id: input.id,
    candidate: input.candidate,
    stable: input.stable,
    steps: input.steps,
    step: shadow ? -1 : 0,
    weight: shadow ? 0 : input.steps[0]!,
    phase: shadow ? 'shadow' : 'progressing',
    pause: null,
    stepStartedAt: input.now,
    stepDurationMs: input.stepDurationMs,
    shadowMs: shadow ? input.shadowMs : null,
    promoteTo: input.promoteTo,
    backend: input.backend,
    tallies: freshTallies(analysis),
    seq: 1,
    reason: shadow
      ? `started: shadow for ${humanDuration(input.shadowMs!)}, then ${input.steps.join('/')}%`
      : `started: ${input.steps.join('/')}%`,
    startedAt: input.now,
    updatedAt: input.now,
    by: input.by,
  };
  const transition: Transition = {
    seq: 1,
    at: input.now,
    by: input.by,
    action: 'start',
    from: { phase: state.phase, step: state.step, weight: 0 },
    to: point(state),
    reason: state.reason,
    checks: [],
  };
  return { state, transition };
}

export const point = (s: RolloutState): PhasePoint => ({ phase: s.phase, step: s.step, weight: s.weight });

/**
 * When the metric is next due: one interval after its last measurement, or after the step began,
 * or after `windowStart` (when the controller's measurement window opened: a restarted controller
 * has no earlier scrape to measure from).
 */
export function dueAt(state: RolloutState, intervalMs: number, name: string, windowStart = 0): number {
  const t = state.tallies[name];
  return Math.max(t?.lastAt ?? state.stepStartedAt, state.stepStartedAt, windowStart) + intervalMs;
}

/** The metrics that apply at this weight: at 100 % stable has no traffic to compare with. */
export function activeMetrics(state: RolloutState, analysis: Analysis): AnalysisMetric[] {
  return state.weight >= 100 ? analysis.metrics.filter((m) => !isComparative(m)) : analysis.metrics;
}

/** The metrics to measure now. None outside `progressing` (the shadow phase sends the candidate no traffic). */
export function dueMetrics(state: RolloutState, analysis: Analysis, now: number, windowStart = 0): string[] {
  if (state.phase !== 'progressing') return [];
  return activeMetrics(state, analysis)
    .filter((m) => dueAt(state, m.intervalMs, m.name, windowStart) <= now)
    .map((m) => m.name);
}

/** The next moment something can happen: a measurement due or the step's (or shadow's) end. Null when final or paused. */
export function nextWakeAt(state: RolloutState, analysis: Analysis, windowStart = 0): number | null {
  if (state.phase === 'shadow') return state.stepStartedAt + (state.shadowMs ?? 0);
  if (state.phase !== 'progressing') return null;
  const times = activeMetrics(state, analysis).map((m) => dueAt(state, m.intervalMs, m.name, windowStart));
  return Math.min(...times, state.stepStartedAt + state.stepDurationMs);
}

function addCounts(
  a: { candidate: ErrorCounts; stable: ErrorCounts } | null,
  b: { candidate: ErrorCounts; stable: ErrorCounts },
) {
  const add = (x: ErrorCounts | undefined, y: ErrorCounts) => ({
    requests: (x?.requests ?? 0) + y.requests,
    errors: (x?.errors ?? 0) + y.errors,
  });
  return { candidate: add(a?.candidate, b.candidate), stable: add(a?.stable, b.stable) };
}

/** Evaluates measurements and adds them to the step's tallies. */
export function observe(
  state: RolloutState,
  analysis: Analysis,
  measured: { metric: string; measurement: Measurement }[],
  now: number,
): { state: RolloutState; results: CheckResult[] } {
  const tallies = { ...state.tallies };
  const results: CheckResult[] = [];
  for (const { metric: name, measurement } of measured) {
    const metric = analysis.metrics.find((m) => m.name === name);
    if (!metric) continue;
    const prev = tallies[name] ?? emptyTally();
    const cumulative = measurement.counts ? addCounts(prev.cumulative, measurement.counts) : prev.cumulative;
    const r = evaluateMeasurement(metric, measurement, now, cumulative ?? undefined);
    const t: Tally = { ...prev, lastAt: now, last: r, cumulative };
    if (r.phase === 'error') {
      t.errors++;
      t.consecutiveErrors++;
    } else {
      t.consecutiveErrors = 0;
      t.measurements++;
      if (r.phase === 'successful') t.successful++;
      else if (r.phase === 'failed') t.failed++;
      else t.inconclusive++;
    }
    tallies[name] = t;
    results.push(r);
  }
  return { state: { ...state, tallies }, results };
}

const stepLabel = (s: RolloutState) => `step ${s.step + 1}/${s.steps.length} (${fmtValue(s.weight)}%)`;

/** What to do now, or null to keep going. Failure beats errors beats inconclusive beats advancing. */
export function decide(state: RolloutState, analysis: Analysis, now: number): Decision | null {
  if (state.phase === 'shadow') {
    if (now - state.stepStartedAt < (state.shadowMs ?? 0)) return null;
    return {
      action: 'advance',
      reason: `shadow phase over after ${humanDuration(now - state.stepStartedAt)}`,
      checks: [],
    };
  }
  if (state.phase !== 'progressing') return null;
  const lasts = analysis.metrics.map((m) => state.tallies[m.name]?.last).filter((c): c is CheckResult => !!c);
  for (const m of analysis.metrics) {
    const t = state.tallies[m.name] ?? emptyTally();
    if (t.failed > m.failureLimit && t.last) {
      return {
        action: 'rollback',
        reason: `${describeCheck(t.last)} (${t.failed} failed > failureLimit ${m.failureLimit})`,
        checks: lasts,
      };
    }
  }
  for (const m of analysis.metrics) {
    const t = state.tallies[m.name] ?? emptyTally();
    if (t.consecutiveErrors > m.consecutiveErrorLimit && t.last) {
      return {
        action: 'pause',
        cause: 'provider',
        reason: `${m.name}: the metrics provider failed ${t.consecutiveErrors} times in a row (> consecutiveErrorLimit ${m.consecutiveErrorLimit}): ${t.last.detail.replace(/^provider error: /, '')}`,
        checks: lasts,
      };
    }
  }
  for (const m of analysis.metrics) {
    const t = state.tallies[m.name] ?? emptyTally();
    if (t.inconclusive > m.inconclusiveLimit && t.last) {
      return {
        action: 'pause',
        cause: 'inconclusive',
        reason: `${describeCheck(t.last)} (${t.inconclusive} inconclusive > inconclusiveLimit ${m.inconclusiveLimit})`,
        checks: lasts,
      };
    }
  }
  if (now - state.stepStartedAt < state.stepDurationMs) return null;
  const active = activeMetrics(state, analysis);
  for (const m of active) {
    const t = state.tallies[m.name] ?? emptyTally();
    if (t.measurements < m.count || t.successful < 1) return null;
  }
  const summary = active
    .map((m) => state.tallies[m.name]!)
    .map((t) => `${t.last!.metric} ${t.successful}/${t.measurements} ok`)
    .join(', ');
  const last = state.step === state.steps.length - 1;
  return {
    action: last ? 'promote' : 'advance',
    reason: `${stepLabel(state)} passed after ${humanDuration(now - state.stepStartedAt)}: ${summary}`,
    checks: lasts,
  };
}

/** A request from a person (`mlv rollout pause|resume|abort|promote`). Throws InputError when it does not apply. */
export function manualDecision(
  state: RolloutState,
  action: 'pause' | 'resume' | 'abort' | 'promote',
  reason: string,
): Decision {
  if (isFinal(state.phase))
    throw new InputError(`the rollout of ${state.model} is over (${state.phase.replace('_', ' ')}); start a new one`);
  if (action === 'pause' && state.phase === 'paused')
    throw new InputError(`the rollout of ${state.model} is already paused`);
  if (action === 'resume' && state.phase !== 'paused')
    throw new InputError(`the rollout of ${state.model} is not paused (it is ${state.phase})`);
  return { action, reason, ...(action === 'pause' ? { cause: 'manual' as const } : {}), checks: [] };
}

/**
 * The state after a decision, and its history entry. The controller applies `to.weight` to the
 * backend (and for promote moves the alias) before recording this.
 */
export function applyDecision(
  state: RolloutState,
  analysis: Analysis,
  d: Decision,
  now: number,
  by: string,
): { state: RolloutState; transition: Transition } {
  const from = point(state);
  let next: RolloutState;
  switch (d.action) {
    case 'advance': {
      const step = state.step + 1;
      next = {
        ...state,
        phase: 'progressing',
        step,
        weight: state.steps[step]!,
        stepStartedAt: now,
        tallies: freshTallies(analysis),
      };
      break;
    }
    case 'promote':
      next = { ...state, phase: 'promoted', weight: 100, pause: null };
      break;
    case 'rollback':
      next = { ...state, phase: 'rolled_back', weight: 0, pause: null };
      break;
    case 'abort':
      next = { ...state, phase: 'aborted', weight: 0, pause: null };
      break;
    case 'pause':
      next = {
        ...state,
        phase: 'paused',
        pause: { cause: d.cause ?? 'manual', from: state.phase === 'shadow' ? 'shadow' : 'progressing' },
      };
      break;
    case 'resume':
      next = {
        ...state,
        phase: state.pause?.from ?? 'progressing',
        pause: null,
        stepStartedAt: now,
        tallies: freshTallies(analysis),
      };
      break;
  }
  next = { ...next, seq: state.seq + 1, reason: d.reason, updatedAt: now };
  return {
    state: next,
    transition: {
      seq: next.seq,
      at: now,
      by,
      action: d.action,
      from,
      to: point(next),
      reason: d.reason,
      checks: d.checks,
    },
  };
}

/**
 * The exit code a state stands for: 0 progressing/shadow/promoted, 1 rolled back or aborted, 5 paused.
 * (`rollout run` uses 3 instead of 5 when the pause came from provider errors.)
 */
export function exitCodeForPhase(phase: Phase): 0 | 1 | 5 {
  return phase === 'rolled_back' || phase === 'aborted' ? 1 : phase === 'paused' ? 5 : 0;
}
