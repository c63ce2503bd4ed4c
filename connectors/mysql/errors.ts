/**
 * Errors of the MySQL / MariaDB connector. Each carries `retryable` (see ConnectorError): false when a person must
 * change the config or the database first, true when the same call may work later (server down, revoke unfinished).
 */
import { ConnectorError } from '../errors';

/** Shared by every connector (connectors/errors.ts); listed here with this module's errors. */
export { UnknownPermissionError } from '../errors';

/** An account, role or host name that no MySQL or MariaDB account can have (empty, NUL, emoji, too long). */
export class InvalidNameError extends ConnectorError {
  constructor(integration: string, problem: string) {
    super('INVALID_NAME', `Integration "${integration}": ${problem}`, false);
    this.name = 'InvalidNameError';
  }
}

/** The person's account (`user@host`) does not exist on the server. */
export class AccountNotFoundError extends ConnectorError {
  constructor(integration: string, account: string) {
    super(
      'ACCOUNT_NOT_FOUND',
      `The account ${JSON.stringify(account)} does not exist on the server of integration "${integration}"`,
      false,
    );
    this.name = 'AccountNotFoundError';
  }
}

/** The role a permission is configured to carry does not exist on the server. */
export class RoleNotFoundError extends ConnectorError {
  constructor(integration: string, role: string) {
    super(
      'ROLE_NOT_FOUND',
      `The role ${JSON.stringify(role)}, configured for a permission of integration "${integration}", does not exist`,
      false,
    );
    this.name = 'RoleNotFoundError';
  }
}

/** Access or connections were still there after revoking. Retryable: revoking must go on until they are gone. */
export class RevokeIncompleteError extends ConnectorError {
  constructor(integration: string, what: string) {
    super('REVOKE_INCOMPLETE', `Revoking in integration "${integration}" is incomplete: ${what}`, true);
    this.name = 'RevokeIncompleteError';
  }
}

/**
 * Server errors that another attempt cannot fix. SQLSTATE classes: 28 bad credentials, 42 syntax or access rule
 * (1044/1045/1142/1227 access denied, 1146 no such table), 22 data. Error numbers for the generic HY000: 1396
 * account operation failed, 1470 name too long, 1300 invalid character string, 1267/1271 collation mix, 1959
 * invalid role.
 */
const PERMANENT_CLASSES = new Set(['28', '42', '22']);
const PERMANENT_ERRNOS = new Set([1044, 1045, 1142, 1227, 1267, 1271, 1300, 1396, 1470, 1959]);

interface DriverError {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  message?: string;
}

/** Anything else the server or the network reported; retryable unless the server's error says it cannot be. */
export class MysqlConnectorError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly action: string,
    readonly errno: number | undefined,
    message: string,
    retryable: boolean,
    cause: unknown,
  ) {
    super('MYSQL_ERROR', message, retryable, { cause });
    this.name = 'MysqlConnectorError';
  }
}

/** Wraps an error from `mysql2` (or the network), keeping its message, which never holds the password. */
export function fromMysqlError(integration: string, action: string, err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as DriverError;
  // Only errors the server sent carry a SQLSTATE; network errors (ECONNREFUSED, timeouts) are always retryable.
  const fromServer = typeof e.sqlState === 'string' && typeof e.errno === 'number';
  const retryable = !(
    fromServer &&
    (PERMANENT_CLASSES.has(e.sqlState!.slice(0, 2)) || PERMANENT_ERRNOS.has(e.errno!))
  );
  const detail = e.sqlMessage ?? e.message ?? String(err);
  const code = e.code ? ` (${e.code}${fromServer ? ` ${e.errno}, SQLSTATE ${e.sqlState}` : ''})` : '';
  return new MysqlConnectorError(
    integration,
    action,
    e.errno,
    `MySQL ${action} in integration "${integration}" failed: ${detail}${code}`,
    retryable,
    err,
  );
}
