import { InvalidArgumentError, type Command } from 'commander';
import type { Context } from '../context.js';
import { defaultAnalysis, DEFAULT_ANALYSIS, type Analysis } from '../core/rollout/analysis.js';
import { humanDuration, parseDuration } from '../core/rollout/duration.js';
import {
  exitCodeForPhase,
  isFinal,
  manualDecision,
  nextWakeAt,
  parseSteps,
  startRollout,
  type RolloutState,
  type Transition,
} from '../core/rollout/machine.js';
import type { CheckResult } from '../core/rollout/measurement.js';
import { validateAliasName } from '../core/registry/refs.js';
import { CheckFailedError, InputError, PausedError, RemoteError, UsageError } from '../errors.js';
import { whoAmI } from '../registry/provenance.js';
import { listVersions, requireModel } from '../registry/versions.js';
import type { TickResult } from '../rollout/controller.js';
import type { Lease } from '../core/rollout/record.js';
import { action } from '../run.js';
import type { Style } from '../terminal/style.js';
import { collect, intArg, numberArg } from './args.js';

/**
 * `mlv rollout start|run|step|status|pause|resume|abort|promote|history NAME`: move a candidate
 * through traffic steps, check its health at every step (src/core/rollout: the analysis, the state
 * machine) and roll back by itself when it degrades. State, lease and history live in tags on the
 * registered model (src/rollout/store.ts); the controller is src/rollout/controller.ts; backends
 * (route, kubernetes, command) and providers (serve, prometheus, events) sit beside it.
 */

// ---- shared pieces ------------------------------------------------------------------------------

export interface RolloutIo {
  /** Waits (tests pass a fake that advances their clock). */
  sleep?: (ms: number) => Promise<void>;
}

function realSleep(signal: AbortSignal) {
  return (ms: number) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}

async function controllerDeps(ctx: Context, name: string, io: RolloutIo) {
  const client = await ctx.mlflow();
  const [{ makeBackend }] = await Promise.all([import('../rollout/setup.js')]);
  const by = whoAmI(ctx.env).createdBy;
  return {
    client,
    name,
    by,
    now: () => ctx.now().getTime(),
    sleep: io.sleep ?? realSleep(ctx.signal),
    random: ctx.random,
    signal: ctx.signal,
    providers: new Map(),
    warn: (m: string) => ctx.warn(m),
    backendFor: async (s: RolloutState) =>
      makeBackend(s.backend, { client, model: s.model, by, now: () => ctx.now(), signal: ctx.signal, cwd: ctx.cwd }),
  };
}

export interface StatusResult {
  model: string;
  id: string;
  phase: RolloutState['phase'];
  /** Why it is paused: not enough data, the metrics provider failing, or a person. */
  pause_cause: 'inconclusive' | 'provider' | 'manual' | null;
  step: number;
  steps: number[];
  weight: number;
  candidate: RolloutState['candidate'];
  stable: RolloutState['stable'];
  promote_to: string;
  backend: string;
  reason: string;
  /** The last measurement of every metric in this step. */
  checks: CheckResult[];
  started_at: string;
  updated_at: string;
  step_started_at: string;
  next_check_at: string | null;
  lease: { holder: string; expires_at: string } | null;
  exit_code: number;
}

export function statusOf(state: RolloutState, analysis: Analysis, lease: Lease | null, now: number): StatusResult {
  const wake = nextWakeAt(state, analysis);
  return {
    model: state.model,
    id: state.id,
    phase: state.phase,
    pause_cause: state.pause?.cause ?? null,
    step: state.step,
    steps: state.steps,
    weight: state.weight,
    candidate: state.candidate,
    stable: state.stable,
    promote_to: state.promoteTo,
    backend: state.backend.kind,
    reason: state.reason,
    checks: analysis.metrics.map((m) => state.tallies[m.name]?.last).filter((c): c is CheckResult => !!c),
    started_at: new Date(state.startedAt).toISOString(),
    updated_at: new Date(state.updatedAt).toISOString(),
    step_started_at: new Date(state.stepStartedAt).toISOString(),
    next_check_at: wake === null ? null : new Date(wake).toISOString(),
    lease:
      lease && lease.expires_at > now
        ? { holder: lease.holder, expires_at: new Date(lease.expires_at).toISOString() }
        : null,
    exit_code: exitCodeForPhase(state.phase),
  };
}

