import { InputError } from '../../errors.js';
import { jsonProblem, MAX_JSON_DEPTH } from '../json.js';

/**
 * Limits on what one `mlv register` logs, checked before the run is created (exit 2). MLflow
 * takes at most 1000 metrics and 100 params per log-batch request (mlv splits larger sets), keys
 * of 250 characters and param values of 6000.
 */
export const LIMITS = {
  metrics: 10_000,
  params: 1_000,
  paramValue: 6_000,
  /** A metrics or params file larger than this is refused unread. */
  fileBytes: 4 * 1024 * 1024,
} as const;

/**
 * Who registered or promoted a model: the CI job when one is running (from the variables each CI
 * system sets), else the local user name.
 * @example createdBy({ GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/churn', GITHUB_RUN_ID: '42', GITHUB_ACTOR: 'bob' }, 'runner')
 * // 'github-actions:acme/churn run 42 (bob)'
 */
export function createdBy(env: NodeJS.ProcessEnv, user: string): string {
  const e = (k: string) => (env[k] && env[k] !== '' ? env[k] : undefined);
  const by = (who: string | undefined) => (who ? ` (${who})` : '');
  if (e('GITHUB_ACTIONS') === 'true') {
    const attempt =
      e('GITHUB_RUN_ATTEMPT') && e('GITHUB_RUN_ATTEMPT') !== '1' ? ` attempt ${e('GITHUB_RUN_ATTEMPT')}` : '';
    const job = e('GITHUB_JOB') ? ` job ${e('GITHUB_JOB')}` : '';
    return `github-actions:${e('GITHUB_REPOSITORY') ?? '?'} run ${e('GITHUB_RUN_ID') ?? '?'}${attempt}${job}${by(e('GITHUB_ACTOR'))}`;
  }
  if (e('GITLAB_CI')) {
    return `gitlab-ci:${e('CI_PROJECT_PATH') ?? '?'} job ${e('CI_JOB_ID') ?? '?'}${by(e('GITLAB_USER_LOGIN'))}`;
  }
  if (e('JENKINS_URL')) return `jenkins:${e('JOB_NAME') ?? '?'} build ${e('BUILD_NUMBER') ?? '?'}`;
  if (e('CIRCLECI')) {
    const project = [e('CIRCLE_PROJECT_USERNAME'), e('CIRCLE_PROJECT_REPONAME')].filter(Boolean).join('/') || '?';
    return `circleci:${project} build ${e('CIRCLE_BUILD_NUM') ?? '?'}${by(e('CIRCLE_USERNAME'))}`;
  }
  if (e('BUILDKITE')) {
    return `buildkite:${e('BUILDKITE_PIPELINE_SLUG') ?? '?'} build ${e('BUILDKITE_BUILD_NUMBER') ?? '?'}${by(e('BUILDKITE_BUILD_CREATOR'))}`;
  }
  if (e('TF_BUILD')) {
    return `azure-pipelines:${e('BUILD_REPOSITORY_NAME') ?? '?'} build ${e('BUILD_BUILDID') ?? '?'}${by(e('BUILD_REQUESTEDFOR'))}`;
  }
  if (e('CI') && e('CI') !== 'false' && e('CI') !== '0') return `ci:${user}`;
  return user;
}

/** The user name to record: the CI actor if known, else the local account. */
export function userName(env: NodeJS.ProcessEnv, osUser: string | undefined): string {
  return env.GITHUB_ACTOR || env.GITLAB_USER_LOGIN || osUser || env.USER || env.LOGNAME || env.USERNAME || 'unknown';
}

/** MLflow's rule for metric, param and tag keys (mlflow/utils/validation.py). */
const MLFLOW_KEY = /^[/\w.\- :]*$/;

export function keyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty';
  if (key.length > 250) return 'it is longer than 250 characters';
  if (!MLFLOW_KEY.test(key)) return 'only letters, digits, _ - . space : / are allowed';
  // MLflow refuses keys that posixpath.normpath would change (they could name another file).
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    return 'it must not be an absolute path or contain empty, "." or ".." segments';
  }
  return undefined;
}

export function checkKey(key: string, flag: string): string {
  const p = keyProblem(key);
  if (p) throw new InputError(`${flag} key "${key}" is not valid for MLflow: ${p}`);
  return key;
}

