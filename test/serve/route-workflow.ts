import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssignResult } from '../../src/commands/assign.js';
import type { RouteView } from '../../src/commands/route.js';
import { assign, LOAD_ERROR_TAG, parseRoute } from '../../src/core/serve/route.js';
import { runMlv, tempDir, type CliResult } from '../helpers/cli.js';
import { fixture, registryState, spawnMlvServer, withRegistry, type SpawnedServer } from '../e2e/registry-helpers.js';

/**
 * `mlv route` and `mlv assign` end to end: the built bin/mlv.js, spawned, against `mlv server` in
 * its own process on a loopback port, or the embedded default registry in a temp MLV_HOME. The
 * steps depend on each other and run in order.
 */
export function defineRouteWorkflow(mode: 'server' | 'embedded', opts: { full: boolean }): void {
  describe(`mlv route and mlv assign against ${mode === 'server' ? '`mlv server`' : 'the embedded registry'}`, () => {
    let server: SpawnedServer | undefined;
    let home: string;
    let store: string;
    const units = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

    beforeAll(async () => {
      home = tempDir('mlv-route-e2e-');
      store = path.join(home, 'registry');
      writeFileSync(path.join(home, 'units.txt'), units.join('\n') + '\n');
      if (mode === 'server') server = await spawnMlvServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    const mlv = (args: string[], input?: string): Promise<CliResult> =>
      runMlv(mode === 'server' ? ['--tracking-uri', server!.url, ...args] : args, {
        cwd: home,
        env: mode === 'embedded' ? { MLV_HOME: store } : {},
        ...(input !== undefined ? { input } : {}),
      });
    const registry = <T>(fn: Parameters<typeof withRegistry<T>>[1]) =>
      withRegistry(mode === 'server' ? { url: server!.url } : { store }, fn);
    const ok = (r: CliResult) => {
      expect(r.stderr).not.toMatch(/^error:/m);
      expect(r.code).toBe(0);
      return r;
    };

    it('registers three versions; there is no route yet', async () => {
      ok(await mlv(['register', fixture('classifier-v1.onnx'), '--name', 'churn', '--semver', '1.0.0']));
      ok(
        await mlv([
          'register',
          fixture('classifier-v2.onnx'),
          '--name',
          'churn',
          '--semver',
          '1.1.0',
          '--alias',
          'production',
        ]),
      );
      ok(await mlv(['register', fixture('classifier-v2.onnx'), '--name', 'churn', '--semver', '1.2.0']));
      const shown = ok(await mlv(['--json', 'route', 'show', 'churn'])).json<RouteView>();
      expect(shown).toMatchObject({ model: 'churn', revision: 0, stable: null, candidate: null, variants: [] });
    });

    it('sets a canary with a shadow, resolving refs to versions', async () => {
      const r = ok(
        await mlv([
          '--json',
          'route',
          'set',
          'churn',
          '--stable',
          '@production',
          '--candidate',
          'v1.2.0',
          '--weight',
          '5',
          '--shadow',
          '1',
          '--shadow-percent',
          '10',
        ]),
      );
      const set = r.json<RouteView>();
      expect(set).toMatchObject({
        model: 'churn',
        revision: 1,
        experiment: 'churn',
        salt: 'churn',
        stable: { version: '2', ref: '@production' },
        candidate: { version: '3', ref: 'v1.2.0', weight: 5 },
        variants: [
          { name: 'stable', version: '2', ref: '@production', weight: 95 },
          { name: 'candidate', version: '3', ref: 'v1.2.0', weight: 5 },
        ],
        shadow: { version: '1', ref: '1', percent: 10 },
        semvers: { '1': '1.0.0', '2': '1.1.0', '3': '1.2.0' },
        load_errors: {},
      });
      expect(set.updated_by).toEqual(expect.any(String));
      expect(Date.parse(set.updated_at!)).not.toBeNaN();
      const shown = ok(await mlv(['--json', 'route', 'show', 'churn'])).json<RouteView>();
      const {
        dry_run: dryRun,
        previous_revision: previous,
        ...stored
      } = set as RouteView & {
        dry_run: boolean;
        previous_revision: number;
      };
      expect([dryRun, previous]).toEqual([false, 0]);
      expect(shown).toEqual(stored);
    });

    it('shows a table of arms, the shadow and the revision', async () => {
      const out = ok(await mlv(['route', 'show', 'churn'])).stdout;
      expect(out).toContain('route\tchurn revision 1');
      expect(out).toContain('variant\tversion\tsemver\tweight\tref\tslots');
      expect(out).toContain('stable\t2\tv1.1.0\t95%\t@production\tthe rest');
      expect(out).toContain('candidate\t3\tv1.2.0\t5%\tv1.2.0\t0–499');
      expect(out).toContain('(shadow)\t1\tv1.0.0\t10%\t1\tcopies');
    });

    it.runIf(opts.full)('ramps 5 → 25 → 50: mlv assign moves units only from stable to the candidate', async () => {
      let before = ok(await mlv(['--json', 'assign', 'churn', '--units', 'units.txt'])).json<AssignResult>();
      expect(before.assignments).toHaveLength(units.length);
      for (const [i, w] of [25, 50].entries()) {
        ok(
          await mlv([
            'route',
            'set',
            'churn',
            '--stable',
            '@production',
            '--candidate',
            'v1.2.0',
            '--weight',
            String(w),
            '--shadow',
            '1',
            '--shadow-percent',
            '10',
          ]),
        );
        const after = ok(await mlv(['--json', 'assign', 'churn', '--units', 'units.txt'])).json<AssignResult>();
        expect(after.revision).toBe(2 + i);
        const wrongWay = after.assignments.filter(
          (a, k) => a.variant === 'stable' && before.assignments[k]!.variant === 'candidate',
        );
        expect(wrongWay).toEqual([]);
        const inCandidate = after.assignments.filter((a) => a.variant === 'candidate').length;
        // ±4σ of Binomial(2000, w/100): scipy.stats.binom(2000, 0.25).std() = 19.36, (2000, 0.5) → 22.36
        expect(Math.abs(inCandidate - (units.length * w) / 100)).toBeLessThanOrEqual(
          4 * Math.sqrt(units.length * (w / 100) * (1 - w / 100)),
        );
        before = after;
      }
    });

    it.runIf(opts.full)('assign agrees with the route it read, from the registry, a route file and stdin', async () => {
      const shown = ok(await mlv(['--json', 'route', 'show', 'churn'])).json<RouteView>();
      const route = parseRoute(shown);
      writeFileSync(path.join(home, 'route.json'), JSON.stringify(shown));
      const some = units.slice(0, 50);
      const fromRegistry = ok(await mlv(['--json', 'assign', 'churn', ...some])).json<AssignResult>();
      const fromFile = ok(
        await mlv(['--json', 'assign', 'churn', '--route', 'route.json', '--units', '-'], some.join('\r\n')),
      ).json<AssignResult>();
      expect(fromFile.assignments).toEqual(fromRegistry.assignments);
      expect(fromFile.route_source).toBe('route.json');
      for (const a of fromRegistry.assignments) {
        const expected = assign(route, a.unit);
        expect(a).toMatchObject({ variant: expected.variant, version: expected.version, slot: expected.slot });
      }
      const piped = ok(await mlv(['assign', 'churn', 'user-0', 'user-1']))
        .stdout.trim()
        .split('\n');
      expect(piped[0]).toMatch(/^unit\tvariant\tversion\tbucket/);
      expect(piped).toHaveLength(3);
    });

    it('refuses bad routes with exit 2 and leaves the registry unchanged', async () => {
      const before = await registry((c) => registryState(c, 'churn'));
      const bad: [string[], RegExp][] = [
        [['--stable', '@nope'], /alias @nope is not set on churn/],
        [['--stable', '9'], /churn has no version 9/],
        [
          ['--stable', '1', '--candidate', '2', '--weight', '101'],
          /--weight must be a number 0–100 with at most 2 decimals, got "101"/,
        ],
        [['--stable', '1', '--candidate', '2'], /--candidate needs --weight/],
        [['--stable', '1', '--variant', 'a=2:60', '--variant', 'b=3:50'], /at most 100 in total, got 110/],
        [['--stable', '1', '--variant', 'a=2:60', '--variant', 'b=3:10'], /variants\["a"\]\.weight must be at most 50/],
        [['--stable', '1', '--expect-revision', '1'], /revision 3, expected 1/],
      ];
      for (const [args, message] of opts.full ? bad : bad.slice(0, 3)) {
        const r = await mlv(['route', 'set', 'churn', ...args]);
        expect(r.stderr).toMatch(message);
        expect(r.code, args.join(' ')).toBe(args.includes('--expect-revision') ? 3 : 2);
        expect(r.stdout).toBe('');
      }
      expect(await registry((c) => registryState(c, 'churn'))).toEqual(before);
    });

    it('keeps the resolved version when the alias moves, and shows load failures', async () => {
      await registry(async (c) => {
        await c.setRegisteredModelAlias('churn', 'production', '1');
        await c.setModelVersionTag(
          'churn',
          '3',
          LOAD_ERROR_TAG,
          JSON.stringify({ error: 'output 0 is NaN', at: '2026-12-01T12:00:00.000Z', host: 'pod-a' }),
        );
      });
      const shown = ok(await mlv(['--json', 'route', 'show', 'churn'])).json<RouteView>();
      expect(shown.stable).toEqual({ version: '2', ref: '@production' });
      expect(shown.load_errors).toEqual({
        '3': { error: 'output 0 is NaN', at: '2026-12-01T12:00:00.000Z', host: 'pod-a' },
      });
      expect(ok(await mlv(['route', 'show', 'churn'])).stdout).toContain(
        'version 3 failed to load on pod-a at 2026-12-01 12:00: output 0 is NaN',
      );
    });

    it('clears the route; the next one continues the revisions', async () => {
      const current = ok(await mlv(['--json', 'route', 'show', 'churn'])).json<RouteView>().revision;
      expect(current).toBe(opts.full ? 3 : 1);
      const cleared = ok(await mlv(['--json', 'route', 'clear', 'churn'])).json<{
        cleared: boolean;
        revision: number;
      }>();
      expect(cleared).toEqual({ model: 'churn', cleared: true, revision: current });
      expect(ok(await mlv(['--json', 'route', 'show', 'churn'])).json<RouteView>().stable).toBeNull();
      const none = await mlv(['assign', 'churn', 'u1']);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('churn has no route');
      const again = ok(
        await mlv(['--json', 'route', 'set', 'churn', '--stable', '1', '--variant', 'treatment=3:50']),
      ).json<RouteView>();
      expect(again.revision).toBe(current + 1);
      expect(again.variants).toEqual([
        { name: 'stable', version: '1', ref: '1', weight: 50 },
        { name: 'treatment', version: '3', ref: '3', weight: 50 },
      ]);
    });
  });
}
