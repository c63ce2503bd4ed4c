/**
 * Liveness, readiness and metrics, against real dependencies that really go away: a throwaway Temporal dev
 * server (stopped at the end) and Grantflow's PostgreSQL reached through a TCP proxy (taken down and back up).
 * The API server (in this process) and `grantflow worker`'s health listener (a child process, with the Temporal
 * SDK's Prometheus endpoint on) answer /livez 200 throughout, and /readyz 200 only while every dependency answers,
 * else 503 naming the one that does not.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createMetrics } from '../core/metrics';
import { freePort } from '../devstack/ports';
import { buildServer } from '../server/app';
import { startApiServer, type ApiServer } from '../server/start';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { createHarness, type Harness } from './helpers/harness';
import { BIN } from './helpers/run-cli';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy';
import { until } from './helpers/until';
import { getTestPostgres } from './setup/postgres';
import { startOwnTemporal, testLog } from './setup/stack';

/** Seconds the worker process may take to start (it bundles the workflows). */
const START_TIMEOUT_S = Number(process.env.GF_TEST_PROCESS_START_TIMEOUT ?? 60);

interface Readiness {
  status: string;
  checks: { name: string; ok: boolean; error?: string }[];
}

async function readyz(base: string): Promise<{ code: number; body: Readiness }> {
  const res = await fetch(`${base}/readyz`);
  return { code: res.status, body: (await res.json()) as Readiness };
}

/** The answer of /readyz once it is `code`. */
async function readinessBecomes(base: string, code: number, what: string): Promise<Readiness> {
  const { body } = await until(
    what,
    async () => {
      const r = await readyz(base);
      return r.code === code ? r : false;
    },
    20_000,
  );
  return body;
}

/** The names of the checks that failed. */
function failing(body: Readiness): string[] {
  return body.checks.filter((c) => !c.ok).map((c) => c.name);
}

