/**
 * The MySQL / MariaDB connector against a real MariaDB (test/setup/mariadb.ts), in both modes: a NEW connection of
 * the person (or the temporary user) can use exactly what was granted and nothing before; grant and revoke are
 * idempotent; revoke kills connections opened while granted; check, listAccess and health read the real server;
 * bad input fails non-retryably; no password reaches the log.
 */
import assert from 'node:assert/strict';
import { freePort } from '../devstack/ports';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Connection, createConnection } from 'mysql2/promise';
import pino from 'pino';
import { ConnectorError } from '../connectors/errors';
import { createMysqlConnector } from '../connectors/mysql';
import { type MysqlIntegrationConfig, mysqlIntegrationSchema } from '../connectors/mysql/config';
import {
  AccountNotFoundError,
  InvalidNameError,
  RoleNotFoundError,
  UnknownPermissionError,
} from '../connectors/mysql/errors';
import type { Connector, GrantRequest } from '../connectors/types';
import { getTestMariaDb, type TestMariaDb } from './setup/mariadb';

// The server is shared by every test file of the run, so every name here is unique to this run.
const sfx = randomBytes(3).toString('hex');
const APP = `app_${sfx}`; // the `_` would be a wildcard in a database grant: `appx…` must stay out of reach
const LOOKALIKE = `appx${sfx}`;
const READER = `reader_${sfx}`;
const WRITER = `writer_${sfx}`;
const ALICE = `alice_${sfx}`;
const BOB = `bob_${sfx}`;
const CAROL = `carol_${sfx}`;
const PASSWORD = 'person-password';
const INTEGRATION = 'warehouse';

