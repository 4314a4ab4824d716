import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assign, canaryRoute, parseRoute, type Route } from '../../src/core/serve/route.js';
import type { MlflowClient } from '../../src/mlflow/client.js';
import { writeRoute as storeRoute } from '../../src/serve/route-store.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { mlvBin, runMlv } from '../helpers/cli.js';
import { clientFor } from '../e2e/registry-helpers.js';
import {
  invoke,
  parseMetrics,
  pool,
  register,
  request,
  ROW,
  serve,
  sum,
  tempDir,
  writeRoute,
  type Registry,
  type Served,
} from './helpers.js';

/**
 * Traffic through `mlv serve` on 127.0.0.1: the split and its stickiness across processes, a
 * monotone ramp, hot swaps under load, a broken candidate, shadow comparison, and the event log
 * (feedback → files → `mlv analyze --events`, rotation, SIGTERM). Versions of "churn":
 * 1 = classifier-v1, 2 = classifier-v2, 3 = nan.onnx (loads, but its outputs are NaN), 4 = a truncated artifact.
 */

let registry: RunningServer;
let client: MlflowClient;
let reg: Registry;
let storeDir: string;
const started: Served[] = [];

beforeAll(async () => {
  storeDir = tempDir('mlv-traffic-store-');
  registry = await startServer({ storeDir, host: '127.0.0.1', port: 0 });
  reg = { url: registry.url, home: tempDir('mlv-traffic-home-') };
  client = clientFor(registry.url);
  await register(reg, 'classifier-v1.onnx', 'churn');
  await register(reg, 'classifier-v2.onnx', 'churn');
  await register(reg, 'nan.onnx', 'churn');
  // Version 4: a model no other version shares a digest with, its stored artifact truncated after
  // registration (a cached copy of the same digest would rightly be used instead).
  await register(reg, 'dynamic-dims.onnx', 'churn');
  const uri = await client.getModelVersionDownloadUri('churn', '4');
  const stored = findFiles(path.join(storeDir, 'artifacts')).filter(
    (f) => f.endsWith('.onnx') && f.includes(runOf(uri)),
  );
  expect(stored).toHaveLength(1);
  truncateSync(stored[0]!, 100);
}, 90_000);

function findFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** The run id inside an artifact URI (…/<run id>/artifacts/…), which names its directory in the store. */
const runOf = (uri: string) => /([0-9a-f]{32})/.exec(uri)![1]!;

afterAll(async () => {
  for (const s of started) await s.stop();
  await client?.close();
  await registry?.close();
});

async function start(args: string[]): Promise<Served> {
  const s = await serve(reg, 'churn', args);
  started.push(s);
  return s;
}

const routeFile = (name: string, route: Record<string, unknown>) =>
  writeRoute(path.join(reg.home, `${name}.json`), { model: 'churn', ...route });

/** Waits until the server serves `revision` (or gives up after `ms`). */
async function waitForRevision(s: Served, revision: number, ms = 10_000): Promise<any> {
  const end = Date.now() + ms;
  for (;;) {
    const ready = (await request(`${s.url}/v2/health/ready`)).json();
    if (ready.route_revision === revision || Date.now() > end) return ready;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitFor<T>(fn: () => Promise<T>, ok: (x: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const x = await fn();
    if (ok(x) || Date.now() > end) return x;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Keeps `concurrency` requests going until stopped; returns every status and version seen. */
function continuousLoad(url: string, concurrency = 8) {
  let running = true;
  const seen: { status: number; version: string }[] = [];
  let n = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const r = await invoke(url, `load-${n++}`);
      seen.push({ status: r.status, version: String(r.headers['x-mlv-version']) });
    }
  });
  return {
    seen,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return seen;
    },
  };
}

