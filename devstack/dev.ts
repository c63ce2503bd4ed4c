/**
 * `grantflow dev` / `npm start`: everything on one machine with no configuration. The Temporal dev server on a
 * SQLite file, a sandbox PostgreSQL with a demo database, Grantflow's tables in SQLite, the worker and the API
 * server. State lives in GRANTFLOW_DATA_DIR (default .grantflow/), so a second start resumes in-flight grants.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, rmSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { dataDir as defaultDataDir, readDevState, type DevState } from '../cli/context';
import { findConfigFile } from '../config/load';
import { ConfigHolder } from '../core/config-holder';
import { createKeyring, newKeySpec, parseKeys, type Keyring } from '../core/keyring';
import { createLogger } from '../core/logger';
import { createMetrics } from '../core/metrics';
import { connectClient, connectWorker } from '../core/temporal';
import { startApiServer } from '../server/start';
import { openStore } from '../store';
import { createGrantflowWorker } from '../workers/worker';
import { installTemporalRuntime } from '../workers/runtime';
import { DevAlreadyRunningError } from './dev-errors';
import { printBanner } from './banner';
import { requirePort } from './ports';
import { startSandboxPostgres } from './postgres';
import { SandboxDirNotAccessibleError } from './postgres-errors';
import { seedSandbox } from './sandbox-seed';
import {
  ensureSearchAttributes,
  GRANTFLOW_SEARCH_ATTRIBUTES,
  startTemporalDevServer,
  type TemporalDevServerOptions,
} from './temporal';

export interface DevOptions {
  configFile?: string;
  /** Print the banner (URLs, identities, first command). @default true */
  banner?: boolean;
  log?: Logger;
}

export interface DevStack {
  state: DevState;
  stop(): Promise<void>;
}

/** The integration the sandbox PostgreSQL backs; its URL reference is filled in by `dev`. */
const SANDBOX_INTEGRATION = process.env.GRANTFLOW_SANDBOX_INTEGRATION ?? 'sandbox-db';

