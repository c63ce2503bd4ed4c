/**
 * Opens Grantflow's own database: PostgreSQL when a DATABASE_URL is given, else a SQLite file.
 * Opening checks the connection but changes nothing; `store.migrate()` brings the schema up to date and
 * is safe to run from several processes at once (the later ones wait, then find nothing to do).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from 'pino';
import { logger as defaultLogger, redactUrl } from '../core/logger';
import { migrationSource } from '../migrations';
import { StoreConfigError, StoreConnectError } from './errors';
import { KnexStore } from './knex-store';
import type { Store } from './types';

export type * from './types';
export * from './errors';
export { exportAudit, canonicalJson, computeAuditHash, GENESIS_HASH, type AuditExportFormat } from './audit';

/** How long a SQLite connection waits for another process's write lock before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 15_000;

const MIGRATIONS_TABLE = 'knex_migrations';
const MIGRATE_CONFIG: Knex.MigratorConfig = { migrationSource, tableName: MIGRATIONS_TABLE };

/** Where openStore finds the database. */
export interface OpenStoreOptions {
  /** postgres:// or postgresql:// URL; wins over sqliteFile. */
  databaseUrl?: string;
  /** SQLite file, created with its folder when missing; `:memory:` works for throwaway stores. */
  sqliteFile?: string;
  log?: Logger;
}

interface Opened {
  knex: Knex;
  dialect: Store['dialect'];
  /** The database, fit for logs and errors (no password). */
  where: string;
  /** Closes the knex, or leaves it to the other stores sharing it. */
  release: () => Promise<void>;
}

/** Sends knex's own warnings (e.g. failed connection attempts) to our logger instead of the console. */
function knexLog(log: Logger): Knex.Logger {
  const text = (m: unknown) => (typeof m === 'string' ? m : JSON.stringify(m));
  return {
    warn: (m) => log.warn({ component: 'knex' }, text(m)),
    error: (m) => log.error({ component: 'knex' }, text(m)),
    debug: (m) => log.debug({ component: 'knex' }, text(m)),
    deprecate: (method, alternative) =>
      log.warn({ component: 'knex' }, `${method} is deprecated; use ${alternative}`),
  };
}

function postgresKnex(url: string, log: Logger): Opened {
  if (!/^postgres(ql)?:\/\//i.test(url))
    throw new StoreConfigError(
      `database URL ${redactUrl(url)} is not PostgreSQL (postgres:// or postgresql://)`,
    );
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url },
    pool: { min: 0, max: 10 },
    log: knexLog(log),
  });
  return { knex, dialect: 'postgres', where: redactUrl(url), release: () => knex.destroy() };
}

/** How long to wait between attempts to switch a new SQLite file to WAL while another process does the same. */
const SQLITE_WAL_RETRY_MS = 20;

/**
 * The pragmas every SQLite connection needs; busy_timeout first so that switching to WAL can wait too. Two
 * processes switching a new file to WAL at once can still get SQLITE_BUSY at once (SQLite skips the busy handler
 * when a read must turn into a write, to avoid a deadlock), so that is retried until busy_timeout has passed.
 */
function sqlitePragmas(
  conn: { pragma(sql: string): unknown },
  done: (err: unknown, conn: unknown) => void,
): void {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  const attempt = (): void => {
    try {
      conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      conn.pragma('journal_mode = WAL');
      conn.pragma('foreign_keys = ON');
      done(null, conn);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_BUSY') && Date.now() < deadline)
        setTimeout(attempt, SQLITE_WAL_RETRY_MS);
      else done(err, conn);
    }
  };
  attempt();
}

/**
 * SQLite knex instances by absolute file, shared by every store this process opens on that file. Two
 * connections in one process would deadlock: better-sqlite3 waits for a lock synchronously, so the
 * waiting one freezes the event loop the holder needs to finish.
 */
const sqliteShared = new Map<string, { knex: Knex; refs: number }>();

function newSqliteKnex(file: string, log: Logger): Knex {
  if (file !== ':memory:' && !file.startsWith('file:')) mkdirSync(dirname(file), { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    // One connection: SQLite has one writer anyway, and in-process callers then queue in the pool
    // instead of blocking in busy_timeout.
    pool: { min: 1, max: 1, afterCreate: sqlitePragmas },
    log: knexLog(log),
  });
}

