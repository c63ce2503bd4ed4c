/**
 * The Store on knex, for SQLite and PostgreSQL alike: the requests index, sent message refs, access
 * holders, cross-process named locks and the audit chain (store/audit.ts).
 *
 * Store calls made inside a withLock/withAccessLock callback join its transaction (found through
 * AsyncLocalStorage, also across stores sharing one knex). SQLite has a single connection, so a call that
 * took a second one would wait for the lock holder forever; joining also makes the callback's writes
 * commit or roll back together.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { SentMessageRef } from '../chat-adapters/types';
import { appendAuditEvent, appendAuditEventOnce, listAuditRows, verifyAuditChain } from './audit';
import type {
  AccessHolderRow,
  AccessHolders,
  StoredCredentials,
  ApiTokenRow,
  AuditEventInput,
  AuditRow,
  AuditVerifyResult,
  RequestFilter,
  NewApiToken,
  RequestRow,
  IntegrationStatusRow,
  SessionRow,
  Store,
  StoredApiToken,
} from './types';

type Db = Knex | Knex.Transaction;
type DbRow = Record<string, unknown>;

/** RequestRow field → requests column; the one place the two namings meet. */
const REQUEST_COLUMNS = {
  id: 'id',
  workflowId: 'workflow_id',
  requester: 'requester',
  flow: 'flow',
  resource: 'resource',
  permission: 'permission',
  integration: 'integration',
  status: 'status',
  reason: 'reason',
  durationMs: 'duration_ms',
  channel: 'channel',
  idempotencyKey: 'idempotency_key',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  grantedAt: 'granted_at',
  expiresAt: 'expires_at',
  decidedBy: 'decided_by',
} as const satisfies Record<keyof RequestRow, string>;

const REQUEST_FIELDS = Object.keys(REQUEST_COLUMNS) as (keyof RequestRow)[];

/** Columns for the fields present in `row`; undefined fields are left out. */
function requestToColumns(row: Partial<RequestRow>): DbRow {
  const out: DbRow = {};
  for (const field of REQUEST_FIELDS) if (row[field] !== undefined) out[REQUEST_COLUMNS[field]] = row[field];
  return out;
}

function requestFromColumns(r: DbRow): RequestRow {
  const row: Record<string, unknown> = {};
  for (const field of REQUEST_FIELDS) {
    const value = r[REQUEST_COLUMNS[field]];
    if (value !== null && value !== undefined) row[field] = value;
  }
  row.durationMs = Number(row.durationMs); // pg returns bigint columns as strings
  return row as unknown as RequestRow;
}

/** A null for every optional field `row` lacks, so an upsert clears what the new row does not have. */
function fullRequestColumns(row: RequestRow): DbRow {
  const out: DbRow = {};
  for (const field of REQUEST_FIELDS) out[REQUEST_COLUMNS[field]] = row[field] ?? null;
  return out;
}

const API_TOKEN_LIST_COLUMNS = [
  'id',
  'email',
  'name',
  'created_by',
  'created_at',
  'last_used_at',
  'revoked_at',
];

/** An api_tokens row as an ApiTokenRow; the hash column, if read, is left out. */
function apiTokenFromColumns(r: DbRow): ApiTokenRow {
  const opt = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
  const row: ApiTokenRow = {
    id: String(r.id),
    email: String(r.email),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
  };
  const name = opt(r.name);
  const lastUsedAt = opt(r.last_used_at);
  const revokedAt = opt(r.revoked_at);
  if (name !== undefined) row.name = name;
  if (lastUsedAt !== undefined) row.lastUsedAt = lastUsedAt;
  if (revokedAt !== undefined) row.revokedAt = revokedAt;
  return row;
}

/** One ORDER BY term: a column, its direction, and whether it holds text other than ISO timestamps. */
type OrderTerm = [column: string, order: 'asc' | 'desc', text?: 'text'];

/**
 * ORDER BY with text in code-point order on both dialects. SQLite compares text byte by byte; PostgreSQL uses the
 * database's collation, often a linguistic one (en_US: `a` < `B` < `b`), so its text terms get COLLATE "C".
 * Timestamp columns are left plain: ISO strings of one format sort alike in every collation, and keep their index.
 */
function orderBy<Q extends Knex.QueryBuilder>(query: Q, dialect: Store['dialect'], terms: OrderTerm[]): Q {
  const collate = dialect === 'postgres' ? ' collate "C"' : '';
  const sql = terms.map(([, order, text]) => `??${text ? collate : ''} ${order}`).join(', ');
  return query.orderByRaw(
    sql,
    terms.map(([column]) => column),
  ) as Q;
}

