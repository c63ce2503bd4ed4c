/**
 * Runs the official Temporal CLI dev server (`temporal server start-dev`) on a SQLite file, for `grantflow dev`
 * and the test suite, and registers Grantflow's custom search attributes on it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  SearchAttributeConflictError,
  SearchAttributeNotVisibleError,
  TemporalNotFoundError,
  TemporalNotReadyError,
  TemporalStartError,
} from './errors';
import type { SearchAttributeTypeName } from './search-attributes';

export { GRANTFLOW_SEARCH_ATTRIBUTES, type SearchAttributeTypeName } from './search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const INDEXED_TYPES: Record<SearchAttributeTypeName, temporal.api.enums.v1.IndexedValueType> = {
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** gRPC status ALREADY_EXISTS; @grpc/grpc-js is not a direct dependency, so the number is spelled out. */
const GRPC_ALREADY_EXISTS = 6;
const STOP_GRACE_MS = 10_000;

/** Options of {@link startTemporalDevServer}. */
export interface TemporalDevServerOptions {
  /** SQLite file holding the server's state; created if missing, reused (with its workflows) if present. */
  dbFile: string;
  /** Frontend gRPC port. */
  port: number;
  /** Web UI port. */
  uiPort: number;
  /** Namespace to create at launch (default `default`). */
  namespace?: string;
  /** Address to bind (default 127.0.0.1, so the dev server is never reachable from other hosts). */
  ip?: string;
  /** Where the server's stdout/stderr go (default: `temporal.log` beside `dbFile`). */
  logFile?: string;
  /** Custom search attributes; the CLI registers these only when it creates a new database file. */
  searchAttributes: Record<string, SearchAttributeTypeName>;
  /** The Web UI's remote codec endpoint (`--ui-codec-endpoint`), e.g. `http://localhost:3000/codec`. */
  uiCodecEndpoint?: string;
  /** More CLI arguments, appended last. */
  extraArgs?: string[];
  /** How long to wait for the frontend to answer (default 60 s; a cold start on 2 cores can be slow). */
  readyTimeoutMs?: number;
}

/** A running dev server. */
export interface TemporalDevServer {
  /** gRPC address for `Connection.connect`, e.g. `127.0.0.1:7233`. */
  address: string;
  /** Web UI base URL. */
  uiUrl: string;
  pid: number;
  /** SIGTERM, then SIGKILL after ~10 s; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void>;
  /** Sends a signal right away (default SIGKILL), e.g. to simulate a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves with the exit code (null when killed by a signal or never spawned). */
  exited: Promise<number | null>;
}

let packageRoot: string | null | undefined;

/** The grantflow package folder; code runs both from source (tsx) and from dist/devstack, so walk up. */
function findPackageRoot(): string | null {
  if (packageRoot !== undefined) return packageRoot;
  packageRoot = null;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'grantflow') return (packageRoot = dir);
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) return packageRoot;
  }
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The path recorded by scripts/install-temporal.js, if any. */
function cachedBinary(): string | null {
  const root = findPackageRoot();
  if (!root) return null;
  try {
    const record = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', '.cache', 'grantflow', 'temporal.json'), 'utf8'),
    ) as { path?: unknown };
    return typeof record.path === 'string' ? record.path : null;
  } catch {
    return null;
  }
}

/**
 * Finds the Temporal CLI: `GRANTFLOW_TEMPORAL_BIN`, then the binary recorded by `npm install`
 * (node_modules/.cache/grantflow/temporal.json), then `temporal` on PATH.
 * @throws TemporalNotFoundError when none of them is an executable file.
 */
export function findTemporalBinary(): string {
  const fromEnv = process.env.GRANTFLOW_TEMPORAL_BIN;
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return path.resolve(fromEnv);
    throw new TemporalNotFoundError(`GRANTFLOW_TEMPORAL_BIN=${fromEnv} is not an executable file`);
  }
  const cached = cachedBinary();
  if (cached && isExecutableFile(cached)) return cached;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = dir && path.join(dir, process.platform === 'win32' ? 'temporal.exe' : 'temporal');
    if (candidate && isExecutableFile(candidate)) return candidate;
  }
  throw new TemporalNotFoundError('not recorded by `npm install` and not on PATH');
}

/** The `temporal` arguments that start the dev server (exported for tests). */
export function devServerArgs(opts: TemporalDevServerOptions, ip: string, namespace: string): string[] {
  const args = ['server', 'start-dev', '--db-filename', opts.dbFile, '--port', String(opts.port)];
  args.push('--ui-port', String(opts.uiPort), '--ip', ip, '--namespace', namespace);
  args.push('--log-format', 'json', '--log-level', 'warn');
  // The version check phones home, which only slows startup down offline.
  args.push('--dynamic-config-value', 'frontend.enableServerVersionCheck=false');
  for (const [name, type] of Object.entries(opts.searchAttributes))
    args.push('--search-attribute', `${name}=${type}`);
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  return [...args, ...(opts.extraArgs ?? [])];
}

