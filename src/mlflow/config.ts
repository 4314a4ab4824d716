import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { redactUri, registerSecret } from './redact.js';

/** How the client authenticates: MLflow's Bearer token, or HTTP Basic. */
export type ClientAuth = { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };

/**
 * Everything the client needs to talk to one tracking server. Built from MLflow's own
 * environment variables by `resolveClientConfig`; tests build it by hand.
 */
export interface ClientConfig {
  /** scheme://host[:port][/prefix], credentials removed, no trailing slash. */
  trackingUri: string;
  auth: ClientAuth | undefined;
  tls: {
    /** false when MLFLOW_TRACKING_INSECURE_TLS=true. */
    rejectUnauthorized: boolean;
    /** PEM contents of MLFLOW_TRACKING_SERVER_CERT_PATH. */
    ca?: string;
    caPath?: string;
  };
  /** Per-request timeout for connecting, for the response headers, and between body chunks. */
  timeoutMs: number;
  /** Retries after the first attempt, for requests that are safe to repeat. */
  maxRetries: number;
  /** Seconds: retry n waits a random time in [0, factor · 2^(n-1)] (full jitter), capped by maxBackoffMs. */
  backoffFactor: number;
  /** Upper bound of one backoff wait, and of a Retry-After the client will honour. Default 60 s. */
  maxBackoffMs?: number;
  /** Request log lines (secrets removed), e.g. `ctx.debug` under --verbose. */
  log?: (line: string) => void;
  /** Cancels every request of this client (Ctrl-C). */
  signal?: AbortSignal;
  /** Random source for the backoff jitter (tests make it deterministic). */
  random?: () => number;
  /** Waits `ms` between attempts, rejecting when `signal` aborts (tests record the waits instead). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Defaults. MLflow's own are 120 s timeout, 7 retries, factor 2: up to ~4 minutes of waiting
 * before an unreachable server is reported. A CLI in CI should fail faster, so mlv retries 3
 * times by default (waits ≤ 2 + 4 + 8 s, ~7 s on average with full jitter);
 * MLFLOW_HTTP_REQUEST_MAX_RETRIES=7 restores MLflow's behaviour.
 */
export const DEFAULT_TIMEOUT_SECONDS = 120;
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_BACKOFF_FACTOR = 2;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;

const STORE_SCHEMES = new Set(['file', 'sqlite', 'postgresql', 'postgres', 'mysql', 'mssql', 'oracle']);
const DATABRICKS_SCHEMES = new Set(['databricks', 'databricks-uc', 'uc']);

/**
 * The client configuration for this run, from `--tracking-uri` (wins) or MLFLOW_TRACKING_URI and
 * the other MLFLOW_* variables; null when no tracking URI is set (the embedded registry is used).
 * Bad values are usage errors that name the variable and what is expected.
 */
export function resolveClientConfig(env: NodeJS.ProcessEnv, trackingUriFlag: string | undefined): ClientConfig | null {
  const fromFlag = trackingUriFlag !== undefined;
  const source = fromFlag ? '--tracking-uri' : 'MLFLOW_TRACKING_URI';
  const raw = fromFlag ? trackingUriFlag.trim() : nonEmpty(env.MLFLOW_TRACKING_URI)?.trim();
  if (raw === undefined) return null;

  const url = parseTrackingUri(raw, source);
  const uriUser = url.username !== '' ? decode(url.username) : undefined;
  const uriPassword = url.password !== '' ? decode(url.password) : undefined;
  url.username = '';
  url.password = '';
  const trackingUri = url.origin + url.pathname.replace(/\/+$/, '');

  // MLflow's precedence (mlflow/utils/rest_utils.py): username+password, then token.
  const token = nonEmpty(env.MLFLOW_TRACKING_TOKEN);
  const username = nonEmpty(env.MLFLOW_TRACKING_USERNAME);
  const password = nonEmpty(env.MLFLOW_TRACKING_PASSWORD);
  registerSecret(token);
  registerSecret(password);
  registerSecret(uriPassword);
  if ((username === undefined) !== (password === undefined)) {
    const [set, missing] =
      username === undefined
        ? ['MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_USERNAME']
        : ['MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD'];
    throw new UsageError(`${set} is set but ${missing} is not; HTTP Basic authentication needs both`, {
      hint: token ? 'unset both to use MLFLOW_TRACKING_TOKEN' : undefined,
    });
  }
  let auth: ClientAuth | undefined;
  if (username !== undefined && password !== undefined) auth = { kind: 'basic', username, password };
  else if (token !== undefined) auth = { kind: 'bearer', token };
  else if (uriUser !== undefined) {
    // `https://<token>@host` has the secret in the user part: mask it too.
    if (uriPassword === undefined) registerSecret(uriUser);
    auth = { kind: 'basic', username: uriUser, password: uriPassword ?? '' };
  }

  const insecure = parseBool(env, 'MLFLOW_TRACKING_INSECURE_TLS') ?? false;
  const caPath = nonEmpty(env.MLFLOW_TRACKING_SERVER_CERT_PATH);
  if (insecure && caPath !== undefined) {
    throw new UsageError(
      'MLFLOW_TRACKING_INSECURE_TLS=true and MLFLOW_TRACKING_SERVER_CERT_PATH cannot be used together',
      { hint: 'unset one of them: either verify the server with the CA bundle, or do not verify it at all' },
    );
  }
  let ca: string | undefined;
  if (caPath !== undefined) {
    try {
      ca = readFileSync(caPath, 'utf8');
    } catch (err) {
      throw new UsageError(
        `MLFLOW_TRACKING_SERVER_CERT_PATH must name a readable PEM file, got ${caPath} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new UsageError(
        `MLFLOW_TRACKING_SERVER_CERT_PATH must name a PEM certificate bundle, got ${caPath} (no BEGIN CERTIFICATE block)`,
      );
    }
  }

  const timeoutSeconds =
    parseNumber(env, 'MLFLOW_HTTP_REQUEST_TIMEOUT', {
      min: 0,
      minExclusive: true,
      integer: false,
      expected: 'a positive number of seconds',
    }) ?? DEFAULT_TIMEOUT_SECONDS;
  const maxRetries =
    parseNumber(env, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES', {
      min: 0,
      max: 100,
      integer: true,
      expected: 'a whole number from 0 to 100',
    }) ?? DEFAULT_MAX_RETRIES;
  const backoffFactor =
    parseNumber(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', {
      min: 0,
      max: 3600,
      integer: false,
      expected: 'a number of seconds ≥ 0',
    }) ?? DEFAULT_BACKOFF_FACTOR;

  const tls: ClientConfig['tls'] = { rejectUnauthorized: !insecure };
  if (ca !== undefined) {
    tls.ca = ca;
    tls.caPath = caPath;
  }
  return {
    trackingUri,
    auth,
    tls,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    maxRetries,
    backoffFactor,
    maxBackoffMs: DEFAULT_MAX_BACKOFF_MS,
  };
}

function parseTrackingUri(raw: string, source: string): URL {
  const shown = redactUri(raw);
  const hint =
    "mlv speaks MLflow's REST API: point it at a tracking server (http://host:5000), or unset MLFLOW_TRACKING_URI to use the embedded registry";
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  const base = scheme?.split('+')[0];
  if (scheme === undefined || raw === 'databricks' || (scheme.length === 1 && /^[a-z]:[\\/]/i.test(raw))) {
    throw new UsageError(`${source} must be an http:// or https:// URL of an MLflow tracking server, got '${shown}'`, {
      hint:
        raw === 'databricks'
          ? 'for Databricks, set the workspace URL (https://…) and MLFLOW_TRACKING_TOKEN'
          : `a local path is a file store, which mlv does not read; ${hint}`,
    });
  }
  if (base !== undefined && (STORE_SCHEMES.has(base) || DATABRICKS_SCHEMES.has(base))) {
    throw new UsageError(
      `${source} must be an http:// or https:// URL of an MLflow tracking server, got a ${scheme}: URI`,
      {
        hint: DATABRICKS_SCHEMES.has(base)
          ? 'for Databricks, set the workspace URL (https://…) and MLFLOW_TRACKING_TOKEN'
          : `run \`mlflow server --backend-store-uri ${shown}\` and use its URL; or unset it to use the embedded registry`,
      },
    );
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw new UsageError(`${source} must be an http:// or https:// URL of an MLflow tracking server, got '${shown}'`, {
      hint,
    });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${source} must be a valid http(s) URL, got '${shown}'`, { hint });
  }
  if (url.hostname === '') throw new UsageError(`${source} must name a host, got '${shown}'`, { hint });
  return url;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** MLflow's boolean variables accept true/false/1/0, any case. */
function parseBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = nonEmpty(env[name])?.trim().toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`${name} must be true or false, got '${env[name]}'`);
}

function parseNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  rule: { min: number; max?: number; minExclusive?: boolean; integer: boolean; expected: string },
): number | undefined {
  const raw = nonEmpty(env[name])?.trim();
  if (raw === undefined) return undefined;
  const n = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : NaN;
  const ok =
    Number.isFinite(n) &&
    (rule.minExclusive ? n > rule.min : n >= rule.min) &&
    (rule.max === undefined || n <= rule.max) &&
    (!rule.integer || Number.isInteger(n));
  if (!ok) throw new UsageError(`${name} must be ${rule.expected}, got '${env[name]}'`);
  return n;
}
