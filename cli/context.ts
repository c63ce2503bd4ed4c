/**
 * Building what a CLI command needs: config, store, Temporal client. After `npm start`, a second terminal
 * finds the dev stack through `<data dir>/dev.json`, so `npx grantflow ...` works with no settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigFile, loadConfig } from '../config/load';
import type { GrantflowConfig } from '../config/types';
import type { Actor, AppContext } from '../core/context';
import { UnknownIdentityError, InvalidInputError } from '../core/errors';
import { createLogger } from '../core/logger';
import { connectClient, temporalSettings } from '../core/temporal';
import { findIdentity } from '../policy/snapshot';
import { openStore } from '../store';
import type { Store } from '../store/types';

export interface GlobalOptions {
  config?: string;
  as?: string;
  debug?: boolean;
}

/** What `grantflow dev` writes once everything is up. */
export interface DevState {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl: string;
  namespace: string;
  sandboxAdminUrl: string;
  sandboxConnectorUrl: string;
  databaseFile: string;
  configFile: string;
  ports: Record<string, number>;
  pid: number;
}

export function dataDir(): string {
  return path.resolve(process.env.GRANTFLOW_DATA_DIR ?? '.grantflow');
}

export function readDevState(): DevState | undefined {
  const file = path.join(dataDir(), 'dev.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as DevState;
}

/** Fills unset settings from a running `grantflow dev`, so the CLI talks to it by default. */
export function applyDevDefaults(env: NodeJS.ProcessEnv = process.env): DevState | undefined {
  const dev = readDevState();
  if (!dev) return undefined;
  env.TEMPORAL_ADDRESS ??= dev.temporalAddress;
  env.TEMPORAL_NAMESPACE ??= dev.namespace;
  env.GRANTFLOW_SANDBOX_DB_URL ??= dev.sandboxConnectorUrl;
  env.GRANTFLOW_CONFIG ??= dev.configFile;
  // The payload key `grantflow dev` made (devstack/dev.ts ensureDevKeys), unless keys are given.
  const keys = path.join(dataDir(), 'encryption-keys');
  if (!env.GRANTFLOW_ENCRYPTION_KEYS && existsSync(keys))
    env.GRANTFLOW_ENCRYPTION_KEYS = readFileSync(keys, 'utf8').trim();
  return dev;
}

export function openStoreFromEnv(): Promise<Store> {
  const databaseUrl = process.env.DATABASE_URL;
  return openStore(databaseUrl ? { databaseUrl } : { sqliteFile: path.join(dataDir(), 'grantflow.sqlite') });
}

/** The CLI never calls a connector (every grant goes through a workflow), so it needs no integration secrets. */
export function loadConfigFrom(options: GlobalOptions): GrantflowConfig {
  return loadConfig(findConfigFile(options.config), process.env, { resolveSecrets: false });
}

export interface CliContext extends AppContext {
  close(): Promise<void>;
}

export async function openContext(options: GlobalOptions): Promise<CliContext> {
  applyDevDefaults();
  const config = loadConfigFrom(options);
  const store = await openStoreFromEnv();
  const client = await connectClient(temporalSettings());
  const log = createLogger('grantflow-cli', { level: 'warn', stderr: true });
  return {
    config: () => config,
    store,
    client,
    log,
    async close() {
      await client.connection.close();
      await store.close();
    },
  };
}

/** The acting identity: `--as` or GRANTFLOW_USER, which must be an identity in the config. */
export function actorFrom(options: GlobalOptions, config: GrantflowConfig): Actor {
  const email = options.as ?? process.env.GRANTFLOW_USER;
  if (!email) throw new InvalidInputError('say who is acting: --as EMAIL or GRANTFLOW_USER', 'as');
  const identity = findIdentity(config, email);
  if (!identity) throw new UnknownIdentityError(email);
  return { email: identity.email, channel: 'cli', osUser: os.userInfo().username };
}
