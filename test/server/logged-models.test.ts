/**
 * MLflow 3 logged models and their link to registry versions (SUMMARY.md §4.5–4.6), over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, steppingClock, type Reply, type TestServer } from './helpers.js';

let s: TestServer;
let exp: string;
let run: string;
beforeAll(async () => {
  s = await startTestServer({ now: steppingClock() });
  exp = (await s.call('POST', 'experiments/create', { name: 'lm-exp' })).json.experiment_id;
  run = (await s.call('POST', 'runs/create', { experiment_id: exp })).json.run.info.run_id;
  await s.call('POST', 'registered-models/create', { name: 'lm-model' });
});
afterAll(async () => {
  await s.close();
});

const code = (r: Reply) => [r.status, r.json?.error_code];

async function createLoggedModel(body: Record<string, unknown> = {}): Promise<Reply> {
  const r = await s.call('POST', 'logged-models', { experiment_id: exp, name: 'lm', source_run_id: run, ...body });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r;
}

describe('logged models', () => {
  it('creates PENDING under the experiment with params and tags', async () => {
    const r = await createLoggedModel({ params: [{ key: 'alpha', value: '0.5' }], tags: [{ key: 'k', value: 'v' }] });
    const id = r.json.model.info.model_id;
    expect(id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(r.json).toEqual({
      model: {
        info: {
          model_id: id,
          experiment_id: exp,
          name: 'lm',
          creation_timestamp_ms: expect.any(Number),
          last_updated_timestamp_ms: expect.any(Number),
          artifact_uri: `mlflow-artifacts:/${exp}/models/${id}/artifacts`,
          status: 'LOGGED_MODEL_PENDING',
          model_type: '',
          source_run_id: run,
          tags: [{ key: 'k', value: 'v' }],
        },
        data: { params: [{ key: 'alpha', value: '0.5' }] },
      },
    });
  });

  it('finalizes with PATCH, reads with GET, sets and deletes tags, deletes', async () => {
    const id = (await createLoggedModel()).json.model.info.model_id;
    const done = await s.call('PATCH', `logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
    expect(done.json.model.info.status).toBe('LOGGED_MODEL_READY');
    expect(done.json.model.info.last_updated_timestamp_ms).toBeGreaterThan(done.json.model.info.creation_timestamp_ms);
    expect((await s.call('GET', `logged-models/${id}`)).json).toEqual(done.json);
    expect((await s.call('PATCH', `logged-models/${id}/tags`, { tags: [{ key: 'a', value: '1' }] })).status).toBe(200);
    expect((await s.call('GET', `logged-models/${id}`)).json.model.info.tags).toEqual([{ key: 'a', value: '1' }]);
    expect((await s.call('DELETE', `logged-models/${id}/tags/a`)).status).toBe(200);
    expect((await s.call('GET', `logged-models/${id}`)).json.model.info.tags).toBeUndefined();
    expect((await s.call('DELETE', `logged-models/${id}`)).status).toBe(200);
    expect(code(await s.call('GET', `logged-models/${id}`))).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
  });

  it.each([
    ['unknown id', 'GET', 'logged-models/m-doesnotexist', {}, 404, 'RESOURCE_DOES_NOT_EXIST'],
    [
      'unknown id (finalize)',
      'PATCH',
      'logged-models/m-doesnotexist',
      { status: 'LOGGED_MODEL_READY' },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
    ['unknown experiment', 'POST', 'logged-models', { experiment_id: '999999' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['no experiment', 'POST', 'logged-models', { name: 'x' }, 400, 'INVALID_PARAMETER_VALUE'],
    [
      'unknown source run',
      'POST',
      'logged-models',
      { experiment_id: '0', source_run_id: '0'.repeat(32) },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
  ])('%s → %d', async (_what, method, endpoint, body, status, errorCode) => {
    expect(code(await s.call(method, endpoint, body))).toEqual([status, errorCode]);
  });

  it('refuses an unknown status', async () => {
    const id = (await createLoggedModel()).json.model.info.model_id;
    expect(code(await s.call('PATCH', `logged-models/${id}`, { status: 'DONE' }))).toEqual([
      400,
      'INVALID_PARAMETER_VALUE',
    ]);
  });
});

describe('model versions from logged models', () => {
  it('registers models:/<model_id> with model_id, resolves the download URI, and tags the logged model', async () => {
    const id = (await createLoggedModel()).json.model.info.model_id;
    const v = await s.call('POST', 'model-versions/create', {
      name: 'lm-model',
      source: `models:/${id}`,
      run_id: run,
      model_id: id,
    });
    expect(v.json.model_version).toMatchObject({ version: '1', source: `models:/${id}`, run_id: run });
    expect('model_id' in v.json.model_version).toBe(false); // MLflow 3.6 does not echo it either
    expect((await s.call('GET', 'model-versions/get-download-uri', { name: 'lm-model', version: '1' })).json).toEqual({
      artifact_uri: `mlflow-artifacts:/${exp}/models/${id}/artifacts`,
    });
    const second = await s.call('POST', 'model-versions/create', {
      name: 'lm-model',
      source: `runs:/${run}/model`,
      run_id: run,
      model_id: id,
    });
    expect(second.json.model_version.version).toBe('2');
    const tags = (await s.call('GET', `logged-models/${id}`)).json.model.info.tags;
    expect(tags).toContainEqual({
      key: 'mlflow.modelVersions',
      value: '[{"name": "lm-model", "version": 1}, {"name": "lm-model", "version": 2}]',
    });
  });

  it('an unknown model_id is 404 and consumes no version number (MLflow 3.6 creates the version anyway)', async () => {
    await s.call('POST', 'registered-models/create', { name: 'lm-atomic' });
    const r = await s.call('POST', 'model-versions/create', {
      name: 'lm-atomic',
      source: `runs:/${run}/model`,
      run_id: run,
      model_id: 'm-doesnotexist',
    });
    expect([r.status, r.json]).toEqual([
      404,
      { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Logged model with ID 'm-doesnotexist' not found." },
    ]);
    expect((await s.call('GET', 'model-versions/search', { filter: "name='lm-atomic'" })).json).toEqual({});
    const ok = await s.call('POST', 'model-versions/create', { name: 'lm-atomic', source: `runs:/${run}/model` });
    expect(ok.json.model_version.version).toBe('1');
  });
});