const grantReq = (
  account: string,
  permission: string,
  requestId = `req_${sfx}${account.length}`,
): GrantRequest => ({
  target: { integration: INTEGRATION, account, permission },
  requestId,
  expiresAt: new Date(Date.now() + 3_600_000),
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('MySQL connector (MariaDB)', function () {
  let db: TestMariaDb;
  let root: Connection;
  const logLines: string[] = [];
  const open: Connection[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const connectors: Connector[] = [];

  function connector(overrides: Partial<MysqlIntegrationConfig> & { permissions: unknown }): Connector {
    const config = mysqlIntegrationSchema.parse({ type: 'mysql', url: db.url, ...overrides });
    const made = createMysqlConnector(INTEGRATION, config, { log });
    connectors.push(made);
    return made;
  }

  /** A new connection as a person would open it. */
  async function connectAs(user: string, password: string, database = ''): Promise<Connection> {
    const conn = await createConnection({ host: '127.0.0.1', port: db.port, user, password, database });
    conn.on('error', () => undefined); // a killed connection reports here; the tests check its next query
    open.push(conn);
    return conn;
  }

  const count = async (conn: Connection, table = `${APP}.incidents`) =>
    ((await conn.query(`SELECT COUNT(*) AS n FROM ${table}`))[0] as { n: number }[])[0]!.n;

  before(async () => {
    db = await getTestMariaDb();
    root = await createConnection({ uri: db.adminUrl });
    for (const name of [APP, LOOKALIKE]) {
      await root.query(`CREATE DATABASE \`${name}\``);
      await root.query(`CREATE TABLE \`${name}\`.incidents (id INT PRIMARY KEY, title TEXT)`);
      await root.query(`INSERT INTO \`${name}\`.incidents VALUES (1, 'disk full'), (2, 'cert expiring')`);
    }
    await root.query(`CREATE ROLE ${READER}`);
    await root.query(`CREATE ROLE ${WRITER}`);
    // In a database grant `_` is a wildcard; escaped, the roles reach APP and not LOOKALIKE.
    const appPattern = APP.replace(/_/g, '\\_');
    await root.query(`GRANT SELECT ON \`${appPattern}\`.* TO ${READER}`);
    await root.query(`GRANT SELECT, INSERT ON \`${appPattern}\`.* TO ${WRITER}`);
    for (const role of [READER, WRITER])
      await root.query(`GRANT ${role} TO ${db.grantflowAccount} WITH ADMIN OPTION`);
    for (const user of [ALICE, BOB]) await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, PASSWORD]);
    await root.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [CAROL, PASSWORD]);
    // temporary-user templates: Grantflow's account may pass on what it holds WITH GRANT OPTION.
    await root.query(
      `GRANT SELECT, INSERT, UPDATE ON \`${appPattern}\`.* TO ${db.grantflowAccount} WITH GRANT OPTION`,
    );
  });

  after(async () => {
    await Promise.all(open.map((c) => c.end().catch(() => undefined)));
    await Promise.all(connectors.map((c) => c.close()));
    await root?.end();
  });

  describe('membership mode', () => {
    let mc: Connector;
    before(() => {
      mc = connector({
        permissions: { read: { role: READER }, write: { role: WRITER }, ghost: { role: `ghost_${sfx}` } },
      });
    });

    it('shares access between grants', () => assert.equal(mc.sharesAccess, true));

    it('grants the role, and only a new connection after the grant can read', async () => {
      const before = await connectAs(ALICE, PASSWORD);
      await assert.rejects(count(before), { errno: 1142 });
      assert.deepEqual(await mc.check!(grantReq(ALICE, 'read')), { exists: false, liveSessions: 1 });

      const result = await mc.grant(grantReq(ALICE, 'read'));
      assert.deepEqual(result.details, { role: READER, account: ALICE, alreadyPresent: false });
      assert.equal(result.credentials, undefined);

      const after = await connectAs(ALICE, PASSWORD);
      assert.equal(await count(after), 2);
      await assert.rejects(after.query(`INSERT INTO \`${APP}\`.incidents VALUES (3, 'x')`), { errno: 1142 });
      await assert.rejects(count(after, `\`${LOOKALIKE}\`.incidents`), { errno: 1142 });
      const check = await mc.check!(grantReq(ALICE, 'read'));
      assert.deepEqual(check, { exists: true, liveSessions: 2 });
    });

    it('grant is idempotent', async () => {
      const again = await mc.grant(grantReq(ALICE, 'read'));
      assert.equal(again.details.alreadyPresent, true);
      const [rows] = await root.query(
        'SELECT COUNT(*) AS n FROM mysql.roles_mapping WHERE User = ? AND Role = ?',
        [ALICE, READER],
      );
      assert.equal((rows as { n: number }[])[0]!.n, 1);
    });

    it('revoke removes the role and the default role, and kills a connection opened while granted', async () => {
      const live = await connectAs(ALICE, PASSWORD);
      assert.equal(await count(live), 2);

      const result = await mc.revoke(grantReq(ALICE, 'read'));
      assert.equal(result.alreadyAbsent, false);
      assert.ok(result.sessionsTerminated >= 2, `killed ${result.sessionsTerminated}`); // this one and the earlier
      assert.deepEqual(await mc.check!(grantReq(ALICE, 'read')), { exists: false, liveSessions: 0 });
      await assert.rejects(count(live));

      const [rows] = await root.query('SELECT default_role AS role FROM mysql.user WHERE User = ?', [ALICE]);
      assert.equal((rows as { role: string }[])[0]!.role, '');
      const fresh = await connectAs(ALICE, PASSWORD);
      await assert.rejects(count(fresh), { errno: 1142 });
      await fresh.end();
    });

    it('revoke is idempotent: a second revoke reports the access already absent', async () => {
      assert.deepEqual(await mc.revoke(grantReq(ALICE, 'read')), {
        alreadyAbsent: true,
        sessionsTerminated: 0,
      });
    });

    it('keeps a role the account still holds as its default when another is revoked (MariaDB has one)', async () => {
      await mc.grant(grantReq(BOB, 'read'));
      const second = await mc.grant(grantReq(BOB, 'write'));
      assert.equal(second.details.replacedDefaultRole, READER);
      const writer = await connectAs(BOB, PASSWORD);
      await writer.query(`INSERT INTO \`${APP}\`.incidents VALUES (3, 'bob was here')`);

      await mc.revoke(grantReq(BOB, 'write'));
      const reader = await connectAs(BOB, PASSWORD);
      assert.equal(await count(reader), 3);
      await assert.rejects(reader.query(`DELETE FROM \`${APP}\`.incidents WHERE id = 3`), { errno: 1142 });
      await assert.rejects(reader.query(`INSERT INTO \`${APP}\`.incidents VALUES (4, 'x')`), { errno: 1142 });
      await mc.revoke(grantReq(BOB, 'read'));
      assert.deepEqual(await mc.check!(grantReq(BOB, 'read')), { exists: false, liveSessions: 0 });
    });

    it('takes an account as user@host, the host otherwise being defaultHost', async () => {
      await mc.grant(grantReq(`${CAROL}@127.0.0.1`, 'read'));
      assert.equal(await count(await connectAs(CAROL, PASSWORD)), 3);
      await assert.rejects(mc.grant(grantReq(CAROL, 'read')), AccountNotFoundError); // CAROL@'%' does not exist
      const listed = (await mc.listAccess()).filter((a) => a.account.startsWith(CAROL));
      assert.deepEqual(listed, [{ account: `${CAROL}@127.0.0.1`, permission: 'read' }]);
      await mc.revoke(grantReq(`${CAROL}@127.0.0.1`, 'read'));
    });

    it('lists the accounts holding each configured role, not the roles’ administrators', async () => {
      await mc.grant(grantReq(ALICE, 'read'));
      await mc.grant(grantReq(BOB, 'write'));
      const ours = (await mc.listAccess())
        .filter((a) => a.account.endsWith(sfx))
        .sort((a, b) => a.account.localeCompare(b.account));
      assert.deepEqual(ours, [
        { account: ALICE, permission: 'read' },
        { account: BOB, permission: 'write' },
      ]);
      assert.ok((await mc.listAccess()).every((a) => !/^(root|grantflow)\b/.test(a.account)));
      await mc.revoke(grantReq(ALICE, 'read'));
      await mc.revoke(grantReq(BOB, 'write'));
      assert.deepEqual(
        (await mc.listAccess()).filter((a) => a.account.endsWith(sfx)),
        [],
      );
    });

    it('with defaultRole: false, the person activates the role with SET ROLE', async () => {
      const plain = connector({ defaultRole: false, permissions: { read: { role: READER } } });
      await plain.grant(grantReq(ALICE, 'read'));
      const conn = await connectAs(ALICE, PASSWORD);
      await assert.rejects(count(conn), { errno: 1142 });
      await conn.query(`SET ROLE ${READER}`);
      assert.equal(await count(conn), 3);
      await plain.revoke(grantReq(ALICE, 'read'));
      await assert.rejects(count(conn));
    });

    it('refuses unknown permissions, accounts, roles and impossible names, none retryable', async () => {
      const cases: [() => Promise<unknown>, new (...args: never[]) => ConnectorError, RegExp][] = [
        [
          () => mc.grant(grantReq(ALICE, 'admin')),
          UnknownPermissionError,
          /"warehouse" has no permission "admin"/,
        ],
        [() => mc.check!(grantReq(ALICE, 'constructor')), UnknownPermissionError, /constructor/],
        [
          () => mc.grant(grantReq(`nobody_${sfx}`, 'read')),
          AccountNotFoundError,
          new RegExp(`nobody_${sfx}`),
        ],
        [() => mc.grant(grantReq(ALICE, 'ghost')), RoleNotFoundError, new RegExp(`ghost_${sfx}`)],
        [() => mc.grant(grantReq('', 'read')), InvalidNameError, /user name is empty/],
        [() => mc.grant(grantReq(`${ALICE}@`, 'read')), InvalidNameError, /host is empty/],
      ];
      for (const [call, type, message] of cases) {
        const err = await rejection(call());
        assert.ok(err instanceof type, String(err));
        assert.equal((err as ConnectorError).retryable, false);
        assert.match((err as Error).message, message);
      }
      assert.deepEqual(await mc.revoke(grantReq(`nobody_${sfx}`, 'read')), {
        alreadyAbsent: true,
        sessionsTerminated: 0,
      });
    });

    it('reports health check by check, and names a role it cannot administer', async () => {
      const health = await mc.checkHealth();
      assert.deepEqual(
        health.checks?.map((c) => [c.name, c.ok]),
        [
          ['connect', true],
          ['read account tables', true],
          ['see connections', true],
          ['kill connections', true],
          ['set default roles', true],
          ['grant read', true],
          ['grant write', true],
          ['grant ghost', false],
        ],
      );
      assert.equal(health.ok, false);
      assert.match(
        health.message ?? '',
        /grant ghost: grantflow@% lacks the role "ghost_\w+" WITH ADMIN OPTION/,
      );
      const healthy = connector({ permissions: { read: { role: READER } } });
      assert.equal((await healthy.checkHealth()).ok, true);
    });
  });

  describe('temporary-user mode', () => {
    let tc: Connector;
    const passwords: string[] = [];
    const REQ = `req_${sfx}tmp1`;
    before(() => {
      tc = connector({
        mode: 'temporary-user',
        userPrefix: 'gft_',
        connectHost: 'db.example:3306',
        permissions: {
          readwrite: { privileges: 'select, INSERT,  update', on: `${APP}.*` },
          incidents: { privileges: 'SELECT', on: `${APP}.incidents` },
        },
      });
    });

    it('makes access per grant', () => assert.equal(tc.sharesAccess, false));

    it('creates a user named after the request that can use exactly its template', async () => {
      const user = `gft_${sfx}tmp1`;
      assert.deepEqual(await tc.check!(grantReq(ALICE, 'readwrite', REQ)), {
        exists: false,
        liveSessions: 0,
      });
      const result = await tc.grant(grantReq(ALICE, 'readwrite', REQ));
      const creds = result.credentials!;
      passwords.push(creds.password);
      assert.equal(creds.username, user);
      assert.match(creds.password, /^[A-Za-z0-9_-]{32}$/);
      assert.equal(creds.connectHint, `mysql://${user}@db.example:3306/${APP}`);
      assert.deepEqual(result.details, {
        user,
        host: '%',
        privileges: 'SELECT, INSERT, UPDATE',
        on: `${APP}.*`,
        alreadyPresent: false,
      });
      assert.ok(!JSON.stringify(result.details).includes(creds.password));

      const conn = await connectAs(user, creds.password, APP);
      await conn.query('INSERT INTO incidents VALUES (10, ?)', ['temporary']);
      await conn.query('UPDATE incidents SET title = ? WHERE id = 10', ['updated']);
      assert.equal(await count(conn), 4);
      await assert.rejects(conn.query('DELETE FROM incidents WHERE id = 10'), { errno: 1142 });
      await assert.rejects(count(conn, `\`${LOOKALIKE}\`.incidents`), { errno: 1142 });
      await assert.rejects(connectAs(user, 'wrong-password'), { errno: 1045 });
    });

    it('grant is idempotent: a repeat keeps one user and returns a new password that works', async () => {
      const again = await tc.grant(grantReq(ALICE, 'readwrite', REQ));
      assert.equal(again.details.alreadyPresent, true);
      passwords.push(again.credentials!.password);
      await assert.rejects(connectAs(again.credentials!.username, passwords[0]!), { errno: 1045 });
      const conn = await connectAs(again.credentials!.username, again.credentials!.password, APP);
      assert.equal(await count(conn), 4);
      // The connection made with the first password stays open (and is killed on revoke).
      assert.deepEqual(await tc.check!(grantReq(ALICE, 'readwrite', REQ)), { exists: true, liveSessions: 2 });
    });

    it('lists its temporary users with permission and request id', async () => {
      const other = await tc.grant(grantReq(BOB, 'incidents', `req_${sfx}tmp2`));
      passwords.push(other.credentials!.password);
      const conn = await connectAs(other.credentials!.username, other.credentials!.password);
      assert.equal(await count(conn), 4);
      await assert.rejects(conn.query(`INSERT INTO \`${APP}\`.incidents VALUES (11, 'x')`), { errno: 1142 });
      const listed = (await tc.listAccess()).filter((a) => a.account.includes(sfx));
      assert.deepEqual(
        listed.sort((a, b) => a.account.localeCompare(b.account)),
        [
          { account: `gft_${sfx}tmp1`, permission: 'readwrite', requestId: REQ },
          { account: `gft_${sfx}tmp2`, permission: 'incidents', requestId: `req_${sfx}tmp2` },
        ],
      );
    });

    it('revoke locks the user, kills its live connections and drops it; a repeat finds it absent', async () => {
      const live = await connectAs(`gft_${sfx}tmp1`, passwords[1]!, APP);
      assert.equal(await count(live), 4);
      const result = await tc.revoke(grantReq(ALICE, 'readwrite', REQ));
      assert.equal(result.alreadyAbsent, false);
      assert.ok(result.sessionsTerminated >= 2, `killed ${result.sessionsTerminated}`);
      assert.deepEqual(await tc.check!(grantReq(ALICE, 'readwrite', REQ)), {
        exists: false,
        liveSessions: 0,
      });
      await assert.rejects(count(live));
      await assert.rejects(connectAs(`gft_${sfx}tmp1`, passwords[1]!), { errno: 1045 });
      assert.deepEqual(await tc.revoke(grantReq(ALICE, 'readwrite', REQ)), {
        alreadyAbsent: true,
        sessionsTerminated: 0,
      });

      await tc.revoke(grantReq(BOB, 'incidents', `req_${sfx}tmp2`));
      assert.deepEqual(
        (await tc.listAccess()).filter((a) => a.account.includes(sfx)),
        [],
      );
    });

    it('refuses an unknown permission, and reports health', async () => {
      const err = await rejection(tc.grant(grantReq(ALICE, 'everything', REQ)));
      assert.ok(err instanceof UnknownPermissionError && !err.retryable, String(err));
      const health = await tc.checkHealth();
      assert.equal(health.ok, true, health.message);
      assert.deepEqual(
        health.checks?.map((c) => c.name),
        [
          'connect',
          'read account tables',
          'see connections',
          'kill connections',
          'create users',
          'grant readwrite',
          'grant incidents',
        ],
      );
      const greedy = connector({
        mode: 'temporary-user',
        permissions: { wipe: { privileges: 'DELETE, DROP', on: `${APP}.*` } },
      });
      const denied = await greedy.checkHealth();
      assert.equal(denied.ok, false);
      assert.match(
        denied.message ?? '',
        /grant wipe: grantflow@% lacks DELETE, DROP ON app_\w+\.\* WITH GRANT OPTION/,
      );
    });

    it('never logs a password', () => {
      assert.ok(passwords.length >= 3 && logLines.length > 0);
      const secrets = [...passwords, decodeURIComponent(new URL(db.url).password)];
      for (const line of logLines) for (const secret of secrets) assert.ok(!line.includes(secret), line);
    });
  });

  it('health fails fast against a closed port, retryably and without the password', async () => {
    const url = new URL(db.url);
    url.port = String(await freePort());
    const down = createMysqlConnector(
      'down',
      mysqlIntegrationSchema.parse({
        type: 'mysql',
        url: url.toString(),
        permissions: { read: { role: READER } },
      }),
      { log },
    );
    try {
      const started = Date.now();
      const health = await down.checkHealth();
      assert.equal(health.ok, false);
      assert.ok(Date.now() - started < 6_000);
      assert.deepEqual(
        health.checks?.map((c) => [c.name, c.ok]),
        [['connect', false]],
      );
      assert.match(health.message ?? '', /ECONNREFUSED/);
      assert.ok(!(health.message ?? '').includes(url.password));
      const err = await rejection(
        down.grant({
          ...grantReq(ALICE, 'read'),
          target: { integration: 'down', account: ALICE, permission: 'read' },
        }),
      );
      assert.ok(err instanceof ConnectorError && err.retryable, String(err));
    } finally {
      await down.close();
    }
  });
});