/** After printing: rolled back or aborted is exit 1, paused exit 5 (or 3 from `run` when the provider failed). */
function settle(
  s: Pick<StatusResult, 'model' | 'phase' | 'reason' | 'pause_cause'>,
  opts: { providerIsRemote?: boolean } = {},
): void {
  if (s.phase === 'rolled_back' || s.phase === 'aborted')
    throw new CheckFailedError(
      `the rollout of ${s.model} was ${s.phase === 'aborted' ? 'aborted' : 'rolled back'}: ${s.reason}`,
    );
  if (s.phase === 'paused') {
    if (opts.providerIsRemote && s.pause_cause === 'provider')
      throw new RemoteError(`the rollout of ${s.model} paused: ${s.reason}`, {
        code: 'MLV_ROLLOUT_PROVIDER',
        hint: `fix the metrics source, then: mlv rollout resume ${s.model}`,
      });
    throw new PausedError(`the rollout of ${s.model} is paused: ${s.reason}`, {
      hint: `mlv rollout resume ${s.model} (or abort)`,
    });
  }
}

export function renderStatus(r: StatusResult, style: Style): string {
  const lines = [
    `${style.bold(r.model)}  ${r.phase.replace('_', ' ')}${r.pause_cause ? ` (${r.pause_cause})` : ''}  candidate v${r.candidate.version} → ${r.weight} %  (stable v${r.stable.version}, steps ${r.steps.join('/')}, backend ${r.backend})`,
    ...r.checks.map(
      (c) =>
        `  ${c.phase === 'successful' ? style.pass : c.phase === 'failed' ? style.fail : style.warn} ${c.metric}: ${c.phase} — ${c.detail}`,
    ),
    `  ${style.dim('last transition:')} ${r.reason}`,
  ];
  if (r.lease) lines.push(`  ${style.dim('driven by')} ${r.lease.holder}`);
  if (r.next_check_at && !isFinal(r.phase)) lines.push(`  ${style.dim('next check')} ${r.next_check_at}`);
  return lines.join('\n');
}

// ---- start --------------------------------------------------------------------------------------

export interface StartInput {
  name: string;
  candidate: string;
  stable?: string | undefined;
  steps?: string | undefined;
  stepDuration?: string | undefined;
  analysis?: string | undefined;
  shadowFirst?: string | undefined;
  promoteTo?: string | undefined;
  backend?: import('../rollout/setup.js').BackendFlags | undefined;
  /** Built-in analysis (without --analysis). */
  metricsUrl?: string[] | undefined;
  maxErrorRate?: number | undefined;
  maxP99Ms?: number | undefined;
  maxDrift?: number | undefined;
  maxLatencyRatio?: number | undefined;
  minRequests?: number | undefined;
  interval?: string | undefined;
  noSequential?: boolean | undefined;
}

export interface StartResult extends StatusResult {
  applied: string;
  analysis: { name: string; provider: string; query: string; condition: string; interval: string }[];
  warnings: string[];
}

