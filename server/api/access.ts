/**
 * Who the API caller is, and what they may see: their own requests, those they may approve, and — for admins —
 * everything. The workflow still enforces every rule on actions; these checks decide visibility and admin-only
 * endpoints.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor, AppContext } from '../../core/context';
import { authenticateToken } from '../../core/tokens';
import { isInSet } from '../../policy/evaluate';
import { findFlow, findIdentity, snapshotFlow } from '../../policy/snapshot';
import type { Identity } from '../../policy/types';
import type { RequestRow } from '../../store/types';
import { sessionOf } from '../auth/sessions';
import { ForbiddenError, UnauthenticatedError } from './errors';

export interface Caller {
  identity: Identity;
  /** Channel `portal` for a browser session, `api` for an API token. */
  actor: Actor;
  admin: boolean;
  /** A browser session's login time (absent for API tokens): step-up decisions need a recent one. */
  authTime?: Date;
}

/**
 * The caller: by `Authorization: Bearer <API token>` when the header is sent (a session cookie is then
 * ignored), else by the portal's session cookie (whose CSRF token server/auth/csrf.ts checked already).
 */
export async function callerOf(ctx: AppContext, req: FastifyRequest): Promise<Caller> {
  const session = req.headers.authorization === undefined ? await sessionOf(ctx.store, req) : undefined;
  if (req.headers.authorization === undefined && !session) throw new UnauthenticatedError();
  const email = session ? session.email : await tokenEmail(ctx, req);
  const config = ctx.config();
  const identity = findIdentity(config, email);
  if (!identity) throw new UnauthenticatedError(`${email} is no longer an identity in grantflow.yaml`);
  return {
    identity,
    actor: { email: identity.email, channel: session ? 'portal' : 'api' },
    admin: isInSet(identity, config.admins),
    ...(session ? { authTime: new Date(session.authTime) } : {}),
  };
}

async function tokenEmail(ctx: AppContext, req: FastifyRequest): Promise<string> {
  const header = String(req.headers.authorization ?? '');
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token) throw new UnauthenticatedError();
  const found = await authenticateToken(ctx.store, token);
  if (!found) throw new UnauthenticatedError('the API token is unknown or revoked');
  return found.email;
}

export function requireAdmin(caller: Caller): void {
  if (!caller.admin) throw new ForbiddenError('this needs a Grantflow admin');
}

/** Whether the caller may approve requests of this flow (by the config in force). */
export function approvesFlow(ctx: AppContext, caller: Caller, flowName: string): boolean {
  const config = ctx.config();
  const flow = findFlow(config, flowName);
  return flow ? snapshotFlow(config, flow).approvers.includes(caller.identity.email) : false;
}

/** A person sees their own requests and those they may approve; admins see all. */
export function maySee(
  ctx: AppContext,
  caller: Caller,
  row: Pick<RequestRow, 'requester' | 'flow'>,
): boolean {
  return caller.admin || row.requester === caller.identity.email || approvesFlow(ctx, caller, row.flow);
}
