/**
 * `grantflow dev` (what `npm start` runs) as a child process on free ports, in a throw-away data folder, with the
 * repository's grantflow.yaml: for tests that need the whole stack exactly as a person gets it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { freePort } from '../../devstack/ports';

export const ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'grantflow.js');
const exec = promisify(execFile);

/** What dev.json says about the running stack. */
export interface DevState {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl: string;
  sandboxAdminUrl: string;
  ports: { temporal: number; temporalUi: number; api: number; sandboxPostgres: number };
}

export interface DevProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export interface DevStack {
  dir: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Starts `grantflow dev` and waits for its banner. */
  start(): Promise<DevProcess>;
  /** dev.json of the running stack. */
  state(): DevState;
  /** Runs the grantflow CLI against the stack; resolves with its stdout. */
  cli(...args: string[]): Promise<string>;
  /** The sandbox database password of a demo login, read from the banner. */
  password(output: string, login: string): string;
  /** Runs `sql` as a demo login in the sandbox database; false when PostgreSQL refuses it. */
  can(login: string, password: string, sql: string): Promise<boolean>;
  /** Stops a running `grantflow dev` (SIGINT) and removes the data folder. */
  close(running?: DevProcess): Promise<void>;
}

export async function createDevStack(): Promise<DevStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-dev-'));
  chmodSync(dir, 0o755); // the sandbox's PostgreSQL runs as an unprivileged user that must reach its folder
  const dataDir = path.join(dir, 'data');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GRANTFLOW_DATA_DIR: dataDir,
    GRANTFLOW_PORT: String(await freePort()),
    GRANTFLOW_TEMPORAL_PORT: String(await freePort()),
    GRANTFLOW_TEMPORAL_UI_PORT: String(await freePort()),
    GRANTFLOW_SANDBOX_PG_PORT: String(await freePort()),
    GRANTFLOW_CONFIG: path.join(ROOT, 'grantflow.yaml'),
    GRANTFLOW_LOG_PRETTY: '0',
    GRANTFLOW_LOG_LEVEL: 'info', // as a person sees it
  };
  for (const name of [
    'TEMPORAL_ADDRESS',
    'DATABASE_URL',
    'GRANTFLOW_SANDBOX_DB_URL',
    'SLACK_BOT_TOKEN',
    'SLACK_SIGNING_SECRET',
    'SLACK_APP_TOKEN',
  ])
    delete env[name];

  const state = () => JSON.parse(readFileSync(path.join(dataDir, 'dev.json'), 'utf8')) as DevState;
  return {
    dir,
    dataDir,
    env,
    state,
    async start() {
      const child = spawn(process.execPath, [BIN, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (d) => (out += d));
      child.stderr?.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 120_000;
      while (!out.includes('Grantflow is running.')) {
        if (child.exitCode !== null) throw new Error(`grantflow dev exited early:\n${out}`);
        if (Date.now() > deadline) throw new Error(`grantflow dev not ready:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      return { child, output: () => out, exited };
    },
    async cli(...args) {
      const { stdout } = await exec(process.execPath, [BIN, ...args], { env });
      return stdout;
    },
    password(output, login) {
      const found = new RegExp(`login ${login} / (\\S+)`).exec(output)?.[1];
      if (!found) throw new Error(`the banner shows no sandbox password for ${login}`);
      return found;
    },
    async can(login, password, sql) {
      const c = new PgClient({
        host: '127.0.0.1',
        port: state().ports.sandboxPostgres,
        user: login,
        password,
        database: 'demo',
      });
      await c.connect();
      try {
        await c.query(sql);
        return true;
      } catch {
        return false;
      } finally {
        await c.end();
      }
    },
    async close(running) {
      if (running && running.child.exitCode === null) {
        running.child.kill('SIGINT');
        await running.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
