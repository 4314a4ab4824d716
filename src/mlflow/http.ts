import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent as UndiciAgent, Dispatcher } from 'undici';
import { AuthError, InputError, InterruptedError, MlvError, RemoteError } from '../errors.js';
import { DEFAULT_MAX_BACKOFF_MS, type ClientConfig } from './config.js';
import { MlflowApiError } from './errors.js';
import { redactSecrets, registerSecret } from './redact.js';

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  sleep(ms, undefined, signal ? { signal } : undefined);

// undici's index also loads fetch, WebSocket, EventSource and the caches: ~70 ms on every registry
// command. Its Agent and request API alone cost a third of that (undici is pinned to ~7.16; a test
// checks that these paths load and that the index does not).
const undici = createRequire(import.meta.url);
const Agent = undici('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
const undiciRequest = undici('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  opts: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

/**
 * The HTTP layer under MlflowClient: one undici Agent per client, auth headers, timeouts,
 * retries with exponential backoff and full jitter, and the mapping of every failure to one
 * of mlv's errors (secrets removed). Knows nothing about MLflow's entities.
 */

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * Which failures may be retried.
 * - `idempotent`: repeating the request is harmless (GETs, set-tag, alias set, artifact PUT,
 *   deletes…): retried on connection errors, timeouts, 408, 429 and 5xx.
 * - `once`: a create-type request that must not be applied twice: retried only when it surely
 *   did not reach the server (connection refused, DNS, connect timeout) or the server said it was
 *   not processed (429).
 */
export type RetryMode = 'idempotent' | 'once';

export type QueryValue = string | number | boolean | undefined | null | readonly string[];

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** A non-2xx answer, read and decoded. */
export interface ErrorResponse {
  status: number;
  /** MLflow's `error_code`, when the body was MLflow's JSON error. */
  errorCode: string | undefined;
  /** The server's message on one line (MLflow's `message`, or a short plain-text body), secrets removed. */
  message: string;
  contentType: string;
  retryAfterMs: number | undefined;
}

export interface RequestSpec<T> {
  method: HttpMethod;
  /** Below the tracking URI, starting with `/`: `/api/2.0/mlflow/registered-models/get`. */
  path: string;
  query?: Record<string, QueryValue>;
  /** A JSON body (sent with Content-Type: application/json, as MLflow requires). */
  json?: unknown;
  /** A raw body, made afresh for every attempt (uploads). */
  body?: () => { stream: Readable; length: number };
  retry: RetryMode;
  signal?: AbortSignal | undefined;
  /**
   * Not cancelled by the client's own signal (the global Ctrl-C): for the cleanup after an
   * interrupt, which must still reach the server. Bound it with `signal` (AbortSignal.timeout).
   */
  detached?: boolean;
  /** Reads a 2xx response. Runs inside the retry loop, so a connection lost mid-body retries. */
  read: (res: HttpResponse) => Promise<T>;
  /** Turns an error answer into a specific error (or a value) before the generic mapping. */
  onError?: (err: ErrorResponse, attempt: number) => { error: MlvError } | { value: T } | undefined;
  /** Overrides config.maxRetries (health checks use 0). */
  maxRetries?: number;
  /** Shown in messages instead of `METHOD path`. */
  label?: string;
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
]);
const SENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const TLS_CODE =
  /^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/;
const ERROR_BODY_LIMIT = 64 * 1024;

const { version: mlvVersion } = createRequire(import.meta.url)('../../package.json') as { version: string };

export class HttpTransport {
  readonly baseUrl: string;
  private readonly config: ClientConfig;
  private readonly agent: UndiciAgent;
  private readonly authHeader: string | undefined;
  private closed = false;

  constructor(config: ClientConfig) {
    this.config = config;
    this.baseUrl = config.trackingUri.replace(/\/+$/, '');
    this.agent = new Agent({
      connect: {
        rejectUnauthorized: config.tls.rejectUnauthorized,
        ...(config.tls.ca !== undefined ? { ca: config.tls.ca } : {}),
        timeout: config.timeoutMs,
      },
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      keepAliveTimeout: 4_000,
    });
    if (config.auth?.kind === 'bearer') {
      registerSecret(config.auth.token);
      this.authHeader = `Bearer ${config.auth.token}`;
    } else if (config.auth?.kind === 'basic') {
      registerSecret(config.auth.password);
      const encoded = Buffer.from(`${config.auth.username}:${config.auth.password}`).toString('base64');
      registerSecret(encoded);
      this.authHeader = `Basic ${encoded}`;
    }
  }

  /** The server as shown in messages: no credentials, no secrets. */
  get server(): string {
    return redactSecrets(this.baseUrl);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.close();
  }

  /** Sends a request with retries; resolves with `spec.read`'s value or throws an MlvError. */
  async send<T>(spec: RequestSpec<T>): Promise<T> {
    // A bug in the caller, not a network condition: do not dress it up as a retryable failure.
    if (this.closed) throw new Error(`MlflowClient used after close() (${spec.method} ${shortPath(spec.path)})`);
    const signal = spec.detached ? spec.signal : combineSignals(this.config.signal, spec.signal);
    const label = spec.label ?? `${spec.method} ${shortPath(spec.path)}`;
    const url = this.url(spec.path, spec.query);
    const maxRetries = spec.maxRetries ?? this.config.maxRetries;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortError(signal);
      const started = Date.now();
      let failure: Failure;
      try {
        const outcome = await this.attempt(spec, url, label, attempt, signal);
        if (outcome.kind === 'done') {
          this.log(`${spec.method} ${url} → ${outcome.status} (${Date.now() - started} ms)`);
          return outcome.value;
        }
        failure = outcome;
      } catch (err) {
        if (signal?.aborted) throw abortError(signal);
        if (err instanceof MlvError) throw err;
        failure = networkFailure(err, {
          server: this.server,
          host: hostOf(this.baseUrl),
          label,
          retry: spec.retry,
          timeoutMs: this.config.timeoutMs,
        });
      }
      const willRetry = failure.retryable && attempt <= maxRetries;
      this.log(`${spec.method} ${url} → ${failure.summary} (${Date.now() - started} ms)`);
      if (!willRetry) throw finalError(failure, attempt);
      let delay = failure.retryAfterMs ?? this.backoff(attempt);
      const cap = this.config.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
      if (delay > cap) {
        throw finalError(
          {
            ...failure,
            error: withSuffix(failure.error, ` — the server asked to retry after ${Math.ceil(delay / 1000)}s`),
          },
          attempt,
        );
      }
      delay = Math.max(0, Math.round(delay));
      this.log(`retrying ${label} in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1} of ${maxRetries + 1})`);
      try {
        await (this.config.sleep ?? defaultSleep)(delay, signal);
      } catch {
        throw abortError(signal!);
      }
    }
  }

  /** GET/POST/… with a JSON answer; an empty 2xx body reads as `{}`. */
  json<T = Record<string, unknown>>(spec: Omit<RequestSpec<T>, 'read'>): Promise<T> {
    return this.send<T>({
      ...spec,
      read: async (res) => {
        const text = await res.body.text();
        if (text.trim() === '') return {} as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new RemoteError(
            `MLflow at ${this.server} answered ${spec.label ?? `${spec.method} ${shortPath(spec.path)}`} with something that is not JSON: ${snippet(text)}`,
            {
              code: 'MLV_REMOTE_PROTOCOL',
              status: res.status,
              hint: 'is the tracking URI an MLflow server (its REST API lives under /api/2.0/mlflow)?',
            },
          );
        }
      },
    });
  }

  private url(path: string, query: Record<string, QueryValue> | undefined): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const v of value) params.append(key, v);
      else params.append(key, String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs === '' ? '' : `?${qs}`}`;
  }

  private async attempt<T>(
    spec: RequestSpec<T>,
    url: string,
    label: string,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<Failure | { kind: 'done'; value: T; status: number }> {
    const headers: Record<string, string> = { 'user-agent': `mlv/${mlvVersion}` };
    if (this.authHeader !== undefined) headers.authorization = this.authHeader;
    let body: string | Readable | undefined;
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    } else if (spec.body !== undefined) {
      const made = spec.body();
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(made.length);
      body = made.stream;
    }
    let res: Dispatcher.ResponseData;
    try {
      const target = new URL(url);
      res = await undiciRequest.call(this.agent, {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: spec.method,
        headers,
        body,
        signal,
        headersTimeout: this.config.timeoutMs,
        bodyTimeout: this.config.timeoutMs,
      });
    } finally {
      // A stream body that was not (fully) consumed would keep its file open.
      if (body !== undefined && typeof body !== 'string' && !body.destroyed && !body.readableEnded) body.destroy();
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      try {
        const value = await spec.read({ status: res.statusCode, headers: res.headers, body: res.body });
        return { kind: 'done', value, status: res.statusCode };
      } finally {
        if (!res.body.destroyed) res.body.destroy();
      }
    }
    const err = await readErrorResponse(res);
    const handled = spec.onError?.(err, attempt);
    if (handled && 'value' in handled) return { kind: 'done', value: handled.value, status: err.status };
    if (handled && 'error' in handled) {
      this.log(`${spec.method} ${url} → HTTP ${err.status}${err.errorCode ? ` ${err.errorCode}` : ''}`);
      throw handled.error;
    }
    return this.httpFailure(err, spec, label);
  }

  private httpFailure(err: ErrorResponse, spec: RequestSpec<unknown>, label: string): Failure {
    const { status } = err;
    const summary = `HTTP ${status}${err.errorCode ? ` ${err.errorCode}` : ''}`;
    if (status === 401 || status === 403) {
      return { kind: 'fail', retryable: false, summary, error: this.authError(err, label) };
    }
    if (status >= 500 || status === 429 || status === 408) {
      const retryable = RETRY_STATUSES.has(status) && (spec.retry === 'idempotent' || status === 429);
      const what = status === 429 ? 'is rate-limiting requests' : `failed ${label}`;
      const detail = err.message !== '' ? `: ${err.message}` : '';
      const error = new RemoteError(
        `MLflow at ${this.server} ${what} (HTTP ${status}${err.errorCode ? ` ${err.errorCode}` : ''})${detail}`,
        {
          code: 'MLV_REMOTE_HTTP',
          status,
          ...(err.errorCode !== undefined ? { errorCode: err.errorCode } : {}),
          ...(spec.retry === 'once' && status !== 429
            ? {
                hint: 'mlv did not retry because the request may already have been applied; check the registry before running it again',
              }
            : {}),
        },
      );
      return { kind: 'fail', retryable, summary, error, retryAfterMs: err.retryAfterMs };
    }
    return { kind: 'fail', retryable: false, summary, error: this.apiError(err, spec, label) };
  }

  private apiError(err: ErrorResponse, spec: RequestSpec<unknown>, label: string): MlvError {
    const endpoint = `${spec.method} ${shortPath(spec.path)}`;
    if (err.errorCode !== undefined) {
      return new MlflowApiError(
        `${err.message || 'MLflow rejected the request'} (${err.errorCode}, HTTP ${err.status})`,
        { status: err.status, errorCode: err.errorCode, serverMessage: err.message, endpoint },
      );
    }
    const details = { status: err.status, errorCode: undefined, serverMessage: err.message, endpoint };
    if (err.status === 404 || err.status === 405) {
      const verb = err.status === 404 ? 'has no endpoint' : 'does not support';
      return new MlflowApiError(
        `this server ${verb} ${label} (HTTP ${err.status}) — is the tracking URI an MLflow server?`,
        details,
        {
          hint: `MLflow's REST API lives under ${this.server}/api/2.0/mlflow; check MLFLOW_TRACKING_URI / --tracking-uri`,
        },
      );
    }
    return new MlflowApiError(
      `MLflow at ${this.server} rejected ${label} (HTTP ${err.status})${err.message ? `: ${err.message}` : ''}`,
      details,
    );
  }

  private authError(err: ErrorResponse, label: string): AuthError {
    const auth = this.config.auth;
    const detail = err.message !== '' ? `: ${err.message}` : '';
    if (err.status === 403 && /invalid host header|cross-origin request blocked/i.test(err.message)) {
      return new AuthError(`MLflow at ${this.server} refused ${label} (HTTP 403)${detail}`, 403, {
        hint: "the server's host/origin protection rejected the request; start it with --allowed-hosts (and --cors-allowed-origins) that include this address",
      });
    }
    const credentials =
      auth === undefined
        ? 'set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD'
        : auth.kind === 'bearer'
          ? 'check MLFLOW_TRACKING_TOKEN (expired or revoked?)'
          : 'check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or the user:password in the tracking URI)';
    if (err.status === 401) {
      const what = auth === undefined ? 'requires authentication' : 'refused the credentials';
      return new AuthError(`MLflow at ${this.server} ${what} (HTTP 401)${detail}`, 401, { hint: credentials });
    }
    return new AuthError(`MLflow at ${this.server} denied ${label} (HTTP 403)${detail}`, 403, {
      hint:
        auth === undefined
          ? credentials
          : "the credentials were accepted but lack the permission for this; ask the server's admin, or " + credentials,
    });
  }

  /** Full jitter: a uniform wait in [0, factor · 2^(attempt-1)] seconds, capped. */
  private backoff(attempt: number): number {
    const cap = this.config.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    const ceiling = Math.min(cap, this.config.backoffFactor * 1000 * 2 ** (attempt - 1));
    return (this.config.random ?? Math.random)() * ceiling;
  }

  private log(line: string): void {
    this.config.log?.(redactSecrets(line));
  }
}

