import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError, RemoteError } from '../../src/errors.js';
import { chunkBatch, MlflowClient } from '../../src/mlflow/client.js';
import { MlflowApiError } from '../../src/mlflow/errors.js';
import { mlflowError, rejection, sendJson, startServer, testConfig, type Handler, type TestServer } from './helpers.js';

let server: TestServer | undefined;
let client: MlflowClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setup(handler: Handler): Promise<{ server: TestServer; client: MlflowClient }> {
  server = await startServer(handler);
  client = new MlflowClient(testConfig(server.url));
  return { server, client };
}

const mv = (name: string, version: string, extra: Record<string, unknown> = {}) => ({
  name,
  version,
  creation_timestamp: 1,
  last_updated_timestamp: 2,
  current_stage: 'None',
  description: '',
  source: `mlflow-artifacts:/1/r${version}/artifacts/model`,
  run_id: '',
  run_link: '',
  status: 'READY',
  ...extra,
});

describe('pagination', () => {
  /** 7 registered models served in pages of max_results, with MLflow-style offset tokens. */
  const models = Array.from({ length: 7 }, (_, i) => `model-${i}`);
  const paged: Handler = (q, res) => {
    const size = Number(q.query.get('max_results') ?? 100);
    const token = q.query.get('page_token');
    const offset = token ? (JSON.parse(Buffer.from(token, 'base64').toString()) as { offset: number }).offset : 0;
    const page = models.slice(offset, offset + size);
    const body: Record<string, unknown> = {};
    if (page.length > 0)
      body.registered_models = page.map((name) => ({ name, creation_timestamp: 1, last_updated_timestamp: 1 }));
    if (offset + size < models.length)
      body.next_page_token = Buffer.from(JSON.stringify({ offset: offset + size })).toString('base64');
    sendJson(res, 200, body);
  };

  it('walks every page with the iterator, passing the filter and token along', async () => {
    const { server, client } = await setup(paged);
    const names: string[] = [];
    for await (const m of client.iterateRegisteredModels({
      filter: "name LIKE 'model-%'",
      pageSize: 3,
      orderBy: ['name ASC'],
    }))
      names.push(m.name);
    expect(names).toEqual(models);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/2.0/mlflow/registered-models/search?filter=name+LIKE+%27model-%25%27&max_results=3&order_by=name+ASC',
      '/api/2.0/mlflow/registered-models/search?filter=name+LIKE+%27model-%25%27&max_results=3&order_by=name+ASC&page_token=eyJvZmZzZXQiOjN9',
      '/api/2.0/mlflow/registered-models/search?filter=name+LIKE+%27model-%25%27&max_results=3&order_by=name+ASC&page_token=eyJvZmZzZXQiOjZ9',
    ]);
  });

  it('returns one page and its token from search', async () => {
    const { client } = await setup(paged);
    const page = await client.searchRegisteredModels({ maxResults: 5 });
    expect(page.items.map((m) => m.name)).toEqual(models.slice(0, 5));
    expect(page.nextPageToken).toBe('eyJvZmZzZXQiOjV9');
    const last = await client.searchRegisteredModels({ maxResults: 5, pageToken: page.nextPageToken! });
    expect(last.items.map((m) => m.name)).toEqual(models.slice(5));
    expect(last.nextPageToken).toBeUndefined();
  });

  it('iterates model versions across pages', async () => {
    const versions = ['5', '4', '3', '2', '1'];
    const { server, client } = await setup((q, res) => {
      const offset = Number(q.query.get('page_token') ?? 0);
      const body: Record<string, unknown> = {
        model_versions: versions.slice(offset, offset + 2).map((v) => mv('m', v)),
      };
      if (offset + 2 < versions.length) body.next_page_token = String(offset + 2);
      sendJson(res, 200, body);
    });
    const seen: string[] = [];
    for await (const v of client.iterateModelVersions({ filter: "name='m'", pageSize: 2 })) seen.push(v.version);
    expect(seen).toEqual(versions);
    expect(server.requests).toHaveLength(3);
  });

  it('stops a server that hands out the same token forever', async () => {
    const { client } = await setup((_q, res) =>
      sendJson(res, 200, { registered_models: [{ name: 'x' }], next_page_token: 'same' }),
    );
    const names: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const m of client.iterateRegisteredModels()) names.push(m.name);
      })(),
    );
    expect(err.code).toBe('MLV_REMOTE_PROTOCOL');
    expect(names).toEqual(['x', 'x']);
  });
});

