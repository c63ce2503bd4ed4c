/**
 * One real PostgreSQL per mocha process, started on first use in a temporary folder, with a fresh database per
 * caller. The root hooks call stopTestPostgres() after the run; a process that exits first still signals it to stop.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createDatabase, startSandboxPostgres, type SandboxPostgres } from '../../devstack/postgres';

export interface TestPostgres {
  /** Superuser URL of the `postgres` database. */
  adminUrl: string;
  port: number;
  /** Creates an empty database named after the prefix and returns its superuser URL. */
  createDatabase(prefix: string): Promise<string>;
}

interface Running {
  server: SandboxPostgres;
  root: string;
  api: TestPostgres;
}

let running: Promise<Running> | undefined;
let counter = 0;

/** The shared test PostgreSQL, started on the first call (about 1.5 s) and reused after. */
export async function getTestPostgres(): Promise<TestPostgres> {
  running ??= start().catch((err: unknown) => {
    running = undefined; // let a later test try again rather than repeat this failure
    throw err;
  });
  return (await running).api;
}

/** Stops the shared test PostgreSQL, if started, and removes its folder. */
export async function stopTestPostgres(): Promise<void> {
  const current = running;
  running = undefined;
  if (!current) return;
  const { server, root } = await current.catch(() => ({ server: undefined, root: undefined }));
  await server?.stop();
  if (root) await fs.rm(root, { recursive: true, force: true });
}

async function start(): Promise<Running> {
  // Open to all: under root, PostgreSQL runs as the OS user postgres and must be able to enter the folder.
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'grantflow-test-pg-'));
  await fs.chmod(root, 0o777);
  const server = await startSandboxPostgres({
    dataDir: path.join(root, 'data'),
    port: 0,
    log: pino({ level: process.env.GRANTFLOW_TEST_PG_LOG_LEVEL ?? 'warn' }),
    // Durability is worthless in a throwaway cluster; these make writes several times faster.
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  removeOnExit(root);
  const api: TestPostgres = {
    adminUrl: server.adminUrl,
    port: server.port,
    createDatabase: (prefix) => createUniqueDatabase(server.adminUrl, prefix),
  };
  return { server, root, api };
}

/**
 * If the process exits without stopTestPostgres(), the server is still shutting down (postgres.ts signals it on
 * exit), so a detached shell removes the folder once PostgreSQL has removed its lock file.
 */
function removeOnExit(root: string): void {
  process.once('exit', () => {
    if (!running) return; // stopTestPostgres() ran
    const script = 'for i in $(seq 300); do [ -e "$1" ] || break; sleep 0.1; done; rm -rf "$2"';
    const lock = path.join(root, 'data', 'postmaster.pid');
    spawn('sh', ['-c', script, 'sh', lock, root], { detached: true, stdio: 'ignore' }).unref();
  });
}

/** A database of its own for one test, named after `prefix`. */
async function createUniqueDatabase(adminUrl: string, prefix: string): Promise<string> {
  const base =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .slice(0, 40) || 'test';
  const name = `${base}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  return createDatabase(adminUrl, name);
}
