/**
 * What both PostgreSQL modes share: the connection pool of Grantflow's own account, one-client-per-action with
 * errors mapped to connector errors, the health check, and ending an account's sessions.
 */
import { performance } from 'node:perf_hooks';
import { Pool, type PoolClient } from 'pg';
import { healthOf } from '../health';
import type { Logger } from 'pino';
import { redactUrl } from '../../core/logger';
import { WrongIntegrationError } from '../errors';
import type { AccessTarget, HealthCheck, HealthResult } from '../types';
import type { PostgresIntegrationConfig } from './config';
import { UnknownPermissionError, fromPgError } from './errors';
import * as sql from './sql';

/** A down database must fail fast: activities retry, a hung call helps no one. */
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 20_000;
/** How long revoke waits for terminated backends to be gone before it reports. */
const TERMINATE_WAIT_MS = 3_000;

export class PgDatabase {
  private pool: Pool | undefined;

  constructor(
    readonly name: string,
    readonly config: PostgresIntegrationConfig,
    readonly log: Logger,
  ) {}

  /** The role that carries a permission; throws for another integration or an unknown permission. */
  roleFor(target: AccessTarget): string {
    if (target.integration !== this.name) throw new WrongIntegrationError(this.name, target.integration);
    const permission = this.config.permissions[target.permission];
    if (!permission) {
      throw new UnknownPermissionError(this.name, target.permission, Object.keys(this.config.permissions));
    }
    return permission.role;
  }

  /** Connectivity, the configured roles, and the privileges the mode needs (CREATEROLE for temporary users). */
  async health(): Promise<HealthResult> {
    const started = performance.now();
    const checks: HealthCheck[] = [];
    try {
      await this.withClient('health check', async (client) => {
        const { rows } = await client.query<{ createrole: boolean; superuser: boolean }>(sql.OWN_PRIVILEGES);
        checks.push({ name: 'connect', ok: true });
        for (const role of new Set(Object.values(this.config.permissions).map((p) => p.role))) {
          const found = await exists(client, sql.ROLE_EXISTS, role);
          checks.push({ name: `role ${role}`, ok: found, message: found ? undefined : 'does not exist' });
        }
        const own = rows[0];
        const mayManage = Boolean(own?.createrole || own?.superuser);
        checks.push({
          name: 'CREATEROLE',
          ok: mayManage,
          message: mayManage ? undefined : "Grantflow's account needs CREATEROLE to grant and revoke roles",
        });
      });
    } catch (err) {
      checks.push({ name: 'connect', ok: false, message: (err as Error).message });
    }
    return healthOf(checks, started);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /** The pool, opened on first use (`requestId`: the request that first needs it, for the log line). */
  private db(requestId?: string): Pool {
    if (this.pool) return this.pool;
    this.log.debug({ requestId, target: redactUrl(this.config.url) }, 'opening connection pool');
    const pool = new Pool({
      connectionString: this.config.url,
      max: 4,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
      application_name: 'grantflow',
    });
    // An idle connection that the server drops emits here; unhandled, it would crash the process.
    pool.on('error', (err) => this.log.warn({ err: err.message }, 'idle database connection failed'));
    this.pool = pool;
    return pool;
  }

  /** One pooled client for `work`; `about.requestId` (the request it acts for) goes on every line it logs. */
  async withClient<T>(
    action: string,
    work: (client: PoolClient) => Promise<T>,
    about: { requestId?: string } = {},
  ): Promise<T> {
    let client: PoolClient | undefined;
    let failed: unknown;
    // pg-pool listens for a checked-out client's errors no longer: a connection lost mid-call would emit an
    // unhandled 'error' and end the process. Keep it here; the query in flight rejects on its own.
    const onError = (err: Error) => {
      failed ??= err;
      this.log.warn(
        { requestId: about.requestId, action, err: err.message },
        'database connection lost during a call',
      );
    };
    try {
      client = await this.db(about.requestId).connect();
      client.on('error', onError);
      return await work(client);
    } catch (err) {
      failed ??= err;
      throw fromPgError(this.name, action, err);
    } finally {
      client?.off('error', onError);
      // A connection that saw a network or server error is dropped rather than reused.
      client?.release(failed instanceof Error && !('retryable' in failed) ? failed : undefined);
    }
  }
}

export async function exists(client: PoolClient, query: string, value: string): Promise<boolean> {
  return ((await client.query(query, [value])).rowCount ?? 0) > 0;
}

/** Ends the account's sessions and waits (briefly) until they are gone, so access is over when revoke returns. */
export async function terminateSessions(client: PoolClient, account: string): Promise<number> {
  const { rows } = await client.query<{ pid: number; terminated: boolean }>(sql.TERMINATE_SESSIONS, [
    account,
  ]);
  const pids = rows.filter((row) => row.terminated).map((row) => row.pid);
  for (const end = Date.now() + TERMINATE_WAIT_MS; pids.length > 0 && Date.now() < end;) {
    const { rows: live } = await client.query<{ n: number }>(sql.COUNT_LIVE_BACKENDS, [pids]);
    if ((live[0]?.n ?? 0) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return pids.length;
}

/** Sessions of the account now, or only those that started before `before`. */
export async function countSessions(client: PoolClient, account: string, before?: Date): Promise<number> {
  const { rows } = await client.query<{ n: number }>(sql.COUNT_SESSIONS, [account, before ?? null]);
  return rows[0]?.n ?? 0;
}
