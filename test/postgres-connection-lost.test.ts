/**
 * A database connection lost in the middle of a connector call (the server ends it, as in an outage) fails that
 * call with a retryable error, and nothing else: the 'error' event pg emits on the lost connection must not go
 * unhandled, which would end the worker process.
 */
import assert from 'node:assert/strict';
import { Client } from 'pg';
import pino from 'pino';
import { ConnectorError } from '../connectors/errors';
import { PgDatabase } from '../connectors/postgres/db';
import { getTestPostgres } from './setup/postgres';

describe('PostgreSQL connector: a connection lost mid-call', () => {
  it('fails the call as retryable, without an unhandled error', async () => {
    const pg = await getTestPostgres();
    const db = new PgDatabase(
      'lost',
      {
        type: 'postgres',
        mode: 'membership',
        url: pg.adminUrl,
        permissions: {},
        terminateSessions: true,
        userPrefix: 'gf_',
      },
      pino({ level: 'silent' }),
    );
    const unhandled: unknown[] = [];
    const onUncaught = (err: unknown) => unhandled.push(err);
    process.on('uncaughtException', onUncaught);
    const admin = new Client({ connectionString: pg.adminUrl });
    await admin.connect();
    try {
      const err = await db
        .withClient('slow call', async (client) => {
          const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
          // Lost between two statements, while the connection is checked out and idle.
          await admin.query('select pg_terminate_backend($1)', [pid]);
          await new Promise((r) => setTimeout(r, 300));
          await client.query('select 1');
        })
        .catch((e: unknown) => e);
      assert.ok(err instanceof ConnectorError, String(err));
      assert.equal(err.retryable, true);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(unhandled, [], 'no unhandled error');
      // The pool is still usable: the lost connection was dropped, not reused.
      assert.equal(
        await db.withClient('after', async (c) => (await c.query('select 1 as one')).rows[0].one),
        1,
      );
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.end();
      await db.close();
    }
  });
});
