import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

/**
 * Prepared statements, cached by their text, and the two kinds of transaction the stores use.
 * Statements are prepared on first use so that opening a store costs no parsing.
 */
export class Sql {
  private readonly cache = new Map<string, Statement>();
  constructor(
    readonly db: Db,
    readonly now: () => number,
  ) {}

  stmt(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  run(sql: string, ...params: unknown[]): { changes: number } {
    return this.stmt(sql).run(...params);
  }

  /**
   * A write: BEGIN IMMEDIATE takes the write lock before the first read, so a read-then-write
   * (e.g. allocating the next version number) cannot race another process, and a busy store
   * makes us wait (busy_timeout) instead of failing half-way.
   */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Several reads that must see one snapshot (WAL: writers are not blocked meanwhile). */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }
}

export interface KeyValue {
  key: string;
  value: string;
}

/** Omits the key when the list is empty: MLflow's protobuf JSON never sends empty arrays. */
export function nonEmpty<T>(key: string, list: T[]): Record<string, T[]> {
  return list.length > 0 ? { [key]: list } : {};
}
