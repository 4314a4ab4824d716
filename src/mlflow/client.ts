import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, InterruptedError, MlvError, RemoteError } from '../errors.js';
import { ArtifactsClient, artifactUriToProxyPath, type TransferOptions } from './artifacts.js';
import type { ClientConfig } from './config.js';
import { isMlflowError, MlflowApiError } from './errors.js';
import { HttpTransport, type QueryValue, type RetryMode, type HttpMethod } from './http.js';
import {
  field,
  list,
  metricValueToJson,
  parseExperiment,
  parseLoggedModel,
  parseModelVersion,
  parseRegisteredModel,
  parseRun,
  parseRunInfo,
  ProtocolError,
  tagList,
  type Experiment,
  type LoggedModel,
  type LoggedModelStatus,
  type ModelVersion,
  type ModelVersionStage,
  type Page,
  type Param,
  type RegisteredModel,
  type Run,
  type RunInfo,
  type RunStatus,
  type Tag,
} from './types.js';

/** Per-call options: every method takes them last. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Ignore the client's global signal (Ctrl-C): cleanup after an interrupt, bounded by `signal`. */
  detached?: boolean;
}

export type Tags = Record<string, string> | readonly Tag[];
export type Version = string | number;

export interface MetricInput {
  key: string;
  value: number;
  /** Epoch ms; default now. */
  timestamp?: number;
  step?: number;
}

export interface SearchOptions {
  filter?: string;
  /** Page size (registered models: MLflow's maximum is 1000; model versions: 200000). */
  maxResults?: number;
  orderBy?: readonly string[];
  pageToken?: string;
}

export type IterateOptions = Omit<SearchOptions, 'pageToken' | 'maxResults'> & { pageSize?: number };

/** MLflow's per-request limits for runs/log-batch (mlflow/utils/validation.py). */
export const LOG_BATCH_LIMITS = { params: 100, tags: 100, metrics: 1000, total: 1000 } as const;

const API = '/api/2.0/mlflow';

/**
 * A typed client for MLflow's REST API (2.x and 3.x): experiments, runs, the model registry,
 * MLflow 3 logged models, and artifacts through the artifact proxy (`client.artifacts`).
 *
 * Entities keep MLflow's JSON field names (types.ts). Failures are mlv errors: MlflowApiError
 * (4xx, exit 2, with `errorCode`), AuthError (401/403, exit 4), RemoteError (unreachable,
 * timeout, 5xx after retries; exit 3), NotFoundError for a missing artifact.
 */
export class MlflowClient {
  readonly artifacts: ArtifactsClient;
  private readonly http: HttpTransport;

  constructor(config: ClientConfig) {
    this.http = new HttpTransport(config);
    this.artifacts = new ArtifactsClient(this.http);
  }

  /** The server, credentials removed: safe to print. */
  get trackingUri(): string {
    return this.http.server;
  }

  /** Closes the connection pool. Idempotent. */
  close(): Promise<void> {
    return this.http.close();
  }

  // --- server -------------------------------------------------------------------------------

  /** `GET /health` without retries: ok when the server answers 200 "OK". Unreachable → RemoteError. */
  async health(opts: CallOptions = {}): Promise<{ ok: boolean; status: number; body: string }> {
    return this.http.send({
      method: 'GET',
      path: '/health',
      retry: 'idempotent',
      maxRetries: 0,
      signal: opts.signal,
      read: async (res) => {
        const body = (await res.body.text()).trim().slice(0, 200);
        return { ok: body === 'OK', status: res.status, body };
      },
      onError: (e) =>
        e.status === 401 || e.status === 403 ? undefined : { value: { ok: false, status: e.status, body: e.message } },
    });
  }

  /** `GET /version`: "2.17.3.dev0"; null when the server does not say (not MLflow, or too old). */
  async serverVersion(opts: CallOptions = {}): Promise<string | null> {
    return this.http.send<string | null>({
      method: 'GET',
      path: '/version',
      retry: 'idempotent',
      maxRetries: 1,
      signal: opts.signal,
      read: async (res) => {
        const text = (await res.body.text()).trim();
        return /^\d+\.\d+[\w.+-]*$/.test(text) ? text : null;
      },
      onError: (e) => (e.status === 401 || e.status === 403 ? undefined : { value: null }),
    });
  }

  // --- experiments --------------------------------------------------------------------------

