/**
 * Errors shared by all connectors, and those of the connector registry.
 * Every connector error says whether trying again can help (`retryable`), so activities can decide without
 * knowing the connector; `code` is stable, for tests and the audit log.
 */

/** Base of every error a connector or the registry throws on purpose. */
export class ConnectorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** True when the same call may succeed later (e.g. the target system is down); false when config or data must change. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectorError';
  }
}

/** An integration name that grantflow.yaml does not define. */
export class UnknownIntegrationError extends ConnectorError {
  constructor(
    readonly integration: string,
    known: string[],
  ) {
    super(
      'UNKNOWN_INTEGRATION',
      `No integration named "${integration}" is configured (configured: ${known.join(', ') || 'none'})`,
      false,
    );
    this.name = 'UnknownIntegrationError';
  }
}

/** An integration whose `type` has no connector in this version of Grantflow. */
export class UnsupportedIntegrationTypeError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly integrationType: string,
  ) {
    super(
      'UNSUPPORTED_INTEGRATION_TYPE',
      `The integration "${integration}" has type "${integrationType}", which has no connector`,
      false,
    );
    this.name = 'UnsupportedIntegrationTypeError';
  }
}

/** A connector was handed access in another integration than its own (a bug in the caller). */
export class WrongIntegrationError extends ConnectorError {
  constructor(expected: string, got: string) {
    super('WRONG_INTEGRATION', `The connector of integration "${expected}" was asked about "${got}"`, false);
    this.name = 'WrongIntegrationError';
  }
}

/** A permission that the integration's config does not list. */
export class UnknownPermissionError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly permission: string,
    known: string[],
  ) {
    super(
      'UNKNOWN_PERMISSION',
      `The integration "${integration}" has no permission "${permission}" (it has: ${known.join(', ') || 'none'})`,
      false,
    );
    this.name = 'UnknownPermissionError';
  }
}
