import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthError, InputError, NotFoundError, RemoteError } from '../../src/errors.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { MlflowApiError } from '../../src/mlflow/errors.js';
import {
  loadAllRecordings,
  loadRecording,
  MLFLOW_VERSIONS,
  responseBodyBytes,
  startReplayServer,
  type Exchange,
  type RecordedRequest,
  type ReplayServer,
} from '../helpers/recordings.js';
import { rejection, testConfig } from './helpers.js';

/**
 * Contract tests: the client against the exchanges recorded with real MLflow 2.17 and 3.6
 * servers (fixtures/mlflow-reference). For every recorded request the client can make, the
 * replay server checks that the client sends exactly that request (method, path, query, JSON
 * body) and answers with the recorded response; the test then checks that the client keeps every
 * field MLflow returned, or maps the recorded error to the right mlv error.
 * Exchanges the client cannot produce (malformed bodies, wrong methods, forged headers…) are
 * listed as skipped, with the reason.
 */

const API = '/api/2.0/mlflow';
const PROXY = '/api/2.0/mlflow-artifacts/artifacts';
const tmp = mkdtempSync(path.join(tmpdir(), 'mlv-contract-'));

interface Plan {
  call: (c: MlflowClient) => Promise<unknown>;
  /** Checks a success: by default, the result mirrors `response.body[key]` (or the whole body). */
  key?: string;
  check?: (result: unknown, exchange: Exchange) => void;
  /** This recorded error is a value for this call (getExperimentByName → null). */
  errorIsValue?: unknown;
  /** The client refuses before sending anything (e.g. a `..` artifact path). */
  clientRejects?: typeof InputError;
  /** Expected error class when it is not the generic mapping of the recorded status. */
  errorClass?: typeof NotFoundError;
}

type Planner = (req: RecordedRequest, q: URLSearchParams, body: Record<string, any>) => Plan | string;

const only = (body: Record<string, any>, ...keys: string[]) => Object.keys(body).every((k) => keys.includes(k));
const str = (v: unknown) => typeof v === 'string';
const need = (q: URLSearchParams, ...keys: string[]) => keys.every((k) => q.has(k));
const nothing = (result: unknown) => expect(result).toBeUndefined();

function search(q: URLSearchParams) {
  return {
    ...(q.has('filter') ? { filter: q.get('filter')! } : {}),
    ...(q.has('max_results') ? { maxResults: Number(q.get('max_results')) } : {}),
    ...(q.has('order_by') ? { orderBy: q.getAll('order_by') } : {}),
    ...(q.has('page_token') ? { pageToken: q.get('page_token')! } : {}),
  };
}

function pageCheck(listKey: string) {
  return (result: unknown, ex: Exchange) => {
    const raw = ex.response.body as Record<string, unknown>;
    const page = result as { items: unknown[]; nextPageToken: string | undefined };
    expectMirrors(page.items, (raw[listKey] as unknown[] | undefined) ?? [], listKey);
    expect(page.nextPageToken).toBe(raw.next_page_token);
  };
}

