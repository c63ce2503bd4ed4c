/**
 * The bench's own stack, on free ports in a temporary folder: an embedded PostgreSQL (the target database with
 * the synthetic people and roles, and Grantflow's store unless --store sqlite), a Temporal dev server on its own
 * SQLite file, a fake Slack Web API, and three child processes run the way they run in production — the
 * Grantflow worker (`grantflow worker`), the API server (`grantflow server`) and the baseline's bare worker.
 * Every person gets an API token. The bench process itself only sends load and reads results.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { Client as PgClient } from 'pg';
import { parseConfig } from '../config/load';
import type { GrantflowConfig } from '../config/types';
import type { AppContext } from '../core/context';
import { connectClient } from '../core/temporal';
import { createDatabase } from '../devstack/postgres';
import { issueToken } from '../core/tokens';
import { freePort } from '../devstack/ports';
import { startSandboxPostgres, type SandboxPostgres } from '../devstack/postgres';
import { findTemporalBinary } from '../devstack/temporal';
import { openStore, type Store } from '../store';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api';
import { startOwnTemporal } from '../test/setup/stack';
import type { BenchOptions } from './options';
import {
  ADMIN,
  APPROVAL_CHANNEL,
  APPROVER,
  APPROVER_SLACK_ID,
  benchConfigYaml,
  emailOf,
  loginOf,
  roleOf,
  SLACK_SECRET_ENV,
  SLACK_TOKEN_ENV,
  TARGET_ENV,
  type World,
} from './people';
import { CLOCK_TICKS, findProcessByDataDir, ManagedProcess, sampleProc, treeTicks } from './procs';
import { closedLoop } from './stats';

const ROOT = path.join(__dirname, '..');
export const BASELINE_QUEUE = 'bench-baseline';
const SLACK_TOKEN = 'xoxb-bench-token';

export interface BenchStack {
  dir: string;
  config: GrantflowConfig;
  store: Store;
  client: Client;
  /** The use cases' context, for the few things the bench does through the core (aligning burst expiries). */
  ctx: AppContext;
  apiUrl: string;
  /** API token of every identity, by email. */
  tokens: Map<string, string>;
  slack: FakeSlack;
  slackSecret: string;
  /** The target database, as its superuser (the bench's own checks of pg_auth_members). */
  target: PgClient;
  worker: ManagedProcess;
  server: ManagedProcess;
  baselineWorker: ManagedProcess;
  temporalPid: number;
  /** The worker's resident memory right after it started (bytes). */
  workerStartRss: number;
  /** CPU ticks used so far by each part of the stack (PostgreSQL: the postmaster and all its backends). */
  cpuTicks(): Record<string, number>;
  versions: Record<string, string>;
  close(): Promise<void>;
}

