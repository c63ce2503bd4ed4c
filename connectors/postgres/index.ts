/**
 * The PostgreSQL connector, membership mode: access is membership of a configured (group) role, granted to and
 * revoked from the person's existing database role; revoking also ends the account's open sessions.
 */
import { performance } from 'node:perf_hooks';
import { Pool, type PoolClient } from 'pg';
import type { Logger } from 'pino';
import { logger as defaultLogger, redactUrl } from '../../core/logger';
import { WrongIntegrationError } from '../errors';
import type {
  AccessTarget,
  Connector,
  ExistingAccess,
  GrantRequest,
  GrantResult,
  HealthResult,
  RevokeRequest,
  RevokeResult,
} from '../types';
import type { PostgresIntegrationConfig } from './config';
import {
  AccountNotFoundError,
  RevokeIncompleteError,
  RoleNotFoundError,
  UnknownPermissionError,
  fromPgError,
} from './errors';
import * as sql from './sql';

/** A down database must fail fast: activities retry, a hung call helps no one. */
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 20_000;
/** How long revoke waits for terminated backends to be gone before it reports. */
const TERMINATE_WAIT_MS = 3_000;

/** Creates the connector of one `type: postgres` integration. Connects on first use, not here. */
export function createPostgresConnector(
  name: string,
  config: PostgresIntegrationConfig,
  deps: { log?: Logger } = {},
): Connector {
  return new PostgresConnector(
    name,
    config,
    (deps.log ?? defaultLogger).child({ integration: name, connector: 'postgres' }),
  );
}

class PostgresConnector implements Connector {
  readonly type = 'postgres';
  private pool: Pool | undefined;

  constructor(
    private readonly name: string,
    private readonly config: PostgresIntegrationConfig,
    private readonly log: Logger,
  ) {}

  async grant(request: GrantRequest): Promise<GrantResult> {
    const { account } = request.target;
    const role = this.roleFor(request.target);
    return this.withClient('grant', async (client) => {
      if (!(await exists(client, sql.ROLE_EXISTS, account)))
        throw new AccountNotFoundError(this.name, account);
      if (!(await exists(client, sql.ROLE_EXISTS, role))) throw new RoleNotFoundError(this.name, role);
      const alreadyPresent = (await grantors(client, role, account)).length > 0;
      if (!alreadyPresent) await client.query(sql.grantMembership(role, account));
      this.log.info(
        { requestId: request.requestId, account, role, alreadyPresent },
        'granted role membership',
      );
      return { details: { role, account, alreadyPresent } };
    });
  }

  async revoke(request: RevokeRequest): Promise<RevokeResult> {
    const { account } = request.target;
    const role = this.roleFor(request.target);
    return this.withClient('revoke', async (client) => {
      if (!(await exists(client, sql.ROLE_EXISTS, account))) {
        this.log.info({ requestId: request.requestId, account, role }, 'account is gone; nothing to revoke');
        return { alreadyAbsent: true, sessionsTerminated: 0 };
      }
      const alreadyAbsent = (await grantors(client, role, account)).length === 0;
      if (!alreadyAbsent) await this.revokeAllGrants(client, role, account);
      // Also when already absent: an earlier attempt may have revoked and failed before terminating.
      const sessionsTerminated = this.config.terminateSessions ? await terminateSessions(client, account) : 0;
      this.log.info(
        { requestId: request.requestId, account, role, alreadyAbsent, sessionsTerminated },
        'revoked role membership',
      );
      return { alreadyAbsent, sessionsTerminated };
    });
  }

  private async revokeAllGrants(client: PoolClient, role: string, account: string): Promise<void> {
    await client.query(sql.revokeMembership(role, account));
    for (const grantor of await grantors(client, role, account)) {
      if (grantor !== null) await client.query(sql.revokeMembership(role, account, grantor));
    }
    const left = await grantors(client, role, account);
    if (left.length)
      throw new RevokeIncompleteError(
        this.name,
        role,
        account,
        left.map((g) => g ?? 'unknown'),
      );
  }

  async listAccess(): Promise<ExistingAccess[]> {
    const permissionsByRole = new Map<string, string[]>();
    for (const [permission, { role }] of Object.entries(this.config.permissions)) {
      permissionsByRole.set(role, [...(permissionsByRole.get(role) ?? []), permission]);
    }
    return this.withClient('listAccess', async (client) => {
      const { rows } = await client.query<{ role: string; account: string }>(sql.MEMBERS_OF_ROLES, [
        [...permissionsByRole.keys()],
      ]);
      return rows.flatMap(({ role, account }) =>
        (permissionsByRole.get(role) ?? []).map((permission) => ({ account, permission })),
      );
    });
  }

  async hasAccess(target: AccessTarget): Promise<boolean> {
    const role = this.roleFor(target);
    return this.withClient(
      'hasAccess',
      async (client) => (await grantors(client, role, target.account)).length > 0,
    );
  }

  async checkHealth(): Promise<HealthResult> {
    const started = performance.now();
    try {
      await this.db().query('select 1');
      return { ok: true, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      const message = fromPgError(this.name, 'health check', err).message;
      return { ok: false, message, latencyMs: Math.round(performance.now() - started) };
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private roleFor(target: AccessTarget): string {
    if (target.integration !== this.name) throw new WrongIntegrationError(this.name, target.integration);
    const permission = this.config.permissions[target.permission];
    if (!permission) {
      throw new UnknownPermissionError(this.name, target.permission, Object.keys(this.config.permissions));
    }
    return permission.role;
  }

  private db(): Pool {
    if (this.pool) return this.pool;
    this.log.debug({ target: redactUrl(this.config.url) }, 'opening connection pool');
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

  private async withClient<T>(action: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient | undefined;
    let failed: unknown;
    try {
      client = await this.db().connect();
      return await work(client);
    } catch (err) {
      failed = err;
      throw fromPgError(this.name, action, err);
    } finally {
      // A connection that saw a network or server error is dropped rather than reused.
      client?.release(failed instanceof Error && !('retryable' in failed) ? failed : undefined);
    }
  }
}

async function exists(client: PoolClient, query: string, value: string): Promise<boolean> {
  return ((await client.query(query, [value])).rowCount ?? 0) > 0;
}

/** The grantor of each direct membership (null where the server recorded none, before PostgreSQL 16). */
async function grantors(client: PoolClient, role: string, account: string): Promise<(string | null)[]> {
  const { rows } = await client.query<{ grantor: string | null }>(sql.MEMBERSHIP_GRANTORS, [role, account]);
  return rows.map((row) => row.grantor);
}

/** Ends the account's sessions and waits (briefly) until they are gone, so access is over when revoke returns. */
async function terminateSessions(client: PoolClient, account: string): Promise<number> {
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
