import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  rolloutHistory,
  rolloutManual,
  rolloutRun,
  rolloutStart,
  rolloutStatus,
  rolloutStep,
  renderStatus,
} from '../../src/commands/rollout.js';
import type { OutStream } from '../../src/context.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import { readAuditTrail } from '../../src/registry/audit.js';
import { requireModel } from '../../src/registry/versions.js';
import { acquireLease } from '../../src/rollout/store.js';
import { readRoute } from '../../src/serve/route-store.js';
import type { RunningServer } from '../../src/server/index.js';
import { createContext } from '../../src/run.js';
import { plainStyle } from '../../src/terminal/style.js';
import { tempDir } from '../helpers/cli.js';
import { Capture } from '../helpers/context.js';
import { FakeServeMetrics } from './fake-serve.js';

/**
 * The rollout verbs against the embedded registry on a loopback port and prom-client metrics
 * standing in for mlv serve; the clock is fake: `sleep` advances it and plays the traffic.
 */

let server: RunningServer;
let client: MlflowClient;
let metrics: FakeServeMetrics;
let clock = Date.parse('2026-12-01T12:00:00Z');

/** Per simulated second: requests per version and their error share (set by each test). */
let traffic: (weight: number) => {
  candidate: number;
  stable: number;
  candidateErrors?: number;
  seconds?: number;
} = () => ({
  candidate: 0,
  stable: 0,
});
let model = 'churn';
let versions = { stable: '1', candidate: '2' };

async function currentWeight(): Promise<number> {
  const r = await readRoute(client, model);
  return r?.candidate?.weight ?? 0;
}

async function sleep(ms: number) {
  const w = await currentWeight();
  for (let t = 0; t < ms; t += 1000) {
    const x = traffic(w);
    metrics.record(model, versions.stable, 'stable', x.stable, { seconds: 0.002, cls: 'yes' });
    metrics.record(model, versions.candidate, 'candidate', x.candidate, {
      errors: x.candidateErrors ?? 0,
      seconds: x.seconds ?? 0.002,
      cls: 'yes',
    });
  }
  clock += ms;
}

function context(json = false, tty = false) {
  const stdout = new Capture(tty);
  const stderr = new Capture(tty);
  const ctx = createContext(
    { json },
    {
      stdout: stdout as OutStream,
      stderr: stderr as OutStream,
      stdin: new PassThrough(),
      env: { NO_COLOR: '1', GITHUB_ACTOR: 'tester' },
      cwd: process.cwd(),
      signal: new AbortController().signal,
      now: () => new Date(clock),
      random: () => 0.5,
      connect: async () => ({ client, label: 'test registry', close: async () => {} }),
    },
  );
  return { ctx, stdout, stderr };
}

beforeAll(async () => {
  const { startServer } = await import('../../src/server/index.js');
  server = await startServer({ storeDir: path.join(tempDir('mlv-rollout-'), 'store'), host: '127.0.0.1', port: 0 });
  client = new MlflowClient(resolveClientConfig({ MLFLOW_TRACKING_URI: server.url }, undefined)!);
  for (const name of ['churn', 'fraud', 'quiet', 'down', 'lease', 'abort', 'live', 'shadow']) {
    await client.createRegisteredModel({ name });
    for (let i = 0; i < 3; i++) await client.createModelVersion({ name, source: `s3://bucket/${name}/m${i}` });
    await client.setRegisteredModelAlias(name, 'production', '1');
  }
  metrics = new FakeServeMetrics();
  await metrics.listen();
});
afterAll(async () => {
  await metrics?.close();
  await client?.close();
  await server?.close();
});

const startInput = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  candidate: '2',
  steps: '10,50,100',
  stepDuration: '3s',
  interval: '1s',
  minRequests: 10,
  metricsUrl: [metrics.url],
  ...extra,
});

