import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { resolveClientConfig } from '../../src/mlflow/config.js';
import { redactSecrets } from '../../src/mlflow/redact.js';

describe('resolveClientConfig', () => {
  it('returns null when neither the flag nor MLFLOW_TRACKING_URI is set (embedded registry)', () => {
    expect(resolveClientConfig({}, undefined)).toBeNull();
    expect(resolveClientConfig({ MLFLOW_TRACKING_URI: '' }, undefined)).toBeNull();
  });

  it('uses MLflow defaults except for the retry count', () => {
    expect(resolveClientConfig({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' }, undefined)).toEqual({
      trackingUri: 'http://127.0.0.1:5000',
      auth: undefined,
      tls: { rejectUnauthorized: true },
      timeoutMs: 120_000,
      maxRetries: 3,
      backoffFactor: 2,
      maxBackoffMs: 60_000,
    });
  });

  it.each([
    ['http://h:5000/', 'http://h:5000'],
    ['https://mlflow.example.com/prefix/', 'https://mlflow.example.com/prefix'],
    ['  http://h:5000  ', 'http://h:5000'],
    ['HTTP://H:5000?x=1#y', 'http://h:5000'],
  ])('normalizes %j to %j', (raw, expected) => {
    expect(resolveClientConfig({ MLFLOW_TRACKING_URI: raw }, undefined)?.trackingUri).toBe(expected);
  });

  it('lets --tracking-uri override MLFLOW_TRACKING_URI', () => {
    const c = resolveClientConfig({ MLFLOW_TRACKING_URI: 'http://env:1' }, 'http://flag:2');
    expect(c?.trackingUri).toBe('http://flag:2');
  });

  it.each([
    [{ MLFLOW_TRACKING_TOKEN: 'tok-123456' }, { kind: 'bearer', token: 'tok-123456' }],
    [
      { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'pw-secret' },
      { kind: 'basic', username: 'alice', password: 'pw-secret' },
    ],
    // MLflow's precedence: Basic wins over the token.
    [
      { MLFLOW_TRACKING_TOKEN: 'tok-123456', MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'pw-secret' },
      { kind: 'basic', username: 'alice', password: 'pw-secret' },
    ],
  ])('reads credentials from %j', (env, auth) => {
    expect(resolveClientConfig({ MLFLOW_TRACKING_URI: 'http://h', ...env }, undefined)?.auth).toEqual(auth);
  });

  it('takes credentials from the URI userinfo (decoded) and removes them from trackingUri', () => {
    const c = resolveClientConfig({ MLFLOW_TRACKING_URI: 'https://bob:p%40ss-word@h.example/x' }, undefined)!;
    expect(c.trackingUri).toBe('https://h.example/x');
    expect(c.auth).toEqual({ kind: 'basic', username: 'bob', password: 'p@ss-word' });
  });

  it('prefers MLFLOW_TRACKING_TOKEN over URI userinfo', () => {
    const c = resolveClientConfig(
      { MLFLOW_TRACKING_URI: 'https://bob:pw12@h', MLFLOW_TRACKING_TOKEN: 'tok-999999' },
      undefined,
    )!;
    expect(c.auth).toEqual({ kind: 'bearer', token: 'tok-999999' });
  });

  it('registers the token, password and URI password as secrets', () => {
    resolveClientConfig(
      {
        MLFLOW_TRACKING_URI: 'https://u:uri-pass-1@h',
        MLFLOW_TRACKING_TOKEN: 'token-abc-1',
        MLFLOW_TRACKING_USERNAME: 'u',
        MLFLOW_TRACKING_PASSWORD: 'env-pass-1',
      },
      undefined,
    );
    expect(redactSecrets('a token-abc-1 b env-pass-1 c uri-pass-1')).toBe('a *** b *** c ***');
  });

  it('reads TLS, timeout, retry and backoff settings', () => {
    const c = resolveClientConfig(
      {
        MLFLOW_TRACKING_URI: 'https://h',
        MLFLOW_TRACKING_INSECURE_TLS: 'TRUE',
        MLFLOW_HTTP_REQUEST_TIMEOUT: '2.5',
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.1',
      },
      undefined,
    )!;
    expect([c.tls.rejectUnauthorized, c.timeoutMs, c.maxRetries, c.backoffFactor]).toEqual([false, 2500, 0, 0.1]);
  });

  it('reads the CA bundle named by MLFLOW_TRACKING_SERVER_CERT_PATH', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mlv-ca-'));
    const pem = path.join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const c = resolveClientConfig(
      { MLFLOW_TRACKING_URI: 'https://h', MLFLOW_TRACKING_SERVER_CERT_PATH: pem },
      undefined,
    )!;
    expect(c.tls).toEqual({
      rejectUnauthorized: true,
      ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      caPath: pem,
    });
  });

  it.each([
    [
      { MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' },
      undefined,
      'MLFLOW_TRACKING_URI must be an http:// or https:// URL of an MLflow tracking server, got a sqlite: URI',
    ],
    [
      { MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' },
      undefined,
      'MLFLOW_TRACKING_URI must be an http:// or https:// URL of an MLflow tracking server, got a file: URI',
    ],
    [
      { MLFLOW_TRACKING_URI: 'postgresql+psycopg2://u:pw-hidden@db/mlflow' },
      undefined,
      'MLFLOW_TRACKING_URI must be an http:// or https:// URL of an MLflow tracking server, got a postgresql+psycopg2: URI',
    ],
    [
      { MLFLOW_TRACKING_URI: 'databricks' },
      undefined,
      "MLFLOW_TRACKING_URI must be an http:// or https:// URL of an MLflow tracking server, got 'databricks'",
    ],
    [
      { MLFLOW_TRACKING_URI: './mlruns' },
      undefined,
      "MLFLOW_TRACKING_URI must be an http:// or https:// URL of an MLflow tracking server, got './mlruns'",
    ],
    [{}, 'ftp://h', "--tracking-uri must be an http:// or https:// URL of an MLflow tracking server, got 'ftp://h'"],
    [{}, '', "--tracking-uri must be an http:// or https:// URL of an MLflow tracking server, got ''"],
    [
      { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_TRACKING_INSECURE_TLS: 'maybe' },
      undefined,
      "MLFLOW_TRACKING_INSECURE_TLS must be true or false, got 'maybe'",
    ],
    [
      { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_TIMEOUT: '0' },
      undefined,
      "MLFLOW_HTTP_REQUEST_TIMEOUT must be a positive number of seconds, got '0'",
    ],
    [
      { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_TIMEOUT: '10s' },
      undefined,
      "MLFLOW_HTTP_REQUEST_TIMEOUT must be a positive number of seconds, got '10s'",
    ],
    [
      { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2.5' },
      undefined,
      "MLFLOW_HTTP_REQUEST_MAX_RETRIES must be a whole number from 0 to 100, got '2.5'",
    ],
    [
      { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '-1' },
      undefined,
      "MLFLOW_HTTP_REQUEST_MAX_RETRIES must be a whole number from 0 to 100, got '-1'",
    ],
    [
      { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: 'fast' },
      undefined,
      "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR must be a number of seconds ≥ 0, got 'fast'",
    ],
    [
      { MLFLOW_TRACKING_URI: 'http://h', MLFLOW_TRACKING_USERNAME: 'alice' },
      undefined,
      'MLFLOW_TRACKING_USERNAME is set but MLFLOW_TRACKING_PASSWORD is not; HTTP Basic authentication needs both',
    ],
    [
      { MLFLOW_TRACKING_URI: 'https://h', MLFLOW_TRACKING_SERVER_CERT_PATH: '/nonexistent/ca.pem' },
      undefined,
      'MLFLOW_TRACKING_SERVER_CERT_PATH must name a readable PEM file, got /nonexistent/ca.pem (ENOENT)',
    ],
    [
      {
        MLFLOW_TRACKING_URI: 'https://h',
        MLFLOW_TRACKING_INSECURE_TLS: 'true',
        MLFLOW_TRACKING_SERVER_CERT_PATH: '/x.pem',
      },
      undefined,
      'MLFLOW_TRACKING_INSECURE_TLS=true and MLFLOW_TRACKING_SERVER_CERT_PATH cannot be used together',
    ],
  ] as const)('rejects %j / flag %j', (env, flag, message) => {
    let err: unknown;
    try {
      resolveClientConfig(env as NodeJS.ProcessEnv, flag);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe(message);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).not.toContain('pw-hidden');
  });

  it('hints at the embedded registry for a store URI', () => {
    let err: UsageError | undefined;
    try {
      resolveClientConfig({ MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' }, undefined);
    } catch (e) {
      err = e as UsageError;
    }
    expect(err?.hint).toBe(
      'run `mlflow server --backend-store-uri sqlite:///mlflow.db` and use its URL; or unset it to use the embedded registry',
    );
  });
});
