/**
 * The tamper-evident audit chain: every row carries the SHA-256 of the previous row's hash and its own
 * contents (seq included), so an edited, deleted or reordered row breaks the chain where it happened.
 * Appends run under the store's `audit` lock; verification and export read in pages of 1000 rows.
 *
 * What the chain cannot show by itself: rows cut off at the end, or a chain rewritten and rehashed
 * from some row on. Keep the last hash somewhere else (e.g. a periodic export) to catch those.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Knex } from 'knex';
import { AuditExportFormatError, InvalidAuditEventError } from './errors';
import type { AuditEventInput, AuditProblem, AuditRow, AuditVerifyResult, Store } from './types';

/** The prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);
const TABLE = 'audit_events';
const PAGE = 1000;
/** How far verifyAudit follows prev_hash links back to explain a moved row. */
const MAX_LINK_WALK = 100;

type Db = Knex | Knex.Transaction;
type AuditDbRow = Record<string, unknown>;

/** JSON with object keys sorted recursively, so equal values always give the same text (and hash). */
export function canonicalJson(value: unknown): string {
  return canonical(value) ?? 'null';
}

function canonical(input: unknown): string | undefined {
  const value =
    input !== null &&
    typeof input === 'object' &&
    typeof (input as { toJSON?: unknown }).toJSON === 'function'
      ? (input as { toJSON(): unknown }).toJSON()
      : input;
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new InvalidAuditEventError('audit details cannot hold a bigint; store it as a string');
    case 'object':
      break;
    default:
      return undefined; // undefined, functions and symbols are left out, as JSON.stringify does
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v) ?? 'null').join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const text = canonical(obj[key]);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** The hash of a row: sha256(prevHash + '\n' + canonical JSON of its contents, seq included). */
export function computeAuditHash(row: Omit<AuditRow, 'hash'>): string {
  const { seq, eventKey, type, actor, requestId, channel, at, details } = row;
  const body = canonicalJson({ seq, eventKey, type, actor, requestId, channel, at, details });
  return createHash('sha256').update(`${row.prevHash}\n${body}`).digest('hex');
}

/** Stored details; text that is no longer a JSON object (tampering) is kept visible, and fails its hash. */
function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { unparseableDetails: text };
}

