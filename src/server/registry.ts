/**
 * The model registry of an embedded store: registered models, versions, tags, aliases, stages,
 * returned in MLflow's JSON shapes.
 *
 * Versions are numbered per model from `registered_models.last_version`, incremented inside the
 * same IMMEDIATE transaction that inserts the version: numbers are unique, consecutive across
 * processes, and never reused after a delete (MLflow: max(existing incl. deleted) + 1).
 */
import { alreadyExists, invalidParameter, modelVersionNotFound, registeredModelNotFound } from './errors.js';
import {
  checkClause,
  checkMaxResults,
  compareSql,
  orderBySql,
  searchPage,
  parseFilter,
  tagClauseSql,
  whereSql,
  type Clause,
  type SqlFragment,
} from './search.js';
import { nonEmpty, type KeyValue, type Sql } from './sql.js';
import type { TrackingStore } from './tracking.js';
import {
  canonicalStage,
  parseVersion,
  STAGES,
  urlParts,
  validateAlias,
  validateRegistryTag,
  validateVersionSource,
  type Stage,
} from './validation.js';

interface RmRow {
  rm_id: number;
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  last_version: number;
}

interface MvRow {
  rm_id: number;
  name: string;
  version: number;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: string;
  description: string;
  source: string;
  storage_location: string;
  run_id: string;
  run_link: string;
  status: string;
  logged_model_id: string | null;
}

const MV_SELECT =
  'SELECT mv.*, rm.name AS name FROM model_versions mv JOIN registered_models rm ON rm.rm_id = mv.rm_id';
const PROMPT_TAG = 'mlflow.prompt.is_prompt';
/** MLflow 3 leaves prompts (models tagged mlflow.prompt.is_prompt) out of a search unless its filter names that tag. */
const hidePrompts = (clauses: Clause[], rmColumn: string): SqlFragment[] =>
  clauses.some((c) => c.type === 'tag' && c.key === PROMPT_TAG)
    ? []
    : [
        {
          sql: `NOT EXISTS (SELECT 1 FROM registered_model_tags pt WHERE pt.rm_id = ${rmColumn} AND pt.key = '${PROMPT_TAG}' AND lower(pt.value) = 'true')`,
          params: [],
        },
      ];

