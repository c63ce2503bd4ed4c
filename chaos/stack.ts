/**
 * The chaos run's own stack, on free ports in a temporary folder: a Temporal dev server on its own SQLite file
 * (fixed ports, so it can be stopped and started again on the same file), an embedded PostgreSQL holding the
 * target database (people's logins and the group roles) and, optionally, Grantflow's store; a TCP proxy between
 * the connector and PostgreSQL; the worker as a supervised child process; and the API server in this process,
 * with an API token for every identity.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { Client as PgClient, escapeIdentifier, escapeLiteral } from 'pg';
import { parseConfig } from '../config/load';
import type { GrantflowConfig } from '../config/types';
import type { AppContext } from '../core/context';
import { REDACT_PATHS } from '../core/logger';
import { createMetrics } from '../core/metrics';
import { connectClient } from '../core/temporal';
import { createDatabase } from '../devstack/postgres';
import { issueToken } from '../core/tokens';
import { startSandboxPostgres, type SandboxPostgres } from '../devstack/postgres';
import { findTemporalBinary } from '../devstack/temporal';
import { startApiServer, type ApiServer } from '../server/start';
import { openStore, type Store } from '../store';
import type { TcpProxy } from '../test/helpers/tcp-proxy';
import { getWorkflowBundle, startOwnTemporal } from '../test/setup/stack';
import type { ChaosOptions } from './options';
import { ADMIN, APPROVERS, emailOf, FLOWS, loginOf, PERMISSIONS, type Plan } from './plan';
import { startProxyProcess } from './proxy';
import { WorkerSupervisor } from './worker';

export const ROLE_OF = { readonly: 'chaos_readonly', readwrite: 'chaos_readwrite' } as const;
const TARGET_DB = 'chaos_target';
const STORE_DB = 'grantflow_store';
const TARGET_ENV = 'GF_CHAOS_TARGET_URL';

type TemporalServer = Awaited<ReturnType<typeof startOwnTemporal>>;

export interface ChaosStack {
  dir: string;
  logsDir: string;
  log: Logger;
  config: GrantflowConfig;
  store: Store;
  ctx: AppContext;
  apiUrl: string;
  /** API token of each identity, by email. */
  tokens: Map<string, string>;
  /** Superuser URL of the target database, straight to PostgreSQL (the run's own checks). */
  targetUrl: string;
  /** A person's own login to the target database, straight to PostgreSQL (the session sampler). */
  personUrl(person: string): string;
  proxy: TcpProxy;
  worker: WorkerSupervisor;
  temporal: {
    address: string;
    /** Stops the server, waits `downMs`, starts it again on the same file and ports; returns when it answers. */
    restart(downMs: number): Promise<void>;
    up: boolean;
  };
  versions: Record<string, string>;
  close(): Promise<void>;
}

