import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, renderCompare, renderCompareMarkdown } from '../../src/commands/compare.js';
import { promote, renderPromote } from '../../src/commands/promote.js';
import { register } from '../../src/commands/register.js';
import { renderShow, show } from '../../src/commands/show.js';
import { CheckFailedError, UsageError } from '../../src/errors.js';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import type { Connection } from '../../src/mlflow/connect.js';
import type { RunningServer } from '../../src/server/index.js';
import type { Choice, Prompter } from '../../src/terminal/prompt.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';

/**
 * Command-level tests: the exported command functions with testContext (captured streams, TTY or
 * piped) against the embedded server started in-process on a temp store.
 */

let server: RunningServer;
let cwd: string;

const connect = async (): Promise<Connection> => {
  const client = new MlflowClient(resolveClientConfig({ MLFLOW_TRACKING_URI: server.url }, undefined)!);
  return { client, label: 'test registry', close: () => client.close() };
};

/** A prompter that records questions and answers from a script. */
function scripted(answers: { confirm?: boolean[]; select?: number[] }) {
  const asked: string[] = [];
  const prompter: Prompter = {
    async confirm(message) {
      asked.push(`confirm: ${message}`);
      return answers.confirm?.shift() ?? false;
    },
    async select<T>(message: string, choices: Choice<T>[]) {
      asked.push(`select: ${message} [${choices.map((c) => c.name).join(' | ')}]`);
      return choices[answers.select?.shift() ?? 0]!.value;
    },
  };
  return { prompter, asked };
}

