/**
 * Browser login for the portal: OpenID Connect (or dev login in `grantflow dev`), sessions in the database,
 * and CSRF protection for session-authenticated calls. The HTTP API accepts the session cookie as well as
 * API tokens (server/api/access.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context';
import { isInSet } from '../../policy/evaluate';
import { findIdentity } from '../../policy/snapshot';
import { UnauthenticatedError } from '../api/errors';
import { sendError } from '../api/errors';
import { installCsrf } from './csrf';
import { registerDevLogin } from './dev-login';
import { registerOidc } from './oidc';
import { endSession, sessionOf } from './sessions';
import { secureCookies, type AuthSettings } from './settings';

export { authSettingsFromEnv, type AuthSettings } from './settings';

/** What registerAuth needs. */
export interface AuthOptions {
  ctx: AppContext;
  settings: AuthSettings;
  /** Dev login: anyone may log in as any identity. Only for `grantflow dev`. */
  devLogin: boolean;
}

/** Registers /auth/* and the CSRF check on every state-changing, session-authenticated call. */
export function registerAuth(server: FastifyInstance, options: AuthOptions): void {
  const { ctx, settings, devLogin } = options;
  const secure = secureCookies(settings);
  installCsrf(server, ctx.store);
  registerOidc(server, ctx, settings);
  if (devLogin) registerDevLogin(server, ctx, secure);

  // The portal asks this before anyone is logged in, to offer the right way in.
  server.get('/auth/methods', async () => ({ oidc: settings.oidc !== undefined, devLogin }));

  server.get('/auth/me', async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const session = await sessionOf(ctx.store, req);
      if (!session) throw new UnauthenticatedError('not logged in: start at /auth/login');
      const config = ctx.config();
      const identity = findIdentity(config, session.email);
      if (!identity)
        throw new UnauthenticatedError(`${session.email} is no longer an identity in grantflow.yaml`);
      return {
        email: identity.email,
        ...(identity.name !== undefined ? { name: identity.name } : {}),
        admin: isInSet(identity, config.admins),
        csrfToken: session.csrfToken,
        authTime: session.authTime,
        devLogin,
        oidc: settings.oidc !== undefined,
      };
    } catch (err) {
      return sendError(reply, err);
    }
  });

  server.post('/auth/logout', async (req: FastifyRequest, reply: FastifyReply) => {
    await endSession(ctx.store, req, reply, secure);
    return reply.code(204).send();
  });
}
