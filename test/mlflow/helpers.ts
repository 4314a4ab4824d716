import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientConfig } from '../../src/mlflow/config.js';

export interface SeenRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  bytes: Buffer;
}

export type Handler = (req: SeenRequest, res: http.ServerResponse, raw: http.IncomingMessage) => void | Promise<void>;

export interface TestServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A node:http server on 127.0.0.1:0 that records every request (body read as text, unless
 * `streamBodies` is set: then the handler reads `raw` itself) and lets the test answer.
 */
export async function startServer(handler: Handler, opts: { streamBodies?: boolean } = {}): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = http.createServer(async (raw, res) => {
    const u = new URL(raw.url ?? '/', 'http://x');
    let bytes = Buffer.alloc(0);
    if (!opts.streamBodies) {
      const chunks: Buffer[] = [];
      for await (const c of raw) chunks.push(c as Buffer);
      bytes = Buffer.concat(chunks);
    }
    const seen: SeenRequest = {
      method: raw.method ?? '',
      url: raw.url ?? '',
      path: u.pathname,
      query: u.searchParams,
      headers: raw.headers,
      body: bytes.toString('utf8'),
      bytes,
    };
    requests.push(seen);
    try {
      await handler(seen, res, raw);
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(599, { 'content-type': 'text/plain' });
        res.end(`test handler failed: ${String(err)}`);
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function mlflowError(res: http.ServerResponse, status: number, errorCode: string, message: string): void {
  sendJson(res, status, { error_code: errorCode, message });
}

/** A config for tests: short timeout, 2 retries, tiny backoff, deterministic jitter. */
export function testConfig(url: string, overrides: Partial<ClientConfig> = {}): ClientConfig {
  return {
    trackingUri: url,
    auth: undefined,
    tls: { rejectUnauthorized: true },
    timeoutMs: 2_000,
    maxRetries: 2,
    backoffFactor: 0.001,
    random: () => 0.5,
    ...overrides,
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then closed). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The promise's rejection (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
