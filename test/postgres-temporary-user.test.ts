/**
 * PostgreSQL `temporary-user` mode against a real server, through a least-privilege Grantflow account (CREATEROLE,
 * ADMIN on the permission's role, pg_signal_backend — what docs/connectors/postgres.md lists): a login role per
 * grant with a SCRAM verifier and VALID UNTIL, sign-in that works for a new session, a retried grant that resets
 * the password, a live session killed on revoke, drop of what it owns, idempotent revoke, names within 63 bytes,
 * and no password in the log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, escapeIdentifier as q, escapeLiteral } from 'pg';
import pino from 'pino';
import { createPostgresConnector } from '../connectors/postgres';
import { temporaryUserName } from '../connectors/postgres/temporary-user';
import type { Connector, IssuedCredentials } from '../connectors/types';
import { getTestPostgres } from './setup/postgres';

const sfx = randomBytes(3).toString('hex');
const READER = `tu_reader_${sfx}`;
const GRANTFLOW = `tu_grantflow_${sfx}`;
const GRANTFLOW_PASSWORD = 'grantflow-account-password';
const PREFIX = `gt${sfx}_`;

describe('PostgreSQL connector (temporary-user mode)', () => {
  let dbUrl: string;
  let grantflowUrl: string;
  let connector: Connector;
  const logLines: string[] = [];
  const sessions: Client[] = [];

  async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: dbUrl });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  async function sessionWith(creds: IssuedCredentials): Promise<Client> {
    const url = new URL(dbUrl);
    url.username = creds.username;
    url.password = creds.password;
    const c = new Client({ connectionString: url.toString() });
    c.on('error', () => undefined);
    await c.connect();
    sessions.push(c);
    return c;
  }

  const ref = (requestId: string, account = 'alice') => ({
    target: { integration: 'wh', account, permission: 'read' },
    requestId,
  });
  const grant = (requestId: string, account = 'alice') =>
    connector.grant({
      ...ref(requestId, account),
      expiresAt: new Date(Date.now() + 60_000),
      latestEnd: new Date(Date.now() + 3_600_000),
    });

  before(async () => {
    const pg = await getTestPostgres();
    dbUrl = await pg.createDatabase(`tu_${sfx}`);
    await admin(async (c) => {
      await c.query(`create role ${q(READER)} nologin`);
      await c.query('create table facts (id int primary key, note text)');
      await c.query("insert into facts values (1, 'visible to readers')");
      await c.query(`grant select on facts to ${q(READER)}`);
      // Grantflow's own account, with only what the docs ask for.
      await c.query(
        `create role ${q(GRANTFLOW)} login createrole password ${escapeLiteral(GRANTFLOW_PASSWORD)}`,
      );
      await c.query(`grant ${q(READER)} to ${q(GRANTFLOW)} with admin option`);
      await c.query(`grant pg_signal_backend to ${q(GRANTFLOW)}`);
      await c.query(`alter role ${q(GRANTFLOW)} set createrole_self_grant = 'set, inherit'`);
      await c.query(`grant create on schema public to ${q(READER)}`);
    });
    const u = new URL(dbUrl);
    u.username = GRANTFLOW;
    u.password = GRANTFLOW_PASSWORD;
    grantflowUrl = u.toString();
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    );
    connector = createPostgresConnector(
      'wh',
      {
        type: 'postgres',
        mode: 'temporary-user',
        url: grantflowUrl,
        permissions: { read: { role: READER } },
        terminateSessions: true,
        userPrefix: PREFIX,
        connectHost: 'db.example.com:5432',
      },
      { log },
    );
  });
  after(async () => {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await connector?.close();
  });

  it('creates a login role per grant, with a SCRAM verifier, VALID UNTIL and the role, that a new session can use', async () => {
    const g = await grant('req_aaaa1111');
    const creds = g.credentials!;
    assert.equal(creds.username, `${PREFIX}alice_aaaa1111`);
    assert.ok(creds.password.length >= 40);
    assert.equal(
      creds.connectHint,
      `postgres://${creds.username}@db.example.com:5432/${new URL(dbUrl).pathname.slice(1)}`,
    );
    assert.ok(!JSON.stringify(g.details).includes(creds.password), 'details never carry the password');
    const stored = await admin(
      async (c) =>
        (
          await c.query<{ rolpassword: string; rolvaliduntil: Date; rolcanlogin: boolean }>(
            'select rolpassword, rolvaliduntil, rolcanlogin from pg_authid where rolname = $1',
            [creds.username],
          )
        ).rows[0],
    );
    assert.match(stored!.rolpassword, /^SCRAM-SHA-256\$4096:/);
    assert.ok(!stored!.rolpassword.includes(creds.password));
    assert.ok(
      Math.abs(stored!.rolvaliduntil.getTime() - (Date.now() + 3_600_000)) < 60_000,
      'VALID UNTIL = latest end',
    );
    const s = await sessionWith(creds);
    assert.equal((await s.query('select note from facts')).rows[0].note, 'visible to readers');
    assert.deepEqual(await connector.check!(ref('req_aaaa1111')), { exists: true, liveSessions: 1 });
    assert.deepEqual(await connector.listAccess(), [
      { account: creds.username, permission: 'read', requestId: 'req_aaaa1111' },
    ]);
  });

  it('gives a retried grant a fresh password: the earlier one stops working', async () => {
    const first = (await grant('req_bbbb2222')).credentials!;
    const second = (await grant('req_bbbb2222')).credentials!;
    assert.equal(first.username, second.username);
    assert.notEqual(first.password, second.password);
    await assert.rejects(sessionWith(first), /password authentication failed/);
    await sessionWith(second);
  });

  it('revokes: NOLOGIN, kills live sessions, drops what it owns and the role; again is a no-op', async () => {
    const creds = (await grant('req_cccc3333')).credentials!;
    const live = await sessionWith(creds);
    await live.query('create table scratch_cccc (x int)'); // something it owns, which must not block the drop
    const result = await connector.revoke(ref('req_cccc3333'));
    assert.deepEqual(result, { alreadyAbsent: false, sessionsTerminated: 1 });
    await assert.rejects(live.query('select 1'), 'the live session is gone');
    assert.deepEqual(await connector.check!(ref('req_cccc3333')), { exists: false, liveSessions: 0 });
    await assert.rejects(sessionWith(creds), /does not exist|authentication failed/);
    assert.deepEqual(await connector.revoke(ref('req_cccc3333')), {
      alreadyAbsent: true,
      sessionsTerminated: 0,
    });
    const owner = await admin(
      async (c) =>
        (
          await c.query<{ owner: string }>(
            "select tableowner as owner from pg_tables where tablename = 'scratch_cccc'",
          )
        ).rows[0],
    );
    assert.equal(owner?.owner, GRANTFLOW, 'what it owned was handed to Grantflow, not lost with it');
  });

  it('names users within 63 bytes, unique per request, from any account text', () => {
    const long = temporaryUserName(
      PREFIX,
      { integration: 'wh', account: 'x'.repeat(200), permission: 'read' },
      'req_zzzzzzzzzzzzzzzz',
    );
    assert.ok(Buffer.byteLength(long) <= 63, long);
    assert.ok(long.endsWith('_zzzzzzzzzzzzzzzz'));
    const odd = (account: string) =>
      temporaryUserName(PREFIX, { integration: 'wh', account, permission: 'read' }, 'req_q1');
    assert.match(odd(`o'neil"; drop role x; --`), /^[a-z0-9_]+$/);
    assert.notEqual(odd('ann.lee'), odd('annlee'), 'accounts that clean up alike still differ');
    assert.match(odd('Zoë'), /^[a-z0-9_]+$/);
  });

  it('never logs a password', async () => {
    const creds = (await grant('req_dddd4444')).credentials!;
    await connector.revoke(ref('req_dddd4444'));
    const all = logLines.join('');
    assert.ok(all.includes(creds.username), 'the log names the user');
    assert.ok(!all.includes(creds.password));
    assert.ok(!all.includes(GRANTFLOW_PASSWORD));
  });

  it('reports health with CREATEROLE and the configured role', async () => {
    const health = await connector.checkHealth();
    assert.equal(health.ok, true, health.message);
    assert.deepEqual(
      health.checks?.map((c) => c.name),
      ['connect', `role ${READER}`, 'CREATEROLE'],
    );
  });
});