describe('MLflow omits empty arrays', () => {
  it.each([
    ['registered-models search', (c: MlflowClient) => c.searchRegisteredModels().then((p) => p.items)],
    ['model-versions search', (c: MlflowClient) => c.searchModelVersions({ filter: "name='x'" }).then((p) => p.items)],
    ['get-latest-versions', (c: MlflowClient) => c.getLatestVersions('m')],
    ['artifact listing', (c: MlflowClient) => c.artifacts.list('1/x')],
  ])('parses `{}` from %s as []', async (_name, call) => {
    const { client } = await setup((_q, res) => sendJson(res, 200, {}));
    expect(await call(client)).toEqual([]);
  });

  it('fills tags, aliases, latest_versions and description of a bare registered model', async () => {
    const { client } = await setup((_q, res) =>
      sendJson(res, 200, { registered_model: { name: 'm', creation_timestamp: 5, last_updated_timestamp: 6 } }),
    );
    expect(await client.getRegisteredModel('m')).toEqual({
      name: 'm',
      creation_timestamp: 5,
      last_updated_timestamp: 6,
      description: '',
      tags: [],
      latest_versions: [],
      aliases: [],
    });
  });

  it('parses a run with NaN and infinite metrics and no params', async () => {
    const { client } = await setup((_q, res) =>
      sendJson(res, 200, {
        run: {
          info: {
            run_uuid: 'r1',
            experiment_id: '1',
            status: 'FINISHED',
            start_time: 10,
            artifact_uri: 'mlflow-artifacts:/1/r1/artifacts',
            lifecycle_stage: 'active',
          },
          data: {
            metrics: [
              { key: 'a', value: 'NaN', timestamp: 1, step: 0 },
              { key: 'b', value: '-Infinity', timestamp: 2 },
              { key: 'c', value: 0.5, timestamp: 3, step: 4 },
            ],
          },
        },
      }),
    );
    const run = await client.getRun('r1');
    expect(run.info.run_id).toBe('r1');
    expect(run.info.run_name).toBe('');
    expect(run.data.metrics).toEqual([
      { key: 'a', value: NaN, timestamp: 1, step: 0 },
      { key: 'b', value: -Infinity, timestamp: 2, step: 0 },
      { key: 'c', value: 0.5, timestamp: 3, step: 4 },
    ]);
    expect(run.data.params).toEqual([]);
    expect(run.data.tags).toEqual([]);
  });
});

describe('logBatch', () => {
  it('splits 250 params into 3 requests of 100, 100, 50', async () => {
    const { server, client } = await setup((_q, res) => sendJson(res, 200, {}));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    expect(await client.logBatch({ runId: 'r', params })).toEqual({ requests: 3 });
    const bodies = server.requests.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.params.length)).toEqual([100, 100, 50]);
    expect(bodies.flatMap((b) => b.params)).toEqual(params);
    expect(bodies.every((b) => b.run_id === 'r' && b.metrics === undefined && b.tags === undefined)).toBe(true);
  });

  it.each([
    // [params, metrics, tags] → per-request [params, metrics, tags]
    [[0, 0, 0], [[0, 0, 0]]],
    [
      [100, 1000, 100],
      [
        [100, 800, 100],
        [0, 200, 0],
      ],
    ],
    [
      [0, 2500, 0],
      [
        [0, 1000, 0],
        [0, 1000, 0],
        [0, 500, 0],
      ],
    ],
    [
      [150, 950, 30],
      [
        [100, 870, 30],
        [50, 80, 0],
      ],
    ],
    [
      [0, 0, 101],
      [
        [0, 0, 100],
        [0, 0, 1],
      ],
    ],
  ])('chunks %j items as %j', (sizes, expected) => {
    const [np, nm, nt] = sizes as [number, number, number];
    const chunks = chunkBatch(Array(np).fill('p'), Array(nm).fill('m'), Array(nt).fill('t'));
    expect(chunks.map((c) => [c.params.length, c.metrics.length, c.tags.length])).toEqual(expected);
    for (const c of chunks) expect(c.params.length + c.metrics.length + c.tags.length).toBeLessThanOrEqual(1000);
  });

  it('sends metrics with timestamps, steps and NaN as "NaN", tags as key/value lists', async () => {
    const { server, client } = await setup((_q, res) => sendJson(res, 200, {}));
    await client.logBatch({
      runId: 'r',
      params: { lr: '0.01' },
      metrics: [
        { key: 'acc', value: 0.9, timestamp: 5, step: 2 },
        { key: 'loss', value: NaN, timestamp: 6 },
      ],
      tags: { stage: 'dev' },
    });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      run_id: 'r',
      params: [{ key: 'lr', value: '0.01' }],
      metrics: [
        { key: 'acc', value: 0.9, timestamp: 5, step: 2 },
        { key: 'loss', value: 'NaN', timestamp: 6 },
      ],
      tags: [{ key: 'stage', value: 'dev' }],
    });
  });

  it("stops at the first rejected chunk and reports MLflow's error", async () => {
    let n = 0;
    const { server, client } = await setup((_q, res) =>
      ++n === 2
        ? mlflowError(res, 400, 'INVALID_PARAMETER_VALUE', 'Changing param values is not allowed.')
        : sendJson(res, 200, {}),
    );
    const err = await rejection(
      client.logBatch({ runId: 'r', params: Array.from({ length: 300 }, (_, i) => ({ key: `p${i}`, value: 'v' })) }),
    );
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(server.requests).toHaveLength(2);
  });
});

