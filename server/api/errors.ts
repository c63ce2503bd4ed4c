/**
 * How the HTTP API answers a failure: a 4xx/5xx with `{ error: { code, message, field? } }`. Refusals from the
 * use cases carry their own status; input that does not parse names the field.
 */
import type { FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { GrantflowError } from '../../core/errors';

/** The caller is not allowed this (a role check failed). */
export class ForbiddenError extends GrantflowError {
  constructor(message: string) {
    super(message, 'forbidden', 403, 9);
  }
}

/** No valid API token or session. */
export class UnauthenticatedError extends GrantflowError {
  constructor(
    message = 'authentication required: send Authorization: Bearer <token>, or log in (/auth/login)',
  ) {
    super(message, 'unauthenticated', 401, 9);
  }
}

/**
 * A flow with step-up needs the decision from a recent portal login: an API token never qualifies, and a session
 * older than `settings.stepUpMaxAge` must log in again (`loginUrl`).
 */
export class StepUpRequiredError extends GrantflowError {
  constructor(
    message: string,
    readonly loginUrl?: string,
  ) {
    super(message, 'step_up_required', loginUrl ? 401 : 403, 9);
  }
}

/** The request has no sign-in kept for it (not a temporary-user grant, or it has ended). */
export class NoCredentialsError extends GrantflowError {
  constructor(requestId: string) {
    super(
      `request ${requestId} has no sign-in: its grant is not a temporary user, or it has ended`,
      'no_credentials',
      404,
      4,
    );
  }
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const field = issue?.path.join('.') || undefined;
    return reply.code(400).send({
      error: {
        code: 'invalid_input',
        message: `${field ?? 'body'}: ${issue?.message ?? 'invalid'}`,
        field,
      },
    });
  }
  if (err instanceof GrantflowError) {
    const loginUrl = err instanceof StepUpRequiredError ? err.loginUrl : undefined;
    return reply
      .code(err.httpStatus)
      .send({ error: { code: err.code, message: err.message, field: err.field, loginUrl } });
  }
  reply.log.error({ err: err instanceof Error ? err.message : String(err) }, 'API request failed');
  return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
}
