/**
 * The audit chain (store/audit.ts) on SQLite and on PostgreSQL, with the same assertions: appending (one event
 * or a batch, idempotent by event key), listing with filters, round trips of times and JSON details (large ones
 * too), case-sensitive unicode keys, verifying edited, deleted and reordered rows, paging, exports, and two
 * stores or two processes appending at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  AuditExportFormatError,
  GENESIS_HASH,
  InvalidAuditEventError,
  canonicalJson,
  computeAuditHash,
  exportAudit,
  type AuditExportFormat,
} from '../store';
import { AUDIT_EXPORT_COLUMNS } from '../store/audit';
import type { AuditEventInput, AuditRow, AuditVerifyResult, Store } from '../store/types';
import { describeDialects, type DialectDatabases } from './helpers/store-dialects';

const ROOT = path.resolve(__dirname, '..');

/** A migrated store on a fresh database holding `n` events e-1 … e-n. */
async function chainOf(db: DialectDatabases, n: number): Promise<Store> {
  const { store } = await db.fresh('audit');
  for (let i = 1; i <= n; i++)
    await store.appendAudit({ eventKey: `e-${i}`, type: 't', actor: 'a', details: { i } });
  return store;
}

/** Runs audit-appender children together (each migrates, then all start appending at once). */
async function runAppenders(target: string, jobs: { count: number; prefix: string }[]): Promise<void> {
  const children = jobs.map(({ count, prefix }) => {
    const child = spawn(
      process.execPath,
      ['-r', 'tsx/cjs', 'test/fixtures/audit-appender.ts', target, String(count), prefix],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GRANTFLOW_LOG_LEVEL: 'warn' } },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.split('\n').includes('ready')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`appender ${prefix} exited ${code} before ready: ${err}`)),
      );
    });
    const exited = new Promise<void>((resolve, reject) =>
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`appender ${prefix} exited ${code}: ${err}`)),
      ),
    );
    return { child, ready, exited };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.end('go\n');
  await Promise.all(children.map((c) => c.exited));
}

/** Problems as `seq eventKey problem`. */
function named(result: AuditVerifyResult): string[] {
  return result.problems.map((p) => `${p.seq} ${p.eventKey} ${p.problem}`);
}

async function exportText(store: Store, format: AuditExportFormat, since?: Date): Promise<[number, string]> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const count = await exportAudit(store, { format, since, out });
  out.end();
  return [count, text];
}