/**
 * What a failed connection means: the error to report and whether it may be retried. A failure
 * before anything was sent (refused, DNS, connect timeout) may be retried even for `once`
 * requests; a timeout or reset after sending only for `idempotent` ones; TLS failures never.
 */
export function networkFailure(
  err: unknown,
  ctx: { server: string; host: string; label: string; retry: RetryMode; timeoutMs: number },
): Failure {
  const { server, label } = ctx;
  const code = errorCode(err);
  const seconds = formatSeconds(ctx.timeoutMs);
  const sentHint =
    ctx.retry === 'once'
      ? 'mlv did not retry because the request may already have been applied; check the registry before running it again'
      : undefined;
  const make = (message: string, opts: { code?: string; hint?: string | undefined }): RemoteError =>
    new RemoteError(message, {
      code: opts.code ?? 'MLV_REMOTE_UNREACHABLE',
      cause: err,
      ...(opts.hint ? { hint: opts.hint } : {}),
    });
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return {
      kind: 'fail',
      retryable: false,
      summary: code,
      error: new InputError(`the file being uploaded changed while ${label} was sending it`, { cause: err }),
    };
  }
  if (code !== undefined && TLS_CODE.test(code)) {
    return {
      kind: 'fail',
      retryable: false,
      summary: code,
      error: make(`could not reach MLflow at ${server}: TLS handshake failed (${code}: ${oneLine(messageOf(err))})`, {
        code: 'MLV_REMOTE_TLS',
        hint: 'set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle that signed the server certificate (or MLFLOW_TRACKING_INSECURE_TLS=true to skip verification)',
      }),
    };
  }
  if (code !== undefined && CONNECT_CODES.has(code)) {
    const what =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'ENOTFOUND'
          ? `host ${ctx.host} not found`
          : code === 'EAI_AGAIN'
            ? `host ${ctx.host} could not be resolved (DNS lookup failed temporarily)`
            : code === 'UND_ERR_CONNECT_TIMEOUT'
              ? `connection timed out after ${seconds}`
              : `network unreachable (${code})`;
    return {
      kind: 'fail',
      retryable: code !== 'ENOTFOUND',
      summary: code,
      error: make(`could not reach MLflow at ${server}: ${what}`, {
        code: code === 'UND_ERR_CONNECT_TIMEOUT' ? 'MLV_REMOTE_TIMEOUT' : 'MLV_REMOTE_UNREACHABLE',
        hint:
          code === 'ECONNREFUSED' || code === 'ENOTFOUND'
            ? 'is the server running at that address? check MLFLOW_TRACKING_URI / --tracking-uri'
            : undefined,
      }),
    };
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return {
      kind: 'fail',
      retryable: ctx.retry === 'idempotent',
      summary: code,
      error: make(`MLflow at ${server} did not answer ${label} within ${seconds}`, {
        code: 'MLV_REMOTE_TIMEOUT',
        hint: sentHint ?? 'raise MLFLOW_HTTP_REQUEST_TIMEOUT (seconds) if the server is just slow',
      }),
    };
  }
  if (code !== undefined && SENT_CODES.has(code)) {
    return {
      kind: 'fail',
      retryable: ctx.retry === 'idempotent',
      summary: code,
      error: make(`the connection to MLflow at ${server} broke during ${label} (${code})`, {
        code: 'MLV_REMOTE_CONNECTION',
        hint: sentHint,
      }),
    };
  }
  // Anything else is unexpected: report it without retrying.
  return {
    kind: 'fail',
    retryable: false,
    summary: code ?? 'error',
    error: make(
      `request ${label} to MLflow at ${server} failed: ${oneLine(messageOf(err))}${code ? ` (${code})` : ''}`,
      {},
    ),
  };
}

