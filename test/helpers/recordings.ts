import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

/**
 * The recorded exchanges with real MLflow servers (fixtures/mlflow-reference/{2.17,3.6}/NN-*.json,
 * described in SUMMARY.md next to them), and a replay server that answers a client with the
 * recorded responses while checking that it sends the recorded requests.
 *
 *   const rec = loadRecording('3.6', 25);                      // 25-registered-models-aliases
 *   const replay = await startReplayServer([rec.exchanges[6]!]);
 *   …point a client at replay.url, make the call…
 *   expect(replay.mismatches).toEqual([]);
 *
 * Server tests can use the other direction: send `exchange.request` to the server under test and
 * compare its answer with `exchange.response` (`requestUrl`, `requestBodyBytes` help).
 */

export const REFERENCE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/mlflow-reference',
);
export const MLFLOW_VERSIONS = ['2.17', '3.6'] as const;
export type MlflowVersion = (typeof MLFLOW_VERSIONS)[number];

export interface RecordedRequest {
  method: string;
  /** Decoded path, no query. */
  path: string;
  query: Record<string, unknown> | null;
  /** Path and query exactly as sent over the wire. */
  url: string;
  headers: Record<string, string> | null;
  /**
   * null (no body); a JSON value (sent as JSON); a string (sent verbatim, e.g. malformed JSON);
   * or `{_bytes: N}` for a binary upload of N bytes.
   */
  body: unknown;
}

export interface RecordedResponse {
  status: number;
  content_type: string;
  /** A JSON value, a string (text/html, text/plain bodies), or `{_binary_bytes: N}`. */
  body: unknown;
}

export interface Exchange {
  request: RecordedRequest;
  response: RecordedResponse;
  elapsed_ms: number;
  note?: string;
}

export interface Recording {
  version: MlflowVersion;
  /** File name without `.json`: `25-registered-models-aliases`. */
  file: string;
  server_version: string;
  name: string;
  note: string;
  exchanges: Exchange[];
}

/** File names (without .json) of one version's recordings, in order. */
export function listRecordings(version: MlflowVersion): string[] {
  return readdirSync(path.join(REFERENCE_DIR, version))
    .filter((f) => /^\d\d-.*\.json$/.test(f))
    .sort()
    .map((f) => f.replace(/\.json$/, ''));
}

/** A recording by number (25) or file name ('25-registered-models-aliases'). */
export function loadRecording(version: MlflowVersion, which: number | string): Recording {
  const prefix = typeof which === 'number' ? `${String(which).padStart(2, '0')}-` : which;
  const file = listRecordings(version).find((f) => f === prefix || f.startsWith(prefix));
  if (file === undefined) throw new Error(`no recording ${which} for MLflow ${version}`);
  const raw = JSON.parse(readFileSync(path.join(REFERENCE_DIR, version, `${file}.json`), 'utf8')) as Omit<
    Recording,
    'version' | 'file'
  >;
  return { ...raw, version, file };
}

export function loadAllRecordings(version: MlflowVersion): Recording[] {
  return listRecordings(version).map((f) => loadRecording(version, f));
}

/** `_context.json`: the ids the recording run produced (exp_id, run_id, model_id…). */
export function loadContext(version: MlflowVersion): Record<string, string> {
  return JSON.parse(readFileSync(path.join(REFERENCE_DIR, version, '_context.json'), 'utf8')) as Record<string, string>;
}

