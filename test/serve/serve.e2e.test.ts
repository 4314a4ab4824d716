import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import {
  parseMetrics,
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
 * `mlv serve` over real HTTP on 127.0.0.1: both protocols, every bad-input status, /metrics.
 * Fixture models registered in a temporary embedded registry served by `mlv server` code.
 */

let registry: RunningServer;
let reg: Registry;
let main: Served;
let slow: Served;

beforeAll(async () => {
  registry = await startServer({ storeDir: tempDir('mlv-serve-store-'), host: '127.0.0.1', port: 0 });
  reg = { url: registry.url, home: tempDir('mlv-serve-home-') };
  await register(reg, 'classifier-v1.onnx', 'churn');
  await register(reg, 'classifier-v2.onnx', 'churn');
  await register(reg, 'slow.onnx', 'slow');
  const route = writeRoute(path.join(reg.home, 'churn.json'), {
    model: 'churn',
    revision: 7,
    stable: { version: '1', ref: '1' },
    candidate: { version: '2', ref: '2', weight: 50 },
  });
  const slowRoute = writeRoute(path.join(reg.home, 'slow.json'), { model: 'slow', stable: { version: '1' } });
  [main, slow] = await Promise.all([
    serve(reg, 'churn', ['--route', route, '--body-limit', '4k', '--auth-token', 'sesame']),
    serve(reg, 'slow', [
      '--route',
      slowRoute,
      '--timeout',
      '30ms',
      '--max-in-flight',
      '2',
      '--threads',
      '1',
      '--body-limit',
      '4MiB',
    ]),
  ]);
}, 90_000);

afterAll(async () => {
  expect(await main?.stop()).toBe(0);
  expect(await slow?.stop()).toBe(0);
  await registry?.close();
});

const auth = { authorization: 'Bearer sesame' };
const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
  request(`${main.url}${p}`, {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { ...auth, ...headers },
  });
const get = (p: string) => request(`${main.url}${p}`, { headers: auth });

describe('MLflow scoring protocol', () => {
  it.each([
    ['inputs', { inputs: [ROW] }],
    ['instances', { instances: [ROW] }],
    ['dataframe_split', { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [ROW] } }],
    ['dataframe_records', { dataframe_records: [{ a: 0.1, b: 0.2, c: 0.3, d: 0.4 }] }],
  ])('%s → predictions, variant and version in body and headers', async (_, body) => {
    const r = await post('/invocations', body, { 'x-unit-id': 'alice' });
    expect(r.status).toBe(200);
    const b = r.json();
    expect(Object.keys(b.predictions)).toEqual(['label', 'probabilities']);
    expect(b.predictions.probabilities[0]).toHaveLength(2);
    expect(r.headers['x-mlv-variant']).toBe(b.variant);
    expect(r.headers['x-mlv-version']).toBe(b.version);
    expect(['stable', 'candidate']).toContain(b.variant);
  });

  it('answers the same unit with the same variant; the unit may come from the query', async () => {
    const a = await post('/invocations', { inputs: [ROW] }, { 'x-unit-id': 'bob' });
    const b = await post('/invocations?unit=bob', { inputs: [ROW] });
    expect(b.json().variant).toBe(a.json().variant);
  });

  it('a request without a unit is answered by stable', async () => {
    const r = await post('/invocations', { inputs: [ROW, ROW] });
    expect(r.json()).toMatchObject({ variant: 'stable', version: '1' });
    expect(r.json().predictions.label).toHaveLength(2);
  });

  it('GET /ping, /health, /version', async () => {
    expect((await get('/ping')).status).toBe(200);
    expect((await get('/health')).status).toBe(200);
    const v = await get('/version');
    expect(v.text).toMatch(/^\d+\.\d+\.\d+/);
    expect(v.headers['x-mlv-variant']).toBe('stable');
    expect(v.headers['x-mlv-version']).toBe('1');
  });
});

