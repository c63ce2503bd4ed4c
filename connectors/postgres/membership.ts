/**
 * PostgreSQL `membership` mode: access is membership of a configured (group) role, granted to and revoked from the
 * person's existing database role; revoking also ends the account's open sessions (a session that ran SET ROLE
 * would otherwise keep the role's rights).
 */
import type { PoolClient } from 'pg';
import type {
  AccessCheck,
  Connector,
  ExistingAccess,
  GrantRef,
  GrantRequest,
  GrantResult,
  HealthResult,
  RevokeRequest,
  RevokeResult,
} from '../types';
import { countSessions, exists, terminateSessions, type PgDatabase } from './db';
import { AccountNotFoundError, RevokeIncompleteError, RoleNotFoundError } from './errors';
import * as sql from './sql';

export class MembershipConnector implements Connector {
  readonly type = 'postgres';
  readonly sharesAccess = true;

  constructor(private readonly pg: PgDatabase) {}

  async grant(request: GrantRequest): Promise<GrantResult> {
    const { account } = request.target;
    const role = this.pg.roleFor(request.target);
    return this.pg.withClient(
      'grant',
      async (client) => {
        if (!(await exists(client, sql.ROLE_EXISTS, account)))
          throw new AccountNotFoundError(this.pg.name, account);
        if (!(await exists(client, sql.ROLE_EXISTS, role))) throw new RoleNotFoundError(this.pg.name, role);
        const alreadyPresent = (await grantors(client, role, account)).length > 0;
        if (!alreadyPresent) await client.query(sql.grantMembership(role, account));
        this.pg.log.info(
          { requestId: request.requestId, account, role, alreadyPresent },
          'granted role membership',
        );
        return { details: { role, account, alreadyPresent } };
      },
      request,
    );
  }

  async revoke(request: RevokeRequest): Promise<RevokeResult> {
    const { account } = request.target;
    const role = this.pg.roleFor(request.target);
    return this.pg.withClient(
      'revoke',
      async (client) => {
        if (!(await exists(client, sql.ROLE_EXISTS, account))) {
          this.pg.log.info(
            { requestId: request.requestId, account, role },
            'account is gone; nothing to revoke',
          );
          return { alreadyAbsent: true, sessionsTerminated: 0 };
        }
        const alreadyAbsent = (await grantors(client, role, account)).length === 0;
        if (!alreadyAbsent) await this.revokeAllGrants(client, role, account);
        // Also when already absent: an earlier attempt may have revoked and failed before terminating.
        const sessionsTerminated = this.pg.config.terminateSessions
          ? await terminateSessions(client, account)
          : 0;
        this.pg.log.info(
          { requestId: request.requestId, account, role, alreadyAbsent, sessionsTerminated },
          'revoked role membership',
        );
        return { alreadyAbsent, sessionsTerminated };
      },
      request,
    );
  }

  private async revokeAllGrants(client: PoolClient, role: string, account: string): Promise<void> {
    await client.query(sql.revokeMembership(role, account));
    for (const grantor of await grantors(client, role, account)) {
      if (grantor !== null) await client.query(sql.revokeMembership(role, account, grantor));
    }
    const left = await grantors(client, role, account);
    if (left.length)
      throw new RevokeIncompleteError(
        this.pg.name,
        role,
        account,
        left.map((g) => g ?? 'unknown'),
      );
  }

  /**
   * The membership, and the account's sessions that started before `sessionsBefore` (those could hold the role
   * through SET ROLE; sessions opened later cannot). Without terminateSessions, sessions are not counted.
   */
  async check(ref: GrantRef, options: { sessionsBefore?: Date } = {}): Promise<AccessCheck> {
    const role = this.pg.roleFor(ref.target);
    return this.pg.withClient(
      'check',
      async (client) => ({
        exists: (await grantors(client, role, ref.target.account)).length > 0,
        liveSessions: this.pg.config.terminateSessions
          ? await countSessions(client, ref.target.account, options.sessionsBefore)
          : 0,
      }),
      ref,
    );
  }

  async listAccess(): Promise<ExistingAccess[]> {
    const permissionsByRole = new Map<string, string[]>();
    for (const [permission, { role }] of Object.entries(this.pg.config.permissions)) {
      permissionsByRole.set(role, [...(permissionsByRole.get(role) ?? []), permission]);
    }
    return this.pg.withClient('listAccess', async (client) => {
      const { rows } = await client.query<{ role: string; account: string }>(sql.MEMBERS_OF_ROLES, [
        [...permissionsByRole.keys()],
      ]);
      return rows.flatMap(({ role, account }) =>
        (permissionsByRole.get(role) ?? []).map((permission) => ({ account, permission })),
      );
    });
  }

  checkHealth(): Promise<HealthResult> {
    return this.pg.health();
  }

  close(): Promise<void> {
    return this.pg.close();
  }
}

/** The grantor of each direct membership (null where the server recorded none, before PostgreSQL 16). */
async function grantors(client: PoolClient, role: string, account: string): Promise<(string | null)[]> {
  const { rows } = await client.query<{ grantor: string | null }>(sql.MEMBERSHIP_GRANTORS, [role, account]);
  return rows.map((row) => row.grantor);
}
