/**
 * The SQL of the PostgreSQL connector. Values go as parameters; GRANT and REVOKE take none, so their role names
 * are quoted with pg's escapeIdentifier.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';

export const ROLE_EXISTS = 'select 1 from pg_roles where rolname = $1';

/**
 * Who granted each direct membership of the account in the role. Since PostgreSQL 16 one membership can be granted
 * several times by different grantors, and REVOKE removes only the current user's grant, so revoke looks at all.
 */
export const MEMBERSHIP_GRANTORS = `
  select g.rolname as grantor
  from pg_auth_members am
  join pg_roles r on r.oid = am.roleid
  join pg_roles m on m.oid = am.member
  left join pg_roles g on g.oid = am.grantor
  where r.rolname = $1 and m.rolname = $2`;

/** Direct members of any of the roles, but not Grantflow's own account (it holds them to grant them). */
export const MEMBERS_OF_ROLES = `
  select distinct r.rolname as role, m.rolname as account
  from pg_auth_members am
  join pg_roles r on r.oid = am.roleid
  join pg_roles m on m.oid = am.member
  where r.rolname = any($1::text[]) and m.rolname <> current_user
  order by 1, 2`;

/** Signals every backend of the account except this one; pg_terminate_backend only sends the signal. */
export const TERMINATE_SESSIONS = `
  select pid, pg_terminate_backend(pid) as terminated
  from pg_stat_activity
  where usename = $1 and pid <> pg_backend_pid()`;

/** Sessions of a role, optionally only those that started before a time ($2 null: all). */
export const COUNT_SESSIONS = `
  select count(*)::int as n from pg_stat_activity
  where usename = $1 and pid <> pg_backend_pid() and ($2::timestamptz is null or backend_start < $2)`;

/** What Grantflow's own account may do. */
export const OWN_PRIVILEGES =
  'select rolcreaterole as createrole, rolsuper as superuser from pg_roles where rolname = current_user';

/** Login roles made by Grantflow for grants: their names start with the prefix ($1, a LIKE pattern). */
export const TEMPORARY_USERS = `
  select r.rolname as username, g.rolname as role
  from pg_roles r
  left join pg_auth_members am on am.member = r.oid
  left join pg_roles g on g.oid = am.roleid
  where r.rolname like $1 escape '\\'
  order by 1, 2`;

export const COUNT_LIVE_BACKENDS =
  'select count(*)::int as n from pg_stat_activity where pid = any($1::int[])';

export function grantMembership(role: string, account: string): string {
  return `grant ${escapeIdentifier(role)} to ${escapeIdentifier(account)}`;
}

export function revokeMembership(role: string, account: string, grantor?: string): string {
  const by = grantor ? ` granted by ${escapeIdentifier(grantor)}` : '';
  return `revoke ${escapeIdentifier(role)} from ${escapeIdentifier(account)}${by}`;
}

/**
 * A login role for one grant, member of the permission's role, with a SCRAM verifier (never the password itself)
 * and VALID UNTIL as a backstop should the revoke never come.
 */
export function createTemporaryUser(user: string, role: string, verifier: string, validUntil: Date): string {
  return (
    `create role ${escapeIdentifier(user)} login password ${escapeLiteral(verifier)} ` +
    `valid until ${escapeLiteral(validUntil.toISOString())} in role ${escapeIdentifier(role)}`
  );
}

/** A retried grant: a fresh password and expiry for a user an earlier attempt made. */
export function resetTemporaryUser(user: string, verifier: string, validUntil: Date): string {
  return (
    `alter role ${escapeIdentifier(user)} login password ${escapeLiteral(verifier)} ` +
    `valid until ${escapeLiteral(validUntil.toISOString())}`
  );
}

export function blockLogin(user: string): string {
  return `alter role ${escapeIdentifier(user)} nologin`;
}

/** What the user owns in this database goes to Grantflow's account, then any grants to the user go. */
export function dropOwned(user: string): string[] {
  return [
    `reassign owned by ${escapeIdentifier(user)} to current_user`,
    `drop owned by ${escapeIdentifier(user)}`,
  ];
}

export function dropRole(user: string): string {
  return `drop role if exists ${escapeIdentifier(user)}`;
}
