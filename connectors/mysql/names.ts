/**
 * Names of the MySQL / MariaDB connector, as pure functions: the person's `user@host` account, checks that a name
 * can exist in the account tables at all, the temporary user named after a request, and privilege templates
 * (checked against an allow-list, so that only known keywords ever reach a GRANT).
 */
import { createHash } from 'node:crypto';

export interface Account {
  user: string;
  host: string;
}

/** Why a name cannot be an account, role or host name; undefined when it can. */
export function nameProblem(value: string, what: string, max: number): string | undefined {
  if (value.length === 0) return `${what} is empty`;
  if (value.length > max) return `${what} is longer than ${max} characters`;
  if (value.includes('\u0000')) return `${what} contains a NUL character`;
  // The account tables store utf8mb3: characters beyond the Basic Multilingual Plane (emoji) cannot be in a name.
  if (/[\uD800-\uDFFF]/.test(value))
    return `${what} contains a character outside the Basic Multilingual Plane`;
  return undefined;
}

/** Longest user name either server stores (MariaDB 80, MySQL 32); longer ones can only be typos or attacks. */
export const MAX_USER = 80;
export const MAX_HOST = 255;
/** Role names: MariaDB allows 128 characters. */
export const MAX_ROLE = 128;

/**
 * `user@host` splits at the last `@` (a user name may contain `@`, a host name may not); a bare `user` takes the
 * configured default host.
 */
export function splitAccount(account: string, defaultHost: string): Account {
  const at = account.lastIndexOf('@');
  return at < 0
    ? { user: account, host: defaultHost }
    : { user: account.slice(0, at), host: account.slice(at + 1) };
}

/** The account as the config names it: `user` when the host is the default and the name is unambiguous. */
export function formatAccount({ user, host }: Account, defaultHost: string): string {
  return host === defaultHost && !user.includes('@') ? user : `${user}@${host}`;
}

/** Request ids as core/ids.ts makes them, which become the user name as they are. */
const PLAIN_REQUEST = /^req_([0-9a-z]{1,20})$/;
const PLAIN_REST = /^[0-9a-z]{1,20}$/;

/**
 * The temporary user of a request: `<prefix><id>` for Grantflow's own request ids (`req_3kq…` → `gf_3kq…`), else
 * `<prefix>h_` and 16 hex digits of the id's SHA-256. At most 28 characters, under MySQL's limit of 32.
 */
export function temporaryUserName(prefix: string, requestId: string): string {
  const plain = PLAIN_REQUEST.exec(requestId);
  if (plain) return `${prefix}${plain[1]}`;
  return `${prefix}h_${createHash('sha256').update(requestId, 'utf8').digest('hex').slice(0, 16)}`;
}

/** The request a temporary user was made for, when its name says (hashed names do not). */
export function requestIdOf(prefix: string, user: string): string | undefined {
  if (!user.startsWith(prefix)) return undefined;
  const rest = user.slice(prefix.length);
  return PLAIN_REST.test(rest) ? `req_${rest}` : undefined;
}

/** Privileges a template may grant on a database (`db.*`), with their column in `mysql.db`. */
export const DATABASE_PRIVILEGES: Readonly<Record<string, string>> = {
  SELECT: 'Select_priv',
  INSERT: 'Insert_priv',
  UPDATE: 'Update_priv',
  DELETE: 'Delete_priv',
  CREATE: 'Create_priv',
  DROP: 'Drop_priv',
  INDEX: 'Index_priv',
  ALTER: 'Alter_priv',
  REFERENCES: 'References_priv',
  'CREATE VIEW': 'Create_view_priv',
  'SHOW VIEW': 'Show_view_priv',
  TRIGGER: 'Trigger_priv',
  EXECUTE: 'Execute_priv',
  'CREATE ROUTINE': 'Create_routine_priv',
  'ALTER ROUTINE': 'Alter_routine_priv',
  EVENT: 'Event_priv',
  'LOCK TABLES': 'Lock_tables_priv',
  'CREATE TEMPORARY TABLES': 'Create_tmp_table_priv',
};

/** Privileges a template may grant on one table (`db.table`); `mysql.tables_priv` names them the same way. */
export const TABLE_PRIVILEGES: ReadonlySet<string> = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'INDEX',
  'ALTER',
  'REFERENCES',
  'CREATE VIEW',
  'SHOW VIEW',
  'TRIGGER',
]);

export interface Template {
  /** Canonical keywords from the allow-lists above, in config order, without repeats. */
  privileges: string[];
  database: string;
  /** Undefined for the whole database (`db.*`). */
  table?: string;
}

/** Parses `privileges` and `on` of a temporary-user permission; throws an Error saying what is wrong. */
export function parseTemplate(privileges: string, on: string): Template {
  const scope = /^([^.`\s]+)\.(\*|[^.`\s]+)$/.exec(on.trim());
  if (!scope || scope[1] === '*') {
    throw new Error(
      `on "${on}" must be "database.*" or "database.table" (no backticks, dots or spaces in names)`,
    );
  }
  const table = scope[2] === '*' ? undefined : scope[2];
  const allowed = table === undefined ? new Set(Object.keys(DATABASE_PRIVILEGES)) : TABLE_PRIVILEGES;
  const keywords = privileges.split(',').map((p) => p.trim().replace(/\s+/g, ' ').toUpperCase());
  const unknown = keywords.filter((k) => !allowed.has(k));
  if (keywords.length === 0 || unknown.length > 0) {
    throw new Error(
      `privileges "${privileges}" may list only ${[...allowed].join(', ')} on ${table ? 'a table' : 'a database'}` +
        (unknown.length ? ` (not allowed: ${unknown.map((k) => `"${k}"`).join(', ')})` : ''),
    );
  }
  return { privileges: [...new Set(keywords)], database: scope[1]!, table };
}

/**
 * A database name as a database-level GRANT takes it: `_` and `%` are wildcards there (and `\` escapes), so they are
 * escaped to grant exactly the one database. This is also how `mysql.db` stores the name.
 */
export function databasePattern(database: string): string {
  return database.replace(/[\\_%]/g, (c) => `\\${c}`);
}