/** The last lines of a log file, for error messages. */
function logTail(file: string, maxLines = 30): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-16_384).split('\n').slice(-maxLines).join('\n');
  } catch {
    return '';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** One readiness probe: the frontend answers and the namespace exists. */
async function probe(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    const conn = connection;
    await conn.withDeadline(Date.now() + 3_000, () => conn.workflowService.describeNamespace({ namespace }));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Polls until the server answers; rejects early if the process exits first. */
async function waitUntilReady(
  address: string,
  namespace: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await Promise.race([probe(address, namespace), exited.then(() => false)]);
    if (gone) return 'exited';
    if (ok) return 'ready';
    await sleep(250);
  }
  return 'timeout';
}

/** Resolves to whether nothing listens on ip:port; a busy port would let another server answer our probes. */
function portIsFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, ip, () => srv.close(() => resolve(true)));
  });
}

/**
 * Starts `temporal server start-dev` and resolves once its frontend answers.
 * @throws TemporalNotFoundError, TemporalStartError (spawn failed or the process exited early),
 *   TemporalNotReadyError (no answer within `readyTimeoutMs`; the process is killed).
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const bin = findTemporalBinary();
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const logFile = opts.logFile ?? path.join(path.dirname(path.resolve(opts.dbFile)), 'temporal.log');
  fs.mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
  fs.mkdirSync(path.dirname(path.resolve(logFile)), { recursive: true });
  for (const port of [opts.port, opts.uiPort]) {
    if (!(await portIsFree(ip, port)))
      throw new TemporalStartError(`port ${port} on ${ip} is already in use`, '');
  }
  const logFd = fs.openSync(logFile, 'a');
  let spawnError: Error | undefined;
  const child = spawn(bin, devServerArgs(opts, ip, namespace), { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd); // the child holds its own copy
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      spawnError = err;
      resolve(null);
    });
  });
  // A server left behind by a crashed test run would hold the ports and the SQLite file.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const host = ip.includes(':') ? `[${ip}]` : ip;
  const address = `${host}:${opts.port}`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const state = await waitUntilReady(address, namespace, exited, readyTimeoutMs);
  if (state === 'exited') {
    const code = await exited;
    const why = spawnError
      ? `could not run ${bin}: ${spawnError.message}`
      : `${bin} exited with code ${code}`;
    throw new TemporalStartError(why, logTail(logFile));
  }
  if (state === 'timeout') {
    child.kill('SIGKILL');
    await exited;
    throw new TemporalNotReadyError(`no answer on ${address} within ${readyTimeoutMs} ms`, logTail(logFile));
  }
  return {
    address,
    uiUrl: `http://${host}:${opts.uiPort}`,
    pid: child.pid as number,
    exited,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => void child.kill(signal),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function listCustomAttributes(connection: Connection, namespace: string): Promise<Map<string, number>> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  return new Map(Object.entries(res.customAttributes ?? {}).map(([name, type]) => [name, Number(type)]));
}

/** Names in `attrs` not yet registered; throws on one registered with another type. */
function missingAttributes(
  existing: Map<string, number>,
  attrs: Record<string, SearchAttributeTypeName>,
): Record<string, temporal.api.enums.v1.IndexedValueType> {
  const missing: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const [name, wanted] of Object.entries(attrs)) {
    const have = existing.get(name);
    if (have === undefined) missing[name] = INDEXED_TYPES[wanted];
    else if (have !== INDEXED_TYPES[wanted]) {
      const haveName = Object.entries(INDEXED_TYPES).find(([, v]) => v === have)?.[0] ?? `type ${have}`;
      throw new SearchAttributeConflictError(name, wanted, haveName);
    }
  }
  return missing;
}

/**
 * Registers the custom search attributes that `namespace` lacks and waits until they are listed.
 * Needed because `--search-attribute` only takes effect when the dev server creates a new database file.
 * @returns the names that were missing and have been added (empty when all existed).
 * @throws SearchAttributeConflictError, SearchAttributeNotVisibleError
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  attrs: Record<string, SearchAttributeTypeName>,
  visibleTimeoutMs = 15_000,
): Promise<string[]> {
  const missing = missingAttributes(await listCustomAttributes(connection, namespace), attrs);
  const names = Object.keys(missing);
  if (names.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    // Another process registering the same attributes at the same moment is fine; anything else is not.
    if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
  }
  const deadline = Date.now() + visibleTimeoutMs;
  for (;;) {
    const current = await listCustomAttributes(connection, namespace);
    const stillMissing = Object.keys(missingAttributes(current, attrs));
    if (stillMissing.length === 0) return names;
    if (Date.now() > deadline) throw new SearchAttributeNotVisibleError(stillMissing, visibleTimeoutMs);
    await sleep(200);
  }
}