describe('experiments', () => {
  it('getExperimentByName returns null for RESOURCE_DOES_NOT_EXIST', async () => {
    const { client } = await setup((_q, res) =>
      mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', "Could not find experiment with name 'x'"),
    );
    expect(await client.getExperimentByName('x')).toBeNull();
  });

  it('getOrCreateExperiment creates a missing experiment and reads it back', async () => {
    const exp = { experiment_id: '7', name: 'e', artifact_location: 'mlflow-artifacts:/7', lifecycle_stage: 'active' };
    const { server, client } = await setup((q, res) => {
      if (q.path.endsWith('/get-by-name')) return mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', 'nope');
      if (q.path.endsWith('/create')) return sendJson(res, 200, { experiment_id: '7' });
      return sendJson(res, 200, { experiment: exp });
    });
    expect(await client.getOrCreateExperiment('e', { tags: { team: 'a' } })).toEqual({ ...exp, tags: [] });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/2.0/mlflow/experiments/get-by-name',
      'POST /api/2.0/mlflow/experiments/create',
      'GET /api/2.0/mlflow/experiments/get',
    ]);
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ name: 'e', tags: [{ key: 'team', value: 'a' }] });
  });

  it('getOrCreateExperiment survives losing a create race', async () => {
    const exp = { experiment_id: '8', name: 'e' };
    let lookups = 0;
    const { client } = await setup((q, res) => {
      if (q.path.endsWith('/get-by-name')) {
        return ++lookups === 1
          ? mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', 'nope')
          : sendJson(res, 200, { experiment: exp });
      }
      return mlflowError(res, 400, 'RESOURCE_ALREADY_EXISTS', 'Experiment(name=e) already exists.');
    });
    expect((await client.getOrCreateExperiment('e')).experiment_id).toBe('8');
  });
});