/** `k=v` for a metric: the value must be a finite number. */
export function parseMetricArg(input: string, flag = '--metric'): [string, number] {
  const i = input.indexOf('=');
  if (i <= 0) throw new InputError(`${flag} must be KEY=NUMBER, got "${input}"`);
  const key = checkKey(input.slice(0, i).trim(), flag);
  const value = toMetricValue(input.slice(i + 1).trim());
  if (value === undefined) throw new InputError(`${flag} ${key} must be a number, got "${input.slice(i + 1)}"`);
  return [key, value];
}

/** A finite number, or a string holding one; booleans are refused (write 1 or 0). */
function toMetricValue(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v.trim())) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function parseParamArg(input: string, flag = '--param'): [string, string] {
  const i = input.indexOf('=');
  if (i <= 0) throw new InputError(`${flag} must be KEY=VALUE, got "${input}"`);
  return [checkKey(input.slice(0, i).trim(), flag), input.slice(i + 1)];
}

/** Adds `key` to a repeatable flag's values; the same key twice is an input error, not "the last wins". */
export function addOnce<T>(previous: Record<string, T> | undefined, key: string, value: T, flag: string) {
  if (previous && Object.hasOwn(previous, key)) throw new InputError(`${flag} ${key} given twice`);
  return { ...previous, [key]: value };
}

/**
 * A metrics or params file: a JSON object (nested objects flattened with `.`: {"eval": {"auc": 0.9}}
 * → eval.auc) or lines of `key=value` / `key: value` (# comments). `file` names it in errors; a
 * key given twice (also once nested and once dotted) is an error, as is nesting deeper than
 * MAX_JSON_DEPTH.
 */
export function parseKeyValueFile(text: string, file: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    throw new InputError(`${file} holds a JSON array; a metrics or params file is a JSON object of key: value`);
  }
  if (trimmed.startsWith('{')) {
    const problem = jsonProblem(trimmed);
    if (problem?.kind === 'too-deep') {
      throw new InputError(`${file} nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
    }
    if (problem?.kind === 'duplicate-key') {
      throw new InputError(`${file}: key ${problem.path ? `${problem.path}.` : ''}${problem.key} given twice`);
    }
    let v: unknown;
    try {
      v = JSON.parse(trimmed);
    } catch (err) {
      throw new InputError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    const out: Record<string, unknown> = {};
    const walk = (o: Record<string, unknown>, prefix: string) => {
      for (const [k, val] of Object.entries(o)) {
        const key = `${prefix}${k}`;
        if (val !== null && typeof val === 'object' && !Array.isArray(val))
          walk(val as Record<string, unknown>, `${key}.`);
        else if (Object.hasOwn(out, key)) throw new InputError(`${file}: key ${key} given twice`);
        else out[key] = val;
      }
    };
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new InputError(`${file} must hold a JSON object of key: value`);
    walk(v as Record<string, unknown>, '');
    return out;
  }
  const out: Record<string, unknown> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!m) throw new InputError(`${file}:${i + 1}: expected key=value or key: value, got "${line}"`);
    const key = m[1]!.trim();
    if (Object.hasOwn(out, key)) throw new InputError(`${file}:${i + 1}: key ${key} given twice`);
    out[key] = m[2]!.trim().replace(/^(["'])(.*)\1$/, '$2');
  });
  return out;
}

export function metricsFromFile(text: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  const entries = Object.entries(parseKeyValueFile(text, file));
  if (entries.length > LIMITS.metrics) {
    throw new InputError(`${file} holds ${entries.length} metrics; mlv register logs at most ${LIMITS.metrics}`);
  }
  for (const [k, v] of entries) {
    checkKey(k, `metric in ${file}:`);
    const n = toMetricValue(v);
    if (n === undefined) throw new InputError(`metric ${k} in ${file} must be a number, got ${JSON.stringify(v)}`);
    out[k] = n;
  }
  return out;
}

export function paramsFromFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(parseKeyValueFile(text, file));
  if (entries.length > LIMITS.params) {
    throw new InputError(`${file} holds ${entries.length} params; mlv register logs at most ${LIMITS.params}`);
  }
  for (const [k, v] of entries) {
    checkKey(k, `param in ${file}:`);
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    checkParamValue(k, out[k], `param ${k} in ${file}`);
  }
  return out;
}

/** MLflow refuses param values longer than 6000 characters (after the run exists): refuse them first. */
export function checkParamValue(key: string, value: string, what: string): void {
  if (value.length > LIMITS.paramValue) {
    throw new InputError(`${what} is ${value.length} characters long; MLflow keeps at most ${LIMITS.paramValue}`);
  }
}