/** The body bytes the recorded response had (binary bodies were recorded as sizes: zeros of that size). */
export function responseBodyBytes(response: RecordedResponse): Buffer {
  const body = response.body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (isObject(body) && typeof body._binary_bytes === 'number') return Buffer.alloc(body._binary_bytes);
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** The body bytes of the recorded request (binary uploads become zeros of the recorded size). */
export function requestBodyBytes(request: RecordedRequest): Buffer | undefined {
  const body = request.body;
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (isObject(body) && typeof body._bytes === 'number') return Buffer.alloc(body._bytes);
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** Writes the recorded response. */
export function writeRecordedResponse(res: http.ServerResponse, response: RecordedResponse): void {
  const bytes = responseBodyBytes(response);
  res.writeHead(response.status, { 'content-type': response.content_type, 'content-length': bytes.length });
  res.end(bytes);
}

export interface ActualRequest {
  method: string;
  /** Raw path and query, as received. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Why `actual` is not the recorded request, or undefined when it is: same method, same decoded
 * path, same query parameters (as a multimap: order of keys free, repeated keys in order), the
 * recorded Content-Type, and the same body (JSON compared as values; binary by size).
 */
export function requestMismatch(recorded: RecordedRequest, actual: ActualRequest): string | undefined {
  if (recorded.method !== actual.method) return `method ${actual.method}, recorded ${recorded.method}`;
  const [recPath, recQuery = ''] = recorded.url.split(/\?(.*)/s);
  const [actPath, actQuery = ''] = actual.url.split(/\?(.*)/s);
  if (safeDecode(recPath!) !== safeDecode(actPath!)) return `path ${actPath}, recorded ${recPath}`;
  const q = (s: string) => {
    const m: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(s)) (m[k] ??= []).push(v);
    return m;
  };
  if (!isDeepStrictEqual(q(recQuery), q(actQuery)))
    return `query ${JSON.stringify(q(actQuery))}, recorded ${JSON.stringify(q(recQuery))}`;
  const recType = recorded.headers?.['Content-Type'];
  if (recType !== undefined && !String(actual.headers['content-type'] ?? '').startsWith(recType)) {
    return `content-type ${actual.headers['content-type']}, recorded ${recType}`;
  }
  const body = recorded.body;
  if (body === null || body === undefined) {
    return actual.body.length === 0 ? undefined : `a body of ${actual.body.length} bytes, recorded none`;
  }
  if (isObject(body) && typeof body._bytes === 'number') {
    return actual.body.length === body._bytes
      ? undefined
      : `a body of ${actual.body.length} bytes, recorded ${body._bytes}`;
  }
  if (typeof body === 'string')
    return actual.body.toString('utf8') === body ? undefined : `body ${actual.body.toString('utf8')}, recorded ${body}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(actual.body.toString('utf8'));
  } catch {
    return `a body that is not JSON: ${actual.body.toString('utf8').slice(0, 200)}`;
  }
  return isDeepStrictEqual(parsed, body)
    ? undefined
    : `body ${JSON.stringify(parsed)}, recorded ${JSON.stringify(body)}`;
}

export interface ReplayServer {
  url: string;
  /** Every request received. */
  requests: ActualRequest[];
  /** Requests that matched no (remaining) recorded exchange, with the reason. */
  mismatches: string[];
  close(): Promise<void>;
}

/**
 * Serves `exchanges` on 127.0.0.1:0. Each request is answered with the response of the first
 * unused exchange whose request it matches (`requestMismatch`); `reuse: true` lets an exchange
 * answer again (retries). A request that matches none gets HTTP 599 and is listed in
 * `mismatches`, with the reason against the first unused exchange.
 */
export async function startReplayServer(
  exchanges: readonly Exchange[],
  opts: { reuse?: boolean } = {},
): Promise<ReplayServer> {
  const used = new Set<number>();
  const requests: ActualRequest[] = [];
  const mismatches: string[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const actual: ActualRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    requests.push(actual);
    let firstReason: string | undefined;
    for (let i = 0; i < exchanges.length; i++) {
      if (used.has(i) && !opts.reuse) continue;
      const reason = requestMismatch(exchanges[i]!.request, actual);
      if (reason === undefined) {
        used.add(i);
        writeRecordedResponse(res, exchanges[i]!.response);
        return;
      }
      firstReason ??= reason;
    }
    mismatches.push(`${actual.method} ${actual.url}: ${firstReason ?? 'no recorded exchange left'}`);
    res.writeHead(599, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error_code: 'REPLAY_MISMATCH', message: firstReason ?? 'no recorded exchange left' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    mismatches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
