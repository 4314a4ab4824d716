import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareResult } from '../../src/commands/compare.js';
import type { PromoteResult } from '../../src/commands/promote.js';
import type { RegisterResult } from '../../src/commands/register.js';
import type { ShowModelResult } from '../../src/commands/show.js';
import { runMlv, tempDir, type CliResult } from '../helpers/cli.js';
import {
  fixture,
  registryState,
  sha256,
  spawnMlvServer,
  withRegistry,
  type SpawnedServer,
} from './registry-helpers.js';

/**
 * The registry workflow end to end: the built `bin/mlv.js`, spawned, against (1) `mlv server` in
 * its own process on a loopback port and (2) the embedded default registry in a temp MLV_HOME.
 * The steps depend on each other and run in order.
 */

const V1 = fixture('classifier-v1.onnx');
const V2 = fixture('classifier-v2.onnx');

export type Mode = 'server' | 'embedded';

/**
 * Defines the workflow for one mode. Each mode has its own test file so that vitest runs them in
 * parallel; checks that do not depend on the registry kind run in the server file only (`full`).
 */
export function defineWorkflow(mode: Mode, opts: { full: boolean }): void {
  describe(`registry workflow against ${mode === 'server' ? '`mlv server` on a loopback port' : 'the embedded registry in MLV_HOME'}`, () => {
    let server: SpawnedServer | undefined;
    let home: string;
    let store: string;

    beforeAll(async () => {
      home = tempDir('mlv-e2e-home-');
      store = path.join(home, 'registry');
      writeFileSync(path.join(home, 'requirements.txt'), 'numpy==1.26.4\nonnxruntime==1.18.0\n');
      if (mode === 'server') server = await spawnMlvServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    const mlv = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
      runMlv(mode === 'server' ? ['--tracking-uri', server!.url, ...args] : args, {
        cwd: home,
        env: { ...(mode === 'embedded' ? { MLV_HOME: store } : {}), ...env },
      });
    const registry = <T>(fn: Parameters<typeof withRegistry<T>>[1]) =>
      withRegistry(mode === 'server' ? { url: server!.url } : { store }, fn);
    const state = () => registry((c) => registryState(c, 'churn'));

    it('registers a first version with metrics, params, tags and provenance', async () => {
      const r = await mlv([
        '--json',
        'register',
        V1,
        '--name',
        'churn',
        '--semver',
        '1.0.0',
        '--metric',
        'auc=0.86',
        '--metric',
        'latency_ms=12',
        '--param',
        'lr=0.1',
        '--param',
        'depth=3',
        '--tag',
        'team=ml',
        '--training-data',
        's3://data/churn/2026-01.parquet',
        '--description',
        'first',
      ]);
      expect(r.stderr).toMatch(
        mode === 'server'
          ? /using MLflow tracking server http:\/\/127\.0\.0\.1:\d+/
          : /using embedded registry registry/,
      );
      expect(r.code).toBe(0);
      const out = r.json<RegisterResult>();
      expect(out).toMatchObject({
        name: 'churn',
        version: '1',
        semver: '1.0.0',
        sha256: sha256(V1),
        status: 'READY',
        uri: 'models:/churn/1',
        created: true,
      });
      expect(Object.keys(out)).toEqual(
        expect.arrayContaining(['name', 'version', 'semver', 'run_id', 'sha256', 'status', 'uri', 'created']),
      );
      expect(out.run_id).toMatch(/^[0-9a-f]{32}$/);
      expect(out.source).toBe(`mlflow-artifacts:/${out.experiment_id}/${out.run_id}/artifacts/model`);
      // The embedded server speaks MLflow 3.x: the version is linked to a LoggedModel of the run.
      expect(out.model_id).toMatch(/^m-[0-9a-f]{32}$/);

      await registry(async (c) => {
        const mv = await c.getModelVersion('churn', '1');
        const tags = Object.fromEntries(mv.tags.map((t) => [t.key, t.value]));
        expect(tags).toMatchObject({
          'mlv.semver': '1.0.0',
          'mlv.sha256': sha256(V1),
          'mlv.artifact': 'onnx',
          'mlv.framework': 'onnx',
          'mlv.training_data': 's3://data/churn/2026-01.parquet',
          'mlv.dependencies': '{"numpy":"==1.26.4","onnxruntime":"==1.18.0"}',
          'mlv.dependencies.source': 'requirements.txt',
          'mlv.onnx.opset': 'ai.onnx=17',
          team: 'ml',
        });
        expect(tags['mlv.created_by']).toMatch(/^ci:/); // runMlv sets CI=true
        expect(mv.description).toBe('first');
        const run = await c.getRun(out.run_id);
        expect(run.info.status).toBe('FINISHED');
        expect(run.data.metrics.map((m) => [m.key, m.value]).sort()).toEqual([
          ['auc', 0.86],
          ['latency_ms', 12],
        ]);
        expect(run.data.params).toEqual(
          expect.arrayContaining([
            { key: 'lr', value: '0.1' },
            { key: 'depth', value: '3' },
          ]),
        );
        const files = (await c.listArtifacts(`${out.source}`)).map((f) => f.path).sort();
        expect(files).toEqual(['MLmodel', 'conda.yaml', 'model.onnx', 'python_env.yaml', 'requirements.txt']);
        const dl = path.join(tempDir(), 'MLmodel');
        await c.downloadFile(`${out.source}/MLmodel`, dl);
        const { readFileSync } = await import('node:fs');
        const mlmodel = readFileSync(dl, 'utf8');
        expect(mlmodel).toContain('    loader_module: mlflow.onnx\n');
        expect(mlmodel).toContain(`run_id: ${out.run_id}\n`);
        expect(mlmodel).toContain(
          `  inputs: '[{"name": "features", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'`,
        );
      });
    });

    it('--bump minor computes 1.1.0 from the highest registered semver', async () => {
      const r = await mlv([
        '--json',
        'register',
        V2,
        '--name',
        'churn',
        '--bump',
        'minor',
        '--metric',
        'auc=0.91',
        '--metric',
        'latency_ms=11',
        '--param',
        'lr=0.05',
        '--param',
        'depth=3',
        '--alias',
        'candidate',
      ]);
      expect(r.code).toBe(0);
      expect(r.json<RegisterResult>()).toMatchObject({
        version: '2',
        semver: '1.1.0',
        created: true,
        aliases: ['candidate'],
      });
    });

    it('re-registering the same artifact and semver returns the existing version (created: false)', async () => {
      const before = await state();
      const again = await mlv([
        '--json',
        'register',
        V2,
        '--name',
        'churn',
        '--semver',
        '1.1.0',
        '--metric',
        'auc=0.91',
      ]);
      expect(again.code).toBe(0);
      const out = again.json<RegisterResult>();
      expect(out).toMatchObject({ version: '2', semver: '1.1.0', created: false, sha256: sha256(V2) });
      // --bump of the artifact the highest version already holds is a retry too, not a new version.
      const bumped = await mlv(['--json', 'register', V2, '--name', 'churn', '--bump', 'patch']);
      expect(bumped.code).toBe(0);
      expect(bumped.json<RegisterResult>()).toMatchObject({ version: '2', created: false });
      expect(bumped.stderr).toContain('already holds this exact artifact; not bumping again');
      expect(await state()).toEqual(before);
    });

    // Read-only checks, independent of each other: run at the same time.
    it.concurrent.for<[string[], string, string]>([
      [['--semver', '0.9.0'], V1, 'error: semver 0.9.0 is not higher than the latest registered 1.1.0 of churn'],
      [
        ['--semver', '1.1.0'],
        V1,
        'error: semver 1.1.0 is already registered for churn as version 2 with a different artifact',
      ],
      [
        ['--semver', '1.2'],
        V1,
        'error: --semver must be a semantic version X.Y.Z (e.g. 1.2.0 or 1.2.0-rc.1), got "1.2"',
      ],
      ...(opts.full
        ? ([
            [
              ['--semver', '1.2.0', '--bump', 'minor'],
              V1,
              "error: option '--semver <x.y.z>' cannot be used with option '--bump <part>'",
            ],
            [['--semver', '1.2.0', '--alias', 'latest'], V1, 'error: --alias "latest" is not a valid alias'],
          ] as [string[], string, string][])
        : []),
    ])('refuses %j for %s (exit 2, nothing registered)', async ([flags, file, message], { expect }) => {
      const before = await state();
      const r = await mlv(['register', file, '--name', 'churn', ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe('');
      expect(await state()).toEqual(before);
    });

    it('show lists the versions with semver, aliases, stage, status and metrics', async () => {
      const r = await mlv(['--json', 'show', 'churn']);
      expect(r.code).toBe(0);
      const out = r.json<ShowModelResult>();
      expect(out.name).toBe('churn');
      expect(out.aliases).toEqual({ candidate: '2' });
      expect(out.versions.map((v) => [v.version, v.semver, v.aliases, v.stage, v.status, v.metrics])).toEqual([
        ['2', '1.1.0', ['candidate'], 'None', 'READY', { auc: 0.91, latency_ms: 11 }],
        ['1', '1.0.0', [], 'None', 'READY', { auc: 0.86, latency_ms: 12 }],
      ]);
      expect(out.versions[0]!.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);

      const piped = await mlv(['show', 'churn']);
      expect(piped.stdout.split('\n')[0]).toBe('version\tsemver\taliases\tstage\tstatus\tauc\tlatency_ms\tcreated');
      expect(piped.stdout.split('\n')[1]).toMatch(
        /^2\tv1\.1\.0\t@candidate\t-\tREADY\t0\.91\t11\t\d{4}-\d\d-\d\d \d\d:\d\d$/,
      );

      const models = await mlv(['--json', 'show']);
      expect(models.json()).toMatchObject({
        models: [{ name: 'churn', latest_version: '2', latest_semver: '1.1.0', aliases: { candidate: '2' } }],
      });
    });

    it('promote without gates sets the alias and records the audit trail', async () => {
      const r = await mlv(['--json', 'promote', 'churn', 'v1.0.0', '--to', 'production']);
      expect(r.code).toBe(0);
      const out = r.json<PromoteResult>();
      expect(out).toMatchObject({
        name: 'churn',
        version: '1',
        target: 'production',
        previous: null,
        promoted: true,
        dry_run: false,
        changed: true,
      });
      expect(out.checks).toEqual([{ name: 'status READY', passed: true, detail: 'version 1 is READY' }]);
      const s = await state();
      expect(s.aliases).toEqual({ candidate: '2', production: '1' });
      const audit = Object.entries(s.tags).filter(([k]) => k.startsWith('mlv.audit.'));
      expect(audit).toHaveLength(1);
      expect(audit[0]![0]).toBe(out.audit_key);
      expect(JSON.parse(audit[0]![1])).toMatchObject({
        action: 'promote',
        target: 'production',
        kind: 'alias',
        version: '1',
        previous: null,
        semver: '1.0.0',
      });
    });

    it.each([
      ['a version and a semver', ['1', 'v1.1.0']],
      ['a semver without v and an alias', ['1.0.0', '@candidate']],
    ])('compare by %s', async (_label, refs) => {
      const r = await mlv(['--json', 'compare', 'churn', ...refs]);
      expect(r.code).toBe(0);
      const out = r.json<CompareResult>();
      expect(out.name).toBe('churn');
      expect(out.a).toMatchObject({ version: '1', semver: '1.0.0' });
      expect(out.b).toMatchObject({ version: '2', semver: '1.1.0' });
      expect(out.metrics).toEqual([
        { key: 'auc', a: 0.86, b: 0.91, delta: 0.05, relative: 0.0581395348837 },
        { key: 'latency_ms', a: 12, b: 11, delta: -1, relative: -0.0833333333333 },
      ]);
      expect(out.params).toEqual([{ key: 'lr', a: '0.1', b: '0.05' }]);
    });

    it('compare --md prints Markdown tables; --all lists unchanged params', async () => {
      const md = await mlv(['compare', 'churn', '@production', '@candidate', '--md']);
      expect(md.code).toBe(0);
      const lines = md.stdout.split('\n');
      expect(lines[0]).toBe('### churn: version 1 (v1.0.0) @production → version 2 (v1.1.0) @candidate');
      expect(lines).toContain('| metric | A: v1.0.0 (1) | B: v1.1.0 (2) | Δ | Δ % |');
      expect(lines).toContain('| `auc` | 0.86 | 0.91 | +0.05 | +5.81% |');
      expect(lines).toContain('| `latency_ms` | 12 | 11 | -1 | -8.33% |');
      expect(lines).toContain('| `lr` | 0.1 | 0.05 |');
      const all = await mlv(['--json', 'compare', 'churn', '1', '2', '--all']);
      expect(all.json<CompareResult>().params).toEqual([
        { key: 'depth', a: '3', b: '3' },
        { key: 'lr', a: '0.1', b: '0.05' },
      ]);
    });

    it('a failing gate prints the checklist, exits 1 and changes nothing', async () => {
      const before = await state();
      const r = await mlv([
        '--json',
        'promote',
        'churn',
        '@candidate',
        '--to',
        'production',
        '--require',
        'auc>=0.95',
        '--no-regression',
        'auc',
        '--require-tag',
        'reviewed=yes',
      ]);
      expect(r.stderr).not.toContain('internal error');
      expect(r.code).toBe(1);
      const out = r.json<PromoteResult>();
      expect(out).toMatchObject({
        version: '2',
        target: 'production',
        previous: '1',
        promoted: false,
        dry_run: false,
        changed: false,
      });
      expect(out.checks).toEqual([
        { name: 'status READY', passed: true, detail: 'version 2 is READY' },
        { name: 'auc>=0.95', passed: false, detail: 'auc = 0.91' },
        {
          name: 'no regression in auc (higher is better)',
          passed: true,
          detail: '0.91 vs 0.86 (version 1; limit ≥ 0.86)',
        },
        { name: 'tag reviewed=yes', passed: false, detail: 'tag reviewed is not set on version 2' },
      ]);
      expect(r.stderr).toContain('error: churn version 2 (v1.1.0) not promoted: auc>=0.95, tag reviewed=yes');
      expect(await state()).toEqual(before);

      const human = await mlv([
        'promote',
        'churn',
        '2',
        '--to',
        'production',
        '--no-regression',
        'latency_ms',
        '--from',
        'staging',
      ]);
      expect(human.code).toBe(1);
      expect(human.stdout).toContain('✗ from @staging');
      expect(human.stdout).toContain('✗ no regression in latency_ms (higher is better)');
      expect(human.stdout).toContain('not promoted: 2 gates failed — nothing changed');
      expect(await state()).toEqual(before);
    });

    it('--dry-run evaluates the gates and changes nothing', async () => {
      const before = await state();
      const r = await mlv([
        '--json',
        'promote',
        'churn',
        '2',
        '--to',
        'production',
        '--require',
        'auc>=0.88',
        '--dry-run',
      ]);
      expect(r.code).toBe(0);
      expect(r.json<PromoteResult>()).toMatchObject({
        version: '2',
        previous: '1',
        promoted: false,
        dry_run: true,
        changed: false,
      });
      expect(await state()).toEqual(before);
    });

    it('passing gates promote, with the previous holder in the audit trail', async () => {
      const r = await mlv([
        '--json',
        'promote',
        'churn',
        '@candidate',
        '--to',
        'production',
        '--from',
        'candidate',
        '--require',
        'auc>=0.88',
        '--no-regression',
        'auc',
        '--no-regression',
        'latency_ms:lower',
        '--tolerance',
        '1%',
      ]);
      expect(r.code).toBe(0);
      const out = r.json<PromoteResult>();
      expect(out).toMatchObject({ version: '2', previous: '1', promoted: true, changed: true });
      expect(out.checks.map((c) => [c.name, c.passed])).toEqual([
        ['status READY', true],
        ['from @candidate', true],
        ['auc>=0.88', true],
        ['no regression in auc (higher is better)', true],
        ['no regression in latency_ms (lower is better)', true],
      ]);
      expect((await state()).aliases).toEqual({ candidate: '2', production: '2' });
      // Promoting again is a no-op that succeeds.
      const again = await mlv(['--json', 'promote', 'churn', '2', '--to', 'production']);
      expect(again.code).toBe(0);
      expect(again.json<PromoteResult>()).toMatchObject({ promoted: true, changed: false, previous: '2' });
    });

    if (opts.full) {
      it('--smoke runs mlv smoke on the candidate as one more gate', async () => {
        const ok = await mlv([
          '--json',
          'promote',
          'churn',
          '2',
          '--to',
          'champion',
          '--smoke',
          '--max-p99-ms',
          '10000',
        ]);
        expect(ok.code).toBe(0);
        const out = ok.json<PromoteResult>();
        expect(out.checks.map((c) => [c.name, c.passed])).toEqual([
          ['status READY', true],
          ['smoke test', true],
        ]);
        expect(out.checks[1]!.detail).toMatch(/^\d+ checks passed \(p99 [\d.e-]+ ms, \d+ rows\/s\)$/);
        const before = await state();
        const no = await mlv([
          '--json',
          'promote',
          'churn',
          '1',
          '--to',
          'champion',
          '--smoke',
          '--min-throughput',
          '1e12',
          '--min-agreement',
          '0.5',
        ]);
        expect(no.code).toBe(1);
        const failed = no.json<PromoteResult>().checks[1]!;
        expect(failed).toMatchObject({ name: 'smoke test', passed: false });
        expect(failed.detail).toMatch(/^failed: min-throughput/);
        expect(await state()).toEqual(before);
      });
    }

    it('rollback returns the alias to its previous holder, then has nowhere further to go', async () => {
      const r = await mlv(['--json', 'rollback', 'churn', '--alias', 'production']);
      expect(r.code).toBe(0);
      expect(r.json<PromoteResult>()).toMatchObject({
        name: 'churn',
        version: '1',
        target: 'production',
        previous: '2',
        promoted: true,
        dry_run: false,
      });
      const s = await state();
      expect(s.aliases.production).toBe('1');
      const events = Object.entries(s.tags)
        .filter(([k]) => k.startsWith('mlv.audit.'))
        .sort()
        .map(([, v]) => JSON.parse(v) as { action: string; target: string; version: string; previous: string | null })
        .filter((e) => e.target === 'production');
      expect(events.map((e) => [e.action, e.version, e.previous])).toEqual([
        ['promote', '1', null],
        ['promote', '2', '1'],
        ['rollback', '1', '2'],
      ]);

      const further = await mlv(['rollback', 'churn', '--alias', 'production']);
      expect(further.code).toBe(2);
      expect(further.stderr).toContain(
        'error: the audit trail of churn names no version that held @production before version 1',
      );

      const to = await mlv(['--json', 'rollback', 'churn', '--alias', 'production', '--to', 'v1.1.0', '--dry-run']);
      expect(to.code).toBe(0);
      expect(to.json<PromoteResult>()).toMatchObject({ version: '2', previous: '1', dry_run: true, promoted: false });
      expect((await state()).aliases.production).toBe('1');
    });

    it('legacy stages with --archive-existing', async () => {
      expect((await mlv(['promote', 'churn', '1', '--to', 'production', '--stage'])).code).toBe(0);
      const r = await mlv(['--json', 'promote', 'churn', '2', '--to', 'Production', '--stage', '--archive-existing']);
      expect(r.code).toBe(0);
      expect(r.json<PromoteResult>()).toMatchObject({
        version: '2',
        target: 'Production',
        target_kind: 'stage',
        previous: '1',
        archived: ['1'],
      });
      expect((await state()).versions.map((v) => [v.version, v.stage])).toEqual([
        ['1', 'Archived'],
        ['2', 'Production'],
      ]);
    });

    // Read-only checks, independent of each other: run at the same time.
    it.concurrent.for<[string[], string]>([
      [
        ['promote', 'churn', '2', '--to', 'latest'],
        'error: --to "latest" is not a valid alias: "latest" (in any case) is reserved by MLflow',
      ],
      [['show', 'nope'], 'error: registered model "nope" does not exist'],
      ...(opts.full
        ? ([
            [
              ['promote', 'churn', '2', '--to', 'v3'],
              'error: --to "v3" is not a valid alias: "v<number>" aliases are reserved by MLflow for version numbers',
            ],
          ] as [string[], string][])
        : []),
    ])('%j → exit 2', async ([args, message], { expect }) => {
      const before = await state();
      const r = await mlv(args);
      expect(r.stderr).toContain(message);
      expect(r.code).toBe(2);
      expect(await state()).toEqual(before);
    });
  });
}

export function defineUnreachable(): void {
  describe('against an unreachable server', () => {
    const dead = 'http://127.0.0.1:9'; // discard port: nothing listens there
    const env = { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', MLFLOW_HTTP_REQUEST_TIMEOUT: '5' };

    // Read-only checks, independent of each other: run at the same time.
    it.concurrent.for<[string[]]>([
      [['show', 'churn']],
      [['register', V1, '--name', 'churn', '--semver', '1.0.0']],
      [['promote', 'churn', '1', '--to', 'production']],
    ])('%j → exit 3', async ([args], { expect }) => {
      const r = await runMlv(['--tracking-uri', dead, ...args], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^error: .*127\.0\.0\.1:9/m);
    });

    it('checks alias names and gates before any request (exit 2, not 3)', async () => {
      const r = await runMlv(['--tracking-uri', dead, 'promote', 'churn', '1', '--to', 'latest'], { env });
      expect(r.code).toBe(2);
      const g = await runMlv(
        ['--tracking-uri', dead, 'promote', 'churn', '1', '--to', 'production', '--no-regression', 'auc:sideways'],
        { env },
      );
      expect(g.code).toBe(2);
      expect(g.stderr).toContain('error: --no-regression must be METRIC or METRIC:lower');
    });
  });
}
