import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assign, renderAssign } from '../../src/commands/assign.js';
import { parseVariantArg, percentArg, renderRoute, routeSet, routeShow } from '../../src/commands/route.js';
import { LOAD_ERROR_TAG } from '../../src/core/serve/route.js';
import { UsageError } from '../../src/errors.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import type { Connection } from '../../src/mlflow/connect.js';
import type { RunningServer } from '../../src/server/index.js';
import { makeStyle, plainStyle } from '../../src/terminal/style.js';
import { tempDir } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';

/** The route and assign command functions in-process (TTY and piped renderings, flag parsing). */

let server: RunningServer;
const connect = async (): Promise<Connection> => {
  const client = new MlflowClient(resolveClientConfig({ MLFLOW_TRACKING_URI: server.url }, undefined)!);
  return { client, label: 'test registry', close: () => client.close() };
};
const now = new Date('2026-12-01T12:00:00.000Z');

beforeAll(async () => {
  const { startServer } = await import('../../src/server/index.js');
  server = await startServer({ storeDir: path.join(tempDir('mlv-route-cmd-'), 'store'), host: '127.0.0.1', port: 0 });
  const { client, close } = await connect();
  await client.createRegisteredModel({ name: 'churn' });
  for (let i = 0; i < 3; i++) await client.createModelVersion({ name: 'churn', source: `s3://bucket/m${i}` });
  await client.setModelVersionTag('churn', '2', 'mlv.semver', '1.1.0');
  await client.setRegisteredModelAlias('churn', 'production', '1');
  await close();
});
afterAll(async () => {
  await server?.close();
});

describe('flag parsers', () => {
  it.each([
    ['treatment=@challenger:50', { name: 'treatment', ref: '@challenger', weight: 50 }],
    ['b=v1.2.0:12.5', { name: 'b', ref: 'v1.2.0', weight: 12.5 }],
    ['x.y-z_1=3:0', { name: 'x.y-z_1', ref: '3', weight: 0 }],
  ])('--variant %s', (value, parsed) => {
    expect(parseVariantArg(value)).toEqual(parsed);
  });

  it.each([
    ['a=2', '--variant must be NAME=REF:WEIGHT (e.g. treatment=@challenger:50), got "a=2"'],
    ['=2:5', '--variant name "" is not valid'],
    ['bad name=2:5', '--variant name "bad name" is not valid'],
    ['stable=2:5', '--variant cannot be named "stable": use --stable'],
    ['candidate=2:5', '--variant cannot be named "candidate": use --candidate'],
    ['a=2:101', '--variant a weight must be a number 0–100 with at most 2 decimals, got "101"'],
    ['a=2:1.234', '--variant a weight must be a number 0–100 with at most 2 decimals, got "1.234"'],
  ])('--variant %s is refused', (value, message) => {
    expect(() => parseVariantArg(value)).toThrow(message);
  });

  it.each([
    ['5', 5],
    ['12.34', 12.34],
    ['25%', 25],
    ['0', 0],
    ['100', 100],
  ])('--weight %s → %d', (value, w) => {
    expect(percentArg('--weight')(value)).toBe(w);
  });

  it.each(['', '-1', '100.01', '1e1000', 'abc', '5.005'])('--weight %j is refused', (value) => {
    expect(() => percentArg('--weight')(value)).toThrow(`--weight must be a number 0–100 with at most 2 decimals`);
  });
});

