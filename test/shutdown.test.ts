/**
 * Graceful shutdown of the production processes. `grantflow worker` on SIGTERM stops polling, lets the grant in
 * flight finish (the target PostgreSQL is made slow for real: another session holds a lock the GRANT has to wait
 * for), closes its connections and exits 0; a new worker then takes the request to ACTIVE with one grant and a
 * complete audit trail. `grantflow server` on SIGTERM answers /readyz with 503, refuses new connections, finishes
 * the request in flight (blocked on a locked table of Grantflow's own database) with 200, and exits 0.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Client as PgClient, escapeIdentifier } from 'pg';
import { createRequest } from '../core/create-request';
import type { AppContext } from '../core/context';
import { freePort } from '../devstack/ports';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { workflowIdFor } from '../workflows/definitions';
import { createHarness, type Harness } from './helpers/harness';
import { GrantflowProcesses, grantflowProcessEnv } from './helpers/grantflow-process';
import { until } from './helpers/until';
import { getTestPostgres } from './setup/postgres';
import { testLog } from './setup/stack';

const procs = new GrantflowProcesses();

/** Whether a fresh TCP connection to the port is accepted. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A session on `url` that holds `lock` in an open transaction until release(). */
async function holdLock(url: string, lock: string): Promise<{ release(): Promise<void> }> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  await c.query('begin');
  await c.query(lock);
  return {
    async release() {
      await c.query('commit');
      await c.end();
    },
  };
}

/** Statements of `database` now waiting for a lock. */
async function waitingOnLock(adminUrl: string, database: string): Promise<string[]> {
  const c = new PgClient({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ query: string }>(
      `select query from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`,
      [database],
    );
    return rows.map((r) => r.query);
  } finally {
    await c.end();
  }
}