export async function rolloutStart(ctx: Context, input: StartInput): Promise<StartResult> {
  // ---- everything local first ----
  const steps = parseSteps(input.steps ?? '5,25,50,100');
  const stepDurationMs = parseDuration(input.stepDuration ?? '10m', '--step-duration');
  const shadowMs = input.shadowFirst === undefined ? null : parseDuration(input.shadowFirst, '--shadow-first');
  const promoteTo = validateAliasName(input.promoteTo ?? 'production', '--promote-to');
  const setup = await import('../rollout/setup.js');
  const backendSpec = setup.backendSpec(input.backend ?? {});
  const analysis: Analysis = input.analysis
    ? await setup.readAnalysisFile(input.analysis, ctx.cwd)
    : defaultAnalysis({
        urls: input.metricsUrl?.length ? input.metricsUrl : ['http://127.0.0.1:8080/metrics'],
        maxErrorRate: input.maxErrorRate ?? DEFAULT_ANALYSIS.maxErrorRate,
        maxP99Ms: input.maxP99Ms ?? DEFAULT_ANALYSIS.maxP99Ms,
        maxDrift: input.maxDrift ?? DEFAULT_ANALYSIS.maxDrift,
        maxLatencyRatio: input.maxLatencyRatio ?? DEFAULT_ANALYSIS.maxLatencyRatio,
        minRequests: input.minRequests ?? DEFAULT_ANALYSIS.minRequests,
        intervalMs: input.interval ? parseDuration(input.interval, '--interval') : DEFAULT_ANALYSIS.intervalMs,
        alpha: input.noSequential ? null : DEFAULT_ANALYSIS.alpha,
      });
  if (input.analysis && (input.metricsUrl?.length || input.maxErrorRate !== undefined || input.maxP99Ms !== undefined))
    throw new UsageError('--analysis replaces the built-in checks: drop --metrics-url/--max-… or the file');

  // ---- the registry: refs READY, no rollout running ----
  const client = await ctx.mlflow();
  const call = { signal: ctx.signal };
  const [{ resolveRouteRef }, store, { providerFor }] = await Promise.all([
    import('../serve/route-store.js'),
    import('../rollout/store.js'),
    import('../rollout/providers/index.js'),
  ]);
  const model = await requireModel(client, input.name, call);
  const existing = store.storedOf(model);
  if (existing.state && !isFinal(existing.state.phase))
    throw new UsageError(
      `${model.name} already has a rollout ${existing.state.phase.replace('_', ' ')} (candidate v${existing.state.candidate.version})`,
      {
        hint: `mlv rollout status ${model.name}; abort it first to start another`,
      },
    );
  const versions = await listVersions(client, model.name, call);
  const candidate = (await resolveRouteRef(client, model, input.candidate, '--candidate', versions, call)).at;
  const stable = (await resolveRouteRef(client, model, input.stable ?? '@production', '--stable', versions, call)).at;
  if (candidate.version === stable.version)
    throw new InputError(
      `--candidate ${input.candidate} and --stable ${input.stable ?? '@production'} are the same version (${candidate.version})`,
    );

  const by = whoAmI(ctx.env).createdBy;
  const now = ctx.now().getTime();
  const id = `${now.toString(36)}-${Math.floor(ctx.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
  const { state, transition } = startRollout(
    {
      model: model.name,
      id,
      candidate,
      stable,
      steps,
      stepDurationMs,
      shadowMs,
      promoteTo,
      backend: backendSpec,
      by,
      now,
    },
    analysis,
  );

  // ---- the backend must answer; providers are checked but may come up later ----
  const backend = setup.makeBackend(backendSpec, {
    client,
    model: model.name,
    by,
    now: () => ctx.now(),
    signal: ctx.signal,
    cwd: ctx.cwd,
  });
  const { trafficOf } = await import('../rollout/controller.js');
  await backend.check(trafficOf(state));
  const warnings: string[] = [];
  const providers = new Map();
  for (const m of analysis.metrics) {
    try {
      await providerFor(m.provider, providers).check({
        model: model.name,
        candidateVersion: candidate.version,
        stableVersion: stable.version,
        signal: ctx.signal,
      });
    } catch (err) {
      const w = `${m.name}: the metrics source does not answer yet (${(err as Error).message}); its checks stay inconclusive until it does`;
      if (!warnings.includes(w)) warnings.push(w);
    }
  }
  for (const w of warnings) ctx.warn(w);

  // ---- write: analysis, traffic, then the state (the commit point) ----
  await store.writeAnalysis(client, model.name, analysis, call);
  const applied = await backend.apply(trafficOf(state));
  await store.commitTransition(
    client,
    state,
    transition,
    existing.state ? { id: existing.state.id, seq: existing.state.seq } : null,
    call,
  );
  await store.pruneHistory(client, model, id, call).catch(() => undefined);
  ctx.info(
    `${ctx.errStyle.pass} rollout of ${model.name} started: v${candidate.version} at ${state.weight} % (${applied})`,
  );
  return {
    ...statusOf(state, analysis, null, now),
    applied,
    analysis: analysis.metrics.map((m) => ({
      name: m.name,
      provider: m.provider.kind,
      query: m.query,
      condition: m.test ? `${m.test.kind} (α ${m.test.alpha})` : (m.successCondition ?? ''),
      interval: humanDuration(m.intervalMs),
    })),
    warnings,
  };
}

export function renderStart(r: StartResult, style: Style): string {
  return [
    renderStatus(r, style),
    `  ${style.dim('traffic:')} ${r.applied}`,
    ...r.analysis.map(
      (a) => `  ${style.dim('check')} ${a.name}: ${a.query} ${a.condition} every ${a.interval} (${a.provider})`,
    ),
    `next: mlv rollout run ${r.model}   (or mlv rollout step ${r.model} from cron)`,
  ].join('\n');
}

// ---- run / step ---------------------------------------------------------------------------------

export interface RunResult extends StatusResult {
  transitions: Transition[];
}

export async function rolloutRun(ctx: Context, input: { name: string } & RolloutIo): Promise<RunResult> {
  const [{ runUntilSettled }, store, render, { LiveBlock }] = await Promise.all([
    import('../rollout/controller.js'),
    import('../rollout/store.js'),
    import('../rollout/render.js'),
    import('../terminal/live.js'),
  ]);
  const d = await controllerDeps(ctx, input.name, input);
  const start = await store.requireRollout(d.client, input.name, { signal: ctx.signal });
  const transitions: Transition[] = [];
  const live = ctx.stderr.isTTY && !ctx.json ? new LiveBlock(ctx.stderr) : null;
  const line = (s: string) => ctx.info(render.progressLine(d.now(), s));
  if (!live)
    line(`driving ${start.state.model}: ${start.state.phase} at ${start.state.weight} % (${start.state.reason})`);
  const onTick = (t: TickResult) => {
    if (t.transition) transitions.push(t.transition);
    if (live) live.draw(render.statusBlock(t.state, t.analysis, d.now(), ctx.errStyle));
    else {
      for (const r of t.results) line(render.resultLine(r));
      if (t.transition) line(render.transitionLine(t.transition) + (t.applied ? ` [${t.applied}]` : ''));
    }
  };
  const host = (await import('node:os')).hostname();
  const last = await runUntilSettled(d, {
    holder: `${d.by} on ${host} (pid ${process.pid})`,
    token: `${host}:${process.pid}:${Math.floor(ctx.random() * 2 ** 32).toString(36)}`,
    host,
    pid: process.pid,
    onTick,
  });
  live?.done();
  const stored = await store.readStored(d.client, input.name, { signal: ctx.signal });
  return { ...statusOf(last.state, last.analysis, stored.lease, d.now()), transitions };
}

export function renderRun(r: RunResult, style: Style): string {
  return renderStatus(r, style);
}

export interface StepResult extends StatusResult {
  /** What this step did: the transition, or null when it only measured (or nothing was due). */
  transition: Transition | null;
  measured: CheckResult[];
}

export async function rolloutStep(ctx: Context, input: { name: string } & RolloutIo): Promise<StepResult> {
  const [{ tick }, store] = await Promise.all([import('../rollout/controller.js'), import('../rollout/store.js')]);
  const d = await controllerDeps(ctx, input.name, input);
  const host = (await import('node:os')).hostname();
  const me = {
    holder: `${d.by} on ${host} (pid ${process.pid}, rollout step)`,
    token: `${host}:${process.pid}:step`,
    host,
    pid: process.pid,
  };
  await store.acquireLease(d.client, input.name, me, d.now(), { signal: ctx.signal });
  try {
    const t = await tick(d, { waitForWindow: true });
    return { ...statusOf(t.state, t.analysis, null, d.now()), transition: t.transition, measured: t.results };
  } finally {
    await store.releaseLease(d.client, input.name, me.token, { signal: ctx.signal }).catch(() => undefined);
  }
}

export function renderStep(r: StepResult, style: Style): string {
  const did = r.transition
    ? `${r.transition.action}: ${r.transition.from.weight} % → ${r.transition.to.weight} % — ${r.transition.reason}`
    : r.measured.length > 0
      ? `measured ${r.measured.length} check${r.measured.length === 1 ? '' : 's'}; staying at ${r.weight} %`
      : isFinal(r.phase) || r.phase === 'paused'
        ? `nothing to do: the rollout is ${r.phase.replace('_', ' ')}`
        : `nothing due yet (next check ${r.next_check_at ?? '-'})`;
  return [did, renderStatus(r, style)].join('\n');
}

// ---- status -------------------------------------------------------------------------------------

export async function rolloutStatus(
  ctx: Context,
  input: { name: string; wait?: boolean | undefined; timeout?: string | undefined } & RolloutIo,
): Promise<StatusResult & { timed_out: boolean }> {
  const store = await import('../rollout/store.js');
  const client = await ctx.mlflow();
  const timeoutMs = input.timeout === undefined ? null : parseDuration(input.timeout, '--timeout');
  if (timeoutMs !== null && !input.wait) throw new UsageError('--timeout goes with --wait');
  const sleep = input.sleep ?? realSleep(ctx.signal);
  const started = ctx.now().getTime();
  for (;;) {
    const s = await store.requireRollout(client, input.name, { signal: ctx.signal });
    const now = ctx.now().getTime();
    const settled = isFinal(s.state.phase) || s.state.phase === 'paused';
    const timedOut = timeoutMs !== null && now - started >= timeoutMs;
    if (!input.wait || settled || timedOut || ctx.signal.aborted)
      return { ...statusOf(s.state, s.analysis, s.lease, now), timed_out: input.wait === true && !settled };
    await sleep(1000);
  }
}

// ---- pause / resume / abort / promote -----------------------------------------------------------

export async function rolloutManual(
  ctx: Context,
  input: { name: string; action: 'pause' | 'resume' | 'abort' | 'promote'; reason?: string | undefined } & RolloutIo,
): Promise<StatusResult & { transition: Transition; applied: string }> {
  const [{ executeDecision }, store] = await Promise.all([
    import('../rollout/controller.js'),
    import('../rollout/store.js'),
  ]);
  const d = await controllerDeps(ctx, input.name, input);
  const s = await store.requireRollout(d.client, input.name, { signal: ctx.signal });
  const words = { pause: 'paused', resume: 'resumed', abort: 'aborted', promote: 'promoted' }[input.action];
  const reason = `${words} by ${d.by}${input.reason ? `: ${input.reason}` : ''}`;
  const decision = manualDecision(s.state, input.action, reason);
  const r = await executeDecision(d, s.state, s.analysis, decision);
  ctx.info(`${ctx.errStyle.pass} ${s.state.model}: ${words} (${r.applied})`);
  return { ...statusOf(r.state, s.analysis, s.lease, d.now()), transition: r.transition, applied: r.applied };
}

// ---- history ------------------------------------------------------------------------------------

export async function rolloutHistory(
  ctx: Context,
  input: { name: string },
): Promise<{ model: string; id: string; transitions: Transition[] }> {
  const store = await import('../rollout/store.js');
  const client = await ctx.mlflow();
  const s = await store.requireRollout(client, input.name, { signal: ctx.signal });
  return { model: s.state.model, id: s.state.id, transitions: store.historyOf(s.model, s.state) };
}

// ---- command-line -------------------------------------------------------------------------------

function durationArg(flag: string) {
  return (v: string): string => {
    try {
      parseDuration(v, flag);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    return v;
  };
}

const probability = (flag: string) => numberArg(flag, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
const positive = (flag: string) => numberArg(flag, (x) => x > 0, 'a number > 0');

export function registerRollout(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('progressive rollout: traffic steps with health analysis, automatic rollback')
    .addHelpText(
      'after',
      `
Exit codes of run, step and status: 0 progressing or promoted · 1 rolled back or aborted · 5 paused
(not enough data, or the metrics provider failing; run says 3 for the latter) · 2 usage, or another
controller holds the lease · 3 registry or metrics source unreachable.
Examples:
  mlv rollout start churn --candidate v1.3.0 --steps 5,25,50,100 --step-duration 10m
  mlv rollout run churn
  mlv rollout status churn --wait --timeout 1h`,
    );

  rollout
    .command('start')
    .description('validate everything, record the rollout and set the first step')
    .argument('<name>', 'registered model')
    .requiredOption('--candidate <ref>', 'the version to roll out: 3, v1.3.0 or @alias')
    .option('--stable <ref>', 'the version it replaces', '@production')
    .option('--steps <weights>', 'candidate weights in %, increasing', '5,25,50,100')
    .option('--step-duration <d>', 'minimum time per step (2s, 10m, 1h)', durationArg('--step-duration'), '10m')
    .option('--analysis <file>', 'analysis file (JSON or YAML) instead of the built-in checks')
    .option(
      '--shadow-first <d>',
      'mirror traffic to the candidate for this long before the first step',
      durationArg('--shadow-first'),
    )
    .option('--promote-to <alias>', 'alias moved to the candidate when promoted', 'production')
    .option('--backend <kind>', 'where the weight goes: route, kubernetes or command', 'route')
    .option(
      '--command <template>',
      'command backend: run per weight change ({weight}, {stable_weight}, {candidate}, {stable})',
    )
    .option('--verify-command <template>', 'command backend: prints the weight in effect (read-back)')
    .option('--kube-mode <mode>', 'kubernetes backend: replicas or httproute')
    .option('--namespace <ns>', 'kubernetes namespace', 'default')
    .option('--stable-deployment <name>', 'kubernetes replicas: the stable Deployment')
    .option('--canary-deployment <name>', 'kubernetes replicas: the canary Deployment')
    .option('--replicas <n>', 'kubernetes replicas: total replicas to split', intArg('--replicas', 1))
    .option('--httproute <name>', 'kubernetes httproute: the Gateway API HTTPRoute')
    .option('--stable-service <name>', 'kubernetes httproute: the stable Service')
    .option('--canary-service <name>', 'kubernetes httproute: the canary Service')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG or ~/.kube/config)')
    .option('--kube-context <name>', 'kubeconfig context')
    .option('--metrics-url <url>', 'built-in checks: mlv serve /metrics to read (repeatable)', collect)
    .option(
      '--max-error-rate <r>',
      `built-in: candidate error rate at most (default ${DEFAULT_ANALYSIS.maxErrorRate})`,
      probability('--max-error-rate'),
    )
    .option(
      '--max-p99-ms <ms>',
      `built-in: candidate p99 latency at most (default ${DEFAULT_ANALYSIS.maxP99Ms})`,
      positive('--max-p99-ms'),
    )
    .option(
      '--max-drift <d>',
      `built-in: prediction drift vs stable at most (default ${DEFAULT_ANALYSIS.maxDrift})`,
      probability('--max-drift'),
    )
    .option(
      '--max-latency-ratio <x>',
      'built-in: also require candidate p99 ≤ x · stable p99 + 5 ms',
      positive('--max-latency-ratio'),
    )
    .option(
      '--min-requests <n>',
      `built-in: fewer candidate requests in a window is inconclusive (default ${DEFAULT_ANALYSIS.minRequests})`,
      intArg('--min-requests', 0),
    )
    .option('--interval <d>', 'built-in: measure every (default 10s)', durationArg('--interval'))
    .option('--no-sequential', 'built-in: drop the "error rate not worse than stable" sequential test')
    .action(
      action(async (ctx, name: string, f: Record<string, unknown>) => {
        const result = await rolloutStart(ctx, {
          name,
          candidate: f.candidate as string,
          stable: f.stable as string,
          steps: f.steps as string,
          stepDuration: f.stepDuration as string,
          analysis: f.analysis as string | undefined,
          shadowFirst: f.shadowFirst as string | undefined,
          promoteTo: f.promoteTo as string,
          backend: f as import('../rollout/setup.js').BackendFlags,
          metricsUrl: f.metricsUrl as string[] | undefined,
          maxErrorRate: f.maxErrorRate as number | undefined,
          maxP99Ms: f.maxP99Ms as number | undefined,
          maxDrift: f.maxDrift as number | undefined,
          maxLatencyRatio: f.maxLatencyRatio as number | undefined,
          minRequests: f.minRequests as number | undefined,
          interval: f.interval as string | undefined,
          noSequential: f.sequential === false,
        });
        ctx.output(result, renderStart);
      }),
    );

  rollout
    .command('run')
    .description('drive the remaining steps in the foreground (live view on a terminal)')
    .argument('<name>', 'registered model')
    .action(
      action(async (ctx, name: string) => {
        const result = await rolloutRun(ctx, { name });
        ctx.output(result, renderRun);
        settle(result, { providerIsRemote: true });
      }),
    );

  rollout
    .command('step')
    .description('one check-and-advance, then exit (for cron or a script loop)')
    .argument('<name>', 'registered model')
    .action(
      action(async (ctx, name: string) => {
        const result = await rolloutStep(ctx, { name });
        ctx.output(result, renderStep);
        settle(result);
      }),
    );

  rollout
    .command('status')
    .description('state, step, weights and last checks (exit 0 progressing/promoted, 1 rolled back/aborted, 5 paused)')
    .argument('<name>', 'registered model')
    .option('--wait', 'wait until promoted, rolled back, aborted or paused')
    .option('--timeout <d>', 'with --wait: give up after this long (exit 1)', durationArg('--timeout'))
    .action(
      action(async (ctx, name: string, f: { wait?: boolean; timeout?: string }) => {
        const result = await rolloutStatus(ctx, { name, wait: f.wait, timeout: f.timeout });
        ctx.output(result, renderStatus);
        if (result.timed_out)
          throw new CheckFailedError(`the rollout of ${result.model} is still ${result.phase} after ${f.timeout}`);
        settle(result);
      }),
    );

  for (const [verb, description] of [
    ['pause', 'hold the current weight; no more steps until resume'],
    ['resume', 'continue a paused rollout (the step starts over)'],
    ['abort', 'all traffic back to stable now; the alias is unchanged'],
    ['promote', 'skip the remaining steps: candidate takes 100 % and the alias moves to it'],
  ] as const) {
    rollout
      .command(verb)
      .description(description)
      .argument('<name>', 'registered model')
      .option('--reason <text>', 'why (recorded in the history)')
      .action(
        action(async (ctx, name: string, f: { reason?: string }) => {
          const result = await rolloutManual(ctx, { name, action: verb, reason: f.reason });
          ctx.output(result, renderStatus);
        }),
      );
  }

  rollout
    .command('history')
    .description('every transition with the numbers that caused it')
    .argument('<name>', 'registered model')
    .action(
      action(async (ctx, name: string) => {
        const result = await rolloutHistory(ctx, { name });
        const { renderHistory } = await import('../rollout/render.js');
        ctx.output(result, (r, style) => renderHistory(r.transitions, style));
      }),
    );
}
