/**
 * The MySQL / MariaDB connector (`type: mysql`). `membership` mode grants a configured role to the person's existing
 * account (shared access); `temporary-user` mode creates a user per grant and hands its password to the requester.
 * Both end the account's connections on revoke, so that no open connection keeps the access.
 */
import { performance } from 'node:perf_hooks';
import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise';
import { healthOf } from '../health';
import type { Logger } from 'pino';
import { logger as defaultLogger, redactUrl } from '../../core/logger';
import { WrongIntegrationError } from '../errors';
import type {
  AccessCheck,
  AccessTarget,
  Connector,
  ExistingAccess,
  GrantRef,
  GrantRequest,
  GrantResult,
  HealthCheck,
  HealthResult,
  RevokeRequest,
  RevokeResult,
} from '../types';
import type { MysqlIntegrationConfig } from './config';
import { UnknownPermissionError, fromMysqlError } from './errors';
import { privilegeChecks } from './health';
import { Membership } from './membership';
import { parseTemplate, type Template } from './names';
import { liveConnections } from './session';
import { Db, type Flavor, VERSION } from './sql';
import { TemporaryUsers } from './temporary-user';

/** A down server must fail fast: activities retry, a hung call helps no one. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Creates the connector of one `type: mysql` integration. Connects on first use, not here. */
export function createMysqlConnector(
  name: string,
  config: MysqlIntegrationConfig,
  deps: { log?: Logger } = {},
): Connector {
  return new MysqlConnector(
    name,
    config,
    (deps.log ?? defaultLogger).child({ integration: name, connector: 'mysql' }),
  );
}

interface Permission {
  role?: string;
  template?: Template;
}

class MysqlConnector implements Connector {
  readonly type = 'mysql';
  readonly sharesAccess: boolean;
  private pool: Pool | undefined;
  private flavor: Flavor | undefined;
  private readonly membership: Membership;
  private readonly temporary: TemporaryUsers;

  constructor(
    private readonly name: string,
    private readonly config: MysqlIntegrationConfig,
    private readonly log: Logger,
  ) {
    this.sharesAccess = config.mode === 'membership';
    this.membership = new Membership(name, config, log);
    this.temporary = new TemporaryUsers(name, config, log, config.connectHost ?? new URL(config.url).host);
  }

  async grant(request: GrantRequest): Promise<GrantResult> {
    const { role, template } = this.permission(request.target);
    return this.withDb(
      'grant',
      (db) =>
        template ? this.temporary.grant(db, request, template) : this.membership.grant(db, request, role!),
      request,
    );
  }

  async revoke(request: RevokeRequest): Promise<RevokeResult> {
    const { role } = this.permission(request.target);
    return this.withDb(
      'revoke',
      (db) => (role ? this.membership.revoke(db, request, role) : this.temporary.revoke(db, request)),
      request,
    );
  }

  async check(ref: GrantRef): Promise<AccessCheck> {
    const { role } = this.permission(ref.target);
    return this.withDb(
      'check',
      (db) => (role ? this.membership.check(db, ref, role) : this.temporary.check(db, ref)),
      ref,
    );
  }

  async listAccess(): Promise<ExistingAccess[]> {
    return this.withDb('listAccess', (db) =>
      this.sharesAccess ? this.membership.listAccess(db) : this.temporary.listAccess(db),
    );
  }

  async checkHealth(): Promise<HealthResult> {
    const started = performance.now();
    const checks: HealthCheck[] = [];
    try {
      await this.withDb('health check', async (db) => {
        const [server] = await db.rows<{ version: string; me: string }>(VERSION);
        checks.push({ name: 'connect', ok: true, message: `${server!.version} as ${server!.me}` });
        await (this.sharesAccess ? this.membership.listAccess(db) : this.temporary.listAccess(db));
        await liveConnections(db, '');
        checks.push({ name: 'read account tables', ok: true });
        checks.push(...(await privilegeChecks(db, this.config, server!.me)));
      });
    } catch (err) {
      const message = fromMysqlError(this.name, 'health check', err).message;
      const stage = ['connect', 'read account tables', 'read privileges'][Math.min(checks.length, 2)]!;
      checks.push({ name: stage, ok: false, message });
    }
    return healthOf(checks, started);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private permission(target: AccessTarget): Permission {
    if (target.integration !== this.name) throw new WrongIntegrationError(this.name, target.integration);
    // Own keys only: a permission named "constructor" or "__proto__" is unknown, not Object's.
    const permission = Object.hasOwn(this.config.permissions, target.permission)
      ? this.config.permissions[target.permission]
      : undefined;
    if (!permission) {
      throw new UnknownPermissionError(this.name, target.permission, Object.keys(this.config.permissions));
    }
    if (this.config.mode === 'membership') return { role: permission.role };
    return { template: parseTemplate(permission.privileges!, permission.on!) };
  }

  /** The pool, opened on first use (`requestId`: the request that first needs it, for the log line). */
  private db(requestId?: string): Pool {
    if (this.pool) return this.pool;
    this.log.debug({ requestId, target: redactUrl(this.config.url) }, 'opening connection pool');
    this.pool = createPool({
      uri: this.config.url,
      connectionLimit: 4,
      connectTimeout: CONNECT_TIMEOUT_MS,
      idleTimeout: 30_000,
      maxIdle: 1,
      enableKeepAlive: true,
      multipleStatements: false,
      supportBigNumbers: true,
      charset: 'UTF8MB4_UNICODE_CI',
    });
    return this.pool;
  }

  private async withDb<T>(
    action: string,
    work: (db: Db) => Promise<T>,
    about: { requestId?: string } = {},
  ): Promise<T> {
    let conn: PoolConnection | undefined;
    try {
      conn = await this.db(about.requestId).getConnection();
      if (!this.flavor) {
        const [rows] = await conn.query<RowDataPacket[]>(VERSION);
        this.flavor = /mariadb/i.test(String(rows[0]?.version ?? '')) ? 'mariadb' : 'mysql';
      }
      return await work(new Db(conn, this.flavor));
    } catch (err) {
      throw fromMysqlError(this.name, action, err);
    } finally {
      conn?.release();
    }
  }
}
