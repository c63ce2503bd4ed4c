/**
 * Temporary-user mode: each grant creates its own user, named after the request, with a random password and the
 * privileges of the permission's template. Revoke locks the user, kills its connections (DROP USER would leave them
 * open) and drops it. Every step may be repeated; the server sets no expiry of its own, revoke is the only end.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessCheck, ExistingAccess, GrantRef, GrantResult, RevokeResult } from '../types';
import type { MysqlIntegrationConfig } from './config';
import {
  type Account,
  DATABASE_PRIVILEGES,
  databasePattern,
  parseTemplate,
  requestIdOf,
  type Template,
  temporaryUserName,
} from './names';
import { count, endConnections, liveConnections } from './session';
import * as sql from './sql';
import type { Db } from './sql';

interface Scope {
  user: string;
  db: string;
  table?: string;
  privileges: Set<string>;
}

export class TemporaryUsers {
  constructor(
    private readonly name: string,
    private readonly config: MysqlIntegrationConfig,
    private readonly log: Logger,
    /** `host:port` for the connection hint. */
    private readonly connectHost: string,
  ) {}

  userOf(ref: GrantRef): Account {
    return { user: temporaryUserName(this.config.userPrefix, ref.requestId), host: this.config.userHost };
  }

  async grant(db: Db, ref: GrantRef, template: Template): Promise<GrantResult> {
    const user = this.userOf(ref);
    const password = randomBytes(24).toString('base64url');
    // A retried grant (the first reply was lost) gets a new password: the one returned last is the one that works.
    const alreadyPresent = (await count(db, sql.ACCOUNT_EXISTS, [user.user, user.host])) > 0;
    await db.run(
      alreadyPresent ? sql.setPassword(db.flavor, user, password) : sql.createUser(db.flavor, user, password),
    );
    await db.run(sql.grantTemplate(template, user));
    const on = `${template.database}.${template.table ?? '*'}`;
    const details = {
      user: user.user,
      host: user.host,
      privileges: template.privileges.join(', '),
      on,
      alreadyPresent,
    };
    this.log.info(
      { requestId: ref.requestId, account: ref.target.account, ...details },
      'created temporary user',
    );
    return {
      details,
      credentials: {
        username: user.user,
        password,
        connectHint: `mysql://${encodeURIComponent(user.user)}@${this.connectHost}/${encodeURIComponent(template.database)}`,
      },
    };
  }

  async revoke(db: Db, ref: GrantRef): Promise<RevokeResult> {
    const user = this.userOf(ref);
    const existed = (await count(db, sql.ACCOUNT_EXISTS, [user.user, user.host])) > 0;
    if (existed) await db.run(sql.lockUser(user));
    // Also when the user is gone: an earlier attempt may have dropped it and failed before its connections ended.
    const sessionsTerminated = await endConnections(db, this.name, user.user);
    await db.run(sql.dropUser(user));
    this.log.info(
      { requestId: ref.requestId, user: user.user, alreadyAbsent: !existed, sessionsTerminated },
      'dropped temporary user',
    );
    return { alreadyAbsent: !existed, sessionsTerminated };
  }

  async check(db: Db, ref: GrantRef): Promise<AccessCheck> {
    const user = this.userOf(ref);
    return {
      exists: (await count(db, sql.ACCOUNT_EXISTS, [user.user, user.host])) > 0,
      liveSessions: await liveConnections(db, user.user),
    };
  }

  /**
   * Every user with the prefix, and the permission whose template its privileges match (`(unknown)` when none
   * does, e.g. after the config changed). Users with hashed names report no request id.
   */
  async listAccess(db: Db): Promise<ExistingAccess[]> {
    const prefix = this.config.userPrefix;
    const params = [prefix.length, prefix];
    const users = await db.rows<{ user: string; host: string }>(sql.USERS_WITH_PREFIX, params);
    const scopes: Scope[] = [];
    for (const row of await db.rows<Record<string, string>>(sql.DB_GRANTS_WITH_PREFIX, params)) {
      const privileges = Object.entries(DATABASE_PRIVILEGES).filter(([, column]) => row[column] === 'Y');
      scopes.push({
        user: row.User!,
        db: row.Db!,
        privileges: new Set(privileges.map(([keyword]) => keyword)),
      });
    }
    const tableRows = await db.rows<{ user: string; db: string; tbl: string; privs: string }>(
      sql.TABLE_GRANTS_WITH_PREFIX,
      params,
    );
    for (const row of tableRows) {
      const privileges = String(row.privs).split(',').filter(Boolean);
      scopes.push({
        user: row.user,
        db: row.db,
        table: row.tbl,
        privileges: new Set(privileges.map((p) => p.toUpperCase())),
      });
    }
    return users.map(({ user }) => ({
      account: user,
      permission: this.permissionOf(scopes.filter((s) => s.user === user)),
      requestId: requestIdOf(prefix, user),
    }));
  }

  private permissionOf(scopes: Scope[]): string {
    let sameScope: string | undefined;
    for (const [permission, { privileges, on }] of Object.entries(this.config.permissions)) {
      if (!privileges || !on) continue;
      const template = parseTemplate(privileges, on);
      const scope = scopes.find((s) =>
        template.table === undefined
          ? s.table === undefined && s.db === databasePattern(template.database)
          : s.table === template.table && s.db === template.database,
      );
      if (!scope) continue;
      const same =
        scope.privileges.size === template.privileges.length &&
        template.privileges.every((p) => scope.privileges.has(p));
      if (same) return permission;
      sameScope ??= permission;
    }
    return sameScope ?? '(unknown)';
  }
}
