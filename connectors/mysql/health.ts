/**
 * Health checks of the MySQL / MariaDB connector: beyond connecting, whether Grantflow's own account holds what its
 * mode needs (docs/connectors/mysql.md lists the GRANT statements), read from information_schema's privilege
 * tables and the role tables. Each check is named, so an operator sees exactly which privilege is missing.
 */
import type { HealthCheck } from '../types';
import type { MysqlIntegrationConfig } from './config';
import { databasePattern, parseTemplate, splitAccount } from './names';
import type { Db } from './sql';

interface PrivilegeRow {
  scope: string;
  privilege: string;
  grantable: string;
}

const OWN_PRIVILEGES = `
  SELECT '*' AS scope, PRIVILEGE_TYPE AS privilege, IS_GRANTABLE AS grantable
    FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?
  UNION ALL SELECT TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE
    FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?
  UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME), PRIVILEGE_TYPE, IS_GRANTABLE
    FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?`;

const ADMIN_OF_ROLE = {
  mariadb:
    "SELECT COUNT(*) AS n FROM mysql.roles_mapping WHERE Role = ? AND User = ? AND Host = ? AND Admin_option = 'Y'",
  mysql:
    'SELECT COUNT(*) AS n FROM mysql.role_edges WHERE FROM_USER = ? AND TO_USER = ? AND TO_HOST = ? ' +
    "AND FROM_HOST = '%' AND WITH_ADMIN_OPTION = 'Y'",
};

/** The checks of the privileges the mode needs; `me` is CURRENT_USER(), `user@host`. */
export async function privilegeChecks(
  db: Db,
  config: MysqlIntegrationConfig,
  me: string,
): Promise<HealthCheck[]> {
  const own = splitAccount(me, '%');
  const grantee = `'${own.user}'@'${own.host}'`;
  const rows = await db.rows<PrivilegeRow>(OWN_PRIVILEGES, [grantee, grantee, grantee]);
  const has = (scope: string, privilege: string, grantable = false) =>
    rows.some(
      (r) =>
        (r.scope === scope || r.scope === '*') &&
        r.privilege === privilege &&
        (!grantable || r.grantable === 'YES'),
    );
  const checks: HealthCheck[] = [];
  const need = (name: string, ok: boolean, missing: string) =>
    checks.push(ok ? { name, ok } : { name, ok, message: `${me} lacks ${missing}` });

  const mariadb = db.flavor === 'mariadb';
  const kills = config.mode === 'temporary-user' || config.terminateSessions;
  if (kills) {
    need('see connections', has('*', 'PROCESS'), 'PROCESS');
    const admin = mariadb ? 'CONNECTION ADMIN' : 'CONNECTION_ADMIN';
    need('kill connections', has('*', admin) || has('*', 'SUPER'), `${admin} (or SUPER)`);
  }
  if (config.mode === 'temporary-user') {
    need('create users', has('*', 'CREATE USER'), 'CREATE USER');
    for (const [permission, { privileges, on }] of Object.entries(config.permissions)) {
      const t = parseTemplate(privileges!, on!);
      const scope = t.table === undefined ? databasePattern(t.database) : `${t.database}.${t.table}`;
      const scopes = [scope, databasePattern(t.database), t.database]; // a database grant covers its tables
      const missing = t.privileges.filter((p) => !scopes.some((s) => has(s, p, true)));
      need(`grant ${permission}`, missing.length === 0, `${missing.join(', ')} ON ${on} WITH GRANT OPTION`);
    }
    return checks;
  }
  if (config.defaultRole) {
    const ok = mariadb
      ? has('mysql', 'UPDATE')
      : has('*', 'CREATE USER') || has('mysql.default_roles', 'UPDATE');
    need('set default roles', ok, mariadb ? 'UPDATE ON mysql.*' : 'CREATE USER');
  }
  for (const [permission, { role }] of Object.entries(config.permissions)) {
    if (!role) continue;
    const [row] = await db.rows<{ n: number }>(ADMIN_OF_ROLE[db.flavor], [role, own.user, own.host]);
    const ok = Number(row?.n ?? 0) > 0 || (!mariadb && has('*', 'ROLE_ADMIN'));
    need(
      `grant ${permission}`,
      ok,
      `the role ${JSON.stringify(role)} WITH ADMIN OPTION (or it does not exist)`,
    );
  }
  return checks;
}
