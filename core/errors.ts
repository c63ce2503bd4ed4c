/**
 * Errors of the request use cases. Each carries a stable code, the HTTP status the API answers with, and
 * the exit code the CLI ends with, so every surface reports a refusal the same way.
 */
export class GrantflowError extends Error {
  constructor(
    message: string,
    /** Stable machine-readable code. */
    readonly code: string,
    readonly httpStatus: number,
    readonly exitCode: number,
    /** The input field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request breaks the access flow (not a requester, permission not offered, duration too long, ...). */
export class RequestRefusedError extends GrantflowError {
  constructor(message: string, field?: string) {
    super(message, 'request_refused', 400, 3, field);
  }
}

/** No request has this id. */
export class RequestNotFoundError extends GrantflowError {
  constructor(id: string) {
    super(`no request with id ${id}`, 'not_found', 404, 4);
  }
}

/** An action on a request was refused by its workflow (not an approver, own request, already resolved, ...). */
export class ActionRefusedError extends GrantflowError {
  constructor(message: string) {
    super(message, 'action_refused', 409, 5);
  }
}

/** The acting identity is not in grantflow.yaml. */
export class UnknownIdentityError extends GrantflowError {
  constructor(email: string) {
    super(`${email} is not an identity in grantflow.yaml`, 'unknown_identity', 403, 6, 'as');
  }
}

/** Input that cannot be understood (a bad duration, a missing option). */
export class InvalidInputError extends GrantflowError {
  constructor(message: string, field?: string) {
    super(message, 'invalid_input', 400, 2, field);
  }
}

/** Temporal did not answer at the configured address. */
export class TemporalUnreachableError extends GrantflowError {
  constructor(address: string, namespace: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `cannot reach Temporal at ${address} (namespace ${namespace}): ${why}. ` +
        'Is it running? `npm start` runs a dev server; otherwise set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE).',
      'temporal_unreachable',
      503,
      8,
    );
  }
}

/** No API token has this id, or it was revoked already. */
export class TokenNotFoundError extends GrantflowError {
  constructor(id: string) {
    super(`no active API token with id ${id}`, 'not_found', 404, 4);
  }
}
