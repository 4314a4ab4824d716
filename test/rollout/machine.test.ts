import { describe, expect, it } from 'vitest';
import { parseAnalysis, type Analysis } from '../../src/core/rollout/analysis.js';
import {
  applyDecision,
  decide,
  dueMetrics,
  exitCodeForPhase,
  manualDecision,
  nextWakeAt,
  observe,
  parseSteps,
  startRollout,
  type RolloutState,
} from '../../src/core/rollout/machine.js';
import type { Measurement } from '../../src/core/rollout/measurement.js';

const url = 'http://127.0.0.1:1/metrics';
const analysis: Analysis = parseAnalysis({
  metrics: [
    {
      name: 'p99-latency',
      provider: { serve: { url } },
      query: 'p99_latency_ms',
      successCondition: 'result <= 25',
      interval: '2s',
      count: 2,
      failureLimit: 0,
      inconclusiveLimit: 1,
      minRequests: 10,
    },
    {
      name: 'error-rate',
      provider: { serve: { url } },
      query: 'error_rate',
      successCondition: 'result <= 0.01',
      interval: '2s',
      failureLimit: 1,
      consecutiveErrorLimit: 2,
    },
  ],
});

function start(shadowMs: number | null = null): RolloutState {
  return startRollout(
    {
      model: 'm',
      id: 'r1',
      candidate: { version: '2', ref: '2' },
      stable: { version: '1', ref: '@production' },
      steps: [5, 50, 100],
      stepDurationMs: 4000,
      shadowMs,
      promoteTo: 'production',
      backend: { kind: 'route' },
      by: 'tester',
      now: 0,
    },
    analysis,
  ).state;
}

const good = (p99 = 10): Measurement[] => [
  { values: { result: p99, requests: 50 } },
  { values: { result: 0, requests: 50 } },
];

/** Feeds one round of measurements at `now` for the due metrics and applies the decision. */
function round(s: RolloutState, now: number, ms: Measurement[]) {
  const due = dueMetrics(s, analysis, now);
  const names = analysis.metrics.map((m) => m.name);
  const measured = due.map((name) => ({ metric: name, measurement: ms[names.indexOf(name)]! }));
  const o = observe(s, analysis, measured, now);
  const d = decide(o.state, analysis, now);
  if (!d) return { state: o.state, decision: null, transition: null };
  const a = applyDecision(o.state, analysis, d, now, 'tester');
  return { state: a.state, decision: d, transition: a.transition };
}

describe('steps', () => {
  it.each([
    ['5,25,50,100', [5, 25, 50, 100]],
    ['100', [100]],
    ['0.5, 1.25,10', [0.5, 1.25, 10]],
  ])('%s', (t, s) => expect(parseSteps(t)).toEqual(s));
  it.each(['', '5,5', '50,25', '0,10', '5,101', '1.234', 'a'])('refuses %j', (t) =>
    expect(() => parseSteps(t)).toThrow(/--steps must be increasing weights/),
  );
});