  /** The experiment, or null when no experiment has that name. */
  async getExperimentByName(name: string, opts: CallOptions = {}): Promise<Experiment | null> {
    try {
      const body = await this.call('GET', '/experiments/get-by-name', { query: { experiment_name: name }, ...opts });
      return parseExperiment(field(body, 'experiment', 'experiments/get-by-name'));
    } catch (err) {
      if (isMlflowError(err, 'RESOURCE_DOES_NOT_EXIST')) return null;
      throw err;
    }
  }

  async getExperiment(experimentId: string, opts: CallOptions = {}): Promise<Experiment> {
    const body = await this.call('GET', '/experiments/get', { query: { experiment_id: experimentId }, ...opts });
    return parseExperiment(field(body, 'experiment', 'experiments/get'));
  }

  /** Creates an experiment and returns its id (MLflow returns only the id). Not retried once sent. */
  async createExperiment(
    input: { name: string; artifactLocation?: string; tags?: Tags },
    opts: CallOptions = {},
  ): Promise<string> {
    const body = await this.call('POST', '/experiments/create', {
      json: compact({
        name: input.name,
        artifact_location: input.artifactLocation,
        tags: input.tags ? tagList(input.tags) : undefined,
      }),
      retry: 'once',
      ...opts,
    });
    const id = (body as { experiment_id?: unknown }).experiment_id;
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new ProtocolError('unexpected answer from MLflow to experiments/create: no experiment_id');
    return String(id);
  }

  /** The experiment named `name`, created if missing (safe against a concurrent create). */
  async getOrCreateExperiment(name: string, input: { tags?: Tags } = {}, opts: CallOptions = {}): Promise<Experiment> {
    const existing = await this.getExperimentByName(name, opts);
    if (existing) return existing;
    try {
      const id = await this.createExperiment({ name, ...(input.tags ? { tags: input.tags } : {}) }, opts);
      return await this.getExperiment(id, opts);
    } catch (err) {
      if (!isMlflowError(err, 'RESOURCE_ALREADY_EXISTS')) throw err;
      const raced = await this.getExperimentByName(name, opts);
      if (raced) return raced;
      throw err;
    }
  }

  // --- runs ---------------------------------------------------------------------------------

  /** Creates a run (status RUNNING). `startTime` defaults to now: MLflow would store 0. */
  async createRun(
    input: { experimentId: string; runName?: string; startTime?: number; userId?: string; tags?: Tags },
    opts: CallOptions = {},
  ): Promise<Run> {
    const body = await this.call('POST', '/runs/create', {
      json: compact({
        experiment_id: input.experimentId,
        run_name: input.runName,
        start_time: input.startTime ?? Date.now(),
        user_id: input.userId,
        tags: input.tags ? tagList(input.tags) : undefined,
      }),
      retry: 'once',
      ...opts,
    });
    return parseRun(field(body, 'run', 'runs/create'));
  }

  async getRun(runId: string, opts: CallOptions = {}): Promise<Run> {
    const body = await this.call('GET', '/runs/get', { query: { run_id: runId }, ...opts });
    return parseRun(field(body, 'run', 'runs/get'));
  }

  /** Sets status / end time / name (repeatable, so retried). Note MLflow ignores an invalid status silently. */
  async updateRun(
    input: { runId: string; status?: RunStatus; endTime?: number; runName?: string },
    opts: CallOptions = {},
  ): Promise<RunInfo> {
    const body = await this.call('POST', '/runs/update', {
      json: compact({ run_id: input.runId, status: input.status, end_time: input.endTime, run_name: input.runName }),
      ...opts,
    });
    return parseRunInfo(field(body, 'run_info', 'runs/update'));
  }

