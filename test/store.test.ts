/**
 * The store (store/knex-store.ts) on SQLite and on PostgreSQL, with the same assertions: opening, migrations
 * (from empty, repeated, concurrent, rolled back), the requests index (filters, counts, ordering), round trips
 * of timestamps, numbers and JSON, case-sensitive and unicode ids, chat state, message refs, sessions,
 * credentials, access holders and the named locks across two store instances.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { MIGRATIONS, migrationSource } from '../migrations';
import { openStore, StoreConfigError, StoreConnectError } from '../store';
import type { RequestFilter, RequestRow, SessionRow, Store, StoredCredentials } from '../store/types';
import { describeDialects } from './helpers/store-dialects';

/** Every table the migrations create. */
const TABLES = [
  'requests',
  'sent_messages',
  'access_holders',
  'locks',
  'audit_events',
  'config_versions',
  'chat_conversations',
  'chat_references',
  'api_tokens',
  'sessions',
  'grant_credentials',
];

let counter = 0;
function request(overrides: Partial<RequestRow> = {}): RequestRow {
  const n = ++counter;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  return {
    id: `req-${n}`,
    workflowId: `wf-req-${n}`,
    requester: 'ana@example.com',
    flow: 'db-read',
    resource: 'orders-db',
    permission: 'read',
    integration: 'postgres',
    status: 'PENDING_APPROVAL',
    reason: 'incident 42, "urgent"',
    durationMs: 30 * 24 * 3600 * 1000, // beyond 32 bits: duration_ms must be a bigint column
    channel: 'cli',
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

/** Orders strings by their UTF-8 bytes (= code points): SQLite's BINARY collation. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Runs until the first `await` inside a lock callback says it holds the lock. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Fails after `ms` unless `promise` settles first (a lock wait that should not happen). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('openStore', () => {
  it('refuses a non-PostgreSQL URL and a missing database, without showing the password', async () => {
    await assert.rejects(openStore({ databaseUrl: 'mysql://u:hunter2@h/db' }), (err: Error) => {
      assert.ok(err instanceof StoreConfigError);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
    await assert.rejects(openStore({}), StoreConfigError);
  });

  it('reports an unreachable PostgreSQL as StoreConnectError without the password', async () => {
    const log = pino({ level: 'silent' });
    await assert.rejects(
      openStore({ databaseUrl: 'postgres://u:hunter2@127.0.0.1:1/db', log }),
      (err: Error) => {
        assert.ok(err instanceof StoreConnectError);
        assert.match(err.message, /127\.0\.0\.1:1/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
    );
  });
});

describeDialects('store', (db) => {
  const dialect = db.dialect;
  let target: string;
  let store: Store;

  before(async () => {
    ({ target, store } = await db.fresh('store'));
    assert.equal(store.dialect, dialect);
  });

  it('migrates an empty database to every table, then a second run changes nothing, and rolls back', async () => {
    const empty = await db.open(await db.newTarget('migrate'));
    for (const table of TABLES) assert.equal(await empty.knex.schema.hasTable(table), false, table);
    await empty.migrate();
    for (const table of TABLES) assert.ok(await empty.knex.schema.hasTable(table), `${table} created`);
    const applied = async () =>
      (
        (await empty.knex('knex_migrations').select('name', 'batch').orderBy('id')) as {
          name: string;
          batch: number;
        }[]
      ).map((r) => `${r.name}@${r.batch}`);
    const first = await applied();
    assert.deepEqual(
      first,
      MIGRATIONS.map((m) => `${m.name}@1`),
    );
    await empty.migrate();
    assert.deepEqual(await applied(), first, 'a second run applies nothing');
    // The down migrations work on this dialect too, and up again after them.
    const config = { migrationSource, tableName: 'knex_migrations' };
    await empty.knex.migrate.rollback(config, true);
    for (const table of TABLES) assert.equal(await empty.knex.schema.hasTable(table), false, table);
    await empty.migrate();
    assert.deepEqual(
      await applied(),
      MIGRATIONS.map((m) => `${m.name}@1`),
    );
  });

  it('migrates again, and concurrently, without harm', async () => {
    await store.migrate();
    const other = await db.open(target);
    try {
      await Promise.all([store.migrate(), other.migrate(), other.migrate()]);
    } finally {
      await other.close();
    }
    const done = await store.knex('knex_migrations').select('name');
    assert.deepEqual(
      done.map((r: { name: string }) => r.name),
      MIGRATIONS.map((m) => m.name),
      'each migration applied exactly once',
    );
    const locks = await store.knex('knex_migrations_lock').select('is_locked');
    assert.deepEqual(locks, [{ is_locked: 0 }]);
  });

  it('stores, reads, updates and deletes request rows', async () => {
    const row = request({ idempotencyKey: 'k-1' });
    await store.upsertRequest(row);
    assert.deepEqual(await store.getRequest(row.id), row);
    assert.equal(await store.getRequest('nope'), undefined);

    await store.updateRequest(row.id, {
      status: 'ACTIVE',
      grantedAt: '2026-01-02T00:00:00.000Z',
      decidedBy: 'bo',
    });
    const updated = await store.getRequest(row.id);
    assert.equal(updated?.status, 'ACTIVE');
    assert.equal(updated?.decidedBy, 'bo');
    assert.equal(updated?.requester, row.requester);
    assert.ok(updated && updated.updatedAt > row.updatedAt, 'updatedAt defaults to now');

    // An upsert replaces the row whole: optional fields it lacks are cleared.
    await store.upsertRequest({ ...row, status: 'REVOKED' });
    assert.deepEqual(await store.getRequest(row.id), { ...row, status: 'REVOKED' });

    await store.updateRequest('missing', { status: 'DENIED' }); // index rows may lag their workflow
    await store.deleteRequest(row.id);
    assert.equal(await store.getRequest(row.id), undefined);
  });

  it('gives back timestamps, big numbers, text and JSON exactly as stored', async () => {
    const row = request({
      requester: `round-trip-${dialect}@example.com`,
      durationMs: Number.MAX_SAFE_INTEGER,
      reason: 'line 1\nline 2\t"quoted" \'single\' back\\slash, 100% _under_ 😀',
      idempotencyKey: 'round-trip',
      createdAt: '1970-01-01T00:00:00.000Z',
      updatedAt: '2026-02-28T23:59:59.999Z',
      grantedAt: '2026-03-01T00:00:00.001Z',
      expiresAt: '2099-12-31T23:59:59.999Z',
      decidedBy: 'Bö Ürsel',
    });
    await store.upsertRequest(row);
    assert.deepEqual(await store.getRequest(row.id), row);
    const listed = await store.listRequests({ requester: row.requester, limit: 1000 });
    assert.deepEqual(
      listed.find((r) => r.id === row.id),
      row,
    );

    const json = {
      step: 'reason',
      float: 0.1,
      exp: 1e21,
      negative: -42.5,
      maxSafe: Number.MAX_SAFE_INTEGER,
      yes: true,
      no: false,
      nothing: null,
      list: [1, 'two', [3], {}, []],
      nested: { ключ: 'значение', '😀': ['🎉'], 'with "quotes"': 'and\nnewlines' },
      at: '2026-01-01T00:00:00.000Z',
    };
    await store.saveConversation('slack', 'U-round-trip', json);
    assert.deepEqual(await store.getConversation('slack', 'U-round-trip'), json);
    await store.saveChatReference('teams', 'user:round-trip', json);
    assert.deepEqual(await store.getChatReference('teams', 'user:round-trip'), json);
    const ref = {
      requestId: 'rt-msg',
      platform: 'slack',
      audience: 'approvers' as const,
      conversationId: 'C-rt',
      messageId: '1700000000.000100',
      extra: json,
    };
    await store.saveMessageRef(ref);
    assert.deepEqual(await store.listMessageRefs('rt-msg'), [ref]);

    const credentials: StoredCredentials = {
      requestId: 'rt-cred',
      requester: 'ana@example.com',
      sealed: 'v1.c2VhbGVk.Zm9v',
      createdAt: '2026-04-05T06:07:08.009Z',
      expiresAt: '2026-04-05T07:07:08.009Z',
    };
    await store.putCredentials(credentials);
    assert.deepEqual(await store.getCredentials('rt-cred'), credentials);
    await store.putCredentials({ ...credentials, sealed: 'v1.bmV3', expiresAt: '2026-04-05T08:00:00.000Z' });
    assert.deepEqual(await store.getCredentials('rt-cred'), {
      ...credentials,
      sealed: 'v1.bmV3',
      expiresAt: '2026-04-05T08:00:00.000Z',
    });
    assert.equal(await store.deleteCredentials('rt-cred'), true);
    assert.equal(await store.deleteCredentials('rt-cred'), false);
    assert.equal(await store.getCredentials('rt-cred'), undefined);
  });

  it('keeps login sessions with their times, touching them only forwards', async () => {
    const session: SessionRow = {
      idHash: 'a'.repeat(64),
      email: 'ana@example.com',
      csrfToken: 'csrf-Token_123',
      authTime: '2026-05-01T09:59:00.000Z',
      createdAt: '2026-05-01T10:00:00.000Z',
      expiresAt: '2026-05-01T18:00:00.000Z',
    };
    await store.createSession(session);
    assert.deepEqual(await store.findSession(session.idHash), session);
    assert.equal(await store.findSession('A'.repeat(64)), undefined, 'hashes match case-sensitively');
    const seen = new Date('2026-05-01T10:30:00.123Z');
    await store.touchSession(session.idHash, seen);
    await store.touchSession(session.idHash, new Date('2026-05-01T10:29:59.999Z'));
    assert.deepEqual(await store.findSession(session.idHash), { ...session, lastSeenAt: seen.toISOString() });
    await store.deleteSession(session.idHash);
    await store.deleteSession(session.idHash);
    assert.equal(await store.findSession(session.idHash), undefined);
  });

  it('lists and counts requests newest first, filtered, 100 by default', async () => {
    const who = `list-${dialect}@example.com`;
    const seeded: RequestRow[] = [];
    await store.withLock('seed', async () => {
      for (let i = 0; i < 104; i++) {
        const status = i % 3 === 0 ? 'ACTIVE' : i % 3 === 1 ? 'DENIED' : 'REVOKED';
        const row = request({
          requester: who,
          status,
          flow: i % 2 ? 'odd' : 'even',
          integration: i % 4 === 0 ? 'aws' : 'postgres',
        });
        seeded.push(row);
        await store.upsertRequest(row);
      }
    });
    const all = await store.listRequests({ requester: who, limit: 1000 });
    assert.equal(all.length, 104);
    const created = all.map((r) => r.createdAt);
    assert.deepEqual(created, [...created].sort().reverse());
    assert.equal((await store.listRequests({ requester: who })).length, 100);
    assert.equal((await store.listRequests({ requester: who, limit: 3 })).length, 3);

    const filters: Omit<RequestFilter, 'requester'>[] = [
      { status: 'ACTIVE' },
      { status: ['ACTIVE', 'DENIED'] },
      { status: [] },
      { flow: 'odd', status: 'ACTIVE' },
      { integration: 'aws' },
      { integration: 'aws', flow: 'even', status: ['REVOKED', 'ACTIVE'] },
      { integration: 'gcp' },
    ];
    for (const filter of filters) {
      const statuses = filter.status === undefined ? undefined : [filter.status].flat();
      const expected = seeded
        .filter(
          (r) =>
            (statuses === undefined || statuses.includes(r.status)) &&
            (filter.flow === undefined || r.flow === filter.flow) &&
            (filter.integration === undefined || r.integration === filter.integration),
        )
        .map((r) => r.id)
        .reverse();
      const what = JSON.stringify(filter);
      const listed = await store.listRequests({ ...filter, requester: who, limit: 1000 });
      assert.deepEqual(
        listed.map((r) => r.id),
        expected,
        what,
      );
      assert.equal(await store.countRequests({ ...filter, requester: who }), expected.length, what);
    }
    assert.equal(await store.countRequests({ requester: who }), 104, 'counted without the 100-row default');
    assert.equal(await store.countRequests({ requester: `nobody-${who}` }), 0);
  });

  it('keeps ids case-sensitive and unicode intact, and orders text by code point', async () => {
    const at = '2026-06-01T00:00:00.000Z';
    const who = `Case-${dialect}@Example.com`;
    const ids = [
      'case-a',
      'Case-A',
      'CASE-A',
      'cäse-ä',
      'ǅ-title',
      '😀-emoji',
      'z',
      'Z',
      'é',
      'e',
      'e\u0301',
    ];
    for (const id of ids)
      await store.upsertRequest(
        request({ id, requester: who, status: 'ACTIVE', createdAt: at, updatedAt: at, reason: id }),
      );
    for (const id of ids) assert.equal((await store.getRequest(id))?.reason, id);
    assert.equal(await store.getRequest('CASE-a'), undefined);
    // Another case is another value to the store (callers lower-case emails themselves).
    assert.equal(await store.countRequests({ requester: who }), ids.length);
    assert.equal(await store.countRequests({ requester: who.toLowerCase() }), 0);
    // Equal created_at: ties go by id, in code-point order, on both dialects.
    const listed = await store.listRequests({ requester: who });
    assert.deepEqual(
      listed.map((r) => r.id),
      [...ids].sort(byBytes).reverse(),
    );

    // Idempotency keys differing in case are different keys.
    const lower = request({ requester: who, flow: 'f-1', idempotencyKey: 'key' });
    const upper = request({ requester: who, flow: 'f-2', idempotencyKey: 'KEY' });
    assert.deepEqual(await store.insertRequest(lower), { inserted: true });
    assert.deepEqual(await store.insertRequest(upper), { inserted: true });

    // Chat keys too.
    await store.saveConversation('slack', 'U-ÄBC', { who: 'upper' });
    await store.saveConversation('slack', 'u-äbc', { who: 'lower' });
    assert.deepEqual(await store.getConversation('slack', 'U-ÄBC'), { who: 'upper' });
    assert.deepEqual(await store.getConversation('slack', 'u-äbc'), { who: 'lower' });
    assert.equal(await store.getConversation('Slack', 'U-ÄBC'), undefined);
  });

  it('lists access holders of one integration by key and request, unicode included', async () => {
    const integration = `pg-ü😀-${dialect}`;
    const key = (account: string) => JSON.stringify([integration, account, 'read']);
    const expires = new Date(Date.now() + 60_000);
    const held: [string, string][] = [
      ['Acc', 'req-b'],
      ['acc', 'Req-B'],
      ['acc', 'req-a'],
      ['Äcc', 'req-c'],
      ['ácc 😀', 'req-d'],
    ];
    for (const [account, requestId] of held)
      await store.withAccessLock(key(account), (holders) => holders.add(requestId, expires));
    // Another integration whose name starts the same.
    await store.withAccessLock(JSON.stringify([`pg-ü😀-${dialect}-2`, 'acc', 'read']), (holders) =>
      holders.add('req-other', expires),
    );
    const rows = await store.listAccessHolders(integration);
    const expected = held
      .map(([account, requestId]) => ({ key: key(account), account, requestId }))
      .sort((a, b) => byBytes(a.key, b.key) || byBytes(a.requestId, b.requestId))
      .map(({ account, requestId }) => ({
        integration,
        account,
        permission: 'read',
        requestId,
        expiresAt: expires.toISOString(),
      }));
    assert.deepEqual(rows, expected);
    assert.deepEqual(await store.listAccessHolders('pg-ü'), []);
  });

  it('returns the existing request for a repeated key or a duplicate pending request', async () => {
    const who = `insert-${dialect}@example.com`;
    const first = request({ requester: who, idempotencyKey: 'same' });
    assert.deepEqual(await store.insertRequest(first), { inserted: true });
    // Same idempotency key (and so the same id).
    assert.deepEqual(await store.insertRequest({ ...first, reason: 'again' }), {
      inserted: false,
      existing: first,
    });
    // Another id, but the same person and access is still pending.
    assert.deepEqual(await store.insertRequest(request({ requester: who })), {
      inserted: false,
      existing: first,
    });
    // Another person using the same key gets their own request.
    const other = request({ requester: `other-${who}`, idempotencyKey: 'same' });
    assert.deepEqual(await store.insertRequest(other), { inserted: true });
    // Once the first is no longer pending, a new request for the same access goes in.
    await store.updateRequest(first.id, { status: 'DENIED' });
    const racers = Array.from({ length: 5 }, () => request({ requester: who }));
    const results = await Promise.all(racers.map((r) => store.insertRequest(r)));
    assert.equal(results.filter((r) => r.inserted).length, 1, 'exactly one concurrent insert wins');
    const pending = await store.listRequests({ requester: who, status: 'PENDING_APPROVAL' });
    assert.equal(pending.length, 1);
    for (const r of results) if (!r.inserted) assert.equal(r.existing.id, pending[0].id);
  });

  it('keeps chat conversation state per platform and user, and forgets it on delete', async () => {
    assert.equal(await store.getConversation('slack', 'U1'), undefined);
    await store.saveConversation('slack', 'U1', { step: 'access' });
    await store.saveConversation('slack', 'U1', { step: 'reason', durationMs: 60_000 });
    await store.saveConversation('teams', 'U1', { step: 'access' });
    assert.deepEqual(await store.getConversation('slack', 'U1'), { step: 'reason', durationMs: 60_000 });
    await store.deleteConversation('slack', 'U1');
    assert.equal(await store.getConversation('slack', 'U1'), undefined);
    assert.deepEqual(await store.getConversation('teams', 'U1'), { step: 'access' });
  });

  it('keeps chat conversation references by key, replacing an older one', async () => {
    assert.equal(await store.getChatReference('teams', 'user:aad-1'), undefined);
    await store.saveChatReference('teams', 'user:aad-1', { conversation: { id: 'a:1' } });
    await store.saveChatReference('teams', 'user:aad-1', { conversation: { id: 'a:2' } });
    assert.deepEqual(await store.getChatReference('teams', 'user:aad-1'), { conversation: { id: 'a:2' } });
  });

  it('saves message refs, updating a ref sent before, and lists them per request', async () => {
    const base = { platform: 'slack', audience: 'approvers' as const, conversationId: 'C1' };
    await store.saveMessageRef({ ...base, requestId: 'm-1', messageId: '1.1', extra: { thread: 'x' } });
    await store.saveMessageRef({ ...base, requestId: 'm-1', messageId: '1.2', audience: 'requester' });
    await store.saveMessageRef({ ...base, requestId: 'm-2', messageId: '2.1' });
    await store.saveMessageRef({
      ...base,
      requestId: 'm-1',
      messageId: '1.1',
      extra: { thread: 'y', n: [1] },
    });
    assert.deepEqual(await store.listMessageRefs('m-1'), [
      { ...base, requestId: 'm-1', messageId: '1.1', extra: { thread: 'y', n: [1] } },
      { ...base, requestId: 'm-1', messageId: '1.2', audience: 'requester' },
    ]);
    assert.equal((await store.listMessageRefs('m-2')).length, 1);
    assert.deepEqual(await store.listMessageRefs('none'), []);
  });

  it('keeps access holders under the access lock; expired holders do not count; a throw rolls back', async () => {
    const key = `pg:orders:read:${dialect}`;
    const soon = new Date(Date.now() + 60_000);
    await store.withAccessLock(key, async (holders) => {
      assert.deepEqual(await holders.list(), []);
      await holders.add('h-1', soon);
      await holders.add('h-2', soon);
      await holders.add('h-old', new Date(Date.now() - 1000));
      await holders.add('h-1', soon); // again: no duplicate
    });
    await store.withAccessLock(`${key}:other`, async (holders) => assert.deepEqual(await holders.list(), []));
    await assert.rejects(
      store.withAccessLock(key, async (holders) => {
        await holders.remove('h-1');
        await holders.add('h-3', soon);
        throw new Error('grant failed');
      }),
      /grant failed/,
    );
    await store.withAccessLock(key, async (holders) => {
      assert.deepEqual(await holders.list(), ['h-1', 'h-2']);
      await holders.remove('h-1');
      assert.deepEqual(await holders.list(), ['h-2']);
    });
  });

  it('lets store calls inside a lock join its transaction (no deadlock on one connection)', async () => {
    const row = request();
    await store.upsertRequest(row);
    const audited = await store.withAccessLock('joined', async (holders) => {
      await holders.add(row.id, new Date(Date.now() + 60_000));
      await store.updateRequest(row.id, { status: 'ACTIVE' });
      // Siblings in one transaction still append one at a time.
      const rows = await Promise.all(
        [1, 2, 3].map((i) => store.appendAudit({ eventKey: `j-${row.id}-${i}`, type: 't', actor: 'a' })),
      );
      return rows.map((r) => r.seq).sort((a, b) => a - b);
    });
    assert.equal(new Set(audited).size, 3);
    assert.equal((await store.getRequest(row.id))?.status, 'ACTIVE');
    await assert.rejects(
      store.withAccessLock('joined', async () => {
        await store.updateRequest(row.id, { status: 'REVOKED' });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal((await store.getRequest(row.id))?.status, 'ACTIVE', 'rolled back with the lock');
    assert.equal((await store.verifyAudit()).ok, true);
  });

  it('withLock never lets two holders of one name overlap, even from two connection pools', async () => {
    const other = await db.open(target);
    let inside = 0;
    let maxInside = 0;
    const events: string[] = [];
    const holder = (s: Store, id: string) =>
      s.withLock('exclusive', async (trx) => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        events.push(`in ${id}`);
        await trx.raw('select 1');
        await sleep(40);
        events.push(`out ${id}`);
        inside--;
        return id;
      });
    try {
      const ids = await Promise.all([
        holder(store, 'a'),
        holder(other, 'b'),
        holder(store, 'c'),
        holder(other, 'd'),
      ]);
      assert.deepEqual(ids, ['a', 'b', 'c', 'd']);
    } finally {
      await other.close();
    }
    assert.equal(maxInside, 1, events.join(', '));
    for (let i = 0; i < events.length; i += 2) assert.equal(events[i].slice(3), events[i + 1].slice(4));
    // A throw releases the lock.
    await assert.rejects(
      store.withLock('exclusive', async () => Promise.reject(new Error('x'))),
      /x/,
    );
    assert.equal(await store.withLock('exclusive', async () => 'free'), 'free');
  });

  it('withAccessLock lets one caller at a time see and change the holders, across two stores', async () => {
    const other = await db.open(target);
    const key = JSON.stringify(['pg', `race-${dialect}`, 'read']);
    const expires = new Date(Date.now() + 60_000);
    const ids = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    const storeOf = (i: number) => (i % 2 ? other : store);
    // Each caller grants only when nobody holds the access yet: exactly one may find it free.
    const granted: string[] = [];
    await Promise.all(
      ids.map((id, i) =>
        storeOf(i).withAccessLock(key, async (holders) => {
          if ((await holders.list()).length === 0) granted.push(id);
          await sleep(5);
          await holders.add(id, expires);
        }),
      ),
    );
    assert.equal(granted.length, 1, granted.join(', '));
    assert.deepEqual((await store.withAccessLock(key, (h) => h.list())).sort(), [...ids].sort());
    // Each caller revokes only when it removed the last holder: exactly one may find none left.
    const revoked: string[] = [];
    await Promise.all(
      ids.map((id, i) =>
        storeOf(i).withAccessLock(key, async (holders) => {
          await holders.remove(id);
          await sleep(5);
          if ((await holders.list()).length === 0) revoked.push(id);
        }),
      ),
    );
    assert.equal(revoked.length, 1, revoked.join(', '));

    // A second store waits for the holder of the same access …
    const held = gate();
    const release = gate();
    const first = store.withAccessLock(key, async () => {
      held.open();
      await release.opened;
    });
    await held.opened;
    let waited = false;
    const second = other.withAccessLock(key, async () => {
      waited = true;
    });
    await sleep(150);
    assert.equal(waited, false, 'the second store entered while the first held the lock');
    if (dialect === 'postgres') {
      // … but not for other access: advisory locks are per key (SQLite has one writer for everything).
      const free = other.withAccessLock(JSON.stringify(['pg', `free-${dialect}`, 'read']), (h) => h.list());
      assert.deepEqual(await within(5_000, 'a lock on other access', free), []);
    }
    release.open();
    await Promise.all([first, second]);
    assert.equal(waited, true);
  });
});