describe('health: /livez, /readyz, /metrics', function () {
  this.timeout(150_000);
  let dir: string;
  let temporal: Awaited<ReturnType<typeof startOwnTemporal>>;
  let h: Harness;
  let proxy: TcpProxy;
  let store: Store;
  let api: ApiServer;
  let worker: ChildProcess | undefined;
  let workerOutput = '';
  let workerHealth: string;
  let temporalMetrics: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gf-health-'));
    temporal = await startOwnTemporal(dir);
    h = await createHarness({
      noWorker: true,
      temporal: { address: temporal.server.address, namespace: 'default' },
    });
    const pg = await getTestPostgres();
    const storeUrl = new URL(await pg.createDatabase('healthstore'));
    proxy = await startTcpProxy({ host: storeUrl.hostname, port: Number(storeUrl.port) });
    storeUrl.hostname = '127.0.0.1';
    storeUrl.port = String(proxy.port);
    store = await openStore({ databaseUrl: storeUrl.toString() });
    await store.migrate();

    api = await startApiServer({
      ctx: { ...h.ctx, store },
      metrics: createMetrics(store),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
    });

    const configFile = path.join(dir, 'grantflow.yaml');
    writeFileSync(configFile, h.configYaml);
    const healthPort = await freePort();
    const metricsPort = await freePort();
    workerHealth = `http://127.0.0.1:${healthPort}`;
    temporalMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...h.configEnv,
      DATABASE_URL: storeUrl.toString(),
      GRANTFLOW_CONFIG: configFile,
      GRANTFLOW_DATA_DIR: dir,
      TEMPORAL_ADDRESS: temporal.server.address,
      TEMPORAL_NAMESPACE: 'default',
      GRANTFLOW_HOST: '127.0.0.1',
      GRANTFLOW_WORKER_HEALTH_PORT: String(healthPort),
      GRANTFLOW_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      GRANTFLOW_LOG_PRETTY: '0',
      GRANTFLOW_LOG_LEVEL: 'info',
    };
    for (const name of Object.keys(env)) if (name.startsWith('OTEL_')) delete env[name];
    const child = spawn(process.execPath, [BIN, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    worker = child;
    child.stdout?.on('data', (d) => (workerOutput += d));
    child.stderr?.on('data', (d) => (workerOutput += d));
    await until(
      'grantflow worker to be running',
      () => {
        if (child.exitCode !== null) throw new Error(`grantflow worker exited:\n${workerOutput}`);
        return workerOutput.includes('worker running');
      },
      START_TIMEOUT_S * 1000,
    );
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(`--- grantflow worker\n${workerOutput}`);
  });
  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await api?.close();
    await store?.close();
    await proxy?.close();
    await h?.close();
    await temporal?.server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is live and ready with every dependency up, and serves both metrics endpoints', async () => {
    for (const base of [api.url, workerHealth]) {
      const live = await fetch(`${base}/livez`);
      assert.equal(live.status, 200, `${base}/livez`);
      assert.deepEqual(await live.json(), { status: 'ok' });
    }
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200, '/healthz is still there');
    const apiReady = await readyz(api.url);
    assert.equal(apiReady.code, 200, JSON.stringify(apiReady.body));
    assert.deepEqual(apiReady.body.checks.map((c) => c.name).sort(), ['database', 'temporal']);
    assert.deepEqual(failing(await readinessBecomes(workerHealth, 200, 'the worker to be ready')), []);
    assert.deepEqual((await readyz(workerHealth)).body.checks.map((c) => c.name).sort(), [
      'database',
      'temporal',
      'worker',
    ]);

    const appMetrics = await (await fetch(`${workerHealth}/metrics`)).text();
    assert.match(appMetrics, /^grantflow_grants_active \d+/m, "the worker serves the app's registry");
    assert.match(appMetrics, /^grantflow_process_/m);
    // The SDK's own metrics, from Rust core's Prometheus exporter.
    const sdk = await until('Temporal SDK metrics', async () => {
      const res = await fetch(temporalMetrics).catch(() => undefined);
      const text = res?.ok ? await res.text() : '';
      return /^temporal_\w+/m.test(text) ? text : false;
    });
    assert.match(sdk, /^temporal_(num_pollers|worker_task_slots_available|request)\b/m);
    assert.match(sdk, /task_queue="grantflow-test-/, 'labelled with our task queue');
  });

  it('/livez answers 503 after the event loop stalled', async () => {
    const app = buildServer({ log: testLog, metrics: createMetrics(), checks: [], maxEventLoopStallMs: 100 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as net.AddressInfo;
      const answer = async (stall: boolean) => {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        let text = '';
        socket.on('data', (d) => (text += d));
        const done = new Promise((resolve) => socket.once('close', resolve));
        socket.write('GET /livez HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
        // Block this process (and so the server's event loop) for far longer than allowed.
        if (stall) for (const end = Date.now() + 400; Date.now() < end;);
        await done;
        return Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
      };
      assert.equal(await answer(true), 503, 'a stalled loop is not live');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await answer(false), 200, 'live again once it runs');
    } finally {
      await app.close();
    }
  });

  it('is not ready while the database is unreachable, and ready again when it is back', async () => {
    await proxy.down();
    try {
      assert.deepEqual(failing(await readinessBecomes(api.url, 503, 'the API server to be unready')), [
        'database',
      ]);
      assert.deepEqual(failing(await readinessBecomes(workerHealth, 503, 'the worker to be unready')), [
        'database',
      ]);
      for (const base of [api.url, workerHealth])
        assert.equal((await fetch(`${base}/livez`)).status, 200, 'still live');
    } finally {
      await proxy.up();
    }
    assert.deepEqual(failing(await readinessBecomes(api.url, 200, 'the API server to be ready again')), []);
    assert.deepEqual(failing(await readinessBecomes(workerHealth, 200, 'the worker to be ready again')), []);
  });

  it('is not ready while Temporal is down', async () => {
    temporal.server.kill('SIGKILL');
    await temporal.server.exited;
    const apiAnswer = await readinessBecomes(api.url, 503, 'the API server to be unready');
    assert.deepEqual(failing(apiAnswer), ['temporal']);
    const why = apiAnswer.checks.find((c) => c.name === 'temporal')?.error ?? '';
    assert.match(why, /\S/, 'says why');
    const workerFailing = failing(await readinessBecomes(workerHealth, 503, 'the worker to be unready'));
    assert.ok(workerFailing.includes('temporal'), `failing: ${workerFailing.join(', ')}`);
    assert.ok(!workerFailing.includes('database'), 'the database is fine');
    assert.equal((await fetch(`${workerHealth}/livez`)).status, 200, 'the worker process is still live');
  });
});
