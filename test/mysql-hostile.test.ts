/**
 * Hostile input for the MySQL / MariaDB connector: account names, role names in config, request ids and permission
 * names with quotes, backticks, backslashes, semicolons, comments, unicode, emoji, NUL and huge lengths. Each either
 * works on exactly that (weird but legal) name or fails with a clear non-retryable error. MariaDB's general log
 * (to a table) records every statement the connector's connections send: each must have one of the connector's
 * known shapes, and a canary table and user made here must survive.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Connection, createConnection } from 'mysql2/promise';
import pino from 'pino';
import { ConnectorError } from '../connectors/errors';
import { createMysqlConnector } from '../connectors/mysql';
import { mysqlIntegrationSchema } from '../connectors/mysql/config';
import {
  AccountNotFoundError,
  InvalidNameError,
  RoleNotFoundError,
  UnknownPermissionError,
} from '../connectors/mysql/errors';
import type { Connector, GrantRequest } from '../connectors/types';
import { until } from './helpers/until';
import { getTestMariaDb, type TestMariaDb } from './setup/mariadb';

const sfx = randomBytes(3).toString('hex');
const CANARY_DB = `canary_${sfx}`;
const CANARY_USER = `canary_${sfx}`;
const DATA = `hostile_${sfx}`;
const VICTIM = `victim_${sfx}`;
const INTEGRATION = 'hostile';
const PASSWORD = 'pw';

/** Injection attempts, each naming the canaries they would destroy if they ever ran. */
const INJECTIONS = [
  `x'; DROP TABLE ${CANARY_DB}.t; --`,
  `x\`; DROP USER ${CANARY_USER}; -- `,
  `x" OR "1"="1`,
  `x\\'; DROP DATABASE ${CANARY_DB}; #`,
  `x/*!50000 DROP TABLE ${CANARY_DB}.t*/`,
  `x\\\`) ; DROP TABLE ${CANARY_DB}.t /*`,
];

/** User names that are weird but legal: the connector must grant to exactly these. */
const LEGAL_USERS = [
  `o'brien_${sfx}`,
  `dq"uote_${sfx}`,
  `back\`tick_${sfx}`,
  `back\\slash_${sfx}`,
  `semi;colon--dash_${sfx}`,
  `c/*omment*/_${sfx}`,
  `a.b.c_${sfx}`,
  `per%cent_under_${sfx}`,
  `at@sign_${sfx}`,
  `ünïcødé Ω 漢字_${sfx}`,
  `sp ace\ttab_${sfx}`,
  `${INJECTIONS[0]}_${sfx}`,
  `${INJECTIONS[5]}_${sfx}`,
  `${'l'.repeat(72)}_${sfx}`,
];

/** Role names that are weird but legal, each the role of one permission. */
const LEGAL_ROLES = [
  `r'ole_${sfx}`,
  `r"ole_${sfx}`,
  `r\`ole_${sfx}`,
  `r\\ole_${sfx}`,
  `r;ole -- x_${sfx}`,
  `rôle 漢_${sfx}`,
  `${INJECTIONS[1]}_${sfx}`,
];

