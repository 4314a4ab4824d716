import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abRoute, canaryRoute, ROUTE_TAG } from '../../src/core/serve/route.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import type { RunningServer } from '../../src/server/index.js';
import {
  clearRoute,
  readLoadErrors,
  readRoute,
  readRouteFile,
  resolveRouteRef,
  writeLoadError,
  writeRoute,
} from '../../src/serve/route-store.js';
import { listVersions, requireModel } from '../../src/registry/versions.js';
import { tempDir } from '../helpers/cli.js';

/** The store against the embedded registry served in-process on a loopback port. */

let server: RunningServer;
let client: MlflowClient;
const now = new Date('2026-12-01T12:00:00.000Z');
const by = 'ana@host';

beforeAll(async () => {
  const { startServer } = await import('../../src/server/index.js');
  server = await startServer({ storeDir: path.join(tempDir('mlv-route-store-'), 'store'), host: '127.0.0.1', port: 0 });
  client = new MlflowClient(resolveClientConfig({ MLFLOW_TRACKING_URI: server.url }, undefined)!);
  await client.createRegisteredModel({ name: 'churn' });
  for (let i = 0; i < 3; i++) await client.createModelVersion({ name: 'churn', source: `s3://bucket/m${i}` });
  await client.setRegisteredModelAlias('churn', 'production', '1');
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

const spec = (w: number) =>
  canaryRoute({
    model: 'churn',
    stable: { version: '1', ref: '@production' },
    candidate: { version: '2', ref: '2', weight: w },
  });

describe('route store', () => {
  it('has no route at first', async () => {
    expect(await readRoute(client, 'churn')).toBeNull();
  });

  it('writes revision 1, 2, … with who and when, and reads back the same', async () => {
    const r1 = await writeRoute(client, 'churn', spec(5), { by, now, expectRevision: 0 });
    expect(r1).toMatchObject({ model: 'churn', revision: 1, updated_by: by, updated_at: now.toISOString() });
    expect(await readRoute(client, 'churn')).toEqual(r1);
    const r2 = await writeRoute(client, 'churn', spec(25), { by, now });
    expect(r2.revision).toBe(2);
    expect(r2.candidate?.weight).toBe(25);
  });

  it('stores compact JSON in the mlv.route tag', async () => {
    const model = await requireModel(client, 'churn');
    const value = model.tags.find((t) => t.key === ROUTE_TAG)!.value;
    expect(value).not.toMatch(/\n|": /);
    expect(JSON.parse(value)).toMatchObject({ revision: 2, stable: { version: '1', ref: '@production' } });
  });

  it('refuses a write when the revision is not the expected one, and writes nothing', async () => {
    await expect(writeRoute(client, 'churn', spec(50), { by, now, expectRevision: 1 })).rejects.toMatchObject({
      code: 'MLV_ROUTE_CONFLICT',
      message: 'the route of churn changed while it was being written: its route is at revision 2, expected 1',
    });
    expect((await readRoute(client, 'churn'))?.revision).toBe(2);
  });

  it('refuses a route naming a version that does not exist', async () => {
    const bad = canaryRoute({
      model: 'churn',
      stable: { version: '1', ref: '1' },
      candidate: { version: '9', ref: '9', weight: 5 },
    });
    await expect(writeRoute(client, 'churn', bad, { by, now })).rejects.toThrow('churn has no version 9');
    expect((await readRoute(client, 'churn'))?.revision).toBe(2);
  });

  it("refuses a route whose JSON would not fit MLflow's 5000-character tag value", async () => {
    const variants = Array.from({ length: 20 }, (_, i) => ({
      name: `arm${i}`,
      version: '2',
      ref: 'r'.repeat(250),
      weight: 1,
    }));
    const big = abRoute({ model: 'churn', stable: { version: '1', ref: '1' }, variants });
    await expect(writeRoute(client, 'churn', big, { by, now })).rejects.toThrow(
      /^the route of churn is \d+ characters of JSON; an MLflow tag holds at most 5000$/,
    );
    expect((await readRoute(client, 'churn'))?.revision).toBe(2);
  });

  it('clear removes it and the next write continues the numbering', async () => {
    expect(await clearRoute(client, 'churn', { by, now })).toEqual({ revision: 2 });
    expect(await readRoute(client, 'churn')).toBeNull();
    expect(await clearRoute(client, 'churn', { by, now })).toBeNull();
    expect((await writeRoute(client, 'churn', spec(5), { by, now, expectRevision: 2 })).revision).toBe(3);
  });

  it('resolves refs to READY versions', async () => {
    const model = await requireModel(client, 'churn');
    const versions = await listVersions(client, 'churn');
    expect((await resolveRouteRef(client, model, '@production', '--stable', versions)).at).toEqual({
      version: '1',
      ref: '@production',
    });
    expect((await resolveRouteRef(client, model, 'latest', '--candidate', versions)).at.version).toBe('3');
    await expect(resolveRouteRef(client, model, '@nope', '--stable', versions)).rejects.toThrow(
      'alias @nope is not set on churn',
    );
  });

  it('reads and clears load errors recorded on versions', async () => {
    await writeLoadError(client, 'churn', '2', { error: 'output is NaN', at: now.toISOString(), host: 'pod-a' });
    expect(await readLoadErrors(client, 'churn', ['1', '2', '77'])).toEqual({
      '2': { error: 'output is NaN', at: now.toISOString(), host: 'pod-a' },
    });
    await writeLoadError(client, 'churn', '2', null);
    expect(await readLoadErrors(client, 'churn', ['2'])).toEqual({});
  });

  it('reads a route file, naming it in errors', async () => {
    const dir = tempDir('mlv-route-file-');
    const good = path.join(dir, 'route.json');
    writeFileSync(good, JSON.stringify({ model: 'churn', stable: { version: '1', ref: '1' } }));
    expect((await readRouteFile(good)).variants).toEqual([{ name: 'stable', version: '1', ref: '1', weight: 100 }]);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ model: 'churn', stable: { version: '1' }, shadow: { version: '2', percent: 150 } }),
    );
    await expect(readRouteFile(bad)).rejects.toThrow(
      `--route file ${bad}: shadow.percent must be a number 0–100 with at most 2 decimals, got 150`,
    );
    await expect(readRouteFile(path.join(dir, 'none.json'))).rejects.toThrow('does not exist');
  });
});
