/**
 * One real MariaDB (Debian's mariadbd) per mocha process, started on first use in a private temporary folder on a
 * free loopback port, with Grantflow's own account holding only the global privileges docs/connectors/mysql.md
 * lists (per-role and per-database grants are the tests' own). The root hooks call stopTestMariaDb() after the run;
 * a process that exits first still signals the server and removes the folder once it is gone.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { freePort } from '../../devstack/ports';

export interface TestMariaDb {
  /** Grantflow's own account, `mysql://grantflow:…@127.0.0.1:PORT/`. */
  url: string;
  /** The server's root account (no password, loopback only). */
  adminUrl: string;
  port: number;
  /** Grantflow's account as SQL, for the per-role and per-database grants each test makes. */
  grantflowAccount: string;
  stop(): Promise<void>;
}

const SERVER_BINARIES = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'];
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'];
const START_TIMEOUT_MS = 30_000;

/** Global privileges of Grantflow's account, as docs/connectors/mysql.md gives them (both modes). */
const GRANTFLOW_GRANTS = [
  'GRANT PROCESS, CONNECTION ADMIN, CREATE USER ON *.* TO `grantflow`@`%`',
  'GRANT SELECT ON mysql.user TO `grantflow`@`%`',
  'GRANT SELECT ON mysql.roles_mapping TO `grantflow`@`%`',
  'GRANT SELECT ON mysql.db TO `grantflow`@`%`',
  'GRANT SELECT ON mysql.tables_priv TO `grantflow`@`%`',
  'GRANT UPDATE ON mysql.* TO `grantflow`@`%`',
];

interface Running {
  child: ChildProcess;
  root: string;
  api: TestMariaDb;
}

let running: Promise<Running> | undefined;

/** The shared test MariaDB, started on the first call (about 2 s) and reused after. */
export async function getTestMariaDb(): Promise<TestMariaDb> {
  running ??= start().catch((err: unknown) => {
    running = undefined; // let a later test try again rather than repeat this failure
    throw err;
  });
  return (await running).api;
}

/** Stops the shared test MariaDB, if started, and removes its folder. */
export async function stopTestMariaDb(): Promise<void> {
  const current = running;
  running = undefined;
  if (!current) return;
  const started = await current.catch(() => undefined);
  if (!started) return;
  const { child, root } = started;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await fsp.rm(root, { recursive: true, force: true });
}

function firstExisting(paths: string[], what: string): string {
  const found = paths.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${what} is not installed: apt-get install -y mariadb-server mariadb-client`);
  return found;
}

async function start(): Promise<Running> {
  const server = firstExisting(SERVER_BINARIES, 'MariaDB (mariadbd)');
  const installDb = firstExisting(INSTALL_DB, 'mariadb-install-db');
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'grantflow-test-mariadb-'));
  const dataDir = path.join(root, 'data');
  // mariadbd refuses to run as root unless told to.
  const asUser = process.getuid?.() === 0 ? ['--user=root'] : [];
  const install = spawnSync(
    installDb,
    [
      '--no-defaults',
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...asUser,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (install.status !== 0) {
    await fsp.rm(root, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout || install.error}`);
  }
  const port = await freePort();
  const errorLog = path.join(root, 'error.log');
  const child = spawn(
    server,
    [
      '--no-defaults',
      ...asUser,
      `--datadir=${dataDir}`,
      `--socket=${path.join(root, 'mysqld.sock')}`,
      `--pid-file=${path.join(root, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--skip-log-bin',
      // Durability is worthless in a throwaway server; these make it start and write faster.
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
    ],
    { stdio: 'ignore' },
  );
  removeOnExit(child, root);
  const adminUrl = `mysql://root@127.0.0.1:${port}/`;
  await waitUntilReady(child, adminUrl, errorLog);
  const password = randomBytes(18).toString('base64url');
  const admin = await createConnection({ uri: adminUrl });
  try {
    await admin.query(`CREATE USER \`grantflow\`@\`%\` IDENTIFIED BY ${admin.escape(password)}`);
    for (const grant of GRANTFLOW_GRANTS) await admin.query(grant);
  } finally {
    await admin.end();
  }
  const url = `mysql://grantflow:${password}@127.0.0.1:${port}/`;
  const api: TestMariaDb = {
    url,
    adminUrl,
    port,
    grantflowAccount: '`grantflow`@`%`',
    stop: stopTestMariaDb,
  };
  return { child, root, api };
}

async function waitUntilReady(child: ChildProcess, adminUrl: string, errorLog: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await fsp.readFile(errorLog, 'utf8').catch(() => '');
      throw new Error(`mariadbd exited while starting: ${log.split('\n').slice(-15).join('\n')}`);
    }
    try {
      const conn = await createConnection({ uri: adminUrl, connectTimeout: 1_000 });
      await conn.end();
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`mariadbd did not accept connections in time: ${String(err)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** If the process exits without stopTestMariaDb(), signal the server and remove the folder once it has exited. */
function removeOnExit(child: ChildProcess, root: string): void {
  process.once('exit', () => {
    if (!running) return; // stopTestMariaDb() ran
    child.kill('SIGTERM');
    const script = 'for i in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; rm -rf "$2"';
    spawn('sh', ['-c', script, 'sh', String(child.pid), root], { detached: true, stdio: 'ignore' }).unref();
  });
}