/** Statement shapes the connector may send (literals and identifiers replaced by placeholders, see shape()). */
const KNOWN_SHAPES = new Set([
  'SELECT VERSION() AS version, CURRENT_USER() AS me',
  "SELECT COUNT(*) AS n FROM mysql.user WHERE User = '?' AND Host = '?'",
  "SELECT COUNT(*) AS n FROM mysql.user WHERE User = '?' AND Host = '?' AND is_role = '?'",
  "SELECT COUNT(*) AS n FROM mysql.roles_mapping WHERE Role = '?' AND User = '?' AND Host = '?'",
  "SELECT Role AS role, User AS user, Host AS host FROM mysql.roles_mapping WHERE Admin_option = '?'",
  "SELECT default_role AS role FROM mysql.user WHERE User = '?' AND Host = '?'",
  "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = '?' AND ID <> CONNECTION_ID()",
  "SELECT User AS user, Host AS host FROM mysql.user WHERE LEFT(User, '?') = '?'",
  "SELECT * FROM mysql.db WHERE LEFT(User, '?') = '?'",
  "SELECT User AS user, Host AS host, Db AS db, Table_name AS tbl, Table_priv AS privs FROM mysql.tables_priv WHERE LEFT(User, '?') = '?'",
  'GRANT `?` TO `?`@`?`',
  'REVOKE `?` FROM `?`@`?`',
  'SET DEFAULT ROLE `?` FOR `?`@`?`',
  'SET DEFAULT ROLE NONE FOR `?`@`?`',
  "CREATE USER `?`@`?` IDENTIFIED BY PASSWORD '?'",
  "ALTER USER `?`@`?` IDENTIFIED BY PASSWORD '?'",
  'ALTER USER `?`@`?` ACCOUNT LOCK',
  'DROP USER IF EXISTS `?`@`?`',
  'GRANT SELECT, INSERT ON `?`.* TO `?`@`?`',
  "KILL CONNECTION '?'",
]);
const QUIET_COMMANDS = new Set(['Connect', 'Quit', 'Close stmt', 'Reset stmt']);

/**
 * A statement's shape: every `identifier`, 'string', "string", number and `?` becomes a placeholder, in one left to
 * right scan as the server reads them. An injected quote or statement changes the shape, so it cannot match.
 */
function shape(sql: string): string {
  return sql
    .replace(/`(?:[^`]|``)*`|'(?:[^'\\]|\\[\s\S]|'')*'|"(?:[^"\\]|\\[\s\S]|"")*"|\b\d+\b|\?/g, (m) =>
      m.startsWith('`') ? '`?`' : "'?'",
    )
    .replace(/\s+/g, ' ')
    .trim();
}

const grantReq = (account: string, permission: string, requestId = `req_${sfx}`): GrantRequest => ({
  target: { integration: INTEGRATION, account, permission },
  requestId,
  expiresAt: new Date(Date.now() + 60_000),
});

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectorError, String(err));
  assert.equal(err.retryable, false, err.message);
  return err;
}

