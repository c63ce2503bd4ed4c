/**
 * Errors of the PostgreSQL connector. Each carries `retryable` (see ConnectorError): false when a person must
 * change the config or the database first, true when the same call may work later.
 */
import { DatabaseError } from 'pg';
import { ConnectorError } from '../errors';

/** The person's account (a database role) does not exist in the target database. */
export class AccountNotFoundError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly account: string,
  ) {
    super(
      'ACCOUNT_NOT_FOUND',
      `The account "${account}" does not exist as a role in the database of integration "${integration}"`,
      false,
    );
    this.name = 'AccountNotFoundError';
  }
}

/** Shared by every connector (connectors/errors.ts); listed here with this module's errors. */
export { UnknownPermissionError } from '../errors';

/** The role a permission is configured to carry does not exist in the target database. */
export class RoleNotFoundError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly role: string,
  ) {
    super(
      'ROLE_NOT_FOUND',
      `The role "${role}", configured for a permission of integration "${integration}", does not exist in its database`,
      false,
    );
    this.name = 'RoleNotFoundError';
  }
}

/**
 * The membership is still there after revoking it, e.g. because another role granted it and Grantflow's account may
 * not revoke in that role's name. Retryable: the access remains, so revoking must go on (and alert) until it is gone.
 */
export class RevokeIncompleteError extends ConnectorError {
  constructor(integration: string, role: string, account: string, grantors: string[]) {
    super(
      'REVOKE_INCOMPLETE',
      `Revoking "${role}" from "${account}" in integration "${integration}" left memberships granted by ` +
        `${grantors.join(', ')}; Grantflow's database account needs the right to revoke them`,
      true,
    );
    this.name = 'RevokeIncompleteError';
  }
}

/**
 * SQLSTATE classes that another attempt cannot fix: 28 bad credentials, 3D unknown database, 42 access rule
 * violations (e.g. 42501 insufficient privilege), 0L/0P invalid grantor or role, 22 data exceptions.
 */
const PERMANENT_CLASSES = new Set(['28', '3D', '42', '0L', '0P', '22']);

/** Anything else PostgreSQL or the network reported; retryable unless its SQLSTATE class says it cannot be. */
export class PostgresConnectorError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly action: string,
    readonly sqlState: string | undefined,
    message: string,
    retryable: boolean,
    cause: unknown,
  ) {
    super('POSTGRES_ERROR', message, retryable, { cause });
    this.name = 'PostgresConnectorError';
  }
}

/** Wraps an error from `pg` (or the network), keeping its message, which never holds the password. */
export function fromPgError(integration: string, action: string, err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  // Only errors the server sent carry a SQLSTATE; network errors (ECONNREFUSED, timeouts) are always retryable.
  const sqlState = err instanceof DatabaseError ? err.code : undefined;
  const retryable = !(sqlState && PERMANENT_CLASSES.has(sqlState.slice(0, 2)));
  const detail = err instanceof Error ? err.message : String(err);
  return new PostgresConnectorError(
    integration,
    action,
    sqlState,
    `PostgreSQL ${action} in integration "${integration}" failed: ${detail}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`,
    retryable,
    err,
  );
}
