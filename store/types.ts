/**
 * What Grantflow keeps in its own database (SQLite by default, PostgreSQL through DATABASE_URL):
 * the requests index, sent chat messages, access holders and the append-only audit chain.
 */
import type { Knex } from 'knex';
import type { RequestStatus, SentMessageRef } from '../chat-adapters/types';

/** One row of the requests index: the searchable summary of a request's workflow. */
export interface RequestRow {
  id: string;
  workflowId: string;
  requester: string;
  flow: string;
  resource: string;
  permission: string;
  integration: string;
  status: RequestStatus;
  reason: string;
  durationMs: number;
  channel: string;
  idempotencyKey?: string;
  createdAt: string;
  updatedAt: string;
  grantedAt?: string;
  expiresAt?: string;
  decidedBy?: string;
}

export interface RequestFilter {
  status?: RequestStatus | RequestStatus[];
  requester?: string;
  flow?: string;
  integration?: string;
  limit?: number;
}

/** An event to append to the audit chain. */
export interface AuditEventInput {
  /** Unique key: appending the same key twice stores one row (activity retries are safe). */
  eventKey: string;
  type: string;
  actor: string;
  requestId?: string;
  /** Where the action came from: `workflow`, `cli`, `api`, `slack`, `teams`, `config`. */
  channel?: string;
  details?: Record<string, unknown>;
  /** Defaults to now. */
  at?: Date;
}

export interface AuditRow {
  seq: number;
  eventKey: string;
  type: string;
  actor: string;
  requestId: string | null;
  channel: string | null;
  at: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** A grant's sign-in details, sealed (core/keyring.ts), for its requester only. */
export interface StoredCredentials {
  requestId: string;
  requester: string;
  sealed: string;
  createdAt: string;
  expiresAt: string;
}

export interface AuditProblem {
  seq: number;
  eventKey: string;
  problem: 'edited' | 'deleted-before' | 'reordered' | 'broken-link';
  message: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  rows: number;
  problems: AuditProblem[];
}

/**
 * An API token as people see it: who it acts as and when it was used or revoked. Never the token, and
 * never its hash (listing tokens must not hand out anything to attack offline).
 */
export interface ApiTokenRow {
  /** `tok_` + 12 base32 characters; what `tokens revoke` takes. */
  id: string;
  /** The identity the token acts as. */
  email: string;
  name?: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** An API token with its stored hash: only for authenticating, from Store.findApiTokenByHash. */
export interface StoredApiToken extends ApiTokenRow {
  /** SHA-256 hex of the token. */
  tokenHash: string;
}

/** What Store.createApiToken stores: the token's hash, never the token. */
export interface NewApiToken {
  id: string;
  tokenHash: string;
  email: string;
  name?: string;
  createdBy: string;
  createdAt: string;
}

/** A browser login session (portal); looked up by the SHA-256 of its cookie value. */
export interface SessionRow {
  /** SHA-256 hex of the cookie value. */
  idHash: string;
  email: string;
  csrfToken: string;
  /** ISO time the person authenticated at the identity provider. */
  authTime: string;
  createdAt: string;
  expiresAt: string;
  lastSeenAt?: string;
}

/** The last thing Grantflow learned about one integration: a connector's health check, Teams' last activity. */
export interface IntegrationStatusRow {
  subject: string;
  status: Record<string, unknown>;
  updatedAt: string;
}

/** One access_holders row, read outside a lock (drift checks). */
export interface AccessHolderRow {
  integration: string;
  account: string;
  permission: string;
  requestId: string;
  expiresAt: string;
}

/** Holders of one piece of access, used inside Store.withAccessLock. */
export interface AccessHolders {
  /** Request ids holding the access now. */
  list(): Promise<string[]>;
  add(requestId: string, expiresAt: Date): Promise<void>;
  remove(requestId: string): Promise<void>;
}

export interface Store {
  readonly knex: Knex;
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  upsertRequest(row: RequestRow): Promise<void>;
  /**
   * Inserts a new request unless one exists with the same idempotency key, or a request from the same
   * person for the same flow, resource and permission is still PENDING_APPROVAL (a unique partial index
   * makes this race-free); then returns that one instead.
   */
  insertRequest(row: RequestRow): Promise<{ inserted: true } | { inserted: false; existing: RequestRow }>;
  /** Removes a request row whose workflow could not be started. */
  deleteRequest(id: string): Promise<void>;
  updateRequest(id: string, patch: Partial<RequestRow>): Promise<void>;
  getRequest(id: string): Promise<RequestRow | undefined>;
  listRequests(filter?: RequestFilter): Promise<RequestRow[]>;
  /** How many requests match, without reading them. */
  countRequests(filter?: Omit<RequestFilter, 'limit'>): Promise<number>;

