/**
 * The SQLite file of an embedded store: opening it safely for several processes at once, and
 * creating or migrating its schema. Only the server imports better-sqlite3 (and the server
 * itself is loaded lazily), so commands that never touch the store never load the native module.
 */
import Database from 'better-sqlite3';
import { InputError } from '../errors.js';

export type Db = Database.Database;

/** Bump and add a step to MIGRATIONS when the schema changes; never edit a shipped step. */
export const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  run_name TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active'
);
CREATE INDEX runs_by_experiment ON runs(experiment_id);
CREATE TABLE run_params (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);
-- Every logged value; value is NULL for NaN (SQLite cannot store NaN).
CREATE TABLE run_metrics (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL
);
CREATE INDEX run_metrics_by_key ON run_metrics(run_id, key);
CREATE TABLE run_latest_metrics (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE registered_models (
  rm_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- highest version number ever allocated: numbers are never reused, even after a delete
  last_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE registered_model_tags (
  rm_id INTEGER NOT NULL REFERENCES registered_models(rm_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (rm_id, key)
);
CREATE TABLE model_versions (
  rm_id INTEGER NOT NULL REFERENCES registered_models(rm_id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  creation_timestamp INTEGER NOT NULL,
  last_updated_timestamp INTEGER NOT NULL,
  current_stage TEXT NOT NULL DEFAULT 'None',
  description TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  storage_location TEXT NOT NULL,
  run_id TEXT NOT NULL DEFAULT '',
  run_link TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'READY',
  logged_model_id TEXT,
  PRIMARY KEY (rm_id, version)
);
CREATE INDEX model_versions_by_stage ON model_versions(rm_id, current_stage, version);
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE INDEX model_versions_by_update ON model_versions(last_updated_timestamp);
CREATE TABLE model_version_tags (
  rm_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (rm_id, version, key),
  FOREIGN KEY (rm_id, version) REFERENCES model_versions(rm_id, version) ON DELETE CASCADE
);
-- An alias points at exactly one version; deleting the version deletes its aliases.
CREATE TABLE registered_model_aliases (
  rm_id INTEGER NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (rm_id, alias),
  FOREIGN KEY (rm_id, version) REFERENCES model_versions(rm_id, version) ON DELETE CASCADE
);
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  status TEXT NOT NULL,
  model_type TEXT NOT NULL DEFAULT '',
  source_run_id TEXT NOT NULL DEFAULT '',
  creation_timestamp_ms INTEGER NOT NULL,
  last_updated_timestamp_ms INTEGER NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active'
);
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
);
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
);
`,
};

/** How long a write waits for another process's transaction before giving up (SQLITE_BUSY). */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens (creating if needed) the store database. WAL lets readers and one writer work at the
 * same time across processes; busy_timeout makes a writer wait for the lock instead of failing;
 * synchronous=FULL makes a commit durable before the HTTP response says it happened.
 */
export function openDatabase(file: string, now: () => number): Db {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, now);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function currentVersion(db: Db): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!table) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

function migrate(db: Db, now: () => number): void {
  const seen = currentVersion(db);
  if (seen === SCHEMA_VERSION) return;
  if (seen > SCHEMA_VERSION) {
    throw new InputError(
      `the store ${db.name} has schema version ${seen}, newer than this mlv understands (${SCHEMA_VERSION})`,
      { hint: 'upgrade mlv, or point MLV_HOME / --store at another directory' },
    );
  }
  // IMMEDIATE: two processes opening a fresh store at once must not both create the tables.
  db.transaction(() => {
    let version = currentVersion(db);
    if (version === 0) {
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    }
    while (version < SCHEMA_VERSION) {
      version++;
      db.exec(MIGRATIONS[version]!);
      if (version === 1) {
        const t = now();
        db.prepare(
          "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) VALUES (0, 'Default', 'mlflow-artifacts:/0', ?, ?)",
        ).run(t, t);
      }
    }
    db.exec('DELETE FROM schema_version');
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  }).immediate();
}