  /**
   * Logs params, metrics and tags, split into as many requests as MLflow's limits need
   * (100 params, 100 tags, 1000 metrics, 1000 items per request). Requests carrying metrics are
   * not retried once sent (a metric logged twice is two points); params and tags are
   * (re-logging the same value is a no-op in MLflow). Not atomic across requests.
   */
  async logBatch(
    input: {
      runId: string;
      params?: readonly Param[] | Record<string, string>;
      metrics?: readonly MetricInput[];
      tags?: Tags;
    },
    opts: CallOptions = {},
  ): Promise<{ requests: number }> {
    const params = input.params === undefined ? [] : tagList(input.params as Tags);
    const tags = input.tags === undefined ? [] : tagList(input.tags);
    const now = Date.now();
    // MLflow defaults a missing step to 0; leaving it out keeps the request as MLflow's clients send it.
    const metrics = (input.metrics ?? []).map((m) =>
      compact({ key: m.key, value: metricValueToJson(m.value), timestamp: m.timestamp ?? now, step: m.step }),
    );
    const chunks = chunkBatch(params, metrics, tags);
    for (const chunk of chunks) {
      await this.call('POST', '/runs/log-batch', {
        json: compact({
          run_id: input.runId,
          params: chunk.params.length > 0 ? chunk.params : undefined,
          metrics: chunk.metrics.length > 0 ? chunk.metrics : undefined,
          tags: chunk.tags.length > 0 ? chunk.tags : undefined,
        }),
        retry: chunk.metrics.length > 0 ? 'once' : 'idempotent',
        ...opts,
      });
    }
    return { requests: chunks.length };
  }

  // --- registered models --------------------------------------------------------------------

  /** Not retried once sent; a duplicate name is MlflowApiError RESOURCE_ALREADY_EXISTS. */
  async createRegisteredModel(
    input: { name: string; description?: string; tags?: Tags },
    opts: CallOptions = {},
  ): Promise<RegisteredModel> {
    const body = await this.call('POST', '/registered-models/create', {
      json: compact({
        name: input.name,
        description: input.description,
        tags: input.tags ? tagList(input.tags) : undefined,
      }),
      retry: 'once',
      ...opts,
    });
    return parseRegisteredModel(field(body, 'registered_model', 'registered-models/create'));
  }

  async getRegisteredModel(name: string, opts: CallOptions = {}): Promise<RegisteredModel> {
    const body = await this.call('GET', '/registered-models/get', { query: { name }, ...opts });
    return parseRegisteredModel(field(body, 'registered_model', 'registered-models/get'));
  }

  /** The registered model, or null when there is none with that name. */
  async findRegisteredModel(name: string, opts: CallOptions = {}): Promise<RegisteredModel | null> {
    try {
      return await this.getRegisteredModel(name, opts);
    } catch (err) {
      if (isMlflowError(err, 'RESOURCE_DOES_NOT_EXIST')) return null;
      throw err;
    }
  }

  /** One page of `GET /registered-models/search` (an empty result is MLflow's `{}` → no items). */
  async searchRegisteredModels(search: SearchOptions = {}, opts: CallOptions = {}): Promise<Page<RegisteredModel>> {
    const body = await this.call('GET', '/registered-models/search', { query: searchQuery(search), ...opts });
    return { items: list(body, 'registered_models').map(parseRegisteredModel), nextPageToken: pageToken(body) };
  }

  /** Every registered model matching the search, page after page. */
  iterateRegisteredModels(search: IterateOptions = {}, opts: CallOptions = {}): AsyncGenerator<RegisteredModel> {
    return paginate((pageToken) =>
      this.searchRegisteredModels({ ...search, maxResults: search.pageSize ?? 100, pageToken }, opts),
    );
  }

  async updateRegisteredModel(
    input: { name: string; description: string },
    opts: CallOptions = {},
  ): Promise<RegisteredModel> {
    const body = await this.call('PATCH', '/registered-models/update', {
      json: { name: input.name, description: input.description },
      ...opts,
    });
    return parseRegisteredModel(field(body, 'registered_model', 'registered-models/update'));
  }

  /** Not retried once sent (a repeated rename would fail on the old name). */
  async renameRegisteredModel(name: string, newName: string, opts: CallOptions = {}): Promise<RegisteredModel> {
    const body = await this.call('POST', '/registered-models/rename', {
      json: { name, new_name: newName },
      retry: 'once',
      ...opts,
    });
    return parseRegisteredModel(field(body, 'registered_model', 'registered-models/rename'));
  }

  /** Deletes the model and all its versions. A retry that finds it gone counts as done. */
  async deleteRegisteredModel(name: string, opts: CallOptions = {}): Promise<void> {
    await this.call('DELETE', '/registered-models/delete', { json: { name }, goneIsDoneOnRetry: true, ...opts });
  }

  async setRegisteredModelTag(name: string, key: string, value: string, opts: CallOptions = {}): Promise<void> {
    await this.call('POST', '/registered-models/set-tag', { json: { name, key, value }, ...opts });
  }

