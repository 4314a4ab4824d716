import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MlflowClient } from '../../src/mlflow/client.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import { mlvBin, repoRoot, tempDir } from '../helpers/cli.js';

export const fixture = (f: string) => path.join(repoRoot, 'fixtures/models', f);

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export interface SpawnedServer {
  url: string;
  store: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `mlv server --port 0` as its own process and reads its URL from the `--json` line. */
export async function spawnMlvServer(store = path.join(tempDir('mlv-e2e-server-'), 'store')): Promise<SpawnedServer> {
  const child = spawn(
    process.execPath,
    [mlvBin, '--json', 'server', '--host', '127.0.0.1', '--port', '0', '--store', store],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', MLFLOW_TRACKING_URI: '' },
    },
  );
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`mlv server did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.on('exit', (code) => reject(new Error(`mlv server exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    store,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function clientFor(url: string): MlflowClient {
  return new MlflowClient(
    resolveClientConfig({ MLFLOW_TRACKING_URI: url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }, undefined)!,
  );
}

/**
 * Reads the registry behind `mode`: the spawned server over HTTP, or the embedded store (served
 * in-process for the duration of `fn`, as a second process would; the store is SQLite in WAL mode).
 */
export async function withRegistry<T>(
  target: { url: string } | { store: string },
  fn: (client: MlflowClient) => Promise<T>,
): Promise<T> {
  if ('url' in target) {
    const client = clientFor(target.url);
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  }
  const { startServer } = await import('../../src/server/index.js');
  const server = await startServer({ storeDir: target.store, host: '127.0.0.1', port: 0 });
  const client = clientFor(server.url);
  try {
    return await fn(client);
  } finally {
    await client.close();
    await server.close();
  }
}

/** The registry state the tests compare before and after a refused command. */
export async function registryState(client: MlflowClient, name: string) {
  const model = await client.getRegisteredModel(name);
  const versions: { version: string; stage: string; tags: Record<string, string> }[] = [];
  for await (const mv of client.iterateModelVersions({ filter: `name='${name}'` })) {
    versions.push({
      version: mv.version,
      stage: mv.current_stage,
      tags: Object.fromEntries(mv.tags.map((t) => [t.key, t.value])),
    });
  }
  versions.sort((a, b) => Number(a.version) - Number(b.version));
  return {
    aliases: Object.fromEntries(model.aliases.map((a) => [a.alias, a.version])),
    tags: Object.fromEntries(model.tags.map((t) => [t.key, t.value])),
    versions,
  };
}
