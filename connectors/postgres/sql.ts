/**
 * The SQL of the PostgreSQL connector. Values go as parameters; GRANT and REVOKE take none, so their role names
 * are quoted with pg's escapeIdentifier.
 */
import { escapeIdentifier } from 'pg';

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

/** Direct members of any of the roles. */
export const MEMBERS_OF_ROLES = `
  select distinct r.rolname as role, m.rolname as account
  from pg_auth_members am
  join pg_roles r on r.oid = am.roleid
  join pg_roles m on m.oid = am.member
  where r.rolname = any($1::text[])
  order by 1, 2`;

/** Signals every backend of the account except this one; pg_terminate_backend only sends the signal. */
export const TERMINATE_SESSIONS = `
  select pid, pg_terminate_backend(pid) as terminated
  from pg_stat_activity
  where usename = $1 and pid <> pg_backend_pid()`;

export const COUNT_LIVE_BACKENDS =
  'select count(*)::int as n from pg_stat_activity where pid = any($1::int[])';

export function grantMembership(role: string, account: string): string {
  return `grant ${escapeIdentifier(role)} to ${escapeIdentifier(account)}`;
}

export function revokeMembership(role: string, account: string, grantor?: string): string {
  const by = grantor ? ` granted by ${escapeIdentifier(grantor)}` : '';
  return `revoke ${escapeIdentifier(role)} from ${escapeIdentifier(account)}${by}`;
}