  /** Deleting a tag that is not set succeeds, as in MLflow. */
  async deleteRegisteredModelTag(name: string, key: string, opts: CallOptions = {}): Promise<void> {
    await this.call('DELETE', '/registered-models/delete-tag', { json: { name, key }, ...opts });
  }

  /** Points `alias` at `version` (moving it if it exists). `latest` and `v<digits>` are reserved by MLflow. */
  async setRegisteredModelAlias(name: string, alias: string, version: Version, opts: CallOptions = {}): Promise<void> {
    await this.call('POST', '/registered-models/alias', { json: { name, alias, version: String(version) }, ...opts });
  }

  /** Deleting a missing alias succeeds, as in MLflow. */
  async deleteRegisteredModelAlias(name: string, alias: string, opts: CallOptions = {}): Promise<void> {
    await this.call('DELETE', '/registered-models/alias', { json: { name, alias }, ...opts });
  }

  /**
   * The version an alias points at (with its `aliases`). A missing alias is MLflow's
   * 400 INVALID_PARAMETER_VALUE, not a 404 (SUMMARY.md §7); `findModelVersionByAlias` returns null instead.
   */
  async getModelVersionByAlias(name: string, alias: string, opts: CallOptions = {}): Promise<ModelVersion> {
    const body = await this.call('GET', '/registered-models/alias', { query: { name, alias }, ...opts });
    return parseModelVersion(field(body, 'model_version', 'registered-models/alias'));
  }

  /**
   * The version behind `alias`, or null when the model has no such alias. An unknown model is
   * still an error (404). MLflow's "alias not found" is a 400 whose text is not stable, so the
   * model's alias list decides.
   */
  async findModelVersionByAlias(name: string, alias: string, opts: CallOptions = {}): Promise<ModelVersion | null> {
    try {
      return await this.getModelVersionByAlias(name, alias, opts);
    } catch (err) {
      if (!isMlflowError(err, 'INVALID_PARAMETER_VALUE') && !isMlflowError(err, 'RESOURCE_DOES_NOT_EXIST')) throw err;
      const model = await this.getRegisteredModel(name, opts);
      if (model.aliases.some((a) => a.alias === alias)) throw err;
      return null;
    }
  }

  /** The newest version in each of `stages` (all stages when omitted). */
  async getLatestVersions(
    name: string,
    stages?: readonly ModelVersionStage[] | readonly string[],
    opts: CallOptions = {},
  ): Promise<ModelVersion[]> {
    const body = await this.call('POST', '/registered-models/get-latest-versions', {
      json: compact({ name, stages: stages && stages.length > 0 ? [...stages] : undefined }),
      ...opts,
    });
    return list(body, 'model_versions').map(parseModelVersion);
  }

  // --- model versions -----------------------------------------------------------------------

  /**
   * Registers a version. Not retried once sent (a retry would register a second version).
   * MLflow may answer PENDING_REGISTRATION: call `waitForReady` before using it.
   */
  async createModelVersion(
    input: {
      name: string;
      source: string;
      runId?: string;
      runLink?: string;
      description?: string;
      tags?: Tags;
      modelId?: string;
    },
    opts: CallOptions = {},
  ): Promise<ModelVersion> {
    const body = await this.call('POST', '/model-versions/create', {
      json: compact({
        name: input.name,
        source: input.source,
        run_id: input.runId,
        run_link: input.runLink,
        description: input.description,
        tags: input.tags ? tagList(input.tags) : undefined,
        model_id: input.modelId,
      }),
      retry: 'once',
      ...opts,
    });
    return parseModelVersion(field(body, 'model_version', 'model-versions/create'));
  }

  async getModelVersion(name: string, version: Version, opts: CallOptions = {}): Promise<ModelVersion> {
    const body = await this.call('GET', '/model-versions/get', { query: { name, version: String(version) }, ...opts });
    return parseModelVersion(field(body, 'model_version', 'model-versions/get'));
  }

  /** One page of `GET /model-versions/search` (filter e.g. `name='m'`, `run_id='…'`, `tags.k='v'`). */
  async searchModelVersions(search: SearchOptions = {}, opts: CallOptions = {}): Promise<Page<ModelVersion>> {
    const body = await this.call('GET', '/model-versions/search', { query: searchQuery(search), ...opts });
    return { items: list(body, 'model_versions').map(parseModelVersion), nextPageToken: pageToken(body) };
  }

