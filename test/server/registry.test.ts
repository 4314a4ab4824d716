/**
 * The model registry of the embedded server, over HTTP: registered models, versions, tags,
 * aliases, stages, search — with MLflow's semantics (SUMMARY.md §2, §3, §6, §7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, steppingClock, type Reply, type TestServer } from './helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ now: steppingClock() });
});
afterAll(async () => {
  await s.close();
});

const RUN = 'a'.repeat(32);

async function model(name: string, body: Record<string, unknown> = {}): Promise<Reply> {
  const r = await s.call('POST', 'registered-models/create', { name, ...body });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r;
}

async function version(name: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await s.call('POST', 'model-versions/create', { name, source: `runs:/${RUN}/model`, run_id: RUN, ...body });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json.model_version.version as string;
}

const code = (r: Reply) => [r.status, r.json?.error_code];

describe('registered models', () => {
  it('creates with description and tags; omits empty fields', async () => {
    const full = await model('rm-full', { description: 'first', tags: [{ key: 'owner', value: 'team-a' }] });
    expect(full.json.registered_model).toEqual({
      name: 'rm-full',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      description: 'first',
      tags: [{ key: 'owner', value: 'team-a' }],
    });
    const bare = await model('rm-bare');
    expect(Object.keys(bare.json.registered_model).sort()).toEqual([
      'creation_timestamp',
      'last_updated_timestamp',
      'name',
    ]);
    expect((await s.call('GET', 'registered-models/get', { name: 'rm-full' })).json).toEqual(full.json);
  });

  it.each([
    ['duplicate name', 'POST', 'registered-models/create', { name: 'rm-full' }, 400, 'RESOURCE_ALREADY_EXISTS'],
    ['empty name', 'POST', 'registered-models/create', { name: '' }, 400, 'INVALID_PARAMETER_VALUE'],
    ['no name', 'POST', 'registered-models/create', {}, 400, 'INVALID_PARAMETER_VALUE'],
    [
      'bad tag key',
      'POST',
      'registered-models/create',
      { name: 'x', tags: [{ key: 'bad key!', value: 'v' }] },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['get missing', 'GET', 'registered-models/get', { name: 'nope' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['get without name', 'GET', 'registered-models/get', {}, 400, 'INVALID_PARAMETER_VALUE'],
    [
      'update missing',
      'PATCH',
      'registered-models/update',
      { name: 'nope', description: 'x' },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
    [
      'set-tag bad key',
      'POST',
      'registered-models/set-tag',
      { name: 'rm-full', key: 'bad key!', value: 'x' },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'set-tag missing model',
      'POST',
      'registered-models/set-tag',
      { name: 'nope', key: 'a', value: 'b' },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
    ['delete missing', 'DELETE', 'registered-models/delete', { name: 'nope' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    [
      'rename missing',
      'POST',
      'registered-models/rename',
      { name: 'nope', new_name: 'x' },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
  ])('%s → %d %s', async (_what, method, endpoint, body, status, errorCode) => {
    expect(code(await s.call(method, endpoint, body))).toEqual([status, errorCode]);
  });

  it('accepts a name with a slash', async () => {
    expect((await model('team/model')).json.registered_model.name).toBe('team/model');
    expect((await s.call('GET', 'registered-models/get', { name: 'team/model' })).status).toBe(200);
  });

  it('updates the description (PATCH), sets and deletes tags; a tag change leaves last_updated alone', async () => {
    await model('rm-upd', { tags: [{ key: 'owner', value: 'a' }] });
    const u = await s.call('PATCH', 'registered-models/update', { name: 'rm-upd', description: 'new' });
    expect(u.json.registered_model.description).toBe('new');
    const updatedAt = u.json.registered_model.last_updated_timestamp;
    expect(
      (await s.call('POST', 'registered-models/set-tag', { name: 'rm-upd', key: 'stage', value: 'candidate' })).json,
    ).toEqual({});
    expect(
      (await s.call('POST', 'registered-models/set-tag', { name: 'rm-upd', key: 'owner', value: 'b' })).status,
    ).toBe(200);
    expect((await s.call('DELETE', 'registered-models/delete-tag', { name: 'rm-upd', key: 'never-set' })).status).toBe(
      200,
    );
    const got = (await s.call('GET', 'registered-models/get', { name: 'rm-upd' })).json.registered_model;
    expect(got.tags).toEqual([
      { key: 'owner', value: 'b' },
      { key: 'stage', value: 'candidate' },
    ]);
    expect(got.last_updated_timestamp).toBe(updatedAt);
    await s.call('DELETE', 'registered-models/delete-tag', { name: 'rm-upd', key: 'owner' });
    expect((await s.call('GET', 'registered-models/get', { name: 'rm-upd' })).json.registered_model.tags).toEqual([
      { key: 'stage', value: 'candidate' },
    ]);
    // MLflow clears the description when an update leaves it out.
    const cleared = await s.call('PATCH', 'registered-models/update', { name: 'rm-upd' });
    expect(cleared.json.registered_model.description).toBeUndefined();
  });

  it('renames with its versions, tags and aliases; refuses a taken name', async () => {
    await model('to-rename', { tags: [{ key: 'k', value: 'v' }] });
    await version('to-rename');
    await s.call('POST', 'registered-models/alias', { name: 'to-rename', alias: 'champion', version: '1' });
    const r = await s.call('POST', 'registered-models/rename', { name: 'to-rename', new_name: 'renamed' });
    expect(r.json.registered_model).toMatchObject({
      name: 'renamed',
      tags: [{ key: 'k', value: 'v' }],
      aliases: [{ alias: 'champion', version: '1' }],
      latest_versions: [expect.objectContaining({ name: 'renamed', version: '1' })],
    });
    expect(code(await s.call('GET', 'registered-models/get', { name: 'to-rename' }))).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ]);
    expect(
      (await s.call('GET', 'model-versions/get', { name: 'renamed', version: '1' })).json.model_version.aliases,
    ).toEqual(['champion']);
    expect(code(await s.call('POST', 'registered-models/rename', { name: 'renamed', new_name: 'rm-full' }))).toEqual([
      400,
      'RESOURCE_ALREADY_EXISTS',
    ]);
  });

  it('deletes with everything it holds; a re-created model numbers from 1 again', async () => {
    await model('rm-del');
    await version('rm-del');
    await version('rm-del');
    await s.call('POST', 'registered-models/alias', { name: 'rm-del', alias: 'a', version: '2' });
    expect((await s.call('DELETE', 'registered-models/delete', { name: 'rm-del' })).json).toEqual({});
    expect(code(await s.call('GET', 'model-versions/get', { name: 'rm-del', version: '1' }))).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ]);
    expect(code(await s.call('DELETE', 'registered-models/delete', { name: 'rm-del' }))).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ]);
    await model('rm-del');
    expect(await version('rm-del')).toBe('1');
  });
});

describe('registered-models/search', () => {
  const names = (r: Reply) => (r.json.registered_models ?? []).map((m: { name: string }) => m.name);
  beforeAll(async () => {
    await model('srch-Alpha', { tags: [{ key: 'team', value: 'ml' }] });
    await model('srch-beta', { tags: [{ key: 'team', value: 'data' }] });
    await model('srch-gamma');
    await model('srch-prompt', { tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
  });
  const search = (params: Record<string, unknown>) => s.call('GET', 'registered-models/search', params);

  it.each([
    ["name = 'srch-beta'", ['srch-beta']],
    ["name != 'srch-beta' and name LIKE 'srch-%'", ['srch-Alpha', 'srch-gamma']],
    ["name LIKE 'srch-a%'", []],
    ["name LIKE 'srch-A%'", ['srch-Alpha']],
    ["name ILIKE 'SRCH-A%'", ['srch-Alpha']],
    ["name LIKE 'srch-_eta'", ['srch-beta']],
    ["tags.team = 'ml'", ['srch-Alpha']],
    ["tags.team LIKE '%a%' and name LIKE 'srch%'", ['srch-beta']],
    ["name IN ('srch-beta', 'srch-gamma')", ['srch-beta', 'srch-gamma']],
    ["tags.`mlflow.prompt.is_prompt` = 'true'", ['srch-prompt']],
  ])('filter %s', async (filter, expected) => {
    expect(names(await search({ filter }))).toEqual(expected);
  });

  it('hides prompts unless the filter asks for them (MLflow 3)', async () => {
    expect(names(await search({ filter: "name LIKE 'srch-%'" }))).not.toContain('srch-prompt');
  });

  it('orders by name (default ASC), DESC, and timestamps', async () => {
    const filter = "name LIKE 'srch-%'";
    expect(names(await search({ filter }))).toEqual(['srch-Alpha', 'srch-beta', 'srch-gamma']);
    expect(names(await search({ filter, order_by: 'name DESC' }))).toEqual(['srch-gamma', 'srch-beta', 'srch-Alpha']);
    expect(names(await search({ filter, order_by: 'creation_timestamp DESC' }))).toEqual([
      'srch-gamma',
      'srch-beta',
      'srch-Alpha',
    ]);
    await s.call('PATCH', 'registered-models/update', { name: 'srch-Alpha', description: 'touched' });
    expect(names(await search({ filter, order_by: 'last_updated_timestamp DESC' }))[0]).toBe('srch-Alpha');
  });

  it('pages with max_results and page_token until there is no next_page_token', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await search({ filter: "name LIKE 'srch-%'", max_results: 1, page_token: token });
      seen.push(...names(r));
      token = r.json.next_page_token;
      pages++;
    } while (token);
    expect(seen).toEqual(['srch-Alpha', 'srch-beta', 'srch-gamma']);
    expect(pages).toBe(3);
  });

  it.each([
    [{ max_results: 1000 }, 200, undefined],
    [
      { max_results: 1001 },
      400,
      "Invalid value \"1001\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'.",
    ],
    [{ max_results: 0 }, 400, undefined],
    [{ max_results: 'abc' }, 400, undefined],
    [{ filter: 'name = ' }, 400, 'Invalid clause(s) in filter string: name, ='],
    [{ filter: 'version = 1' }, 400, 'Invalid clause(s) in filter string: version, =, 1'],
    [{ filter: "owner = 'x'" }, 400, undefined],
    [{ page_token: 'garbage' }, 400, 'Invalid page token, could not base64-decode'],
    [{ order_by: 'bogus DESC' }, 400, undefined],
    [{ order_by: ['name', 'name DESC'] }, 400, undefined],
  ])('%j → %d', async (params, status, start) => {
    const r = await search(params);
    expect(r.status).toBe(status);
    if (status === 400) expect(r.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    if (start) expect(r.json.message.startsWith(start)).toBe(true);
  });

  it('an empty result is {}', async () => {
    expect((await search({ filter: "name = 'nothing-here'" })).json).toEqual({});
  });
});

describe('model versions', () => {
  beforeAll(async () => {
    await model('mv');
    await model('mv-other');
  });

  it('creates READY versions numbered per model, with run_id and tags as given', async () => {
    const r = await s.call('POST', 'model-versions/create', {
      name: 'mv',
      source: `runs:/${RUN}/model`,
      run_id: RUN,
      description: 'v1',
      tags: [{ key: 'framework', value: 'sklearn' }],
      run_link: 'http://ci/1',
    });
    expect(r.json.model_version).toEqual({
      name: 'mv',
      version: '1',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      current_stage: 'None',
      description: 'v1',
      source: `runs:/${RUN}/model`,
      run_id: RUN,
      status: 'READY',
      tags: [{ key: 'framework', value: 'sklearn' }],
      run_link: 'http://ci/1',
    });
    // run_id is not derived from the source, nor validated
    const bare = await s.call('POST', 'model-versions/create', { name: 'mv', source: `runs:/${RUN}/model` });
    expect(bare.json.model_version).toMatchObject({ version: '2', run_id: '', description: '', run_link: '' });
    expect(await version('mv-other', { run_id: '0'.repeat(32) })).toBe('1');
  });

  it('bumps the registered model last_updated_timestamp', async () => {
    const before = (await s.call('GET', 'registered-models/get', { name: 'mv' })).json.registered_model
      .last_updated_timestamp;
    const v = await s.call('POST', 'model-versions/create', {
      name: 'mv',
      source: `mlflow-artifacts:/1/${RUN}/artifacts/model`,
    });
    const after = (await s.call('GET', 'registered-models/get', { name: 'mv' })).json.registered_model
      .last_updated_timestamp;
    expect(after).toBeGreaterThan(before);
    expect(after).toBe(v.json.model_version.creation_timestamp);
  });

  it.each([
    ['unknown model', { name: 'nope', source: `runs:/${RUN}/model` }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['missing source', { name: 'mv' }, 400, 'INVALID_PARAMETER_VALUE'],
    ['local path', { name: 'mv', source: '/srv/some/local/model' }, 400, 'INVALID_PARAMETER_VALUE'],
    [
      'local path with run_id',
      { name: 'mv', source: '/srv/some/local/model', run_id: RUN },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['relative path', { name: 'mv', source: 'model' }, 400, 'INVALID_PARAMETER_VALUE'],
    [
      '.. in the source',
      { name: 'mv', source: `mlflow-artifacts:/2/${RUN}/artifacts/../../x` },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'tag value not a string',
      { name: 'mv', source: `runs:/${RUN}/m`, tags: [{ key: 'k', value: 5 }] },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['models:/ of an unknown version', { name: 'mv', source: 'models:/mv/999' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['models:/ of an unknown alias', { name: 'mv', source: 'models:/mv@nobody' }, 400, 'INVALID_PARAMETER_VALUE'],
    [
      'models:/ of an unknown logged model',
      { name: 'mv', source: 'models:/m-unknown' },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
  ])('%s → %d (and no version number is used up)', async (_what, body, status, errorCode) => {
    const before = await s.call('GET', 'model-versions/search', {
      filter: "name='mv'",
      max_results: 1,
      order_by: 'version_number DESC',
    });
    expect(code(await s.call('POST', 'model-versions/create', body))).toEqual([status, errorCode]);
    const after = await s.call('GET', 'model-versions/search', {
      filter: "name='mv'",
      max_results: 1,
      order_by: 'version_number DESC',
    });
    expect(after.json.model_versions[0].version).toBe(before.json.model_versions[0].version);
  });

  it('never reuses a deleted version number', async () => {
    await model('mv-numbers');
    for (let i = 1; i <= 4; i++) expect(await version('mv-numbers')).toBe(String(i));
    expect((await s.call('DELETE', 'model-versions/delete', { name: 'mv-numbers', version: '4' })).json).toEqual({});
    expect((await s.call('DELETE', 'model-versions/delete', { name: 'mv-numbers', version: '2' })).status).toBe(200);
    expect(code(await s.call('DELETE', 'model-versions/delete', { name: 'mv-numbers', version: '2' }))).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ]);
    expect(code(await s.call('GET', 'model-versions/get', { name: 'mv-numbers', version: '2' }))).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ]);
    expect(await version('mv-numbers')).toBe('5');
  });

  it.each([
    [{ name: 'mv', version: '999' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=mv, version=999) not found'],
    [{ name: 'nope', version: '1' }, 404, 'RESOURCE_DOES_NOT_EXIST', 'Model Version (name=nope, version=1) not found'],
    [
      { name: 'mv', version: 'abc' },
      400,
      'INVALID_PARAMETER_VALUE',
      "Parameter 'version' must be an integer, got 'abc'.",
    ],
    [{ name: 'mv' }, 400, 'INVALID_PARAMETER_VALUE', undefined],
  ])('get %j → %d', async (params, status, errorCode, message) => {
    for (const endpoint of ['model-versions/get', 'model-versions/get-download-uri']) {
      const r = await s.call('GET', endpoint, params);
      expect(code(r)).toEqual([status, errorCode]);
      if (message) expect(r.json.message).toBe(message);
    }
  });

  it('resolves download URIs: runs:/ and mlflow-artifacts:/ as given, models:/ to what it names', async () => {
    await model('dl');
    await version('dl', { source: `mlflow-artifacts:/3/${RUN}/artifacts/model` }); // 1
    await version('dl', { source: `runs:/${RUN}/model` }); // 2
    await s.call('POST', 'model-versions/transition-stage', { name: 'dl', version: '1', stage: 'Production' });
    await s.call('POST', 'registered-models/alias', { name: 'dl', alias: 'champion', version: '2' });
    const cases: [string, string][] = [
      ['models:/dl/1', `mlflow-artifacts:/3/${RUN}/artifacts/model`],
      ['models:/dl/Production', `mlflow-artifacts:/3/${RUN}/artifacts/model`],
      ['models:/dl/latest', `runs:/${RUN}/model`],
      ['models:/dl@champion', `runs:/${RUN}/model`],
    ];
    await model('dl-ref');
    for (const [source, resolved] of cases) {
      const v = await version('dl-ref', { source });
      const uri = await s.call('GET', 'model-versions/get-download-uri', { name: 'dl-ref', version: v });
      expect(uri.json, source).toEqual({ artifact_uri: resolved });
      // The source itself is kept as given.
      expect(
        (await s.call('GET', 'model-versions/get', { name: 'dl-ref', version: v })).json.model_version.source,
      ).toBe(source);
    }
  });

  it('updates the description (PATCH) and tags; a tag value must be a string', async () => {
    const v = await version('mv');
    const u = await s.call('PATCH', 'model-versions/update', { name: 'mv', version: v, description: 'updated' });
    expect(u.json.model_version.description).toBe('updated');
    expect(
      code(await s.call('PATCH', 'model-versions/update', { name: 'mv', version: '999', description: 'x' })),
    ).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect(
      (await s.call('POST', 'model-versions/set-tag', { name: 'mv', version: v, key: 'validated', value: 'true' }))
        .json,
    ).toEqual({});
    const numeric = await s.call('POST', 'model-versions/set-tag', { name: 'mv', version: v, key: 't', value: 5 });
    expect([numeric.status, numeric.json.message]).toEqual([
      400,
      "Invalid value 5 for parameter 'value' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters.",
    ]);
    expect(
      code(await s.call('POST', 'model-versions/set-tag', { name: 'mv', version: 1, key: 't', value: 'x' })),
    ).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect((await s.call('GET', 'model-versions/get', { name: 'mv', version: v })).json.model_version.tags).toEqual([
      { key: 'validated', value: 'true' },
    ]);
    expect(
      (await s.call('DELETE', 'model-versions/delete-tag', { name: 'mv', version: v, key: 'validated' })).status,
    ).toBe(200);
    expect(
      (await s.call('DELETE', 'model-versions/delete-tag', { name: 'mv', version: v, key: 'never-set' })).status,
    ).toBe(200);
    expect(
      (await s.call('GET', 'model-versions/get', { name: 'mv', version: v })).json.model_version.tags,
    ).toBeUndefined();
  });
});

describe('stages', () => {
  beforeAll(async () => {
    await model('stg');
    for (let i = 0; i < 4; i++) await version('stg');
  });
  const stageOf = async (v: string) =>
    (await s.call('GET', 'model-versions/get', { name: 'stg', version: v })).json.model_version.current_stage as string;
  const transition = (v: string, stage: string, archive?: boolean) =>
    s.call('POST', 'model-versions/transition-stage', {
      name: 'stg',
      version: v,
      stage,
      ...(archive === undefined ? {} : { archive_existing_versions: archive }),
    });

  it('moves versions between stages, case-insensitively', async () => {
    expect((await transition('1', 'production')).json.model_version.current_stage).toBe('Production');
    expect((await transition('2', 'STAGING', false)).json.model_version.current_stage).toBe('Staging');
    expect(await stageOf('1')).toBe('Production');
  });

  it('archive_existing_versions archives only the others in the target stage', async () => {
    const r = await transition('2', 'Production', true);
    expect(r.json.model_version.current_stage).toBe('Production');
    expect(await stageOf('1')).toBe('Archived');
    expect(await stageOf('3')).toBe('None');
  });

  it.each([
    ['Prod', undefined, 'Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.'],
    ['None', true, undefined],
    ['Archived', true, undefined],
  ])('refuses stage %s (archive %s)', async (stage, archive, message) => {
    const r = await transition('3', stage, archive);
    expect(code(r)).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    if (message) expect(r.json.message).toBe(message);
  });

  it('get-latest-versions: newest per stage in first-appearance order, GET and POST, filtered by stages', async () => {
    await transition('3', 'Staging');
    const versionsOf = (r: Reply) =>
      (r.json.model_versions ?? []).map(
        (v: { version: string; current_stage: string }) => `${v.version}:${v.current_stage}`,
      );
    // stages by their lowest version: 1 Archived, 2 Production, 3 Staging, 4 None
    expect(versionsOf(await s.call('POST', 'registered-models/get-latest-versions', { name: 'stg' }))).toEqual([
      '1:Archived',
      '2:Production',
      '3:Staging',
      '4:None',
    ]);
    expect(
      versionsOf(
        await s.call('GET', 'registered-models/get-latest-versions', {
          name: 'stg',
          stages: ['Production', 'staging'],
        }),
      ),
    ).toEqual(['2:Production', '3:Staging']);
    expect(
      versionsOf(await s.call('POST', 'registered-models/get-latest-versions', { name: 'stg', stages: ['None'] })),
    ).toEqual(['4:None']);
    expect(
      code(await s.call('POST', 'registered-models/get-latest-versions', { name: 'stg', stages: ['Bogus'] })),
    ).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(code(await s.call('POST', 'registered-models/get-latest-versions', { name: 'nope' }))).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ]);
    const rm = (await s.call('GET', 'registered-models/get', { name: 'stg' })).json.registered_model;
    expect(rm.latest_versions.map((v: { version: string }) => v.version)).toEqual(['1', '2', '3', '4']);
    expect(rm.latest_versions[0].aliases).toBeUndefined();
  });
});

describe('aliases', () => {
  beforeAll(async () => {
    await model('al');
    await version('al');
    await version('al');
  });
  const setAlias = (alias: string, v: string, name = 'al') =>
    s.call('POST', 'registered-models/alias', { name, alias, version: v });

  it('sets, reads, and moves an alias; model aliases are {alias, version} objects, version aliases strings', async () => {
    expect((await setAlias('champion', '1')).json).toEqual({});
    expect((await setAlias('challenger', '2')).status).toBe(200);
    const got = await s.call('GET', 'registered-models/alias', { name: 'al', alias: 'champion' });
    expect(got.json.model_version).toMatchObject({ version: '1', aliases: ['champion'] });
    expect((await setAlias('champion', '2')).status).toBe(200);
    const rm = (await s.call('GET', 'registered-models/get', { name: 'al' })).json.registered_model;
    expect(rm.aliases).toEqual([
      { alias: 'challenger', version: '2' },
      { alias: 'champion', version: '2' },
    ]);
    expect(
      (await s.call('GET', 'model-versions/get', { name: 'al', version: '2' })).json.model_version.aliases,
    ).toEqual(['challenger', 'champion']);
    expect(
      (await s.call('GET', 'model-versions/get', { name: 'al', version: '1' })).json.model_version.aliases,
    ).toBeUndefined();
    const search = await s.call('GET', 'model-versions/search', { filter: "name='al'" });
    expect(search.json.model_versions.every((v: object) => !('aliases' in v))).toBe(true);
  });

  it('is case-sensitive: Champion and champion coexist', async () => {
    expect((await setAlias('Champion', '1')).status).toBe(200);
    expect(
      (await s.call('GET', 'registered-models/alias', { name: 'al', alias: 'Champion' })).json.model_version.version,
    ).toBe('1');
    expect(
      (await s.call('GET', 'registered-models/alias', { name: 'al', alias: 'champion' })).json.model_version.version,
    ).toBe('2');
  });

  it.each([
    ['latest', '1', 400, 'INVALID_PARAMETER_VALUE'],
    ['LATEST', '1', 400, 'INVALID_PARAMETER_VALUE'],
    ['v3', '1', 400, 'INVALID_PARAMETER_VALUE'],
    ['bad alias!', '1', 400, 'INVALID_PARAMETER_VALUE'],
    ['ghost', '999', 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['ghost', 'abc', 400, 'INVALID_PARAMETER_VALUE'],
  ])('set %s → v%s: %d', async (alias, v, status, errorCode) => {
    expect(code(await setAlias(alias, v))).toEqual([status, errorCode]);
  });

  it('reading a missing alias is 400 (not 404); an unknown model is 404', async () => {
    const r = await s.call('GET', 'registered-models/alias', { name: 'al', alias: 'nope' });
    expect([r.status, r.json]).toEqual([
      400,
      { error_code: 'INVALID_PARAMETER_VALUE', message: 'Registered model alias nope not found.' },
    ]);
    expect(code(await setAlias('x', '1', 'nope'))).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect(code(await s.call('GET', 'registered-models/alias', { name: 'nope', alias: 'x' }))).toEqual([
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ]);
  });

  it('deletes an alias (JSON body); deleting a missing alias is 200', async () => {
    expect((await s.call('DELETE', 'registered-models/alias', { name: 'al', alias: 'challenger' })).json).toEqual({});
    expect((await s.call('DELETE', 'registered-models/alias', { name: 'al', alias: 'nope' })).status).toBe(200);
    const viaQuery = await s.raw('DELETE', '/api/2.0/mlflow/registered-models/alias?name=al&alias=Champion');
    expect(code(viaQuery)).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(code(await s.call('GET', 'registered-models/alias', { name: 'al', alias: 'challenger' }))).toEqual([
      400,
      'INVALID_PARAMETER_VALUE',
    ]);
  });

  it('deleting a version removes the aliases pointing at it', async () => {
    await setAlias('doomed', '1');
    expect((await s.call('DELETE', 'model-versions/delete', { name: 'al', version: '1' })).status).toBe(200);
    expect(code(await s.call('GET', 'registered-models/alias', { name: 'al', alias: 'doomed' }))).toEqual([
      400,
      'INVALID_PARAMETER_VALUE',
    ]);
    const rm = (await s.call('GET', 'registered-models/get', { name: 'al' })).json.registered_model;
    expect(rm.aliases.map((a: { alias: string }) => a.alias)).toEqual(['champion']);
  });
});

describe('model-versions/search', () => {
  const RUN_B = 'b'.repeat(32);
  beforeAll(async () => {
    await model('vs');
    await version('vs', { tags: [{ key: 'framework', value: 'sklearn' }] }); // 1
    await version('vs', { run_id: RUN_B, source: `runs:/${RUN_B}/model` }); // 2
    await version('vs', { source: `mlflow-artifacts:/9/${RUN_B}/artifacts/model` }); // 3
    await model('vs-2');
    await version('vs-2'); // 1
  });
  const ids = (r: Reply) =>
    (r.json.model_versions ?? []).map((v: { name: string; version: string }) => `${v.name}/${v.version}`);
  const search = (params: Record<string, unknown>) => s.call('GET', 'model-versions/search', params);

  it.each([
    ["name='vs'", ['vs/3', 'vs/2', 'vs/1']],
    [`run_id='${RUN_B}'`, ['vs/2']],
    [`run_id IN ('${RUN_B}', '${RUN}') and name = 'vs-2'`, ['vs-2/1']],
    ["name='vs' and tags.framework='sklearn'", ['vs/1']],
    ["name='vs' and version_number >= 2", ['vs/3', 'vs/2']],
    ["source_path LIKE 'mlflow-artifacts:/9/%'", ['vs/3']],
    ["name LIKE 'vs%' and version_number = 1", ['vs-2/1', 'vs/1']],
    ["name='no-such-model'", []],
  ])('filter %s', async (filter, expected) => {
    expect(ids(await search({ filter }))).toEqual(expected);
  });

  it('orders newest change first by default; order_by overrides; pages', async () => {
    await s.call('PATCH', 'model-versions/update', { name: 'vs', version: '1', description: 'touched' });
    expect(ids(await search({ filter: "name='vs'" }))).toEqual(['vs/1', 'vs/3', 'vs/2']);
    expect(ids(await search({ filter: "name='vs'", order_by: 'version_number ASC' }))).toEqual([
      'vs/1',
      'vs/2',
      'vs/3',
    ]);
    const p1 = await search({ filter: "name='vs'", order_by: 'version_number DESC', max_results: 2 });
    expect([ids(p1), p1.json.next_page_token]).toEqual([['vs/3', 'vs/2'], 'eyJvZmZzZXQiOiAyfQ==']);
    const p2 = await search({
      filter: "name='vs'",
      order_by: 'version_number DESC',
      max_results: 2,
      page_token: p1.json.next_page_token,
    });
    expect([ids(p2), p2.json.next_page_token]).toEqual([['vs/1'], undefined]);
  });

  it.each([
    [{ filter: 'name==' }, 'Invalid clause(s) in filter string: name, =='],
    [{ filter: "run_id LIKE 'x%'" }, undefined],
    [{ filter: "version_number = 'one'" }, undefined],
    [{ filter: "bogus = 'x'" }, undefined],
    [
      { max_results: 200001 },
      "Invalid value \"200001\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'.",
    ],
    [{ order_by: 'stage DESC' }, undefined],
  ])('%j → 400', async (params, start) => {
    const r = await search(params);
    expect(code(r)).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    if (start) expect(r.json.message.startsWith(start)).toBe(true);
  });
});
