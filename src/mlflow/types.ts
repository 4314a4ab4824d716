import { RemoteError } from '../errors.js';

/**
 * MLflow's REST entities, with MLflow's own (snake_case) field names, as emitted by MLflow 2.17
 * and 3.6 (fixtures/mlflow-reference/SUMMARY.md §3). The parse functions turn a response into
 * these types: arrays MLflow omits when empty become `[]`, strings it omits become `''`,
 * versions are strings, timestamps are epoch milliseconds, and metric values "NaN" /
 * "Infinity" / "-Infinity" become numbers.
 */

export interface Tag {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  /** `mlflow-artifacts:/<id>` on a server started with --serve-artifacts. */
  artifact_location: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
  tags: Tag[];
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface RunInfo {
  run_id: string;
  run_uuid: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  /** `mlflow-artifacts:/<experiment_id>/<run_id>/artifacts`. */
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface Metric {
  key: string;
  /** NaN and ±Infinity travel as the strings "NaN", "Infinity", "-Infinity"; here they are numbers. */
  value: number;
  timestamp: number;
  step: number;
}

export interface Param {
  key: string;
  value: string;
}

export interface RunData {
  /** Only the latest value of each key. */
  metrics: Metric[];
  params: Param[];
  tags: Tag[];
}

export interface Run {
  info: RunInfo;
  data: RunData;
}

export type ModelVersionStage = 'None' | 'Staging' | 'Production' | 'Archived';
export const MODEL_VERSION_STAGES: readonly ModelVersionStage[] = ['None', 'Staging', 'Production', 'Archived'];

export type ModelVersionStatus = 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';

export interface ModelVersion {
  name: string;
  /** A decimal integer as a string: "1". */
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: ModelVersionStage;
  description: string;
  source: string;
  run_id: string;
  run_link: string;
  status: ModelVersionStatus;
  status_message?: string;
  user_id?: string;
  tags: Tag[];
  /** Plain strings; only `model-versions/get` and `GET registered-models/alias` fill them. */
  aliases: string[];
  /** MLflow 3 LoggedModel id, when the server returns it (3.6 does not). */
  model_id?: string;
}

export interface RegisteredModelAlias {
  alias: string;
  version: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  tags: Tag[];
  /** The newest version of each stage that has one (without aliases). */
  latest_versions: ModelVersion[];
  /** Objects here, unlike ModelVersion.aliases. */
  aliases: RegisteredModelAlias[];
}

/** An entry of an artifact listing. `path` is relative to the listed directory (proxy) or run root (artifacts/list). */
export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export type LoggedModelStatus =
  'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED' | (string & {});

export interface LoggedModelInfo {
  /** `m-<32 hex>`. */
  model_id: string;
  experiment_id: string;
  name: string;
  /** `mlflow-artifacts:/<exp>/models/<model_id>/artifacts`. */
  artifact_uri: string;
  status: LoggedModelStatus;
  model_type: string;
  source_run_id: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  tags: Tag[];
}

export interface LoggedModel {
  info: LoggedModelInfo;
  data: { params: Param[]; metrics: Metric[] };
}

/** One page of a search. */
export interface Page<T> {
  items: T[];
  /** Pass back as `pageToken` for the next page; undefined on the last page. */
  nextPageToken: string | undefined;
}

/** `[{key, value}]` → `{key: value}` (the last value wins, as in MLflow). */
export function tagMap(tags: readonly Tag[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) out[t.key] = t.value;
  return out;
}

/** `{key: value}` → `[{key, value}]`. */
export function tagList(tags: Record<string, string> | readonly Tag[] | undefined): Tag[] {
  if (tags === undefined) return [];
  if (Array.isArray(tags)) return tags.map((t: Tag) => ({ key: t.key, value: t.value }));
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

/** JSON has no NaN/Infinity: MLflow (protobuf JSON) writes them as strings. */
export function metricValueToJson(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

// ---------------------------------------------------------------------------------------------
// Parsing. Lenient about what MLflow omits, strict about identity fields: a response without a
// model's name is not MLflow's and is reported as a protocol error.

type Json = Record<string, unknown>;

export class ProtocolError extends RemoteError {
  constructor(message: string) {
    super(message, {
      code: 'MLV_REMOTE_PROTOCOL',
      hint: 'is the tracking URI an MLflow server of version 2.x or 3.x?',
    });
  }
}

/** The object under `key`, or a protocol error naming what was missing. */
export function field(body: unknown, key: string, what: string): Json {
  const value = isObject(body) ? body[key] : undefined;
  if (!isObject(value)) throw new ProtocolError(`unexpected answer from MLflow to ${what}: no "${key}" object`);
  return value;
}

/** The array under `key`; MLflow omits empty arrays, so a missing key is `[]`. */
export function list(body: unknown, key: string): unknown[] {
  const value = isObject(body) ? body[key] : undefined;
  return Array.isArray(value) ? value : [];
}

export function parseTags(value: unknown): Tag[] {
  return Array.isArray(value) ? value.filter(isObject).map((t) => ({ key: str(t.key), value: str(t.value) })) : [];
}

export function parseExperiment(raw: unknown): Experiment {
  const o = obj(raw, 'experiment');
  const out: Experiment = {
    experiment_id: required(o, 'experiment_id', 'experiment'),
    name: str(o.name),
    artifact_location: str(o.artifact_location),
    lifecycle_stage: str(o.lifecycle_stage) || 'active',
    tags: parseTags(o.tags),
  };
  if (o.creation_time !== undefined) out.creation_time = num(o.creation_time);
  if (o.last_update_time !== undefined) out.last_update_time = num(o.last_update_time);
  return out;
}

export function parseRunInfo(raw: unknown): RunInfo {
  const o = obj(raw, 'run info');
  const runId = str(o.run_id) || str(o.run_uuid);
  if (runId === '') throw new ProtocolError('unexpected answer from MLflow: a run without run_id');
  const out: RunInfo = {
    run_id: runId,
    run_uuid: str(o.run_uuid) || runId,
    experiment_id: str(o.experiment_id),
    run_name: str(o.run_name),
    user_id: str(o.user_id),
    status: (str(o.status) || 'RUNNING') as RunStatus,
    start_time: num(o.start_time),
    artifact_uri: str(o.artifact_uri),
    lifecycle_stage: str(o.lifecycle_stage) || 'active',
  };
  if (o.end_time !== undefined && o.end_time !== null) out.end_time = num(o.end_time);
  return out;
}

export function parseMetric(raw: unknown): Metric {
  const o = obj(raw, 'metric');
  return { key: str(o.key), value: metricNumber(o.value), timestamp: num(o.timestamp), step: num(o.step) };
}

export function parseRun(raw: unknown): Run {
  const o = obj(raw, 'run');
  const data = isObject(o.data) ? o.data : {};
  return {
    info: parseRunInfo(o.info),
    data: {
      metrics: list(data, 'metrics').map(parseMetric),
      params: list(data, 'params')
        .filter(isObject)
        .map((p) => ({ key: str(p.key), value: str(p.value) })),
      tags: parseTags(data.tags),
    },
  };
}

export function parseModelVersion(raw: unknown): ModelVersion {
  const o = obj(raw, 'model version');
  const out: ModelVersion = {
    name: required(o, 'name', 'model version'),
    version: required(o, 'version', 'model version'),
    creation_timestamp: num(o.creation_timestamp),
    last_updated_timestamp: num(o.last_updated_timestamp),
    current_stage: (str(o.current_stage) || 'None') as ModelVersionStage,
    description: str(o.description),
    source: str(o.source),
    run_id: str(o.run_id),
    run_link: str(o.run_link),
    status: (str(o.status) || 'READY') as ModelVersionStatus,
    tags: parseTags(o.tags),
    aliases: Array.isArray(o.aliases) ? o.aliases.map((a) => (isObject(a) ? str(a.alias) : str(a))) : [],
  };
  if (typeof o.status_message === 'string' && o.status_message !== '') out.status_message = o.status_message;
  if (typeof o.user_id === 'string' && o.user_id !== '') out.user_id = o.user_id;
  if (typeof o.model_id === 'string' && o.model_id !== '') out.model_id = o.model_id;
  return out;
}

export function parseRegisteredModel(raw: unknown): RegisteredModel {
  const o = obj(raw, 'registered model');
  return {
    name: required(o, 'name', 'registered model'),
    creation_timestamp: num(o.creation_timestamp),
    last_updated_timestamp: num(o.last_updated_timestamp),
    description: str(o.description),
    tags: parseTags(o.tags),
    latest_versions: list(o, 'latest_versions').map(parseModelVersion),
    aliases: list(o, 'aliases')
      .filter(isObject)
      .map((a) => ({ alias: str(a.alias), version: str(a.version) })),
  };
}

export function parseFileInfo(raw: unknown): FileInfo {
  const o = obj(raw, 'file info');
  const out: FileInfo = { path: str(o.path), is_dir: o.is_dir === true };
  if (o.file_size !== undefined && o.file_size !== null) out.file_size = num(o.file_size);
  return out;
}

export function parseLoggedModel(raw: unknown): LoggedModel {
  const o = obj(raw, 'logged model');
  const info = obj(o.info, 'logged model info');
  const data = isObject(o.data) ? o.data : {};
  return {
    info: {
      model_id: required(info, 'model_id', 'logged model'),
      experiment_id: str(info.experiment_id),
      name: str(info.name),
      artifact_uri: str(info.artifact_uri),
      status: str(info.status) as LoggedModelStatus,
      model_type: str(info.model_type),
      source_run_id: str(info.source_run_id),
      creation_timestamp_ms: num(info.creation_timestamp_ms),
      last_updated_timestamp_ms: num(info.last_updated_timestamp_ms),
      tags: parseTags(info.tags),
    },
    data: {
      params: list(data, 'params')
        .filter(isObject)
        .map((p) => ({ key: str(p.key), value: str(p.value) })),
      metrics: list(data, 'metrics').map(parseMetric),
    },
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function obj(value: unknown, what: string): Json {
  if (!isObject(value)) throw new ProtocolError(`unexpected answer from MLflow: ${what} is not an object`);
  return value;
}

function required(o: Json, key: string, what: string): string {
  const value = str(o[key]);
  if (value === '') throw new ProtocolError(`unexpected answer from MLflow: a ${what} without ${key}`);
  return value;
}

function str(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/** int64 fields are JSON numbers in MLflow's output; some proxies re-encode them as strings. */
function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return 0;
}

function metricNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return NaN;
}
