/**
 * Errors of the AWS connector. Each carries `retryable` (see ConnectorError): true when AWS was busy, failing or
 * out of reach, false when the config, AWS's set-up or Grantflow's IAM policy must change first. Messages name the
 * integration, the permission and AWS's error code; they never hold credentials.
 */
import { ConnectorError } from '../errors';

/** Shared by every connector (connectors/errors.ts); listed here with this module's errors. */
export { UnknownPermissionError } from '../errors';

/** The person's account is not the kind of identifier this permission needs (an IAM user name, an Identity Center user id). */
export class InvalidAccountError extends ConnectorError {
  constructor(integration: string, permission: string, account: string, expected: string) {
    super(
      'INVALID_ACCOUNT',
      `The account "${account}" for permission "${permission}" of integration "${integration}" is not ${expected}`,
      false,
    );
    this.name = 'InvalidAccountError';
  }
}

/** The person's IAM user does not exist. */
export class AccountNotFoundError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly account: string,
  ) {
    super(
      'ACCOUNT_NOT_FOUND',
      `The IAM user "${account}" does not exist in the AWS account of integration "${integration}" (NoSuchEntity)`,
      false,
    );
    this.name = 'AccountNotFoundError';
  }
}

/** The IAM group a permission is configured to carry does not exist. */
export class GroupNotFoundError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly permission: string,
    readonly group: string,
  ) {
    super(
      'GROUP_NOT_FOUND',
      `The IAM group "${group}", configured for permission "${permission}" of integration "${integration}", ` +
        'does not exist (NoSuchEntity)',
      false,
    );
    this.name = 'GroupNotFoundError';
  }
}

/**
 * Identity Center reported an assignment request FAILED, or it did not finish in time. A failed grant needs a person
 * (the reason is usually Grantflow's IAM policy); a failed or slow revoke is retryable, since the access remains.
 */
export class AssignmentError extends ConnectorError {
  constructor(integration: string, permission: string, what: string, retryable: boolean) {
    super(
      'ASSIGNMENT_FAILED',
      `Identity Center ${what} for permission "${permission}" of integration "${integration}"`,
      retryable,
    );
    this.name = 'AssignmentError';
  }
}

/** Anything else AWS (or the network on the way) reported. */
export class AwsConnectorError extends ConnectorError {
  constructor(
    readonly integration: string,
    readonly action: string,
    readonly awsCode: string,
    message: string,
    retryable: boolean,
    cause: unknown,
  ) {
    super('AWS_ERROR', message, retryable, { cause });
    this.name = 'AwsConnectorError';
  }
}

/** Error codes that another attempt can fix, whatever their HTTP status. */
const RETRYABLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceFailure',
  'ServiceFailureException',
  'ServiceUnavailable',
  'InternalServerException',
  'ConcurrentModification',
  'ConcurrentModificationException',
  'ConflictException', // Identity Center: another operation on the same assignment is still running
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'TimeoutError',
]);

interface AwsLikeError {
  /** The code in AWS's answer (query protocols such as IAM's: `NoSuchEntity`, `AccessDenied`). */
  Code?: unknown;
  name?: string;
  message?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The AWS error code of an SDK error (`NoSuchEntity`, `AccessDenied`…), or a network error's code. */
export function awsErrorCode(err: unknown): string {
  const e = (err ?? {}) as AwsLikeError;
  if (typeof e.Code === 'string' && e.Code) return e.Code;
  const name = e.name && e.name !== 'Error' ? e.name : undefined;
  return name ?? e.code ?? 'UnknownError';
}

/** True for IAM's NoSuchEntity and Identity Center's ResourceNotFoundException. */
export function isNotFound(err: unknown): boolean {
  return ['NoSuchEntity', 'NoSuchEntityException', 'ResourceNotFoundException'].includes(awsErrorCode(err));
}

/**
 * Wraps an AWS SDK error. Retryable: throttling, 5xx, conflicts and anything that never got an HTTP answer
 * (refused, reset, timed out). Not retryable: other 4xx (AccessDenied, ValidationException, NoSuchEntity…) and
 * missing credentials.
 */
export function fromAwsError(
  integration: string,
  action: string,
  permission: string | undefined,
  err: unknown,
): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const code = awsErrorCode(err);
  const status = e.$metadata?.httpStatusCode;
  let retryable: boolean;
  if (code === 'CredentialsProviderError') retryable = false;
  else if (RETRYABLE_CODES.has(code) || e.$retryable) retryable = true;
  else if (status !== undefined) retryable = status >= 500;
  else retryable = true; // no HTTP answer at all: the endpoint is down or unreachable
  const about = permission ? ` for permission "${permission}"` : '';
  const detail =
    code === 'CredentialsProviderError' ? 'no AWS credentials found in the provider chain' : e.message;
  return new AwsConnectorError(
    integration,
    action,
    code,
    `AWS ${action}${about} in integration "${integration}" failed: ${code}${detail ? `: ${detail}` : ''}`,
    retryable,
    err,
  );
}
