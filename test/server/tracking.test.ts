/**
 * Experiments, runs and run artifacts of the embedded server, over HTTP. Expected answers follow
 * the recorded MLflow behaviour (SUMMARY.md §2 and §5).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, steppingClock, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ now: steppingClock() });
});
afterAll(async () => {
  await s.close();
});

async function newRun(experimentId = '0', extra: Record<string, unknown> = {}): Promise<string> {
  const r = await s.call('POST', 'runs/create', { experiment_id: experimentId, ...extra });
  expect(r.status).toBe(200);
  return r.json.run.info.run_id as string;
}

describe('experiments', () => {
  it('has the Default experiment 0 in a fresh store', async () => {
    const r = await s.call('GET', 'experiments/get', { experiment_id: '0' });
    expect(r.json.experiment).toMatchObject({
      experiment_id: '0',
      name: 'Default',
      artifact_location: 'mlflow-artifacts:/0',
      lifecycle_stage: 'active',
    });
  });

  it('creates with tags, answers only the id, and reads back by id and by name', async () => {
    const c = await s.call('POST', 'experiments/create', { name: 'exp-a', tags: [{ key: 'team', value: 'cli' }] });
    expect(Object.keys(c.json)).toEqual(['experiment_id']);
    const id = c.json.experiment_id as string;
    expect(id).toMatch(/^\d+$/);
    const byId = await s.call('GET', 'experiments/get', { experiment_id: id });
    const byName = await s.call('GET', 'experiments/get-by-name', { experiment_name: 'exp-a' });
    expect(byName.json).toEqual(byId.json);
    expect(byId.json.experiment).toEqual({
      experiment_id: id,
      name: 'exp-a',
      artifact_location: `mlflow-artifacts:/${id}`,
      lifecycle_stage: 'active',
      last_update_time: expect.any(Number),
      creation_time: expect.any(Number),
      tags: [{ key: 'team', value: 'cli' }],
    });
  });

  it.each([
    ['experiments/create', 'POST', { name: 'exp-a' }, 400, 'RESOURCE_ALREADY_EXISTS'],
    ['experiments/create', 'POST', {}, 400, 'INVALID_PARAMETER_VALUE'],
    ['experiments/get', 'GET', { experiment_id: '999999' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['experiments/get', 'GET', { experiment_id: 'abc' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['experiments/get', 'GET', {}, 400, 'INVALID_PARAMETER_VALUE'],
    ['experiments/get-by-name', 'GET', { experiment_name: 'does-not-exist' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['experiments/get-by-name', 'GET', {}, 400, 'INVALID_PARAMETER_VALUE'],
  ])('%s %j → %d %s', async (endpoint, method, params, status, code) => {
    const r = await s.call(method, endpoint, params);
    expect([r.status, r.json.error_code]).toEqual([status, code]);
  });

  it('searches by name (GET and POST), tag, LIKE, with pagination and order', async () => {
    for (const name of ['search-b', 'search-a', 'search-c']) {
      await s.call('POST', 'experiments/create', {
        name,
        tags: [{ key: 'kind', value: name === 'search-c' ? 'x' : 'y' }],
      });
    }
    const names = (r: { json: { experiments?: { name: string }[] } }) => (r.json.experiments ?? []).map((e) => e.name);
    expect(names(await s.call('GET', 'experiments/search', { filter: "name = 'search-a'" }))).toEqual(['search-a']);
    expect(names(await s.call('POST', 'experiments/search', { filter: "name = 'search-a'" }))).toEqual(['search-a']);
    expect(names(await s.call('GET', 'experiments/search', { filter: "tags.kind = 'x'" }))).toEqual(['search-c']);
    // default order: newest first
    expect(names(await s.call('GET', 'experiments/search', { filter: "name LIKE 'search-%'" }))).toEqual([
      'search-c',
      'search-a',
      'search-b',
    ]);
    expect(
      names(await s.call('GET', 'experiments/search', { filter: "name LIKE 'search-%'", order_by: ['name ASC'] })),
    ).toEqual(['search-a', 'search-b', 'search-c']);
    expect(names(await s.call('GET', 'experiments/search', { filter: "name LIKE 'SEARCH-%'" }))).toEqual([]);
    expect(names(await s.call('GET', 'experiments/search', { filter: "name ILIKE 'SEARCH-%'" }))).toHaveLength(3);

    const p1 = await s.call('GET', 'experiments/search', { filter: "name LIKE 'search-%'", max_results: 2 });
    expect(names(p1)).toEqual(['search-c', 'search-a']);
    expect(p1.json.next_page_token).toBe('eyJvZmZzZXQiOiAyfQ==');
    const p2 = await s.call('GET', 'experiments/search', {
      filter: "name LIKE 'search-%'",
      max_results: 2,
      page_token: p1.json.next_page_token,
    });
    expect(names(p2)).toEqual(['search-b']);
    expect(p2.json.next_page_token).toBeUndefined();
    expect((await s.call('GET', 'experiments/search', { filter: "name = 'nothing'" })).json).toEqual({});
  });

  it('renames, tags, deletes and restores; deleted experiments are hidden from the default search', async () => {
    const { experiment_id: id } = (await s.call('POST', 'experiments/create', { name: 'lifecycle' })).json;
    expect((await s.call('POST', 'experiments/update', { experiment_id: id, new_name: 'lifecycle-2' })).status).toBe(
      200,
    );
    expect(
      (await s.call('POST', 'experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' })).status,
    ).toBe(200);
    expect((await s.call('GET', 'experiments/get', { experiment_id: id })).json.experiment).toMatchObject({
      name: 'lifecycle-2',
      tags: [{ key: 'k', value: 'v' }],
    });
    expect((await s.call('POST', 'experiments/delete', { experiment_id: id })).status).toBe(200);
    const active = await s.call('GET', 'experiments/search', { filter: "name = 'lifecycle-2'" });
    expect(active.json).toEqual({});
    const deleted = await s.call('GET', 'experiments/search', {
      filter: "name = 'lifecycle-2'",
      view_type: 'DELETED_ONLY',
    });
    expect(deleted.json.experiments[0].lifecycle_stage).toBe('deleted');
    const run = await s.call('POST', 'runs/create', { experiment_id: id });
    expect([run.status, run.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect((await s.call('POST', 'experiments/restore', { experiment_id: id })).status).toBe(200);
    expect((await s.call('POST', 'experiments/delete', { experiment_id: '0' })).status).toBe(400);
  });
});

describe('runs', () => {
  it('creates with run_name, start_time and tags; adds mlflow.runName; artifact_uri under the experiment', async () => {
    const exp = (await s.call('POST', 'experiments/create', { name: 'runs-exp' })).json.experiment_id as string;
    const r = await s.call('POST', 'runs/create', {
      experiment_id: exp,
      run_name: 'train-1',
      start_time: 1795740686602,
      tags: [{ key: 'mlflow.user', value: 'cli-user' }],
    });
    const id = r.json.run.info.run_id;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.json).toEqual({
      run: {
        info: {
          run_uuid: id,
          experiment_id: exp,
          run_name: 'train-1',
          user_id: '',
          status: 'RUNNING',
          start_time: 1795740686602,
          artifact_uri: `mlflow-artifacts:/${exp}/${id}/artifacts`,
          lifecycle_stage: 'active',
          run_id: id,
        },
        data: {
          tags: [
            { key: 'mlflow.user', value: 'cli-user' },
            { key: 'mlflow.runName', value: 'train-1' },
          ],
        },
        inputs: {},
      },
    });
  });

  it('generates a run name, takes user_id only from the field, accepts a numeric experiment_id', async () => {
    const r = await s.call('POST', 'runs/create', { experiment_id: 0, tags: [{ key: 'mlflow.user', value: 'bob' }] });
    expect(r.status).toBe(200);
    expect(r.json.run.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(r.json.run.info.user_id).toBe('');
    expect(r.json.run.info.start_time).toBe(0);
    const named = await s.call('POST', 'runs/create', {
      experiment_id: '0',
      user_id: 'alice',
      tags: [{ key: 'mlflow.runName', value: 'from-tag' }],
    });
    expect(named.json.run.info).toMatchObject({ user_id: 'alice', run_name: 'from-tag' });
    const clash = await s.call('POST', 'runs/create', {
      experiment_id: '0',
      run_name: 'a',
      tags: [{ key: 'mlflow.runName', value: 'b' }],
    });
    expect(clash.status).toBe(400);
    expect((await s.call('POST', 'runs/create', { experiment_id: '999999' })).status).toBe(404);
  });

  it('updates status, end_time and name; ignores an unknown status as MLflow does', async () => {
    const id = await newRun();
    const u = await s.call('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: 1795740686908 });
    expect(u.json.run_info).toMatchObject({ status: 'FINISHED', end_time: 1795740686908 });
    const bogus = await s.call('POST', 'runs/update', { run_id: id, status: 'DONE' });
    expect([bogus.status, bogus.json.run_info.status]).toEqual([200, 'FINISHED']);
    const renamed = await s.call('POST', 'runs/update', { run_id: id, run_name: 'renamed' });
    expect(renamed.json.run_info.run_name).toBe('renamed');
    const got = await s.call('GET', 'runs/get', { run_id: id });
    expect(got.json.run.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'renamed' });
    expect(got.json.run.outputs).toEqual({});
    // run_uuid is accepted in place of run_id
    expect((await s.raw('GET', `/api/2.0/mlflow/runs/get?run_uuid=${id}`)).json.run.info.run_id).toBe(id);
    expect((await s.call('GET', 'runs/get', { run_id: '0'.repeat(32) })).json.error_code).toBe(
      'RESOURCE_DOES_NOT_EXIST',
    );
    expect((await s.call('GET', 'runs/get', {})).status).toBe(400);
  });

  it('deletes and restores a run; a deleted run refuses writes', async () => {
    const id = await newRun();
    expect((await s.call('POST', 'runs/delete', { run_id: id })).status).toBe(200);
    expect((await s.call('GET', 'runs/get', { run_id: id })).json.run.info.lifecycle_stage).toBe('deleted');
    const log = await s.call('POST', 'runs/log-batch', { run_id: id, params: [{ key: 'a', value: '1' }] });
    expect([log.status, log.json.message]).toEqual([
      400,
      `The run ${id} must be in the 'active' state. Current state is deleted.`,
    ]);
    expect((await s.call('POST', 'runs/restore', { run_id: id })).status).toBe(200);
    expect((await s.call('POST', 'runs/log-batch', { run_id: id, params: [{ key: 'a', value: '1' }] })).status).toBe(
      200,
    );
  });
});

describe('runs/log-batch (SUMMARY §5)', () => {
  let run: string;
  beforeAll(async () => {
    run = await newRun();
    const r = await s.call('POST', 'runs/log-batch', {
      run_id: run,
      params: [
        { key: 'lr', value: '0.01' },
        { key: 'epochs', value: '10' },
      ],
      metrics: [
        { key: 'acc', value: 0.91, timestamp: 1000, step: 0 },
        { key: 'acc', value: 0.95, timestamp: 1001, step: 1 },
        { key: 'loss', value: 0.2, timestamp: 1000 },
      ],
      tags: [{ key: 'stage', value: 'dev' }],
    });
    expect([r.status, r.json]).toEqual([200, {}]);
  });

  it('stores params, the latest value per metric and tags', async () => {
    const data = (await s.call('GET', 'runs/get', { run_id: run })).json.run.data;
    expect(data.params).toEqual([
      { key: 'lr', value: '0.01' },
      { key: 'epochs', value: '10' },
    ]);
    expect(data.metrics).toEqual([
      { key: 'acc', value: 0.95, timestamp: 1001, step: 1 },
      { key: 'loss', value: 0.2, timestamp: 1000, step: 0 },
    ]);
    expect(data.tags).toContainEqual({ key: 'stage', value: 'dev' });
    const history = await s.call('GET', 'metrics/get-history', { run_id: run, metric_key: 'acc' });
    expect(history.json.metrics.map((m: { value: number }) => m.value)).toEqual([0.91, 0.95]);
  });

  it.each([
    ['same param value again (idempotent)', { params: [{ key: 'lr', value: '0.01' }] }, 200, undefined],
    ['empty batch', {}, 200, undefined],
    [
      'changed param value',
      { params: [{ key: 'lr', value: '0.02' }] },
      400,
      "Changing param values is not allowed. Params were already logged='[{'key': 'lr', 'old_value': '0.01', 'new_value': '0.02'}]' for run ID='RUN'.",
    ],
    [
      'duplicate key in one batch',
      {
        params: [
          { key: 'dup', value: 'a' },
          { key: 'dup', value: 'b' },
        ],
      },
      400,
      "Duplicate parameter keys have been submitted: ['dup']. Please ensure the request contains only one param value per param key.",
    ],
    [
      'key over 250 chars',
      { params: [{ key: 'k'.repeat(251), value: 'v' }] },
      400,
      "'Param key' exceeds the maximum length of 250 characters",
    ],
    [
      '101 params',
      { params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' })) },
      400,
      'A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again.',
    ],
    [
      '101 tags',
      { tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'v' })) },
      400,
      'A batch logging request can contain at most 100 tags. Got 101 tags. Please split up tags across multiple requests and try again.',
    ],
    [
      '1001 metrics',
      { metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: i })) },
      400,
      'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
    ],
    [
      'metric without timestamp',
      { metrics: [{ key: 'm_no_ts', value: 1.0 }] },
      400,
      "Missing value for required parameter 'metrics[0].timestamp'. See the API docs for more information about request parameters.",
    ],
    [
      'metric value "abc" (MLflow stores 0.0; mlv refuses)',
      { metrics: [{ key: 'm', value: 'abc', timestamp: 1 }] },
      400,
      undefined,
    ],
    ['param value of the wrong type', { params: [{ key: 'p', value: 1 }] }, 400, undefined],
    [
      'tag without key',
      { tags: [{ value: 'v' }] },
      400,
      "Missing value for required parameter 'tags[0].key'. See the API docs for more information about request parameters.",
    ],
  ])('%s → %d', async (_what, batch, status, message) => {
    const r = await s.call('POST', 'runs/log-batch', { run_id: run, ...batch });
    expect(r.status).toBe(status);
    if (status !== 200) expect(r.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    if (message) expect(r.json.message).toBe(message.replace('RUN', run));
  });

  it('a refused batch writes nothing (one transaction)', async () => {
    const r = await s.call('POST', 'runs/log-batch', {
      run_id: run,
      params: [
        { key: 'new-param', value: 'x' },
        { key: 'lr', value: '0.5' },
      ],
      metrics: [{ key: 'never', value: 1, timestamp: 1 }],
      tags: [{ key: 'never-tag', value: 'x' }],
    });
    expect(r.status).toBe(400);
    const data = (await s.call('GET', 'runs/get', { run_id: run })).json.run.data;
    expect(data.params.map((p: { key: string }) => p.key)).not.toContain('new-param');
    expect(data.metrics.map((m: { key: string }) => m.key)).not.toContain('never');
    expect(data.tags.map((t: { key: string }) => t.key)).not.toContain('never-tag');
  });

  it('truncates long param (6000) and tag (8000) values, stores a missing value as "", keeps NaN and infinities', async () => {
    const r = await s.call('POST', 'runs/log-batch', {
      run_id: run,
      params: [{ key: 'longval', value: 'x'.repeat(6001) }, { key: 'novalue' }],
      tags: [{ key: 'longtag', value: 'y'.repeat(8001) }],
      metrics: [
        { key: 'm_nan', value: 'NaN', timestamp: 5 },
        { key: 'm_inf', value: 'Infinity', timestamp: 5 },
        { key: 'm_ninf', value: '-Infinity', timestamp: 5 },
        { key: 'm_str', value: '1.5', timestamp: '5', step: '2' },
      ],
    });
    expect(r.status).toBe(200);
    const data = (await s.call('GET', 'runs/get', { run_id: run })).json.run.data;
    const param = (k: string) => data.params.find((p: { key: string }) => p.key === k).value;
    expect(param('longval')).toHaveLength(6000);
    expect(param('novalue')).toBe('');
    expect(data.tags.find((t: { key: string }) => t.key === 'longtag').value).toHaveLength(8000);
    const metric = (k: string) => data.metrics.find((m: { key: string }) => m.key === k);
    expect(metric('m_nan').value).toBe('NaN');
    expect(metric('m_inf').value).toBe('Infinity');
    expect(metric('m_ninf').value).toBe('-Infinity');
    expect(metric('m_str')).toEqual({ key: 'm_str', value: 1.5, timestamp: 5, step: 2 });
  });

  it('keeps the metric with the greatest (step, timestamp) as latest, whatever the logging order', async () => {
    const id = await newRun();
    for (const [value, timestamp, step] of [
      [3, 10, 5],
      [1, 20, 4],
      [2, 5, 5],
      [9, 11, 5],
    ]) {
      await s.call('POST', 'runs/log-batch', { run_id: id, metrics: [{ key: 'm', value, timestamp, step }] });
    }
    const data = (await s.call('GET', 'runs/get', { run_id: id })).json.run.data;
    expect(data.metrics).toEqual([{ key: 'm', value: 9, timestamp: 11, step: 5 }]);
  });

  it('unknown or missing run', async () => {
    const unknown = await s.call('POST', 'runs/log-batch', {
      run_id: '0'.repeat(32),
      params: [{ key: 'a', value: 'b' }],
    });
    expect([unknown.status, unknown.json.message]).toEqual([404, `Run with id=${'0'.repeat(32)} not found`]);
    const missing = await s.call('POST', 'runs/log-batch', { params: [{ key: 'a', value: 'b' }] });
    expect([missing.status, missing.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
  });

  it('log-metric, log-parameter, set-tag and delete-tag (single-item forms)', async () => {
    const id = await newRun();
    expect(
      (await s.call('POST', 'runs/log-metric', { run_id: id, key: 'x', value: 2.5, timestamp: 7, step: 1 })).status,
    ).toBe(200);
    expect((await s.call('POST', 'runs/log-parameter', { run_id: id, key: 'p', value: 'v' })).status).toBe(200);
    expect((await s.call('POST', 'runs/set-tag', { run_id: id, key: 't', value: 'v' })).status).toBe(200);
    expect((await s.call('POST', 'runs/set-tag', { run_id: id, key: 't', value: 'v2' })).status).toBe(200);
    const data = (await s.call('GET', 'runs/get', { run_id: id })).json.run.data;
    expect(data.metrics).toEqual([{ key: 'x', value: 2.5, timestamp: 7, step: 1 }]);
    expect(data.params).toEqual([{ key: 'p', value: 'v' }]);
    expect(data.tags).toContainEqual({ key: 't', value: 'v2' });
    expect((await s.call('POST', 'runs/delete-tag', { run_id: id, key: 't' })).status).toBe(200);
    expect((await s.call('POST', 'runs/delete-tag', { run_id: id, key: 't' })).status).toBe(400);
    expect((await s.call('POST', 'runs/log-metric', { run_id: id, key: 'x', timestamp: 7 })).status).toBe(400);
  });
});

describe('artifacts/list for a run', () => {
  it('lists relative to the run artifact root, with root_uri', async () => {
    const exp = (await s.call('POST', 'experiments/create', { name: 'art-list' })).json.experiment_id;
    const id = await newRun(exp);
    const base = `/api/2.0/mlflow-artifacts/artifacts/${exp}/${id}/artifacts`;
    await s.raw('PUT', `${base}/model/MLmodel`, { body: 'flavors: {}\n' });
    await s.raw('PUT', `${base}/model/weights.bin`, { body: Buffer.alloc(1024) });
    await s.raw('PUT', `${base}/big/blob.bin`, { body: 'b' });
    const root = `mlflow-artifacts:/${exp}/${id}/artifacts`;
    expect((await s.call('GET', 'artifacts/list', { run_id: id, path: 'model' })).json).toEqual({
      root_uri: root,
      files: [
        { path: 'model/MLmodel', is_dir: false, file_size: 12 },
        { path: 'model/weights.bin', is_dir: false, file_size: 1024 },
      ],
    });
    expect((await s.call('GET', 'artifacts/list', { run_id: id })).json).toEqual({
      root_uri: root,
      files: [
        { path: 'big', is_dir: true },
        { path: 'model', is_dir: true },
      ],
    });
    expect((await s.call('GET', 'artifacts/list', { run_id: id, path: 'nope' })).json).toEqual({ root_uri: root });
    expect((await s.call('GET', 'artifacts/list', { run_id: id, path: '../../..' })).json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'Invalid path',
    });
    expect((await s.call('GET', 'artifacts/list', { run_id: '0'.repeat(32) })).status).toBe(404);
  });
});
