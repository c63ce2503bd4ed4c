/**
 * Hostile names against the PostgreSQL connector, both modes: accounts, roles and request ids with quotes,
 * semicolons, comment markers, backslashes, unicode and over-long values. Each grant and revoke either works on
 * exactly that (odd but legal) name or fails with a clear, non-retryable error — and no statement other than the
 * connector's own shapes ever reaches the server: every statement is read off the wire (PostgreSQL's frontend
 * protocol, through a recording proxy) and matched, and canary objects survive.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier as q } from 'pg';
import pino from 'pino';
import { ConnectorError } from '../connectors/errors';
import { createPostgresConnector } from '../connectors/postgres';
import * as sql from '../connectors/postgres/sql';
import type { Connector } from '../connectors/types';
import { recordPgStatements, type StatementRecorder } from './helpers/pg-statements';
import { getTestPostgres } from './setup/postgres';

const sfx = randomBytes(3).toString('hex');
/** Whitespace folded, so the fixed queries' layout does not matter (quoted names keep theirs: none has runs). */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const IDENT = `"(?:[^"]|"")+"`;
const LIT = `'(?:[^']|'')*'`;
/** Every statement the connector may send: fixed queries exactly, generated DDL by shape, one statement each. */
const SHAPES: RegExp[] = [
  ...[
    sql.ROLE_EXISTS,
    sql.MEMBERSHIP_GRANTORS,
    sql.MEMBERS_OF_ROLES,
    sql.TERMINATE_SESSIONS,
    sql.COUNT_LIVE_BACKENDS,
    sql.COUNT_SESSIONS,
    sql.OWN_PRIVILEGES,
    sql.TEMPORARY_USERS,
    'begin',
    'commit',
    'rollback',
  ].map((text) => new RegExp(`^${oneLine(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)),
  new RegExp(`^grant ${IDENT} to ${IDENT}$`),
  new RegExp(`^revoke ${IDENT} from ${IDENT}( granted by ${IDENT})?$`),
  new RegExp(`^create role ${IDENT} login password ${LIT} valid until ${LIT} in role ${IDENT}$`),
  new RegExp(`^alter role ${IDENT} login password ${LIT} valid until ${LIT}$`),
  new RegExp(`^alter role ${IDENT} nologin$`),
  new RegExp(`^reassign owned by ${IDENT} to current_user$`),
  new RegExp(`^drop owned by ${IDENT}$`),
  new RegExp(`^drop role if exists ${IDENT}$`),
];

const HOSTILE = [
  `o'brien_${sfx}`,
  `we"ird_${sfx}`,
  `x_${sfx}; drop table canary; --`,
  `y_${sfx}'); drop role canary_${sfx}; --`,
  `ünï😀code_${sfx}`,
  `back\\slash_${sfx}`,
  `/* c */ $1 -- ${sfx}`,
];

describe('PostgreSQL connector: hostile names', function () {
  this.timeout(60_000);
  let dbUrl: string;
  let recorder: StatementRecorder;
  const roleWithQuote = `r'"; drop role canary_${sfx}; --`;
  const made: Connector[] = [];

  async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: dbUrl });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }

  function connector(mode: 'membership' | 'temporary-user'): Connector {
    const url = new URL(dbUrl);
    url.port = String(recorder.proxy.port);
    const c = createPostgresConnector(
      'wh',
      {
        type: 'postgres',
        mode,
        url: url.toString(),
        permissions: { read: { role: roleWithQuote } },
        terminateSessions: true,
        userPrefix: `h${sfx}_`,
      },
      { log: pino({ level: 'silent' }) },
    );
    made.push(c);
    return c;
  }

  before(async () => {
    const pg = await getTestPostgres();
    dbUrl = await pg.createDatabase(`hostile_${sfx}`);
    recorder = await recordPgStatements({ host: '127.0.0.1', port: pg.port });
    await admin(async (c) => {
      await c.query('create table canary (id int)');
      await c.query(`create role ${q(`canary_${sfx}`)}`);
      await c.query(`create role ${q(roleWithQuote)} nologin`);
      for (const name of HOSTILE) await c.query(`create role ${q(name)} login`);
    });
  });
  after(async () => {
    await Promise.all(made.map((c) => c.close()));
    await recorder?.proxy.close();
  });

  const target = (account: string) => ({ integration: 'wh', account, permission: 'read' });

  it('grants and revokes membership for accounts with hostile names, on exactly those roles', async () => {
    const c = connector('membership');
    for (const account of HOSTILE) {
      const ref = { target: target(account), requestId: 'req_hostile' };
      await c.grant({ ...ref, expiresAt: new Date(Date.now() + 60_000) });
      assert.equal((await c.check!(ref)).exists, true, account);
      const members = await admin(async (a) =>
        (await a.query(sql.MEMBERS_OF_ROLES, [[roleWithQuote]])).rows.map(
          (r: { account: string }) => r.account,
        ),
      );
      assert.ok(members.includes(account), `${account} is a member of the hostile-named role`);
      await c.revoke(ref);
      assert.equal((await c.check!(ref)).exists, false, account);
    }
  });

  it('refuses over-long and unknown accounts with a non-retryable error, without running anything else', async () => {
    const c = connector('membership');
    for (const account of ['a'.repeat(64), `nobody_${sfx}'--`, 'ü'.repeat(40)]) {
      const err = await c
        .grant({ target: target(account), requestId: 'req_x', expiresAt: new Date(Date.now() + 60_000) })
        .catch((e: unknown) => e);
      assert.ok(err instanceof ConnectorError, String(err));
      assert.equal(err.retryable, false);
    }
  });

  it('makes and drops temporary users for hostile accounts and request ids', async () => {
    const c = connector('temporary-user');
    const requestIds = ["req_'; drop table canary; --", 'req_ünï😀', `req_${'z'.repeat(300)}`, 'req_a"b\\c'];
    for (const [i, requestId] of requestIds.entries()) {
      const ref = { target: target(HOSTILE[i % HOSTILE.length]!), requestId };
      const g = await c.grant({ ...ref, expiresAt: new Date(Date.now() + 60_000) });
      assert.match(g.credentials!.username, /^[a-z0-9_]{1,63}$/);
      assert.equal((await c.check!(ref)).exists, true);
      await c.revoke(ref);
      assert.deepEqual(await c.check!(ref), { exists: false, liveSessions: 0 });
    }
  });

  it('sent only its own statement shapes, and the canaries are intact', async () => {
    assert.ok(recorder.statements.length > 50, `recorded ${recorder.statements.length} statements`);
    const strays = recorder.statements.filter((s) => !SHAPES.some((re) => re.test(oneLine(s))));
    assert.deepEqual(strays, []);
    await admin(async (a) => {
      assert.equal((await a.query('select count(*)::int as n from canary')).rows[0].n, 0);
      assert.equal((await a.query(sql.ROLE_EXISTS, [`canary_${sfx}`])).rowCount, 1);
      assert.equal((await a.query(sql.ROLE_EXISTS, [roleWithQuote])).rowCount, 1);
    });
  });
});
