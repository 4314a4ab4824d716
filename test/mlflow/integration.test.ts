import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import { isMlflowError, MlflowApiError } from '../../src/mlflow/errors.js';
import type { ModelVersion } from '../../src/mlflow/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { rejection } from './helpers.js';

/**
 * The client against the embedded registry (`mlv server`) over real HTTP: the calls a release
 * makes, in order, on one store. Both sides are held to the MLflow recordings by their own
 * contract tests; this checks that they also agree with each other.
 */

let dir: string;
let server: RunningServer;
let client: MlflowClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mlv-client-int-'));
  server = await startServer({ storeDir: path.join(dir, 'store'), host: '127.0.0.1', port: 0 });
  client = new MlflowClient({ ...resolveClientConfig({ MLFLOW_TRACKING_URI: server.url }, undefined)!, maxRetries: 0 });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('client ⇄ embedded registry', () => {
  let runId = '';
  let artifactUri = '';
  const versions: ModelVersion[] = [];

  it('answers /health and /version', async () => {
    expect((await client.health()).ok).toBe(true);
    expect(await client.serverVersion()).toMatch(/^\d+\.\d+/);
  });

  it('gets or creates an experiment, once', async () => {
    expect(await client.getExperimentByName('int-exp')).toBeNull();
    const a = await client.getOrCreateExperiment('int-exp', { tags: { team: 'ml' } });
    const b = await client.getOrCreateExperiment('int-exp');
    expect(b.experiment_id).toBe(a.experiment_id);
    expect(a.artifact_location).toBe(`mlflow-artifacts:/${a.experiment_id}`);
    expect(a.tags).toEqual([{ key: 'team', value: 'ml' }]);
  });

  it('creates a run and logs a batch larger than one request allows', async () => {
    const exp = (await client.getExperimentByName('int-exp'))!;
    const run = await client.createRun({
      experimentId: exp.experiment_id,
      runName: 'train',
      tags: { 'mlflow.source.name': 'test' },
    });
    runId = run.info.run_id;
    artifactUri = run.info.artifact_uri;
    expect(run.info.status).toBe('RUNNING');
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    const metrics = Array.from({ length: 1200 }, (_, i) => ({
      key: `m${i % 3}`,
      value: i === 1199 ? NaN : i / 10,
      timestamp: 1_000 + i,
      step: i,
    }));
    const r = await client.logBatch({ runId, params, metrics, tags: { stage: 'dev' } });
    expect(r.requests).toBe(3);
    await client.updateRun({ runId, status: 'FINISHED', endTime: 9_999 });
    const got = await client.getRun(runId);
    expect(got.info.status).toBe('FINISHED');
    expect(got.data.params).toHaveLength(250);
    expect(got.data.metrics.map((m) => m.key).sort()).toEqual(['m0', 'm1', 'm2']);
    expect(Number.isNaN(got.data.metrics.find((m) => m.key === 'm2')!.value)).toBe(true);
    expect(got.data.tags).toContainEqual({ key: 'stage', value: 'dev' });
  });

  it('uploads a model directory under the run and lists it', async () => {
    const src = path.join(dir, 'model');
    mkdirSync(path.join(src, 'sub'), { recursive: true });
    writeFileSync(path.join(src, 'MLmodel'), 'artifact_path: model\n');
    writeFileSync(path.join(src, 'model.onnx'), Buffer.alloc(70_000, 3));
    writeFileSync(path.join(src, 'sub', 'notes.txt'), 'n');
    const up = await client.uploadDirectory(src, `${artifactUri}/model`);
    expect(up.bytes).toBe(21 + 70_000 + 1);
    const listing = await client.artifacts.list(`${artifactUri}/model`);
    expect(listing).toEqual([
      { path: 'MLmodel', is_dir: false, file_size: 21 },
      { path: 'model.onnx', is_dir: false, file_size: 70_000 },
      { path: 'sub', is_dir: true },
    ]);
  });

  it('registers versions and waits until they are READY', async () => {
    await client.createRegisteredModel({ name: 'int-model', description: 'd', tags: { owner: 'a' } });
    const dup = await rejection(client.createRegisteredModel({ name: 'int-model' }));
    expect(isMlflowError(dup, 'RESOURCE_ALREADY_EXISTS')).toBe(true);
    for (let i = 0; i < 3; i++) {
      const mv = await client.createModelVersion({
        name: 'int-model',
        source: `${artifactUri}/model`,
        runId,
        tags: { i: String(i) },
      });
      versions.push(await client.waitForReady('int-model', mv.version, { pollMs: 10, timeoutMs: 5_000 }));
    }
    expect(versions.map((v) => v.version)).toEqual(['1', '2', '3']);
  });

  it('pages through versions and models', async () => {
    const seen: string[] = [];
    for await (const v of client.iterateModelVersions({
      filter: "name='int-model'",
      pageSize: 2,
      orderBy: ['version_number ASC'],
    }))
      seen.push(v.version);
    expect(seen).toEqual(['1', '2', '3']);
    const page = await client.searchModelVersions({ filter: "name='int-model'", maxResults: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextPageToken).toBeTypeOf('string');
    const models: string[] = [];
    for await (const m of client.iterateRegisteredModels({ filter: "name LIKE 'int-%'", pageSize: 1 }))
      models.push(m.name);
    expect(models).toEqual(['int-model']);
    expect((await client.searchRegisteredModels({ filter: "name = 'nothing'" })).items).toEqual([]);
  });

  it('moves aliases and stages', async () => {
    await client.setRegisteredModelAlias('int-model', 'champion', 1);
    await client.setRegisteredModelAlias('int-model', 'champion', 2);
    const champ = await client.getModelVersionByAlias('int-model', 'champion');
    expect([champ.version, champ.aliases]).toEqual(['2', ['champion']]);
    expect(await client.findModelVersionByAlias('int-model', 'nope')).toBeNull();
    const reserved = await rejection(client.setRegisteredModelAlias('int-model', 'latest', 1));
    expect([reserved.exitCode, reserved.errorCode]).toEqual([2, 'INVALID_PARAMETER_VALUE']);

    await client.transitionModelVersionStage({ name: 'int-model', version: 1, stage: 'Production' });
    const moved = await client.transitionModelVersionStage({
      name: 'int-model',
      version: 3,
      stage: 'production',
      archiveExistingVersions: true,
    });
    expect(moved.current_stage).toBe('Production');
    expect((await client.getModelVersion('int-model', 1)).current_stage).toBe('Archived');
    expect((await client.getLatestVersions('int-model', ['Production'])).map((v) => v.version)).toEqual(['3']);
    await client.deleteRegisteredModelAlias('int-model', 'champion');
    expect(await client.findModelVersionByAlias('int-model', 'champion')).toBeNull();
  });

  it('sets and deletes tags and descriptions', async () => {
    await client.setRegisteredModelTag('int-model', 'team', 'a');
    await client.setModelVersionTag('int-model', 2, 'validated', 'true');
    await client.updateModelVersion({ name: 'int-model', version: 2, description: 'v2' });
    await client.updateRegisteredModel({ name: 'int-model', description: 'model' });
    let model = await client.getRegisteredModel('int-model');
    expect(model.tags).toContainEqual({ key: 'team', value: 'a' });
    expect(model.description).toBe('model');
    const v2 = await client.getModelVersion('int-model', 2);
    expect([v2.description, v2.tags]).toEqual([
      'v2',
      [
        { key: 'i', value: '1' },
        { key: 'validated', value: 'true' },
      ],
    ]);
    await client.deleteRegisteredModelTag('int-model', 'team');
    await client.deleteModelVersionTag('int-model', 2, 'validated');
    model = await client.getRegisteredModel('int-model');
    expect(model.tags).toEqual([{ key: 'owner', value: 'a' }]);
  });

  it('downloads a version through models:/ and its download URI', async () => {
    await client.setRegisteredModelAlias('int-model', 'champion', 2);
    expect(await client.getModelVersionDownloadUri('int-model', 2)).toBe(`${artifactUri}/model`);
    const remote = await client.resolveArtifactUri('models:/int-model@champion');
    const dest = path.join(dir, 'downloaded');
    const down = await client.downloadDirectory(remote, dest);
    expect(down.files).toHaveLength(3);
    expect(readFileSync(path.join(dest, 'model.onnx'))).toEqual(Buffer.alloc(70_000, 3));
    expect(readFileSync(path.join(dest, 'sub', 'notes.txt'), 'utf8')).toBe('n');
    const missing = await rejection(client.downloadFile(`${remote}/missing.bin`, path.join(dir, 'x')));
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it('creates, finalizes and reads an MLflow 3 logged model', async () => {
    const exp = (await client.getExperimentByName('int-exp'))!;
    const lm = await client.createLoggedModel({
      experimentId: exp.experiment_id,
      name: 'lm',
      sourceRunId: runId,
      params: { alpha: '0.5' },
    });
    expect(lm.info.status).toBe('LOGGED_MODEL_PENDING');
    const ready = await client.finalizeLoggedModel(lm.info.model_id);
    expect(ready.info.status).toBe('LOGGED_MODEL_READY');
    expect((await client.getLoggedModel(lm.info.model_id)).data.params).toEqual([{ key: 'alpha', value: '0.5' }]);
  });

  it('renames and deletes', async () => {
    await client.renameRegisteredModel('int-model', 'int-model-2');
    expect(await client.findRegisteredModel('int-model')).toBeNull();
    await client.deleteModelVersion('int-model-2', 3);
    const gone = await rejection(client.getModelVersion('int-model-2', 3));
    expect(gone).toBeInstanceOf(MlflowApiError);
    expect([gone.status, gone.errorCode, gone.exitCode]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST', 2]);
    await client.deleteRegisteredModel('int-model-2');
    expect(await client.findRegisteredModel('int-model-2')).toBeNull();
  });
});