describe('rollout commands', () => {
  it('a healthy candidate goes through every step and is promoted: alias moved, audit trail, route', async () => {
    model = 'churn';
    versions = { stable: '1', candidate: '2' };
    traffic = (w) => ({ candidate: Math.round(w * 2), stable: Math.round((100 - w) * 2) || 1 });
    const started = await rolloutStart(context().ctx, startInput('churn'));
    expect(started).toMatchObject({
      phase: 'progressing',
      weight: 10,
      step: 0,
      candidate: { version: '2' },
      stable: { version: '1', ref: '@production' },
    });
    expect(started.applied).toBe('route revision 1: stable v1, candidate v2 at 10%');
    expect(await currentWeight()).toBe(10);

    const { ctx, stderr } = context();
    const r = await rolloutRun(ctx, { name: 'churn', sleep });
    expect(r.phase).toBe('promoted');
    expect(r.transitions.map((t) => [t.action, t.to.weight])).toEqual([
      ['advance', 50],
      ['advance', 100],
      ['promote', 100],
    ]);
    expect(stderr.text).toMatch(/error-rate successful: 0 <= 0\.01/);
    expect(stderr.text).toMatch(/error-rate-vs-stable successful: 0% vs stable 0%/);
    const m = await requireModel(client, 'churn');
    expect(m.aliases.find((a) => a.alias === 'production')?.version).toBe('2');
    expect(readAuditTrail(m).at(-1)).toMatchObject({
      action: 'promote',
      target: 'production',
      version: '2',
      previous: '1',
    });
    const route = await readRoute(client, 'churn');
    expect(route).toMatchObject({ stable: { version: '2' }, candidate: null });
    const h = await rolloutHistory(context().ctx, { name: 'churn' });
    expect(h.transitions.map((t) => t.action)).toEqual(['start', 'advance', 'advance', 'promote']);
    expect(h.transitions[1]!.reason).toMatch(/^step 1\/3 \(10%\) passed after 3s: error-rate 3\/3 ok/);
    expect((await rolloutStatus(context().ctx, { name: 'churn' })).exit_code).toBe(0);
  });

  it('a candidate whose error rate degrades is rolled back at the first bad window, reason and numbers recorded', async () => {
    model = 'fraud';
    versions = { stable: '1', candidate: '2' };
    traffic = (w) => ({ candidate: 50, stable: 200, candidateErrors: w > 0 ? 10 : 0 });
    await rolloutStart(context().ctx, startInput('fraud'));
    const before = clock;
    const r = await rolloutRun(context().ctx, { name: 'fraud', sleep });
    expect(r.phase).toBe('rolled_back');
    expect(clock - before).toBe(1000); // one interval
    expect(r.reason).toBe('error-rate: 0.2 > 0.01 (1 failed > failureLimit 0)');
    expect(r.weight).toBe(0);
    expect(await readRoute(client, 'fraud')).toMatchObject({
      stable: { version: '1' },
      candidate: { version: '2', weight: 0 },
    });
    const m = await requireModel(client, 'fraud');
    expect(m.aliases.find((a) => a.alias === 'production')?.version).toBe('1');
    const h = await rolloutHistory(context().ctx, { name: 'fraud' });
    const last = h.transitions.at(-1)!;
    expect(last.action).toBe('rollback');
    expect(last.checks.find((c) => c.metric === 'error-rate')).toMatchObject({
      phase: 'failed',
      value: 0.2,
      detail: '0.2 > 0.01',
    });
    expect(renderStatus(await rolloutStatus(context().ctx, { name: 'fraud' }), plainStyle)).toContain('rolled back');
  });

  it('no traffic is inconclusive: paused, not promoted (exit 5)', async () => {
    model = 'quiet';
    traffic = () => ({ candidate: 0, stable: 0 });
    await rolloutStart(context().ctx, startInput('quiet'));
    const r = await rolloutRun(context().ctx, { name: 'quiet', sleep });
    expect(r).toMatchObject({ phase: 'paused', pause_cause: 'inconclusive', exit_code: 5, weight: 10 });
    expect(r.reason).toMatch(/not enough traffic: 0 < 10 requests/);
    expect((await requireModel(client, 'quiet')).aliases.find((a) => a.alias === 'production')?.version).toBe('1');
    const resumed = await rolloutManual(context().ctx, { name: 'quiet', action: 'resume' });
    expect(resumed).toMatchObject({ phase: 'progressing', weight: 10 });
  });

  it('the metrics source down: provider errors → paused, saying so', async () => {
    model = 'down';
    traffic = () => ({ candidate: 100, stable: 100 });
    await rolloutStart(context().ctx, startInput('down'));
    metrics.broken = true;
    try {
      const r = await rolloutRun(context().ctx, { name: 'down', sleep });
      expect(r).toMatchObject({ phase: 'paused', pause_cause: 'provider' });
      expect(r.reason).toMatch(
        /^error-rate: the metrics provider failed 5 times in a row \(> consecutiveErrorLimit 4\): .*HTTP 500/,
      );
    } finally {
      metrics.broken = false;
    }
  });

  it('a second controller is refused naming the holder; abort is immediate without the lease', async () => {
    model = 'lease';
    traffic = () => ({ candidate: 100, stable: 100 });
    await rolloutStart(context().ctx, startInput('lease'));
    await acquireLease(client, 'lease', { holder: 'ana on ci-7 (pid 1)', token: 'other' }, clock);
    await expect(rolloutStep(context().ctx, { name: 'lease', sleep })).rejects.toMatchObject({
      exitCode: 2,
      message: 'the rollout of lease is driven by ana on ci-7 (pid 1) (lease for 30 s more)',
    });
    await expect(rolloutRun(context().ctx, { name: 'lease', sleep })).rejects.toMatchObject({ exitCode: 2 });
    // An expired lease is taken over.
    clock += 31_000;
    const s = await rolloutStep(context().ctx, { name: 'lease', sleep });
    expect(s.phase).toBe('progressing');
    const a = await rolloutManual(context().ctx, { name: 'lease', action: 'abort', reason: 'looks odd' });
    expect(a).toMatchObject({ phase: 'aborted', weight: 0, reason: 'aborted by tester: looks odd' });
    expect((await readRoute(client, 'lease'))?.candidate?.weight).toBe(0);
    await expect(rolloutManual(context().ctx, { name: 'lease', action: 'resume' })).rejects.toThrow(
      /is over \(aborted\)/,
    );
  });

  it('on a terminal, run redraws a live view: step, weight, each check with its numbers', async () => {
    model = 'live';
    traffic = (w) => ({ candidate: Math.round(w * 2), stable: Math.round((100 - w) * 2) || 1 });
    await rolloutStart(context().ctx, startInput('live', { steps: '50,100' }));
    const { ctx, stderr } = context(false, true);
    const r = await rolloutRun(ctx, { name: 'live', sleep });
    expect(r.phase).toBe('promoted');
    const frames = stderr.text.split('\x1b[');
    expect(frames.length).toBeGreaterThan(3); // cursor-up + clear before every redraw
    expect(stderr.text).toMatch(/live {2}candidate v2 \(2\) vs stable v1 \(@production\)/);
    expect(stderr.text).toMatch(/step 1\/2 \(50 → 100 %\) {2}weight 50 % {2}step ends in \d+s/);
    expect(stderr.text).toMatch(/error-rate +successful +0 <= 0\.01/);
    expect(stderr.text).not.toMatch(/^\d{4}-\d\d-\d\dT.* error-rate successful/m); // no plain lines on a TTY
  });

  it('--shadow-first mirrors the candidate with no traffic on it, then starts the steps', async () => {
    model = 'shadow';
    traffic = (w) => ({ candidate: Math.round(w * 2), stable: Math.round((100 - w) * 2) || 1 });
    const s = await rolloutStart(context().ctx, startInput('shadow', { shadowFirst: '2s', steps: '50,100' }));
    expect(s).toMatchObject({ phase: 'shadow', weight: 0, step: -1 });
    expect(await readRoute(client, 'shadow')).toMatchObject({
      stable: { version: '1' },
      candidate: null,
      shadow: { version: '2', percent: 100 },
    });
    const r = await rolloutRun(context().ctx, { name: 'shadow', sleep });
    expect(r.phase).toBe('promoted');
    const h = await rolloutHistory(context().ctx, { name: 'shadow' });
    expect(h.transitions.map((t) => `${t.action} ${t.to.phase} ${t.to.weight}`)).toEqual([
      'start shadow 0',
      'advance progressing 50',
      'advance progressing 100',
      'promote promoted 100',
    ]);
    expect(h.transitions[1]!.reason).toBe('shadow phase over after 2s');
    expect(await readRoute(client, 'shadow')).toMatchObject({
      stable: { version: '2' },
      candidate: null,
      shadow: null,
    });
  });

  it('start validates before writing anything', async () => {
    model = 'abort';
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ candidate: '9' }, /no version 9|version 9/],
      [{ candidate: '1' }, /same version \(1\)/],
      [{ steps: '50,10' }, /--steps must be increasing/],
      [{ analysis: '/nonexistent.json' }, /--analysis \/nonexistent.json: no such file/],
      [{ backend: { backend: 'command' } }, /--backend command needs --command/],
    ];
    for (const [extra, message] of cases) {
      await expect(rolloutStart(context().ctx, startInput('abort', extra))).rejects.toThrow(message);
    }
    const m = await requireModel(client, 'abort');
    expect(m.tags.filter((t) => t.key.startsWith('mlv.'))).toEqual([]);
    await rolloutStart(context().ctx, startInput('abort'));
    await expect(rolloutStart(context().ctx, startInput('abort'))).rejects.toThrow(/already has a rollout progressing/);
    const promoted = await rolloutManual(context().ctx, { name: 'abort', action: 'promote' });
    expect(promoted).toMatchObject({ phase: 'promoted', weight: 100 });
    expect((await requireModel(client, 'abort')).aliases.find((a) => a.alias === 'production')?.version).toBe('2');
    expect(await readRoute(client, 'abort')).toMatchObject({ stable: { version: '2' }, candidate: null });
  });
});