describe('MySQL connector: hostile input', function () {
  let db: TestMariaDb;
  let root: Connection;
  let since: string;
  let membership: Connector;
  let temporary: Connector;
  const log = pino({ level: 'silent' });

  const one = async (sql: string, params: unknown[] = []) =>
    ((await root.query(sql, params))[0] as Record<string, unknown>[])[0];

  async function userCanRead(user: string, password: string): Promise<unknown> {
    const conn = await createConnection({ host: '127.0.0.1', port: db.port, user, password });
    try {
      const [rows] = await conn.query(`SELECT CURRENT_ROLE() AS role, COUNT(*) AS n FROM \`${DATA}\`.t`);
      return (rows as { role: string | null }[])[0]!.role;
    } finally {
      await conn.end();
      // The server lists a closed connection a moment longer; wait, so that counts of live sessions are exact.
      await until(
        `${user}'s connection to close`,
        async () =>
          Number(
            (await one('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user]))!.n,
          ) === 0,
      );
    }
  }

  before(async () => {
    db = await getTestMariaDb();
    root = await createConnection({ uri: db.adminUrl });
    since = String((await one('SELECT CAST(NOW(6) AS CHAR) AS t'))!.t);
    await root.query(`CREATE DATABASE \`${CANARY_DB}\``);
    await root.query(`CREATE TABLE \`${CANARY_DB}\`.t (id INT PRIMARY KEY)`);
    await root.query(`INSERT INTO \`${CANARY_DB}\`.t VALUES (42)`);
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY 'canary'`, [CANARY_USER]);
    await root.query(`CREATE DATABASE \`${DATA}\``);
    await root.query(`CREATE TABLE \`${DATA}\`.t (id INT PRIMARY KEY)`);
    await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [VICTIM, PASSWORD]);
    // The test names everything with mysql2's '…' string escaping, not the connector's backtick quoting.
    for (const role of LEGAL_ROLES) {
      await root.query('CREATE ROLE ?', [role]);
      await root.query(`GRANT SELECT ON \`${DATA.replace(/_/g, '\\_')}\`.* TO ?`, [role]);
      await root.query(`GRANT ? TO ${db.grantflowAccount} WITH ADMIN OPTION`, [role]);
    }
    await root.query(`CREATE ROLE ?`, [`plain_${sfx}`]);
    await root.query(`GRANT SELECT ON \`${DATA.replace(/_/g, '\\_')}\`.* TO ?`, [`plain_${sfx}`]);
    await root.query(`GRANT ? TO ${db.grantflowAccount} WITH ADMIN OPTION`, [`plain_${sfx}`]);
    for (const user of LEGAL_USERS) await root.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, PASSWORD]);
    await root.query(
      `GRANT SELECT, INSERT ON \`${DATA.replace(/_/g, '\\_')}\`.* TO ${db.grantflowAccount} WITH GRANT OPTION`,
    );
    await root.query("SET GLOBAL log_output = 'TABLE'");
    await root.query('SET GLOBAL general_log = 1');

    const permissions: Record<string, { role: string }> = { plain: { role: `plain_${sfx}` } };
    LEGAL_ROLES.forEach((role, i) => (permissions[`weird${i}`] = { role }));
    INJECTIONS.forEach((role, i) => (permissions[`missing${i}`] = { role }));
    const base = { type: 'mysql', url: db.url };
    membership = createMysqlConnector(INTEGRATION, mysqlIntegrationSchema.parse({ ...base, permissions }), {
      log,
    });
    temporary = createMysqlConnector(
      INTEGRATION,
      mysqlIntegrationSchema.parse({
        ...base,
        mode: 'temporary-user',
        userPrefix: 'gfh_',
        permissions: { rw: { privileges: 'SELECT, INSERT', on: `${DATA}.*` } },
      }),
      { log },
    );
  });

  after(async () => {
    await root?.query('SET GLOBAL general_log = 0').catch(() => undefined);
    await membership?.close();
    await temporary?.close();
    await root?.end();
  });

  it('grants to and revokes from exactly the named account, however weird its legal name', async () => {
    for (const user of LEGAL_USERS) {
      const account = user.includes('@') ? `${user}@%` : user;
      const result = await membership.grant(grantReq(account, 'plain'));
      assert.equal(result.details.alreadyPresent, false, user);
      const rows = (
        await root.query('SELECT User AS user FROM mysql.roles_mapping WHERE Role = ? AND User LIKE ?', [
          `plain_${sfx}`,
          `%${sfx}`,
        ])
      )[0] as { user: string }[];
      assert.deepEqual(
        rows.map((r) => r.user),
        [user],
      );
      assert.equal(await userCanRead(user, PASSWORD), `plain_${sfx}`, user);
      assert.deepEqual(await membership.check!(grantReq(account, 'plain')), {
        exists: true,
        liveSessions: 0,
      });
      assert.deepEqual(await membership.revoke(grantReq(account, 'plain')), {
        alreadyAbsent: false,
        sessionsTerminated: 0,
      });
      assert.deepEqual(await membership.check!(grantReq(account, 'plain')), {
        exists: false,
        liveSessions: 0,
      });
    }
  });

  it('refuses impossible and unknown account names non-retryably', async () => {
    const impossible = [
      '',
      '😀',
      `a\u0000b`,
      'x'.repeat(10_000),
      `ok@${'h'.repeat(300)}`,
      'nohost@',
      '@%',
      '\uD800',
    ];
    for (const account of impossible) {
      const err = await failure(membership.grant(grantReq(account, 'plain')));
      assert.ok(err instanceof InvalidNameError, err.message);
      await failure(membership.revoke(grantReq(account, 'plain')));
      await failure(membership.check!(grantReq(account, 'plain')));
    }
    for (const account of [
      ...INJECTIONS,
      ...INJECTIONS.map((i) => `${i}@%`),
      `${VICTIM}@'%'`,
      `${VICTIM}@%--`,
    ]) {
      const err = await failure(membership.grant(grantReq(account, 'plain')));
      assert.ok(err instanceof AccountNotFoundError, err.message);
      assert.ok(err.message.includes(JSON.stringify(account)), err.message);
      assert.deepEqual(await membership.revoke(grantReq(account, 'plain')), {
        alreadyAbsent: true,
        sessionsTerminated: 0,
      });
    }
  });

  it('grants exactly the configured role, however weird its legal name; refuses missing ones', async () => {
    for (const [i, role] of LEGAL_ROLES.entries()) {
      await membership.grant(grantReq(VICTIM, `weird${i}`));
      const row = await one('SELECT COUNT(*) AS n FROM mysql.roles_mapping WHERE Role = ? AND User = ?', [
        role,
        VICTIM,
      ]);
      assert.equal(row!.n, 1, role);
      assert.equal((await one('SELECT default_role AS r FROM mysql.user WHERE User = ?', [VICTIM]))!.r, role);
      assert.equal(await userCanRead(VICTIM, PASSWORD), role);
      assert.equal((await membership.revoke(grantReq(VICTIM, `weird${i}`))).alreadyAbsent, false);
      assert.equal((await one('SELECT default_role AS r FROM mysql.user WHERE User = ?', [VICTIM]))!.r, '');
    }
    for (const i of INJECTIONS.keys()) {
      const err = await failure(membership.grant(grantReq(VICTIM, `missing${i}`)));
      assert.ok(err instanceof RoleNotFoundError, err.message);
    }
  });

  it('refuses hostile permission names as unknown', async () => {
    for (const permission of ['__proto__', 'constructor', 'toString', '', ...INJECTIONS]) {
      for (const connector of [membership, temporary]) {
        const err = await failure(connector.grant(grantReq(VICTIM, permission)));
        assert.ok(err instanceof UnknownPermissionError, err.message);
      }
    }
  });

  it('names temporary users safely after any request id, and drops exactly them', async () => {
    const ids = [
      ...INJECTIONS,
      'req_😀',
      'req_ABC',
      'req_a-b',
      'r'.repeat(5_000),
      '',
      '\u0000',
      `req_${sfx}ok`,
    ];
    const names = new Set<string>();
    for (const requestId of ids) {
      const result = await temporary.grant(grantReq(INJECTIONS[0]!, 'rw', requestId));
      const { username, password } = result.credentials!;
      assert.match(username, requestId === `req_${sfx}ok` ? /^gfh_[0-9a-f]+ok$/ : /^gfh_h_[0-9a-f]{16}$/);
      names.add(username);
      assert.equal(await userCanRead(username, password), null);
      assert.deepEqual(await temporary.check!(grantReq('x', 'rw', requestId)), {
        exists: true,
        liveSessions: 0,
      });
    }
    assert.equal(names.size, ids.length);
    const listed = (await temporary.listAccess()).filter((a) => names.has(a.account));
    assert.equal(listed.length, ids.length);
    assert.deepEqual(
      listed.filter((a) => a.requestId !== undefined),
      [{ account: `gfh_${sfx}ok`, permission: 'rw', requestId: `req_${sfx}ok` }],
    );
    for (const requestId of ids) {
      assert.equal((await temporary.revoke(grantReq('x', 'rw', requestId))).alreadyAbsent, false);
      assert.deepEqual(await temporary.check!(grantReq('x', 'rw', requestId)), {
        exists: false,
        liveSessions: 0,
      });
    }
  });

  it('refuses config whose names or templates step outside what the connector can quote or allows', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ privileges: `SELECT; DROP TABLE ${CANARY_DB}.t`, on: 'app.*' }, /not allowed: "SELECT; DROP TABLE/],
      [{ privileges: 'ALL PRIVILEGES', on: 'app.*' }, /not allowed: "ALL PRIVILEGES"/],
      [{ privileges: 'SELECT, GRANT OPTION', on: 'app.*' }, /not allowed: "GRANT OPTION"/],
      [{ privileges: 'SUPER', on: 'app.*' }, /not allowed: "SUPER"/],
      [{ privileges: 'FILE', on: 'app.*' }, /not allowed: "FILE"/],
      [{ privileges: 'SELECT /* x */', on: 'app.*' }, /not allowed/],
      [{ privileges: 'EXECUTE', on: 'app.t' }, /on a table \(not allowed: "EXECUTE"\)/],
      [{ privileges: 'SELECT', on: '*.*' }, /must be "database\.\*" or "database\.table"/],
      [{ privileges: 'SELECT', on: `${CANARY_DB}.*; DROP` }, /must be "database/],
      [{ privileges: 'SELECT', on: 'a`b.*' }, /must be "database/],
      [{ privileges: 'SELECT', on: 'db.t.x' }, /must be "database/],
      [{ privileges: 'SELECT', on: 'db' }, /must be "database/],
      [{ privileges: 'SELECT', on: 'db😀.*' }, /outside the Basic Multilingual Plane/],
      [{ privileges: 'SELECT', on: `${'d'.repeat(65)}.*` }, /longer than 64/],
    ];
    for (const [permission, message] of bad) {
      const parsed = mysqlIntegrationSchema.safeParse({
        type: 'mysql',
        mode: 'temporary-user',
        url: db.url,
        permissions: { p: permission },
      });
      assert.equal(parsed.success, false, JSON.stringify(permission));
      assert.match(parsed.error!.issues.map((i) => i.message).join('\n'), message);
    }
    for (const [role, message] of [
      ['a\u0000b', /NUL/],
      ['😀', /Basic Multilingual Plane/],
      ['', /empty/],
      ['r'.repeat(129), /longer than 128/],
    ] as const) {
      const parsed = mysqlIntegrationSchema.safeParse({
        type: 'mysql',
        url: db.url,
        permissions: { p: { role } },
      });
      assert.equal(parsed.success, false, role);
      assert.match(parsed.error!.issues.map((i) => i.message).join('\n'), message);
    }
  });

  it('sent only statements of known shapes, on its own connections', async () => {
    const [rows] = await root.query(
      `SELECT thread_id AS thread, command_type AS command, CONVERT(argument USING utf8mb4) AS argument
         FROM mysql.general_log WHERE event_time >= ? AND thread_id IN (
           SELECT thread_id FROM mysql.general_log WHERE event_time >= ? AND user_host LIKE 'grantflow[%')
         ORDER BY event_time`,
      [since, since],
    );
    const statements = rows as { command: string; argument: string }[];
    const shapes = new Map<string, number>();
    for (const { command, argument } of statements) {
      if (QUIET_COMMANDS.has(command)) continue;
      assert.ok(['Query', 'Prepare', 'Execute'].includes(command), `${command}: ${argument}`);
      const s = shape(argument);
      assert.ok(KNOWN_SHAPES.has(s), `unknown statement shape: ${s}\nfrom: ${argument}`);
      shapes.set(s, (shapes.get(s) ?? 0) + 1);
    }
    // Not vacuous: the grants, revokes and user drops above are all in the log.
    for (const s of ['GRANT `?` TO `?`@`?`', 'REVOKE `?` FROM `?`@`?`', 'DROP USER IF EXISTS `?`@`?`']) {
      assert.ok((shapes.get(s) ?? 0) >= LEGAL_ROLES.length, `${s}: ${shapes.get(s)}`);
    }
  });

  it('left the canary table and user untouched', async () => {
    assert.deepEqual((await root.query(`SELECT id FROM \`${CANARY_DB}\`.t`))[0], [{ id: 42 }]);
    assert.equal(
      (await one("SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = '%'", [CANARY_USER]))!.n,
      1,
    );
    const canary = await createConnection({
      host: '127.0.0.1',
      port: db.port,
      user: CANARY_USER,
      password: 'canary',
    });
    await canary.end();
  });
});
