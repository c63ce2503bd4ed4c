/**
 * The production processes: `grantflow migrate`, `grantflow worker` and `grantflow server` as separate
 * processes, with PostgreSQL for Grantflow's tables (DATABASE_URL) and Temporal from TEMPORAL_ADDRESS; config
 * reload on SIGHUP, recorded in the audit log with its diff.
 */
import { RECONCILE_SCHEDULE_ID } from '../workers/schedules';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../devstack/ports';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { createHarness, type Harness } from './helpers/harness';
import { getTestPostgres } from './setup/postgres';

const BIN = path.join(__dirname, '..', 'bin', 'grantflow.js');
const exec = promisify(execFile);

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const spawned: ChildProcess[] = [];
const outputs: (() => string)[] = [];

function start(args: string[], env: NodeJS.ProcessEnv, readyText: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.push(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  outputs.push(() => `--- grantflow ${args.join(' ')}\n${out}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} not ready:\n${out}`)), 60_000);
    const check = () => {
      if (readyText.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out, exited });
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}):\n${out}`)));
  });
}

describe('production processes (worker, server, PostgreSQL store)', function () {
  this.timeout(180_000);
  let h: Harness;
  let env: NodeJS.ProcessEnv;
  let configFile: string;
  let store: Store;

  before(async () => {
    h = await createHarness({ noWorker: true });
    const pg = await getTestPostgres();
    const databaseUrl = await pg.createDatabase('prodstore');
    configFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'gf-prod-')), 'grantflow.yaml');
    writeFileSync(configFile, h.configYaml);
    env = {
      ...process.env,
      ...h.configEnv,
      DATABASE_URL: databaseUrl,
      GRANTFLOW_CONFIG: configFile,
      GRANTFLOW_DATA_DIR: path.dirname(configFile),
      TEMPORAL_ADDRESS: h.temporal.address,
      TEMPORAL_NAMESPACE: h.temporal.namespace,
      GRANTFLOW_PORT: String(await freePort()),
      GRANTFLOW_HOST: '127.0.0.1',
      GRANTFLOW_LOG_PRETTY: '0',
      GRANTFLOW_LOG_LEVEL: 'info', // readiness is read from the processes' info lines
    };
    store = await openStore({ databaseUrl });
  });
  afterEach(function () {
    // A failure in a child process is only visible in its output.
    if (this.currentTest?.state === 'failed') for (const output of outputs) console.error(output());
  });
  after(async () => {
    for (const child of spawned)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // `grantflow worker` set up the reconciliation Schedule on the shared server: leave nothing behind.
    await h?.ctx.client.schedule
      .getHandle(RECONCILE_SCHEDULE_ID)
      .delete()
      .catch(() => undefined);
    await store?.close();
    await h?.close();
  });

  it('migrates, serves, grants and revokes through separate processes', async () => {
    const migrated = await exec(process.execPath, [BIN, 'migrate'], { env });
    assert.match(migrated.stdout, /migrated \(postgres\)/);

    const worker = await start(['worker'], env, /worker running/);
    const server = await start(['server'], env, /API server listening/);
    const api = `http://127.0.0.1:${env.GRANTFLOW_PORT}`;
    const ready = await fetch(`${api}/readyz`);
    assert.equal(ready.status, 200, await ready.text());

    const { stdout } = await exec(
      process.execPath,
      [
        BIN,
        '--as',
        'alice@example.com',
        'request',
        '--flow',
        'auto-read',
        '--resource',
        'db',
        '--permission',
        'readonly',
        '--duration',
        '3s',
        '--reason',
        'prod',
        '--wait',
        '--wait-timeout',
        '30s',
        '--json',
      ],
      { env },
    );
    const request = JSON.parse(stdout) as { id: string; status: string };
    assert.equal(request.status, 'ACTIVE');
    assert.equal(await h.canRead('alice'), true);
    assert.equal((await store.getRequest(request.id))?.status, 'ACTIVE', 'the index lives in PostgreSQL');
    await h.waitFor(request.id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false);

    // A changed policy is picked up on SIGHUP and recorded with its diff; an invalid one is refused.
    writeFileSync(configFile, h.configYaml.replace('defaultDuration: 4s', 'defaultDuration: 5s'));
    worker.child.kill('SIGHUP');
    let loaded: Record<string, unknown>[] = [];
    for (let i = 0; i < 50 && loaded.length < 2; i++) {
      loaded = (await store.listAudit({ type: 'config.loaded' })).map((r) => r.details);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(loaded.length, 2, 'the start and the reload are both recorded');
    assert.match(String(loaded[1].diff), /-\s+defaultDuration: 4s\n\+\s+defaultDuration: 5s/);
    writeFileSync(configFile, 'flows: [oops');
    worker.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    assert.match(worker.output(), /config reload refused/);
    assert.equal(worker.child.exitCode, null, 'the worker keeps running on the config in force');

    for (const p of [worker, server]) p.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
    assert.equal(await server.exited, 0, server.output());
  });
});
