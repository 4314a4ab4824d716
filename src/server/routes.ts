/**
 * The REST endpoints: MLflow's `/api/2.0/mlflow/...` paths (also served under `/ajax-api/2.0/`)
 * mapped to the stores, each with the request schema MLflow's handler declares.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { guessContentType, type ArtifactStore } from './artifacts.js';
import { invalidValue, missingParameter, wrongType } from './errors.js';
import {
  checkJsonContentType,
  keyValues,
  MAX_JSON_BODY,
  paramsFromQuery,
  parseJsonObject,
  readBody,
  sendJson,
  toInt,
  validateParams,
  type Method,
  type Params,
  type Schema,
} from './http.js';
import { MODEL_VERSIONS_MAX_RESULTS, REGISTERED_MODELS_MAX_RESULTS, type RegistryStore } from './registry.js';
import type { Metric, TrackingStore } from './tracking.js';
import { safeArtifactPath, urlParts } from './validation.js';

export interface Stores {
  tracking: TrackingStore;
  registry: RegistryStore;
  artifacts: ArtifactStore;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: Method;
  query: URLSearchParams;
  /** Decoded dynamic path segments (logged-model id, tag key). */
  pathParams: string[];
  stores: Stores;
}

export type Endpoint = (ctx: RequestContext) => Promise<void>;
export type RouteTable = Record<string, Partial<Record<Method, Endpoint>>>;

/**
 * A JSON endpoint: reads the fields (query string for GET, JSON body otherwise), validates them
 * against the schema, and answers 200 with what `fn` returns (`{}` for nothing).
 */
function json(schema: Schema, fn: (p: Params, raw: Params, ctx: RequestContext) => unknown): Endpoint {
  return async (ctx) => {
    let raw: Params;
    if (ctx.method === 'GET') {
      raw = paramsFromQuery(ctx.query, schema);
      if (schema.run_id && raw.run_id === undefined && ctx.query.has('run_uuid'))
        raw.run_id = ctx.query.get('run_uuid');
    } else {
      if (ctx.method === 'POST') checkJsonContentType(ctx.req);
      raw = parseJsonObject(await readBody(ctx.req, MAX_JSON_BODY));
      if (schema.run_id && raw.run_id === undefined && raw.run_uuid !== undefined) raw.run_id = raw.run_uuid;
    }
    const p = validateParams(raw, schema);
    sendJson(ctx.res, 200, (await fn(p, raw, ctx)) ?? {});
  };
}

const str = (required = false) => ({ kind: 'string' as const, required });
const int = { kind: 'int' as const };
const arr = { kind: 'array' as const };
const strs = { kind: 'strings' as const };

/** max_results: default, and MLflow's upper limit (reported with MLflow's odd "type" hint). */
function maxResults(p: Params, raw: Params, fallback: number, limit: number): number {
  const n = p.max_results as number | undefined;
  if (n === undefined) return fallback;
  if (n > limit) throw wrongType('max_results', raw.max_results);
  return n;
}

function optionalString(p: Params, key: string): string | undefined {
  const v = p[key] as string | undefined;
  return v === undefined || v === '' ? undefined : v;
}

function viewType(raw: unknown): 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL' {
  if (raw === undefined || raw === null || raw === '') return 'ACTIVE_ONLY';
  const v = String(raw).toUpperCase();
  if (v === '1' || v === 'ACTIVE_ONLY') return 'ACTIVE_ONLY';
  if (v === '2' || v === 'DELETED_ONLY') return 'DELETED_ONLY';
  if (v === '3' || v === 'ALL') return 'ALL';
  throw wrongType('view_type', raw);
}