/** What the client does for each recorded endpoint; a string is the reason it cannot send that request. */
const planners: Record<string, Planner> = {
  'GET /health': () => ({
    call: (c) => c.health(),
    check: (r) => expect(r).toEqual({ ok: true, status: 200, body: 'OK' }),
  }),
  'GET /version': () => ({ call: (c) => c.serverVersion(), check: (r, ex) => expect(r).toBe(ex.response.body) }),

  [`GET ${API}/experiments/get-by-name`]: (_r, q) =>
    need(q, 'experiment_name')
      ? { call: (c) => c.getExperimentByName(q.get('experiment_name')!), key: 'experiment', errorIsValue: null }
      : 'the client always sends experiment_name',
  [`GET ${API}/experiments/get`]: (_r, q) => ({
    call: (c) => c.getExperiment(q.get('experiment_id')!),
    key: 'experiment',
  }),
  [`POST ${API}/experiments/create`]: (r, _q, b) =>
    r.headers?.['Content-Type'] === 'application/json' && str(b.name) && only(b, 'name', 'tags', 'artifact_location')
      ? {
          call: (c) =>
            c.createExperiment({
              name: b.name,
              ...(b.tags ? { tags: b.tags } : {}),
              ...(b.artifact_location ? { artifactLocation: b.artifact_location } : {}),
            }),
          check: (id, ex) => expect(id).toBe((ex.response.body as { experiment_id: string }).experiment_id),
        }
      : 'a malformed request (no Content-Type, bad JSON, wrong type or unknown field)',
  [`GET ${API}/experiments/search`]: () => 'experiments/search is not part of the client',
  [`POST ${API}/experiments/search`]: () => 'experiments/search is not part of the client',

  [`POST ${API}/runs/create`]: (_r, _q, b) =>
    str(b.experiment_id) && typeof b.start_time === 'number'
      ? {
          call: (c) =>
            c.createRun({
              experimentId: b.experiment_id,
              startTime: b.start_time,
              ...(b.run_name ? { runName: b.run_name } : {}),
              ...(b.user_id ? { userId: b.user_id } : {}),
              ...(b.tags ? { tags: b.tags } : {}),
            }),
          key: 'run',
        }
      : 'the client always sends a string experiment_id and a start_time',
  [`POST ${API}/runs/log-batch`]: (_r, _q, b) => {
    if (!str(b.run_id)) return 'the client always sends run_id';
    const metrics = (b.metrics ?? []) as { key: string; value: unknown; timestamp?: number; step?: number }[];
    const params = (b.params ?? []) as { key: string; value?: string }[];
    if (metrics.some((m) => (typeof m.value !== 'number' && m.value !== 'NaN') || m.timestamp === undefined))
      return 'metrics the client cannot express (non-numeric value, no timestamp)';
    if (params.some((p) => p.value === undefined)) return 'a param without value';
    if (params.length > 100)
      return 'more than 100 params in one request: the client splits them (see the log-batch test below)';
    return {
      call: (c) =>
        c.logBatch({
          runId: b.run_id,
          ...(b.params ? { params: params as { key: string; value: string }[] } : {}),
          ...(b.metrics
            ? {
                metrics: metrics.map((m) => ({
                  key: m.key,
                  value: m.value === 'NaN' ? NaN : (m.value as number),
                  timestamp: m.timestamp!,
                  ...(m.step !== undefined ? { step: m.step } : {}),
                })),
              }
            : {}),
          ...(b.tags ? { tags: b.tags } : {}),
        }),
      check: (r) => expect(r).toEqual({ requests: 1 }),
    };
  },
  [`POST ${API}/runs/update`]: (_r, _q, b) => ({
    call: (c) =>
      c.updateRun({
        runId: b.run_id,
        ...(b.status ? { status: b.status } : {}),
        ...(b.end_time ? { endTime: b.end_time } : {}),
        ...(b.run_name ? { runName: b.run_name } : {}),
      }),
    key: 'run_info',
  }),
  [`GET ${API}/runs/get`]: (_r, q) =>
    need(q, 'run_id') ? { call: (c) => c.getRun(q.get('run_id')!), key: 'run' } : 'the client always sends run_id',

  [`GET ${API}/artifacts/list`]: () =>
    "runs' artifacts/list is not part of the client (it lists through the artifact proxy)",

  [`POST ${API}/registered-models/create`]: (_r, _q, b) =>
    str(b.name)
      ? {
          call: (c) =>
            c.createRegisteredModel({
              name: b.name,
              ...(b.description ? { description: b.description } : {}),
              ...(b.tags ? { tags: b.tags } : {}),
            }),
          key: 'registered_model',
        }
      : 'the client always sends a name',
  [`GET ${API}/registered-models/get`]: (_r, q) =>
    need(q, 'name')
      ? { call: (c) => c.getRegisteredModel(q.get('name')!), key: 'registered_model' }
      : 'the client always sends name',
  [`GET ${API}/registered-models/search`]: (_r, q) => ({
    call: (c) => c.searchRegisteredModels(search(q)),
    check: pageCheck('registered_models'),
  }),
  [`POST ${API}/registered-models/search`]: () => 'registered-models/search is GET-only: the client uses GET',
  [`PATCH ${API}/registered-models/update`]: (_r, _q, b) => ({
    call: (c) => c.updateRegisteredModel({ name: b.name, description: b.description }),
    key: 'registered_model',
  }),
  [`POST ${API}/registered-models/rename`]: (_r, _q, b) => ({
    call: (c) => c.renameRegisteredModel(b.name, b.new_name),
    key: 'registered_model',
  }),
  [`DELETE ${API}/registered-models/delete`]: (_r, _q, b) => ({
    call: (c) => c.deleteRegisteredModel(b.name),
    check: nothing,
  }),
  [`POST ${API}/registered-models/set-tag`]: (_r, _q, b) => ({
    call: (c) => c.setRegisteredModelTag(b.name, b.key, b.value),
    check: nothing,
  }),
  [`DELETE ${API}/registered-models/delete-tag`]: (r, _q, b) =>
    r.body
      ? { call: (c) => c.deleteRegisteredModelTag(b.name, b.key), check: nothing }
      : 'the query-string form: the client sends a JSON body',
  [`POST ${API}/registered-models/get-latest-versions`]: (_r, _q, b) => ({
    call: (c) => c.getLatestVersions(b.name, b.stages),
    check: (r, ex) =>
      expectMirrors(r, (ex.response.body as { model_versions?: unknown[] }).model_versions ?? [], 'model_versions'),
  }),
  [`GET ${API}/registered-models/get-latest-versions`]: () =>
    "the GET form: the client POSTs, as MLflow's Python client does",
  [`POST ${API}/registered-models/alias`]: (_r, _q, b) => ({
    call: (c) => c.setRegisteredModelAlias(b.name, b.alias, b.version),
    check: nothing,
  }),
  [`GET ${API}/registered-models/alias`]: (_r, q) => ({
    call: (c) => c.getModelVersionByAlias(q.get('name')!, q.get('alias')!),
    key: 'model_version',
  }),
  [`DELETE ${API}/registered-models/alias`]: (r, _q, b) =>
    r.body
      ? { call: (c) => c.deleteRegisteredModelAlias(b.name, b.alias), check: nothing }
      : 'the query-string form: the client sends a JSON body',

  [`POST ${API}/model-versions/create`]: (_r, _q, b) =>
    str(b.source)
      ? {
          call: (c) =>
            c.createModelVersion({
              name: b.name,
              source: b.source,
              ...(b.run_id !== undefined ? { runId: b.run_id } : {}),
              ...(b.run_link ? { runLink: b.run_link } : {}),
              ...(b.description ? { description: b.description } : {}),
              ...(b.tags ? { tags: b.tags } : {}),
              ...(b.model_id ? { modelId: b.model_id } : {}),
            }),
          key: 'model_version',
        }
      : 'the client always sends a source',
  [`GET ${API}/model-versions/get`]: (_r, q) => ({
    call: (c) => c.getModelVersion(q.get('name')!, q.get('version')!),
    key: 'model_version',
  }),
  [`GET ${API}/model-versions/get-download-uri`]: (_r, q) => ({
    call: (c) => c.getModelVersionDownloadUri(q.get('name')!, q.get('version')!),
    check: (r, ex) => expect(r).toBe((ex.response.body as { artifact_uri: string }).artifact_uri),
  }),
  [`GET ${API}/model-versions/search`]: (_r, q) => ({
    call: (c) => c.searchModelVersions(search(q)),
    check: pageCheck('model_versions'),
  }),
  [`PATCH ${API}/model-versions/update`]: (_r, _q, b) => ({
    call: (c) => c.updateModelVersion({ name: b.name, version: b.version, description: b.description }),
    key: 'model_version',
  }),
  [`DELETE ${API}/model-versions/delete`]: (_r, _q, b) => ({
    call: (c) => c.deleteModelVersion(b.name, b.version),
    check: nothing,
  }),
  [`POST ${API}/model-versions/set-tag`]: (_r, _q, b) =>
    str(b.value)
      ? { call: (c) => c.setModelVersionTag(b.name, b.version, b.key, b.value), check: nothing }
      : 'a non-string tag value',
  [`DELETE ${API}/model-versions/delete-tag`]: (_r, _q, b) => ({
    call: (c) => c.deleteModelVersionTag(b.name, b.version, b.key),
    check: nothing,
  }),
  [`POST ${API}/model-versions/transition-stage`]: (_r, _q, b) =>
    b.archive_existing_versions !== undefined
      ? {
          call: (c) =>
            c.transitionModelVersionStage({
              name: b.name,
              version: b.version,
              stage: b.stage,
              archiveExistingVersions: b.archive_existing_versions,
            }),
          key: 'model_version',
        }
      : 'without archive_existing_versions: the client always sends it',

  [`POST ${API}/logged-models`]: (_r, _q, b) => ({
    call: (c) =>
      c.createLoggedModel({
        experimentId: b.experiment_id,
        name: b.name,
        sourceRunId: b.source_run_id,
        params: b.params,
        tags: b.tags,
      }),
    key: 'model',
  }),
};

