import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisterResult } from '../../src/commands/register.js';
import { runMlv, tempDir } from '../helpers/cli.js';
import { clientFor, fixture, sha256, spawnMlvServer, type SpawnedServer } from './registry-helpers.js';

/**
 * Two CI jobs registering at the same moment: semvers stay unique per model whatever the
 * interleaving, and an identical artifact is registered once.
 */
describe('concurrent mlv register of one semver', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnMlvServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const register = (file: string, name: string) =>
    runMlv(['--json', '--tracking-uri', server.url, 'register', file, '--name', name, '--semver', '1.0.0'], {
      cwd: tempDir(),
    });

  async function versionsOf(name: string) {
    const client = clientFor(server.url);
    try {
      const out: { version: string; semver: string | undefined; sha: string | undefined }[] = [];
      for await (const v of client.iterateModelVersions({ filter: `name='${name}'` })) {
        const tag = (k: string) => v.tags.find((t) => t.key === k)?.value;
        out.push({ version: v.version, semver: tag('mlv.semver'), sha: tag('mlv.sha256') });
      }
      return out;
    } finally {
      await client.close();
    }
  }

  it('the same artifact twice: one version, both succeed', async () => {
    const [a, b] = await Promise.all([
      register(fixture('classifier-v1.onnx'), 'race-same'),
      register(fixture('classifier-v1.onnx'), 'race-same'),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const results = [a.json<RegisterResult>(), b.json<RegisterResult>()];
    expect(results[0]!.version).toBe(results[1]!.version);
    // At most one of them created it (both may see "created: false" only if neither did, which cannot be).
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const versions = await versionsOf('race-same');
    expect(versions.map((v) => [v.semver, v.sha])).toEqual([['1.0.0', sha256(fixture('classifier-v1.onnx'))]]);
  });

  it('different artifacts under one semver: exactly one wins, the other exits 2', async () => {
    const [a, b] = await Promise.all([
      register(fixture('classifier-v1.onnx'), 'race-diff'),
      register(fixture('classifier-v2.onnx'), 'race-diff'),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 2]);
    const loser = a.code === 2 ? a : b;
    expect(loser.stderr).toMatch(
      /error: semver 1\.0\.0 (is already registered for race-diff|was registered for race-diff as version \d+ by another process)/,
    );
    const versions = await versionsOf('race-diff');
    expect(versions).toHaveLength(1);
    expect(versions[0]!.sha).toBe((a.code === 0 ? a : b).json<RegisterResult>().sha256);
  });
});