/** Serialises async callers per key inside one process (sibling lock calls sharing one transaction). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

interface LockContext {
  /** The knex the transaction came from; only stores on it join. */
  knex: Knex;
  trx: Knex.Transaction;
  /** Lock names taken in this transaction by the current async call chain. */
  held: ReadonlySet<string>;
  mutex: KeyedMutex;
}

const lockContext = new AsyncLocalStorage<LockContext>();

/** What a KnexStore needs besides its knex. */
export interface KnexStoreOptions {
  dialect: 'sqlite' | 'postgres';
  migrate: (knex: Knex) => Promise<void>;
  /** Gives the knex back (destroys it unless another store still shares it). */
  release: () => Promise<void>;
  log?: Logger;
}

/** The Store implementation; build it with openStore (store/index.ts). */
export class KnexStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  private closed = false;

  constructor(
    readonly knex: Knex,
    private readonly options: KnexStoreOptions,
  ) {
    this.dialect = options.dialect;
  }

  /** The enclosing lock's context when it belongs to this store's knex and is still open. */
  private context(): LockContext | undefined {
    const ctx = lockContext.getStore();
    return ctx && ctx.knex === this.knex && !ctx.trx.isCompleted() ? ctx : undefined;
  }

  /** The transaction of the enclosing lock, else the pool. */
  private db(): Db {
    return this.context()?.trx ?? this.knex;
  }

  migrate(): Promise<void> {
    return this.options.migrate(this.knex);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.options.release();
  }

  async upsertRequest(row: RequestRow): Promise<void> {
    await this.db()('requests').insert(fullRequestColumns(row)).onConflict('id').merge();
  }

  async insertRequest(
    row: RequestRow,
  ): Promise<{ inserted: true } | { inserted: false; existing: RequestRow }> {
    // A conflicting row can change status between the insert and the read; then the insert is tried again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const added = await this.db()('requests')
        .insert(fullRequestColumns(row))
        .onConflict()
        .ignore()
        .returning('id');
      if (added.length > 0) return { inserted: true };
      const existing = await this.findConflicting(row);
      if (existing) return { inserted: false, existing };
    }
    throw new Error(`request ${row.id} conflicts with a row that keeps changing; try again`);
  }

  private async findConflicting(row: RequestRow): Promise<RequestRow | undefined> {
    const byId = (await this.db()('requests').where('id', row.id).first()) as DbRow | undefined;
    // Ids are random or derived from (requester, key): another person's row under this id is a collision.
    if (byId && byId.requester !== row.requester) throw new Error(`request id ${row.id} is already taken`);
    if (byId) return requestFromColumns(byId);
    const found = (await this.db()('requests')
      .where('requester', row.requester)
      .andWhere((q) => {
        if (row.idempotencyKey !== undefined) q.orWhere('idempotency_key', row.idempotencyKey);
        q.orWhere((p) =>
          p.where({
            flow: row.flow,
            resource: row.resource,
            permission: row.permission,
            status: 'PENDING_APPROVAL',
          }),
        );
      })
      .orderByRaw('case when ?? = ? then 0 else 1 end', ['idempotency_key', row.idempotencyKey ?? null])
      .first()) as DbRow | undefined;
    return found ? requestFromColumns(found) : undefined;
  }

  async deleteRequest(id: string): Promise<void> {
    await this.db()('requests').where('id', id).del();
  }

  async updateRequest(id: string, patch: Partial<RequestRow>): Promise<void> {
    const columns = requestToColumns({
      ...patch,
      id: undefined,
      updatedAt: patch.updatedAt ?? new Date().toISOString(),
    });
    const changed = await this.db()('requests').where('id', id).update(columns);
    // The workflow is the source of truth; a missing index row must not fail (and endlessly retry) an activity.
    if (changed === 0)
      this.options.log?.warn({ requestId: id }, 'updateRequest: no such request in the index');
  }

  async getRequest(id: string): Promise<RequestRow | undefined> {
    const row = (await this.db()('requests').where('id', id).first()) as DbRow | undefined;
    return row ? requestFromColumns(row) : undefined;
  }

  async listRequests(filter: RequestFilter = {}): Promise<RequestRow[]> {
    const query = orderBy(this.filtered(filter).select('*'), this.dialect, [
      ['created_at', 'desc'],
      ['id', 'desc', 'text'],
    ]).limit(filter.limit ?? 100);
    return ((await query) as DbRow[]).map(requestFromColumns);
  }

  async countRequests(filter: Omit<RequestFilter, 'limit'> = {}): Promise<number> {
    const [row] = (await this.filtered(filter).count({ n: '*' })) as { n: number | string }[];
    return Number(row?.n ?? 0);
  }

  private filtered(filter: Omit<RequestFilter, 'limit'>) {
    const query = this.db()('requests');
    if (Array.isArray(filter.status)) query.whereIn('status', filter.status);
    else if (filter.status !== undefined) query.where('status', filter.status);
    if (filter.requester !== undefined) query.where('requester', filter.requester);
    if (filter.flow !== undefined) query.where('flow', filter.flow);
    if (filter.integration !== undefined) query.where('integration', filter.integration);
    return query;
  }

  async saveMessageRef(ref: SentMessageRef): Promise<void> {
    await this.db()('sent_messages')
      .insert({
        request_id: ref.requestId,
        platform: ref.platform,
        audience: ref.audience,
        conversation_id: ref.conversationId,
        message_id: ref.messageId,
        extra: ref.extra === undefined ? null : JSON.stringify(ref.extra),
        created_at: new Date().toISOString(),
      })
      .onConflict(['platform', 'conversation_id', 'message_id'])
      .merge(['request_id', 'audience', 'extra']);
  }

  async getConversation(platform: string, userId: string): Promise<Record<string, unknown> | undefined> {
    const row = (await this.db()('chat_conversations').where({ platform, user_id: userId }).first()) as
      DbRow | undefined;
    return row ? (JSON.parse(String(row.state)) as Record<string, unknown>) : undefined;
  }

  async saveConversation(platform: string, userId: string, state: Record<string, unknown>): Promise<void> {
    await this.db()('chat_conversations')
      .insert({
        platform,
        user_id: userId,
        state: JSON.stringify(state),
        updated_at: new Date().toISOString(),
      })
      .onConflict(['platform', 'user_id'])
      .merge(['state', 'updated_at']);
  }

  async deleteConversation(platform: string, userId: string): Promise<void> {
    await this.db()('chat_conversations').where({ platform, user_id: userId }).delete();
  }

  async getChatReference(platform: string, key: string): Promise<Record<string, unknown> | undefined> {
    const row = (await this.db()('chat_references').where({ platform, ref_key: key }).first()) as
      DbRow | undefined;
    return row ? (JSON.parse(String(row.reference)) as Record<string, unknown>) : undefined;
  }

  async saveChatReference(platform: string, key: string, reference: Record<string, unknown>): Promise<void> {
    await this.db()('chat_references')
      .insert({
        platform,
        ref_key: key,
        reference: JSON.stringify(reference),
        updated_at: new Date().toISOString(),
      })
      .onConflict(['platform', 'ref_key'])
      .merge(['reference', 'updated_at']);
  }

  async listChatReferenceKeys(platform: string, keyPrefix: string): Promise<string[]> {
    const rows = (await this.db()('chat_references')
      .where('platform', platform)
      // substr rather than LIKE: the same on both dialects, and no wildcard in a prefix to escape.
      .andWhereRaw('substr(??, 1, ?) = ?', ['ref_key', keyPrefix.length, keyPrefix])
      .select('ref_key')) as DbRow[];
    return rows.map((r) => String(r.ref_key));
  }

  async getIntegrationStatus(subject: string): Promise<IntegrationStatusRow | undefined> {
    const row = (await this.db()('integration_status').where('subject', subject).first()) as
      DbRow | undefined;
    return row ? integrationStatusRow(row) : undefined;
  }

  async listIntegrationStatus(): Promise<IntegrationStatusRow[]> {
    const rows = (await this.db()('integration_status').select()) as DbRow[];
    return rows.map(integrationStatusRow);
  }

  async putIntegrationStatus(
    subject: string,
    status: Record<string, unknown>,
    at = new Date(),
  ): Promise<void> {
    await this.db()('integration_status')
      .insert({ subject, status: JSON.stringify(status), updated_at: at.toISOString() })
      .onConflict('subject')
      .merge(['status', 'updated_at']);
  }

  async listMessageRefs(requestId: string): Promise<SentMessageRef[]> {
    const rows = (await this.db()('sent_messages').where('request_id', requestId).orderBy('id')) as DbRow[];
    return rows.map((r) => ({
      requestId: String(r.request_id),
      platform: String(r.platform),
      audience: r.audience as SentMessageRef['audience'],
      conversationId: String(r.conversation_id),
      messageId: String(r.message_id),
      ...(typeof r.extra === 'string' ? { extra: JSON.parse(r.extra) as Record<string, unknown> } : {}),
    }));
  }

  async createApiToken(row: NewApiToken): Promise<void> {
    await this.db()('api_tokens').insert({
      id: row.id,
      token_hash: row.tokenHash,
      email: row.email,
      name: row.name ?? null,
      created_by: row.createdBy,
      created_at: row.createdAt,
    });
  }

  async findApiTokenByHash(hash: string): Promise<StoredApiToken | undefined> {
    const row = (await this.db()('api_tokens').where('token_hash', hash).first()) as DbRow | undefined;
    return row ? { ...apiTokenFromColumns(row), tokenHash: String(row.token_hash) } : undefined;
  }

  async listApiTokens(email?: string): Promise<ApiTokenRow[]> {
    // Named columns, not `*`: the hash must not leave the store through a listing.
    const query = orderBy(this.db()('api_tokens').select(API_TOKEN_LIST_COLUMNS), this.dialect, [
      ['created_at', 'desc'],
      ['id', 'desc', 'text'],
    ]);
    const rows = ((await query) as DbRow[]).map(apiTokenFromColumns);
    if (email === undefined) return rows;
    // Case-folded here, not by SQL lower(): SQLite's folds ASCII only, PostgreSQL's follows the database's
    // locale, and emails may hold other letters. Tokens are few.
    const wanted = email.toLowerCase();
    return rows.filter((row) => row.email.toLowerCase() === wanted);
  }

  async revokeApiToken(id: string, at: Date): Promise<boolean> {
    const changed = await this.db()('api_tokens')
      .where('id', id)
      .whereNull('revoked_at')
      .update({ revoked_at: at.toISOString() });
    return changed > 0;
  }

  async touchApiToken(id: string, at: Date): Promise<void> {
    const iso = at.toISOString();
    await this.db()('api_tokens')
      .where('id', id)
      .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', iso))
      .update({ last_used_at: iso });
  }

  async putCredentials(row: StoredCredentials): Promise<void> {
    await this.db()('grant_credentials')
      .insert({
        request_id: row.requestId,
        requester: row.requester,
        sealed: row.sealed,
        created_at: row.createdAt,
        expires_at: row.expiresAt,
      })
      .onConflict('request_id')
      .merge();
  }

  async getCredentials(requestId: string): Promise<StoredCredentials | undefined> {
    const r = (await this.db()('grant_credentials').where('request_id', requestId).first()) as
      DbRow | undefined;
    if (!r) return undefined;
    return {
      requestId: String(r.request_id),
      requester: String(r.requester),
      sealed: String(r.sealed),
      createdAt: String(r.created_at),
      expiresAt: String(r.expires_at),
    };
  }

  async deleteCredentials(requestId: string): Promise<boolean> {
    return (await this.db()('grant_credentials').where('request_id', requestId).delete()) > 0;
  }

  async createSession(row: SessionRow): Promise<void> {
    await this.db()('sessions').insert({
      id_hash: row.idHash,
      email: row.email,
      csrf_token: row.csrfToken,
      auth_time: row.authTime,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
      last_seen_at: row.lastSeenAt ?? null,
    });
  }

  async findSession(idHash: string): Promise<SessionRow | undefined> {
    const r = (await this.db()('sessions').where('id_hash', idHash).first()) as DbRow | undefined;
    if (!r) return undefined;
    return {
      idHash: String(r.id_hash),
      email: String(r.email),
      csrfToken: String(r.csrf_token),
      authTime: String(r.auth_time),
      createdAt: String(r.created_at),
      expiresAt: String(r.expires_at),
      ...(r.last_seen_at ? { lastSeenAt: String(r.last_seen_at) } : {}),
    };
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db()('sessions').where('id_hash', idHash).del();
  }

  async touchSession(idHash: string, at: Date): Promise<void> {
    const iso = at.toISOString();
    await this.db()('sessions')
      .where('id_hash', idHash)
      .andWhere((q) => q.whereNull('last_seen_at').orWhere('last_seen_at', '<', iso))
      .update({ last_seen_at: iso });
  }

  async withLock<T>(name: string, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const outer = this.context();
    if (outer) {
      if (outer.held.has(name)) return fn(outer.trx);
      return outer.mutex.run(name, async () => {
        await this.takeLock(outer.trx, name);
        const held = new Set(outer.held).add(name);
        return lockContext.run({ ...outer, held }, () => fn(outer.trx));
      });
    }
    return this.knex.transaction(async (trx) => {
      await this.takeLock(trx, name);
      const ctx: LockContext = { knex: this.knex, trx, held: new Set([name]), mutex: new KeyedMutex() };
      return lockContext.run(ctx, () => fn(trx));
    });
  }

  /** Takes the named lock until `trx` ends. */
  private async takeLock(trx: Knex.Transaction, name: string): Promise<void> {
    if (this.dialect === 'postgres') {
      await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [name]);
      return;
    }
    // A write as the first statement takes SQLite's one write lock at once (waiting up to busy_timeout);
    // a transaction that read first could fail with SQLITE_BUSY_SNAPSHOT when it later writes.
    await trx('locks')
      .insert({ name, n: 1 })
      .onConflict('name')
      .merge({ n: trx.raw('?? + 1', ['locks.n']) });
  }

  withAccessLock<T>(accessKey: string, fn: (holders: AccessHolders) => Promise<T>): Promise<T> {
    return this.withLock(`access:${accessKey}`, (trx) => fn(accessHolders(trx, this.dialect, accessKey)));
  }

  async listAccessHolders(integration: string): Promise<AccessHolderRow[]> {
    // Access keys are JSON arrays [integration, account, permission] (activities/index.ts accessKey).
    const start = `${JSON.stringify([integration]).slice(0, -1)},`;
    // substr counts characters (code points) on both dialects; a JS length counts UTF-16 units.
    const query = this.db()('access_holders').whereRaw('substr(??, 1, ?) = ?', [
      'access_key',
      [...start].length,
      start,
    ]);
    const rows = (await orderBy(query, this.dialect, [
      ['access_key', 'asc', 'text'],
      ['request_id', 'asc', 'text'],
    ])) as DbRow[];
    return rows.flatMap((r) => {
      const key: unknown = JSON.parse(String(r.access_key));
      if (!Array.isArray(key) || key.length !== 3 || key[0] !== integration) return [];
      const [, account, permission] = key as string[];
      return [
        {
          integration,
          account: String(account),
          permission: String(permission),
          requestId: String(r.request_id),
          expiresAt: String(r.expires_at),
        },
      ];
    });
  }

  appendAudit(event: AuditEventInput): Promise<AuditRow> {
    return this.withLock('audit', (trx) => appendAuditEvent(trx, event));
  }

  appendAuditEvents(events: readonly AuditEventInput[]): Promise<{ row: AuditRow; inserted: boolean }[]> {
    return this.withLock('audit', async (trx) => {
      const out: { row: AuditRow; inserted: boolean }[] = [];
      for (const event of events) out.push(await appendAuditEventOnce(trx, event));
      return out;
    });
  }

  listAudit(options: Parameters<Store['listAudit']>[0] = {}): Promise<AuditRow[]> {
    return listAuditRows(this.db(), options);
  }

  verifyAudit(): Promise<AuditVerifyResult> {
    return verifyAuditChain(this.db());
  }
}