export type Failure = {
  kind: 'fail';
  retryable: boolean;
  summary: string;
  error: MlvError;
  retryAfterMs?: number | undefined;
};

function finalError(failure: Extract<Failure, { kind: 'fail' }>, attempts: number): MlvError {
  return attempts > 1 ? withSuffix(failure.error, ` (after ${attempts} attempts)`) : failure.error;
}

/** Appends to an error's one-line message, keeping its class and fields. */
function withSuffix(err: MlvError, suffix: string): MlvError {
  err.message = err.message + suffix;
  return err;
}

async function readErrorResponse(res: Dispatcher.ResponseData): Promise<ErrorResponse> {
  const contentType = String(res.headers['content-type'] ?? '');
  let text = '';
  try {
    text = await readLimited(res.body, ERROR_BODY_LIMIT);
  } catch {
    // The body of an error is a nicety; the status says enough.
  }
  let errorCode: string | undefined;
  let message = '';
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { error_code?: unknown; message?: unknown };
      if (typeof parsed.error_code === 'string') errorCode = parsed.error_code;
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not JSON after all
    }
  }
  if (errorCode === undefined && message === '' && !/html/i.test(contentType) && !/^\s*</.test(trimmed)) {
    message = trimmed;
  }
  return {
    status: res.statusCode,
    errorCode,
    message: snippet(redactSecrets(message), 300),
    contentType,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  };
}

async function readLimited(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    size += buf.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** Retry-After as seconds or an HTTP date → milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return AbortSignal.any([a, b]);
}

function abortError(signal: AbortSignal): MlvError {
  const reason: unknown = signal.reason;
  if (reason instanceof MlvError) return reason;
  return new InterruptedError();
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      e = inner[0];
      continue;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return redactSecrets(err instanceof Error ? err.message : String(err));
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** `/api/2.0/mlflow/registered-models/get` → `/registered-models/get` (what people call the endpoint). */
export function shortPath(path: string): string {
  return path.replace(/^\/api\/2\.0\/mlflow(?=\/)/, '');
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function snippet(text: string, max = 120): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