function loggedModelPlanner(req: RecordedRequest, body: Record<string, any>): Plan | string | undefined {
  const m = new RegExp(`^${API}/logged-models/([^/]+)$`).exec(req.path);
  if (!m) return undefined;
  const id = decodeURIComponent(m[1]!);
  if (req.method === 'GET') return { call: (c) => c.getLoggedModel(id), key: 'model' };
  if (req.method === 'PATCH') return { call: (c) => c.finalizeLoggedModel(body.model_id, body.status), key: 'model' };
  return undefined;
}

function artifactPlanner(req: RecordedRequest, q: URLSearchParams, exIndex: string): Plan | string | undefined {
  if (req.path === PROXY && req.method === 'GET') {
    return {
      call: (c) => c.artifacts.list(q.get('path') ?? ''),
      check: (r, ex) => expectMirrors(r, (ex.response.body as { files?: unknown[] }).files ?? [], 'files'),
    };
  }
  if (!req.url.startsWith(`${PROXY}/`)) return undefined;
  const rawRemote = req.url.slice(PROXY.length + 1).split('?')[0]!;
  const remote = decodeURIComponent(rawRemote);
  if (remote.split('/').includes('..')) {
    return { call: (c) => c.artifacts.uploadFile(__filename(), remote), clientRejects: InputError };
  }
  if (req.method === 'PUT') {
    const size = (req.body as { _bytes: number })._bytes;
    const local = path.join(tmp, `upload-${exIndex}`);
    writeFileSync(local, Buffer.alloc(size));
    return {
      call: (c) => c.artifacts.uploadFile(local, remote),
      check: (r) => expect(r).toEqual({ remotePath: remote, localPath: local, bytes: size }),
    };
  }
  if (req.method === 'GET') {
    const dest = path.join(tmp, `download-${exIndex}`, path.basename(remote));
    return {
      call: (c) => c.artifacts.downloadFile(remote, dest),
      check: (r, ex) => {
        const expected = responseBodyBytes(ex.response);
        expect(readFileSync(dest)).toEqual(expected);
        expect((r as { bytes: number }).bytes).toBe(expected.length);
      },
      errorClass: NotFoundError,
    };
  }
  if (req.method === 'DELETE') return { call: (c) => c.artifacts.delete(remote), check: nothing };
  return undefined;
}

