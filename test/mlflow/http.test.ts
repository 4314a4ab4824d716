import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, InterruptedError, RemoteError } from '../../src/errors.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig, type ClientConfig } from '../../src/mlflow/config.js';
import { isMlflowError, MlflowApiError } from '../../src/mlflow/errors.js';
import { networkFailure, parseRetryAfter } from '../../src/mlflow/http.js';
import {
  deadPort,
  mlflowError,
  rejection,
  sendJson,
  startServer,
  testConfig,
  type Handler,
  type TestServer,
} from './helpers.js';

const MODEL = { registered_model: { name: 'm', creation_timestamp: 1, last_updated_timestamp: 2 } };

let server: TestServer | undefined;
let client: MlflowClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setup(
  handler: Handler,
  overrides: Partial<ClientConfig> = {},
): Promise<{ server: TestServer; client: MlflowClient; log: string[] }> {
  server = await startServer(handler);
  const log: string[] = [];
  client = new MlflowClient(testConfig(server.url, { log: (l) => log.push(l), ...overrides }));
  return { server, client, log };
}

/** Answers the listed responses in turn, then the last one forever. */
function sequence(...steps: Handler[]): Handler {
  let i = 0;
  return (req, res, raw) => steps[Math.min(i++, steps.length - 1)]!(req, res, raw);
}
const ok: Handler = (_q, res) => sendJson(res, 200, MODEL);
const status =
  (code: number, headers: Record<string, string> = {}): Handler =>
  (_q, res) => {
    res.writeHead(code, { 'content-type': 'text/html', ...headers });
    res.end(`<html><body>${code}</body></html>`);
  };
const reset: Handler = (_q, _res, raw) => {
  raw.socket.destroy();
};

