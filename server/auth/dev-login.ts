/**
 * Dev login (`grantflow dev` only): pick any identity from grantflow.yaml without a provider. Every response
 * then says so in `x-grantflow-dev-login: on`, and /auth/me in `devLogin: true`, so the portal shows a banner.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../core/context';
import { findIdentity } from '../../policy/snapshot';
import { isInSet } from '../../policy/evaluate';
import { sendError } from '../api/errors';
import { UnknownLoginError } from './errors';
import { startSession } from './sessions';

/** The header every response carries while dev login is on. */
export const DEV_LOGIN_HEADER = 'x-grantflow-dev-login';

const devBody = z.object({ email: z.string().min(1) }).strict();

/** Registers GET/POST /auth/dev and the dev-login header on every response. */
export function registerDevLogin(server: FastifyInstance, ctx: AppContext, secure: boolean): void {
  server.addHook('onRequest', async (_req, reply) => {
    reply.header(DEV_LOGIN_HEADER, 'on');
  });

  server.get('/auth/dev', async () => {
    const config = ctx.config();
    return {
      identities: config.identities.map((i) => ({
        email: i.email,
        ...(i.name !== undefined ? { name: i.name } : {}),
        admin: isInSet(i, config.admins),
      })),
    };
  });

  server.post('/auth/dev', async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const { email } = devBody.parse(req.body ?? {});
      const identity = findIdentity(ctx.config(), email);
      if (!identity) throw new UnknownLoginError(email);
      const session = await startSession(ctx.store, reply, {
        email: identity.email,
        authTime: new Date(),
        secure,
      });
      return { email: identity.email, csrfToken: session.csrfToken, devLogin: true };
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