const ANSI = /\u001b\[[0-9;]*m/g;

beforeAll(async () => {
  const { startServer } = await import('../../src/server/index.js');
  server = await startServer({ storeDir: path.join(tempDir('mlv-cmd-'), 'store'), host: '127.0.0.1', port: 0 });
  cwd = tempDir('mlv-cmd-cwd-');
  const t = testContext({ connect, cwd });
  const model = (f: string) => path.join(repoRoot, 'fixtures/models', f);
  await register(t.ctx, {
    path: model('classifier-v1.onnx'),
    name: 'churn',
    semver: '1.0.0',
    metrics: { auc: 0.86, latency_ms: 12 },
    params: { lr: '0.1' },
  });
  await register(t.ctx, {
    path: model('classifier-v2.onnx'),
    name: 'churn',
    bump: 'minor',
    metrics: { auc: 0.91, latency_ms: 11 },
    params: { lr: '0.05' },
    aliases: ['staging'],
  });
  await t.ctx.close();
});
afterAll(async () => {
  await server?.close();
});

describe('show', () => {
  it('piped: tab-separated, no colour, no header block', async () => {
    const t = testContext({ connect, cwd });
    const r = await show(t.ctx, { name: 'churn' });
    t.ctx.output(r, renderShow);
    await t.ctx.close();
    const lines = t.stdout.text.trimEnd().split('\n');
    expect(lines[0]).toBe('version\tsemver\taliases\tstage\tstatus\tauc\tlatency_ms\tcreated');
    expect(lines[1]).toMatch(/^2\tv1\.1\.0\t@staging\t-\tREADY\t0\.91\t11\t\d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(lines[2]).toMatch(/^1\tv1\.0\.0\t-\t-\tREADY\t0\.86\t12\t/);
    expect(lines).toHaveLength(3);
    expect(t.stdout.text).not.toMatch(ANSI);
    expect(t.stderr.text).toBe('using test registry\n');
  });

  it('TTY: a header, a boxed table and colour', async () => {
    const t = testContext({ connect, cwd, tty: true });
    const r = await show(t.ctx, { name: 'churn' });
    t.ctx.output(r, renderShow);
    await t.ctx.close();
    expect(t.stdout.text).toMatch(ANSI);
    const plain = t.stdout.text.replace(ANSI, '');
    expect(plain.split('\n')[0]).toBe('churn  2 versions');
    expect(plain).toContain('aliases  @staging → 2');
    expect(plain).toContain('┌');
    expect(plain).toMatch(/│ 2\s+│ v1\.1\.0 │ @staging │ -\s+│ READY\s+│ 0\.91 │ 11\s+│/);
  });

  it('--json: the result object, nothing else on stdout', async () => {
    const t = testContext({ connect, cwd, globals: { json: true } });
    const r = await show(t.ctx, { name: 'churn', limit: 1 });
    t.ctx.output(r, renderShow);
    await t.ctx.close();
    const doc = JSON.parse(t.stdout.text);
    expect(doc).toMatchObject({ name: 'churn', aliases: { staging: '2' }, total_versions: 2 });
    expect(doc.versions.map((v: { version: string }) => v.version)).toEqual(['2']);
  });

  it('lists models without a name', async () => {
    const t = testContext({ connect, cwd });
    t.ctx.output(await show(t.ctx, {}), renderShow);
    await t.ctx.close();
    expect(t.stdout.text).toMatch(
      /^name\tlatest\tsemver\taliases\tupdated\nchurn\t2\tv1\.1\.0\t@staging→2\t\d{4}-\d\d-\d\d \d\d:\d\d\n$/,
    );
  });
});

describe('compare', () => {
  it('piped: one tab-separated table per section', async () => {
    const t = testContext({ connect, cwd });
    const r = await compare(t.ctx, { name: 'churn', a: '1', b: '@staging' });
    t.ctx.output(r, renderCompare);
    await t.ctx.close();
    const sections = t.stdout.text.trimEnd().split('\n\n');
    expect(sections[0]).toBe(
      'metric\ta\tb\tdelta\trelative\nauc\t0.86\t0.91\t+0.05\t+5.81%\nlatency_ms\t12\t11\t-1\t-8.33%',
    );
    expect(sections[1]).toBe('param (changed)\ta\tb\nlr\t0.1\t0.05');
    expect(sections[2]!.split('\n').slice(0, 3)).toEqual([
      'metadata\ta\tb',
      'semver\t1.0.0\t1.1.0',
      'aliases\t-\tstaging',
    ]);
    expect(t.stdout.text).not.toMatch(ANSI);
  });

  it('TTY: labelled columns, a title line and coloured deltas', async () => {
    const t = testContext({ connect, cwd, tty: true });
    const r = await compare(t.ctx, { name: 'churn', a: 'v1.0.0', b: '2' });
    t.ctx.output(r, renderCompare);
    await t.ctx.close();
    const plain = t.stdout.text.replace(ANSI, '');
    expect(plain.split('\n')[0]).toBe('churn: A = version 1 (v1.0.0)   B = version 2 (v1.1.0) @staging');
    expect(plain).toMatch(/│ metric\s+│ v1\.0\.0 \(1\) │ v1\.1\.0 \(2\) │ delta │ relative │/);
    expect(t.stdout.text).toContain('\u001b[32m+0.05\u001b[39m');
    expect(t.stdout.text).toContain('\u001b[31m-1\u001b[39m');
  });

  it('--md renders the same result as Markdown', async () => {
    const t = testContext({ connect, cwd });
    const md = renderCompareMarkdown(await compare(t.ctx, { name: 'churn', a: '1', b: '2', all: true }));
    await t.ctx.close();
    expect(md.split('\n').slice(0, 6)).toEqual([
      '### churn: version 1 (v1.0.0) → version 2 (v1.1.0) @staging',
      '',
      '| metric | A: v1.0.0 (1) | B: v1.1.0 (2) | Δ | Δ % |',
      '| --- | ---: | ---: | ---: | ---: |',
      '| `auc` | 0.86 | 0.91 | +0.05 | +5.81% |',
      '| `latency_ms` | 12 | 11 | -1 | -8.33% |',
    ]);
  });

  it('asks for missing arguments in a terminal, and names them when piped', async () => {
    const { prompter, asked } = scripted({ select: [0, 0, 0] });
    const t = testContext({ connect, cwd, tty: true, prompter });
    const r = await compare(t.ctx, {});
    await t.ctx.close();
    expect(asked).toEqual([
      'select: Which model? [churn]',
      'select: Which version A of churn? [version 2 (v1.1.0) @staging | version 1 (v1.0.0)]',
      'select: Which version B of churn? [version 1 (v1.0.0)]',
    ]);
    expect([r.a.version, r.b.version]).toEqual(['2', '1']);

    const piped = testContext({ connect, cwd });
    await expect(compare(piped.ctx, { name: 'churn', a: '1' })).rejects.toThrow(UsageError);
    await expect(compare(piped.ctx, { name: 'churn', a: '1' })).rejects.toThrow(
      'version B of churn: missing the B argument',
    );
    await piped.ctx.close();
  });
});

describe('promote confirmation', () => {
  it('asks before moving a production-like alias in a terminal; "no" changes nothing (exit 1)', async () => {
    const { prompter, asked } = scripted({ confirm: [false] });
    const t = testContext({ connect, cwd, tty: true, prompter });
    const err = await promote(t.ctx, { name: 'churn', ref: '2', to: 'production' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckFailedError);
    expect((err as Error).message).toBe('not changed: @production of churn still points at nobody');
    expect(asked).toEqual(['confirm: Point churn @production at version 2 (v1.1.0) (now nobody)?']);
    const model = await (await t.ctx.mlflow()).getRegisteredModel('churn');
    expect(model.aliases).toEqual([{ alias: 'staging', version: '2' }]);
    await t.ctx.close();
  });

  it('"yes" promotes; --yes, a non-production alias, or a pipe never ask', async () => {
    const { prompter, asked } = scripted({ confirm: [true], select: [0, 1] });
    const t = testContext({ connect, cwd, tty: true, prompter });
    const r = await promote(t.ctx, { to: 'champion' });
    expect(asked).toEqual([
      'select: Which model? [churn]',
      'select: Which version to promote of churn? [version 2 (v1.1.0) @staging | version 1 (v1.0.0)]',
      'confirm: Point churn @champion at version 1 (v1.0.0) (now nobody)?',
    ]);
    expect(r).toMatchObject({ version: '1', target: 'champion', promoted: true, changed: true });
    t.ctx.output(r, renderPromote);
    expect(t.stdout.text.replace(ANSI, '')).toContain('✓ @champion → version 1 (v1.0.0)');
    await t.ctx.close();

    for (const opts of [{ tty: true, globals: { yes: true } }, { tty: false }] as const) {
      const q = scripted({ confirm: [false] });
      const c = testContext({ connect, cwd, prompter: q.prompter, ...opts });
      expect(await promote(c.ctx, { name: 'churn', ref: '2', to: 'champion' })).toMatchObject({
        promoted: true,
        previous: '1',
      });
      expect(q.asked).toEqual([]);
      await promote(c.ctx, { name: 'churn', ref: '1', to: 'champion' });
      await c.ctx.close();
    }
    const s = scripted({ confirm: [false] });
    const staging = testContext({ connect, cwd, tty: true, prompter: s.prompter });
    expect(await promote(staging.ctx, { name: 'churn', ref: '1', to: 'staging' })).toMatchObject({
      promoted: true,
      previous: '2',
    });
    expect(s.asked).toEqual([]);
    await staging.ctx.close();
  });
});

describe('audit trail', () => {
  it('keeps the newest events and prunes the oldest beyond the limit', async () => {
    const { recordAudit, readAuditTrail } = await import('../../src/registry/audit.js');
    const client = (await connect()).client;
    try {
      let model = await client.createRegisteredModel({ name: 'audited' });
      for (let i = 1; i <= 5; i++) {
        await recordAudit(
          client,
          model,
          {
            action: 'promote',
            target: 'production',
            kind: 'alias',
            version: String(i),
            previous: i > 1 ? String(i - 1) : null,
            by: 'test',
            at: `2026-01-0${i}T00:00:00.000Z`,
          },
          { now: new Date(`2026-01-0${i}T00:00:00.000Z`), random: () => 0.5, keep: 3 },
        );
        model = await client.getRegisteredModel('audited');
      }
      const trail = readAuditTrail(model);
      expect(trail.map((e) => [e.key, e.version])).toEqual([
        ['mlv.audit.20260103T000000000Z.ssss', '3'],
        ['mlv.audit.20260104T000000000Z.ssss', '4'],
        ['mlv.audit.20260105T000000000Z.ssss', '5'],
      ]);
    } finally {
      await client.close();
    }
  });
});

describe('input errors (exit 2) before or instead of any change', () => {
  const model = (f: string) => path.join(repoRoot, 'fixtures/models', f);
  it.each([
    [
      'promote to prod/eu',
      () => ({ fn: 'promote', input: { name: 'churn', ref: '2', to: 'prod/eu' } }),
      '--to "prod/eu" is not a valid alias: only letters, digits, underscores (_) and dashes (-) are allowed',
    ],
    [
      'promote --from Latest',
      () => ({ fn: 'promote', input: { name: 'churn', ref: '2', to: 'production', from: 'Latest' } }),
      '--from "Latest" is not a valid alias',
    ],
    [
      'promote --require auc>>1',
      () => ({ fn: 'promote', input: { name: 'churn', ref: '2', to: 'production', require: ['auc>>1'] } }),
      '--require must look like METRIC OP NUMBER',
    ],
    [
      'promote --tolerance alone',
      () => ({ fn: 'promote', input: { name: 'churn', ref: '2', to: 'production', tolerance: '1%' } }),
      '--tolerance applies to --no-regression, which is missing',
    ],
    [
      'promote --archive-existing to an alias',
      () => ({ fn: 'promote', input: { name: 'churn', ref: '2', to: 'production', archiveExisting: true } }),
      '--archive-existing applies to --stage promotions',
    ],
    [
      'promote --archive-existing to stage Archived',
      () => ({
        fn: 'promote',
        input: { name: 'churn', ref: '2', to: 'archived', stage: true, archiveExisting: true, dryRun: true },
      }),
      '--archive-existing applies to --to Staging or Production, got --to Archived',
    ],
    [
      'promote to stage Prod',
      () => ({ fn: 'promote', input: { name: 'churn', ref: '2', to: 'Prod', stage: true } }),
      '--to (a stage) must be one of None, Staging, Production, Archived, got "Prod"',
    ],
    [
      'promote an unknown model',
      () => ({ fn: 'promote', input: { name: 'nope', ref: '1', to: 'staging' } }),
      'registered model "nope" does not exist',
    ],
    [
      'promote an unknown version',
      () => ({ fn: 'promote', input: { name: 'churn', ref: '9', to: 'staging' } }),
      'churn has no version 9',
    ],
    [
      'compare an unknown semver',
      () => ({ fn: 'compare', input: { name: 'churn', a: '1', b: 'v7.0.0' } }),
      'churn has no version with semver 7.0.0',
    ],
    [
      'compare an unset alias',
      () => ({ fn: 'compare', input: { name: 'churn', a: '1', b: '@nope' } }),
      'alias @nope is not set on churn',
    ],
    [
      'compare a bare word',
      () => ({ fn: 'compare', input: { name: 'churn', a: '1', b: 'production' } }),
      'B must be a version number (3), a semver (v1.2.0 or 1.2.0) or an alias (@production), got "production"',
    ],
    [
      'rollback alias Latest',
      () => ({ fn: 'rollback', input: { name: 'churn', alias: 'Latest' } }),
      '--alias "Latest" is not a valid alias',
    ],
    [
      'rollback an alias never set',
      () => ({ fn: 'rollback', input: { name: 'churn', alias: 'shadow' } }),
      'alias @shadow is not set on churn and its audit trail names no earlier holder',
    ],
    [
      'register a corrupt ONNX file',
      () => ({ fn: 'register', input: { path: model('corrupt.onnx'), name: 'churn', semver: '9.0.0' } }),
      'is not a valid ONNX model',
    ],
    [
      'register a missing file',
      () => ({ fn: 'register', input: { path: model('nope.onnx'), name: 'churn', semver: '9.0.0' } }),
      'does not exist',
    ],
    [
      'register a reserved --tag',
      () => ({
        fn: 'register',
        input: { path: model('classifier-v1.onnx'), name: 'churn', semver: '9.0.0', tags: { 'mlv.semver': '1' } },
      }),
      '--tag mlv.semver: the mlv. and mlflow. namespaces are reserved',
    ],
    [
      'register a missing --metrics-file',
      () => ({
        fn: 'register',
        input: { path: model('classifier-v1.onnx'), name: 'churn', semver: '9.0.0', metricsFile: 'nope.json' },
      }),
      '--metrics-file nope.json: no such file',
    ],
  ])('%s', async (_label, make, message) => {
    const { fn, input } = make() as { fn: string; input: any };
    const commands = {
      promote: (await import('../../src/commands/promote.js')).promote,
      compare: (await import('../../src/commands/compare.js')).compare,
      rollback: (await import('../../src/commands/rollback.js')).rollback,
      register: (await import('../../src/commands/register.js')).register,
    } as Record<string, (ctx: any, input: any) => Promise<unknown>>;
    const t = testContext({ connect, cwd });
    const client = await t.ctx.mlflow();
    const before = await client.getRegisteredModel('churn');
    const err = await commands[fn]!(t.ctx, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(message);
    expect((err as { exitCode?: number }).exitCode).toBe(2);
    const after = await client.getRegisteredModel('churn');
    expect(after.aliases).toEqual(before.aliases);
    expect(after.tags).toEqual(before.tags);
    expect(after.latest_versions.map((v) => v.version)).toEqual(before.latest_versions.map((v) => v.version));
    await t.ctx.close();
  });
});