export async function runDev(options: DevOptions = {}): Promise<DevStack> {
  const log = options.log ?? createLogger('grantflow-dev');
  installTemporalRuntime(log);
  const dir = defaultDataDir();
  mkdirSync(dir, { recursive: true });
  const previous = readDevState();
  if (previous && isAlive(previous.pid) && previous.pid !== process.pid)
    throw new DevAlreadyRunningError(previous.pid, dir);

  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    rmSync(path.join(dir, 'dev.json'), { force: true });
    for (const s of stops.reverse())
      await s().catch((err) => log.warn({ err: String(err) }, 'stop step failed'));
  };
  try {
    const state = await startAll(dir, options, log, stops);
    const file = path.join(dir, 'dev.json');
    writeFileSync(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    return { state, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startAll(
  dir: string,
  options: DevOptions,
  log: Logger,
  stops: (() => Promise<void>)[],
): Promise<DevState> {
  const temporalPort = await requirePort('GRANTFLOW_TEMPORAL_PORT', 7233);
  const uiPort = await requirePort('GRANTFLOW_TEMPORAL_UI_PORT', 8233);
  const apiPort = await requirePort('GRANTFLOW_PORT', 3000);
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';

  const keyring = ensureDevKeys(dir, log);

  log.info('starting the Temporal dev server (SQLite: %s)', path.join(dir, 'temporal.sqlite'));
  const temporal = await startTemporalDevServer(
    devTemporalOptions(dir, { temporal: temporalPort, temporalUi: uiPort, api: apiPort }, namespace),
  );
  stops.push(() => temporal.stop());
  const saConnection = await Connection.connect({ address: temporal.address });
  await ensureSearchAttributes(saConnection, namespace, GRANTFLOW_SEARCH_ATTRIBUTES);
  await saConnection.close();

  log.info('starting the sandbox PostgreSQL');
  const pg = await startSandbox(dir, log);
  stops.push(() => pg.stop());
  const connectorUrl = withDatabase(pg.adminUrl, 'demo');
  process.env.GRANTFLOW_SANDBOX_DB_URL ??= connectorUrl;

  const configFile = findConfigFile(options.configFile);
  const store = await openStore(
    process.env.DATABASE_URL
      ? { databaseUrl: process.env.DATABASE_URL, log }
      : { sqliteFile: path.join(dir, 'grantflow.sqlite'), log },
  );
  stops.push(() => store.close());
  await store.migrate();
  const holder = new ConfigHolder(configFile, store, log);
  await holder.recordInitial('grantflow dev');
  const unwatch = holder.watchSighup();
  stops.push(async () => unwatch());

  const sandboxIdentities = holder
    .current()
    .identities.filter((i) => i.accounts[SANDBOX_INTEGRATION])
    .map((i) => ({ email: i.email, account: i.accounts[SANDBOX_INTEGRATION] }));
  const seed = await seedSandbox(pg.adminUrl, sandboxIdentities);

  log.info('starting the worker');
  const metrics = createMetrics(store);
  const connection = await connectWorker({ connection: { address: temporal.address }, namespace });
  stops.push(() => connection.close());
  const client = await connectClient({ connection: { address: temporal.address }, namespace }, { keyring });
  stops.push(() => client.connection.close());
  const worker = await createGrantflowWorker({
    connection,
    namespace,
    config: holder.current,
    store,
    log,
    metrics,
    keyring,
    client,
  });
  stops.push(() => worker.shutdown());
  worker.run().catch((err) => log.error({ err: String(err) }, 'worker stopped with an error'));

  const ctx = { config: holder.current, store, client, log };
  const api = await startApiServer({
    ctx,
    metrics,
    log,
    port: apiPort,
    host: process.env.GRANTFLOW_HOST ?? '127.0.0.1',
    devMode: true,
    temporalUiUrl: temporal.uiUrl,
  });
  stops.push(() => api.close());

  const state: DevState = {
    apiUrl: `http://localhost:${apiPort}`,
    temporalAddress: temporal.address,
    temporalUiUrl: temporal.uiUrl,
    namespace,
    sandboxAdminUrl: pg.adminUrl,
    sandboxConnectorUrl: process.env.GRANTFLOW_SANDBOX_DB_URL ?? connectorUrl,
    databaseFile: process.env.DATABASE_URL ? '(DATABASE_URL)' : path.join(dir, 'grantflow.sqlite'),
    configFile: holder.current().file,
    ports: { temporal: temporalPort, temporalUi: uiPort, api: apiPort, sandboxPostgres: pg.port },
    pid: process.pid,
  };
  if (options.banner !== false) {
    // The same routing warnings the API server logs; a slow Slack must not hold the banner up.
    const giveUp = new AbortController();
    const routing = await Promise.race([
      api.integrations.routing(),
      delay(10_000, undefined, { signal: giveUp.signal }),
    ])
      .catch(() => undefined)
      .finally(() => giveUp.abort());
    printBanner(state, holder.current(), seed, SANDBOX_INTEGRATION, routing ?? []);
  }
  return state;
}

/** The dev server's options: SQLite in the data folder, and the Web UI decoding payloads through the API server. */
export function devTemporalOptions(
  dir: string,
  ports: { temporal: number; temporalUi: number; api: number },
  namespace: string,
): TemporalDevServerOptions {
  return {
    dbFile: path.join(dir, 'temporal.sqlite'),
    port: ports.temporal,
    uiPort: ports.temporalUi,
    namespace,
    searchAttributes: GRANTFLOW_SEARCH_ATTRIBUTES,
    uiCodecEndpoint: `http://localhost:${ports.api}/codec`,
  };
}

/** The dev stack's payload key file in the data folder (the CLI reads it too, see cli/context.ts). */
export const DEV_KEYS_FILE = 'encryption-keys';

/**
 * The payload keys: GRANTFLOW_ENCRYPTION_KEYS when set, else `<data dir>/encryption-keys` (made on first start,
 * mode 600, and kept: histories sealed under it must stay readable). Sets GRANTFLOW_ENCRYPTION_KEYS for
 * everything in this process.
 */
export function ensureDevKeys(dir: string, log: Logger): Keyring {
  let source = 'GRANTFLOW_ENCRYPTION_KEYS';
  if (!process.env.GRANTFLOW_ENCRYPTION_KEYS?.trim()) {
    source = path.join(dir, DEV_KEYS_FILE);
    if (!existsSync(source)) {
      writeFileSync(source, newKeySpec('dev1') + '\n', { mode: 0o600, flag: 'wx' });
      log.info('made a payload encryption key in %s', source);
    }
    chmodSync(source, 0o600);
    process.env.GRANTFLOW_ENCRYPTION_KEYS = readFileSync(source, 'utf8').trim();
  }
  const keyring = createKeyring(parseKeys(process.env.GRANTFLOW_ENCRYPTION_KEYS ?? '', source));
  log.info('Temporal payloads are encrypted with key %s', keyring.currentKeyId);
  return keyring;
}

/**
 * Starts the sandbox in the data folder; when PostgreSQL's unprivileged OS user cannot reach that folder (a
 * checkout under /root, say), it keeps its cluster under /var/tmp instead, one folder per data folder.
 */
async function startSandbox(dir: string, log: Logger) {
  const port = Number(process.env.GRANTFLOW_SANDBOX_PG_PORT ?? 5432);
  try {
    return await startSandboxPostgres({ dataDir: path.join(dir, 'sandbox-pg'), port, log });
  } catch (err) {
    if (!(err instanceof SandboxDirNotAccessibleError)) throw err;
    const fallback = path.join(
      '/var/tmp/grantflow-sandbox',
      createHash('sha256').update(dir).digest('hex').slice(0, 12),
    );
    log.warn(
      { blockedAt: err.blockedAt, dataDir: fallback },
      'the sandbox cannot live in the data folder; using /var/tmp',
    );
    mkdirSync(fallback, { recursive: true, mode: 0o755 });
    chmodSync(path.dirname(fallback), 0o755);
    return startSandboxPostgres({ dataDir: path.join(fallback, 'sandbox-pg'), port, log });
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
