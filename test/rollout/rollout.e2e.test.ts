import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import { canaryRoute } from '../../src/core/serve/route.js';
import { readAuditTrail } from '../../src/registry/audit.js';
import { readStored } from '../../src/rollout/store.js';
import { writeRoute } from '../../src/serve/route-store.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { repoRoot, runMlv, tempDir } from '../helpers/cli.js';
import { register, serve, type Served } from '../serve/helpers.js';
import { prometheus as prometheusTool, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';
import { load, spawnMlv, writeSlowClassifier } from './e2e-helpers.js';

/**
 * `mlv rollout` end to end: the built CLI against a temporary embedded registry, real `mlv serve`
 * processes answering real HTTP load from the test, and (when installed) a real Prometheus scraping
 * them every second. Steps and intervals are seconds, so the whole file takes about half a minute.
 */

let registry: RunningServer;
let client: MlflowClient;
let home = '';
const serves: Record<string, Served> = {};
let prometheus: RunningPrometheus | undefined;

const mlv = (args: string[], timeoutMs = 60_000) =>
  runMlv(args, { cwd: home, env: { MLFLOW_TRACKING_URI: registry.url, MLV_HOME: path.join(home, '.mlv') }, timeoutMs });
const env = () => ({ MLFLOW_TRACKING_URI: registry.url });
const alias = async (name: string) =>
  (await client.getRegisteredModel(name)).aliases.find((a) => a.alias === 'production')?.version;
async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
/** The recorded state, read in-process (polling through the CLI would cost a second a call). */
async function status(name: string) {
  const s = await readStored(client, name);
  return {
    step: s.state!.step,
    phase: s.state!.phase,
    pause_cause: s.state!.pause?.cause ?? null,
    lease: s.lease,
    checks: Object.values(s.state!.tallies).flatMap((t) => (t.last ? [t.last] : [])),
  };
}

const start = (name: string, extra: string[]) =>
  mlv([
    '--json',
    'rollout',
    'start',
    name,
    '--candidate',
    '2',
    '--metrics-url',
    `${serves[name]!.url}/metrics`,
    ...extra,
  ]);

beforeAll(async () => {
  home = tempDir('mlv-rollout-e2e-');
  registry = await startServer({ storeDir: path.join(home, 'store'), host: '127.0.0.1', port: 0 });
  client = new MlflowClient(resolveClientConfig({ MLFLOW_TRACKING_URI: registry.url }, undefined)!);
  const reg = { url: registry.url, home };
  const slow = writeSlowClassifier(home);
  const models: [string, string][] = [
    ['good', 'classifier-v2.onnx'],
    ['slowm', path.relative(path.join(repoRoot, 'fixtures/models'), slow)],
    ['quiet', 'classifier-v2.onnx'],
    ['prom', 'classifier-v2.onnx'],
    ['kill', 'classifier-v2.onnx'],
  ];
  await Promise.all(
    models.map(async ([name, candidate]) => {
      await register(reg, 'classifier-v1.onnx', name);
      await register(reg, candidate, name);
      await client.setRegisteredModelAlias(name, 'production', '1');
      const stable = { version: '1', ref: '@production' };
      await writeRoute(client, name, canaryRoute({ model: name, stable }), { by: 'e2e', now: new Date() });
      serves[name] = await serve(reg, name, ['--refresh', '200ms']);
    }),
  );
  // Its first scrape comes ~5 s after it starts: start it now, the other tests run meanwhile.
  if (!prometheusTool.skip) prometheus = await startPrometheus({ targets: [`${serves.prom!.url}/metrics`] });
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  for (const s of Object.values(serves)) await s.stop();
  await client?.close();
  await registry?.close();
});

describe('mlv rollout end to end', () => {
  it('a healthy candidate goes through every step and is promoted; mlv rollback works afterwards', async () => {
    const s = await start('good', [
      '--steps',
      '50,100',
      '--step-duration',
      '2s',
      '--interval',
      '1s',
      '--min-requests',
      '5',
      '--max-drift',
      '1',
      '--max-p99-ms',
      '2000',
    ]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.json()).toMatchObject({
      phase: 'progressing',
      weight: 50,
      candidate: { version: '2' },
      stable: { version: '1' },
    });
    const traffic = load(serves.good!.url);
    const r = await mlv(['--json', 'rollout', 'run', 'good']);
    await traffic.stop();
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json().phase).toBe('promoted');
    expect(r.json().transitions.map((t: { action: string }) => t.action)).toEqual(['advance', 'promote']);
    expect(await alias('good')).toBe('2');
    const audit = readAuditTrail(await client.getRegisteredModel('good')).at(-1);
    expect(audit).toMatchObject({ action: 'promote', target: 'production', version: '2', previous: '1' });
    expect(audit?.note).toMatch(/^rollout .*: step 2\/2 \(100%\) passed/);
    const route = (await mlv(['--json', 'route', 'show', 'good'])).json();
    expect(route).toMatchObject({ stable: { version: '2' }, candidate: null });
    expect(traffic.statuses[200]).toBeGreaterThan(50);
    expect(Object.keys(traffic.statuses)).toEqual(['200']);
    const back = await mlv(['rollback', 'good', '--alias', 'production']);
    expect(back.code, back.stderr).toBe(0);
    expect(await alias('good')).toBe('1');
  });

  it('a candidate whose latency degrades is rolled back within one interval, reason and numbers recorded', async () => {
    const s = await start('slowm', [
      '--steps',
      '50,100',
      '--step-duration',
      '30s',
      '--interval',
      '1s',
      '--min-requests',
      '5',
      '--max-p99-ms',
      '5',
      '--max-drift',
      '1',
      '--no-sequential',
    ]);
    expect(s.code, s.stderr).toBe(0);
    const traffic = load(serves.slowm!.url);
    const began = Date.now();
    const r = await mlv(['--json', 'rollout', 'run', 'slowm']);
    const took = Date.now() - began;
    await traffic.stop();
    expect(r.code, r.stderr).toBe(1);
    expect(r.json()).toMatchObject({ phase: 'rolled_back', weight: 0 });
    expect(r.json().reason).toMatch(/^p99-latency: [\d.]+ > 5 \(1 failed > failureLimit 0\)$/);
    expect(r.stderr).toMatch(/error: the rollout of slowm was rolled back: p99-latency/);
    // Rolled back by the first measurement of its traffic (inconclusive ones while it loads aside),
    // not at the end of the 30 s step; the wall-clock bound only guards against waiting for the step.
    expect((await readStored(client, 'slowm')).state!.tallies['p99-latency']).toMatchObject({
      failed: 1,
      successful: 0,
    });
    expect(took).toBeLessThan(20_000);
    const h = (await mlv(['--json', 'rollout', 'history', 'slowm'])).json();
    const last = h.transitions.at(-1);
    expect(last.action).toBe('rollback');
    expect(last.checks.find((c: { metric: string }) => c.metric === 'p99-latency')).toMatchObject({ phase: 'failed' });
    expect(last.checks.find((c: { metric: string }) => c.metric === 'p99-latency').value).toBeGreaterThan(5);
    expect((await mlv(['--json', 'route', 'show', 'slowm'])).json()).toMatchObject({
      candidate: { version: '2', weight: 0 },
    });
    expect(await alias('slowm')).toBe('1');
    const plain = await mlv(['rollout', 'history', 'slowm']);
    expect(plain.stdout).toMatch(/rollback\t50 → 0\trolled_back\tp99-latency: [\d.]+ > 5/);
  });

  it('no traffic → inconclusive → paused, not promoted (exit 5)', async () => {
    expect(
      (await start('quiet', ['--steps', '50,100', '--step-duration', '1s', '--interval', '1s', '--min-requests', '5']))
        .code,
    ).toBe(0);
    const r = await mlv(['--json', 'rollout', 'run', 'quiet']);
    expect(r.code, r.stderr).toBe(5);
    expect(r.json()).toMatchObject({ phase: 'paused', pause_cause: 'inconclusive', weight: 50 });
    expect(r.json().reason).toMatch(/not enough traffic: 0 < 5 requests/);
    expect((await mlv(['rollout', 'status', 'quiet'])).code).toBe(5);
    expect(await alias('quiet')).toBe('1');
  });

  it.skipIf(prometheusTool.skip)(
    'real Prometheus: measured while up; a second controller is refused; Prometheus down → provider errors → paused (run exits 3)',
    async () => {
      await prometheus!.waitForSamples(`${serves.prom!.url}/metrics`, 2);
      const file = path.join(home, 'prom-analysis.yaml');
      writeFileSync(
        file,
        `metrics:
  - name: candidate-traffic
    provider:
      prometheus:
        address: ${prometheus!.url}
    query: sum(rate(mlv_requests_total{model="{{model}}",version="{{candidate_version}}"}[5s]))
    successCondition: result > 0
    interval: 1s
    inconclusiveLimit: 20
    consecutiveErrorLimit: 1
`,
      );
      expect(
        (
          await mlv([
            'rollout',
            'start',
            'prom',
            '--candidate',
            '2',
            '--steps',
            '50,100',
            '--step-duration',
            '5m',
            '--analysis',
            file,
          ])
        ).code,
      ).toBe(0);
      const traffic = load(serves.prom!.url);
      const run = spawnMlv(['--json', 'rollout', 'run', 'prom'], env(), home);
      try {
        const ok = await waitFor('a successful Prometheus measurement', async () => {
          const s = await status('prom');
          return s.checks.find((c: { phase: string }) => c.phase === 'successful');
        });
        expect(ok.detail).toMatch(/^[\d.]+ > 0$/);
        // The example error-rate query, as the prometheus provider sends it: 0 for a healthy
        // candidate (serve exports each arm's 5xx series from the start), not an empty result.
        const errorRate = await prometheus!.value(
          'sum(rate(mlv_requests_total{model="prom",variant="candidate",code=~"5.."}[10s])) / ' +
            'sum(rate(mlv_requests_total{model="prom",variant="candidate"}[10s]))',
        );
        expect(errorRate).toBe(0);
        const second = await mlv(['rollout', 'step', 'prom']);
        expect(second.code).toBe(2);
        expect(second.stderr).toMatch(/error: the rollout of prom is driven by .* \(pid \d+\)/);
        await prometheus!.stop();
        expect(await run.exited).toBe(3);
        expect(run.stderr()).toMatch(/the metrics provider failed 2 times in a row \(> consecutiveErrorLimit 1\)/);
        expect(await status('prom')).toMatchObject({ phase: 'paused', pause_cause: 'provider' });
      } finally {
        run.child.kill('SIGKILL');
        await traffic.stop();
      }
    },
    60_000,
  );

  it('a killed rollout run resumes where it was and finishes; abort during a run is immediate', async () => {
    expect(
      (
        await start('kill', [
          '--steps',
          '30,60,100',
          '--step-duration',
          '2s',
          '--interval',
          '1s',
          '--min-requests',
          '3',
          '--max-drift',
          '1',
          '--max-p99-ms',
          '2000',
        ])
      ).code,
    ).toBe(0);
    const traffic = load(serves.kill!.url);
    try {
      const first = spawnMlv(['rollout', 'run', 'kill'], env(), home);
      await waitFor('the first advance', async () => ((await status('kill')).step >= 1 ? true : undefined));
      first.child.kill('SIGKILL');
      await first.exited;
      const again = await mlv(['--json', 'rollout', 'run', 'kill']);
      expect(again.code, again.stderr + again.stdout).toBe(0);
      expect(again.json().phase).toBe('promoted');
      const h = (await mlv(['--json', 'rollout', 'history', 'kill'])).json();
      expect(
        h.transitions.map((t: { action: string; to: { weight: number } }) => `${t.action} ${t.to.weight}`),
      ).toEqual(['start 30', 'advance 60', 'advance 100', 'promote 100']);

      // Now roll v1 back in (stable @production is v2) and abort it while `run` drives it.
      const s = await mlv([
        'rollout',
        'start',
        'kill',
        '--candidate',
        '1',
        '--steps',
        '20,100',
        '--step-duration',
        '5m',
        '--interval',
        '1s',
        '--metrics-url',
        `${serves.kill!.url}/metrics`,
      ]);
      expect(s.code, s.stderr).toBe(0);
      const run = spawnMlv(['rollout', 'run', 'kill'], env(), home);
      await waitFor('the lease', async () => ((await status('kill')).lease ? true : undefined));
      const abort = await mlv(['rollout', 'abort', 'kill', '--reason', 'e2e']);
      expect(abort.code, abort.stderr).toBe(0);
      expect((await mlv(['--json', 'route', 'show', 'kill'])).json()).toMatchObject({
        stable: { version: '2' },
        candidate: { version: '1', weight: 0 },
      });
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toMatch(/error: the rollout of kill was aborted: aborted by .*: e2e/);
      expect(await alias('kill')).toBe('2');
    } finally {
      await traffic.stop();
    }
  }, 60_000);
});
