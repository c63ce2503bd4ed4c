import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { MIGRATIONS } from '../migrations';
import { openStore, StoreConfigError, StoreConnectError } from '../store';
import type { RequestRow, Store } from '../store/types';
import { getTestPostgres } from './setup/postgres';

const tmpDirs: string[] = [];

async function newTarget(dialect: Store['dialect'], prefix: string): Promise<string> {
  if (dialect === 'postgres') return (await getTestPostgres()).createDatabase(prefix);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `gf-${prefix}-`));
  tmpDirs.push(dir);
  return path.join(dir, 'sub', 'grantflow.db');
}

function openTarget(target: string): Promise<Store> {
  return openStore(target.startsWith('postgres') ? { databaseUrl: target } : { sqliteFile: target });
}

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

after(async () => {
  for (const dir of tmpDirs) await fs.rm(dir, { recursive: true, force: true });
});

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

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`store (${dialect})`, () => {
    let target: string;
    let store: Store;

    before(async () => {
      target = await newTarget(dialect, 'store');
      store = await openTarget(target);
      assert.equal(store.dialect, dialect);
      await store.migrate();
    });
    after(async () => {
      await store?.close();
    });

    it('migrates again, and concurrently, without harm', async () => {
      await store.migrate();
      const other = await openTarget(target);
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

    it('lists requests newest first, filtered, 100 by default', async () => {
      const who = `list-${dialect}@example.com`;
      await store.withLock('seed', async () => {
        for (let i = 0; i < 104; i++) {
          const status = i % 3 === 0 ? 'ACTIVE' : i % 3 === 1 ? 'DENIED' : 'REVOKED';
          await store.upsertRequest(request({ requester: who, status, flow: i % 2 ? 'odd' : 'even' }));
        }
      });
      const all = await store.listRequests({ requester: who, limit: 1000 });
      assert.equal(all.length, 104);
      const created = all.map((r) => r.createdAt);
      assert.deepEqual(created, [...created].sort().reverse());
      assert.equal((await store.listRequests({ requester: who })).length, 100);
      const active = await store.listRequests({ requester: who, status: 'ACTIVE', limit: 1000 });
      assert.equal(active.length, 35);
      assert.ok(active.every((r) => r.status === 'ACTIVE'));
      const two = await store.listRequests({ requester: who, status: ['ACTIVE', 'DENIED'], limit: 1000 });
      assert.equal(two.length, 70);
      assert.equal(await store.countRequests({ requester: who }), 104, 'counted without the 100-row default');
      assert.equal(await store.countRequests({ requester: who, status: ['ACTIVE', 'DENIED'] }), 70);
      const oddActive = await store.listRequests({
        requester: who,
        flow: 'odd',
        status: 'ACTIVE',
        limit: 1000,
      });
      assert.ok(oddActive.length > 0 && oddActive.every((r) => r.flow === 'odd' && r.status === 'ACTIVE'));
      assert.equal((await store.listRequests({ requester: who, limit: 3 })).length, 3);
    });

    it('insertRequest returns the existing request for a repeated key or a duplicate pending request', async () => {
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
      await store.withAccessLock(`${key}:other`, async (holders) =>
        assert.deepEqual(await holders.list(), []),
      );
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
      const other = await openTarget(target);
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
  });
}
