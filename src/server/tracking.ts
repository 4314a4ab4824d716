/**
 * Experiments, runs and (MLflow 3) logged models of an embedded store, returned in MLflow's JSON
 * shapes. Every write is one IMMEDIATE transaction; every multi-statement read one snapshot.
 */
import {
  alreadyExists,
  experimentNotFound,
  invalidParameter,
  invalidValue,
  loggedModelNotFound,
  notFound,
  runNotFound,
} from './errors.js';
import { generateRunName, newLoggedModelId, newRunId } from './names.js';
import { checkClause, compareSql, parseFilter, parseOrderBy, searchPage, type SqlFragment } from './search.js';
import { nonEmpty, type KeyValue, type Sql } from './sql.js';
import {
  checkLength,
  MAX_ENTITIES_PER_BATCH,
  MAX_ENTITY_KEY_LENGTH,
  MAX_METRICS_PER_BATCH,
  MAX_PARAM_VAL_LENGTH,
  MAX_PARAMS_TAGS_PER_BATCH,
  MAX_TAG_VAL_LENGTH,
  validateExperimentTag,
  validateKey,
} from './validation.js';

interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

interface RunRow {
  run_id: string;
  experiment_id: number;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
}

interface MetricRow {
  key: string;
  value: number | null;
  timestamp: number;
  step: number;
}

interface LoggedModelRow {
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_uri: string;
  status: string;
  model_type: string;
  source_run_id: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  lifecycle_stage: string;
}

export interface Metric {
  key: string;
  /** NaN and ±Infinity allowed. */
  value: number;
  timestamp: number;
  step: number;
}

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;

const RUN_NAME_TAG = 'mlflow.runName';

