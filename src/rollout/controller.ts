import type { Analysis } from '../core/rollout/analysis.js';
import {
  applyDecision,
  decide,
  dueMetrics,
  isFinal,
  nextWakeAt,
  observe,
  type Decision,
  type RolloutState,
  type Transition,
} from '../core/rollout/machine.js';
import type { CheckResult } from '../core/rollout/measurement.js';
import { InterruptedError, RemoteError } from '../errors.js';
import type { MlflowClient } from '../mlflow/client.js';
import { moveAlias } from '../registry/move.js';
import type { Backend, TrafficTarget } from './backends/types.js';
import { providerFor, type Provider } from './providers/index.js';
import { acquireLease, commitTransition, releaseLease, requireRollout, writeState } from './store.js';

/**
 * The rollout controller: reads the recorded state, measures what is due, lets the pure state
 * machine decide, applies the decision to the backend (and, for a promotion, moves the alias through
 * the same code path as `mlv promote`), then records it. It never trusts memory across ticks: every
 * tick starts from what the registry says, so a killed `rollout run` resumes where it was.
 */

export interface ControllerDeps {
  client: MlflowClient;
  name: string;
  by: string;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  signal?: AbortSignal | undefined;
  backendFor: (state: RolloutState) => Promise<Backend>;
  /** Shared between ticks so the serve provider keeps its windows. */
  providers: Map<string, Provider>;
  /** When the providers' current measurement window opened (set by baselineProviders). */
  windowStart?: number;
  warn?: (message: string) => void;
}

export interface TickResult {
  state: RolloutState;
  analysis: Analysis;
  results: CheckResult[];
  transition: Transition | null;
  /** What the backend reported for the transition's traffic change. */
  applied: string | null;
}

export const trafficOf = (s: RolloutState): TrafficTarget => ({
  phase: s.phase,
  weight: s.weight,
  candidate: s.candidate,
  stable: s.stable,
});

const o = (d: ControllerDeps) => (d.signal ? { signal: d.signal } : {});

function target(state: RolloutState) {
  return { model: state.model, candidateVersion: state.candidate.version, stableVersion: state.stable.version };
}

/** Marks the start of a measurement window on every provider (a step began, or the controller started). */
export async function baselineProviders(d: ControllerDeps, state: RolloutState, analysis: Analysis): Promise<void> {
  d.windowStart = d.now();
  const seen = new Set<Provider>();
  for (const m of analysis.metrics) {
    const p = providerFor(m.provider, d.providers, { now: d.now });
    if (seen.has(p)) continue;
    seen.add(p);
    await p.baseline({ ...target(state), ...o(d) });
  }
}

/**
 * Applies a decision: re-reads the state (it must still be at the same transition), sets the
 * traffic, moves the alias for a promotion, and records the transition. Returns the new state.
 */
export async function executeDecision(
  d: ControllerDeps,
  state: RolloutState,
  analysis: Analysis,
  decision: Decision,
): Promise<{ state: RolloutState; transition: Transition; applied: string }> {
  const now = d.now();
  const { state: next, transition } = applyDecision(state, analysis, decision, now, d.by);
  const fresh = (await requireRollout(d.client, d.name, o(d))).state;
  if (fresh.id !== state.id || fresh.seq !== state.seq)
    throw new RemoteError(`the rollout of ${d.name} changed meanwhile (now ${fresh.phase}, transition ${fresh.seq})`, {
      code: 'MLV_ROLLOUT_CONFLICT',
    });
  const backend = await d.backendFor(next);
  const applied = await backend.apply(trafficOf(next));
  if (decision.action === 'promote') {
    await moveAlias(d.client, {
      name: state.model,
      alias: state.promoteTo,
      version: state.candidate.version,
      reason: `rollout ${state.id}: ${decision.reason}`,
      by: d.by,
      now: () => new Date(d.now()),
      random: d.random,
      action: 'promote',
      signal: d.signal,
    });
  }
  await commitTransition(d.client, next, transition, { id: state.id, seq: state.seq }, o(d));
  if (decision.action === 'advance' || decision.action === 'resume') await baselineProviders(d, next, analysis);
  return { state: next, transition, applied };
}

