/**
 * Membership mode: grant and revoke a configured role to the person's existing account. The role is made the
 * account's default role so that new connections have it; revoking also ends the account's connections, because a
 * connection keeps the role it activated even after REVOKE.
 */
import type { Logger } from 'pino';
import type { AccessCheck, ExistingAccess, GrantRef, GrantResult, RevokeResult } from '../types';
import type { MysqlIntegrationConfig } from './config';
import { AccountNotFoundError, InvalidNameError, RevokeIncompleteError, RoleNotFoundError } from './errors';
import { type Account, formatAccount, MAX_HOST, MAX_USER, nameProblem, splitAccount } from './names';
import { count, endConnections, liveConnections } from './session';
import * as sql from './sql';
import type { Db } from './sql';

export class Membership {
  constructor(
    private readonly name: string,
    private readonly config: MysqlIntegrationConfig,
    private readonly log: Logger,
  ) {}

  /** The person's account, refused when no server could hold such a name. */
  account(raw: string): Account {
    const acct = splitAccount(raw, this.config.defaultHost);
    const problem =
      nameProblem(acct.user, 'the account user name', MAX_USER) ??
      nameProblem(acct.host, 'the account host', MAX_HOST);
    if (problem)
      throw new InvalidNameError(this.name, `${problem} (account ${JSON.stringify(raw.slice(0, 100))})`);
    return acct;
  }

  async grant(db: Db, ref: GrantRef, role: string): Promise<GrantResult> {
    const acct = this.account(ref.target.account);
    if (!(await count(db, sql.ACCOUNT_EXISTS, [acct.user, acct.host])))
      throw new AccountNotFoundError(this.name, ref.target.account);
    if (!(await count(db, sql.ROLE_EXISTS[db.flavor], [role]))) throw new RoleNotFoundError(this.name, role);
    const alreadyPresent = await this.granted(db, role, acct);
    if (!alreadyPresent) await db.run(sql.grantRole(role, acct));
    const details: GrantResult['details'] = {
      role,
      account: formatAccount(acct, this.config.defaultHost),
      alreadyPresent,
    };
    if (this.config.defaultRole) {
      const previous = await this.defaultRole(db, acct);
      if (db.flavor === 'mysql' || previous !== role) await db.run(sql.setDefaultRole(db.flavor, role, acct));
      if (previous && previous !== role) details.replacedDefaultRole = previous;
    }
    this.log.info({ requestId: ref.requestId, ...details }, 'granted role');
    return { details };
  }

  async revoke(db: Db, ref: GrantRef, role: string): Promise<RevokeResult> {
    const acct = this.account(ref.target.account);
    const accountExists = (await count(db, sql.ACCOUNT_EXISTS, [acct.user, acct.host])) > 0;
    const wasGranted = accountExists && (await this.granted(db, role, acct));
    if (wasGranted) await db.run(sql.revokeRole(role, acct));
    // Also when already absent: an earlier attempt may have revoked and failed before the rest.
    if (accountExists && this.config.defaultRole) await this.resetDefaultRole(db, role, acct);
    const sessionsTerminated = this.config.terminateSessions
      ? await endConnections(db, this.name, acct.user)
      : 0;
    if (accountExists && (await this.granted(db, role, acct)))
      throw new RevokeIncompleteError(this.name, `the role ${JSON.stringify(role)} is still granted`);
    this.log.info(
      {
        requestId: ref.requestId,
        role,
        account: ref.target.account,
        alreadyAbsent: !wasGranted,
        sessionsTerminated,
      },
      'revoked role',
    );
    return { alreadyAbsent: !wasGranted, sessionsTerminated };
  }

  /** Whether the role is granted, and the account's connections (which may hold it active). */
  async check(db: Db, ref: GrantRef, role: string): Promise<AccessCheck> {
    const acct = this.account(ref.target.account);
    return { exists: await this.granted(db, role, acct), liveSessions: await liveConnections(db, acct.user) };
  }

  async listAccess(db: Db): Promise<ExistingAccess[]> {
    const permissionsByRole = new Map<string, string[]>();
    for (const [permission, { role }] of Object.entries(this.config.permissions)) {
      if (role) permissionsByRole.set(role, [...(permissionsByRole.get(role) ?? []), permission]);
    }
    const rows = await db.rows<{ role: string; user: string; host: string }>(sql.ROLE_MEMBERS[db.flavor]);
    return rows.flatMap(({ role, user, host }) =>
      (permissionsByRole.get(role) ?? []).map((permission) => ({
        account: formatAccount({ user, host }, this.config.defaultHost),
        permission,
      })),
    );
  }

  private async granted(db: Db, role: string, acct: Account): Promise<boolean> {
    return (await count(db, sql.ROLE_GRANTED[db.flavor], [role, acct.user, acct.host])) > 0;
  }

  /** MariaDB's default role of the account; undefined on MySQL, whose default roles are a set. */
  private async defaultRole(db: Db, acct: Account): Promise<string | undefined> {
    if (db.flavor === 'mysql') return undefined;
    const [row] = await db.rows<{ role: string | null }>(sql.DEFAULT_ROLE, [acct.user, acct.host]);
    return row?.role || undefined;
  }

  /**
   * MariaDB keeps a revoked default role as the default (it comes back if granted again), so it is replaced by
   * another configured role the account still holds, or NONE. MySQL recomputes its set of default roles.
   */
  private async resetDefaultRole(db: Db, revoked: string, acct: Account): Promise<void> {
    if (db.flavor === 'mysql') return db.run(sql.setDefaultRole('mysql', undefined, acct));
    if ((await this.defaultRole(db, acct)) !== revoked) return;
    let next: string | undefined;
    for (const { role } of Object.values(this.config.permissions)) {
      if (role && role !== revoked && (await this.granted(db, role, acct))) {
        next = role;
        break;
      }
    }
    await db.run(sql.setDefaultRole('mariadb', next, acct));
  }
}