/** `name <comparator> <value>`, which both registry searches accept alike. */
const nameClauseSql = (c: Clause): SqlFragment => {
  checkClause(c, { comparators: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'], valueKind: 'string' }, 'name');
  return compareSql('rm.name', c.comparator, c.value);
};

export const REGISTERED_MODELS_MAX_RESULTS = 1000;
export const MODEL_VERSIONS_MAX_RESULTS = 200_000;

export class RegistryStore {
  constructor(
    private readonly sql: Sql,
    private readonly tracking: TrackingStore,
  ) {}

  // ---------------------------------------------------------------- rows and JSON

  private rmRow(name: string): RmRow {
    const row = this.sql.get<RmRow>('SELECT * FROM registered_models WHERE name = ?', name);
    if (!row) throw registeredModelNotFound(name);
    return row;
  }

  private mvRow(name: string, version: string): MvRow {
    const n = parseVersion(version);
    const row = this.sql.get<MvRow>(`${MV_SELECT} WHERE rm.name = ? AND mv.version = ?`, name, n);
    if (!row) throw modelVersionNotFound(name, version);
    return row;
  }

  private mvJson(row: MvRow, withAliases = false) {
    const tags = this.sql.all<KeyValue>(
      'SELECT key, value FROM model_version_tags WHERE rm_id = ? AND version = ? ORDER BY rowid',
      row.rm_id,
      row.version,
    );
    const aliases = withAliases
      ? this.sql
          .all<{ alias: string }>(
            'SELECT alias FROM registered_model_aliases WHERE rm_id = ? AND version = ? ORDER BY alias',
            row.rm_id,
            row.version,
          )
          .map((a) => a.alias)
      : [];
    return {
      name: row.name,
      version: String(row.version),
      creation_timestamp: row.creation_timestamp,
      last_updated_timestamp: row.last_updated_timestamp,
      current_stage: row.current_stage,
      description: row.description,
      source: row.source,
      run_id: row.run_id,
      status: row.status,
      ...nonEmpty('tags', tags),
      run_link: row.run_link,
      ...nonEmpty('aliases', aliases),
    };
  }

  /** Newest version of each stage, stages in the order their first version appears (MLflow's). */
  private latestVersions(rmId: number, stages?: Stage[]): MvRow[] {
    const rows = this.sql.all<{ current_stage: string; latest: number }>(
      `SELECT current_stage, MAX(version) AS latest, MIN(version) AS first
         FROM model_versions WHERE rm_id = ? GROUP BY current_stage ORDER BY first`,
      rmId,
    );
    return rows
      .filter((r) => !stages || stages.length === 0 || (stages as string[]).includes(r.current_stage))
      .map((r) => this.sql.get<MvRow>(`${MV_SELECT} WHERE mv.rm_id = ? AND mv.version = ?`, rmId, r.latest)!);
  }

  private rmJson(row: RmRow) {
    const tags = this.sql.all<KeyValue>(
      'SELECT key, value FROM registered_model_tags WHERE rm_id = ? ORDER BY rowid',
      row.rm_id,
    );
    const aliases = this.sql
      .all<{ alias: string; version: number }>(
        'SELECT alias, version FROM registered_model_aliases WHERE rm_id = ? ORDER BY alias',
        row.rm_id,
      )
      .map((a) => ({ alias: a.alias, version: String(a.version) }));
    return {
      name: row.name,
      creation_timestamp: row.creation_timestamp,
      last_updated_timestamp: row.last_updated_timestamp,
      ...(row.description !== '' ? { description: row.description } : {}),
      ...nonEmpty(
        'latest_versions',
        this.latestVersions(row.rm_id).map((mv) => this.mvJson(mv)),
      ),
      ...nonEmpty('tags', tags),
      ...nonEmpty('aliases', aliases),
    };
  }

  private touchModel(rmId: number, t: number): void {
    this.sql.run('UPDATE registered_models SET last_updated_timestamp = ? WHERE rm_id = ?', t, rmId);
  }

  // ---------------------------------------------------------------- registered models

  createRegisteredModel(name: string, description: string, tags: KeyValue[]) {
    for (const t of tags) validateRegistryTag(t.key, t.value);
    return this.sql.write(() => {
      if (this.sql.get('SELECT 1 FROM registered_models WHERE name = ?', name)) {
        throw alreadyExists(`Registered Model (name=${name}) already exists.`);
      }
      const t = this.sql.now();
      const { lastInsertRowid } = this.sql
        .stmt(
          'INSERT INTO registered_models (name, creation_timestamp, last_updated_timestamp, description) VALUES (?, ?, ?, ?)',
        )
        .run(name, t, t, description);
      for (const tag of tags) this.upsertModelTag(Number(lastInsertRowid), tag);
      return { registered_model: this.rmJson(this.rmRow(name)) };
    });
  }

  private upsertModelTag(rmId: number, tag: KeyValue): void {
    this.sql.run(
      'INSERT INTO registered_model_tags (rm_id, key, value) VALUES (?, ?, ?) ON CONFLICT (rm_id, key) DO UPDATE SET value = excluded.value',
      rmId,
      tag.key,
      tag.value,
    );
  }

  getRegisteredModel(name: string) {
    return this.sql.read(() => ({ registered_model: this.rmJson(this.rmRow(name)) }));
  }

  updateRegisteredModel(name: string, description: string) {
    return this.sql.write(() => {
      const rm = this.rmRow(name);
      this.sql.run(
        'UPDATE registered_models SET description = ?, last_updated_timestamp = ? WHERE rm_id = ?',
        description,
        this.sql.now(),
        rm.rm_id,
      );
      return { registered_model: this.rmJson(this.rmRow(name)) };
    });
  }

  renameRegisteredModel(name: string, newName: string) {
    return this.sql.write(() => {
      const rm = this.rmRow(name);
      if (newName !== name && this.sql.get('SELECT 1 FROM registered_models WHERE name = ?', newName)) {
        throw alreadyExists(`Registered Model (name=${newName}) already exists.`);
      }
      const t = this.sql.now();
      this.sql.run(
        'UPDATE registered_models SET name = ?, last_updated_timestamp = ? WHERE rm_id = ?',
        newName,
        t,
        rm.rm_id,
      );
      this.sql.run('UPDATE model_versions SET last_updated_timestamp = ? WHERE rm_id = ?', t, rm.rm_id);
      return { registered_model: this.rmJson(this.rmRow(newName)) };
    });
  }

  deleteRegisteredModel(name: string): void {
    this.sql.write(() => {
      const rm = this.rmRow(name);
      // Versions, tags and aliases go with it (ON DELETE CASCADE).
      this.sql.run('DELETE FROM registered_models WHERE rm_id = ?', rm.rm_id);
    });
  }

  setRegisteredModelTag(name: string, key: string, value: string): void {
    validateRegistryTag(key, value);
    this.sql.write(() => this.upsertModelTag(this.rmRow(name).rm_id, { key, value }));
  }

  deleteRegisteredModelTag(name: string, key: string): void {
    this.sql.write(() => {
      const rm = this.rmRow(name);
      this.sql.run('DELETE FROM registered_model_tags WHERE rm_id = ? AND key = ?', rm.rm_id, key);
    });
  }

  searchRegisteredModels(q: { filter?: string; maxResults: number; orderBy: string[]; pageToken?: string }) {
    checkMaxResults(q.maxResults);
    const where: SqlFragment[] = [];
    const clauses = parseFilter(q.filter);
    for (const c of clauses) {
      if (c.type === 'tag') {
        where.push(tagClauseSql(c, 'registered_model_tags t WHERE t.rm_id = rm.rm_id', 'registered model tags'));
      } else if (c.key === 'name') {
        where.push(nameClauseSql(c));
      } else {
        throw invalidParameter(
          typeof c.value === 'string'
            ? `Invalid attribute key '${c.key}' specified. Valid keys are '{'name'}'`
            : `Invalid clause(s) in filter string: ${c.key}, ${c.comparator}, ${String(c.value)}`,
        );
      }
    }
    where.push(...hidePrompts(clauses, 'rm.rm_id'));

    const { terms: order, used } = orderBySql(
      q.orderBy,
      {
        name: 'rm.name',
        timestamp: 'rm.creation_timestamp',
        creation_timestamp: 'rm.creation_timestamp',
        last_updated_timestamp: 'rm.last_updated_timestamp',
      },
      ['name', 'creation_timestamp', 'last_updated_timestamp'],
    );
    if (!used.has('rm.name')) order.push('rm.name ASC');

    return this.searchRows(
      'registered_models',
      'SELECT rm.* FROM registered_models rm',
      where,
      order,
      q,
      (row: RmRow) => this.rmJson(row),
    );
  }

  getLatestVersions(name: string, stages: string[]) {
    const wanted = stages.map(canonicalStage);
    return this.sql.read(() => {
      const rm = this.rmRow(name);
      return nonEmpty(
        'model_versions',
        this.latestVersions(rm.rm_id, wanted).map((mv) => this.mvJson(mv)),
      );
    });
  }

  // ---------------------------------------------------------------- aliases

  setAlias(name: string, alias: string, version: string): void {
    validateAlias(alias);
    this.sql.write(() => {
      const rm = this.rmRow(name);
      const mv = this.mvRow(name, version);
      this.sql.run(
        `INSERT INTO registered_model_aliases (rm_id, alias, version) VALUES (?, ?, ?)
         ON CONFLICT (rm_id, alias) DO UPDATE SET version = excluded.version`,
        rm.rm_id,
        alias,
        mv.version,
      );
    });
  }

  getVersionByAlias(name: string, alias: string) {
    return this.sql.read(() => {
      const rm = this.rmRow(name);
      const a = this.sql.get<{ version: number }>(
        'SELECT version FROM registered_model_aliases WHERE rm_id = ? AND alias = ?',
        rm.rm_id,
        alias,
      );
      // MLflow answers 400, not 404, for an alias that is not set.
      if (!a) throw invalidParameter(`Registered model alias ${alias} not found.`);
      return { model_version: this.mvJson(this.mvRow(name, String(a.version)), true) };
    });
  }

  deleteAlias(name: string, alias: string): void {
    this.sql.write(() => {
      const rm = this.rmRow(name);
      this.sql.run('DELETE FROM registered_model_aliases WHERE rm_id = ? AND alias = ?', rm.rm_id, alias);
    });
  }

  // ---------------------------------------------------------------- model versions

  /**
   * Where a version's files are: its source, except that a `models:/` source is resolved to the
   * storage location of what it names (a version, stage, alias, or MLflow 3 logged model).
   */
  private resolveStorageLocation(source: string): string {
    const { scheme, path } = urlParts(source);
    if (scheme !== 'models') return source;
    const ref = path.replace(/^\/+/, '');
    const slash = ref.lastIndexOf('/');
    if (slash === -1) {
      const at = ref.lastIndexOf('@');
      if (at > 0) {
        const name = ref.slice(0, at);
        const alias = ref.slice(at + 1);
        const rm = this.rmRow(name);
        const a = this.sql.get<{ version: number }>(
          'SELECT version FROM registered_model_aliases WHERE rm_id = ? AND alias = ?',
          rm.rm_id,
          alias,
        );
        if (!a) throw invalidParameter(`Registered model alias ${alias} not found.`);
        return this.mvRow(name, String(a.version)).storage_location;
      }
      // MLflow 3: models:/<model_id> names a logged model.
      return this.tracking.loggedModelArtifactUri(ref);
    }
    const name = ref.slice(0, slash);
    const which = ref.slice(slash + 1);
    if (/^\d+$/.test(which)) return this.mvRow(name, which).storage_location;
    const rm = this.rmRow(name);
    let row: { version: number } | undefined;
    if (which.toLowerCase() === 'latest') {
      row = this.sql.get(
        'SELECT MAX(version) AS version FROM model_versions WHERE rm_id = ? HAVING COUNT(*) > 0',
        rm.rm_id,
      );
    } else if (STAGES.some((s) => s.toLowerCase() === which.toLowerCase())) {
      row = this.sql.get(
        'SELECT MAX(version) AS version FROM model_versions WHERE rm_id = ? AND current_stage = ? HAVING COUNT(*) > 0',
        rm.rm_id,
        canonicalStage(which),
      );
    } else {
      throw invalidParameter(`Invalid model version source: '${source}'. Not a valid models:/ URI.`);
    }
    if (!row) throw modelVersionNotFound(name, which);
    return this.mvRow(name, String(row.version)).storage_location;
  }

  createModelVersion(q: {
    name: string;
    source: string;
    runId: string;
    runLink: string;
    description: string;
    tags: KeyValue[];
    modelId?: string;
  }) {
    for (const t of q.tags) validateRegistryTag(t.key, t.value);
    validateVersionSource(q.source, q.modelId ? 'model_id' : 'run_id');
    return this.sql.write(() => {
      const rm = this.rmRow(q.name);
      // Checked before a number is allocated: unlike MLflow 3, an unknown model_id creates nothing.
      if (q.modelId) this.tracking.loggedModelArtifactUri(q.modelId);
      const storage = this.resolveStorageLocation(q.source);
      const version = rm.last_version + 1;
      const t = this.sql.now();
      this.sql.run(
        'UPDATE registered_models SET last_version = ?, last_updated_timestamp = ? WHERE rm_id = ?',
        version,
        t,
        rm.rm_id,
      );
      this.sql.run(
        `INSERT INTO model_versions (rm_id, version, creation_timestamp, last_updated_timestamp, description, source,
           storage_location, run_id, run_link, logged_model_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        rm.rm_id,
        version,
        t,
        t,
        q.description,
        q.source,
        storage,
        q.runId,
        q.runLink,
        q.modelId ?? null,
      );
      for (const tag of q.tags) this.upsertVersionTag(rm.rm_id, version, tag);
      if (q.modelId) this.tracking.linkModelVersion(q.modelId, rm.name, version);
      return { model_version: this.mvJson(this.mvRow(rm.name, String(version))) };
    });
  }

  private upsertVersionTag(rmId: number, version: number, tag: KeyValue): void {
    this.sql.run(
      `INSERT INTO model_version_tags (rm_id, version, key, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (rm_id, version, key) DO UPDATE SET value = excluded.value`,
      rmId,
      version,
      tag.key,
      tag.value,
    );
  }

  getModelVersion(name: string, version: string) {
    return this.sql.read(() => ({ model_version: this.mvJson(this.mvRow(name, version), true) }));
  }

  getDownloadUri(name: string, version: string) {
    const row = this.mvRow(name, version);
    return { artifact_uri: row.storage_location || row.source };
  }

  updateModelVersion(name: string, version: string, description: string | undefined) {
    return this.sql.write(() => {
      const mv = this.mvRow(name, version);
      this.sql.run(
        'UPDATE model_versions SET description = ?, last_updated_timestamp = ? WHERE rm_id = ? AND version = ?',
        description ?? mv.description,
        this.sql.now(),
        mv.rm_id,
        mv.version,
      );
      return { model_version: this.mvJson(this.mvRow(name, version)) };
    });
  }

  deleteModelVersion(name: string, version: string): void {
    this.sql.write(() => {
      const mv = this.mvRow(name, version);
      // Its tags and the aliases pointing at it go with it (ON DELETE CASCADE).
      this.sql.run('DELETE FROM model_versions WHERE rm_id = ? AND version = ?', mv.rm_id, mv.version);
      this.touchModel(mv.rm_id, this.sql.now());
    });
  }

  setModelVersionTag(name: string, version: string, key: string, value: string): void {
    validateRegistryTag(key, value);
    this.sql.write(() => {
      const mv = this.mvRow(name, version);
      this.upsertVersionTag(mv.rm_id, mv.version, { key, value });
    });
  }

  deleteModelVersionTag(name: string, version: string, key: string): void {
    this.sql.write(() => {
      const mv = this.mvRow(name, version);
      this.sql.run(
        'DELETE FROM model_version_tags WHERE rm_id = ? AND version = ? AND key = ?',
        mv.rm_id,
        mv.version,
        key,
      );
    });
  }

  transitionStage(name: string, version: string, stage: string, archiveExisting: boolean) {
    const target = canonicalStage(stage);
    if (archiveExisting && target !== 'Staging' && target !== 'Production') {
      throw invalidParameter(
        `Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are Staging, Production`,
      );
    }
    return this.sql.write(() => {
      const mv = this.mvRow(name, version);
      const t = this.sql.now();
      this.sql.run(
        'UPDATE model_versions SET current_stage = ?, last_updated_timestamp = ? WHERE rm_id = ? AND version = ?',
        target,
        t,
        mv.rm_id,
        mv.version,
      );
      if (archiveExisting) {
        this.sql.run(
          `UPDATE model_versions SET current_stage = 'Archived', last_updated_timestamp = ?
             WHERE rm_id = ? AND current_stage = ? AND version != ?`,
          t,
          mv.rm_id,
          target,
          mv.version,
        );
      }
      this.touchModel(mv.rm_id, t);
      return { model_version: this.mvJson(this.mvRow(name, version)) };
    });
  }

  searchModelVersions(q: { filter?: string; maxResults: number; orderBy: string[]; pageToken?: string }) {
    checkMaxResults(q.maxResults);
    const where: SqlFragment[] = [];
    const clauses = parseFilter(q.filter);
    for (const c of clauses) {
      if (c.type === 'tag') {
        const tagsOfRow = 'model_version_tags t WHERE t.rm_id = mv.rm_id AND t.version = mv.version';
        where.push(tagClauseSql(c, tagsOfRow, 'model version tags'));
        continue;
      }
      switch (c.key) {
        case 'name':
          where.push(nameClauseSql(c));
          break;
        case 'run_id':
          checkClause(c, { comparators: ['=', '!=', 'IN', 'NOT IN'], valueKind: 'string' }, 'run_id');
          where.push(compareSql('mv.run_id', c.comparator, c.value));
          break;
        case 'source_path':
          checkClause(c, { comparators: ['=', '!=', 'LIKE', 'ILIKE'], valueKind: 'string' }, 'source_path');
          where.push(compareSql('mv.source', c.comparator, c.value));
          break;
        case 'version_number':
          checkClause(c, { comparators: ['=', '!=', '<', '<=', '>', '>='], valueKind: 'number' }, 'version_number');
          where.push(compareSql('mv.version', c.comparator, c.value));
          break;
        default:
          throw invalidParameter(
            `Invalid attribute key '${c.key}' specified. Valid keys are '{'name', 'run_id', 'source_path', 'version_number'}'`,
          );
      }
    }
    where.push(...hidePrompts(clauses, 'mv.rm_id'));

    const { terms: order, used } = orderBySql(
      q.orderBy,
      {
        name: 'rm.name',
        version_number: 'mv.version',
        creation_timestamp: 'mv.creation_timestamp',
        timestamp: 'mv.creation_timestamp',
        last_updated_timestamp: 'mv.last_updated_timestamp',
      },
      ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'],
    );
    // MLflow's default and tie-breakers: newest change first, then name, then highest version.
    if (!used.has('mv.last_updated_timestamp')) order.push('mv.last_updated_timestamp DESC');
    if (!used.has('rm.name')) order.push('rm.name ASC');
    if (!used.has('mv.version')) order.push('mv.version DESC');

    return this.searchRows('model_versions', MV_SELECT, where, order, q, (row: MvRow) => this.mvJson(row));
  }

  /** One page of `select WHERE … ORDER BY …`, listed under `key` with the next page's token. */
  private searchRows<R, J>(
    key: string,
    select: string,
    where: SqlFragment[],
    order: string[],
    q: { maxResults: number; pageToken?: string | undefined },
    toJson: (row: R) => J,
  ) {
    const filter = whereSql(where);
    const sql = `${select} ${filter.sql} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`;
    return this.sql.read(() =>
      searchPage(key, (limit, offset) => this.sql.all<R>(sql, ...filter.params, limit, offset), toJson, q),
    );
  }
}