const units = (n: number, prefix = 'user-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('assignment', () => {
  it('splits 20000 units exactly as assign() says, within tolerance, sticky across two processes', async () => {
    const stored = await storeRoute(
      client,
      'churn',
      canaryRoute({
        model: 'churn',
        stable: { version: '1', ref: '1' },
        candidate: { version: '2', ref: '2', weight: 30 },
      }),
      { by: 'test', now: new Date() },
    );
    const [a, b] = await Promise.all([start([]), start([])]);
    const all = units(20_000);
    const seen = await pool(all, 32, async (u) => {
      const r = await invoke(a.url, u);
      expect(r.status).toBe(200);
      return { variant: String(r.headers['x-mlv-variant']), version: String(r.headers['x-mlv-version']) };
    });
    const mismatches = all.filter((u, i) => assign(stored, u).variant !== seen[i]!.variant);
    expect(mismatches).toEqual([]);
    // 30 % ± 4 standard errors (sqrt(0.3·0.7/20000) = 0.324 %).
    const share = seen.filter((s) => s.variant === 'candidate').length / all.length;
    expect(Math.abs(share - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / 20_000));
    expect(seen.every((s) => (s.variant === 'candidate' ? s.version === '2' : s.version === '1'))).toBe(true);
    // The same units again, on the same and on another process: the same variants.
    const sample = all.slice(0, 2000);
    const again = await pool(sample, 16, async (u) => String((await invoke(a.url, u)).headers['x-mlv-variant']));
    const other = await pool(sample, 16, async (u) => String((await invoke(b.url, u)).headers['x-mlv-variant']));
    expect(again).toEqual(seen.slice(0, 2000).map((s) => s.variant));
    expect(other).toEqual(again);
    await Promise.all([a.stop(), b.stop()]);
  }, 120_000);

  it('a ramp 5 → 25 → 50 % only moves units from stable to the candidate', async () => {
    const file = (weight: number, revision: number) =>
      routeFile('ramp', { revision, stable: { version: '1' }, candidate: { version: '2', weight } });
    const s = await start(['--route', file(5, 1), '--refresh', '100ms']);
    const sample = units(2000, 'ramp-');
    const inCandidate = async () =>
      new Set(
        (
          await pool(sample, 16, async (u) =>
            (await invoke(s.url, u)).headers['x-mlv-variant'] === 'candidate' ? u : '',
          )
        ).filter((u) => u !== ''),
      );
    const at5 = await inCandidate();
    file(25, 2);
    await waitForRevision(s, 2);
    const at25 = await inCandidate();
    file(50, 3);
    await waitForRevision(s, 3);
    const at50 = await inCandidate();
    for (const [small, big] of [
      [at5, at25],
      [at25, at50],
    ] as const) {
      expect([...small].filter((u) => !big.has(u))).toEqual([]);
    }
    for (const [set, w] of [
      [at5, 0.05],
      [at25, 0.25],
      [at50, 0.5],
    ] as const) {
      expect(Math.abs(set.size / 2000 - w)).toBeLessThan(4 * Math.sqrt((w * (1 - w)) / 2000));
    }
    await s.stop();
  }, 60_000);
});

