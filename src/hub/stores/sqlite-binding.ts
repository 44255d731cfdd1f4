import { createRequire } from 'node:module';
import { HubError } from '../errors.js';

/** A value bound to a statement's `?`. */
export type SqliteValue = string | number | bigint | null;

/** The part of a prepared statement the SQLite store uses. */
export interface SqliteStatement {
  /** Numbers, as long as a connection is not told to read integers as BigInts (it never is here). */
  run(...params: SqliteValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: SqliteValue[]): unknown;
  all(...params: SqliteValue[]): unknown[];
}

/** The part of a database connection the SQLite store uses: node:sqlite's `DatabaseSync` has exactly this. */
export interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
  readonly isOpen: boolean;
}

/** Which binding opens the database: the runtime's own, or the better-sqlite3 package. */
export type SqliteBindingName = 'node:sqlite' | 'better-sqlite3';

interface NodeSqlite {
  DatabaseSync: new (path: string) => SqliteDatabase;
}

/** The first Node.js line whose node:sqlite is a release candidate, which loads without a warning. */
const NODE_SQLITE_FROM = 24;

/**
 * node:sqlite, where Node.js has it as a release candidate (24 and later), else undefined. It is the
 * same SQLite, built into Node.js: no native module to compile or download at install. On 22 it is
 * still experimental (it prints a warning when loaded), so 22 stays on better-sqlite3.
 */
function builtinSqlite(): NodeSqlite | undefined {
  if (Number(process.versions.node?.split('.')[0]) < NODE_SQLITE_FROM) return undefined;
  try {
    return process.getBuiltinModule?.('node:sqlite') as NodeSqlite | undefined;
  } catch {
    return undefined;
  }
}

/** The binding {@link openSqlite} uses on this runtime. */
export function sqliteBinding(): SqliteBindingName {
  return builtinSqlite() === undefined ? 'better-sqlite3' : 'node:sqlite';
}

/**
 * Opens (creating when missing) a SQLite file: with node:sqlite where the runtime has it, else with
 * better-sqlite3 (Node.js 20 and 22), an optional peer dependency loaded only then.
 */
export function openSqlite(path: string): SqliteDatabase {
  const builtin = builtinSqlite();
  if (builtin !== undefined) return new builtin.DatabaseSync(path);
  let Database: typeof import('better-sqlite3');
  try {
    Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  } catch {
    throw new HubError(
      'invalid-option',
      `The SQLite store needs Node.js ${NODE_SQLITE_FROM} or later (node:sqlite), or on Node.js ${process.versions.node} the better-sqlite3 package: npm install better-sqlite3`,
    );
  }
  const db = new Database(path);
  return {
    exec: (sql) => {
      db.exec(sql);
    },
    prepare: (sql) => db.prepare<SqliteValue[]>(sql),
    close: () => {
      db.close();
    },
    get isOpen() {
      return db.open;
    },
  };
}
