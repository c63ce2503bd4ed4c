import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DevstackError } from '../devstack/errors';
import { GRANTFLOW_SEARCH_ATTRIBUTES } from '../devstack/search-attributes';
import {
  ensureSearchAttributes,
  findTemporalBinary,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../devstack/temporal';

/** A port nobody listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The UI may come up a moment after the frontend, so retry briefly. */
async function httpStatus(url: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('Temporal dev server (devstack/temporal)', function () {
  this.timeout(60_000);
  let dir: string;
  let server: TemporalDevServer | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantflow-temporal-'));
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the official CLI binary', () => {
    const bin = findTemporalBinary();
    assert.ok(path.isAbsolute(bin) || bin.includes(path.sep), `not a path: ${bin}`);
    assert.ok(fs.statSync(bin).isFile());
  });

  it('reports an early exit with the tail of the server log', async () => {
    const dbFile = path.join(dir, 'broken', 'temporal.db');
    const started = startTemporalDevServer({
      dbFile,
      port: await freePort(),
      uiPort: await freePort(),
      searchAttributes: {},
      extraArgs: ['--no-such-flag'],
    });
    await assert.rejects(started, (err: unknown) => {
      assert.ok(err instanceof DevstackError);
      assert.equal(err.code, 'TEMPORAL_START_FAILED');
      assert.match(err.message, /no-such-flag/);
      return true;
    });
    assert.ok(fs.existsSync(path.join(dir, 'broken', 'temporal.log')), 'log file written beside the db');
  });

  it('keeps search attributes and workflows across a restart on the same SQLite file', async () => {
    const dbFile = path.join(dir, 'state', 'temporal.db');
    const ports = { port: await freePort(), uiPort: await freePort() };
    const workflowId = `nobody-polls-${Date.now()}`;

    server = await startTemporalDevServer({
      dbFile,
      ...ports,
      searchAttributes: GRANTFLOW_SEARCH_ATTRIBUTES,
    });
    assert.equal(await httpStatus(server.uiUrl), 200);
    let connection = await Connection.connect({ address: server.address });
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of Object.keys(GRANTFLOW_SEARCH_ATTRIBUTES)) {
        assert.ok(name in (listed.customAttributes ?? {}), `${name} registered on a new db`);
      }
      assert.deepEqual(await ensureSearchAttributes(connection, 'default', GRANTFLOW_SEARCH_ATTRIBUTES), []);
      const client = new Client({ connection, namespace: 'default' });
      await client.workflow.start('NobodyPollsThis', { taskQueue: 'nobody', workflowId });
    } finally {
      await connection.close();
    }
    const { pid } = server;
    await server.stop();
    server = undefined;
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'server process gone after stop()');

    server = await startTemporalDevServer({
      dbFile,
      ...ports,
      searchAttributes: GRANTFLOW_SEARCH_ATTRIBUTES,
    });
    connection = await Connection.connect({ address: server.address });
    try {
      const wanted = { ...GRANTFLOW_SEARCH_ATTRIBUTES, GrantflowTestExtra: 'Keyword' } as const;
      const before = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      assert.ok(!('GrantflowTestExtra' in (before.customAttributes ?? {})), 'extra attribute not there yet');
      assert.deepEqual(await ensureSearchAttributes(connection, 'default', wanted), ['GrantflowTestExtra']);
      const after = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      assert.ok('GrantflowTestExtra' in (after.customAttributes ?? {}));
      assert.deepEqual(await ensureSearchAttributes(connection, 'default', wanted), []);
      await assert.rejects(
        ensureSearchAttributes(connection, 'default', { GrantflowTestExtra: 'Int' }),
        (err: unknown) => err instanceof DevstackError && err.code === 'SEARCH_ATTRIBUTE_CONFLICT',
      );

      const client = new Client({ connection, namespace: 'default' });
      const described = await client.workflow.getHandle(workflowId).describe();
      assert.equal(described.type, 'NobodyPollsThis');
      assert.equal(described.status.name, 'RUNNING');
    } finally {
      await connection.close();
    }
  });
});
