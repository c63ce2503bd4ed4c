/**
 * Errors of the CLI's API mode. They extend GrantflowError so `main` prints one line and exits with the same
 * code operator mode would for the same refusal.
 */
import { GrantflowError } from '../core/errors';

/** Exit codes by the API's stable error code; they match the exit codes of the core errors. */
const EXIT_BY_CODE: Record<string, number> = {
  invalid_input: 2,
  request_refused: 3,
  not_found: 4,
  action_refused: 5,
  unknown_identity: 6,
  temporal_unreachable: 8,
  unauthenticated: 9,
  forbidden: 9,
  no_credentials: 4,
};

/** The API answered with an error (`{ error: { code, message, field? } }`, or a bare non-2xx status). */
export class ApiCallError extends GrantflowError {
  constructor(code: string, message: string, httpStatus: number, field?: string) {
    super(message, code, httpStatus, EXIT_BY_CODE[code] ?? (httpStatus >= 500 ? 8 : 1), field);
  }
}

/** Operator mode does not hand out a grant's sign-in: it is for the requester, through their own API token. */
export class CredentialsNeedApiModeError extends GrantflowError {
  constructor() {
    super(
      "a grant's sign-in is for its requester only: run this in API mode with your own token " +
        '(GRANTFLOW_API_URL and GRANTFLOW_TOKEN from `grantflow tokens create`), or open the request in the portal',
      'credentials_need_api_mode',
      403,
      9,
    );
  }
}

/** The API did not answer at all (refused connection, DNS failure, or no answer within the timeout). */
export class ApiUnreachableError extends GrantflowError {
  constructor(url: string, why: string) {
    super(
      `cannot reach the Grantflow API at ${url}: ${why}. Is it running? Check GRANTFLOW_API_URL.`,
      'api_unreachable',
      503,
      8,
    );
  }
}
