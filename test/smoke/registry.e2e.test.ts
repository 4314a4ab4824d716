import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeReport } from '../../src/core/smoke/report.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { repoRoot, runMlv, tempDir } from '../helpers/cli.js';

/**
 * `mlv smoke models:/…` against a real registry server on 127.0.0.1:0: versions registered with
 * `mlv register`, downloaded into the sha256-keyed cache, digests verified, and `promote --smoke`
 * refusing a NaN-producing candidate.
 */

const m = (f: string) => path.join(repoRoot, 'fixtures/models', f);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const FAST = ['--iterations', '2', '--warmup', '0', '--threads', '1'];

let server: RunningServer;
let storeDir: string;
let home: string;

const mlv = (args: string[], opts: { home?: string } = {}) =>
  runMlv(args, { cwd: opts.home ?? home, env: { MLFLOW_TRACKING_URI: server.url } });

async function register(file: string, name: string, semver?: string): Promise<void> {
  const r = await mlv(['register', file, '--name', name, ...(semver ? ['--semver', semver] : [])]);
  if (r.code !== 0) throw new Error(`mlv register ${file} failed (${r.code}): ${r.stderr}`);
}

async function api(endpoint: string, query: Record<string, string>): Promise<any> {
  const res = await fetch(`${server.url}/api/2.0/mlflow/${endpoint}?${new URLSearchParams(query)}`);
  return res.json();
}

beforeAll(async () => {
  storeDir = tempDir('mlv-smoke-store-');
  home = tempDir('mlv-smoke-home-');
  server = await startServer({ storeDir, host: '127.0.0.1', port: 0 });
  await register(m('classifier-v1.onnx'), 'churn', '1.0.0');
  await register(m('classifier-v2.onnx'), 'churn', '1.1.0');
  await register(m('classifier-v1-mlflow'), 'churn-dir');
  const promoted = await mlv(['promote', 'churn', '1', '--to', 'production']);
  if (promoted.code !== 0) throw new Error(`promote failed: ${promoted.stderr}`);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe.concurrent('models:/ references', () => {
  it.each([
    ['models:/churn/1', 'classifier-v1.onnx'],
    ['models:/churn/v1.1.0', 'classifier-v2.onnx'],
    ['models:/churn/1.1.0', 'classifier-v2.onnx'],
    ['models:/churn/latest', 'classifier-v2.onnx'],
    ['models:/churn/@production', 'classifier-v1.onnx'],
    ['models:/churn@production', 'classifier-v1.onnx'],
  ])('%s is %s', async (ref, file) => {
    const r = await mlv(['smoke', ref, '--json', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json<SmokeReport>();
    expect(report.model).toBe(ref);
    expect(report.sha256).toBe(sha(m(file)));
    expect(report.passed).toBe(true);
  });

  it('an MLflow model directory registered as is: verified against its directory digest', async () => {
    const r = await mlv(['smoke', 'models:/churn-dir/1', '--json', ...FAST]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('not verified');
    const tag = (await api('model-versions/get', { name: 'churn-dir', version: '1' })).model_version.tags.find(
      (t: { key: string }) => t.key === 'mlv.sha256',
    ).value;
    expect(r.json<SmokeReport>().sha256).toBe(tag);
  });

  it('downloads once into the cache keyed by sha256, then reuses it', async () => {
    const fresh = tempDir('mlv-smoke-cache-');
    const first = await mlv(['smoke', 'models:/churn/1', '--verbose', ...FAST], { home: fresh });
    expect(first.code).toBe(0);
    expect(first.stderr).not.toContain('cached in');
    const cached = path.join(fresh, '.cache/mlv/models', sha(m('classifier-v1.onnx')), 'model', 'model.onnx');
    expect(sha(cached)).toBe(sha(m('classifier-v1.onnx')));
    const second = await mlv(['smoke', 'models:/churn/@production', '--verbose', ...FAST], { home: fresh });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`cached in ${path.dirname(path.dirname(cached))}`);
  });

  it('compares with a registry baseline exactly as with the local files', async () => {
    const args = ['--batch', '64', '--json', ...FAST];
    const viaRegistry = await mlv([
      'smoke',
      'models:/churn/v1.1.0',
      '--baseline',
      'models:/churn/@production',
      ...args,
    ]);
    const local = await mlv(['smoke', m('classifier-v2.onnx'), '--baseline', m('classifier-v1.onnx'), ...args]);
    expect(viaRegistry.code).toBe(0);
    const a = viaRegistry.json<SmokeReport>().comparison!;
    const b = local.json<SmokeReport>().comparison!;
    expect(a.outputs).toEqual(b.outputs);
    expect(a.agreement).toBe(b.agreement);
    expect(a.baseline).toBe('models:/churn/@production');
    expect(a.baseline_sha256).toBe(sha(m('classifier-v1.onnx')));
  });

  it.each([
    ['models:/nope/1', 2],
    ['models:/churn/9', 2],
    ['models:/churn/@staging', 2],
    ['models:/churn/v9.9.9', 2],
  ])('%s → exit %d', async (ref, code) => {
    const r = await mlv(['smoke', ref, ...FAST]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(/^error: /m);
  });

  it('a registered artifact that is not an ONNX model is an input error naming the reference', async () => {
    await register(path.join(repoRoot, 'fixtures/inputs/classifier.json'), 'not-onnx');
    const r = await mlv(['smoke', 'models:/not-onnx/1', ...FAST]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: models:/not-onnx/1 has no MLmodel file and no .onnx file');
  });

  it('an artifact changed after registration is refused (digest mismatch, exit 2)', async () => {
    await register(m('classifier-v1.onnx'), 'tampered');
    const source: string = (await api('model-versions/get', { name: 'tampered', version: '1' })).model_version.source;
    // mlflow-artifacts:/<path> is served from <store>/artifacts/<path> by the embedded server.
    const stored = path.join(storeDir, 'artifacts', source.replace(/^mlflow-artifacts:\/+/, ''), 'model.onnx');
    expect(existsSync(stored)).toBe(true);
    copyFileSync(m('classifier-v2.onnx'), stored);
    const r = await mlv(['smoke', 'models:/tampered/1', ...FAST], { home: tempDir('mlv-smoke-cache-') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: models:/tampered/1: the downloaded model's sha256 ${sha(m('classifier-v2.onnx')).slice(0, 12)}… does not match the mlv.sha256 tag ${sha(m('classifier-v1.onnx')).slice(0, 12)}… recorded at registration`,
    );
  });
});

describe('promote --smoke', () => {
  it('blocks a NaN-producing candidate and changes nothing', async () => {
    await register(m('nan.onnx'), 'churn', '2.0.0');
    const before = await api('registered-models/alias', { name: 'churn', alias: 'production' });
    const r = await mlv(['promote', 'churn', 'v2.0.0', '--to', 'production', '--smoke', '--json']);
    expect(r.code).toBe(1);
    const result = r.json<{ checks: { name: string; passed: boolean; detail: string }[] }>();
    expect(result.checks.find((c) => c.name === 'smoke test')).toMatchObject({
      passed: false,
      detail: expect.stringMatching(/finite \(y: \d+ NaN of 32/),
    });
    const after = await api('registered-models/alias', { name: 'churn', alias: 'production' });
    expect(after.model_version.version).toBe('1');
    expect(after).toEqual(before);
  });
});