describe('graceful shutdown of the production processes', function () {
  this.timeout(150_000);
  let h: Harness;
  let store: Store;
  let storeUrl: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    h = await createHarness({ noWorker: true });
    const pg = await getTestPostgres();
    storeUrl = await pg.createDatabase('shutdownstore');
    store = await openStore({ databaseUrl: storeUrl });
    await store.migrate();
    env = {
      ...grantflowProcessEnv(h, storeUrl, 'shutdown'),
      // the shutdown steps are info lines (the default here)
      GRANTFLOW_SHUTDOWN_GRACE: '25',
    };
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') procs.printOutputs();
  });
  after(async () => {
    procs.killAll();
    await store?.close();
    await h?.close();
  });

  it('SIGTERM lets the grant in flight finish, exits 0, and a new worker carries the request on', async () => {
    const healthPort = await freePort();
    const health = `http://127.0.0.1:${healthPort}`;
    const worker = await procs.launch(
      ['worker'],
      { ...env, GRANTFLOW_WORKER_HEALTH_PORT: String(healthPort) },
      /worker running/,
    );
    assert.equal((await fetch(`${health}/readyz`)).status, 200, 'ready while running');
    const ctx: AppContext = { config: () => h.config, store, client: h.ctx.client, log: testLog };

    // The GRANT must wait: role memberships (pg_auth_members) are locked by another session.
    const lock = await holdLock(h.adminUrl, 'lock table pg_catalog.pg_auth_members in share mode');
    let released = false;
    try {
      const { request } = await createRequest(ctx, h.actor('alice'), {
        flow: 'auto-read',
        resource: 'db',
        permission: 'readonly',
        durationMs: 60_000,
        reason: 'shutdown test',
      });
      const target = new URL(h.dbUrl).pathname.slice(1);
      await until('the grant to wait for the lock', async () =>
        (await waitingOnLock(h.adminUrl, target)).some((q) => /^grant /i.test(q)),
      );

      worker.child.kill('SIGTERM');
      await until('the worker to start draining', () =>
        /"inFlightActivities":1,"graceSeconds":25[,}].*draining in-flight activities/.test(worker.output()),
      );
      // Unready at once, still live, and waiting for the grant.
      const readiness = await fetch(`${health}/readyz`);
      assert.equal(readiness.status, 503, 'not ready while draining');
      assert.equal(((await readiness.json()) as { status: string }).status, 'shutting down');
      assert.equal((await fetch(`${health}/livez`)).status, 200, 'still live while draining');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(worker.child.exitCode, null, 'the worker waits for the activity in flight');
      assert.equal(await h.canRead('alice'), false, 'the grant has not happened yet');

      await lock.release();
      released = true;
      assert.equal(await worker.exited, 0, 'the worker exits 0 once drained');
      const out = worker.output();
      for (const step of [
        'worker: drained',
        'Temporal connections and the store are closed',
        'shutdown: done',
      ])
        assert.ok(out.includes(step), `the log shows "${step}"`);
      assert.ok(
        out.indexOf('worker: drained') < out.indexOf('shutdown: done'),
        'drained before the connections closed',
      );
      // The activity finished before the worker went: the access is there and the audit says so.
      assert.equal(await h.canRead('alice'), true, 'the grant completed during the drain');
      await until('the granted event', async () =>
        (await store.listAudit({ requestId: request.id })).some((r) => r.type === 'request.granted'),
      );

      // A new worker picks the workflow up where it was.
      const next = await procs.launch(['worker'], env, /worker running/);
      await until(
        'the request to be ACTIVE',
        async () => (await store.getRequest(request.id))?.status === 'ACTIVE',
        30_000,
      );
      const types = (await store.listAudit({ requestId: request.id })).map((r) => r.type);
      for (const t of ['requested', 'approved', 'granting', 'granted'])
        assert.equal(
          types.filter((x) => x === `request.${t}`).length,
          1,
          `one request.${t}: ${types.join(', ')}`,
        );
      assert.equal((await store.verifyAudit()).ok, true, 'the audit chain verifies');
      // One grant: one activity execution, completed on its first attempt, and one membership row.
      const history = await h.ctx.client.workflow.getHandle(workflowIdFor(request.id)).fetchHistory();
      const scheduled = (history.events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'grantAccess',
      );
      assert.equal(scheduled.length, 1, 'grantAccess was scheduled once');
      const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
      assert.equal(started[0]?.activityTaskStartedEventAttributes?.attempt, 1, 'on its first attempt');
      const admin = new PgClient({ connectionString: h.dbUrl });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ n: string }>(
          `select count(*) as n from pg_auth_members m join pg_roles r on r.oid = m.roleid
           join pg_roles u on u.oid = m.member where r.rolname = $1 and u.rolname = $2`,
          [`${h.prefix}_readonly`, h.account('alice')],
        );
        assert.equal(Number(rows[0]?.n), 1, 'one membership');
      } finally {
        await admin.end();
      }
      // Leave nothing running on the shared server.
      await h.ctx.client.workflow.getHandle(workflowIdFor(request.id)).terminate('test over');
      next.child.kill('SIGTERM');
      assert.equal(await next.exited, 0, next.output());
    } finally {
      if (!released) await lock.release();
    }
  });

  it('SIGTERM turns readiness 503, refuses new connections, finishes the request in flight, exits 0', async () => {
    const port = await freePort();
    const server = await procs.launch(
      ['server'],
      { ...env, GRANTFLOW_PORT: String(port), GRANTFLOW_SHUTDOWN_DELAY: '1.5' },
      /API server listening/,
    );
    const api = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${api}/readyz`)).status, 200);

    // /metrics counts requests: with Grantflow's requests table locked, it waits.
    const lock = await holdLock(
      storeUrl,
      `lock table ${escapeIdentifier('requests')} in access exclusive mode`,
    );
    let released = false;
    try {
      let settled = false;
      const inFlight = fetch(`${api}/metrics`).then(async (res) => {
        settled = true;
        return { status: res.status, body: await res.text() };
      });
      const storeDb = new URL(storeUrl).pathname.slice(1);
      await until('the metrics request to wait for the lock', async () =>
        (await waitingOnLock(h.adminUrl, storeDb)).some((q) => /requests/.test(q)),
      );

      server.child.kill('SIGTERM');
      const unready = await until('readiness to turn 503', async () => {
        const res = await fetch(`${api}/readyz`, { headers: { connection: 'close' } });
        return res.status === 503 ? ((await res.json()) as { status: string }) : false;
      });
      assert.equal(unready.status, 'shutting down');
      await until('new connections to be refused', async () => !(await connects(port)));
      assert.equal(settled, false, 'the request in flight is still waiting');
      assert.equal(server.child.exitCode, null, 'the server waits for it');

      await lock.release();
      released = true;
      const answered = await inFlight;
      assert.equal(answered.status, 200, 'the request in flight completes');
      assert.match(answered.body, /grantflow_grants_active/);
      assert.equal(await server.exited, 0, 'the server exits 0');
      const out = server.output();
      for (const step of [
        'readiness is 503 from now',
        'no new connections; finishing the requests in flight',
        'every request in flight has finished',
        'shutdown: done',
      ])
        assert.ok(out.includes(step), `the log shows "${step}"`);
    } finally {
      if (!released) await lock.release();
    }
  });
});