/**
 * One check-and-advance. `waitForWindow`: the serve provider measures increases between scrapes,
 * so a one-shot `rollout step` (no earlier scrape in memory) takes a baseline and waits one
 * interval before measuring.
 */
export async function tick(d: ControllerDeps, opts: { waitForWindow?: boolean } = {}): Promise<TickResult> {
  const { state, analysis } = await requireRollout(d.client, d.name, o(d));
  const none = { state, analysis, results: [], transition: null, applied: null };
  if (isFinal(state.phase) || state.phase === 'paused') return none;
  let now = d.now();
  let due = dueMetrics(state, analysis, now, opts.waitForWindow ? 0 : d.windowStart);
  if (opts.waitForWindow && due.length > 0) {
    const serve = analysis.metrics.filter((m) => due.includes(m.name) && m.provider.kind === 'serve');
    if (serve.length > 0) {
      await baselineProviders(d, state, analysis);
      await d.sleep(Math.max(...serve.map((m) => m.intervalMs)));
      now = d.now();
    }
    due = dueMetrics(state, analysis, now);
  }
  const measured = await Promise.all(
    due.map(async (name) => {
      const metric = analysis.metrics.find((m) => m.name === name)!;
      const p = providerFor(metric.provider, d.providers, { now: d.now });
      return { metric: name, measurement: await p.measure(metric, { ...target(state), ...o(d) }) };
    }),
  );
  const observed = observe(state, analysis, measured, now);
  const decision = decide(observed.state, analysis, now);
  if (decision) {
    const r = await executeDecision(d, observed.state, analysis, decision);
    return { state: r.state, analysis, results: observed.results, transition: r.transition, applied: r.applied };
  }
  if (observed.results.length > 0) {
    const next = { ...observed.state, updatedAt: now };
    await writeState(d.client, next, { id: state.id, seq: state.seq }, o(d));
    return { ...none, state: next, results: observed.results };
  }
  return none;
}

export interface RunOptions {
  holder: string;
  token: string;
  host?: string;
  pid?: number;
  /** Ticks in a row the registry may fail before giving up (exit 3). */
  maxRegistryFailures?: number;
  /** Upper bound on the sleep between ticks, so an outside pause or abort is seen soon. */
  pollMs?: number;
  onTick?: (r: TickResult) => void;
}

/**
 * Drives the rollout until it is promoted, rolled back, aborted or paused. Holds the lease (renewed
 * every tick) and releases it at the end. Registry errors are retried for `maxRegistryFailures`
 * ticks (default 5), then thrown (exit 3).
 */
export async function runUntilSettled(d: ControllerDeps, opts: RunOptions): Promise<TickResult> {
  const me = {
    holder: opts.holder,
    token: opts.token,
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
  };
  await acquireLease(d.client, d.name, me, d.now(), o(d));
  let failures = 0;
  let last: TickResult | undefined;
  try {
    const first = await requireRollout(d.client, d.name, o(d));
    await baselineProviders(d, first.state, first.analysis);
    for (;;) {
      if (d.signal?.aborted) throw new InterruptedError();
      try {
        await acquireLease(d.client, d.name, me, d.now(), o(d));
        last = await tick(d);
        failures = 0;
      } catch (err) {
        if (
          !(err instanceof RemoteError) ||
          (err.code !== 'MLV_ROLLOUT_CONFLICT' && ++failures > (opts.maxRegistryFailures ?? 5))
        )
          throw err;
        d.warn?.(`${err.message}${err.code === 'MLV_ROLLOUT_CONFLICT' ? '' : ` (attempt ${failures}, retrying)`}`);
        await d.sleep(Math.min(1000 * 2 ** failures, 10_000));
        continue;
      }
      opts.onTick?.(last);
      if (isFinal(last.state.phase) || last.state.phase === 'paused') return last;
      const wake = nextWakeAt(last.state, last.analysis, d.windowStart) ?? d.now() + 1000;
      await d.sleep(Math.max(50, Math.min(wake - d.now(), opts.pollMs ?? 1000)));
    }
  } finally {
    await releaseLease(d.client, d.name, me.token, o(d)).catch(() => undefined);
  }
}