describe('retries', () => {
  it.each([
    ['503', status(503)],
    ['502', status(502)],
    ['500 INTERNAL_ERROR', ((_q, res) => mlflowError(res, 500, 'INTERNAL_ERROR', 'db locked')) as Handler],
    ['429', status(429)],
    ['408', status(408)],
    ['a connection reset', reset],
  ])('retries a GET after %s', async (_name, failure) => {
    const { server, client } = await setup(sequence(failure, failure, ok));
    const model = await client.getRegisteredModel('m');
    expect(model.name).toBe('m');
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after maxRetries and reports the attempts (exit 3)', async () => {
    const { server, client } = await setup((_q, res) => mlflowError(res, 503, 'TEMPORARILY_UNAVAILABLE', 'try later'));
    const err = await rejection(client.getRegisteredModel('m'));
    expect(server.requests).toHaveLength(3);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.exitCode).toBe(3);
    expect(err.status).toBe(503);
    expect(err.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    expect(err.message).toBe(
      `MLflow at ${server.url} failed GET /registered-models/get (HTTP 503 TEMPORARILY_UNAVAILABLE): try later (after 3 attempts)`,
    );
    expect(isMlflowError(err, 'TEMPORARILY_UNAVAILABLE')).toBe(true);
  });

  it.each([
    ['503', status(503)],
    ['500', ((_q, res) => mlflowError(res, 500, 'INTERNAL_ERROR', 'boom')) as Handler],
    ['a connection reset', reset],
  ])('does not retry a create POST after %s', async (_name, failure) => {
    const { server, client } = await setup(sequence(failure, ok));
    const err = await rejection(client.createRegisteredModel({ name: 'm' }));
    expect(server.requests).toHaveLength(1);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.exitCode).toBe(3);
    expect(err.hint).toBe(
      'mlv did not retry because the request may already have been applied; check the registry before running it again',
    );
  });

  it.each([
    ['runs/create', (c: MlflowClient) => c.createRun({ experimentId: '1' })],
    [
      'model-versions/create',
      (c: MlflowClient) => c.createModelVersion({ name: 'm', source: 'mlflow-artifacts:/1/x' }),
    ],
    ['experiments/create', (c: MlflowClient) => c.createExperiment({ name: 'e' })],
    ['registered-models/rename', (c: MlflowClient) => c.renameRegisteredModel('a', 'b')],
    [
      'log-batch with metrics',
      (c: MlflowClient) => c.logBatch({ runId: 'r', metrics: [{ key: 'm', value: 1, timestamp: 1 }] }),
    ],
    ['logged-models create', (c: MlflowClient) => c.createLoggedModel({ experimentId: '1' })],
  ])('sends %s once on a 503', async (_name, call) => {
    const { server, client } = await setup(status(503));
    await rejection(call(client));
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['set-tag', (c: MlflowClient) => c.setRegisteredModelTag('m', 'k', 'v')],
    ['alias set', (c: MlflowClient) => c.setRegisteredModelAlias('m', 'champion', 2)],
    ['alias delete', (c: MlflowClient) => c.deleteRegisteredModelAlias('m', 'champion')],
    [
      'transition-stage',
      (c: MlflowClient) => c.transitionModelVersionStage({ name: 'm', version: 1, stage: 'Production' }),
    ],
    ['version update', (c: MlflowClient) => c.updateModelVersion({ name: 'm', version: 1, description: 'd' })],
    ['log-batch with params only', (c: MlflowClient) => c.logBatch({ runId: 'r', params: { a: '1' } })],
    ['runs/update', (c: MlflowClient) => c.updateRun({ runId: 'r', status: 'FINISHED' })],
  ])('retries the repeatable %s', async (_name, call) => {
    const { server, client } = await setup(status(503));
    await rejection(call(client));
    expect(server.requests).toHaveLength(3);
  });

  it('retries a create POST on 429 (the server says it did not process it)', async () => {
    const { server, client } = await setup(sequence(status(429), ok));
    expect((await client.createRegisteredModel({ name: 'm' })).name).toBe('m');
    expect(server.requests).toHaveLength(2);
  });

  it('retries a create POST when the connection was refused (nothing was sent)', async () => {
    const port = await deadPort();
    const log: string[] = [];
    client = new MlflowClient(testConfig(`http://127.0.0.1:${port}`, { log: (l) => log.push(l) }));
    const err = await rejection(client.createRegisteredModel({ name: 'm' }));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      `could not reach MLflow at http://127.0.0.1:${port}: connection refused (after 3 attempts)`,
    );
    expect(log.filter((l) => l.startsWith('retrying'))).toHaveLength(2);
  });

  it('waits factor·2^(n-1) seconds times the jitter between attempts', async () => {
    const waits: number[] = [];
    const { client, log } = await setup(status(503), {
      backoffFactor: 0.1,
      random: () => 1,
      sleep: async (ms) => void waits.push(ms),
    });
    await rejection(client.getRegisteredModel('m'));
    expect(log.filter((l) => l.startsWith('retrying'))).toEqual([
      'retrying GET /registered-models/get in 0.1s (attempt 2 of 3)',
      'retrying GET /registered-models/get in 0.2s (attempt 3 of 3)',
    ]);
    expect(waits).toEqual([100, 200]);
  });

  it('draws the jitter uniformly below the ceiling (full jitter)', async () => {
    const { log } = await setup(status(503), { backoffFactor: 1, random: () => 0.01 });
    await rejection(client!.getRegisteredModel('m'));
    expect(log.filter((l) => l.startsWith('retrying'))).toEqual([
      'retrying GET /registered-models/get in 0.0s (attempt 2 of 3)',
      'retrying GET /registered-models/get in 0.0s (attempt 3 of 3)',
    ]);
  });

  it('honours Retry-After', async () => {
    const waits: number[] = [];
    const { server, client, log } = await setup(sequence(status(503, { 'retry-after': '1' }), ok), {
      sleep: async (ms) => void waits.push(ms),
    });
    await client.getRegisteredModel('m');
    expect(waits).toEqual([1000]);
    expect(server.requests).toHaveLength(2);
    expect(log).toContain('retrying GET /registered-models/get in 1.0s (attempt 2 of 3)');
  });

  it('gives up at once when Retry-After is beyond the backoff cap', async () => {
    const { server, client } = await setup(status(429, { 'retry-after': '3600' }));
    const err = await rejection(client.getRegisteredModel('m'));
    expect(server.requests).toHaveLength(1);
    expect(err.message).toBe(
      `MLflow at ${server.url} is rate-limiting requests (HTTP 429) — the server asked to retry after 3600s`,
    );
  });

  it.each([
    ['120', 120_000],
    ['0', 0],
    ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000],
    ['soon', undefined],
  ])('parses Retry-After %j', (value, ms) => {
    expect(parseRetryAfter(value, Date.parse('Thu, 01 Jan 2026 00:00:00 GMT'))).toBe(ms);
  });

  it('treats a DELETE whose retry finds the model gone as done', async () => {
    const { server, client } = await setup(
      sequence(reset, (_q, res) =>
        mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=m not found'),
      ),
    );
    await client.deleteRegisteredModel('m');
    expect(server.requests).toHaveLength(2);
  });

  it('still reports a DELETE of a missing model that failed on the first attempt', async () => {
    const { client } = await setup((_q, res) =>
      mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=m not found'),
    );
    const err = await rejection(client.deleteRegisteredModel('m'));
    expect(err.errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('timeouts', () => {
  it('times out waiting for headers → RemoteError exit 3 (retried for a GET)', async () => {
    const { server, client } = await setup(() => undefined /* never answers */, { timeoutMs: 150, maxRetries: 1 });
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.exitCode).toBe(3);
    expect(err.code).toBe('MLV_REMOTE_TIMEOUT');
    expect(err.message).toBe(
      `MLflow at ${server.url} did not answer GET /registered-models/get within 0.1s (after 2 attempts)`,
    );
    expect(err.hint).toBe('raise MLFLOW_HTTP_REQUEST_TIMEOUT (seconds) if the server is just slow');
    expect(server.requests).toHaveLength(2);
  });

  it('times out a body that stops half-way', async () => {
    const { client } = await setup(
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"registered_model":');
      },
      { timeoutMs: 150, maxRetries: 0 },
    );
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err.code).toBe('MLV_REMOTE_TIMEOUT');
    expect(err.exitCode).toBe(3);
  });

  it('does not retry a create POST that timed out', async () => {
    const { server, client } = await setup(() => undefined, { timeoutMs: 150, maxRetries: 2 });
    const err = await rejection(client.createModelVersion({ name: 'm', source: 's' }));
    expect(err.code).toBe('MLV_REMOTE_TIMEOUT');
    expect(server.requests).toHaveLength(1);
  });

  it('cancels through an AbortSignal (exit 130)', async () => {
    const { client } = await setup(() => undefined, { timeoutMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const err = await rejection(client.getRegisteredModel('m', { signal: controller.signal }));
    expect(err).toBeInstanceOf(InterruptedError);
    expect(err.exitCode).toBe(130);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('cancels a backoff wait through the client-wide signal', async () => {
    const controller = new AbortController();
    const { client } = await setup(status(503), { backoffFactor: 30, random: () => 1, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err).toBeInstanceOf(InterruptedError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('error mapping', () => {
  const json =
    (code: number, errorCode: string, message: string): Handler =>
    (_q, res) =>
      mlflowError(res, code, errorCode, message);
  it.each([
    [
      json(400, 'INVALID_PARAMETER_VALUE', 'Invalid alias name'),
      MlflowApiError,
      2,
      400,
      'INVALID_PARAMETER_VALUE',
      'MLV_MLFLOW_INVALID_PARAMETER_VALUE',
      'Invalid alias name (INVALID_PARAMETER_VALUE, HTTP 400)',
    ],
    [
      json(400, 'RESOURCE_ALREADY_EXISTS', 'Registered Model (name=m) already exists.'),
      MlflowApiError,
      2,
      400,
      'RESOURCE_ALREADY_EXISTS',
      'MLV_MLFLOW_RESOURCE_ALREADY_EXISTS',
      'Registered Model (name=m) already exists. (RESOURCE_ALREADY_EXISTS, HTTP 400)',
    ],
    [
      json(404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=m not found'),
      MlflowApiError,
      2,
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'MLV_NOT_FOUND',
      'Registered Model with name=m not found (RESOURCE_DOES_NOT_EXIST, HTTP 404)',
    ],
    [
      json(401, 'UNAUTHENTICATED', 'bad token'),
      AuthError,
      4,
      401,
      undefined,
      'MLV_AUTH',
      'MLflow at SERVER requires authentication (HTTP 401): bad token',
    ],
    [
      json(403, 'PERMISSION_DENIED', 'no READ on m'),
      AuthError,
      4,
      403,
      undefined,
      'MLV_AUTH',
      'MLflow at SERVER denied GET /registered-models/get (HTTP 403): no READ on m',
    ],
    [
      json(500, 'INTERNAL_ERROR', 'line one\n  line two'),
      RemoteError,
      3,
      500,
      'INTERNAL_ERROR',
      'MLV_REMOTE_HTTP',
      'MLflow at SERVER failed GET /registered-models/get (HTTP 500 INTERNAL_ERROR): line one line two (after 3 attempts)',
    ],
    [
      status(502),
      RemoteError,
      3,
      502,
      undefined,
      'MLV_REMOTE_HTTP',
      'MLflow at SERVER failed GET /registered-models/get (HTTP 502) (after 3 attempts)',
    ],
    [
      status(405),
      MlflowApiError,
      2,
      405,
      undefined,
      'MLV_MLFLOW_HTTP_405',
      'this server does not support GET /registered-models/get (HTTP 405) — is the tracking URI an MLflow server?',
    ],
    [
      status(404),
      MlflowApiError,
      2,
      404,
      undefined,
      'MLV_MLFLOW_HTTP_404',
      'this server has no endpoint GET /registered-models/get (HTTP 404) — is the tracking URI an MLflow server?',
    ],
    [
      ((_q, res) => {
        res.writeHead(413, { 'content-type': 'text/plain' });
        res.end('Request Entity Too Large');
      }) as Handler,
      MlflowApiError,
      2,
      413,
      undefined,
      'MLV_MLFLOW_HTTP_413',
      'MLflow at SERVER rejected GET /registered-models/get (HTTP 413): Request Entity Too Large',
    ],
  ])('maps answer #%# to the right error', async (handler, cls, exit, httpStatus, errorCode, code, message) => {
    const { server, client } = await setup(handler);
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err).toBeInstanceOf(cls);
    expect(err.exitCode).toBe(exit);
    expect(err.status).toBe(httpStatus);
    if (cls !== AuthError) expect(err.errorCode).toBe(errorCode);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message.replace('SERVER', server.url));
  });

  it('hints at the credentials on 401 and names the variables', async () => {
    const { client } = await setup(status(401), { auth: { kind: 'bearer', token: 'tok-hint-1' } });
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err.hint).toBe('check MLFLOW_TRACKING_TOKEN (expired or revoked?)');
    const { client: anon } = await setup(status(401));
    expect((await rejection(anon.getRegisteredModel('m'))).hint).toBe(
      'set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD',
    );
  });

  it('explains the MLflow 3 host-header rejection (403 text/plain)', async () => {
    const { server, client } = await setup((_q, res) => {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Invalid Host header - possible DNS rebinding attack detected');
    });
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toBe(
      `MLflow at ${server.url} refused GET /registered-models/get (HTTP 403): Invalid Host header - possible DNS rebinding attack detected`,
    );
    expect(err.hint).toContain('--allowed-hosts');
  });

  it('reports a 200 that is not JSON as a protocol error', async () => {
    const { server, client } = await setup((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login page</html>');
    });
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.code).toBe('MLV_REMOTE_PROTOCOL');
    expect(err.message).toBe(
      `MLflow at ${server.url} answered GET /registered-models/get with something that is not JSON: <html>login page</html>`,
    );
  });

  it('reports a JSON answer without the expected object', async () => {
    const { client } = await setup((_q, res) => sendJson(res, 200, {}));
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err.code).toBe('MLV_REMOTE_PROTOCOL');
    expect(err.message).toBe('unexpected answer from MLflow to registered-models/get: no "registered_model" object');
  });
});

describe('authentication headers', () => {
  it.each([
    ['a token', { MLFLOW_TRACKING_TOKEN: 'tok-bearer-1' }, 'Bearer tok-bearer-1'],
    [
      'username and password',
      { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'pw-basic-1' },
      `Basic ${Buffer.from('alice:pw-basic-1').toString('base64')}`,
    ],
    ['URI userinfo', { USERINFO: 'bob:pw%3Auri' }, `Basic ${Buffer.from('bob:pw:uri').toString('base64')}`],
    ['nothing', {}, undefined],
  ])('sends %s', async (_name, env, expected) => {
    server = await startServer(ok);
    const { USERINFO, ...rest } = env as Record<string, string>;
    const uri = USERINFO ? server.url.replace('http://', `http://${USERINFO}@`) : server.url;
    client = new MlflowClient({
      ...resolveClientConfig({ MLFLOW_TRACKING_URI: uri, ...rest }, undefined)!,
      maxRetries: 0,
    });
    await client.getRegisteredModel('m');
    expect(server.requests[0]!.headers.authorization).toBe(expected);
  });

  it('sends JSON bodies with Content-Type application/json and GET parameters in the query', async () => {
    const { server, client } = await setup(ok);
    await client.getRegisteredModel('a b/c');
    await client.createRegisteredModel({ name: 'm', tags: { team: 'x' } });
    expect(server.requests[0]!.url).toBe('/api/2.0/mlflow/registered-models/get?name=a+b%2Fc');
    expect(server.requests[0]!.body).toBe('');
    expect(server.requests[1]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ name: 'm', tags: [{ key: 'team', value: 'x' }] });
  });
});

describe('secret redaction', () => {
  const TOKEN = 'tok-SECRET-4f9a';
  const PASSWORD = 'pw-SECRET-77e1';
  const basic = Buffer.from(`alice:${PASSWORD}`).toString('base64');
  /** Echoes the request's credentials back, as a careless server or proxy might. */
  const echo =
    (code: number): Handler =>
    (q, res) =>
      mlflowError(res, code, 'INVALID_PARAMETER_VALUE', `bad request with ${q.headers.authorization} from ${q.url}`);

  function assertClean(err: any, log: string[]): void {
    const text = [err.message, err.hint ?? '', String(err.stack ?? ''), JSON.stringify(err), ...log].join('\n');
    for (const secret of [TOKEN, PASSWORD, basic]) expect(text).not.toContain(secret);
  }

  it.each([400, 401, 403, 500])('keeps the token out of a %i error and the log', async (code) => {
    const { client, log } = await setup(echo(code), { auth: { kind: 'bearer', token: TOKEN } });
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err.message).toContain('Bearer ***');
    assertClean(err, log);
  });

  it.each([400, 401, 500])('keeps the Basic password out of a %i error and the log', async (code) => {
    const { client, log } = await setup(echo(code), { auth: { kind: 'basic', username: 'alice', password: PASSWORD } });
    const err = await rejection(client.getRegisteredModel('m'));
    assertClean(err, log);
  });

  it('keeps URI credentials out of connection errors, timeouts and logs', async () => {
    const port = await deadPort();
    const log: string[] = [];
    client = new MlflowClient({
      ...resolveClientConfig({ MLFLOW_TRACKING_URI: `http://alice:${PASSWORD}@127.0.0.1:${port}` }, undefined)!,
      maxRetries: 1,
      backoffFactor: 0,
      log: (l) => log.push(l),
    });
    const refused = await rejection(client.getRegisteredModel('m'));
    expect(refused.message).toBe(
      `could not reach MLflow at http://127.0.0.1:${port}: connection refused (after 2 attempts)`,
    );
    assertClean(refused, log);
    await client.close();

    server = await startServer(() => undefined);
    client = new MlflowClient({
      ...resolveClientConfig(
        { MLFLOW_TRACKING_URI: server.url.replace('http://', `http://alice:${PASSWORD}@`) },
        undefined,
      )!,
      maxRetries: 0,
      timeoutMs: 100,
      log: (l) => log.push(l),
    });
    const timeout = await rejection(client.getRegisteredModel('m'));
    expect(timeout.code).toBe('MLV_REMOTE_TIMEOUT');
    assertClean(timeout, log);
  });

  it('masks a secret that a server puts in a query-looking message', async () => {
    const { client, log } = await setup(
      (_q, res) => mlflowError(res, 400, 'INVALID_PARAMETER_VALUE', `see https://x/cb?token=${TOKEN}&a=1`),
      { auth: { kind: 'bearer', token: TOKEN } },
    );
    const err = await rejection(client.getRegisteredModel('m'));
    assertClean(err, log);
  });
});

describe('TLS', () => {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tls');
  let tlsServer: https.Server | undefined;
  afterEach(async () => {
    tlsServer?.closeAllConnections();
    await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()));
    tlsServer = undefined;
  });

  async function startTls(): Promise<string> {
    tlsServer = https.createServer(
      { key: readFileSync(path.join(dir, 'server-key.pem')), cert: readFileSync(path.join(dir, 'server.pem')) },
      (_req, res) => sendJson(res, 200, MODEL),
    );
    await new Promise<void>((resolve) => tlsServer!.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  }

  it('rejects an unknown CA with a TLS error and a hint (not retried)', async () => {
    const url = await startTls();
    const log: string[] = [];
    client = new MlflowClient(testConfig(url, { log: (l) => log.push(l) }));
    const err = await rejection(client.getRegisteredModel('m'));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.code).toBe('MLV_REMOTE_TLS');
    expect(err.message).toMatch(new RegExp(`^could not reach MLflow at ${url}: TLS handshake failed \\(`));
    expect(err.hint).toContain('MLFLOW_TRACKING_SERVER_CERT_PATH');
    expect(log.filter((l) => l.startsWith('retrying'))).toEqual([]);
  });

  it('trusts the CA named by MLFLOW_TRACKING_SERVER_CERT_PATH', async () => {
    const url = await startTls();
    client = new MlflowClient(
      resolveClientConfig(
        { MLFLOW_TRACKING_URI: url, MLFLOW_TRACKING_SERVER_CERT_PATH: path.join(dir, 'ca.pem') },
        undefined,
      )!,
    );
    expect((await client.getRegisteredModel('m')).name).toBe('m');
  });

  it('skips verification with MLFLOW_TRACKING_INSECURE_TLS=true', async () => {
    const url = await startTls();
    client = new MlflowClient(
      resolveClientConfig({ MLFLOW_TRACKING_URI: url, MLFLOW_TRACKING_INSECURE_TLS: 'true' }, undefined)!,
    );
    expect((await client.getRegisteredModel('m')).name).toBe('m');
  });
});

describe('network failure classification (no real DNS: nothing leaves this machine)', () => {
  const ctx = {
    server: 'https://mlflow.example',
    host: 'mlflow.example',
    label: 'GET /registered-models/get',
    timeoutMs: 30_000,
  };
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
  it.each([
    // [error, retry mode, retryable, mlv code, message]
    [
      coded('ENOTFOUND'),
      'idempotent',
      false,
      'MLV_REMOTE_UNREACHABLE',
      'could not reach MLflow at https://mlflow.example: host mlflow.example not found',
    ],
    [
      coded('EAI_AGAIN'),
      'once',
      true,
      'MLV_REMOTE_UNREACHABLE',
      'could not reach MLflow at https://mlflow.example: host mlflow.example could not be resolved (DNS lookup failed temporarily)',
    ],
    [
      coded('ECONNREFUSED'),
      'once',
      true,
      'MLV_REMOTE_UNREACHABLE',
      'could not reach MLflow at https://mlflow.example: connection refused',
    ],
    [
      Object.assign(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]), {}),
      'once',
      true,
      'MLV_REMOTE_UNREACHABLE',
      'could not reach MLflow at https://mlflow.example: connection refused',
    ],
    [
      coded('EHOSTUNREACH'),
      'idempotent',
      true,
      'MLV_REMOTE_UNREACHABLE',
      'could not reach MLflow at https://mlflow.example: network unreachable (EHOSTUNREACH)',
    ],
    [
      coded('UND_ERR_CONNECT_TIMEOUT'),
      'once',
      true,
      'MLV_REMOTE_TIMEOUT',
      'could not reach MLflow at https://mlflow.example: connection timed out after 30s',
    ],
    [
      coded('UND_ERR_HEADERS_TIMEOUT'),
      'idempotent',
      true,
      'MLV_REMOTE_TIMEOUT',
      'MLflow at https://mlflow.example did not answer GET /registered-models/get within 30s',
    ],
    [
      coded('UND_ERR_BODY_TIMEOUT'),
      'once',
      false,
      'MLV_REMOTE_TIMEOUT',
      'MLflow at https://mlflow.example did not answer GET /registered-models/get within 30s',
    ],
    [
      coded('ECONNRESET'),
      'idempotent',
      true,
      'MLV_REMOTE_CONNECTION',
      'the connection to MLflow at https://mlflow.example broke during GET /registered-models/get (ECONNRESET)',
    ],
    [
      coded('UND_ERR_SOCKET', 'other side closed'),
      'once',
      false,
      'MLV_REMOTE_CONNECTION',
      'the connection to MLflow at https://mlflow.example broke during GET /registered-models/get (UND_ERR_SOCKET)',
    ],
    [
      coded('CERT_HAS_EXPIRED', 'certificate has expired'),
      'idempotent',
      false,
      'MLV_REMOTE_TLS',
      'could not reach MLflow at https://mlflow.example: TLS handshake failed (CERT_HAS_EXPIRED: certificate has expired)',
    ],
    [
      coded('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      'idempotent',
      false,
      'MLV_REMOTE_TLS',
      "could not reach MLflow at https://mlflow.example: TLS handshake failed (ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames)",
    ],
    [
      coded('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'),
      'idempotent',
      false,
      'MLV_INPUT',
      'the file being uploaded changed while GET /registered-models/get was sending it',
    ],
    [
      new Error('something odd'),
      'idempotent',
      false,
      'MLV_REMOTE_UNREACHABLE',
      'request GET /registered-models/get to MLflow at https://mlflow.example failed: something odd',
    ],
  ] as const)('classifies %s (%s)', (err, retry, retryable, code, message) => {
    const f = networkFailure(err, { ...ctx, retry });
    expect([f.retryable, f.error.code, f.error.message]).toEqual([retryable, code, message]);
  });
});
