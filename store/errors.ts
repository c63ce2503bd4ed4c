/**
 * Errors raised by Grantflow's own database layer. Each has a stable `code` so callers can react
 * without parsing messages. Driver errors (connection refused, SQL errors) pass through unchanged
 * except where noted.
 */

/** Stable codes of the store's errors. */
export type StoreErrorCode = 'store_config' | 'store_connect' | 'audit_invalid_event' | 'audit_export_format';

/** Base class of every error the store raises itself. */
export class StoreError extends Error {
  constructor(
    message: string,
    /** Stable machine-readable code. */
    readonly code: StoreErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** openStore got neither a database URL nor a SQLite file, or a URL that is not PostgreSQL. */
export class StoreConfigError extends StoreError {
  constructor(message: string) {
    super(message, 'store_config');
  }
}

/** The database could not be reached when the store was opened (the message never holds a password). */
export class StoreConnectError extends StoreError {
  constructor(where: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot open the Grantflow database at ${where}: ${reason}`, 'store_connect', { cause });
  }
}

/** An audit event lacks a required field, has an invalid time, or has details that are not JSON. */
export class InvalidAuditEventError extends StoreError {
  constructor(message: string) {
    super(message, 'audit_invalid_event');
  }
}

/** exportAudit was asked for a format other than `jsonl` or `csv`. */
export class AuditExportFormatError extends StoreError {
  constructor(format: string) {
    super(`unknown audit export format "${format}"; use jsonl or csv`, 'audit_export_format');
  }
}