function __filename(): string {
  return path.join(tmp, 'unused');
}

function planFor(ex: Exchange, exIndex: string): Plan | string {
  const req = ex.request;
  if (req.headers?.Host !== undefined || req.headers?.Origin !== undefined)
    return 'a forged Host/Origin header (the client sends neither)';
  const q = new URLSearchParams(req.url.split('?')[1] ?? '');
  let body: Record<string, any> = {};
  if (req.body !== null && typeof req.body === 'object' && !Array.isArray(req.body))
    body = req.body as Record<string, any>;
  else if (typeof req.body === 'string') return 'a raw-text body (malformed JSON, or JSON without its Content-Type)';
  if (
    req.method !== 'GET' &&
    req.method !== 'PUT' &&
    req.path.startsWith(API) &&
    req.body !== null &&
    req.headers?.['Content-Type'] !== 'application/json'
  ) {
    return 'a request without Content-Type: application/json';
  }
  const artifact = artifactPlanner(req, q, exIndex);
  if (artifact !== undefined) return artifact;
  const logged = loggedModelPlanner(req, body);
  if (logged !== undefined) return logged;
  const planner = planners[`${req.method} ${req.path}`];
  if (planner) return planner(req, q, body);
  return `no client call for ${req.method} ${req.path}`;
}