describe('hot swap', () => {
  it('swaps stable 1 → 2 under continuous load without a failed request; a NaN candidate never takes traffic', async () => {
    const file = (r: Record<string, unknown>) => routeFile('swap', r);
    const s = await start(['--route', file({ revision: 1, stable: { version: '1' } }), '--refresh', '100ms']);
    const load = continuousLoad(s.url);
    await new Promise((r) => setTimeout(r, 300));
    file({ revision: 2, stable: { version: '2' } });
    const ready = await waitForRevision(s, 2);
    expect(ready.route_revision).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    // A candidate whose warm-up produces NaN: revision 3 is refused, revision 2 keeps serving.
    file({ revision: 3, stable: { version: '2' }, candidate: { version: '3', weight: 50 } });
    const failed = await waitFor(
      async () => (await request(`${s.url}/v2/health/ready`)).json(),
      (x) => x.load_failures.length > 0,
    );
    await new Promise((r) => setTimeout(r, 300));
    const seen = await load.stop();

    expect(seen.length).toBeGreaterThan(100);
    expect(seen.filter((x) => x.status !== 200)).toEqual([]);
    const firstV2 = seen.findIndex((x) => x.version === '2');
    expect(firstV2).toBeGreaterThan(0);
    expect(seen.slice(firstV2 + 50).every((x) => x.version === '2')).toBe(true);

    expect(failed.route_revision).toBe(2);
    expect(failed.load_failures).toEqual([
      expect.objectContaining({ version: '3', error: expect.stringContaining('failed its warm-up') }),
    ]);
    // The previous stable stays loaded (--keep-previous) for an instant switch back.
    expect(failed.loaded).toContainEqual(expect.objectContaining({ version: '1', retired: true }));
    const m = parseMetrics((await request(`${s.url}/metrics`)).text);
    expect(sum(m, 'mlv_model_load_failures_total', { version: '3' })).toBe(1);
    expect(sum(m, 'mlv_requests_total', { version: '3' })).toBe(0);
    expect(sum(m, 'mlv_route_revision')).toBe(2);
    // `mlv route show` reads the failure from the version's tag.
    const tag = await waitFor(
      async () => (await client.getModelVersion('churn', '3')).tags.find((t) => t.key === 'mlv.serve.load_error'),
      (t) => t !== undefined,
    );
    expect(JSON.parse(tag!.value)).toMatchObject({ error: expect.stringContaining('NaN'), host: expect.any(String) });
    expect(s.stderr()).toContain('version 3 does not take traffic');
    await s.stop();
  }, 60_000);

  it('started with a broken candidate: its units get stable, and no exposure is logged for them', async () => {
    const logs = tempDir('mlv-serve-broken-logs-');
    const s = await start([
      '--route',
      routeFile('broken', { revision: 1, stable: { version: '1' }, candidate: { version: '3', weight: 50 } }),
      '--log-dir',
      logs,
    ]);
    const answers = await pool(units(200, 'b-'), 8, (u) => invoke(s.url, u));
    expect(answers.every((a) => a.status === 200 && a.headers['x-mlv-version'] === '1')).toBe(true);
    expect(await s.stop()).toBe(0);
    const lines = readLines(logs);
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.length).toBeLessThan(150);
    expect(lines.every((l) => l.variant === 'stable' && l.version === '1')).toBe(true);
  }, 60_000);

  it('a truncated artifact fails its sha256 check and never takes traffic', async () => {
    const s = await start([
      '--route',
      routeFile('truncated', { stable: { version: '1' }, candidate: { version: '4', weight: 100 } }),
    ]);
    const r = await invoke(s.url, 'anyone');
    expect(r.status).toBe(200);
    expect(r.headers['x-mlv-version']).toBe('1');
    const ready = (await request(`${s.url}/v2/health/ready`)).json();
    expect(ready.load_failures).toEqual([
      expect.objectContaining({ version: '4', error: expect.stringContaining('sha256') }),
    ]);
    await s.stop();
  }, 60_000);
});

describe('shadow', () => {
  it('records shadow differences without changing the answers', async () => {
    const s = await start([
      '--route',
      routeFile('shadow', { stable: { version: '1' }, shadow: { version: '2', percent: 100 } }),
    ]);
    const sample = units(100, 's-');
    const answers = await pool(sample, 8, (u) => invoke(s.url, u));
    const direct = await request(`${s.url}/v2/models/churn/versions/1/infer`, {
      body: JSON.stringify({ inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: ROW }] }),
    });
    for (const a of answers) {
      expect(a.headers['x-mlv-version']).toBe('1');
      expect(a.json().predictions.probabilities[0]).toEqual(direct.json().outputs[1].data);
    }
    const m = await waitFor(
      async () => parseMetrics((await request(`${s.url}/metrics`)).text),
      (x) => sum(x, 'mlv_shadow_requests_total') + sum(x, 'mlv_shadow_dropped_total') >= 100,
    );
    expect(sum(m, 'mlv_shadow_requests_total', { version: '2' })).toBe(100);
    expect(sum(m, 'mlv_shadow_dropped_total')).toBe(0);
    expect(sum(m, 'mlv_shadow_abs_diff_count', { version: '2' })).toBe(100);
    expect(sum(m, 'mlv_shadow_abs_diff_sum', { version: '2' })).toBeGreaterThan(0);
    expect(sum(m, 'mlv_shadow_agreement_total', { version: '2' })).toBe(100);
    // The shadow never answers.
    expect(sum(m, 'mlv_requests_total', { version: '2' })).toBe(0);
    await s.stop();
  }, 60_000);
});