/**
 * The holders of one access key inside a lock's transaction. A holder whose expiry has passed no longer
 * counts: a revoke that failed for one request must not keep the access alive for ever.
 */
function accessHolders(trx: Knex.Transaction, dialect: Store['dialect'], accessKey: string): AccessHolders {
  const table = () => trx('access_holders');
  return {
    async list() {
      const query = table()
        .where('access_key', accessKey)
        .andWhere('expires_at', '>', new Date().toISOString())
        .select('request_id');
      const rows = (await orderBy(query, dialect, [
        ['created_at', 'asc'],
        ['request_id', 'asc', 'text'],
      ])) as DbRow[];
      return rows.map((r) => String(r.request_id));
    },
    async add(requestId, expiresAt) {
      await table()
        .insert({
          access_key: accessKey,
          request_id: requestId,
          expires_at: expiresAt.toISOString(),
          created_at: new Date().toISOString(),
        })
        .onConflict(['access_key', 'request_id'])
        .merge(['expires_at']);
    },
    async remove(requestId) {
      await table().where({ access_key: accessKey, request_id: requestId }).del();
    },
  };
}

function integrationStatusRow(row: DbRow): IntegrationStatusRow {
  return {
    subject: String(row.subject),
    status: JSON.parse(String(row.status)) as Record<string, unknown>,
    updatedAt: String(row.updated_at),
  };
}