function toAuditRow(r: AuditDbRow): AuditRow {
  return {
    seq: Number(r.seq),
    eventKey: String(r.event_key),
    type: String(r.type),
    actor: String(r.actor),
    requestId: (r.request_id as string | null) ?? null,
    channel: (r.channel as string | null) ?? null,
    at: String(r.at),
    details: parseDetails(String(r.details)),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

function checkEvent(event: AuditEventInput): string {
  for (const field of ['eventKey', 'type', 'actor'] as const) {
    if (typeof event[field] !== 'string' || event[field] === '')
      throw new InvalidAuditEventError(`audit event needs a non-empty ${field}`);
  }
  // Activity arguments cross Temporal as JSON, so a Date may arrive as its ISO string.
  const at = new Date(event.at ?? Date.now());
  if (Number.isNaN(at.getTime()))
    throw new InvalidAuditEventError(`audit event ${event.eventKey} has an invalid time`);
  return at.toISOString();
}

/**
 * Appends one event; the caller must hold the store's `audit` lock in `trx`.
 * A repeated event key returns the row stored the first time, unchanged.
 */
export async function appendAuditEvent(trx: Db, event: AuditEventInput): Promise<AuditRow> {
  return (await appendAuditEventOnce(trx, event)).row;
}

/** Appends the event unless one with its key exists; says which. */
export async function appendAuditEventOnce(
  trx: Db,
  event: AuditEventInput,
): Promise<{ row: AuditRow; inserted: boolean }> {
  const at = checkEvent(event);
  const details = JSON.parse(canonicalJson(event.details ?? {})) as Record<string, unknown>;
  const existing = (await trx(TABLE).where('event_key', event.eventKey).first()) as AuditDbRow | undefined;
  if (existing) return { row: toAuditRow(existing), inserted: false };
  const last = (await trx(TABLE).orderBy('seq', 'desc').first('seq', 'hash')) as AuditDbRow | undefined;
  const unhashed: Omit<AuditRow, 'hash'> = {
    seq: last ? Number(last.seq) + 1 : 1,
    eventKey: event.eventKey,
    type: event.type,
    actor: event.actor,
    requestId: event.requestId ?? null,
    channel: event.channel ?? null,
    at,
    details,
    prevHash: last ? String(last.hash) : GENESIS_HASH,
  };
  const row: AuditRow = { ...unhashed, hash: computeAuditHash(unhashed) };
  await trx(TABLE).insert({
    seq: row.seq,
    event_key: row.eventKey,
    type: row.type,
    actor: row.actor,
    request_id: row.requestId,
    channel: row.channel,
    at: row.at,
    details: canonicalJson(row.details),
    prev_hash: row.prevHash,
    hash: row.hash,
  });
  return { row, inserted: true };
}

/** Options of listAuditRows. */
export interface AuditQuery {
  requestId?: string;
  /** Only events of this type. */
  type?: string;
  /** Only events by this actor. */
  actor?: string;
  since?: Date;
  /** At most this many rows, from the start; defaults to 1000. */
  limit?: number;
  /** The n most recent matching rows instead (still in seq order); wins over `limit`. */
  last?: number;
  /** Only rows after this seq (for paging). */
  afterSeq?: number;
}

/** Audit rows in seq order. */
export async function listAuditRows(db: Db, options: AuditQuery = {}): Promise<AuditRow[]> {
  const fromEnd = options.last !== undefined;
  const query = db(TABLE)
    .select('*')
    .orderBy('seq', fromEnd ? 'desc' : 'asc')
    .limit(options.last ?? options.limit ?? PAGE);
  if (options.requestId !== undefined) query.where('request_id', options.requestId);
  if (options.type !== undefined) query.where('type', options.type);
  if (options.actor !== undefined) query.where('actor', options.actor);
  if (options.since !== undefined) query.where('at', '>=', options.since.toISOString());
  if (options.afterSeq !== undefined) query.where('seq', '>', options.afterSeq);
  const rows = ((await query) as AuditDbRow[]).map(toAuditRow);
  return fromEnd ? rows.reverse() : rows;
}

/** Calls `fn` with each page of rows in seq order, never holding more than one page. */
async function forEachPage(
  db: Db,
  query: AuditQuery,
  fn: (rows: AuditRow[]) => Promise<void>,
): Promise<void> {
  let afterSeq = 0;
  for (;;) {
    const rows = await listAuditRows(db, { ...query, afterSeq, limit: PAGE });
    if (rows.length === 0) return;
    await fn(rows);
    afterSeq = rows[rows.length - 1].seq;
    if (rows.length < PAGE) return;
  }
}

/**
 * The seq a moved row was hashed with: follows prev_hash links back to a row that is still where
 * it was appended, counting the steps. Undefined when the links lead nowhere.
 */
async function originalSeq(db: Db, row: AuditRow): Promise<number | undefined> {
  let prevHash = row.prevHash;
  for (let steps = 1; steps <= MAX_LINK_WALK; steps++) {
    if (prevHash === GENESIS_HASH) return steps;
    const found = (await db(TABLE).where('hash', prevHash).first()) as AuditDbRow | undefined;
    if (!found) return undefined;
    const before = toAuditRow(found);
    if (computeAuditHash(before) === before.hash) return before.seq + steps;
    prevHash = before.prevHash;
  }
  return undefined;
}

async function checkRow(db: Db, row: AuditRow, prev: AuditRow | undefined): Promise<AuditProblem[]> {
  const name = `seq ${row.seq} (${row.eventKey})`;
  const problems: AuditProblem[] = [];
  const add = (problem: AuditProblem['problem'], message: string): void => {
    problems.push({ seq: row.seq, eventKey: row.eventKey, problem, message: `${name}: ${message}` });
  };
  const hashOk = computeAuditHash(row) === row.hash;
  const expectedSeq = prev ? prev.seq + 1 : 1;
  const expectedPrev = prev ? prev.hash : GENESIS_HASH;
  if (row.seq !== expectedSeq) {
    const missing = row.seq - expectedSeq;
    add(
      'deleted-before',
      `${missing} row(s) missing before it (${prev ? `after seq ${prev.seq}` : 'at the start'})`,
    );
  } else if (row.prevHash !== expectedPrev) {
    const original = hashOk ? undefined : await originalSeq(db, row);
    if (
      original !== undefined &&
      original !== row.seq &&
      computeAuditHash({ ...row, seq: original }) === row.hash
    ) {
      add('reordered', `holds the event appended as seq ${original}; rows were moved`);
      return problems;
    }
    add(
      'broken-link',
      `prev_hash does not match the hash of ${prev ? `seq ${prev.seq}` : 'the chain start'}`,
    );
  }
  if (!hashOk) add('edited', 'stored hash does not match its contents; a field was changed');
  return problems;
}

/** Walks the whole chain in seq order and reports every row that does not fit, by seq and event key. */
export async function verifyAuditChain(db: Db): Promise<AuditVerifyResult> {
  const problems: AuditProblem[] = [];
  let prev: AuditRow | undefined;
  let rows = 0;
  await forEachPage(db, {}, async (page) => {
    for (const row of page) {
      problems.push(...(await checkRow(db, row, prev)));
      prev = row;
      rows++;
    }
  });
  return { ok: problems.length === 0, rows, problems };
}

/** Formats of exportAudit. */
export type AuditExportFormat = 'jsonl' | 'csv';

/** The CSV columns of an export, in order; also the field names of each JSONL object. */
export const AUDIT_EXPORT_COLUMNS = [
  'seq',
  'eventKey',
  'type',
  'actor',
  'requestId',
  'channel',
  'at',
  'details',
  'prevHash',
  'hash',
] as const satisfies readonly (keyof AuditRow)[];

/** One CSV field, quoted when it holds a comma, quote, CR or LF (RFC 4180). */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? canonicalJson(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function formatRow(row: AuditRow, format: AuditExportFormat): string {
  if (format === 'jsonl') return `${JSON.stringify(row)}\n`;
  return `${AUDIT_EXPORT_COLUMNS.map((c) => csvField(row[c])).join(',')}\r\n`;
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Writes the audit chain (rows at or after `since`, in seq order) to `out` as JSON lines or CSV with a
 * header row, a page at a time and respecting back-pressure. Returns the number of rows written.
 */
export async function exportAudit(
  store: Store,
  options: { format: AuditExportFormat; since?: Date; out: NodeJS.WritableStream },
): Promise<number> {
  const { format, since, out } = options;
  if (format !== 'jsonl' && format !== 'csv') throw new AuditExportFormatError(String(format));
  if (format === 'csv') await write(out, `${AUDIT_EXPORT_COLUMNS.join(',')}\r\n`);
  let count = 0;
  await forEachPage(store.knex, { since }, async (rows) => {
    await write(out, rows.map((row) => formatRow(row, format)).join(''));
    count += rows.length;
  });
  return count;
}
