import assert from 'node:assert/strict';
import { freePort } from '../devstack/ports';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, escapeIdentifier as q } from 'pg';
import pino from 'pino';
import { ConnectorError, UnknownIntegrationError } from '../connectors/errors';
import { createPostgresConnector } from '../connectors/postgres';
import type { PostgresIntegrationConfig } from '../connectors/postgres/config';
import {
  AccountNotFoundError,
  RoleNotFoundError,
  UnknownPermissionError,
} from '../connectors/postgres/errors';
import { createConnectorRegistry } from '../connectors/registry';
import type { AccessTarget, Connector } from '../connectors/types';
import { getTestPostgres } from './setup/postgres';

// Roles are cluster-wide and the cluster is shared by all test files, so every name here is unique to this run.
const sfx = randomBytes(3).toString('hex');
const READER = `reader_${sfx}`;
const WRITER = `writer_${sfx}`;
const ALICE = `alice_${sfx}`;
const BOB = `bob_${sfx}`;
const BOSS = `boss_${sfx}`;
const PASSWORD = 'demo-password';
const INTEGRATION = 'warehouse';

function target(account: string, permission = 'read'): AccessTarget {
  return { integration: INTEGRATION, account, permission };
}

const grantReq = (account: string, permission = 'read') => ({
  target: target(account, permission),
  requestId: `req-${account}`,
  expiresAt: new Date(Date.now() + 3_600_000),
});
const revokeReq = (account: string, permission = 'read') => ({
  target: target(account, permission),
  requestId: `req-${account}`,
});