function sqliteKnex(file: string | undefined, log: Logger): Opened {
  if (!file) throw new StoreConfigError('no database: give a PostgreSQL DATABASE_URL or a SQLite file');
  if (file === ':memory:') {
    const knex = newSqliteKnex(file, log);
    return { knex, dialect: 'sqlite', where: file, release: () => knex.destroy() };
  }
  const key = file.startsWith('file:') ? file : resolve(file);
  const entry = sqliteShared.get(key) ?? { knex: newSqliteKnex(file, log), refs: 0 };
  sqliteShared.set(key, entry);
  entry.refs++;
  const release = async () => {
    if (--entry.refs > 0) return;
    if (sqliteShared.get(key) === entry) sqliteShared.delete(key);
    await entry.knex.destroy();
  };
  return { knex: entry.knex, dialect: 'sqlite', where: file, release };
}

/** Opens the store (PostgreSQL when `databaseUrl` is set, else SQLite) and checks that it answers. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const log = opts.log ?? defaultLogger;
  const opened = opts.databaseUrl ? postgresKnex(opts.databaseUrl, log) : sqliteKnex(opts.sqliteFile, log);
  try {
    await opened.knex.raw('select 1');
  } catch (err) {
    await opened.release().catch(() => undefined);
    throw new StoreConnectError(opened.where, err);
  }
  log.debug({ dialect: opened.dialect, database: opened.where }, 'store opened');
  return new KnexStore(opened.knex, {
    dialect: opened.dialect,
    migrate: (knex) => migrateLatest(knex, opened.dialect),
    release: opened.release,
    log,
  });
}

/** Runs every pending migration, one process at a time. */
export async function migrateLatest(knex: Knex, dialect: Store['dialect']): Promise<void> {
  if (dialect === 'postgres') {
    // knex's own table creation races between processes; a session advisory lock makes the later one wait.
    await withPgSessionLock(knex, 'grantflow:migrate', () => knex.migrate.latest(MIGRATE_CONFIG));
    return;
  }
  await prepareSqliteMigrationTables(knex);
  // From here knex's lock suffices: its batch transaction starts by writing the lock row, which takes
  // SQLite's write lock, so a second process waits (busy_timeout) and then sees the work done.
  await knex.migrate.latest(MIGRATE_CONFIG);
}

async function withPgSessionLock<T>(knex: Knex, name: string, fn: () => Promise<T>): Promise<T> {
  const conn: unknown = await knex.client.acquireConnection();
  try {
    await knex.raw('select pg_advisory_lock(hashtextextended(?, 0))', [name]).connection(conn);
    try {
      return await fn();
    } finally {
      await knex.raw('select pg_advisory_unlock(hashtextextended(?, 0))', [name]).connection(conn);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

/**
 * Creates knex's bookkeeping tables and lock row under SQLite's write lock (BEGIN IMMEDIATE), the same
 * tables knex would create. Left to knex, two processes both see no tables, and both create them (one
 * fails) or both insert a lock row (then every later migrate finds the table "already locked").
 */
async function prepareSqliteMigrationTables(knex: Knex): Promise<void> {
  const lockTable = `${MIGRATIONS_TABLE}_lock`;
  const conn: unknown = await knex.client.acquireConnection();
  const run = (sql: string, bindings: string[] = []) => knex.raw(sql, bindings).connection(conn);
  try {
    await run('begin immediate');
    try {
      await run(
        'create table if not exists ?? (?? integer not null primary key autoincrement, ?? varchar(255), ?? integer, ?? datetime)',
        [MIGRATIONS_TABLE, 'id', 'name', 'batch', 'migration_time'],
      );
      await run('create table if not exists ?? (?? integer not null primary key autoincrement, ?? integer)', [
        lockTable,
        'index',
        'is_locked',
      ]);
      await run('insert into ?? (??) select 0 where not exists (select 1 from ??)', [
        lockTable,
        'is_locked',
        lockTable,
      ]);
      await run('commit');
    } catch (err) {
      await run('rollback').catch(() => undefined);
      throw err;
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}
