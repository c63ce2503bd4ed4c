/**
 * An isolated Grantflow for one test file: its own task queue, store (SQLite or PostgreSQL), database with
 * roles and logins, config, and a worker on the shared Temporal dev server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { escapeIdentifier, escapeLiteral, Client as PgClient } from 'pg';
import { parseConfig } from '../../config/load';
import type { GrantflowConfig } from '../../config/types';
import type { Actor, AppContext } from '../../core/context';
import { connectClient, connectWorker } from '../../core/temporal';
import { createConnectorRegistry } from '../../connectors/registry';
import type { ConnectorRegistry } from '../../connectors/types';
import type { ChatAdapter } from '../../chat-adapters/types';
import { getRequest } from '../../core/request-actions';
import { openStore } from '../../store';
import type { AuditRow, Store } from '../../store/types';
import type { RequestStatus, RequestView } from '../../workflows/definitions';
import { createGrantflowWorker, type GrantflowWorker } from '../../workers/worker';
import { getTestPostgres } from '../setup/postgres';
import { getTestTemporal, getWorkflowBundle, testLog } from '../setup/stack';
import { testConfigYaml } from './test-config';

export const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
export type Person = (typeof PEOPLE)[number];

export interface Harness {
  ctx: AppContext;
  config: GrantflowConfig;
  store: Store;
  prefix: string;
  dbUrl: string;
  adminUrl: string;
  taskQueue: string;
  /** The config's YAML text, and the environment its secret references need. */
  configYaml: string;
  configEnv: Record<string, string>;
  /** The SQLite file of the store (undefined with a PostgreSQL store). */
  storeFile?: string;
  /** Where Temporal is. */
  temporal: { address: string; namespace: string };
  /** The database login of a person (their account in the `db` integration). */
  account(person: Person): string;
  actor(person: Person, channel?: string): Actor;
  /** Connects to the test database as a person, with their own password. */
  connectAs(person: Person): Promise<PgClient>;
  /** Whether a fresh session of the person can read the demo table. */
  canRead(person: Person): Promise<boolean>;
  canWrite(person: Person): Promise<boolean>;
  waitFor(id: string, status: RequestStatus | RequestStatus[], timeoutMs?: number): Promise<RequestView>;
  /**
   * The request's audit event of a type, once written: a status shows in the workflow a moment before the
   * activity that records it has written its row.
   */
  auditEvent(id: string, type: string, timeoutMs?: number): Promise<AuditRow>;
  startWorker(connectors?: ConnectorRegistry): Promise<GrantflowWorker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Use PostgreSQL for Grantflow's own tables instead of SQLite. */
  postgresStore?: boolean;
  /** Start no worker (the test runs its own). */
  noWorker?: boolean;
  /** Extra YAML settings. */
  settings?: { revokeAlertAfterAttempts?: number; revokeMaxBackoff?: string };
  connectors?: (config: GrantflowConfig) => ConnectorRegistry;
  /** Changes the generated config YAML (e.g. adds Slack ids and notification targets). */
  configTransform?: (yaml: string) => string;
  /** The worker's chat adapters besides the log (default: none, whatever the config says). */
  chatAdapters?: (config: GrantflowConfig, store: Store) => ChatAdapter[];
  /** A Temporal server other than the shared one (tests that restart it). */
  temporal?: { address: string; namespace: string };
}

