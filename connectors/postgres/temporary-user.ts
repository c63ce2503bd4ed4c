/**
 * PostgreSQL `temporary-user` mode: each grant is a login role of its own, named after the request, member of the
 * permission's role, with a strong random password sent as a SCRAM verifier and VALID UNTIL as a backstop. The
 * password goes back to the activity (which hands it to the requester alone), never to a log.
 * Revoke: NOLOGIN, end its sessions, hand over and drop what it owns, drop the role — each step safe to repeat.
 */
import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type {
  AccessCheck,
  AccessTarget,
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
import { RoleNotFoundError } from './errors';
import { newPassword, scramVerifier } from './scram';
import * as sql from './sql';

/** PostgreSQL truncates identifiers beyond 63 bytes (NAMEDATALEN - 1). */
const MAX_NAME_BYTES = 63;

/**
 * The user of one grant: `<prefix><account>_<request>`, lowercase, only [a-z0-9_], within 63 bytes. The request
 * part is kept whole (it makes the name unique); the account part is cut to fit, with a hash if it had to change.
 */
export function temporaryUserName(prefix: string, target: AccessTarget, requestId: string): string {
  const request = requestId
    .toLowerCase()
    .replace(/^req_/, '')
    .replace(/[^a-z0-9]/g, '');
  const cleaned = target.account.toLowerCase().replace(/[^a-z0-9]/g, '');
  const room = MAX_NAME_BYTES - prefix.length - request.length - 1;
  let account = cleaned.slice(0, Math.max(0, room));
  if (account !== target.account.toLowerCase() && room >= 8) {
    // Two accounts that clean up to the same text still get different names.
    const tag = createHash('sha256').update(target.account).digest('hex').slice(0, 6);
    account = `${cleaned.slice(0, room - 7)}${tag}`;
  }
  return `${prefix}${account}_${request}`.slice(0, MAX_NAME_BYTES);
}

export class TemporaryUserConnector implements Connector {
  readonly type = 'postgres';
  readonly sharesAccess = false;

  constructor(private readonly pg: PgDatabase) {}

  private userOf(ref: GrantRef): string {
    return temporaryUserName(this.pg.config.userPrefix, ref.target, ref.requestId);
  }

  async grant(request: GrantRequest): Promise<GrantResult> {
    const role = this.pg.roleFor(request.target);
    const user = this.userOf(request);
    const validUntil = request.latestEnd ?? request.expiresAt;
    const password = newPassword();
    const verifier = scramVerifier(password);
    return this.pg.withClient(
      'grant',
      async (client) => {
        if (!(await exists(client, sql.ROLE_EXISTS, role))) throw new RoleNotFoundError(this.pg.name, role);
        // A retried grant finds the user an earlier attempt made: it gets a fresh password (that attempt's is lost).
        const retried = await exists(client, sql.ROLE_EXISTS, user);
        await client.query('begin');
        try {
          if (retried) {
            await client.query(sql.resetTemporaryUser(user, verifier, validUntil));
            await client.query(sql.grantMembership(role, user));
          } else {
            await client.query(sql.createTemporaryUser(user, role, verifier, validUntil));
          }
          await client.query('commit');
        } catch (err) {
          await client.query('rollback').catch(() => undefined);
          throw err;
        }
        this.pg.log.info({ requestId: request.requestId, user, role, retried }, 'created temporary user');
        return {
          details: { user, role, validUntil: validUntil.toISOString() },
          credentials: { username: user, password, connectHint: this.connectHint(user) },
        };
      },
      request,
    );
  }

  async revoke(request: RevokeRequest): Promise<RevokeResult> {
    const user = this.userOf(request);
    this.pg.roleFor(request.target);
    return this.pg.withClient(
      'revoke',
      async (client) => {
        if (!(await exists(client, sql.ROLE_EXISTS, user))) {
          this.pg.log.info({ requestId: request.requestId, user }, 'temporary user already dropped');
          return { alreadyAbsent: true, sessionsTerminated: 0 };
        }
        await client.query(sql.blockLogin(user));
        const sessionsTerminated = await terminateSessions(client, user);
        await dropUser(client, user);
        this.pg.log.info(
          { requestId: request.requestId, user, sessionsTerminated },
          'dropped temporary user',
        );
        return { alreadyAbsent: false, sessionsTerminated };
      },
      request,
    );
  }

  async check(ref: GrantRef): Promise<AccessCheck> {
    const user = this.userOf(ref);
    return this.pg.withClient(
      'check',
      async (client) => ({
        exists: await exists(client, sql.ROLE_EXISTS, user),
        liveSessions: await countSessions(client, user),
      }),
      ref,
    );
  }

  /** Grantflow's temporary users, with the request each belongs to and the permissions its roles carry. */
  async listAccess(): Promise<ExistingAccess[]> {
    const permissionsByRole = new Map<string, string[]>();
    for (const [permission, { role }] of Object.entries(this.pg.config.permissions))
      permissionsByRole.set(role, [...(permissionsByRole.get(role) ?? []), permission]);
    const pattern = `${this.pg.config.userPrefix.replace(/_/g, '\\_')}%`;
    return this.pg.withClient('listAccess', async (client) => {
      const { rows } = await client.query<{ username: string; role: string | null }>(sql.TEMPORARY_USERS, [
        pattern,
      ]);
      return rows.flatMap(({ username, role }) =>
        (role ? (permissionsByRole.get(role) ?? []) : []).map((permission) => ({
          account: username,
          permission,
          requestId: `req_${username.slice(username.lastIndexOf('_') + 1)}`,
        })),
      );
    });
  }

  checkHealth(): Promise<HealthResult> {
    return this.pg.health();
  }

  close(): Promise<void> {
    return this.pg.close();
  }

  /** `postgres://user@host:port/db`, without any password, for the requester's client. */
  private connectHint(user: string): string {
    const url = new URL(this.pg.config.url);
    const host = this.pg.config.connectHost ?? url.host;
    return `postgres://${encodeURIComponent(user)}@${host}${url.pathname}`;
  }
}

/** Hands over and drops what the user owns (in this database), then drops it. */
async function dropUser(client: PoolClient, user: string): Promise<void> {
  for (const statement of sql.dropOwned(user)) await client.query(statement);
  await client.query(sql.dropRole(user));
}
