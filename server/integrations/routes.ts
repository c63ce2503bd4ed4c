/**
 * The admin Integrations API under /api/v1/admin/integrations (and everyone's GET /api/v1/integrations/health):
 * the overview the page shows, "Check now" for a
 * connector, Disconnect for Slack, and the Teams app package download. Admin only; the POSTs are CSRF-checked
 * like every session-authenticated change (server/auth/csrf.ts) and audited.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../core/context';
import { callerOf, requireAdmin, type Caller } from '../api/access';
import { sendError } from '../api/errors';
import type { IntegrationsService } from './service';

const disconnectBody = z
  .object({
    /** Forget the token even when Slack cannot be reached to revoke it. */
    force: z.boolean().default(false),
  })
  .strict();

type Handler = (caller: Caller, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export function registerIntegrationRoutes(
  server: FastifyInstance,
  ctx: AppContext,
  service: IntegrationsService,
): void {
  const admin = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const caller = await callerOf(ctx, req);
      requireAdmin(caller);
      return await handler(caller, req, reply);
    } catch (err) {
      return sendError(reply, err);
    }
  };

  // Any logged-in person may see whether the integrations answer; admins see more on the Integrations page.
  server.get('/api/v1/integrations/health', async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      await callerOf(ctx, req);
      return await service.health();
    } catch (err) {
      return sendError(reply, err);
    }
  });

  server.get(
    '/api/v1/admin/integrations',
    admin(async () => service.overview()),
  );

  server.post(
    '/api/v1/admin/integrations/slack/disconnect',
    admin(async (caller, req) => {
      const body = disconnectBody.parse(req.body ?? {});
      return { slack: await service.disconnectSlack(caller.actor, body.force) };
    }),
  );

  server.post(
    '/api/v1/admin/integrations/connectors/:name/check',
    admin(async (caller, req) => {
      const { name } = req.params as { name: string };
      return service.checkConnector(name, caller.actor);
    }),
  );

  server.get(
    '/api/v1/admin/integrations/teams/package',
    admin(async (_caller, _req, reply) => {
      const built = service.teamsPackage();
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${built.fileName}"`)
        .header('cache-control', 'no-store')
        .send(built.zip);
    }),
  );
}