/** A metric value in protobuf JSON: a number, "NaN", "Infinity", "-Infinity" or a numeric string. */
function metricValue(value: unknown, path: string, timestamp: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    if (value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  // MLflow 2.17/3.6 store a non-numeric value as 0.0 (a swallowed parse error); we refuse it.
  throw invalidValue(
    path,
    value,
    `(timestamp=${String(timestamp)}). Please specify value as a valid double (64-bit floating point)`,
  );
}

function metrics(value: unknown): Metric[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrongType('metrics', value);
  return value.map((m: unknown, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw wrongType(`metrics[${i}]`, m);
    const { key, value: v, timestamp, step } = m as Record<string, unknown>;
    for (const [field, val] of [
      ['key', key],
      ['value', v],
      ['timestamp', timestamp],
    ] as const) {
      if (val === undefined || val === null || val === '') throw missingParameter(`metrics[${i}].${field}`);
    }
    if (typeof key !== 'string') throw wrongType(`metrics[${i}].key`, key);
    const ts = toInt(timestamp, `metrics[${i}].timestamp`);
    if (ts < 0)
      throw invalidValue(
        `metrics[${i}].timestamp`,
        timestamp,
        'Timestamp must be a nonnegative long (64-bit integer) ',
      );
    return {
      key,
      value: metricValue(v, `metrics[${i}].value`, timestamp),
      timestamp: ts,
      step: step === undefined || step === null ? 0 : toInt(step, `metrics[${i}].step`),
    };
  });
}

/** `mlflow-artifacts:/<path>` → `<path>` inside the artifacts root; other roots are not ours to serve. */
function proxiedPath(artifactUri: string): string | undefined {
  const { scheme, path: p } = urlParts(artifactUri);
  return scheme === 'mlflow-artifacts' ? p.replace(/^\/+/, '') : undefined;
}

export const routes: RouteTable = {
  // ------------------------------------------------------------ experiments
  'experiments/create': {
    POST: json({ name: str(true), artifact_location: str(), tags: arr }, (p, _raw, { stores }) => ({
      experiment_id: stores.tracking.createExperiment(
        p.name as string,
        p.artifact_location as string | undefined,
        keyValues(p.tags, 'tags'),
      ),
    })),
  },
  'experiments/get': {
    GET: json({ experiment_id: { kind: 'experimentId', required: true } }, (p, _r, { stores }) => ({
      experiment: stores.tracking.getExperiment(p.experiment_id as string),
    })),
  },
  'experiments/get-by-name': {
    GET: json({ experiment_name: str(true) }, (p, _r, { stores }) => ({
      experiment: stores.tracking.getExperimentByName(p.experiment_name as string),
    })),
  },
  'experiments/search': (() => {
    const endpoint = json({ max_results: int, filter: str(), page_token: str(), order_by: strs }, (p, raw, ctx) => {
      const view = ctx.method === 'GET' ? (ctx.query.get('view_type') ?? undefined) : raw.view_type;
      const max = maxResults(p, raw, 1000, 50_000);
      if (max < 1) throw invalidValue('max_results', raw.max_results, 'It must be a positive integer.');
      return ctx.stores.tracking.searchExperiments({
        filter: p.filter as string | undefined,
        maxResults: max,
        orderBy: (p.order_by as string[] | undefined) ?? [],
        pageToken: p.page_token as string | undefined,
        viewType: viewType(view),
      });
    });
    return { GET: endpoint, POST: endpoint };
  })(),
  'experiments/delete': {
    POST: json({ experiment_id: { kind: 'experimentId', required: true } }, (p, _r, { stores }) => {
      stores.tracking.setExperimentLifecycle(p.experiment_id as string, 'deleted');
    }),
  },
  'experiments/restore': {
    POST: json({ experiment_id: { kind: 'experimentId', required: true } }, (p, _r, { stores }) => {
      stores.tracking.setExperimentLifecycle(p.experiment_id as string, 'active');
    }),
  },
  'experiments/update': {
    POST: json(
      { experiment_id: { kind: 'experimentId', required: true }, new_name: str(true) },
      (p, _r, { stores }) => {
        stores.tracking.renameExperiment(p.experiment_id as string, p.new_name as string);
      },
    ),
  },
  'experiments/set-experiment-tag': {
    POST: json(
      { experiment_id: { kind: 'experimentId', required: true }, key: str(true), value: str() },
      (p, _r, { stores }) => {
        stores.tracking.setExperimentTag(p.experiment_id as string, p.key as string, (p.value as string) ?? '');
      },
    ),
  },
  'experiments/delete-tag': {
    POST: json({ experiment_id: { kind: 'experimentId', required: true }, key: str(true) }, (p, _r, { stores }) => {
      stores.tracking.deleteExperimentTag(p.experiment_id as string, p.key as string);
    }),
  },

  // ------------------------------------------------------------ runs
  'runs/create': {
    POST: json(
      { experiment_id: { kind: 'experimentId' }, user_id: str(), run_name: str(), start_time: int, tags: arr },
      (p, _r, { stores }) =>
        stores.tracking.createRun({
          experimentId: (p.experiment_id as string | undefined) || '0',
          userId: (p.user_id as string | undefined) ?? '',
          startTime: (p.start_time as number | undefined) ?? 0,
          tags: keyValues(p.tags, 'tags'),
          runName: optionalString(p, 'run_name'),
        }),
    ),
  },
  'runs/get': {
    GET: json({ run_id: str(true) }, (p, _r, { stores }) => stores.tracking.getRun(p.run_id as string)),
  },
  'runs/update': {
    POST: json({ run_id: str(true), status: str(), end_time: int, run_name: str() }, (p, _r, { stores }) =>
      stores.tracking.updateRun(p.run_id as string, {
        status: p.status as string | undefined,
        endTime: p.end_time as number | undefined,
        runName: optionalString(p, 'run_name'),
      }),
    ),
  },
  'runs/delete': {
    POST: json({ run_id: str(true) }, (p, _r, { stores }) => {
      stores.tracking.setRunLifecycle(p.run_id as string, 'deleted');
    }),
  },
  'runs/restore': {
    POST: json({ run_id: str(true) }, (p, _r, { stores }) => {
      stores.tracking.setRunLifecycle(p.run_id as string, 'active');
    }),
  },
  'runs/log-batch': {
    POST: json({ run_id: str(true), metrics: arr, params: arr, tags: arr }, (p, _r, { stores }) => {
      stores.tracking.logBatch(
        p.run_id as string,
        metrics(p.metrics),
        keyValues(p.params, 'params'),
        keyValues(p.tags, 'tags'),
      );
    }),
  },
  'runs/log-metric': {
    POST: json(
      { run_id: str(true), key: str(true), timestamp: { kind: 'int', required: true }, step: int },
      (p, raw, { stores }) => {
        if (raw.value === undefined || raw.value === null || raw.value === '') throw missingParameter('value');
        const m: Metric = {
          key: p.key as string,
          value: metricValue(raw.value, 'value', raw.timestamp),
          timestamp: p.timestamp as number,
          step: (p.step as number | undefined) ?? 0,
        };
        stores.tracking.logBatch(p.run_id as string, [m], [], []);
      },
    ),
  },
  'runs/log-parameter': {
    POST: json({ run_id: str(true), key: str(true), value: str() }, (p, _r, { stores }) => {
      stores.tracking.logBatch(
        p.run_id as string,
        [],
        [{ key: p.key as string, value: (p.value as string) ?? '' }],
        [],
      );
    }),
  },
  'runs/set-tag': {
    POST: json({ run_id: str(true), key: str(true), value: str() }, (p, _r, { stores }) => {
      stores.tracking.logBatch(
        p.run_id as string,
        [],
        [],
        [{ key: p.key as string, value: (p.value as string) ?? '' }],
      );
    }),
  },
  'runs/delete-tag': {
    POST: json({ run_id: str(true), key: str(true) }, (p, _r, { stores }) => {
      stores.tracking.deleteRunTag(p.run_id as string, p.key as string);
    }),
  },
  'metrics/get-history': {
    GET: json({ run_id: str(true), metric_key: str(true) }, (p, _r, { stores }) =>
      stores.tracking.getMetricHistory(p.run_id as string, p.metric_key as string),
    ),
  },
  'artifacts/list': {
    GET: json({ run_id: str(true), path: str(), page_token: str() }, async (p, _r, { stores }) => {
      const rel = p.path === undefined ? '' : safeArtifactPath(p.path as string);
      const rootUri = stores.tracking.runArtifactUri(p.run_id as string);
      const proxied = proxiedPath(rootUri);
      const files =
        proxied === undefined
          ? []
          : (await stores.artifacts.list(safeArtifactPath(path.posix.join(proxied, rel)))).map((f) => ({
              ...f,
              path: rel === '' ? f.path : `${rel}/${f.path}`,
            }));
      return { root_uri: rootUri, ...(files.length > 0 ? { files } : {}) };
    }),
  },

  // ------------------------------------------------------------ logged models (MLflow 3)
  'logged-models': {
    POST: json(
      {
        experiment_id: { kind: 'experimentId', required: true },
        name: str(),
        model_type: str(),
        source_run_id: str(),
        params: arr,
        tags: arr,
      },
      (p, _r, { stores }) =>
        stores.tracking.createLoggedModel({
          experimentId: p.experiment_id as string,
          name: optionalString(p, 'name'),
          modelType: p.model_type as string | undefined,
          sourceRunId: optionalString(p, 'source_run_id'),
          params: keyValues(p.params, 'params'),
          tags: keyValues(p.tags, 'tags'),
        }),
    ),
  },
  'logged-models/:id': {
    GET: json({}, (_p, _r, { stores, pathParams }) => stores.tracking.getLoggedModel(pathParams[0]!)),
    PATCH: json({ status: str(true) }, (p, _r, { stores, pathParams }) =>
      stores.tracking.finalizeLoggedModel(pathParams[0]!, p.status as string),
    ),
    DELETE: json({}, (_p, _r, { stores, pathParams }) => {
      stores.tracking.deleteLoggedModel(pathParams[0]!);
    }),
  },
  'logged-models/:id/tags': {
    PATCH: json({ tags: arr }, (p, _r, { stores, pathParams }) => {
      stores.tracking.setLoggedModelTags(pathParams[0]!, keyValues(p.tags, 'tags'));
    }),
  },
  'logged-models/:id/tags/:key': {
    DELETE: json({}, (_p, _r, { stores, pathParams }) => {
      stores.tracking.deleteLoggedModelTag(pathParams[0]!, pathParams[1]!);
    }),
  },

  // ------------------------------------------------------------ registered models
  'registered-models/create': {
    POST: json({ name: str(true), tags: arr, description: str() }, (p, _r, { stores }) =>
      stores.registry.createRegisteredModel(
        p.name as string,
        (p.description as string | undefined) ?? '',
        keyValues(p.tags, 'tags'),
      ),
    ),
  },
  'registered-models/get': {
    GET: json({ name: str(true) }, (p, _r, { stores }) => stores.registry.getRegisteredModel(p.name as string)),
  },
  'registered-models/update': {
    // MLflow sets the description to "" when the field is left out.
    PATCH: json({ name: str(true), description: str() }, (p, _r, { stores }) =>
      stores.registry.updateRegisteredModel(p.name as string, (p.description as string | undefined) ?? ''),
    ),
  },
  'registered-models/rename': {
    POST: json({ name: str(true), new_name: str(true) }, (p, _r, { stores }) =>
      stores.registry.renameRegisteredModel(p.name as string, p.new_name as string),
    ),
  },
  'registered-models/delete': {
    DELETE: json({ name: str(true) }, (p, _r, { stores }) => {
      stores.registry.deleteRegisteredModel(p.name as string);
    }),
  },
  'registered-models/search': {
    GET: json({ filter: str(), max_results: int, order_by: strs, page_token: str() }, (p, raw, { stores }) =>
      stores.registry.searchRegisteredModels({
        filter: p.filter as string | undefined,
        maxResults: maxResults(p, raw, 100, REGISTERED_MODELS_MAX_RESULTS),
        orderBy: (p.order_by as string[] | undefined) ?? [],
        pageToken: p.page_token as string | undefined,
      }),
    ),
  },
  'registered-models/get-latest-versions': (() => {
    const endpoint = json({ name: str(true), stages: strs }, (p, _r, { stores }) =>
      stores.registry.getLatestVersions(p.name as string, (p.stages as string[] | undefined) ?? []),
    );
    return { GET: endpoint, POST: endpoint };
  })(),
  'registered-models/set-tag': {
    POST: json({ name: str(true), key: str(true), value: str() }, (p, _r, { stores }) => {
      stores.registry.setRegisteredModelTag(p.name as string, p.key as string, (p.value as string | undefined) ?? '');
    }),
  },
  'registered-models/delete-tag': {
    DELETE: json({ name: str(true), key: str(true) }, (p, _r, { stores }) => {
      stores.registry.deleteRegisteredModelTag(p.name as string, p.key as string);
    }),
  },
  'registered-models/alias': {
    POST: json({ name: str(true), alias: str(true), version: str(true) }, (p, _r, { stores }) => {
      stores.registry.setAlias(p.name as string, p.alias as string, p.version as string);
    }),
    GET: json({ name: str(true), alias: str(true) }, (p, _r, { stores }) =>
      stores.registry.getVersionByAlias(p.name as string, p.alias as string),
    ),
    DELETE: json({ name: str(true), alias: str(true) }, (p, _r, { stores }) => {
      stores.registry.deleteAlias(p.name as string, p.alias as string);
    }),
  },

  // ------------------------------------------------------------ model versions
  'model-versions/create': {
    POST: json(
      {
        name: str(true),
        source: str(true),
        run_id: str(),
        tags: arr,
        run_link: str(),
        description: str(),
        model_id: str(),
      },
      (p, _r, { stores }) =>
        stores.registry.createModelVersion({
          name: p.name as string,
          source: p.source as string,
          runId: (p.run_id as string | undefined) ?? '',
          runLink: (p.run_link as string | undefined) ?? '',
          description: (p.description as string | undefined) ?? '',
          tags: keyValues(p.tags, 'tags'),
          modelId: optionalString(p, 'model_id'),
        }),
    ),
  },
  'model-versions/get': {
    GET: json({ name: str(true), version: str(true) }, (p, _r, { stores }) =>
      stores.registry.getModelVersion(p.name as string, p.version as string),
    ),
  },
  'model-versions/get-download-uri': {
    GET: json({ name: str(true), version: str(true) }, (p, _r, { stores }) =>
      stores.registry.getDownloadUri(p.name as string, p.version as string),
    ),
  },
  'model-versions/update': {
    PATCH: json({ name: str(true), version: str(true), description: str() }, (p, _r, { stores }) =>
      stores.registry.updateModelVersion(p.name as string, p.version as string, p.description as string | undefined),
    ),
  },
  'model-versions/delete': {
    DELETE: json({ name: str(true), version: str(true) }, (p, _r, { stores }) => {
      stores.registry.deleteModelVersion(p.name as string, p.version as string);
    }),
  },
  'model-versions/search': {
    GET: json({ filter: str(), max_results: int, order_by: strs, page_token: str() }, (p, raw, { stores }) =>
      stores.registry.searchModelVersions({
        filter: p.filter as string | undefined,
        maxResults: maxResults(p, raw, 10_000, MODEL_VERSIONS_MAX_RESULTS),
        orderBy: (p.order_by as string[] | undefined) ?? [],
        pageToken: p.page_token as string | undefined,
      }),
    ),
  },
  'model-versions/set-tag': {
    POST: json({ name: str(true), version: str(true), key: str(true), value: str() }, (p, _r, { stores }) => {
      stores.registry.setModelVersionTag(
        p.name as string,
        p.version as string,
        p.key as string,
        (p.value as string | undefined) ?? '',
      );
    }),
  },
  'model-versions/delete-tag': {
    DELETE: json({ name: str(true), version: str(true), key: str(true) }, (p, _r, { stores }) => {
      stores.registry.deleteModelVersionTag(p.name as string, p.version as string, p.key as string);
    }),
  },
  'model-versions/transition-stage': {
    POST: json(
      { name: str(true), version: str(true), stage: str(true), archive_existing_versions: { kind: 'bool' } },
      (p, _r, { stores }) =>
        stores.registry.transitionStage(
          p.name as string,
          p.version as string,
          p.stage as string,
          (p.archive_existing_versions as boolean | undefined) ?? false,
        ),
    ),
  },
};

// ---------------------------------------------------------------- artifact proxy

/** `GET /mlflow-artifacts/artifacts?path=`: the entries of one directory (names only). */
export const listArtifacts: Endpoint = async ({ query, res, stores }) => {
  const rel = query.has('path') ? safeArtifactPath(query.get('path')!) : '';
  const files = await stores.artifacts.list(rel);
  sendJson(res, 200, files.length > 0 ? { files } : {});
};

/** The file routes under `/mlflow-artifacts/artifacts/<path>`; `raw` is the undecoded path. */
export function artifactFileEndpoint(raw: string): Partial<Record<Method, Endpoint>> {
  return {
    PUT: async ({ req, res, stores }) => {
      await stores.artifacts.upload(safeArtifactPath(raw), req);
      sendJson(res, 200, {});
    },
    GET: async ({ req, res, stores }) => {
      const rel = safeArtifactPath(raw);
      const { file, size } = await stores.artifacts.fileFor(rel);
      res.writeHead(200, {
        'Content-Type': guessContentType(rel),
        'Content-Length': size,
        'Content-Disposition': `attachment; filename=${path.posix.basename(rel)}`,
        'X-Content-Type-Options': 'nosniff',
      });
      if (req.method === 'HEAD') return void res.end();
      await pipeline(createReadStream(file), res);
    },
    DELETE: async ({ res, stores }) => {
      await stores.artifacts.delete(safeArtifactPath(raw));
      sendJson(res, 200, {});
    },
  };
}
