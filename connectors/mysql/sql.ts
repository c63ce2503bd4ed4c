/**
 * The SQL of the MySQL / MariaDB connector. Reads are prepared statements with `?` parameters (sent apart from the
 * SQL). Account statements (GRANT, CREATE USER, KILL …) accept no parameters, so names are quoted as identifiers
 * with mysql2's escapeId (backticks, ` doubled): unlike a '…' string, a backtick name means the same with or
 * without the NO_BACKSLASH_ESCAPES sql_mode. Only our own alphabet ever reaches a '…' literal (a password or hash).
 */
import { createHash } from 'node:crypto';
import type { PoolConnection } from 'mysql2/promise';
import { escape, escapeId } from 'mysql2';
import { databasePattern, type Account, type Template } from './names';

export type Flavor = 'mariadb' | 'mysql';

const QUERY_TIMEOUT_MS = 20_000;

/** One pooled connection, with the two ways this connector talks to the server. */
export class Db {
  constructor(
    private readonly conn: PoolConnection,
    readonly flavor: Flavor,
  ) {}

  /** A read with parameters, as a server-side prepared statement. */
  async rows<T>(sql: string, params: (string | number)[] = []): Promise<T[]> {
    const [rows] = await this.conn.execute({ sql, timeout: QUERY_TIMEOUT_MS }, params);
    return rows as T[];
  }

  /** A statement built by the functions below (every name in it quoted). */
  async run(sql: string): Promise<void> {
    await this.conn.query({ sql, timeout: QUERY_TIMEOUT_MS });
  }
}

/** A quoted identifier; never split at dots (`a.b` is one name). */
export const ident = (name: string): string => escapeId(name, true);
export const account = ({ user, host }: Account): string => `${ident(user)}@${ident(host)}`;

export const VERSION = 'SELECT VERSION() AS version, CURRENT_USER() AS me';
export const ACCOUNT_EXISTS = 'SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?';
/** Connections of a user name, other than this one (a name can connect from several hosts). */
export const CONNECTIONS_OF =
  'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()';

/** Roles: MariaDB keeps them in mysql.user with an empty host; MySQL as accounts at host '%'. */
export const ROLE_EXISTS: Record<Flavor, string> = {
  mariadb: "SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = '' AND is_role = 'Y'",
  mysql: "SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = '%'",
};

/** Whether the role is granted to the account (directly). */
export const ROLE_GRANTED: Record<Flavor, string> = {
  mariadb: 'SELECT COUNT(*) AS n FROM mysql.roles_mapping WHERE Role = ? AND User = ? AND Host = ?',
  mysql:
    "SELECT COUNT(*) AS n FROM mysql.role_edges WHERE FROM_USER = ? AND FROM_HOST = '%' AND TO_USER = ? AND TO_HOST = ?",
};

/**
 * Every account granted a role, without admin option: a role's administrators (its creator, Grantflow's own
 * account) hold it with admin option, and Grantflow never grants that.
 */
export const ROLE_MEMBERS: Record<Flavor, string> = {
  mariadb:
    "SELECT Role AS role, User AS user, Host AS host FROM mysql.roles_mapping WHERE Admin_option = 'N'",
  mysql:
    'SELECT FROM_USER AS role, TO_USER AS user, TO_HOST AS host FROM mysql.role_edges ' +
    "WHERE FROM_HOST = '%' AND WITH_ADMIN_OPTION = 'N'",
};

/** MariaDB's one default role of an account ('' when none). */
export const DEFAULT_ROLE = 'SELECT default_role AS role FROM mysql.user WHERE User = ? AND Host = ?';

/** Temporary users of a prefix, and the privileges they hold. */
export const USERS_WITH_PREFIX = 'SELECT User AS user, Host AS host FROM mysql.user WHERE LEFT(User, ?) = ?';
export const DB_GRANTS_WITH_PREFIX = 'SELECT * FROM mysql.db WHERE LEFT(User, ?) = ?';
export const TABLE_GRANTS_WITH_PREFIX =
  'SELECT User AS user, Host AS host, Db AS db, Table_name AS tbl, Table_priv AS privs FROM mysql.tables_priv ' +
  'WHERE LEFT(User, ?) = ?';

export const grantRole = (role: string, to: Account): string => `GRANT ${ident(role)} TO ${account(to)}`;
export const revokeRole = (role: string, from: Account): string =>
  `REVOKE ${ident(role)} FROM ${account(from)}`;

/** MariaDB: one default role (or NONE). MySQL: every granted role becomes a default one. */
export function setDefaultRole(flavor: Flavor, role: string | undefined, of: Account): string {
  if (flavor === 'mysql') return `SET DEFAULT ROLE ALL TO ${account(of)}`;
  return `SET DEFAULT ROLE ${role === undefined ? 'NONE' : ident(role)} FOR ${account(of)}`;
}

/** The password goes to MariaDB only as its mysql_native_password hash, so no server log can show it. */
function identifiedBy(flavor: Flavor, password: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(password)) throw new Error('generated passwords are base64url');
  if (flavor === 'mysql') return `IDENTIFIED BY ${escape(password)}`;
  const hash = createHash('sha1').update(createHash('sha1').update(password).digest()).digest('hex');
  return `IDENTIFIED BY PASSWORD ${escape(`*${hash.toUpperCase()}`)}`;
}

export const createUser = (flavor: Flavor, user: Account, password: string): string =>
  `CREATE USER ${account(user)} ${identifiedBy(flavor, password)}`;
export const setPassword = (flavor: Flavor, user: Account, password: string): string =>
  `ALTER USER ${account(user)} ${identifiedBy(flavor, password)}`;
export const lockUser = (user: Account): string => `ALTER USER ${account(user)} ACCOUNT LOCK`;
export const dropUser = (user: Account): string => `DROP USER IF EXISTS ${account(user)}`;

/** GRANT of a template; keywords come from the allow-list in names.ts, never from the config text itself. */
export function grantTemplate(template: Template, to: Account): string {
  const on =
    template.table === undefined
      ? `${ident(databasePattern(template.database))}.*`
      : `${ident(template.database)}.${ident(template.table)}`;
  return `GRANT ${template.privileges.join(', ')} ON ${on} TO ${account(to)}`;
}

export function killConnection(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`not a connection id: ${id}`);
  return `KILL CONNECTION ${id}`;
}