describe('Open Inference Protocol v2', () => {
  const infer = { inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: ROW }] };

  it('health, server and model metadata', async () => {
    expect((await get('/v2/health/live')).json()).toEqual({ live: true });
    const ready = (await get('/v2/health/ready')).json();
    expect(ready).toMatchObject({ ready: true, route_revision: 7, load_failures: [] });
    expect((await get('/v2')).json().name).toBe('mlv');
    const meta = (await get('/v2/models/churn')).json();
    expect(meta).toMatchObject({
      name: 'churn',
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    });
    expect((await get('/v2/models/churn/ready')).json()).toMatchObject({ ready: true });
    expect((await get('/v2/models/churn/versions/2/ready')).json()).toMatchObject({ version: '2', ready: true });
  });

  it('infer: model_version, parameters.variant, flat outputs; parameters.unit_id assigns', async () => {
    const r = await post('/v2/models/churn/infer', { ...infer, id: 'req-1', parameters: { unit_id: 'alice' } });
    expect(r.status).toBe(200);
    const b = r.json();
    expect(b).toMatchObject({ model_name: 'churn', id: 'req-1', parameters: { unit_id: 'alice' } });
    expect(b.model_version).toBe(r.headers['x-mlv-version']);
    expect(b.parameters.variant).toBe(r.headers['x-mlv-variant']);
    expect(b.outputs.map((o: { name: string; datatype: string }) => [o.name, o.datatype])).toEqual([
      ['label', 'INT64'],
      ['probabilities', 'FP32'],
    ]);
    const mlflow = await post('/invocations', { inputs: [ROW] }, { 'x-unit-id': 'alice' });
    expect(b.parameters.variant).toBe(mlflow.json().variant);
    expect(b.outputs[1].data).toEqual(mlflow.json().predictions.probabilities[0]);
  });

  it('/versions/{v}/infer answers with that version; requested outputs only', async () => {
    for (const v of ['1', '2']) {
      const r = await post(`/v2/models/churn/versions/${v}/infer`, { ...infer, outputs: [{ name: 'label' }] });
      expect(r.status).toBe(200);
      expect(r.json().model_version).toBe(v);
      expect(r.headers['x-mlv-version']).toBe(v);
      expect(r.json().outputs.map((o: { name: string }) => o.name)).toEqual(['label']);
    }
  });

  it.each([
    ['/v2/models/other/infer', infer, 404, 'model "other" is not served here (this serves "churn")'],
    ['/v2/models/churn/versions/9/infer', infer, 404, 'version 9 of "churn" is not being served (serving: 1, 2)'],
    [
      '/v2/models/churn/infer',
      { inputs: [{ ...infer.inputs[0], datatype: 'FP64' }] },
      400,
      'request: input "features" has datatype "FP64", the model expects FP32',
    ],
    [
      '/v2/models/churn/infer',
      { inputs: [{ ...infer.inputs[0], shape: [1, 3], data: [1, 2, 3] }] },
      400,
      'request: input "features" has shape [1, 3], the model expects [N, 4]',
    ],
  ])('%s → %i {"error"}', async (p, body, status, error) => {
    const r = await post(p, body);
    expect(r.status).toBe(status);
    expect(r.json()).toEqual({ error });
  });
});

