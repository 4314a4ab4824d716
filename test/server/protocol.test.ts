/**
 * HTTP protocol rules of the embedded server (SUMMARY.md §1, §4.1), over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_VERSION } from '../../src/server/version.js';
import { rawRequest, startTestServer, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

const JSON_CT = { 'Content-Type': 'application/json' };

describe('plain-text endpoints', () => {
  it('GET /health is OK', async () => {
    const r = await s.raw('GET', '/health');
    expect([r.status, r.contentType, r.text]).toEqual([200, 'text/html; charset=utf-8', 'OK']);
  });
  it('GET /version reports MLflow 3.6 compatibility and the mlv version', async () => {
    const r = await s.raw('GET', '/version');
    expect(r.status).toBe(200);
    expect(r.text).toBe(SERVER_VERSION);
    expect(r.text).toMatch(/^3\.6\.0\+mlv\.\d+\.\d+\.\d+$/);
  });
  it('marks every answer as coming from mlv', async () => {
    const r = await s.raw('GET', '/api/2.0/mlflow/no-such-endpoint');
    expect(r.headers['x-mlv-server']).toMatch(/^\d+\.\d+\.\d+/);
  });
  it('POST /health is 405', async () => {
    expect((await s.raw('POST', '/health')).status).toBe(405);
  });
});

describe('routing', () => {
  it('an unknown route is an HTML 404 without error_code', async () => {
    const r = await s.raw('GET', '/api/2.0/mlflow/no-such-endpoint');
    expect(r.status).toBe(404);
    expect(r.contentType).toBe('text/html; charset=utf-8');
    expect(r.text).toContain('<title>404 Not Found</title>');
  });
  it('a known route with the wrong method is an HTML 405 with Allow', async () => {
    const r = await s.raw('DELETE', '/api/2.0/mlflow/experiments/create');
    expect(r.status).toBe(405);
    expect(r.contentType).toBe('text/html; charset=utf-8');
    expect(r.headers.allow).toContain('POST');
  });
  it('registered-models/search is GET only (POST → 405), experiments/search takes both', async () => {
    expect(
      (await s.raw('POST', '/api/2.0/mlflow/registered-models/search', { body: '{}', headers: JSON_CT })).status,
    ).toBe(405);
    expect((await s.raw('POST', '/api/2.0/mlflow/experiments/search', { body: '{}', headers: JSON_CT })).status).toBe(
      200,
    );
    expect((await s.raw('GET', '/api/2.0/mlflow/experiments/search')).status).toBe(200);
  });
  it('serves the same API under /ajax-api/2.0/ (the MLflow UI prefix)', async () => {
    const r = await s.raw('GET', '/ajax-api/2.0/mlflow/experiments/get?experiment_id=0');
    expect(r.status).toBe(200);
    expect(r.json.experiment.name).toBe('Default');
    const a = await s.raw('GET', '/ajax-api/2.0/mlflow-artifacts/artifacts');
    expect(a.status).toBe(200);
  });
  it('HEAD answers like GET without a body; OPTIONS lists the methods', async () => {
    const head = await s.raw('HEAD', '/api/2.0/mlflow/experiments/get?experiment_id=0');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    const options = await s.raw('OPTIONS', '/api/2.0/mlflow/registered-models/alias');
    expect(options.status).toBe(200);
    expect(String(options.headers.allow).split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST']);
  });
});

describe('request bodies', () => {
  it.each([
    [undefined, 'Bad Request. Content-Type header is missing.'],
    ['text/plain', "Bad Request. Content-Type must be one of ['application/json']."],
    ['application/x-www-form-urlencoded', "Bad Request. Content-Type must be one of ['application/json']."],
  ])('POST with Content-Type %s → 400', async (ct, message) => {
    const r = await s.raw('POST', '/api/2.0/mlflow/experiments/create', {
      body: '{"name":"ct-test"}',
      headers: ct ? { 'Content-Type': ct } : {},
    });
    expect([r.status, r.json]).toEqual([400, { error_code: 'INVALID_PARAMETER_VALUE', message }]);
  });
  it('accepts application/json with parameters', async () => {
    const r = await s.raw('POST', '/api/2.0/mlflow/experiments/create', {
      body: '{"name":"ct-charset"}',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(r.status).toBe(200);
  });
  it.each(['{"name": ', '[1,2]', 'null', ''])('a body that is not a JSON object (%j) counts as {}', async (body) => {
    const r = await s.raw('POST', '/api/2.0/mlflow/experiments/create', { body, headers: JSON_CT });
    expect(r.status).toBe(400);
    expect(r.json.message).toBe(
      "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
    );
  });
  it('a double-encoded JSON body is decoded (old clients)', async () => {
    const r = await s.raw('POST', '/api/2.0/mlflow/experiments/create', {
      body: JSON.stringify(JSON.stringify({ name: 'double-encoded' })),
      headers: JSON_CT,
    });
    expect(r.status).toBe(200);
  });
  it.each([
    [{ name: 123 }, "Invalid value 123 for parameter 'name' supplied:  Hint: Value was of type 'int'."],
    [{ name: true }, "Invalid value true for parameter 'name' supplied:  Hint: Value was of type 'bool'."],
    [{ name: ['x'] }, "Invalid value [\"x\"] for parameter 'name' supplied:  Hint: Value was of type 'list'."],
    [{ name: 'ok', tags: 'x' }, "Invalid value \"x\" for parameter 'tags' supplied:  Hint: Value was of type 'str'."],
  ])('a field of the wrong JSON type %j → 400', async (body, start) => {
    const r = await s.call('POST', 'experiments/create', body);
    expect(r.status).toBe(400);
    expect(r.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(r.json.message.startsWith(start)).toBe(true);
  });
  it('unknown fields are ignored', async () => {
    const r = await s.call('POST', 'experiments/create', { name: 'unknown-field', bogus_field: 1 });
    expect(r.status).toBe(200);
  });
  it('DELETE reads the JSON body only: query parameters count as missing', async () => {
    await s.call('POST', 'registered-models/create', { name: 'proto-del' });
    const viaQuery = await s.raw('DELETE', '/api/2.0/mlflow/registered-models/delete?name=proto-del');
    expect(viaQuery.status).toBe(400);
    expect(viaQuery.json.message).toContain("Missing value for required parameter 'name'");
    // DELETE and PATCH do not need a Content-Type (MLflow only checks POST).
    const viaBody = await s.raw('DELETE', '/api/2.0/mlflow/registered-models/delete', { body: '{"name":"proto-del"}' });
    expect([viaBody.status, viaBody.json]).toEqual([200, {}]);
  });
  it('GET takes repeated keys for repeated fields and the first value otherwise', async () => {
    await s.call('POST', 'registered-models/create', { name: 'proto-rep' });
    const r = await s.raw('GET', '/api/2.0/mlflow/registered-models/get?name=proto-rep&name=other');
    expect(r.json.registered_model.name).toBe('proto-rep');
    const bad = await s.raw(
      'GET',
      '/api/2.0/mlflow/registered-models/get-latest-versions?name=proto-rep&stages=None&stages=Bogus',
    );
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('Invalid Model Version stage: Bogus');
  });
  it('an int field given as a string of digits is accepted (protobuf int64 JSON)', async () => {
    const r = await s.call('POST', 'runs/create', { experiment_id: '0', start_time: '1700000000000' });
    expect(r.status).toBe(200);
    expect(r.json.run.info.start_time).toBe(1700000000000);
  });
});

describe('security middleware (MLflow 3)', () => {
  it('refuses a foreign Host header with 403 text/plain', async () => {
    const r = await s.raw('GET', '/api/2.0/mlflow/experiments/search?max_results=1', {
      headers: { Host: 'evil.example.com' },
    });
    expect([r.status, r.contentType, r.text]).toEqual([
      403,
      'text/plain',
      'Invalid Host header - possible DNS rebinding attack detected',
    ]);
  });
  it('accepts localhost with another port, and exempts /health', async () => {
    expect(
      (await s.raw('GET', '/api/2.0/mlflow/experiments/search', { headers: { Host: 'localhost:5000' } })).status,
    ).toBe(200);
    expect((await s.raw('GET', '/health', { headers: { Host: 'evil.example.com' } })).status).toBe(200);
  });
  it('refuses a cross-origin write, allows a localhost origin and cross-origin reads', async () => {
    const evil = await s.raw('POST', '/api/2.0/mlflow/experiments/search', {
      body: '{}',
      headers: { ...JSON_CT, Origin: 'http://evil.example.com' },
    });
    expect([evil.status, evil.text]).toEqual([403, 'Cross-origin request blocked']);
    const local = await s.raw('POST', '/api/2.0/mlflow/experiments/search', {
      body: '{}',
      headers: { ...JSON_CT, Origin: 'http://localhost:3000' },
    });
    expect(local.status).toBe(200);
    const read = await s.raw('GET', '/api/2.0/mlflow/experiments/search', {
      headers: { Origin: 'http://evil.example.com' },
    });
    expect(read.status).toBe(200);
  });
  it('--allowed-hosts extends the accepted Host names', async () => {
    const t = await startTestServer({ allowedHosts: ['registry.internal', '*.lab.example'] });
    try {
      for (const [host, status] of [
        ['registry.internal:5000', 200],
        ['gpu7.lab.example', 200],
        ['lab.example', 403],
        ['evil.example.com', 403],
      ] as const) {
        const r = await rawRequest(t.url, 'GET', '/api/2.0/mlflow/experiments/search', { headers: { Host: host } });
        expect(r.status, host).toBe(status);
      }
    } finally {
      await t.close();
    }
  });
});

describe('errors', () => {
  it('answers 500 INTERNAL_ERROR JSON when the store fails, and keeps serving', async () => {
    const t = await startTestServer();
    try {
      // Break the schema under the server's feet: the next registry read fails inside SQLite.
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(`${t.dir}/mlv.db`);
      db.exec('ALTER TABLE registered_models RENAME TO broken');
      db.close();
      const r = await t.call('GET', 'registered-models/search');
      expect(r.status).toBe(500);
      expect(r.json.error_code).toBe('INTERNAL_ERROR');
      expect((await t.raw('GET', '/health')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