describe('PostgreSQL connector (membership mode)', () => {
  let dbUrl: string;
  let connector: Connector;
  const logLines: string[] = [];
  const openClients: Client[] = [];

  function urlAs(account: string): string {
    const url = new URL(dbUrl);
    url.username = account;
    url.password = PASSWORD;
    return url.toString();
  }

  /** A session logged in as the account, as a person would have it. */
  async function sessionAs(account: string): Promise<Client> {
    const client = new Client({ connectionString: urlAs(account) });
    client.on('error', () => undefined); // a terminated session reports here; the test checks its next query
    await client.connect();
    openClients.push(client);
    return client;
  }

  async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: dbUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  function config(overrides: Partial<PostgresIntegrationConfig> = {}): PostgresIntegrationConfig {
    return {
      type: 'postgres',
      mode: 'membership',
      url: dbUrl,
      permissions: { read: { role: READER }, write: { role: WRITER }, ghost: { role: `ghost_${sfx}` } },
      terminateSessions: true,
      userPrefix: 'gf_',
      ...overrides,
    };
  }

  before(async () => {
    const pg = await getTestPostgres();
    dbUrl = await pg.createDatabase('pg_connector');
    await admin(async (c) => {
      for (const role of [READER, WRITER]) await c.query(`create role ${q(role)} nologin`);
      for (const role of [ALICE, BOB]) await c.query(`create role ${q(role)} login password '${PASSWORD}'`);
      await c.query(`create role ${q(BOSS)} nologin createrole`);
      await c.query('create table public.incidents (id int primary key, title text not null)');
      await c.query(`insert into public.incidents values (1, 'disk full'), (2, 'cert expiring')`);
      await c.query(`grant select on public.incidents to ${q(READER)}`);
      await c.query(`grant select, insert, update, delete on public.incidents to ${q(WRITER)}`);
    });
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    );
    connector = createPostgresConnector(INTEGRATION, config(), { log });
  });

  after(async () => {
    await Promise.all(openClients.map((c) => c.end().catch(() => undefined)));
    await connector?.close();
  });

  it('grants membership, and a separate session of the account can then read the table', async () => {
    const before = await sessionAs(ALICE);
    await assert.rejects(before.query('select * from public.incidents'), { code: '42501' });
    assert.equal((await connector.check!({ target: target(ALICE), requestId: 'req_test' })).exists, false);

    const result = await connector.grant(grantReq(ALICE));
    assert.equal(result.details.alreadyPresent, false);
    assert.equal(result.details.role, READER);
    assert.equal((await connector.check!({ target: target(ALICE), requestId: 'req_test' })).exists, true);

    const session = await sessionAs(ALICE);
    const { rows } = await session.query('select title from public.incidents order by id');
    assert.deepEqual(
      rows.map((r) => r.title),
      ['disk full', 'cert expiring'],
    );
  });

  it('grant is idempotent', async () => {
    const again = await connector.grant(grantReq(ALICE));
    assert.equal(again.details.alreadyPresent, true);
    const count = await admin(async (c) => {
      const { rows } = await c.query(
        `select count(*)::int as n from pg_auth_members am join pg_roles r on r.oid = am.roleid
         join pg_roles m on m.oid = am.member where r.rolname = $1 and m.rolname = $2`,
        [READER, ALICE],
      );
      return rows[0].n as number;
    });
    assert.equal(count, 1);
  });

  it('revoke removes membership and terminates a session opened before it', async () => {
    const open = await sessionAs(ALICE);
    await open.query('select 1 from public.incidents'); // access works until the revoke

    const result = await connector.revoke(revokeReq(ALICE));
    assert.deepEqual({ alreadyAbsent: result.alreadyAbsent }, { alreadyAbsent: false });
    assert.ok(result.sessionsTerminated >= 1, `terminated ${result.sessionsTerminated}`);
    assert.equal((await connector.check!({ target: target(ALICE), requestId: 'req_test' })).exists, false);

    await assert.rejects(open.query('select 1 from public.incidents'));
    const fresh = await sessionAs(ALICE);
    await assert.rejects(fresh.query('select * from public.incidents'), { code: '42501' });
  });

  it('revoke is idempotent: a second revoke reports the access already absent', async () => {
    const result = await connector.revoke(revokeReq(ALICE));
    assert.equal(result.alreadyAbsent, true);
  });

  it('revokes memberships granted by another role (PostgreSQL 16+ keeps one per grantor)', async () => {
    await admin(async (c) => {
      await c.query(`grant ${q(READER)} to ${q(BOSS)} with admin option`);
      await c.query(`grant ${q(READER)} to ${q(BOB)}`);
      await c.query(`grant ${q(READER)} to ${q(BOB)} granted by ${q(BOSS)}`);
    });
    assert.equal((await connector.check!({ target: target(BOB), requestId: 'req_test' })).exists, true);
    const result = await connector.revoke(revokeReq(BOB));
    assert.equal(result.alreadyAbsent, false);
    assert.equal((await connector.check!({ target: target(BOB), requestId: 'req_test' })).exists, false);
  });

  it('refuses an unknown account with a non-retryable AccountNotFoundError; revoking it succeeds', async () => {
    const err = await connector.grant(grantReq(`nobody_${sfx}`)).catch((e: unknown) => e);
    assert.ok(err instanceof AccountNotFoundError, String(err));
    assert.equal(err.retryable, false);
    assert.match(err.message, new RegExp(`nobody_${sfx}.*${INTEGRATION}`));
    assert.deepEqual(await connector.revoke(revokeReq(`nobody_${sfx}`)), {
      alreadyAbsent: true,
      sessionsTerminated: 0,
    });
  });

  it('refuses an unknown permission with a non-retryable error naming integration and permission', async () => {
    for (const call of [
      () => connector.grant(grantReq(ALICE, 'admin')),
      () => connector.check!({ target: target(ALICE, 'admin'), requestId: 'req_test' }),
    ]) {
      const err = await call().catch((e: unknown) => e);
      assert.ok(err instanceof UnknownPermissionError, String(err));
      assert.equal(err.retryable, false);
      assert.match(err.message, /"warehouse".*"admin"/);
    }
  });

  it('refuses a configured role that does not exist', async () => {
    const err = await connector.grant(grantReq(ALICE, 'ghost')).catch((e: unknown) => e);
    assert.ok(err instanceof RoleNotFoundError, String(err));
    assert.equal(err.retryable, false);
  });

  it('lists the members of each configured role', async () => {
    await connector.grant(grantReq(ALICE, 'read'));
    await connector.grant(grantReq(BOB, 'write'));
    const access = await connector.listAccess();
    const ours = access
      .filter((a) => [ALICE, BOB].includes(a.account))
      .sort((a, b) => a.account.localeCompare(b.account));
    assert.deepEqual(ours, [
      { account: ALICE, permission: 'read' },
      { account: BOB, permission: 'write' },
    ]);
    await connector.revoke(revokeReq(ALICE, 'read'));
    await connector.revoke(revokeReq(BOB, 'write'));
    assert.deepEqual(
      (await connector.listAccess()).filter((a) => [ALICE, BOB].includes(a.account)),
      [],
    );
  });

  it('reports health, and fails fast against a closed port', async () => {
    const health = await connector.checkHealth();
    const check = (name: string) => health.checks?.find((c) => c.name === name)?.ok;
    assert.equal(check('connect'), true);
    assert.equal(check('CREATEROLE'), true);
    assert.equal(check(`role ${READER}`), true);
    // The config names a role the database lacks (the ghost permission): health says which.
    assert.equal(health.ok, false);
    assert.match(health.message ?? '', new RegExp(`role ghost_${sfx}: does not exist`));
    assert.ok(health.latencyMs >= 0);

    const url = new URL(dbUrl);
    url.port = String(await freePort());
    const down = createPostgresConnector('down', { ...config(), url: url.toString() });
    try {
      const started = Date.now();
      const result = await down.checkHealth();
      assert.equal(result.ok, false);
      assert.ok(Date.now() - started < 6_000);
      assert.match(result.message ?? '', /ECONNREFUSED/);
      assert.ok(!(result.message ?? '').includes(new URL(dbUrl).password));
      const err = await down
        .grant({ ...grantReq(ALICE), target: { ...target(ALICE), integration: 'down' } })
        .catch((e: unknown) => e);
      assert.ok(err instanceof ConnectorError && err.retryable, String(err));
    } finally {
      await down.close();
    }
  });

  it('never logs the connection password', () => {
    const password = decodeURIComponent(new URL(dbUrl).password);
    assert.ok(logLines.length > 0);
    assert.ok(logLines.every((line) => !line.includes(password)));
  });
});

describe('connector registry', () => {
  it('creates connectors lazily by type, once per name, and rejects unknown names', async () => {
    const pg = await getTestPostgres();
    const registry = createConnectorRegistry({
      main: {
        type: 'postgres',
        mode: 'membership',
        url: pg.adminUrl,
        permissions: { read: { role: 'pg_read_all_data' } },
        terminateSessions: true,
        userPrefix: 'gf_',
      },
    });
    assert.deepEqual(registry.names(), ['main']);
    const connector = registry.get('main');
    assert.equal(connector.type, 'postgres');
    assert.equal(registry.get('main'), connector);
    assert.equal((await connector.checkHealth()).ok, true);
    assert.throws(
      () => registry.get('nope'),
      (err: unknown) => err instanceof UnknownIntegrationError && !err.retryable,
    );
    await registry.closeAll();
  });
});