describe('bad input never crashes the process', () => {
  it('malformed JSON → 400', async () => {
    const r = await post('/invocations', '{"inputs": [');
    expect(r.status).toBe(400);
    expect(r.json().error_code).toBe('BAD_REQUEST');
    expect(r.json().message).toMatch(/^the request body is not valid JSON/);
  });

  it('a wrong shape or type → 400 naming the input and what it expects', async () => {
    let r = await post('/invocations', { inputs: [[1, 2]] });
    expect(r.status).toBe(400);
    expect(r.json().message).toBe('request: input "features" has shape [1, 2], the model expects [N, 4]');
    r = await post('/invocations', { inputs: [[1, 2, 3, 'x']] });
    expect(r.json().message).toBe('request: input "features" at [0][3]: expected a number (float32), got "x"');
  });

  it('a body over --body-limit → 413', async () => {
    const big = JSON.stringify({ inputs: Array.from({ length: 300 }, () => ROW) });
    const r = await post('/invocations', big);
    expect(r.status).toBe(413);
    expect(r.json().message).toBe('the request body is larger than the limit of 4096 bytes (--body-limit)');
  });

  it('no or a wrong bearer token → 401', async () => {
    const none = await request(`${main.url}/invocations`, { body: JSON.stringify({ inputs: [ROW] }) });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const wrong = await post('/invocations', { inputs: [ROW] }, { authorization: 'Bearer sesamf' });
    expect(wrong.status).toBe(401);
  });

  it('health checks answer without the token, without detail', async () => {
    const ready = await request(`${main.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ ready: true });
    expect((await request(`${main.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect((await request(`${main.url}/ping`)).status).toBe(200);
    expect((await request(`${main.url}/metrics`)).status).toBe(401);
    expect((await request(`${main.url}/v2/models/churn`)).status).toBe(401);
  });

  it('unknown paths → 404; GET /invocations → 405', async () => {
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/invocations')).status).toBe(405);
  });

  it('inference past --timeout → 504, and the server keeps answering', async () => {
    // 6000 rows of the slow model take far longer than 30 ms on any machine (~0.04 ms a row on a
    // fast one: 240 ms); 0/1 values keep the body under its 4 MiB limit.
    const rows = Array.from({ length: 6000 }, (_, i) => Array.from({ length: 256 }, (_, j) => (i + j) % 2));
    const late = await request(`${slow.url}/invocations`, { body: JSON.stringify({ inputs: rows }) });
    expect(late.status).toBe(504);
    expect(late.json().message).toBe('inference took longer than 30 ms (--timeout)');
    // …once the run in progress is done.
    let ok = await request(`${slow.url}/invocations`, { body: JSON.stringify({ inputs: [rows[0]] }) });
    for (let i = 0; i < 50 && ok.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ok = await request(`${slow.url}/invocations`, { body: JSON.stringify({ inputs: [rows[0]] }) });
    }
    expect(ok.status).toBe(200);
    expect(ok.json().predictions[0]).toHaveLength(256);
  });

  it('more than --max-in-flight → 503 with Retry-After', async () => {
    // Two requests whose bodies are still arriving hold both slots.
    const { url } = slow;
    const held = [0, 1].map(() => {
      const req = http.request(`${url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '1000' },
      });
      req.on('error', () => undefined);
      req.write('{"inputs": ');
      return req;
    });
    await new Promise((r) => setTimeout(r, 200));
    const busy = await request(`${url}/invocations`, { body: JSON.stringify({ inputs: [[1]] }) });
    for (const req of held) req.destroy();
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json()).toEqual({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'too many requests in progress' });
  });
});

describe('/metrics', () => {
  it('has every documented metric with its labels', async () => {
    await post('/invocations', { inputs: [ROW] }, { 'x-unit-id': 'carol' });
    await post('/invocations', { inputs: [[1]] }, { 'x-unit-id': 'carol' });
    const m = parseMetrics((await get('/metrics')).text);
    for (const name of [
      'mlv_requests_total',
      'mlv_request_duration_seconds',
      'mlv_inference_errors_total',
      'mlv_prediction_class_total',
      'mlv_prediction_value',
      'mlv_shadow_requests_total',
      'mlv_shadow_dropped_total',
      'mlv_shadow_agreement_total',
      'mlv_shadow_abs_diff',
      'mlv_route_weight',
      'mlv_route_revision',
      'mlv_model_loaded',
      'mlv_model_load_failures_total',
      'mlv_events_written_total',
      'mlv_events_dropped_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(m.names, name).toContain(name);
    }
    const ok = m.samples.find((s) => s.name === 'mlv_requests_total' && s.labels.code === '200')!;
    expect(Object.keys(ok.labels).sort()).toEqual(['code', 'model', 'variant', 'version']);
    expect(sum(m, 'mlv_requests_total', { code: '400' })).toBeGreaterThanOrEqual(1);
    // Every routed arm has its 5xx series from the start (0), so an error-rate query is never empty.
    const fiveHundred = m.samples.filter((s) => s.name === 'mlv_requests_total' && s.labels.code === '500');
    expect(fiveHundred.map((s) => [s.labels.variant, s.value])).toEqual(
      expect.arrayContaining([
        ['stable', 0],
        ['candidate', 0],
      ]),
    );
    expect(sum(m, 'mlv_request_duration_seconds_count')).toBeGreaterThan(0);
    expect(m.samples.some((s) => s.name === 'mlv_request_duration_seconds_bucket' && s.labels.le === '0.001')).toBe(
      true,
    );
    expect(sum(m, 'mlv_route_revision', { model: 'churn' })).toBe(7);
    expect(sum(m, 'mlv_route_weight', { variant: 'candidate', version: '2' })).toBe(50);
    expect(sum(m, 'mlv_model_loaded', { version: '1' })).toBe(1);
    expect(sum(m, 'mlv_prediction_class_total', { output: 'label' })).toBeGreaterThan(0);
  });
});
