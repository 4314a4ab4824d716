import { existsSync } from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../errors.js';
import { MlflowClient } from './client.js';
import { resolveClientConfig } from './config.js';
import { redactUri } from './redact.js';

export interface Connection {
  client: MlflowClient;
  /** Human description of the registry in use, secrets removed. */
  label: string;
  close(): Promise<void>;
}

/** The store used when no tracking URI is configured: $MLV_HOME, else ./.mlv. */
export function embeddedStoreDir(env: NodeJS.ProcessEnv, cwd: string): string {
  return path.resolve(cwd, env.MLV_HOME && env.MLV_HOME !== '' ? env.MLV_HOME : '.mlv');
}

/**
 * Connects to the registry this run should use: the tracking server named by --tracking-uri or
 * MLFLOW_TRACKING_URI, or the embedded registry, served in-process on a loopback port so that
 * every command speaks the same MLflow REST API to both.
 */
export async function connect(opts: {
  trackingUri: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  /** The command only reads: a missing embedded store is an error instead of being created. */
  readOnly?: boolean;
  /** Request log lines, secrets removed (e.g. ctx.debug under --verbose). */
  log?: (line: string) => void;
}): Promise<Connection> {
  const runtime = { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.log ? { log: opts.log } : {}) };
  const config = resolveClientConfig(opts.env, opts.trackingUri);
  if (config) {
    const client = new MlflowClient({ ...config, ...runtime });
    return {
      client,
      label: `MLflow tracking server ${redactUri(config.trackingUri)}`,
      close: () => client.close(),
    };
  }
  const storeDir = embeddedStoreDir(opts.env, opts.cwd);
  const shown = path.relative(opts.cwd, storeDir) || '.';
  if (opts.readOnly && !existsSync(storeDir)) {
    throw new NotFoundError(
      `no registry at ${shown.startsWith('..') || path.isAbsolute(shown) ? storeDir : `./${shown}`} (register a model first, or set MLFLOW_TRACKING_URI)`,
    );
  }
  // better-sqlite3 is native and heavy: load the server only when the embedded registry is used.
  const { startServer } = await import('../server/index.js');
  const server = await startServer({ storeDir, host: '127.0.0.1', port: 0 });
  const client = new MlflowClient({
    ...resolveClientConfig({ ...opts.env, MLFLOW_TRACKING_URI: server.url }, undefined)!,
    ...runtime,
  });
  return {
    client,
    label: `embedded registry ${shown} (set MLFLOW_TRACKING_URI to use an MLflow server)`,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}
