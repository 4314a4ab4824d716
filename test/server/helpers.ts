import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';

export interface Reply {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: Buffer;
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: any;
}

export interface TestServer {
  url: string;
  port: number;
  dir: string;
  server: RunningServer;
  /** A request with the path sent exactly as given (no URL normalisation of `..`). */
  raw(
    method: string,
    pathAndQuery: string,
    opts?: { body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<Reply>;
  /** JSON call: GET sends `params` as a query string, other methods as a JSON body. */
  call(method: string, endpoint: string, params?: Record<string, unknown>): Promise<Reply>;
  close(): Promise<void>;
}

export function tempStore(prefix = 'mlv-server-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A strictly increasing clock: every read is 1 ms after the previous one. */
export function steppingClock(start = 1_800_000_000_000): () => number {
  let t = start;
  return () => ++t;
}

export function rawRequest(
  baseUrl: string,
  method: string,
  pathAndQuery: string,
  opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    // Node sends a DELETE body without a length unless told; real clients always send one.
    if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = request({ host: hostname, port, method, path: pathAndQuery, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        let json: unknown;
        if ((res.headers['content-type'] ?? '').startsWith('application/json')) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          headers: res.headers,
          text,
          body,
          json,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

export function queryString(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) q.append(k, String(item));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export async function startTestServer(opts: Partial<ServerOptions> & { dir?: string } = {}): Promise<TestServer> {
  const dir = opts.dir ?? tempStore();
  const server = await startServer({ storeDir: dir, host: '127.0.0.1', port: 0, ...opts });
  const raw: TestServer['raw'] = (method, p, o) => rawRequest(server.url, method, p, o);
  return {
    url: server.url,
    port: server.port,
    dir,
    server,
    raw,
    call(method, endpoint, params = {}) {
      const p = endpoint.startsWith('/') ? endpoint : `/api/2.0/mlflow/${endpoint}`;
      if (method === 'GET') return raw('GET', p + queryString(params));
      return raw(method, p, { body: JSON.stringify(params), headers: { 'Content-Type': 'application/json' } });
    },
    async close() {
      await server.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
