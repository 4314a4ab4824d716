/**
 * MLflow's validation rules (mlflow/utils/validation.py and the source checks of
 * mlflow/server/handlers.py), as the recorded exchanges in fixtures/mlflow-reference show them.
 * Pure functions: they throw MlflowApiError and touch nothing.
 */
import { posix } from 'node:path';
import { invalidParameter, invalidValue } from './errors.js';

export const MAX_ENTITY_KEY_LENGTH = 250;
export const MAX_PARAM_VAL_LENGTH = 6000;
export const MAX_TAG_VAL_LENGTH = 8000;
export const MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000;
export const MAX_REGISTRY_TAG_VALUE_LENGTH = 5000;
export const MAX_ALIAS_LENGTH = 255;
export const MAX_PARAMS_TAGS_PER_BATCH = 100;
export const MAX_METRICS_PER_BATCH = 1000;
export const MAX_ENTITIES_PER_BATCH = 1000;

const NAME_CHARS = /^[/\p{L}\p{N}_.\- :]*$/u;
const BAD_CHARS =
  'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';

/** Python's posixpath.normpath (differs from node's for '' and leading '//'). */
export function normpath(p: string): string {
  if (p === '') return '.';
  const leading = p.startsWith('//') && !p.startsWith('///') ? '//' : p.startsWith('/') ? '/' : '';
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part === '..' && leading !== '') continue;
    else out.push(part);
  }
  const joined = leading + out.join('/');
  return joined === '' ? '.' : joined;
}

function pyRepr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/'/g, "\\'")}'`;
}

/** Param, metric and tag keys: MLflow's character set, and no path that resolves elsewhere. */
export function validateKey(key: string, path: string): void {
  if (!NAME_CHARS.test(key)) throw invalidValue(path, key, BAD_CHARS);
  const norm = normpath(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw invalidValue(
      path,
      key,
      `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to ${pyRepr(norm)}`,
    );
  }
}

export function checkLength(entity: string, limit: number, value: string): void {
  if (value.length > limit) throw invalidParameter(`'${entity}' exceeds the maximum length of ${limit} characters`);
}

/** Registered-model and model-version tags (set-tag, and tags given to create). */
export function validateRegistryTag(key: string, value: string): void {
  validateKey(key, 'key');
  checkLength('key', MAX_ENTITY_KEY_LENGTH, key);
  checkLength('value', MAX_REGISTRY_TAG_VALUE_LENGTH, value);
}

export function validateExperimentTag(key: string, value: string): void {
  validateKey(key, 'key');
  checkLength('key', MAX_ENTITY_KEY_LENGTH, key);
  checkLength('value', MAX_EXPERIMENT_TAG_VAL_LENGTH, value);
}

const ALIAS_CHARS = /^[\p{L}\p{N}_-]*$/u;

/** MLflow's `_validate_model_alias_name`: characters, length, `latest` and `v<digits>` reserved. */
export function validateAlias(alias: string): void {
  if (!ALIAS_CHARS.test(alias)) {
    throw invalidParameter(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
    );
  }
  checkLength('Registered model alias name', MAX_ALIAS_LENGTH, alias);
  if (alias.toLowerCase() === 'latest') throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  if (/^[vV]\d+$/.test(alias)) throw invalidParameter(`Version alias name '${alias}' is reserved.`);
}

/** A model version number as given on the wire ("3"); MLflow 3's message for anything else. */
export function parseVersion(version: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(version)) {
    throw invalidParameter(`Parameter 'version' must be an integer, got '${version}'.`);
  }
  return Number.parseInt(version, 10);
}

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

/** Stage names are case-insensitive on input (`production` → `Production`). */
export function canonicalStage(stage: string): Stage {
  const found = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!found) {
    throw invalidParameter(`Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(', ')}.`);
  }
  return found;
}

/** Python's urllib.parse.urlparse, reduced to scheme / netloc / path. */
export function urlParts(uri: string): { scheme: string; netloc: string; path: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(uri);
  let scheme = '';
  let rest = uri;
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = m[2]!;
  }
  let netloc = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end === -1 ? rest.slice(2) : rest.slice(2, 2 + end);
    rest = end === -1 ? '' : rest.slice(2 + end);
  }
  const cut = rest.search(/[?#]/);
  return { scheme, netloc, path: cut === -1 ? rest : rest.slice(0, cut) };
}

/** Repeated percent-decoding, lenient like Python's unquote (bad sequences stay as they are). */
export function unquoteFully(s: string, plus = false): string {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const next = (plus ? cur.replace(/\+/g, ' ') : cur).replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

/** MLflow's `is_local_uri`: no scheme, or `file:` on this host. */
export function isLocalUri(uri: string): boolean {
  const { scheme } = urlParts(uri);
  return scheme === '' || scheme === 'file';
}

/**
 * model-versions/create source rules (§6 of SUMMARY.md): a local path is refused (this server's
 * runs never have local artifact roots), and any source whose path holds `..` or is not already
 * normalised is refused.
 */
export function validateVersionSource(source: string, via: 'run_id' | 'model_id'): void {
  if (isLocalUri(source)) {
    throw invalidParameter(
      via === 'run_id'
        ? `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`
        : `Invalid model version source: '${source}'. To use a local path as a model version source, the model_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the model_id.`,
    );
  }
  const message = `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`;
  const decoded = unquoteFully(source, true);
  const sourcePath = urlParts(decoded).path.replace(/\/+$/, '').replace(/\/+/g, '/');
  if (sourcePath.includes('\0') || decoded.split('/').some((p) => p === '..')) throw invalidParameter(message);
  if (!sourcePath.startsWith('/') || posix.normalize(sourcePath) !== sourcePath) throw invalidParameter(message);
}

/**
 * MLflow's `validate_path_is_safe` for artifact paths: decoded repeatedly, then no `..` segment,
 * no absolute or drive path, no backslash, `#` or NUL. Returns the normalised relative path
 * ('' for the root).
 */
export function safeArtifactPath(raw: string): string {
  const invalid = () => invalidParameter('Invalid path');
  const p = unquoteFully(raw);
  if (p.includes('#') || p.includes('\\') || p.includes('\0')) throw invalid();
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw invalid();
  const parts = p.split('/');
  if (parts.some((s) => s === '..')) throw invalid();
  return parts.filter((s) => s !== '' && s !== '.').join('/');
}