/** RFC 4180 parser for the round trip (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((field += '"'), i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(field), (field = ''));
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      (row.push(field), rows.push(row), (row = []), (field = ''));
    } else field += ch;
  }
  if (field !== '' || row.length > 0) (row.push(field), rows.push(row));
  return rows;
}

describeDialects('audit chain', (db) => {
  it('appends a hash chain, and a repeated event key stores one row', async () => {
    const store = await chainOf(db, 0);
    const at = new Date('2026-03-04T05:06:07.089Z');
    const first = await store.appendAudit({
      eventKey: 'k-1',
      type: 'request.created',
      actor: 'ana@example.com',
      requestId: 'req-1',
      channel: 'cli',
      details: { b: 2, a: { y: [1, 'x'], x: null } },
      at,
    });
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, GENESIS_HASH);
    assert.equal(first.at, '2026-03-04T05:06:07.089Z');
    assert.equal(first.hash, computeAuditHash(first));
    const again = await store.appendAudit({ eventKey: 'k-1', type: 'other', actor: 'someone else' });
    assert.deepEqual(again, first);
    const second = await store.appendAudit({ eventKey: 'k-2', type: 't', actor: 'bo' });
    assert.deepEqual(
      [second.seq, second.prevHash, second.requestId, second.channel],
      [2, first.hash, null, null],
    );
    assert.deepEqual(await store.listAudit(), [first, second]);
    assert.deepEqual(await store.verifyAudit(), { ok: true, rows: 2, problems: [] });

    // A time that crossed Temporal as JSON arrives as a string.
    const fromJson = {
      eventKey: 'k-s',
      type: 't',
      actor: 'a',
      at: '2026-05-06T07:08:09.010Z' as unknown as Date,
    };
    assert.equal((await store.appendAudit(fromJson)).at, '2026-05-06T07:08:09.010Z');
    await assert.rejects(store.appendAudit({ eventKey: '', type: 't', actor: 'a' }), InvalidAuditEventError);
    await assert.rejects(
      store.appendAudit({ eventKey: 'k-3', type: 't', actor: 'a', at: new Date('nope') }),
      InvalidAuditEventError,
    );
  });

  it('lists by request, type, actor, since a time, first or last n, in seq order', async () => {
    const store = await chainOf(db, 0);
    for (let i = 1; i <= 6; i++) {
      await store.appendAudit({
        eventKey: `l-${i}`,
        type: i % 3 ? 't' : 'x',
        actor: i <= 2 ? 'Åsa@example.com' : 'a',
        requestId: i % 2 ? 'odd' : 'even',
        at: new Date(Date.UTC(2026, 0, i)),
      });
    }
    const seqs = async (options: Parameters<Store['listAudit']>[0]) =>
      (await store.listAudit(options)).map((r) => r.seq).join(',');
    assert.equal(await seqs({}), '1,2,3,4,5,6');
    assert.equal(await seqs({ requestId: 'odd' }), '1,3,5');
    assert.equal(await seqs({ requestId: 'ODD' }), '', 'request ids match case-sensitively');
    assert.equal(await seqs({ since: new Date(Date.UTC(2026, 0, 4)) }), '4,5,6');
    assert.equal(await seqs({ since: new Date(Date.UTC(2026, 0, 4) + 1) }), '5,6');
    assert.equal(await seqs({ limit: 2 }), '1,2');
    assert.equal(await seqs({ limit: 100 }), '1,2,3,4,5,6');
    assert.equal(await seqs({ type: 'x' }), '3,6');
    assert.equal(await seqs({ type: 'X' }), '');
    assert.equal(await seqs({ actor: 'Åsa@example.com' }), '1,2');
    assert.equal(await seqs({ actor: 'åsa@example.com' }), '');
    assert.equal(await seqs({ actor: 'a', type: 't' }), '4,5');
    assert.equal(await seqs({ last: 2 }), '5,6');
    assert.equal(await seqs({ last: 100 }), '1,2,3,4,5,6');
    assert.equal(await seqs({ last: 2, limit: 1 }), '5,6', 'last wins over limit');
    assert.equal(await seqs({ requestId: 'odd', last: 2 }), '3,5');
    assert.equal(await seqs({ since: new Date(Date.UTC(2026, 0, 2)), type: 't', last: 2 }), '4,5');
  });

  it('gives back times and JSON details exactly, keys sorted, on both dialects', async () => {
    const store = await chainOf(db, 0);
    const details = {
      zeta: 'last key',
      unicode: 'Grüße, 你好, Привет, 😀',
      ключ: { '😀': ['🎉', { b: 2, a: 1 }] },
      numbers: [0, 1, -1, 0.1, -0.001, 1e21, 1.5e-7, Number.MAX_SAFE_INTEGER],
      flags: [true, false, null],
      empty: { list: [], object: {}, text: '' },
      escapes: 'quote " backslash \\ newline \n tab \t nul \u0000 end',
      when: new Date('2026-01-02T03:04:05.006Z'),
      dropped: undefined,
    };
    const times = ['1970-01-01T00:00:00.000Z', '2026-02-28T23:59:59.999Z', '2099-12-31T23:59:59.001Z'];
    const rows: AuditRow[] = [];
    for (const [i, at] of times.entries())
      rows.push(
        await store.appendAudit({ eventKey: `rt-${i}`, type: 't', actor: 'a', at: new Date(at), details }),
      );
    const expected = JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
    const listed = await store.listAudit();
    assert.deepEqual(listed, rows);
    assert.deepEqual(
      listed.map((r) => r.at),
      times,
    );
    for (const row of listed) {
      assert.deepEqual(row.details, expected);
      assert.equal(row.details.when, '2026-01-02T03:04:05.006Z');
      assert.deepEqual(Object.keys(row.details), Object.keys(expected).sort(), 'keys in canonical order');
      assert.equal(row.hash, computeAuditHash(row));
    }
    const stored = (await store.knex('audit_events').where('seq', 1).first('details')) as { details: string };
    assert.equal(stored.details, canonicalJson(details), 'stored as canonical JSON');
    assert.equal((await store.verifyAudit()).ok, true);
  });

  it('keeps event keys case-sensitive and unicode intact', async () => {
    const store = await chainOf(db, 0);
    const keys = ['key', 'Key', 'KEY', 'kéy', 'ke\u0301y', 'ключ', '😀-key'];
    const rows = await store.appendAuditEvents(
      keys.map((eventKey) => ({ eventKey, type: 'T', actor: `actor ${eventKey}`, requestId: eventKey })),
    );
    assert.deepEqual(
      rows.map((r) => [r.row.eventKey, r.inserted]),
      keys.map((k) => [k, true]),
    );
    for (const key of keys) {
      const [row] = await store.listAudit({ requestId: key });
      assert.equal(row?.actor, `actor ${key}`, key);
    }
    assert.deepEqual(await store.verifyAudit(), { ok: true, rows: keys.length, problems: [] });
  });

  it('stores large details objects whole', async function () {
    this.timeout(60_000);
    const store = await chainOf(db, 0);
    const big = {
      text: `${'x'.repeat(1_000_000)} 😀 end`,
      map: Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [`k${i}`, { i, text: `välue ${i}`, list: [i, -i - 1] }]),
      ),
      list: Array.from({ length: 10_000 }, (_, i) => i * 1.5),
    };
    const row = await store.appendAudit({ eventKey: 'big', type: 't', actor: 'a', details: big });
    assert.deepEqual(row.details, big);
    const [back] = await store.listAudit({ last: 1 });
    assert.deepEqual(back, row);
    assert.deepEqual(back.details, big);
    // A batch of biggish events in one transaction.
    const events = Array.from({ length: 20 }, (_, i) => ({
      eventKey: `big-${i}`,
      type: 't',
      actor: 'a',
      details: { i, blob: 'ü'.repeat(50_000) },
    }));
    const appended = await store.appendAuditEvents(events);
    assert.ok(appended.every((r) => r.inserted));
    assert.deepEqual(
      (await store.listAudit({ last: 20 })).map((r) => r.details),
      events.map((e) => e.details),
    );
    assert.deepEqual(await store.verifyAudit(), { ok: true, rows: 21, problems: [] });
  });

  it('appendAuditEvents stores a repeated key once, leaves the chain as it was, and is all or nothing', async () => {
    const store = await chainOf(db, 2);
    const event = (eventKey: string, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
      eventKey,
      type: 'batch',
      actor: 'ana@example.com',
      requestId: 'req-b',
      channel: 'api',
      details: { eventKey },
      ...extra,
    });
    const first = await store.appendAuditEvents([event('b-1'), event('b-2')]);
    assert.deepEqual(
      first.map((r) => [r.row.seq, r.inserted]),
      [
        [3, true],
        [4, true],
      ],
    );
    assert.equal(first[1].row.prevHash, first[0].row.hash);
    const before = await store.listAudit();

    // The same keys again (as a retried activity sends them), with different contents: nothing changes.
    const again = await store.appendAuditEvents([
      event('b-1', { type: 'changed', actor: 'mallory' }),
      event('b-2', { details: { other: true } }),
    ]);
    assert.deepEqual(
      again.map((r) => r.inserted),
      [false, false],
    );
    assert.deepEqual(
      again.map((r) => r.row),
      first.map((r) => r.row),
    );
    assert.deepEqual(await store.listAudit(), before, 'chain unchanged');
    assert.equal((await store.appendAudit(event('b-1', { type: 'x' }))).hash, first[0].row.hash);

    // Old and new keys mixed, and a key twice in one batch: the new ones go on the end of the chain.
    const mixed = await store.appendAuditEvents([event('b-2'), event('b-3'), event('b-3'), event('b-4')]);
    assert.deepEqual(
      mixed.map((r) => [r.row.eventKey, r.row.seq, r.inserted]),
      [
        ['b-2', 4, false],
        ['b-3', 5, true],
        ['b-3', 5, false],
        ['b-4', 6, true],
      ],
    );
    assert.equal(mixed[1].row.prevHash, first[1].row.hash);
    assert.deepEqual(mixed[2].row, mixed[1].row);

    // An invalid event fails the whole batch: the valid one before it is not stored either.
    await assert.rejects(
      store.appendAuditEvents([event('b-5'), event('b-6', { at: new Date('nope') })]),
      InvalidAuditEventError,
    );
    assert.equal((await store.listAudit({ type: 'batch' })).length, 4);
    assert.deepEqual(await store.appendAuditEvents([]), []);
    assert.deepEqual(await store.verifyAudit(), { ok: true, rows: 6, problems: [] });
  });

  it('keeps one valid chain when two stores append at once, each key stored once', async () => {
    const { store, target } = await db.fresh('audit-two');
    const other = await db.open(target);
    const stores = [store, other];
    const event = (eventKey: string, n: number): AuditEventInput => ({
      eventKey,
      type: 'two',
      actor: `store-${n}`,
      details: { eventKey },
    });
    await Promise.all(
      stores.flatMap((s, n) =>
        Array.from({ length: 15 }, (_, i) =>
          i % 2
            ? s.appendAudit(event(`s${n}-${i}`, n))
            : s.appendAuditEvents([event(`s${n}-${i}-a`, n), event(`s${n}-${i}-b`, n)]),
        ),
      ),
    );
    const rows = await store.listAudit({ limit: 1000 });
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 46 }, (_, i) => i + 1),
    );
    // A batch is appended under one lock: its events are neighbours.
    for (const r of rows.filter((x) => x.eventKey.endsWith('-a')))
      assert.equal(rows[r.seq].eventKey, r.eventKey.replace(/-a$/, '-b'));
    assert.deepEqual(await store.verifyAudit(), { ok: true, rows: 46, problems: [] });

    // Both stores appending the same keys at once: each key goes in once, and both get its row.
    const keys = Array.from({ length: 10 }, (_, i) => `same-${i}`);
    const results = await Promise.all(
      stores.map((s, n) => s.appendAuditEvents(keys.map((k) => event(k, n)))),
    );
    for (const [i, key] of keys.entries()) {
      const [a, b] = results.map((r) => r[i]);
      assert.equal(Number(a.inserted) + Number(b.inserted), 1, key);
      assert.deepEqual(a.row, b.row, key);
    }
    assert.deepEqual(await store.verifyAudit(), { ok: true, rows: 56, problems: [] });
  });

  it('names an edited row', async () => {
    const store = await chainOf(db, 6);
    await store.knex('audit_events').where('seq', 3).update({ details: '{"i":333}' });
    const result = await store.verifyAudit();
    assert.deepEqual([result.ok, result.rows, named(result)], [false, 6, ['3 e-3 edited']]);
    assert.match(result.problems[0].message, /seq 3 \(e-3\)/);
    // Text that is not JSON any more is reported, not thrown.
    await store.knex('audit_events').where('seq', 4).update({ details: 'not json' });
    assert.deepEqual(named(await store.verifyAudit()), ['3 e-3 edited', '4 e-4 edited']);
  });

  it('names the next row when an edited row was rehashed to hide the edit', async () => {
    const store = await chainOf(db, 5);
    const row2 = (await store.listAudit()).find((r) => r.seq === 2);
    assert.ok(row2);
    const hash = computeAuditHash({ ...row2, details: { i: 222 } });
    await store.knex('audit_events').where('seq', 2).update({ details: '{"i":222}', hash });
    const result = await store.verifyAudit();
    assert.deepEqual(named(result), ['3 e-3 broken-link']);
    assert.match(result.problems[0].message, /seq 3 \(e-3\): prev_hash does not match the hash of seq 2/);
  });

  it('names the row after a deleted one', async () => {
    const store = await chainOf(db, 6);
    await store.knex('audit_events').where('seq', 4).del();
    const result = await store.verifyAudit();
    assert.deepEqual([result.ok, named(result)], [false, ['5 e-5 deleted-before']]);
    assert.match(result.problems[0].message, /seq 5 \(e-5\).*1 row\(s\) missing.*after seq 3/);
  });

  it('names reordered rows when two rows swap seq', async () => {
    const store = await chainOf(db, 8);
    const swap = async (a: number, b: number) => {
      await store.knex('audit_events').where('seq', a).update({ seq: -1 });
      await store.knex('audit_events').where('seq', b).update({ seq: a });
      await store.knex('audit_events').where('seq', -1).update({ seq: b });
    };
    await swap(3, 6);
    let result = await store.verifyAudit();
    // The rows after each moved one no longer link to it either.
    assert.deepEqual(named(result), [
      '3 e-6 reordered',
      '4 e-4 broken-link',
      '6 e-3 reordered',
      '7 e-7 broken-link',
    ]);
    assert.match(result.problems[0].message, /seq 3 \(e-6\).*appended as seq 6/);
    // Swap back, then swap neighbours.
    await swap(3, 6);
    assert.equal((await store.verifyAudit()).ok, true);
    await swap(4, 5);
    result = await store.verifyAudit();
    assert.deepEqual(named(result), ['4 e-5 reordered', '5 e-4 reordered', '6 e-6 broken-link']);
  });

  it('verifies and exports a chain longer than one page', async () => {
    const store = await chainOf(db, 0);
    let prevHash = GENESIS_HASH;
    const dbRows = Array.from({ length: 2500 }, (_, i) => {
      const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      const [seq, eventKey, type, actor] = [i + 1, `p-${i + 1}`, 't', 'a'];
      const hash = computeAuditHash({
        seq,
        eventKey,
        type,
        actor,
        at,
        details: {},
        requestId: null,
        channel: null,
        prevHash,
      });
      const dbRow = { seq, event_key: eventKey, type, actor, at, details: '{}', prev_hash: prevHash, hash };
      prevHash = hash;
      return dbRow;
    });
    await store.knex.batchInsert('audit_events', dbRows, 250);
    assert.deepEqual(await store.verifyAudit(), { ok: true, rows: 2500, problems: [] });
    assert.equal((await exportText(store, 'csv'))[0], 2500);
    await store.knex('audit_events').whereIn('seq', [1000, 1001, 2400]).del();
    const result = await store.verifyAudit();
    assert.equal(result.rows, 2497);
    assert.deepEqual(
      result.problems.map((p) => [p.seq, p.problem]),
      [
        [1002, 'deleted-before'],
        [2401, 'deleted-before'],
      ],
    );
    assert.match(result.problems[0].message, /2 row\(s\) missing/);
  });

  it('keeps one whole chain when two processes append at once, and exports it', async function () {
    this.timeout(120_000);
    const target = await db.newTarget('audit-procs');
    // Neither child finds a schema: they also race to migrate.
    await runAppenders(target, [
      { count: 200, prefix: 'a' },
      { count: 200, prefix: 'b' },
    ]);
    const store = await db.open(target);
    let result = await store.verifyAudit();
    assert.deepEqual(result, { ok: true, rows: 400, problems: [] });
    const rows = await store.listAudit({ limit: 1000 });
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    for (const prefix of ['a', 'b']) {
      const mine = rows.filter((r) => r.eventKey.startsWith(`${prefix}-`)).map((r) => r.details.i);
      assert.deepEqual(
        mine,
        Array.from({ length: 200 }, (_, i) => i),
        `${prefix}'s events in order`,
      );
    }
    const switches = rows.filter((r, i) => i > 0 && r.actor !== rows[i - 1].actor).length;
    assert.ok(switches >= 2, `the two processes interleaved (${switches} switches)`);

    // Both processes appending the same keys store each key once.
    await runAppenders(target, [
      { count: 50, prefix: 'same' },
      { count: 50, prefix: 'same' },
    ]);
    result = await store.verifyAudit();
    assert.deepEqual(result, { ok: true, rows: 450, problems: [] });

    await store.appendAudit({
      eventKey: 'odd',
      type: 't',
      actor: 'x, "y"',
      details: { text: 'a,b\n"c"\r\nd' },
    });
    await checkExports(store);
  });
});

async function checkExports(store: Store): Promise<void> {
  const all = await store.listAudit({ limit: 10_000 });
  const [jsonCount, jsonl] = await exportText(store, 'jsonl');
  assert.equal(jsonCount, all.length);
  const parsed = jsonl
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRow);
  assert.deepEqual(parsed, all);

  const [csvCount, csv] = await exportText(store, 'csv');
  assert.equal(csvCount, all.length);
  const [header, ...records] = parseCsv(csv);
  assert.deepEqual(header, [...AUDIT_EXPORT_COLUMNS]);
  assert.equal(records.length, all.length);
  const back = records.map((rec) => {
    const r = Object.fromEntries(header.map((h, i) => [h, rec[i]]));
    return {
      ...r,
      seq: Number(r.seq),
      requestId: r.requestId || null,
      channel: r.channel || null,
      details: JSON.parse(r.details) as Record<string, unknown>,
    };
  });
  assert.deepEqual(back, all);
  const odd = back[back.length - 1];
  assert.equal(odd.actor, 'x, "y"');
  assert.deepEqual(odd.details, { text: 'a,b\n"c"\r\nd' });

  const cut = new Date(Date.parse(all[all.length - 1].at));
  const [sinceCount] = await exportText(store, 'jsonl', cut);
  assert.ok(sinceCount >= 1 && sinceCount < all.length, `since keeps only the latest rows (${sinceCount})`);
  await assert.rejects(exportText(store, 'xml' as AuditExportFormat), AuditExportFormatError);
}