describe('route set refuses inconsistent flags before connecting', () => {
  it.each([
    [{ candidate: '2' }, '--candidate needs --weight W (0–100)'],
    [{ weight: 5 }, '--weight needs --candidate REF'],
    [{ shadow: '2' }, '--shadow needs --shadow-percent P (0–100)'],
    [{ shadowPercent: 5 }, '--shadow-percent needs --shadow REF'],
    [
      {
        variants: [
          { name: 'a', ref: '2', weight: 5 },
          { name: 'a', ref: '3', weight: 5 },
        ],
      },
      '--variant a is given twice',
    ],
  ])('%j', async (flags, message) => {
    const { ctx } = testContext({ connect: () => Promise.reject(new Error('must not connect')) });
    const err = await routeSet(ctx, { name: 'churn', stable: '1', ...flags }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(message);
  });
});

describe('route show and assign renderings', () => {
  it('sets a route, then shows it piped and on a TTY', async () => {
    const t = testContext({ connect, now });
    const set = await routeSet(t.ctx, {
      name: 'churn',
      stable: '@production',
      candidate: 'v1.1.0',
      weight: 12.5,
      variants: [{ name: 'blue', ref: '3', weight: 20 }],
      shadow: '3',
      shadowPercent: 5,
      salt: 's1',
    });
    await t.ctx.close();
    expect(set).toMatchObject({ revision: 1, salt: 's1', experiment: 'churn', dry_run: false });
    const { client, close } = await connect();
    await client.setModelVersionTag('churn', '3', LOAD_ERROR_TAG, 'plain text failure');
    await close();

    const s = testContext({ connect });
    const shown = await routeShow(s.ctx, { name: 'churn' });
    await s.ctx.close();
    expect(shown.load_errors).toEqual({ '3': { error: 'plain text failure', at: null, host: null } });
    expect(renderRoute(shown, plainStyle)).toBe(
      [
        'route\tchurn revision 1',
        'updated\t2026-12-01 12:00 by ' + shown.updated_by,
        'experiment\tchurn',
        'salt\ts1',
        '',
        'variant\tversion\tsemver\tweight\tref\tslots',
        'stable\t1\t-\t67.5%\t@production\tthe rest',
        'candidate\t2\tv1.1.0\t12.5%\tv1.1.0\t0–1249',
        'blue\t3\t-\t20%\t3\t5000–6999',
        '(shadow)\t3\t-\t5%\t3\tcopies',
        '',
        '! version 3 failed to load: plain text failure',
      ].join('\n'),
    );
    const tty = renderRoute(shown, makeStyle({ color: false, tty: true }));
    expect(tty).toContain('┌');
    expect(tty).toMatch(/route\s+churn revision 1/);
  });

  it('dry run validates and writes nothing', async () => {
    const t = testContext({ connect, now });
    const r = await routeSet(t.ctx, { name: 'churn', stable: '1', dryRun: true });
    const after = await routeShow(t.ctx, { name: 'churn' });
    await t.ctx.close();
    expect(r).toMatchObject({ dry_run: true, revision: 2, previous_revision: 1, salt: 's1' });
    expect(after.revision).toBe(1);
  });

  it('assign: piped rows, TTY table, shadow column when shadowed', async () => {
    const t = testContext({ connect });
    const r = await assign(t.ctx, { name: 'churn', units: ['u1', 'u2', 'u3'] });
    await t.ctx.close();
    expect(r).toMatchObject({ model: 'churn', revision: 1, salt: 's1', route_source: 'registry' });
    const piped = renderAssign(r, plainStyle).split('\n');
    expect(piped[0]).toBe(
      r.assignments.some((a) => a.shadow) ? 'unit\tvariant\tversion\tbucket\tshadow' : 'unit\tvariant\tversion\tbucket',
    );
    expect(piped.slice(1).map((l) => l.split('\t')[0])).toEqual(['u1', 'u2', 'u3']);
    expect(renderAssign(r, makeStyle({ color: false, tty: true }))).toContain(
      'route of churn revision 1 (registry), salt s1',
    );
  });
});

describe('a malformed stored route', () => {
  it('is an input error for show, and is replaced by set with a warning', async () => {
    const { client, close } = await connect();
    await client.createRegisteredModel({ name: 'broken' });
    await client.createModelVersion({ name: 'broken', source: 's3://bucket/b1' });
    await client.setRegisteredModelTag(
      'broken',
      'mlv.route',
      '{"model":"broken","revision":4,"stable":{"version":"x"}}',
    );
    await close();
    const t = testContext({ connect, now });
    await expect(routeShow(t.ctx, { name: 'broken' })).rejects.toThrow(
      'the mlv.route tag of broken: stable.version must be a version number ("3"), got "x"',
    );
    const set = await routeSet(t.ctx, { name: 'broken', stable: '1' });
    await t.ctx.close();
    expect(set.revision).toBe(5);
    expect(t.stderr.text).toContain('(ignoring the stored route)');
  });
});