  saveMessageRef(ref: SentMessageRef): Promise<void>;
  /** The state of a person's chat conversation in progress (e.g. a step-by-step request by DM). */
  getConversation(platform: string, userId: string): Promise<Record<string, unknown> | undefined>;
  saveConversation(platform: string, userId: string, state: Record<string, unknown>): Promise<void>;
  deleteConversation(platform: string, userId: string): Promise<void>;
  /** A stored conversation reference (Teams), by `user:<id>` or `channel:<id>`. */
  getChatReference(platform: string, key: string): Promise<Record<string, unknown> | undefined>;
  saveChatReference(platform: string, key: string, reference: Record<string, unknown>): Promise<void>;
  listMessageRefs(requestId: string): Promise<SentMessageRef[]>;
  /** The keys of a platform's stored references that start with `keyPrefix` (e.g. `user:`, `channel:`). */
  listChatReferenceKeys(platform: string, keyPrefix: string): Promise<string[]>;

  /** What Grantflow last learned about an integration (`connector:<name>`, `teams`). */
  getIntegrationStatus(subject: string): Promise<IntegrationStatusRow | undefined>;
  listIntegrationStatus(): Promise<IntegrationStatusRow[]>;
  /** Replaces a subject's status (one row per subject). */
  putIntegrationStatus(subject: string, status: Record<string, unknown>, at?: Date): Promise<void>;

  /**
   * Runs `fn` while holding an exclusive lock named `name`, across processes
   * (PostgreSQL advisory lock; SQLite's single writer). `fn` gets the transaction.
   */
  withLock<T>(name: string, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /** Runs `fn` under the lock of one piece of access, with its holders. */
  withAccessLock<T>(accessKey: string, fn: (holders: AccessHolders) => Promise<T>): Promise<T>;
  /** Every holder row of shared access in one integration, expired ones included (drift checks). */
  listAccessHolders(integration: string): Promise<AccessHolderRow[]>;

  appendAudit(event: AuditEventInput): Promise<AuditRow>;
  /**
   * Appends several events in order, under one lock and in one transaction; an event whose key is already there
   * is left as it is (`inserted: false`).
   */
  appendAuditEvents(events: readonly AuditEventInput[]): Promise<{ row: AuditRow; inserted: boolean }[]>;
  /**
   * Audit rows in chain order. `type` filters by event type; `last: n` returns the n most recent rows
   * (still in chain order).
   */
  listAudit(options?: {
    requestId?: string;
    type?: string;
    actor?: string;
    since?: Date;
    limit?: number;
    last?: number;
  }): Promise<AuditRow[]>;
  verifyAudit(): Promise<AuditVerifyResult>;

  /** Keeps a grant's sealed sign-in for its requester (replacing an earlier attempt's). */
  putCredentials(row: StoredCredentials): Promise<void>;
  getCredentials(requestId: string): Promise<StoredCredentials | undefined>;
  /** Forgets a grant's sign-in (at revoke); true when there was one. */
  deleteCredentials(requestId: string): Promise<boolean>;

  /** Stores a new API token (its hash only). */
  createApiToken(row: NewApiToken): Promise<void>;
  /** The token whose SHA-256 hex is `hash`, revoked or not, with its hash. */
  findApiTokenByHash(hash: string): Promise<StoredApiToken | undefined>;
  /** Tokens, newest first; of one identity when `email` is given. Never includes hashes. */
  listApiTokens(email?: string): Promise<ApiTokenRow[]>;
  /** Marks a token revoked at `at`; false when there is no such token or it was revoked already. */
  revokeApiToken(id: string, at: Date): Promise<boolean>;
  /** Records that a token was used at `at` (never moves last_used_at backwards). */
  touchApiToken(id: string, at: Date): Promise<void>;

  /** Stores a new login session (the hash of its cookie value only). */
  createSession(row: SessionRow): Promise<void>;
  /** The session whose cookie hashes to `idHash`, expired or not. */
  findSession(idHash: string): Promise<SessionRow | undefined>;
  /** Ends a session (logout); deleting a missing one is fine. */
  deleteSession(idHash: string): Promise<void>;
  /** Records that a session was used at `at` (never moves last_seen_at backwards). */
  touchSession(idHash: string, at: Date): Promise<void>;
}
