import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  AuditExportFormatError,
  GENESIS_HASH,
  InvalidAuditEventError,
  computeAuditHash,
  exportAudit,
  openStore,
  type AuditExportFormat,
} from '../store';
import { AUDIT_EXPORT_COLUMNS } from '../store/audit';
import type { AuditRow, AuditVerifyResult, Store } from '../store/types';
import { getTestPostgres } from './setup/postgres';

const ROOT = path.resolve(__dirname, '..');
const tmpDirs: string[] = [];

async function newTarget(dialect: Store['dialect'], prefix: string): Promise<string> {
  if (dialect === 'postgres') return (await getTestPostgres()).createDatabase(prefix);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `gf-${prefix}-`));
  tmpDirs.push(dir);
  return path.join(dir, 'grantflow.db');
}

function openTarget(target: string): Promise<Store> {
  return openStore(target.startsWith('postgres') ? { databaseUrl: target } : { sqliteFile: target });
}

/** A migrated store on a fresh database holding `n` events e-1 … e-n. */
async function chainOf(dialect: Store['dialect'], n: number): Promise<Store> {
  const store = await openTarget(await newTarget(dialect, 'audit'));
  await store.migrate();
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

after(async () => {
  for (const dir of tmpDirs) await fs.rm(dir, { recursive: true, force: true });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`audit chain (${dialect})`, () => {
    const open: Store[] = [];
    const track = (s: Store) => (open.push(s), s);
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    it('appends a hash chain, and a repeated event key stores one row', async () => {
      const store = track(await chainOf(dialect, 0));
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
      await assert.rejects(
        store.appendAudit({ eventKey: '', type: 't', actor: 'a' }),
        InvalidAuditEventError,
      );
      await assert.rejects(
        store.appendAudit({ eventKey: 'k-3', type: 't', actor: 'a', at: new Date('nope') }),
        InvalidAuditEventError,
      );
    });

    it('lists by request, type, since a time, first or last n, in seq order', async () => {
      const store = track(await chainOf(dialect, 0));
      for (let i = 1; i <= 6; i++) {
        await store.appendAudit({
          eventKey: `l-${i}`,
          type: i % 3 ? 't' : 'x',
          actor: 'a',
          requestId: i % 2 ? 'odd' : 'even',
          at: new Date(Date.UTC(2026, 0, i)),
        });
      }
      const seqs = async (options: Parameters<Store['listAudit']>[0]) =>
        (await store.listAudit(options)).map((r) => r.seq).join(',');
      assert.equal(await seqs({ requestId: 'odd' }), '1,3,5');
      assert.equal(await seqs({ since: new Date(Date.UTC(2026, 0, 4)) }), '4,5,6');
      assert.equal(await seqs({ limit: 2 }), '1,2');
      assert.equal(await seqs({ type: 'x' }), '3,6');
      assert.equal(await seqs({ last: 2 }), '5,6');
      assert.equal(await seqs({ requestId: 'odd', last: 2 }), '3,5');
    });

    it('names an edited row', async () => {
      const store = track(await chainOf(dialect, 6));
      await store.knex('audit_events').where('seq', 3).update({ details: '{"i":333}' });
      const result = await store.verifyAudit();
      assert.deepEqual([result.ok, result.rows, named(result)], [false, 6, ['3 e-3 edited']]);
      assert.match(result.problems[0].message, /seq 3 \(e-3\)/);
      // Text that is not JSON any more is reported, not thrown.
      await store.knex('audit_events').where('seq', 4).update({ details: 'not json' });
      assert.deepEqual(named(await store.verifyAudit()), ['3 e-3 edited', '4 e-4 edited']);
    });

    it('names the next row when an edited row was rehashed to hide the edit', async () => {
      const store = track(await chainOf(dialect, 5));
      const row2 = (await store.listAudit()).find((r) => r.seq === 2);
      assert.ok(row2);
      const hash = computeAuditHash({ ...row2, details: { i: 222 } });
      await store.knex('audit_events').where('seq', 2).update({ details: '{"i":222}', hash });
      const result = await store.verifyAudit();
      assert.deepEqual(named(result), ['3 e-3 broken-link']);
      assert.match(result.problems[0].message, /seq 3 \(e-3\): prev_hash does not match the hash of seq 2/);
    });

    it('names the row after a deleted one', async () => {
      const store = track(await chainOf(dialect, 6));
      await store.knex('audit_events').where('seq', 4).del();
      const result = await store.verifyAudit();
      assert.deepEqual([result.ok, named(result)], [false, ['5 e-5 deleted-before']]);
      assert.match(result.problems[0].message, /seq 5 \(e-5\).*1 row\(s\) missing.*after seq 3/);
    });

    it('names reordered rows when two rows swap seq', async () => {
      const store = track(await chainOf(dialect, 8));
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
      const store = track(await chainOf(dialect, 0));
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
      const target = await newTarget(dialect, 'audit_procs');
      // Neither child finds a schema: they also race to migrate.
      await runAppenders(target, [
        { count: 200, prefix: 'a' },
        { count: 200, prefix: 'b' },
      ]);
      const store = track(await openTarget(target));
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
}

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