const PASSWORD = 'test-password-1';

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const pg = await getTestPostgres();
  const dbUrl = await pg.createDatabase(`${prefix}_target`);
  await seedTarget(dbUrl, prefix);
  const envName = `GF_TEST_DB_${prefix.toUpperCase()}`;
  process.env[envName] = dbUrl;
  const taskQueue = `grantflow-test-${prefix}`;
  const generated = testConfigYaml({ prefix, envName, taskQueue, settings: options.settings });
  const configYaml = options.configTransform ? options.configTransform(generated) : generated;
  const config = parseConfig(configYaml, `${prefix}.yaml`);

  const storeFile = options.postgresStore
    ? undefined
    : path.join(mkdtempSync(path.join(os.tmpdir(), 'gf-store-')), 'grantflow.sqlite');
  const store = storeFile
    ? await openStore({ sqliteFile: storeFile })
    : await openStore({ databaseUrl: await pg.createDatabase(`${prefix}_store`) });
  await store.migrate();

  const temporal = options.temporal ?? (await getTestTemporal());
  const settings = { connection: { address: temporal.address }, namespace: temporal.namespace };
  const client = await connectClient(settings);
  const ctx: AppContext = { config: () => config, store, client, log: testLog };
  let worker: GrantflowWorker | undefined;
  let workerRun: Promise<void> | undefined;

  const h: Harness = {
    ctx,
    config,
    store,
    prefix,
    dbUrl,
    adminUrl: pg.adminUrl,
    taskQueue,
    configYaml,
    configEnv: { [envName]: dbUrl },
    storeFile,
    temporal: { address: temporal.address, namespace: temporal.namespace },
    account: (person) => `${prefix}_${person}`,
    actor: (person, channel = 'test') => ({ email: `${person}@example.com`, channel }),
    async connectAs(person) {
      const u = new URL(dbUrl);
      u.username = h.account(person);
      u.password = PASSWORD;
      const c = new PgClient({ connectionString: u.toString() });
      await c.connect();
      return c;
    },
    async canRead(person) {
      return tryQuery(h, person, 'select count(*) from incidents');
    },
    async canWrite(person) {
      return tryQuery(h, person, "insert into incidents(title) values ('probe')");
    },
    async waitFor(id, status, timeoutMs = 30_000) {
      const wanted = Array.isArray(status) ? status : [status];
      const deadline = Date.now() + timeoutMs;
      let view: RequestView | undefined;
      while (Date.now() < deadline) {
        view = await getRequest(ctx, id);
        if (wanted.includes(view.status)) return view;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`request ${id} is ${view?.status}, not ${wanted.join('/')}, after ${timeoutMs} ms`);
    },
    async auditEvent(id, type, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const row = (await store.listAudit({ requestId: id })).find((r) => r.type === type);
        if (row) return row;
        if (Date.now() > deadline) throw new Error(`no ${type} event for ${id} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async startWorker(connectors) {
      const connection = await connectWorker(settings);
      worker = await createGrantflowWorker({
        connection,
        namespace: temporal.namespace,
        config: () => config,
        store,
        log: testLog,
        workflowBundle: await getWorkflowBundle(),
        connectors: connectors ?? options.connectors?.(config),
        chatAdapters: options.chatAdapters?.(config, store) ?? [],
      });
      workerRun = worker.run().finally(() => connection.close());
      return worker;
    },
    async stopWorker() {
      await worker?.shutdown();
      await workerRun?.catch(() => undefined);
      worker = undefined;
    },
    async close() {
      await h.stopWorker();
      await client.connection.close();
      await store.close();
    },
  };
  if (!options.noWorker) await h.startWorker();
  return h;
}

async function tryQuery(h: Harness, person: Person, sql: string): Promise<boolean> {
  const c = await h.connectAs(person);
  try {
    await c.query(sql);
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Creates the target system: a table, the two permission roles, and a login per person with no rights. */
async function seedTarget(dbUrl: string, prefix: string): Promise<void> {
  const c = new PgClient({ connectionString: dbUrl });
  await c.connect();
  try {
    const ro = escapeIdentifier(`${prefix}_readonly`);
    const rw = escapeIdentifier(`${prefix}_readwrite`);
    await c.query('create table incidents (id serial primary key, title text not null)');
    await c.query("insert into incidents(title) values ('disk full on db-1'), ('slow queries')");
    await c.query(`create role ${ro} nologin`);
    await c.query(`create role ${rw} nologin`);
    await c.query(`grant select on incidents to ${ro}`);
    await c.query(`grant select, insert, update, delete on incidents to ${rw}`);
    await c.query(`grant usage on sequence incidents_id_seq to ${rw}`);
    for (const person of PEOPLE) {
      await c.query(
        `create role ${escapeIdentifier(`${prefix}_${person}`)} login password ${escapeLiteral(PASSWORD)}`,
      );
    }
    await c.query('revoke all on incidents from public');
  } finally {
    await c.end();
  }
}

export function connectorsFor(config: GrantflowConfig): ConnectorRegistry {
  return createConnectorRegistry(config.integrations, { log: testLog });
}