  /** Every model version matching the search, page after page. */
  iterateModelVersions(search: IterateOptions = {}, opts: CallOptions = {}): AsyncGenerator<ModelVersion> {
    return paginate((pageToken) =>
      this.searchModelVersions({ ...search, maxResults: search.pageSize ?? 1000, pageToken }, opts),
    );
  }

  async updateModelVersion(
    input: { name: string; version: Version; description: string },
    opts: CallOptions = {},
  ): Promise<ModelVersion> {
    const body = await this.call('PATCH', '/model-versions/update', {
      json: { name: input.name, version: String(input.version), description: input.description },
      ...opts,
    });
    return parseModelVersion(field(body, 'model_version', 'model-versions/update'));
  }

  /** Deletes a version (its number is never reused). A retry that finds it gone counts as done. */
  async deleteModelVersion(name: string, version: Version, opts: CallOptions = {}): Promise<void> {
    await this.call('DELETE', '/model-versions/delete', {
      json: { name, version: String(version) },
      goneIsDoneOnRetry: true,
      ...opts,
    });
  }

  async setModelVersionTag(
    name: string,
    version: Version,
    key: string,
    value: string,
    opts: CallOptions = {},
  ): Promise<void> {
    await this.call('POST', '/model-versions/set-tag', {
      json: { name, version: String(version), key, value },
      ...opts,
    });
  }

  async deleteModelVersionTag(name: string, version: Version, key: string, opts: CallOptions = {}): Promise<void> {
    await this.call('DELETE', '/model-versions/delete-tag', { json: { name, version: String(version), key }, ...opts });
  }

  /**
   * Moves a version to a stage (None, Staging, Production, Archived; MLflow accepts any case).
   * With `archiveExistingVersions`, the other versions in the target stage become Archived.
   * Repeating it with the same target is harmless, so it is retried.
   */
  async transitionModelVersionStage(
    input: { name: string; version: Version; stage: ModelVersionStage | string; archiveExistingVersions?: boolean },
    opts: CallOptions = {},
  ): Promise<ModelVersion> {
    const body = await this.call('POST', '/model-versions/transition-stage', {
      json: {
        name: input.name,
        version: String(input.version),
        stage: input.stage,
        archive_existing_versions: input.archiveExistingVersions ?? false,
      },
      ...opts,
    });
    return parseModelVersion(field(body, 'model_version', 'model-versions/transition-stage'));
  }

  /** Where the version's files are: `mlflow-artifacts:/…`, or `runs:/<run>/<path>` as registered. */
  async getModelVersionDownloadUri(name: string, version: Version, opts: CallOptions = {}): Promise<string> {
    const body = await this.call('GET', '/model-versions/get-download-uri', {
      query: { name, version: String(version) },
      ...opts,
    });
    const uri = (body as { artifact_uri?: unknown }).artifact_uri;
    if (typeof uri !== 'string' || uri === '')
      throw new ProtocolError('unexpected answer from MLflow to model-versions/get-download-uri: no artifact_uri');
    return uri;
  }

  /** Same as getModelVersionDownloadUri. */
  getDownloadUri(name: string, version: Version, opts: CallOptions = {}): Promise<string> {
    return this.getModelVersionDownloadUri(name, version, opts);
  }