describe('the state machine', () => {
  it('starts at the first step, or in shadow at weight 0', () => {
    expect(start()).toMatchObject({ phase: 'progressing', step: 0, weight: 5, seq: 1 });
    expect(start(3000)).toMatchObject({ phase: 'shadow', step: -1, weight: 0 });
  });

  it('measures one interval after the step began, then every interval', () => {
    const s = start();
    expect(dueMetrics(s, analysis, 1999)).toEqual([]);
    expect(dueMetrics(s, analysis, 2000)).toEqual(['p99-latency', 'error-rate']);
    expect(nextWakeAt(s, analysis)).toBe(2000);
    const o = observe(s, analysis, [{ metric: 'p99-latency', measurement: good()[0]! }], 2000);
    expect(dueMetrics(o.state, analysis, 3000)).toEqual(['error-rate']);
  });

  it('a healthy candidate walks every step and is promoted', () => {
    let s = start();
    const log: string[] = [];
    for (let t = 2000; t <= 20_000 && s.phase === 'progressing'; t += 2000) {
      const r = round(s, t, good());
      s = r.state;
      if (r.transition) log.push(`${t} ${r.transition.action} → ${r.transition.to.weight}`);
    }
    // Step duration 4 s, p99 needs count 2 (at 2 s and 4 s): each step passes at its 4 s mark.
    expect(log).toEqual(['4000 advance → 50', '8000 advance → 100', '12000 promote → 100']);
    expect(s).toMatchObject({ phase: 'promoted', weight: 100, seq: 4 });
    expect(s.reason).toBe('step 3/3 (100%) passed after 4s: p99-latency 2/2 ok, error-rate 2/2 ok');
    expect(exitCodeForPhase(s.phase)).toBe(0);
  });

  it('a failure beyond failureLimit 0 rolls back at once, naming the check and its numbers', () => {
    const r = round(start(), 2000, good(51.2));
    expect(r.decision?.action).toBe('rollback');
    expect(r.state).toMatchObject({ phase: 'rolled_back', weight: 0 });
    expect(r.transition?.reason).toBe('p99-latency: 51.2 > 25 (1 failed > failureLimit 0)');
    expect(r.transition?.checks.map((c) => [c.metric, c.phase, c.value])).toEqual([
      ['p99-latency', 'failed', 51.2],
      ['error-rate', 'successful', 0],
    ]);
    expect(exitCodeForPhase(r.state.phase)).toBe(1);
  });

  it('failureLimit 1 tolerates one failed measurement, not two', () => {
    const bad: Measurement[] = [{ values: { result: 10, requests: 50 } }, { values: { result: 0.5, requests: 50 } }];
    const r1 = round(start(), 2000, bad);
    expect(r1.decision).toBeNull();
    const r2 = round(r1.state, 4000, bad);
    expect(r2.transition?.reason).toBe('error-rate: 0.5 > 0.01 (2 failed > failureLimit 1)');
  });

  it('no traffic is inconclusive and pauses beyond inconclusiveLimit, never promotes', () => {
    const none: Measurement[] = [{ values: { result: null, requests: 0 } }, { values: { result: 0, requests: 50 } }];
    const r1 = round(start(), 2000, none);
    expect(r1.decision).toBeNull();
    const r2 = round(r1.state, 4000, none);
    expect(r2.decision).toMatchObject({ action: 'pause', cause: 'inconclusive' });
    expect(r2.transition?.reason).toBe(
      'p99-latency: not enough traffic: 0 < 10 requests (2 inconclusive > inconclusiveLimit 1)',
    );
    expect(r2.state).toMatchObject({
      phase: 'paused',
      weight: 5,
      pause: { cause: 'inconclusive', from: 'progressing' },
    });
    expect(exitCodeForPhase(r2.state.phase)).toBe(5);
    expect(dueMetrics(r2.state, analysis, 10_000)).toEqual([]);
    // inconclusiveLimit 0 (error-rate's default): the first inconclusive measurement pauses.
    const r3 = round(start(), 2000, [none[1]!, { values: { result: null, requests: 0 } }]);
    expect(r3.transition?.reason).toBe('error-rate: no data (1 inconclusive > inconclusiveLimit 0)');
  });

  it('provider errors beyond consecutiveErrorLimit pause (not roll back) and say so', () => {
    const down: Measurement[] = [
      { values: { result: 10, requests: 50 } },
      { error: 'connect ECONNREFUSED 127.0.0.1:9090' },
    ];
    let s = start();
    const reasons: (string | undefined)[] = [];
    for (const t of [2000, 4000, 6000]) {
      const r = round(s, t, down);
      s = r.state;
      reasons.push(r.transition?.reason);
    }
    expect(reasons.slice(0, 2)).toEqual([undefined, undefined]);
    expect(reasons[2]).toBe(
      'error-rate: the metrics provider failed 3 times in a row (> consecutiveErrorLimit 2): connect ECONNREFUSED 127.0.0.1:9090',
    );
    expect(s).toMatchObject({ phase: 'paused', pause: { cause: 'provider' } });
  });

  it('errors do not count as measurements: the step cannot pass on them', () => {
    const s = start();
    const o = observe(s, analysis, [{ metric: 'error-rate', measurement: { error: 'x' } }], 2000);
    expect(o.state.tallies['error-rate']).toMatchObject({ measurements: 0, errors: 1, consecutiveErrors: 1 });
  });

  it('resume starts the step over with fresh counters', () => {
    const paused = applyDecision(start(), analysis, manualDecision(start(), 'pause', 'by hand'), 1000, 'me').state;
    expect(paused).toMatchObject({ phase: 'paused', reason: 'by hand', seq: 2 });
    const resumed = applyDecision(paused, analysis, manualDecision(paused, 'resume', 'resumed'), 9000, 'me').state;
    expect(resumed).toMatchObject({
      phase: 'progressing',
      step: 0,
      weight: 5,
      stepStartedAt: 9000,
      pause: null,
      seq: 3,
    });
    expect(resumed.tallies['p99-latency']!.measurements).toBe(0);
  });

  it('abort and promote are immediate; a finished rollout refuses more', () => {
    const s = start();
    const aborted = applyDecision(s, analysis, manualDecision(s, 'abort', 'stop'), 10, 'me');
    expect(aborted.state).toMatchObject({ phase: 'aborted', weight: 0 });
    expect(aborted.transition.from).toEqual({ phase: 'progressing', step: 0, weight: 5 });
    expect(applyDecision(s, analysis, manualDecision(s, 'promote', 'ship'), 10, 'me').state).toMatchObject({
      phase: 'promoted',
      weight: 100,
    });
    expect(() => manualDecision(aborted.state, 'resume', '')).toThrow(/is over \(aborted\)/);
    expect(() => manualDecision(s, 'resume', '')).toThrow(/is not paused/);
  });

  it('the shadow phase runs no analysis and then moves to the first step', () => {
    const s = start(3000);
    expect(dueMetrics(s, analysis, 10_000)).toEqual([]);
    expect(decide(s, analysis, 2999)).toBeNull();
    const d = decide(s, analysis, 3000)!;
    expect(d.reason).toBe('shadow phase over after 3s');
    expect(applyDecision(s, analysis, d, 3000, 'me').state).toMatchObject({
      phase: 'progressing',
      step: 0,
      weight: 5,
      stepStartedAt: 3000,
    });
  });

  it('at 100 % the comparative checks (stable has no traffic) are not measured nor required', () => {
    const cmp = parseAnalysis({
      metrics: [
        {
          name: 'p99',
          provider: { serve: { url } },
          query: 'p99_latency_ms',
          successCondition: 'result < 25',
          interval: '1s',
        },
        { name: 'vs', provider: { serve: { url } }, query: 'error_rate', test: 'error-rate-not-worse', interval: '1s' },
        {
          name: 'drift',
          provider: { serve: { url } },
          query: 'drift',
          successCondition: 'result < 0.1',
          interval: '1s',
        },
        {
          name: 'ratio',
          provider: { serve: { url } },
          query: 'p99_latency_ms',
          successCondition: 'candidate < stable * 2',
          interval: '1s',
        },
      ],
    });
    const s = {
      ...startRollout({ ...start(), stepDurationMs: 1000, shadowMs: null, now: 0 }, cmp).state,
      step: 2,
      weight: 100,
    };
    expect(dueMetrics(s, cmp, 1000)).toEqual(['p99']);
    const o = observe(s, cmp, [{ metric: 'p99', measurement: { values: { result: 3 } } }], 1000);
    expect(decide(o.state, cmp, 1000)?.action).toBe('promote');
    expect(dueMetrics({ ...s, weight: 50, step: 1 }, cmp, 1000)).toEqual(['p99', 'vs', 'drift', 'ratio']);
  });

  it('a restarted controller measures one interval after its window opened', () => {
    const s = start();
    expect(dueMetrics(s, analysis, 10_000)).toEqual(['p99-latency', 'error-rate']);
    expect(dueMetrics(s, analysis, 10_000, 9000)).toEqual([]);
    expect(dueMetrics(s, analysis, 11_000, 9000)).toEqual(['p99-latency', 'error-rate']);
    expect(nextWakeAt(s, analysis, 9000)).toBe(4000);
  });

  it('the sequential check accumulates counts over the step', () => {
    const seq = parseAnalysis({
      metrics: [
        { name: 'vs', provider: { serve: { url } }, query: 'error_rate', test: 'error-rate-not-worse', interval: '1s' },
      ],
    });
    let s = startRollout({ ...start(), stepDurationMs: 100_000, shadowMs: null, now: 0 }, seq).state;
    const window = { candidate: { requests: 500, errors: 15 }, stable: { requests: 500, errors: 5 } };
    const phases: string[] = [];
    for (const t of [1000, 2000, 3000, 4000]) {
      const o = observe(s, seq, [{ metric: 'vs', measurement: { values: { result: 0.03 }, counts: window } }], t);
      s = o.state;
      phases.push(o.results[0]!.phase);
    }
    expect(s.tallies.vs!.cumulative).toEqual({
      candidate: { requests: 2000, errors: 60 },
      stable: { requests: 2000, errors: 20 },
    });
    // 500/15 vs 500/5 alone is not enough evidence; by 2000/60 vs 2000/20 it is (p < 0.05).
    expect(phases[0]).toBe('successful');
    expect(phases[3]).toBe('failed');
  });
});
