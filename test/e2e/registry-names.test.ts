import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { repoRoot, runMlv, tempDir } from '../helpers/cli.js';

/**
 * Model names with quotes, spaces and non-ASCII letters through every command that takes one,
 * against a real server on 127.0.0.1:0. MLflow's filter parser does not unescape inside a quoted
 * literal, so `name='o\'brien'` (what `mlv smoke models:/o'brien/latest` used to send) matched
 * nothing; src/registry/versions.ts nameFilter quotes such names as the parser reads them.
 */

const m = (f: string) => path.join(repoRoot, 'fixtures/models', f);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const FAST = ['--iterations', '2', '--warmup', '0', '--threads', '1', '--json'];

let server: RunningServer;
let home: string;

beforeAll(async () => {
  home = tempDir('mlv-names-home-');
  server = await startServer({ storeDir: tempDir('mlv-names-store-'), host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
});

const mlv = (args: string[]) => runMlv(args, { cwd: home, env: { MLFLOW_TRACKING_URI: server.url } });

async function ok(args: string[]): Promise<any> {
  const r = await mlv(['--json', ...args]);
  expect(r.code, `mlv ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.json();
}

describe.concurrent('hostile model names', () => {
  it.each([["o'brien"], [`  o'brien "the model" café Ünïcødé ñ `]])(
    '%s: register, show, compare, promote, rollback, smoke models:/…',
    async (name) => {
      const v1 = await ok(['register', m('classifier-v1.onnx'), '--name', name, '--semver', '1.0.0']);
      expect(v1).toMatchObject({ name: name.trim(), version: '1', created: true });
      const stored = v1.name as string;
      const again = await ok(['register', m('classifier-v1.onnx'), '--name', name, '--semver', '1.0.0']);
      expect(again).toMatchObject({ version: '1', created: false });
      expect(await ok(['register', m('classifier-v2.onnx'), '--name', name, '--bump', 'minor'])).toMatchObject({
        version: '2',
        semver: '1.1.0',
      });

      const shown = await ok(['show', stored]);
      expect(shown.versions.map((v: { version: string }) => v.version)).toEqual(['2', '1']);
      expect((await ok(['compare', stored, '1', 'v1.1.0'])).name).toBe(stored);

      expect(await ok(['promote', stored, '1', '--to', 'prod', '--yes'])).toMatchObject({
        changed: true,
        version: '1',
      });
      expect(await ok(['promote', stored, 'latest', '--to', 'prod', '--yes'])).toMatchObject({
        version: '2',
        previous: '1',
      });
      expect(await ok(['rollback', stored, '--alias', 'prod', '--yes'])).toMatchObject({ version: '1', previous: '2' });

      for (const [ref, file] of [
        [`models:/${stored}/latest`, 'classifier-v2.onnx'],
        [`models:/${stored}/@prod`, 'classifier-v1.onnx'],
      ] as const) {
        const r = await mlv(['smoke', ref, ...FAST]);
        expect(r.code, `${ref}\n${r.stderr}`).toBe(0);
        expect(r.json()).toMatchObject({ model: ref, sha256: sha(m(file)), passed: true });
      }
    },
    60_000,
  );
});
