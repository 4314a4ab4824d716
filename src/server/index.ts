/**
 * The embedded MLflow-compatible registry server: an MLflow REST API over a local store
 * (`<store>/mlv.db` SQLite metadata + `<store>/artifacts/` files). `mlv server` runs it in the
 * foreground; every mlv command without a tracking URI starts one in-process on a loopback port.
 * Behaviour follows fixtures/mlflow-reference (MLflow 2.17 / 3.6); see src/server/README.md for
 * where it deliberately differs.
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ArtifactStore } from './artifacts.js';
import { openDatabase, type Db } from './db.js';
import { InputError } from '../errors.js';
import { MlflowApiError } from './errors.js';
import { sendError, sendMethodNotAllowed, sendNotFound, sendText, type Method } from './http.js';
import { RegistryStore } from './registry.js';
import {
  artifactFileEndpoint,
  listArtifacts,
  routes,
  type Endpoint,
  type RequestContext,
  type Stores,
} from './routes.js';
import { isLoopbackAddress, RequestGuard } from './security.js';
import { Sql } from './sql.js';
import { TrackingStore } from './tracking.js';
import { mlvVersion, SERVER_VERSION } from './version.js';

export { MLFLOW_COMPAT_VERSION, SERVER_VERSION } from './version.js';
export { isLoopbackAddress } from './security.js';

export interface ServerOptions {
  storeDir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** One line per request (method, path, status, duration); omitted = silent. */
  log?: (line: string) => void;
  /** Extra Host-header names (globs like `*.corp.example`) accepted when bound to loopback. */
  allowedHosts?: string[];
  /** Clock in epoch ms (tests pass a strictly increasing one). */
  now?: () => number;
}

export interface RunningServer {
  /** `http://127.0.0.1:54321`, no trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const API_PREFIXES = ['/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/'];
const ARTIFACT_PREFIXES = ['/api/2.0/mlflow-artifacts/artifacts', '/ajax-api/2.0/mlflow-artifacts/artifacts'];
const DYNAMIC = Object.keys(routes)
  .filter((k) => k.includes(':'))
  .map((k) => ({ key: k, parts: k.split('/') }));

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The endpoints for a raw request path, with decoded dynamic segments; undefined = unknown. */
function resolve(rawPath: string): { methods: Partial<Record<Method, Endpoint>>; params: string[] } | undefined {
  for (const prefix of ARTIFACT_PREFIXES) {
    if (rawPath === prefix) return { methods: { GET: listArtifacts }, params: [] };
    if (rawPath.startsWith(prefix + '/') && rawPath.length > prefix.length + 1) {
      return { methods: artifactFileEndpoint(rawPath.slice(prefix.length + 1)), params: [] };
    }
  }
  for (const prefix of API_PREFIXES) {
    if (!rawPath.startsWith(prefix)) continue;
    const rest = rawPath.slice(prefix.length);
    const direct = routes[rest];
    if (direct) return { methods: direct, params: [] };
    const parts = rest.split('/');
    for (const d of DYNAMIC) {
      if (d.parts.length !== parts.length) continue;
      const params: string[] = [];
      if (
        d.parts.every((p, i) =>
          p.startsWith(':') ? (params.push(decodeSegment(parts[i]!)), parts[i] !== '') : p === parts[i],
        )
      ) {
        return { methods: routes[d.key]!, params };
      }
    }
  }
  return undefined;
}

function internalError(err: unknown): MlflowApiError {
  const code = (err as { code?: string }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new MlflowApiError('TEMPORARILY_UNAVAILABLE', 'The store is locked by another process; retry the request.');
  }
  return new MlflowApiError('INTERNAL_ERROR', err instanceof Error ? err.message : String(err));
}

/** Store paths and files that cannot be opened: not a bug of mlv, but a wrong MLV_HOME / --store (exit 2). */
const STORE_CODES = new Set([
  'EEXIST',
  'ENOTDIR',
  'EISDIR',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOENT',
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
  'SQLITE_CORRUPT',
  'SQLITE_PERM',
]);

function storeError(err: unknown, storeDir: string): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !STORE_CODES.has(code)) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new InputError(`cannot open the registry store ${storeDir}: ${why}`, {
    code: 'MLV_STORE',
    hint: 'point MLV_HOME (or mlv server --store) at a writable directory',
  });
}

/**
 * Opens (creating if needed) the store and serves it. Fast: one SQLite open and schema check,
 * statements are prepared on first use.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const storeDir = path.resolve(opts.storeDir);
  const now = opts.now ?? Date.now;
  let db: Db;
  try {
    await mkdir(storeDir, { recursive: true });
    db = openDatabase(path.join(storeDir, 'mlv.db'), now);
  } catch (err) {
    throw storeError(err, storeDir);
  }
  let artifacts: ArtifactStore;
  try {
    artifacts = await ArtifactStore.open(path.join(storeDir, 'artifacts'));
  } catch (err) {
    db.close();
    throw storeError(err, storeDir);
  }
  const sql = new Sql(db, now);
  const tracking = new TrackingStore(sql);
  const stores: Stores = { tracking, registry: new RegistryStore(sql, tracking), artifacts };
  const guard = new RequestGuard(isLoopbackAddress(opts.host), opts.allowedHosts);
  const log = opts.log;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const method = (req.method ?? 'GET').toUpperCase();
    res.setHeader('X-Mlv-Server', mlvVersion);
    if (log) {
      res.on('finish', () =>
        log(`${method} ${rawPath} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`),
      );
    }
    try {
      const refused = guard.check(method, rawPath, { host: req.headers.host, origin: req.headers.origin });
      if (refused) return sendText(res, 403, 'text/plain', refused);

      if (rawPath === '/health' || rawPath === '/version') {
        if (method !== 'GET' && method !== 'HEAD') return sendMethodNotAllowed(res, ['GET']);
        return sendText(res, 200, 'text/html; charset=utf-8', rawPath === '/health' ? 'OK' : SERVER_VERSION);
      }
      const route = resolve(rawPath);
      if (!route) return sendNotFound(res);
      const allowed = Object.keys(route.methods);
      if (method === 'OPTIONS') {
        res.writeHead(200, { Allow: [...allowed, 'HEAD', 'OPTIONS'].join(', '), 'Content-Length': 0 });
        return void res.end();
      }
      const endpoint = route.methods[(method === 'HEAD' ? 'GET' : method) as Method];
      if (!endpoint) return sendMethodNotAllowed(res, allowed);
      await endpoint({
        req,
        res,
        method: (method === 'HEAD' ? 'GET' : method) as Method,
        query,
        pathParams: route.params,
        stores,
      } satisfies RequestContext);
    } catch (err) {
      if (res.headersSent) {
        res.destroy(err instanceof Error ? err : undefined);
        return;
      }
      const apiError = err instanceof MlflowApiError ? err : internalError(err);
      if (!(err instanceof MlflowApiError)) log?.(`error: ${String(err instanceof Error ? err.stack : err)}`);
      sendError(res, apiError);
    }
  };

  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 5_000 }, (req, res) => {
    void handle(req, res);
  });

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
  } catch (err) {
    db.close();
    throw err;
  }

  const address = server.address() as AddressInfo;
  const hostForUrl =
    address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${address.port}`,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        // Let requests in flight finish; drop idle keep-alive sockets now, the rest after 1.5 s
        // (the CLI exits 2 s after Ctrl-C whatever happens).
        const force = setTimeout(() => server.closeAllConnections(), 1_500);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          db.close();
          resolveClose();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