  /**
   * Polls the version while it is PENDING_REGISTRATION. READY → the version;
   * FAILED_REGISTRATION → RemoteError with MLflow's status_message; still pending after
   * `timeoutMs` (default 300 s) → RemoteError MLV_REGISTRATION_TIMEOUT.
   */
  async waitForReady(
    name: string,
    version: Version,
    options: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {},
  ): Promise<ModelVersion> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const pollMs = options.pollMs ?? 1_000;
    const deadline = Date.now() + timeoutMs;
    const call = options.signal ? { signal: options.signal } : {};
    for (;;) {
      const mv = await this.getModelVersion(name, version, call);
      if (mv.status === 'READY') return mv;
      if (mv.status === 'FAILED_REGISTRATION') {
        throw new RemoteError(
          `model version ${name} v${mv.version} failed to register${mv.status_message ? `: ${mv.status_message}` : ''}`,
          { code: 'MLV_REGISTRATION_FAILED', hint: `check its source (${mv.source}) and the server log` },
        );
      }
      if (mv.status !== 'PENDING_REGISTRATION') {
        throw new ProtocolError(
          `model version ${name} v${mv.version} has an unknown status ${JSON.stringify(mv.status)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new RemoteError(
          `model version ${name} v${mv.version} is still PENDING_REGISTRATION after ${timeoutMs % 1000 === 0 ? timeoutMs / 1000 : (timeoutMs / 1000).toFixed(1)}s`,
          {
            code: 'MLV_REGISTRATION_TIMEOUT',
            hint: 'the server is still copying its files; check again later, or wait longer',
          },
        );
      }
      try {
        await sleep(Math.min(pollMs, left), undefined, options.signal ? { signal: options.signal } : undefined);
      } catch {
        const reason: unknown = options.signal?.reason;
        throw reason instanceof MlvError ? reason : new InterruptedError();
      }
    }
  }

  // --- MLflow 3 logged models ---------------------------------------------------------------

  /** `POST /logged-models` (MLflow 3): status starts as LOGGED_MODEL_PENDING. Not retried once sent. */
  async createLoggedModel(
    input: {
      experimentId: string;
      name?: string;
      sourceRunId?: string;
      modelType?: string;
      params?: readonly Param[] | Record<string, string>;
      tags?: Tags;
    },
    opts: CallOptions = {},
  ): Promise<LoggedModel> {
    const body = await this.call('POST', '/logged-models', {
      json: compact({
        experiment_id: input.experimentId,
        name: input.name,
        model_type: input.modelType,
        source_run_id: input.sourceRunId,
        params: input.params ? tagList(input.params as Tags) : undefined,
        tags: input.tags ? tagList(input.tags) : undefined,
      }),
      retry: 'once',
      ...opts,
    });
    return parseLoggedModel(field(body, 'model', 'logged-models create'));
  }

  /** `PATCH /logged-models/<id>`: marks it READY (or another final status). */
  async finalizeLoggedModel(
    modelId: string,
    status: LoggedModelStatus = 'LOGGED_MODEL_READY',
    opts: CallOptions = {},
  ): Promise<LoggedModel> {
    const body = await this.call('PATCH', `/logged-models/${encodeURIComponent(modelId)}`, {
      json: { model_id: modelId, status },
      ...opts,
    });
    return parseLoggedModel(field(body, 'model', 'logged-models finalize'));
  }

  async getLoggedModel(modelId: string, opts: CallOptions = {}): Promise<LoggedModel> {
    const body = await this.call('GET', `/logged-models/${encodeURIComponent(modelId)}`, opts);
    return parseLoggedModel(field(body, 'model', 'logged-models get'));
  }

  // --- artifacts ----------------------------------------------------------------------------

  /**
   * The artifact-proxy path behind an artifact URI: `mlflow-artifacts:/…` directly;
   * `runs:/<run>/<path>` through the run's artifact_uri; `models:/<name>/<version>`,
   * `models:/<name>@<alias>` through the version's download URI; `models:/m-…` through the
   * logged model. Anything else (s3:, file:) is an InputError: mlv only uses the proxy.
   */
  async resolveArtifactUri(uri: string, opts: CallOptions = {}): Promise<string> {
    for (let depth = 0, current = uri.trim(); depth < 5; depth++) {
      const runs = /^runs:\/+([^/]+)(?:\/(.*))?$/.exec(current);
      if (runs) {
        const run = await this.getRun(runs[1]!, opts);
        const base = run.info.artifact_uri.replace(/\/+$/, '');
        current = runs[2] ? `${base}/${runs[2]}` : base;
        continue;
      }
      const models = /^models:\/+(.+)$/.exec(current);
      if (models) {
        const ref = models[1]!.replace(/\/+$/, '');
        const at = /^(.+)@([^@/]+)$/.exec(ref);
        const slash = /^(.+)\/([^/]+)$/.exec(ref);
        if (at) {
          const mv = await this.getModelVersionByAlias(at[1]!, at[2]!, opts);
          current = await this.getModelVersionDownloadUri(mv.name, mv.version, opts);
        } else if (slash) {
          current = await this.getModelVersionDownloadUri(slash[1]!, slash[2]!, opts);
        } else {
          current = (await this.getLoggedModel(ref, opts)).info.artifact_uri;
        }
        continue;
      }
      return artifactUriToProxyPath(current);
    }
    throw new InputError(`artifact URI ${uri} refers to itself through too many runs:/ or models:/ hops`);
  }

  /** Same as `artifacts.uploadFile`. */
  uploadFile(localPath: string, remotePath: string, opts?: TransferOptions) {
    return this.artifacts.uploadFile(localPath, remotePath, opts);
  }

  /** Same as `artifacts.uploadDirectory`. */
  uploadDirectory(localDir: string, remoteDir: string, opts?: TransferOptions) {
    return this.artifacts.uploadDirectory(localDir, remoteDir, opts);
  }

  /** Same as `artifacts.downloadFile`. */
  downloadFile(remotePath: string, localPath: string, opts?: TransferOptions) {
    return this.artifacts.downloadFile(remotePath, localPath, opts);
  }

  /** Same as `artifacts.downloadDirectory`. */
  downloadDirectory(remoteDir: string, localDir: string, opts?: TransferOptions) {
    return this.artifacts.downloadDirectory(remoteDir, localDir, opts);
  }

  /** Same as `artifacts.list`. */
  listArtifacts(remoteDir?: string, opts?: CallOptions) {
    return this.artifacts.list(remoteDir, opts);
  }

  // --- plumbing -----------------------------------------------------------------------------

  /**
   * One JSON call under /api/2.0/mlflow. GETs, PATCHes, DELETEs and the POSTs that set a value
   * are retried; create-type POSTs pass `retry: 'once'`.
   */
  private call(
    method: HttpMethod,
    endpoint: string,
    opts: CallOptions & {
      query?: Record<string, QueryValue>;
      json?: unknown;
      retry?: RetryMode;
      /** A DELETE whose retry answers RESOURCE_DOES_NOT_EXIST: the first attempt did it. */
      goneIsDoneOnRetry?: boolean;
    },
  ): Promise<Record<string, unknown>> {
    return this.http.json<Record<string, unknown>>({
      method,
      path: `${API}${endpoint}`,
      ...(opts.query ? { query: opts.query } : {}),
      ...(opts.json !== undefined ? { json: opts.json } : {}),
      retry: opts.retry ?? 'idempotent',
      signal: opts.signal,
      ...(opts.detached ? { detached: true } : {}),
      ...(opts.goneIsDoneOnRetry
        ? {
            onError: (e, attempt) =>
              attempt > 1 && e.errorCode === 'RESOURCE_DOES_NOT_EXIST' ? { value: {} } : undefined,
          }
        : {}),
    });
  }
}

/** Splits a batch to MLflow's per-request limits; every request is as full as the limits allow. */
export function chunkBatch<P, M, T>(
  params: readonly P[],
  metrics: readonly M[],
  tags: readonly T[],
  limits: { params: number; tags: number; metrics: number; total: number } = LOG_BATCH_LIMITS,
): { params: P[]; metrics: M[]; tags: T[] }[] {
  const chunks: { params: P[]; metrics: M[]; tags: T[] }[] = [];
  let p = 0;
  let m = 0;
  let t = 0;
  do {
    const np = Math.min(limits.params, params.length - p);
    const nt = Math.min(limits.tags, tags.length - t);
    const nm = Math.min(limits.metrics, limits.total - np - nt, metrics.length - m);
    chunks.push({ params: params.slice(p, p + np), metrics: metrics.slice(m, m + nm), tags: tags.slice(t, t + nt) });
    p += np;
    t += nt;
    m += nm;
  } while (p < params.length || m < metrics.length || t < tags.length);
  return chunks;
}

async function* paginate<T>(fetchPage: (pageToken: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    yield* page.items;
    token = page.nextPageToken;
    if (token !== undefined) {
      if (seen.has(token))
        throw new ProtocolError('MLflow returned the same next_page_token twice; stopping to avoid an endless listing');
      seen.add(token);
    }
  } while (token !== undefined);
}

function searchQuery(search: SearchOptions): Record<string, QueryValue> {
  return {
    filter: search.filter,
    max_results: search.maxResults,
    order_by: search.orderBy && search.orderBy.length > 0 ? search.orderBy : undefined,
    page_token: search.pageToken,
  };
}

function pageToken(body: unknown): string | undefined {
  const token = (body as { next_page_token?: unknown }).next_page_token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** Drops undefined fields: MLflow treats a present-but-empty field differently from an absent one. */
function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

// Re-exported so commands can import the client's vocabulary from one place.
export { isMlflowError, MlflowApiError };