describe('aliases', () => {
  it('findModelVersionByAlias returns null when MLflow says 400 for a missing alias', async () => {
    const { client } = await setup((q, res) => {
      if (q.path.endsWith('/registered-models/alias'))
        return mlflowError(res, 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias nope not found.');
      return sendJson(res, 200, { registered_model: { name: 'm', aliases: [{ alias: 'champion', version: '2' }] } });
    });
    expect(await client.findModelVersionByAlias('m', 'nope')).toBeNull();
  });

  it('findModelVersionByAlias still fails for an unknown model', async () => {
    const { client } = await setup((q, res) =>
      q.path.endsWith('/registered-models/alias')
        ? mlflowError(res, 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias x not found.')
        : mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', 'Registered Model with name=m not found'),
    );
    const err = await rejection(client.findModelVersionByAlias('m', 'x'));
    expect(err.errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('returns the version an alias points at, aliases as strings', async () => {
    const { server, client } = await setup((_q, res) =>
      sendJson(res, 200, { model_version: mv('m', '2', { aliases: ['champion'] }) }),
    );
    const v = await client.findModelVersionByAlias('m', 'champion');
    expect([v?.version, v?.aliases]).toEqual(['2', ['champion']]);
    expect(server.requests[0]!.url).toBe('/api/2.0/mlflow/registered-models/alias?name=m&alias=champion');
  });
});

describe('waitForReady', () => {
  it('polls while PENDING_REGISTRATION and returns the READY version', async () => {
    const statuses = ['PENDING_REGISTRATION', 'PENDING_REGISTRATION', 'READY'];
    let i = 0;
    const { server, client } = await setup((_q, res) =>
      sendJson(res, 200, { model_version: mv('m', '3', { status: statuses[i++] }) }),
    );
    const v = await client.waitForReady('m', 3, { pollMs: 10, timeoutMs: 5000 });
    expect(v.status).toBe('READY');
    expect(server.requests).toHaveLength(3);
    expect(server.requests[0]!.url).toBe('/api/2.0/mlflow/model-versions/get?name=m&version=3');
  });

  it('fails clearly on FAILED_REGISTRATION with the status message', async () => {
    const { client } = await setup((_q, res) =>
      sendJson(res, 200, {
        model_version: mv('m', '3', { status: 'FAILED_REGISTRATION', status_message: 'could not copy artifacts' }),
      }),
    );
    const err = await rejection(client.waitForReady('m', '3', { pollMs: 10 }));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.code).toBe('MLV_REGISTRATION_FAILED');
    expect(err.message).toBe('model version m v3 failed to register: could not copy artifacts');
  });

  it('times out when the version stays pending', async () => {
    const { server, client } = await setup((_q, res) =>
      sendJson(res, 200, { model_version: mv('m', '3', { status: 'PENDING_REGISTRATION' }) }),
    );
    const err = await rejection(client.waitForReady('m', '3', { pollMs: 20, timeoutMs: 100 }));
    expect(err.code).toBe('MLV_REGISTRATION_TIMEOUT');
    expect(err.message).toBe('model version m v3 is still PENDING_REGISTRATION after 0.1s');
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
  });

  it('can be interrupted while waiting', async () => {
    const { client } = await setup((_q, res) =>
      sendJson(res, 200, { model_version: mv('m', '3', { status: 'PENDING_REGISTRATION' }) }),
    );
    const c = new AbortController();
    setTimeout(() => c.abort(), 50);
    expect(await rejection(client.waitForReady('m', '3', { pollMs: 5000, signal: c.signal }))).toBeInstanceOf(
      InterruptedError,
    );
  });
});

describe('resolveArtifactUri', () => {
  const handler: Handler = (q, res) => {
    if (q.path.endsWith('/runs/get')) {
      return sendJson(res, 200, {
        run: {
          info: {
            run_id: q.query.get('run_id'),
            artifact_uri: `mlflow-artifacts:/2/${q.query.get('run_id')}/artifacts`,
          },
        },
      });
    }
    if (q.path.endsWith('/get-download-uri')) {
      return sendJson(res, 200, {
        artifact_uri: q.query.get('version') === '1' ? 'runs:/abc/model' : 'mlflow-artifacts:/2/def/artifacts/model',
      });
    }
    if (q.path.endsWith('/registered-models/alias')) return sendJson(res, 200, { model_version: mv('m', '1') });
    if (q.path.includes('/logged-models/')) {
      return sendJson(res, 200, {
        model: { info: { model_id: 'm-1', artifact_uri: 'mlflow-artifacts:/2/models/m-1/artifacts' } },
      });
    }
    return sendJson(res, 404, {});
  };
  it.each([
    ['mlflow-artifacts:/2/r/artifacts/model', '2/r/artifacts/model'],
    ['mlflow-artifacts://srv:5000/2/r/artifacts/a%20b', '2/r/artifacts/a b'],
    ['runs:/abc/model/MLmodel', '2/abc/artifacts/model/MLmodel'],
    ['runs:/abc', '2/abc/artifacts'],
    ['models:/m/1', '2/abc/artifacts/model'],
    ['models:/m/2', '2/def/artifacts/model'],
    ['models:/m@champion', '2/abc/artifacts/model'],
    ['models:/m-1', '2/models/m-1/artifacts'],
  ])('resolves %s to %s', async (uri, expected) => {
    const { client } = await setup(handler);
    expect(await client.resolveArtifactUri(uri)).toBe(expected);
  });

  it.each([
    [
      's3://bucket/x',
      "artifact location s3://bucket/x is not an mlflow-artifacts: URI; mlv moves artifacts only through MLflow's artifact proxy",
    ],
    [
      'mlflow-artifacts:/2/../../etc',
      "artifact path mlflow-artifacts:/2/../../etc must not contain '..', backslashes or NUL",
    ],
  ])('rejects %s', async (uri, message) => {
    const { client } = await setup(handler);
    const err = await rejection(client.resolveArtifactUri(uri));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(message);
  });
});

describe('request shapes', () => {
  it.each([
    [
      'transition with archive',
      (c: MlflowClient) =>
        c.transitionModelVersionStage({ name: 'm', version: 2, stage: 'Production', archiveExistingVersions: true }),
      'POST /api/2.0/mlflow/model-versions/transition-stage',
      { name: 'm', version: '2', stage: 'Production', archive_existing_versions: true },
    ],
    [
      'latest versions',
      (c: MlflowClient) => c.getLatestVersions('m', ['Production', 'Staging']),
      'POST /api/2.0/mlflow/registered-models/get-latest-versions',
      { name: 'm', stages: ['Production', 'Staging'] },
    ],
    [
      'delete alias',
      (c: MlflowClient) => c.deleteRegisteredModelAlias('m', 'a'),
      'DELETE /api/2.0/mlflow/registered-models/alias',
      { name: 'm', alias: 'a' },
    ],
    [
      'delete version tag',
      (c: MlflowClient) => c.deleteModelVersionTag('m', 1, 'k'),
      'DELETE /api/2.0/mlflow/model-versions/delete-tag',
      { name: 'm', version: '1', key: 'k' },
    ],
    [
      'update model',
      (c: MlflowClient) => c.updateRegisteredModel({ name: 'm', description: 'd' }),
      'PATCH /api/2.0/mlflow/registered-models/update',
      { name: 'm', description: 'd' },
    ],
    [
      'finalize logged model',
      (c: MlflowClient) => c.finalizeLoggedModel('m-1'),
      'PATCH /api/2.0/mlflow/logged-models/m-1',
      { model_id: 'm-1', status: 'LOGGED_MODEL_READY' },
    ],
    [
      'create version',
      (c: MlflowClient) =>
        c.createModelVersion({
          name: 'm',
          source: 'models:/m-1',
          runId: 'r',
          modelId: 'm-1',
          tags: [{ key: 'a', value: 'b' }],
        }),
      'POST /api/2.0/mlflow/model-versions/create',
      { name: 'm', source: 'models:/m-1', run_id: 'r', model_id: 'm-1', tags: [{ key: 'a', value: 'b' }] },
    ],
  ])('%s', async (_name, call, line, body) => {
    const { server, client } = await setup((_q, res) =>
      sendJson(res, 200, {
        model_version: mv('m', '2'),
        registered_model: { name: 'm' },
        model: { info: { model_id: 'm-1' } },
      }),
    );
    await call(client);
    expect(`${server.requests[0]!.method} ${server.requests[0]!.path}`).toBe(line);
    expect(JSON.parse(server.requests[0]!.body)).toEqual(body);
  });
});

describe('server information', () => {
  it('reads /version and /health', async () => {
    const { client } = await setup((q, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(q.path === '/version' ? '2.17.3.dev0' : 'OK');
    });
    expect(await client.serverVersion()).toBe('2.17.3.dev0');
    expect(await client.health()).toEqual({ ok: true, status: 200, body: 'OK' });
  });

  it('says null / not ok when the server has no such endpoints', async () => {
    const { client } = await setup((_q, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>nope</html>');
    });
    expect(await client.serverVersion()).toBeNull();
    expect(await client.health()).toEqual({ ok: false, status: 404, body: '' });
  });
});

describe('lifecycle', () => {
  it('close() is idempotent and a closed client refuses to send', async () => {
    const { server, client } = await setup((_q, res) => sendJson(res, 200, {}));
    await client.close();
    await client.close();
    const err = await rejection(client.searchRegisteredModels());
    expect(err.message).toBe('MlflowClient used after close() (GET /registered-models/search)');
    expect(server.requests).toHaveLength(0);
  });
});
