/**
 * `grantflow dev` (what `npm start` runs), end to end: everything starts on free ports with no configuration,
 * a first request grants real access in the sandbox, Ctrl-C stops every part, and a second start resumes the
 * in-flight grant and revokes it.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { freePort } from '../devstack/ports';

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'grantflow.js');
const exec = promisify(execFile);

interface Dev {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe('grantflow dev (npm start)', function () {
  this.timeout(240_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-dev-'));
  chmodSync(dir, 0o755); // the sandbox's PostgreSQL runs as an unprivileged user that must reach its folder
  const dataDir = path.join(dir, 'data');
  let env: NodeJS.ProcessEnv;
  let dev: Dev | undefined;

  before(async () => {
    env = {
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
    delete env.TEMPORAL_ADDRESS;
    delete env.DATABASE_URL;
    delete env.GRANTFLOW_SANDBOX_DB_URL;
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']) delete env[name];
  });
  after(async () => {
    if (dev && dev.child.exitCode === null) {
      dev.child.kill('SIGINT');
      await dev.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function startDev(): Promise<Dev> {
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
  }

  async function cli(...args: string[]) {
    const { stdout } = await exec(process.execPath, [BIN, ...args], { env });
    return stdout;
  }

  async function aliceCanRead(state: { ports: { sandboxPostgres: number } }, password: string) {
    const c = new PgClient({
      host: '127.0.0.1',
      port: state.ports.sandboxPostgres,
      user: 'alice',
      password,
      database: 'demo',
    });
    await c.connect();
    try {
      await c.query('select * from incidents');
      return true;
    } catch {
      return false;
    } finally {
      await c.end();
    }
  }

  it('starts everything, grants a first request, stops cleanly, and resumes in-flight grants', async () => {
    dev = await startDev();
    const state = JSON.parse(readFileSync(path.join(dataDir, 'dev.json'), 'utf8'));
    for (const key of ['apiUrl', 'temporalAddress', 'temporalUiUrl', 'sandboxAdminUrl'])
      assert.ok(state[key], key);
    assert.equal((await fetch(`${state.apiUrl}/healthz`)).status, 200);
    const ready = await fetch(`${state.apiUrl}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    assert.match(await (await fetch(`${state.apiUrl}/metrics`)).text(), /grantflow_grants_active 0/);
    assert.equal((await fetch(state.temporalUiUrl)).status, 200);

    const password = /alice@example\.com.*login alice \/ (\S+)/.exec(dev.output())?.[1];
    assert.ok(password, 'the banner shows the sandbox password');
    assert.match(dev.output(), /npx grantflow --as alice@example.com request/);
    assert.match(
      dev.output(),
      /Slack is off: set SLACK_BOT_TOKEN/,
      'one line says Slack is off and how to turn it on',
    );
    assert.equal(await aliceCanRead(state, password), false, 'no access before the first request');

    // The CLI finds the running stack through dev.json: no Temporal or database settings needed.
    const request = JSON.parse(
      await cli(
        '--as',
        'alice@example.com',
        'request',
        '--flow',
        'sandbox-readonly',
        '--resource',
        'sandbox-db',
        '--permission',
        'readonly',
        '--duration',
        '25s',
        '--reason',
        'first request',
        '--wait',
        '--json',
      ),
    );
    assert.equal(request.status, 'ACTIVE');
    assert.equal(await aliceCanRead(state, password), true, 'access after the grant');
    assert.match(await (await fetch(`${state.apiUrl}/metrics`)).text(), /grantflow_grants_active 1/);

    dev.child.kill('SIGINT');
    assert.equal(await dev.exited, 0, dev.output());
    assert.equal(existsSync(path.join(dataDir, 'dev.json')), false, 'dev.json is removed on stop');
    const t = state.ports.temporal;
    const portFree = await new Promise((resolve) => {
      const s = require('node:net').createServer();
      s.once('error', () => resolve(false));
      s.listen(t, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    assert.equal(portFree, true, 'the Temporal dev server stopped too');

    dev = await startDev();
    const resumed = JSON.parse(await cli('status', request.id, '--json'));
    assert.equal(resumed.status, 'ACTIVE', 'the grant survived the restart');
    const deadline = Date.parse(request.expiresAt) + 30_000;
    let status = resumed.status;
    while (status !== 'REVOKED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = JSON.parse(await cli('status', request.id, '--json')).status;
    }
    assert.equal(status, 'REVOKED');
    assert.equal(await aliceCanRead(state, password), false, 'access gone at expiry');
    const verify = await cli('audit', 'verify');
    assert.match(verify, /audit chain intact/);
  });
});