/** A metric value in MLflow's JSON: a number, or the strings "NaN", "Infinity", "-Infinity". */
export function metricValueJson(v: number | null): number | string {
  if (v === null || Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function experimentJson(row: ExperimentRow, tags: KeyValue[]) {
  return {
    experiment_id: String(row.experiment_id),
    name: row.name,
    artifact_location: row.artifact_location,
    lifecycle_stage: row.lifecycle_stage,
    last_update_time: row.last_update_time,
    creation_time: row.creation_time,
    ...nonEmpty('tags', tags),
  };
}

function runInfoJson(r: RunRow) {
  return {
    run_uuid: r.run_id,
    experiment_id: String(r.experiment_id),
    run_name: r.run_name,
    user_id: r.user_id,
    status: r.status,
    start_time: r.start_time,
    ...(r.end_time === null ? {} : { end_time: r.end_time }),
    artifact_uri: r.artifact_uri,
    lifecycle_stage: r.lifecycle_stage,
    run_id: r.run_id,
  };
}

/** Parses an experiment id the way MLflow's SQL store does; anything else is "not found". */
function experimentIdOf(id: string): number | undefined {
  return /^\d+$/.test(id) && id.length < 16 ? Number(id) : undefined;
}

export class TrackingStore {
  constructor(private readonly sql: Sql) {}

  // ---------------------------------------------------------------- experiments

  private experimentRow(id: string): ExperimentRow {
    const n = experimentIdOf(id);
    const row =
      n === undefined ? undefined : this.sql.get<ExperimentRow>('SELECT * FROM experiments WHERE experiment_id = ?', n);
    if (!row) throw experimentNotFound(id);
    return row;
  }

  private experimentTags(id: number): KeyValue[] {
    return this.sql.all<KeyValue>('SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY rowid', id);
  }

  createExperiment(name: string, artifactLocation: string | undefined, tags: KeyValue[]): string {
    checkLength('name', 500, name);
    for (const t of tags) validateExperimentTag(t.key, t.value);
    return this.sql.write(() => {
      if (this.sql.get('SELECT 1 FROM experiments WHERE name = ?', name)) {
        throw alreadyExists(`Experiment(name=${name}) already exists.`);
      }
      const id = this.sql.get<{ id: number }>('SELECT COALESCE(MAX(experiment_id), -1) + 1 AS id FROM experiments')!.id;
      const t = this.sql.now();
      this.sql.run(
        'INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?)',
        id,
        name,
        artifactLocation && artifactLocation !== '' ? artifactLocation : `mlflow-artifacts:/${id}`,
        t,
        t,
      );
      for (const tag of tags) {
        this.sql.run(
          'INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value',
          id,
          tag.key,
          tag.value,
        );
      }
      return String(id);
    });
  }

  getExperiment(id: string) {
    return this.sql.read(() => {
      const row = this.experimentRow(id);
      return experimentJson(row, this.experimentTags(row.experiment_id));
    });
  }

  getExperimentByName(name: string) {
    return this.sql.read(() => {
      const row = this.sql.get<ExperimentRow>('SELECT * FROM experiments WHERE name = ?', name);
      if (!row) throw notFound(`Could not find experiment with name '${name}'`);
      return experimentJson(row, this.experimentTags(row.experiment_id));
    });
  }

  searchExperiments(q: {
    filter?: string;
    maxResults: number;
    orderBy: string[];
    pageToken?: string;
    viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  }) {
    const where: SqlFragment[] = [];
    if (q.viewType === 'ACTIVE_ONLY') where.push({ sql: "e.lifecycle_stage = 'active'", params: [] });
    if (q.viewType === 'DELETED_ONLY') where.push({ sql: "e.lifecycle_stage = 'deleted'", params: [] });
    for (const c of parseFilter(q.filter)) {
      if (c.type === 'tag') {
        checkClause(c, { comparators: ['=', '!=', 'LIKE', 'ILIKE'], valueKind: 'string' }, 'experiment tags');
        const cmp = compareSql('t.value', c.comparator, c.value);
        where.push({
          sql: `EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ? AND ${cmp.sql})`,
          params: [c.key, ...cmp.params],
        });
      } else if (c.key === 'name') {
        checkClause(c, { comparators: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'], valueKind: 'string' }, 'name');
        where.push(compareSql('e.name', c.comparator, c.value));
      } else if (c.key === 'creation_time' || c.key === 'last_update_time') {
        checkClause(c, { comparators: ['=', '!=', '<', '<=', '>', '>='], valueKind: 'number' }, c.key);
        where.push(compareSql(`e.${c.key}`, c.comparator, c.value));
      } else {
        throw invalidParameter(
          `Invalid attribute key '${c.key}' specified. Valid keys are '['name', 'creation_time', 'last_update_time']'`,
        );
      }
    }
    const order: string[] = [];
    const seen = new Set<string>();
    for (const clause of q.orderBy.length > 0 ? q.orderBy : ['creation_time DESC']) {
      const { key, ascending } = parseOrderBy(clause);
      const column = {
        name: 'e.name',
        experiment_id: 'e.experiment_id',
        creation_time: 'e.creation_time',
        last_update_time: 'e.last_update_time',
      }[key];
      if (!column) {
        throw invalidParameter(
          `Invalid order by key '${key}' specified. Valid keys are '['name', 'experiment_id', 'creation_time', 'last_update_time']'`,
        );
      }
      seen.add(key);
      order.push(`${column} ${ascending ? 'ASC' : 'DESC'}`);
    }
    if (!seen.has('experiment_id')) order.push('e.experiment_id ASC');
    const whereSql = where.length > 0 ? `WHERE ${where.map((w) => w.sql).join(' AND ')}` : '';
    const params = where.flatMap((w) => w.params);
    const sql = `SELECT e.* FROM experiments e ${whereSql} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`;
    return this.sql.read(() =>
      searchPage(
        'experiments',
        (limit, offset) => this.sql.all<ExperimentRow>(sql, ...params, limit, offset),
        (row) => experimentJson(row, this.experimentTags(row.experiment_id)),
        q,
      ),
    );
  }

  setExperimentLifecycle(id: string, stage: 'active' | 'deleted'): void {
    this.sql.write(() => {
      const row = this.experimentRow(id);
      if (row.experiment_id === 0 && stage === 'deleted') {
        throw invalidParameter('Cannot delete the default experiment (ID 0). This is a reserved experiment.');
      }
      this.sql.run(
        'UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?',
        stage,
        this.sql.now(),
        row.experiment_id,
      );
      this.sql.run('UPDATE runs SET lifecycle_stage = ? WHERE experiment_id = ?', stage, row.experiment_id);
    });
  }

  renameExperiment(id: string, newName: string): void {
    this.sql.write(() => {
      const row = this.experimentRow(id);
      if (row.lifecycle_stage !== 'active') {
        throw invalidParameter(`Cannot rename a non-active experiment. Experiment id: ${id}.`);
      }
      const other = this.sql.get<{ experiment_id: number }>(
        'SELECT experiment_id FROM experiments WHERE name = ?',
        newName,
      );
      if (other && other.experiment_id !== row.experiment_id) {
        throw alreadyExists(`Experiment(name=${newName}) already exists.`);
      }
      this.sql.run(
        'UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?',
        newName,
        this.sql.now(),
        row.experiment_id,
      );
    });
  }

  setExperimentTag(id: string, key: string, value: string): void {
    validateExperimentTag(key, value);
    this.sql.write(() => {
      const row = this.experimentRow(id);
      if (row.lifecycle_stage !== 'active') {
        throw invalidParameter(
          `The experiment ${id} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
        );
      }
      this.sql.run(
        'INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value',
        row.experiment_id,
        key,
        value,
      );
    });
  }

  deleteExperimentTag(id: string, key: string): void {
    this.sql.write(() => {
      const row = this.experimentRow(id);
      this.sql.run('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?', row.experiment_id, key);
    });
  }

  // ---------------------------------------------------------------- runs

  private runRow(runId: string): RunRow {
    const row = this.sql.get<RunRow>('SELECT * FROM runs WHERE run_id = ?', runId);
    if (!row) throw runNotFound(runId);
    return row;
  }

  private activeRunRow(runId: string): RunRow {
    const row = this.runRow(runId);
    if (row.lifecycle_stage !== 'active') {
      throw invalidParameter(
        `The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
      );
    }
    return row;
  }

  /** Run artifact root of a run: `<experiment artifact location>/<run_id>/artifacts`. */
  runArtifactUri(runId: string): string {
    return this.runRow(runId).artifact_uri;
  }

  createRun(q: { experimentId: string; userId: string; startTime: number; tags: KeyValue[]; runName?: string }) {
    const tags = q.tags.map((t, i) => checkRunTag(t, `tags[${i}]`));
    const tagName = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (q.runName && tagName !== undefined && tagName !== q.runName) {
      throw invalidParameter(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${q.runName}', mlflow.runName='${tagName}').`,
      );
    }
    const runName = q.runName || tagName || generateRunName();
    if (tagName === undefined) tags.push({ key: RUN_NAME_TAG, value: runName });
    return this.sql.write(() => {
      const exp = this.experimentRow(q.experimentId);
      if (exp.lifecycle_stage !== 'active') {
        throw invalidParameter(`Could not create run under non-active experiment with ID ${q.experimentId}.`);
      }
      const runId = newRunId();
      const root = exp.artifact_location.replace(/\/+$/, '');
      this.sql.run(
        `INSERT INTO runs (run_id, experiment_id, run_name, user_id, status, start_time, artifact_uri)
         VALUES (?, ?, ?, ?, 'RUNNING', ?, ?)`,
        runId,
        exp.experiment_id,
        runName,
        q.userId,
        q.startTime,
        `${root}/${runId}/artifacts`,
      );
      for (const t of tags) this.upsertRunTag(runId, t);
      const row = this.runRow(runId);
      return { run: { info: runInfoJson(row), data: { ...nonEmpty('tags', this.runTags(runId)) }, inputs: {} } };
    });
  }

  private runTags(runId: string): KeyValue[] {
    return this.sql.all<KeyValue>('SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY rowid', runId);
  }

  private upsertRunTag(runId: string, tag: KeyValue): void {
    this.sql.run(
      'INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value',
      runId,
      tag.key,
      tag.value,
    );
    if (tag.key === RUN_NAME_TAG) this.sql.run('UPDATE runs SET run_name = ? WHERE run_id = ?', tag.value, runId);
  }

  getRun(runId: string) {
    return this.sql.read(() => {
      const row = this.runRow(runId);
      const metrics = this.sql
        .all<MetricRow>(
          'SELECT key, value, timestamp, step FROM run_latest_metrics WHERE run_id = ? ORDER BY rowid',
          runId,
        )
        .map((m) => ({ key: m.key, value: metricValueJson(m.value), timestamp: m.timestamp, step: m.step }));
      const params = this.sql.all<KeyValue>('SELECT key, value FROM run_params WHERE run_id = ? ORDER BY rowid', runId);
      return {
        run: {
          info: runInfoJson(row),
          data: {
            ...nonEmpty('metrics', metrics),
            ...nonEmpty('params', params),
            ...nonEmpty('tags', this.runTags(runId)),
          },
          inputs: {},
          outputs: {},
        },
      };
    });
  }

  getMetricHistory(runId: string, key: string) {
    return this.sql.read(() => {
      this.runRow(runId);
      const rows = this.sql.all<MetricRow>(
        'SELECT key, value, timestamp, step FROM run_metrics WHERE run_id = ? AND key = ? ORDER BY rowid',
        runId,
        key,
      );
      return nonEmpty(
        'metrics',
        rows.map((m) => ({ key: m.key, value: metricValueJson(m.value), timestamp: m.timestamp, step: m.step })),
      );
    });
  }

  updateRun(runId: string, q: { status?: string; endTime?: number; runName?: string }) {
    return this.sql.write(() => {
      this.activeRunRow(runId);
      // MLflow drops an unknown status silently (the protobuf enum fails to parse); so do we.
      if (q.status !== undefined && (RUN_STATUSES as readonly string[]).includes(q.status)) {
        this.sql.run('UPDATE runs SET status = ? WHERE run_id = ?', q.status, runId);
      }
      if (q.endTime !== undefined) this.sql.run('UPDATE runs SET end_time = ? WHERE run_id = ?', q.endTime, runId);
      if (q.runName) this.upsertRunTag(runId, { key: RUN_NAME_TAG, value: q.runName });
      return { run_info: runInfoJson(this.runRow(runId)) };
    });
  }

  setRunLifecycle(runId: string, stage: 'active' | 'deleted'): void {
    this.sql.write(() => {
      this.runRow(runId);
      this.sql.run('UPDATE runs SET lifecycle_stage = ? WHERE run_id = ?', stage, runId);
    });
  }

  deleteRunTag(runId: string, key: string): void {
    this.sql.write(() => {
      this.activeRunRow(runId);
      const { changes } = this.sql.run('DELETE FROM run_tags WHERE run_id = ? AND key = ?', runId, key);
      if (changes === 0) throw invalidParameter(`No tag with name: ${key} in run with id ${runId}`);
    });
  }

  /**
   * log-batch: validated first (all-or-nothing), then written in ONE transaction: params that
   * would change an existing value reject the whole batch, unlike MLflow which writes params,
   * metrics and tags in three separate transactions.
   */
  logBatch(runId: string, metrics: Metric[], params: KeyValue[], tags: KeyValue[]): void {
    if (!/^[a-zA-Z0-9][\w-]{0,255}$/.test(runId)) throw invalidValue('run_id', runId);
    metrics.forEach((m, i) => {
      validateKey(m.key, `metrics[${i}].name`);
      checkLength('Metric name', MAX_ENTITY_KEY_LENGTH, m.key);
    });
    const cleanParams = params.map((p, i) => {
      validateKey(p.key, `params[${i}].key`);
      checkLength('Param key', MAX_ENTITY_KEY_LENGTH, p.key);
      return { key: p.key, value: p.value.slice(0, MAX_PARAM_VAL_LENGTH) };
    });
    const cleanTags = tags.map((t, i) => checkRunTag(t, `tags[${i}]`));
    checkBatchLimit('metrics', MAX_METRICS_PER_BATCH, metrics.length);
    checkBatchLimit('params', MAX_PARAMS_TAGS_PER_BATCH, params.length);
    checkBatchLimit('tags', MAX_PARAMS_TAGS_PER_BATCH, tags.length);
    checkBatchLimit('metrics, params, and tags', MAX_ENTITIES_PER_BATCH, metrics.length + params.length + tags.length);
    const seen = new Set<string>();
    const dupes: string[] = [];
    for (const p of cleanParams) {
      if (seen.has(p.key)) dupes.push(p.key);
      seen.add(p.key);
    }
    if (dupes.length > 0) {
      throw invalidParameter(
        `Duplicate parameter keys have been submitted: [${dupes.map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
      );
    }

    this.sql.write(() => {
      this.activeRunRow(runId);
      const conflicts: string[] = [];
      for (const p of cleanParams) {
        const old = this.sql.get<{ value: string }>(
          'SELECT value FROM run_params WHERE run_id = ? AND key = ?',
          runId,
          p.key,
        );
        if (old && old.value !== p.value) {
          conflicts.push(`{'key': '${p.key}', 'old_value': '${old.value}', 'new_value': '${p.value}'}`);
        } else if (!old) {
          this.sql.run('INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)', runId, p.key, p.value);
        }
      }
      if (conflicts.length > 0) {
        throw invalidParameter(
          `Changing param values is not allowed. Params were already logged='[${conflicts.join(', ')}]' for run ID='${runId}'.`,
        );
      }
      for (const m of metrics) this.insertMetric(runId, m);
      for (const t of cleanTags) this.upsertRunTag(runId, t);
    });
  }

  private insertMetric(runId: string, m: Metric): void {
    const value = Number.isNaN(m.value) ? null : m.value;
    this.sql.run(
      'INSERT INTO run_metrics (run_id, key, value, timestamp, step) VALUES (?, ?, ?, ?, ?)',
      runId,
      m.key,
      value,
      m.timestamp,
      m.step,
    );
    const latest = this.sql.get<MetricRow>(
      'SELECT key, value, timestamp, step FROM run_latest_metrics WHERE run_id = ? AND key = ?',
      runId,
      m.key,
    );
    // MLflow keeps the metric with the greatest (step, timestamp, value) as "latest".
    if (!latest || isNewer(m, latest)) {
      this.sql.run(
        `INSERT INTO run_latest_metrics (run_id, key, value, timestamp, step) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step`,
        runId,
        m.key,
        value,
        m.timestamp,
        m.step,
      );
    }
  }

  // ---------------------------------------------------------------- logged models (MLflow 3)

  private loggedModelRow(modelId: string): LoggedModelRow {
    const row = this.sql.get<LoggedModelRow>(
      "SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'",
      modelId,
    );
    if (!row) throw loggedModelNotFound(modelId);
    return row;
  }

  private loggedModelJson(row: LoggedModelRow) {
    const tags = this.sql.all<KeyValue>(
      'SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY rowid',
      row.model_id,
    );
    const params = this.sql.all<KeyValue>(
      'SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY rowid',
      row.model_id,
    );
    return {
      model: {
        info: {
          model_id: row.model_id,
          experiment_id: String(row.experiment_id),
          name: row.name,
          creation_timestamp_ms: row.creation_timestamp_ms,
          last_updated_timestamp_ms: row.last_updated_timestamp_ms,
          artifact_uri: row.artifact_uri,
          status: row.status,
          model_type: row.model_type,
          ...(row.source_run_id !== '' ? { source_run_id: row.source_run_id } : {}),
          ...nonEmpty('tags', tags),
        },
        data: { ...nonEmpty('params', params) },
      },
    };
  }

  createLoggedModel(q: {
    experimentId: string;
    name?: string;
    modelType?: string;
    sourceRunId?: string;
    params: KeyValue[];
    tags: KeyValue[];
  }) {
    q.tags.forEach((t, i) => validateKey(t.key, `tags[${i}].key`));
    q.params.forEach((p, i) => validateKey(p.key, `params[${i}].key`));
    return this.sql.write(() => {
      const exp = this.experimentRow(q.experimentId);
      if (exp.lifecycle_stage !== 'active') {
        throw invalidParameter(
          `Could not create a logged model under non-active experiment with ID ${q.experimentId}.`,
        );
      }
      if (q.sourceRunId) this.runRow(q.sourceRunId);
      const modelId = newLoggedModelId();
      const t = this.sql.now();
      this.sql.run(
        `INSERT INTO logged_models (model_id, experiment_id, name, artifact_uri, status, model_type, source_run_id,
           creation_timestamp_ms, last_updated_timestamp_ms) VALUES (?, ?, ?, ?, 'LOGGED_MODEL_PENDING', ?, ?, ?, ?)`,
        modelId,
        exp.experiment_id,
        q.name || generateRunName(),
        `${exp.artifact_location.replace(/\/+$/, '')}/models/${modelId}/artifacts`,
        q.modelType ?? '',
        q.sourceRunId ?? '',
        t,
        t,
      );
      for (const tag of q.tags) this.upsertLoggedModelTag(modelId, tag);
      for (const p of q.params) {
        this.sql.run(
          'INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value',
          modelId,
          p.key,
          p.value,
        );
      }
      return this.loggedModelJson(this.loggedModelRow(modelId));
    });
  }

  private upsertLoggedModelTag(modelId: string, tag: KeyValue): void {
    this.sql.run(
      'INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value',
      modelId,
      tag.key,
      tag.value,
    );
  }

  getLoggedModel(modelId: string) {
    return this.sql.read(() => this.loggedModelJson(this.loggedModelRow(modelId)));
  }

  /** The artifact location of a logged model (404 if unknown); used inside registry writes. */
  loggedModelArtifactUri(modelId: string): string {
    return this.loggedModelRow(modelId).artifact_uri;
  }

  finalizeLoggedModel(modelId: string, status: string) {
    if (!(LOGGED_MODEL_STATUSES as readonly string[]).includes(status)) {
      throw invalidValue('status', status, `Value must be one of ${LOGGED_MODEL_STATUSES.join(', ')}.`);
    }
    return this.sql.write(() => {
      this.loggedModelRow(modelId);
      this.sql.run(
        'UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE model_id = ?',
        status,
        this.sql.now(),
        modelId,
      );
      return this.loggedModelJson(this.loggedModelRow(modelId));
    });
  }

  setLoggedModelTags(modelId: string, tags: KeyValue[]) {
    tags.forEach((t, i) => validateKey(t.key, `tags[${i}].key`));
    return this.sql.write(() => {
      this.loggedModelRow(modelId);
      for (const t of tags) this.upsertLoggedModelTag(modelId, t);
      this.sql.run(
        'UPDATE logged_models SET last_updated_timestamp_ms = ? WHERE model_id = ?',
        this.sql.now(),
        modelId,
      );
      return this.loggedModelJson(this.loggedModelRow(modelId));
    });
  }

  deleteLoggedModelTag(modelId: string, key: string): void {
    this.sql.write(() => {
      this.loggedModelRow(modelId);
      this.sql.run('DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?', modelId, key);
    });
  }

  deleteLoggedModel(modelId: string): void {
    this.sql.write(() => {
      this.loggedModelRow(modelId);
      this.sql.run("UPDATE logged_models SET lifecycle_stage = 'deleted' WHERE model_id = ?", modelId);
    });
  }

  /**
   * Records on a logged model that a registry version was made from it (MLflow 3's
   * `mlflow.modelVersions` tag). Runs inside the registry's create-version transaction.
   */
  linkModelVersion(modelId: string, name: string, version: number): void {
    const old = this.sql.get<{ value: string }>(
      "SELECT value FROM logged_model_tags WHERE model_id = ? AND key = 'mlflow.modelVersions'",
      modelId,
    );
    let list: { name: string; version: number }[] = [];
    try {
      const parsed: unknown = old ? JSON.parse(old.value) : [];
      if (Array.isArray(parsed)) list = parsed as typeof list;
    } catch {
      list = [];
    }
    list.push({ name, version });
    // Python's json.dumps spacing, as MLflow writes it.
    const value = `[${list.map((e) => `{"name": ${JSON.stringify(e.name)}, "version": ${e.version}}`).join(', ')}]`;
    this.upsertLoggedModelTag(modelId, { key: 'mlflow.modelVersions', value });
  }
}

function checkRunTag(t: KeyValue, path: string): KeyValue {
  validateKey(t.key, `${path}.key`);
  checkLength(`${path}.key`, MAX_ENTITY_KEY_LENGTH, t.key);
  return { key: t.key, value: t.value.slice(0, MAX_TAG_VAL_LENGTH) };
}

function checkBatchLimit(entity: string, limit: number, length: number): void {
  if (length > limit) {
    throw invalidParameter(
      `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`,
    );
  }
}

/** (step, timestamp, value) comparison of MLflow's latest-metric rule; NaN never wins a tie. */
function isNewer(m: Metric, latest: MetricRow): boolean {
  if (m.step !== latest.step) return m.step > latest.step;
  if (m.timestamp !== latest.timestamp) return m.timestamp > latest.timestamp;
  if (latest.value === null || Number.isNaN(m.value)) return false;
  return m.value > latest.value;
}
