/**
 * Both dialects of Grantflow's store for one suite. `describeDialects(title, body)` declares `body` twice, as
 * `title (sqlite)` and `title (postgres)`; `body` gets a DialectDatabases that makes fresh, empty databases — a
 * SQLite file in a new temporary folder, or a PostgreSQL database of its own (CREATE DATABASE with a unique
 * quoted name) on the shared test PostgreSQL (test/setup/postgres.ts) — and opens stores on them. In after(),
 * every store it opened is closed, every PostgreSQL database it made is dropped and every folder removed.
 *
 * The PostgreSQL databases use an ICU `en-US` collation, as production databases usually have a linguistic
 * collation (the test cluster itself is initialised with the C locale). Sorting and case mapping of text then
 * differ from SQLite's byte order unless the store makes them agree, so such differences show up here.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { openStore, type OpenStoreOptions } from '../../store';
import type { Store } from '../../store/types';
import { getTestPostgres } from '../setup/postgres';

export type Dialect = Store['dialect'];
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

/** The ICU locale of the PostgreSQL test databases. */
const PG_ICU_LOCALE = 'en-US';
/** The SQLite file's name in its folder (what the CLI opens in GRANTFLOW_DATA_DIR). */
export const SQLITE_FILE = 'grantflow.sqlite';

/** Fresh databases and stores of one dialect, cleaned up after the describe block. */
export interface DialectDatabases {
  readonly dialect: Dialect;
  /**
   * A new, empty database: a postgres:// URL, or the path of a SQLite file (named SQLITE_FILE) whose folder
   * does not exist yet. Either goes to openStore through storeOptions, or to a child process.
   */
  newTarget(prefix: string): Promise<string>;
  /** Opens a store (not migrated) on `target`; it is closed in after() unless closed before. */
  open(target: string, options?: Pick<OpenStoreOptions, 'log'>): Promise<Store>;
  /** A store on a new database, migrated. */
  fresh(prefix: string): Promise<{ store: Store; target: string }>;
  /** A new empty folder, removed in after() (e.g. GRANTFLOW_DATA_DIR for a CLI on PostgreSQL). */
  tempDir(prefix: string): Promise<string>;
}

/** openStore's options for a target from DialectDatabases.newTarget. */
export function storeOptions(target: string): OpenStoreOptions {
  return /^postgres(ql)?:\/\//i.test(target) ? { databaseUrl: target } : { sqliteFile: target };
}

class Databases implements DialectDatabases {
  private readonly stores: Store[] = [];
  private readonly pgDatabases: { adminUrl: string; name: string }[] = [];
  private readonly dirs: string[] = [];

  constructor(readonly dialect: Dialect) {}

  async newTarget(prefix: string): Promise<string> {
    const unique = `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
    if (this.dialect === 'sqlite') return path.join(await this.tempDir(prefix), 'data', SQLITE_FILE);
    const { adminUrl } = await getTestPostgres();
    // Upper case and hyphens: the name only works quoted.
    const name = `GF-${unique}`;
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(
        `create database ${escapeIdentifier(name)} template template0 encoding 'UTF8' ` +
          `locale_provider icu icu_locale ${escapeLiteral(PG_ICU_LOCALE)}`,
      );
    } finally {
      await admin.end();
    }
    this.pgDatabases.push({ adminUrl, name });
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async open(target: string, options: Pick<OpenStoreOptions, 'log'> = {}): Promise<Store> {
    const store = await openStore({ ...storeOptions(target), ...options });
    this.stores.push(store);
    return store;
  }

  async fresh(prefix: string): Promise<{ store: Store; target: string }> {
    const target = await this.newTarget(prefix);
    const store = await this.open(target);
    await store.migrate();
    return { store, target };
  }

  async tempDir(prefix: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), `gf-${prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const store of this.stores.splice(0)) await store.close();
    for (const { adminUrl, name } of this.pgDatabases.splice(0)) {
      const admin = new Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        // FORCE: a child process (CLI, appender) killed by a failing test may still hold a connection.
        await admin.query(`drop database if exists ${escapeIdentifier(name)} with (force)`);
      } finally {
        await admin.end();
      }
    }
    for (const dir of this.dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Declares `body` once per dialect, in `describe('<title> (<dialect>)')`, with that dialect's databases. */
export function describeDialects(
  title: string,
  body: (this: Mocha.Suite, db: DialectDatabases) => void,
): void {
  for (const dialect of DIALECTS) {
    describe(`${title} (${dialect})`, function () {
      const db = new Databases(dialect);
      body.call(this, db);
      // Registered after the body's own after() hooks, so those still find their stores open.
      after(async function () {
        this.timeout(30_000);
        await db.cleanup();
      });
    });
  }
}