function readLines(dir: string): any[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) =>
      readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l)),
    );
}

describe('events', () => {
  it('feedback → log → mlv analyze --events gives the expected counts', async () => {
    const logs = tempDir('mlv-serve-logs-');
    const route: Route = parseRoute({
      model: 'churn',
      revision: 4,
      experiment: 'churn-test',
      stable: { version: '1' },
      candidate: { version: '2', weight: 50 },
    });
    const s = await start(['--route', routeFile('events', route as never), '--log-dir', logs, '--log-predictions']);
    const sample = units(300, 'e-');
    const variants = await pool(sample, 8, async (u) => String((await invoke(s.url, u)).headers['x-mlv-variant']));
    await pool(sample.slice(0, 50), 8, (u) => invoke(s.url, u)); // repeat visits: no new exposures
    const converted = sample.filter((_, i) => i % 3 === 0);
    const fb = await request(`${s.url}/feedback`, {
      body: JSON.stringify(converted.map((unit) => ({ unit, metric: 'converted', value: 1 }))),
    });
    expect(fb.json()).toEqual({ accepted: converted.length });
    const bad = await request(`${s.url}/feedback`, {
      body: JSON.stringify({ unit: 'x', metric: 'converted', value: 'y' }),
    });
    expect(bad.status).toBe(400);
    expect(await s.stop()).toBe(0);

    const lines = readLines(logs);
    expect(lines.filter((l) => l.type === 'exposure')).toHaveLength(300);
    expect(lines.filter((l) => l.type === 'metric')).toHaveLength(converted.length);
    expect(lines.find((l) => l.type === 'exposure')).toEqual({
      type: 'exposure',
      experiment: 'churn-test',
      unit: expect.any(String),
      variant: expect.stringMatching(/^(stable|candidate)$/),
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      version: expect.stringMatching(/^[12]$/),
      revision: 4,
      model: 'churn',
    });
    expect(readdirSync(path.join(logs, 'predictions')).length).toBe(1);
    const predictions = readLines(path.join(logs, 'predictions'));
    expect(predictions).toHaveLength(350);

    const files = readdirSync(logs)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => path.join(logs, f));
    const r = await runMlv(
      [
        '--json',
        'analyze',
        '--events',
        ...files,
        '--experiment',
        'churn-test',
        '--metric',
        'converted',
        '--control-variant',
        'stable',
        '--strict',
      ],
      { cwd: reg.home },
    );
    expect(r.stderr).not.toContain('unparseable');
    const arms = r.json().metrics[0].arms as { variant: string; n: number; conversions: number }[];
    const expected = (v: string) => ({
      variant: v,
      n: variants.filter((x) => x === v).length,
      conversions: sample.filter((u, i) => i % 3 === 0 && variants[i] === v).length,
    });
    expect(arms.map(({ variant, n, conversions }) => ({ variant, n, conversions }))).toEqual([
      expected('stable'),
      expected('candidate'),
    ]);
  }, 60_000);

  it('rotates by size, and SIGTERM under load loses no answered exposure', async () => {
    const logs = tempDir('mlv-serve-rotate-');
    const s = await start([
      '--route',
      routeFile('rotate', { stable: { version: '1' } }),
      '--log-dir',
      logs,
      '--log-max-bytes',
      '4k',
    ]);
    const answered: string[] = [];
    let n = 0;
    let stopping = false;
    const workers = Array.from({ length: 8 }, async () => {
      while (!stopping || n < 50) {
        const unit = `t-${n++}`;
        try {
          const r = await invoke(s.url, unit);
          if (r.status === 200) answered.push(unit);
        } catch {
          return; // the server has closed
        }
        if (stopping) return;
      }
    });
    await waitFor(
      async () => answered.length,
      (k) => k >= 400,
    );
    stopping = true;
    const code = await s.stop();
    await Promise.all(workers);
    expect(code).toBe(0);
    const files = readdirSync(logs).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(statSync(path.join(logs, f)).size).toBeLessThanOrEqual(4096);
    const logged = new Set(readLines(logs).map((l) => l.unit));
    expect(answered.filter((u) => !logged.has(u))).toEqual([]);
  }, 60_000);

  it('--log - writes the event log to stdout (for a log shipper): analyze reads it as it is', async () => {
    // Not --json: stdout is the log alone; the URL is in the human line on stderr.
    const child = spawn(
      process.execPath,
      [
        mlvBin,
        'serve',
        'churn',
        '--port',
        '0',
        '--route',
        routeFile('stdout', {
          experiment: 'stdout-test',
          stable: { version: '1' },
          candidate: { version: '2', weight: 50 },
        }),
        '--log',
        '-',
      ],
      {
        cwd: reg.home,
        env: {
          ...process.env,
          NO_COLOR: '1',
          CI: 'true',
          MLV_HOME: path.join(reg.home, '.mlv'),
          MLFLOW_TRACKING_URI: reg.url,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await waitFor(
      async () => /listening on (http:\/\/\S+)/.exec(err)?.[1],
      (u) => u !== undefined,
      30_000,
    );
    expect(url, err).toBeDefined();
    const sample = units(40, 's-');
    const variants = await pool(sample, 4, async (u) => String((await invoke(url!, u)).headers['x-mlv-variant']));
    await request(`${url}/feedback`, {
      body: JSON.stringify(sample.slice(0, 10).map((unit) => ({ unit, metric: 'converted' }))),
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; unit: string });
    expect(
      lines
        .filter((l) => l.type === 'exposure')
        .map((l) => l.unit)
        .sort(),
    ).toEqual([...sample].sort());
    expect(lines.filter((l) => l.type === 'metric')).toHaveLength(10);
    const file = path.join(tempDir('mlv-serve-stdout-'), 'shipped.jsonl');
    writeFileSync(file, out);
    const r = await runMlv(
      [
        '--json',
        'analyze',
        '--events',
        file,
        '--experiment',
        'stdout-test',
        '--metric',
        'converted',
        '--control-variant',
        'stable',
      ],
      { cwd: reg.home },
    );
    const arms = r.json().metrics[0].arms as { variant: string; n: number; conversions: number }[];
    expect(arms.map((a) => [a.variant, a.n, a.conversions])).toEqual(
      ['stable', 'candidate'].map((v) => [
        v,
        variants.filter((x) => x === v).length,
        sample.slice(0, 10).filter((_, i) => variants[i] === v).length,
      ]),
    );
  }, 60_000);
});

describe('binding', () => {
  it('a non-loopback address warns that there is no authentication, unless --auth-token is set', async () => {
    const route = routeFile('bind', { stable: { version: '1' } });
    const open = await start(['--route', route, '--host', '0.0.0.0']);
    expect(open.stderr()).toMatch(
      /listening on 0\.0\.0\.0 without authentication: anyone who can reach it can call the model \(set --auth-token\)/,
    );
    // Reachable on loopback too (0.0.0.0 is every address), and answering.
    const port = new URL(open.url).port;
    expect((await invoke(`http://127.0.0.1:${port}`, 'u-1')).status).toBe(200);
    const locked = await start(['--route', route, '--host', '0.0.0.0', '--auth-token', 'opensesame']);
    expect(locked.stderr()).not.toMatch(/without authentication/);
    const lockedUrl = `http://127.0.0.1:${new URL(locked.url).port}`;
    expect((await invoke(lockedUrl, 'u-1')).status).toBe(401);
    expect(locked.stderr() + locked.stdout()).not.toContain('opensesame');
  }, 60_000);
});