/** Every field MLflow returned is in the parsed result with the same value ("NaN" → NaN). */
function expectMirrors(actual: unknown, raw: unknown, where: string): void {
  if (Array.isArray(raw)) {
    expect(Array.isArray(actual), `${where} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${where}.length`).toBe(raw.length);
    raw.forEach((r, i) => expectMirrors((actual as unknown[])[i], r, `${where}[${i}]`));
    return;
  }
  if (raw !== null && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw)) {
      // Run inputs/outputs (datasets, model outputs) are not part of the client's Run type.
      if (k === 'inputs' || k === 'outputs') continue;
      expect(actual, `${where} is an object`).toBeTypeOf('object');
      expect(Object.hasOwn(actual as object, k), `${where}.${k} is kept`).toBe(true);
      expectMirrors((actual as Record<string, unknown>)[k], v, `${where}.${k}`);
    }
    return;
  }
  if (raw === 'NaN' && typeof actual === 'number') {
    expect(Number.isNaN(actual), where).toBe(true);
    return;
  }
  expect(actual, where).toBe(raw);
}

/** The mlv error a recorded error response must become. */
function expectMappedError(err: any, ex: Exchange, plan: Plan): void {
  const { status, content_type: type, body } = ex.response;
  const errorCode =
    typeof body === 'object' && body !== null ? (body as { error_code?: string }).error_code : undefined;
  if (plan.errorClass && status === 500) {
    expect(err).toBeInstanceOf(plan.errorClass);
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toContain('<DATADIR>');
    expect(err.message).not.toContain('Errno');
    return;
  }
  if (status === 401 || status === 403) {
    expect(err).toBeInstanceOf(AuthError);
    expect(err.exitCode).toBe(4);
    return;
  }
  if (status >= 500) {
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.exitCode).toBe(3);
    expect(err.status).toBe(status);
    expect(err.errorCode).toBe(errorCode);
    return;
  }
  expect(err).toBeInstanceOf(MlflowApiError);
  expect(err.exitCode).toBe(2);
  expect(err.status).toBe(status);
  expect(err.errorCode).toBe(errorCode);
  if (type.includes('json')) {
    const line = (body as { message: string }).message.replace(/\s+/g, ' ').trim();
    expect(err.serverMessage).toBe(line.length > 300 ? `${line.slice(0, 299)}…` : line);
  }
}