export async function startChaosStack(o: ChaosOptions, plan: Plan, logsDir: string): Promise<ChaosStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-chaos-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the OS user postgres under root, and must reach its folder
  mkdirSync(logsDir, { recursive: true });
  const log = pino(
    { name: 'chaos', level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.destination({ dest: path.join(logsDir, 'api-server.log'), sync: false }),
  );
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch(() => undefined);
    // The Temporal dev server's own log is kept with the run's logs.
    const temporalLog = path.join(dir, 'temporal', 'temporal.log');
    if (existsSync(temporalLog)) copyFileSync(temporalLog, path.join(logsDir, 'temporal.log'));
    if (!o.keepTemp) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // PostgreSQL: the target system, and the store when asked for.
    const pgRoot = path.join(dir, 'postgres');
    mkdirSync(pgRoot);
    chmodSync(pgRoot, 0o777);
    const pgLog = pino({ level: 'warn' }, pino.destination({ dest: path.join(logsDir, 'postgres.log') }));
    const pg: SandboxPostgres = await startSandboxPostgres({
      dataDir: path.join(pgRoot, 'data'),
      port: 0,
      log: pgLog,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    closers.push(() => pg.stop());
    const password = randomBytes(12).toString('base64url');
    const targetUrl = await createDatabase(pg.adminUrl, TARGET_DB);
    await seedTarget(targetUrl, plan.people, password);
    const storeUrl = o.store === 'postgres' ? await createDatabase(pg.adminUrl, STORE_DB) : undefined;

    const proxy = await startProxyProcess({ host: '127.0.0.1', port: pg.port });
    closers.push(() => proxy.close());
    const viaProxy = new URL(targetUrl);
    viaProxy.port = String(proxy.port);
    process.env[TARGET_ENV] = viaProxy.toString();

    const configYaml = chaosConfigYaml(o, plan);
    const configFile = path.join(dir, 'grantflow.yaml');
    writeFileSync(configFile, configYaml);
    const config = parseConfig(configYaml, configFile);

    const storeFile = path.join(dir, 'grantflow.sqlite');
    const store = await openStore(storeUrl ? { databaseUrl: storeUrl, log } : { sqliteFile: storeFile, log });
    closers.push(() => store.close());
    await store.migrate();

    // Temporal on fixed ports, so that it comes back where everyone looks for it.
    const temporalDir = path.join(dir, 'temporal');
    mkdirSync(temporalDir);
    let server: TemporalServer = await startOwnTemporal(temporalDir);
    const ports = { port: server.port, uiPort: server.uiPort };
    const temporal = {
      address: server.server.address,
      up: true,
      async restart(downMs: number) {
        temporal.up = false;
        await server.server.stop();
        await sleep(downMs);
        for (let attempt = 1; ; attempt++) {
          try {
            server = await startOwnTemporal(temporalDir, ports);
            break;
          } catch (err) {
            if (attempt >= 5) throw err;
            log.warn({ err: String(err), attempt }, 'Temporal did not start again; retrying');
            await sleep(2_000);
          }
        }
        temporal.up = true;
      },
    };
    closers.push(() => server.server.stop());

    const client = await connectClient({ connection: { address: temporal.address }, namespace: 'default' });
    closers.push(() => client.connection.close());
    const ctx: AppContext = { config: () => config, store, client, log };

    const bundleFile = path.join(dir, 'workflow-bundle.js');
    writeFileSync(bundleFile, (await getWorkflowBundle()).code);
    const worker = new WorkerSupervisor({
      logFile: path.join(logsDir, 'worker.log'),
      env: {
        ...process.env,
        GF_CONFIG_FILE: configFile,
        ...(storeUrl ? { GF_STORE_URL: storeUrl } : { GF_STORE_FILE: storeFile }),
        GF_WORKFLOW_BUNDLE: bundleFile,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'default',
        GRANTFLOW_LOG_LEVEL: 'info',
        [TARGET_ENV]: viaProxy.toString(),
      },
    });
    closers.push(() => worker.stop());
    await worker.start();

    const api: ApiServer = await startApiServer({
      ctx,
      metrics: createMetrics(store),
      log,
      port: 0,
      host: '127.0.0.1',
      devLogin: false,
    });
    closers.push(() => api.close());

    const tokens = new Map<string, string>();
    const identities = [...plan.people, ...plan.ghosts, ...APPROVERS, ADMIN].map(emailOf);
    for (const email of identities) {
      tokens.set(email, (await issueToken(ctx, { email, name: 'chaos', createdBy: 'chaos' })).token);
    }

    const versions = await versionsOf(targetUrl);
    return {
      dir,
      logsDir,
      log,
      config,
      store,
      ctx,
      apiUrl: api.url,
      tokens,
      targetUrl,
      personUrl(person) {
        const u = new URL(targetUrl);
        u.username = loginOf(person);
        u.password = password;
        return u.toString();
      },
      proxy,
      worker,
      temporal,
      versions,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** grantflow.yaml of the run: people, approvers, an admin, one PostgreSQL integration behind the proxy. */
export function chaosConfigYaml(o: ChaosOptions, plan: Plan): string {
  const person = (name: string) =>
    `  - email: ${emailOf(name)}\n    groups: [people]\n    accounts: { db: ${loginOf(name)} }`;
  const seconds = (ms: number) => `${Math.ceil(ms / 1000)}s`;
  const maxMs = Math.max(o.maxGrantMs * 2, 120_000);
  const flows = Object.entries(FLOWS).map(([name, f]) =>
    [
      `  - name: ${name}`,
      `    requesters: { groups: [people] }`,
      `    resources: [{ name: db, permissions: [${f.permission}] }]`,
      f.autoApprove
        ? `    autoApprove: true`
        : `    approvers: { groups: [approvers] }\n    requiredApprovals: ${f.requiredApprovals}\n    approvalTimeout: ${seconds(o.approvalTimeoutMs)}`,
      `    defaultDuration: ${seconds(o.minGrantMs)}`,
      `    maxDuration: ${seconds(maxMs)}`,
      `    maxTotalDuration: ${seconds(maxMs)}`,
      `    reminderBefore: 3s`,
      `    requireJustification: false`,
    ].join('\n'),
  );
  return [
    `taskQueue: grantflow-chaos`,
    `settings:`,
    `  revokeAlertAfterAttempts: 3`,
    `  revokeMaxBackoff: ${o.revokeMaxBackoffMs}ms`,
    `  revokeOverdueAfter: ${o.revokeOverdueAfterMs}ms`,
    `identities:`,
    ...[...plan.people, ...plan.ghosts].map(person),
    ...APPROVERS.map((a) => `  - email: ${emailOf(a)}\n    groups: [approvers]`),
    `  - email: ${emailOf(ADMIN)}\n    groups: [admins]`,
    `admins:`,
    `  groups: [admins]`,
    `  alerts: [{ platform: log }]`,
    `integrations:`,
    `  db:`,
    `    type: postgres`,
    `    url: \${${TARGET_ENV}}`,
    `    permissions:`,
    ...PERMISSIONS.map((p) => `      ${p}: { role: ${ROLE_OF[p]} }`),
    `flows:`,
    ...flows,
    '',
  ].join('\n');
}

/** A table, the two group roles that carry access to it, and a login per person with no rights of its own. */
async function seedTarget(url: string, people: string[], password: string): Promise<void> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  try {
    const ro = escapeIdentifier(ROLE_OF.readonly);
    const rw = escapeIdentifier(ROLE_OF.readwrite);
    await c.query('create table incidents (id serial primary key, title text not null)');
    await c.query("insert into incidents(title) values ('disk full on db-1'), ('slow queries')");
    await c.query('revoke all on incidents from public');
    await c.query(`create role ${ro} nologin`);
    await c.query(`create role ${rw} nologin`);
    await c.query(`grant select on incidents to ${ro}`);
    await c.query(`grant select, insert, update, delete on incidents to ${rw}`);
    await c.query(`grant usage on sequence incidents_id_seq to ${rw}`);
    for (const person of people) {
      await c.query(
        `create role ${escapeIdentifier(loginOf(person))} login password ${escapeLiteral(password)}`,
      );
    }
  } finally {
    await c.end();
  }
}

async function versionsOf(targetUrl: string): Promise<Record<string, string>> {
  const c = new PgClient({ connectionString: targetUrl });
  await c.connect();
  let postgres = '';
  try {
    postgres =
      (await c.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '';
  } finally {
    await c.end();
  }
  const pkg = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  let temporalCli = 'unknown';
  try {
    temporalCli = execFileSync(findTemporalBinary(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return {
    grantflow: (require('../package.json') as { version: string }).version,
    node: process.version,
    postgres,
    temporalCli,
    temporalSdk: pkg('@temporalio/worker'),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