export async function startBenchStack(
  o: BenchOptions,
  world: World,
  logsDir: string,
  say: (line: string) => void,
): Promise<BenchStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-bench-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the OS user postgres under root, and must reach its folder
  mkdirSync(logsDir, { recursive: true });
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pgRoot = path.join(dir, 'postgres');
    mkdirSync(pgRoot);
    chmodSync(pgRoot, 0o777);
    const pgLog = pino({ level: 'warn' }, pino.destination({ dest: path.join(logsDir, 'postgres.log') }));
    // The server's own defaults (fsync and all), as `grantflow dev` runs its sandbox.
    const pg: SandboxPostgres = await startSandboxPostgres({
      dataDir: path.join(pgRoot, 'data'),
      port: 0,
      log: pgLog,
    });
    closers.push(() => pg.stop());
    const postgresPid = findProcessByDataDir(path.join(pgRoot, 'data'));
    const targetUrl = await createDatabase(pg.adminUrl, 'bench_target');
    say(`bench: creating ${world.people} people and ${world.roles} roles in the sandbox PostgreSQL`);
    await seedTarget(targetUrl, world);
    const storeUrl = o.store === 'postgres' ? await createDatabase(pg.adminUrl, 'bench_store') : undefined;
    const target = new PgClient({ connectionString: targetUrl });
    await target.connect();
    closers.push(() => target.end());

    const slack = await startFakeSlack({
      token: SLACK_TOKEN,
      users: [{ id: APPROVER_SLACK_ID, name: 'approver', email: APPROVER }],
    });
    closers.push(() => slack.close());
    slack.addChannel(APPROVAL_CHANNEL);
    const slackSecret = randomBytes(16).toString('hex');

    const secrets = {
      [TARGET_ENV]: targetUrl,
      [SLACK_TOKEN_ENV]: SLACK_TOKEN,
      [SLACK_SECRET_ENV]: slackSecret,
    };
    Object.assign(process.env, secrets);
    const configYaml = benchConfigYaml(world, slack.url);
    const configFile = path.join(dir, 'grantflow.yaml');
    writeFileSync(configFile, configYaml);
    const config = parseConfig(configYaml, configFile);

    const storeFile = path.join(dir, 'data', 'grantflow.sqlite');
    const storeLog = pino({ level: 'warn' }, pino.destination({ dest: path.join(logsDir, 'bench.log') }));
    const store = await openStore(
      storeUrl ? { databaseUrl: storeUrl, log: storeLog } : { sqliteFile: storeFile, log: storeLog },
    );
    closers.push(() => store.close());
    await store.migrate();

    say('bench: starting the Temporal dev server');
    const temporalDir = path.join(dir, 'temporal');
    mkdirSync(temporalDir);
    const temporal = await startOwnTemporal(temporalDir);
    closers.push(() => temporal.server.stop());
    const address = temporal.server.address;
    const client = await connectClient({ connection: { address }, namespace: 'default' });
    closers.push(() => client.connection.close());
    const ctx: AppContext = { config: () => config, store, client, log: storeLog };

    say(`bench: issuing ${world.people + 2} API tokens`);
    const tokens = new Map<string, string>();
    const emails = [...Array.from({ length: world.people }, (_, i) => emailOf(i)), APPROVER, ADMIN];
    await closedLoop(emails.length, 8, async (i) => {
      const email = emails[i];
      tokens.set(email, (await issueToken(ctx, { email, name: 'bench', createdBy: 'bench' })).token);
    });

    // The children get a clean environment for Grantflow: nothing from a developer's shell or `grantflow dev`.
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env))
      if (/^(SLACK_|GRANTFLOW_|TEMPORAL_|DATABASE_URL$|Microsoft)/.test(key)) delete env[key];
    Object.assign(env, secrets, {
      GRANTFLOW_CONFIG: configFile,
      GRANTFLOW_DATA_DIR: path.join(dir, 'data'),
      GRANTFLOW_LOG_PRETTY: '0',
      GRANTFLOW_LOG_LEVEL: 'info',
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      ...(storeUrl ? { DATABASE_URL: storeUrl } : {}),
    });

    // Profiles are written when a process exits (SIGTERM at the end of the run).
    // One folder per process: Node names each thread's profile (the worker's workflows run in worker threads).
    const profile = (name: string) =>
      o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(logsDir, '..', 'profiles', name)}`] : [];
    say(
      'bench: starting the Grantflow worker (it bundles its workflows first), API server and baseline worker',
    );
    const worker = new ManagedProcess({
      name: 'grantflow worker',
      args: [...profile('worker'), '-r', 'tsx/cjs', path.join(__dirname, 'cli-process.ts'), 'worker'],
      cwd: ROOT,
      env,
      logFile: path.join(logsDir, 'worker.log'),
      readyText: 'worker running',
    });
    closers.push(() => worker.stop());
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const server = new ManagedProcess({
      name: 'grantflow server',
      args: [...profile('api-server'), '-r', 'tsx/cjs', path.join(__dirname, 'cli-process.ts'), 'server'],
      cwd: ROOT,
      env: { ...env, GRANTFLOW_PORT: String(port), GRANTFLOW_HOST: '127.0.0.1' },
      logFile: path.join(logsDir, 'api-server.log'),
      readyProbe: async () => {
        try {
          return (await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok;
        } catch {
          return false;
        }
      },
    });
    closers.push(() => server.stop());
    const baselineWorker = new ManagedProcess({
      name: 'baseline worker',
      args: ['-r', 'tsx/cjs', path.join(__dirname, 'baseline', 'worker.ts')],
      cwd: ROOT,
      env: { ...env, BENCH_BASELINE_QUEUE: BASELINE_QUEUE },
      logFile: path.join(logsDir, 'baseline-worker.log'),
      readyText: 'baseline-worker-ready',
    });
    closers.push(() => baselineWorker.stop());
    await Promise.all([worker.start(), server.start(), baselineWorker.start()]);
    const workerStartRss = (worker.pid ? sampleProc(worker.pid)?.rssBytes : undefined) ?? 0;

    return {
      dir,
      config,
      store,
      client,
      ctx,
      apiUrl,
      tokens,
      slack,
      slackSecret,
      target,
      worker,
      server,
      baselineWorker,
      temporalPid: temporal.server.pid,
      workerStartRss,
      cpuTicks: () => ({
        worker: worker.cpuTicks(),
        apiServer: server.cpuTicks(),
        baselineWorker: baselineWorker.cpuTicks(),
        temporal: treeTicks(temporal.server.pid),
        postgres: postgresPid ? treeTicks(postgresPid) : 0,
        bench: Math.round(((process.cpuUsage().user + process.cpuUsage().system) / 1e6) * CLOCK_TICKS),
      }),
      versions: await versionsOf(target),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The roles that carry access, and a login per person with no rights of its own. */
async function seedTarget(url: string, world: World): Promise<void> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  try {
    const roles = Array.from({ length: world.roles }, (_, r) => `create role ${roleOf(r)} nologin;`);
    await c.query(roles.join('\n'));
    for (let start = 0; start < world.people; start += 500) {
      const batch: string[] = [];
      for (let i = start; i < Math.min(world.people, start + 500); i++)
        batch.push(`create role ${loginOf(i)} login;`);
      await c.query(batch.join('\n'));
    }
  } finally {
    await c.end();
  }
}

async function versionsOf(target: PgClient): Promise<Record<string, string>> {
  const postgres =
    (await target.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ??
    'unknown';
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
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // reported as unknown
  }
  return {
    grantflow: (require('../package.json') as { version: string }).version,
    commit,
    node: process.version,
    temporalCli,
    temporalSdk: pkg('@temporalio/worker'),
    postgres,
  };
}