async function withReplay<T>(
  exchanges: Exchange[],
  fn: (client: MlflowClient, replay: ReplayServer) => Promise<T>,
): Promise<T> {
  const replay = await startReplayServer(exchanges);
  const client = new MlflowClient(testConfig(replay.url, { maxRetries: 0 }));
  try {
    return await fn(client, replay);
  } finally {
    await client.close();
    await replay.close();
  }
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

for (const version of MLFLOW_VERSIONS) {
  describe(`MLflow ${version}: every recorded exchange the client can make`, () => {
    const cases: { label: string; ex: Exchange; plan: Plan | string }[] = [];
    for (const rec of loadAllRecordings(version)) {
      rec.exchanges.forEach((ex, i) => {
        const label = `${rec.file} #${i}: ${ex.request.method} ${ex.request.url.slice(0, 90)} → ${ex.response.status}`;
        cases.push({ label, ex, plan: planFor(ex, `${version}-${rec.file}-${i}`) });
      });
    }

    it('covers most of the recordings', () => {
      const run = cases.filter((c) => typeof c.plan !== 'string').length;
      expect(run / cases.length).toBeGreaterThan(0.75);
    });

    for (const { label, ex, plan } of cases) {
      if (typeof plan === 'string') {
        it.skip(`${label} — not sent by the client: ${plan}`, () => undefined);
        continue;
      }
      it(label, async () => {
        await withReplay([ex], async (client, replay) => {
          if (plan.clientRejects) {
            const err = await rejection(plan.call(client));
            expect(err).toBeInstanceOf(plan.clientRejects);
            expect(err.exitCode).toBe(2);
            expect(ex.response.status).toBe(400);
            expect(replay.requests).toHaveLength(0);
            return;
          }
          const ok = ex.response.status >= 200 && ex.response.status < 300;
          let result: unknown;
          let error: unknown;
          try {
            result = await plan.call(client);
          } catch (err) {
            error = err;
          }
          expect(replay.mismatches).toEqual([]);
          expect(replay.requests).toHaveLength(1);
          if (ok) {
            if (error) throw error;
            if (plan.check) plan.check(result, ex);
            else
              expectMirrors(
                result,
                plan.key ? (ex.response.body as Record<string, unknown>)[plan.key] : ex.response.body,
                plan.key ?? 'body',
              );
          } else if ('errorIsValue' in plan && ex.response.status === 404) {
            expect(error).toBeUndefined();
            expect(result).toBe(plan.errorIsValue);
          } else {
            expect(error, 'the recorded error is an error').toBeDefined();
            expectMappedError(error, ex, plan);
          }
        });
      });
    }
  });

  describe(`MLflow ${version}: recorded behaviour in context`, () => {
    it('iterates registered models page by page with the recorded page token (16 #0, #1)', async () => {
      const rec = loadRecording(version, 16);
      await withReplay(rec.exchanges.slice(0, 2), async (client, replay) => {
        const names: string[] = [];
        for await (const m of client.iterateRegisteredModels({ filter: "name LIKE 'rec-%'", pageSize: 1 }))
          names.push(m.name);
        expect(names).toEqual(['rec-model', 'rec-model-2']);
        expect(replay.mismatches).toEqual([]);
      });
    });

    it('maps a missing alias (400 INVALID_PARAMETER_VALUE, 25) to an API error, and find… to null', async () => {
      const rec = loadRecording(version, 25);
      const missing = rec.exchanges.find((e) => e.request.url.endsWith('alias=nope') && e.request.method === 'GET')!;
      expect(missing.response.status).toBe(400);
      const model = rec.exchanges.find((e) => e.request.path.endsWith('/registered-models/get'))!;
      await withReplay([missing, model, missing], async (client, replay) => {
        const err = await rejection(client.getModelVersionByAlias('rec-model', 'nope'));
        expect(err).toBeInstanceOf(MlflowApiError);
        expect([err.status, err.errorCode, err.exitCode]).toEqual([400, 'INVALID_PARAMETER_VALUE', 2]);
        expect(await client.findModelVersionByAlias('rec-model', 'nope')).toBeNull();
        expect(replay.mismatches).toEqual([]);
      });
    });

    it('maps the artifact download of a missing file (500 INTERNAL_ERROR, 12) to not-found without the server path', async () => {
      const rec = loadRecording(version, 12);
      const missing = rec.exchanges.find((e) => e.request.method === 'GET' && e.request.url.endsWith('missing.txt'))!;
      expect([missing.response.status, (missing.response.body as { error_code: string }).error_code]).toEqual([
        500,
        'INTERNAL_ERROR',
      ]);
      await withReplay([missing], async (client, replay) => {
        const remote = missing.request.path.slice(PROXY.length + 1);
        const err = await rejection(client.downloadFile(remote, path.join(tmp, `${version}-missing.txt`)));
        expect(err).toBeInstanceOf(NotFoundError);
        expect(err.message).toBe(`artifact ${remote} not found on MLflow at ${replay.url}`);
      });
    });

    it.each([
      [
        '02',
        (e: Exchange) => e.response.status === 404,
        'this server has no endpoint GET /registered-models/search (HTTP 404) — is the tracking URI an MLflow server?',
      ],
      [
        '02',
        (e: Exchange) => e.response.status === 405,
        'this server does not support GET /registered-models/search (HTTP 405) — is the tracking URI an MLflow server?',
      ],
      [
        '16',
        (e: Exchange) => e.response.status === 405,
        'this server does not support GET /registered-models/search (HTTP 405) — is the tracking URI an MLflow server?',
      ],
    ])('explains the HTML error page of %s', async (file, pick, message) => {
      const ex = loadRecording(version, Number(file)).exchanges.find(pick)!;
      // Served whatever the request: the point is how the client reads this answer.
      const anyRequest: Exchange = {
        ...ex,
        request: {
          method: 'GET',
          path: `${API}/registered-models/search`,
          query: null,
          url: `${API}/registered-models/search`,
          headers: null,
          body: null,
        },
      };
      await withReplay([anyRequest], async (client) => {
        const err = await rejection(client.searchRegisteredModels());
        expect(err).toBeInstanceOf(MlflowApiError);
        expect(err.errorCode).toBeUndefined();
        expect(err.message).toBe(message);
      });
    });

    it('splits the recorded over-limit batch (10: 101 params → 400) into requests MLflow accepts', async () => {
      const rec = loadRecording(version, 10);
      const over = rec.exchanges.find(
        (e) => e.response.status === 400 && /at most 100 params/.test(JSON.stringify(e.response.body)),
      )!;
      const body = over.request.body as { run_id: string; params: { key: string; value: string }[] };
      expect(body.params).toHaveLength(101);
      const accepted: Exchange = {
        request: { ...over.request },
        response: { status: 200, content_type: 'application/json', body: {} },
        elapsed_ms: 0,
      };
      const first = {
        ...accepted,
        request: { ...accepted.request, body: { run_id: body.run_id, params: body.params.slice(0, 100) } },
      };
      const second = {
        ...accepted,
        request: { ...accepted.request, body: { run_id: body.run_id, params: body.params.slice(100) } },
      };
      await withReplay([first, second], async (client, replay) => {
        expect(await client.logBatch({ runId: body.run_id, params: body.params })).toEqual({ requests: 2 });
        expect(replay.mismatches).toEqual([]);
      });
    });
  });
}

describe('MLflow 3.6 only', () => {
  it('explains the host-header rejection (90: 403 text/plain)', async () => {
    const ex = loadRecording('3.6', 90).exchanges[0]!;
    expect([ex.response.status, ex.response.content_type]).toEqual([403, 'text/plain']);
    const served: Exchange = {
      ...ex,
      request: {
        method: 'GET',
        path: `${API}/registered-models/search`,
        query: null,
        url: `${API}/registered-models/search`,
        headers: null,
        body: null,
      },
    };
    await withReplay([served], async (client) => {
      const err = await rejection(client.searchRegisteredModels());
      expect(err).toBeInstanceOf(AuthError);
      expect(err.exitCode).toBe(4);
      expect(err.message).toBe(
        `MLflow at ${client.trackingUri} refused GET /registered-models/search (HTTP 403): Invalid Host header - possible DNS rebinding attack detected`,
      );
    });
  });

  it('registers a version from a logged model and resolves its download URI (91)', async () => {
    const rec = loadRecording('3.6', 91);
    const steps = rec.exchanges.filter(
      (e) =>
        /logged-models|get-download-uri/.test(e.request.path) ||
        (e.request.method === 'POST' && e.response.status === 200 && e.request.path.endsWith('model-versions/create')),
    );
    await withReplay(steps, async (client, replay) => {
      const created = await client.createLoggedModel({
        experimentId: '2',
        name: 'lm',
        sourceRunId: '149652cc207b40f1a873c1acc318d0a5',
        params: { alpha: '0.5' },
        tags: { k: 'v' },
      });
      expect(created.info.status).toBe('LOGGED_MODEL_PENDING');
      expect(created.info.model_id).toMatch(/^m-[0-9a-f]{32}$/);
      const ready = await client.finalizeLoggedModel(created.info.model_id);
      expect(ready.info.status).toBe('LOGGED_MODEL_READY');
      expect(ready.data.params).toEqual([{ key: 'alpha', value: '0.5' }]);
      const mv = await client.createModelVersion({
        name: 'rec-model',
        source: `models:/${created.info.model_id}`,
        runId: '149652cc207b40f1a873c1acc318d0a5',
        modelId: created.info.model_id,
      });
      expect(mv.version).toBe('6');
      expect(await client.getModelVersionDownloadUri('rec-model', mv.version)).toBe(created.info.artifact_uri);
      expect(replay.mismatches).toEqual([]);
    });
  });
});
