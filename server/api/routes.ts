/**
 * The HTTP API under /api/v1: create and list requests, one request with its timeline, decisions and changes,
 * what I may request, and the audit log (admin); integration health is in server/integrations/routes.ts. Every call acts as the API token's
 * identity and goes through the same use cases as the CLI and chat.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { explainFor } from '../../config/explain';
import type { AppContext } from '../../core/context';
import { createRequest } from '../../core/create-request';
import { RequestNotFoundError } from '../../core/errors';
import {
  cancelRequest,
  decideRequest,
  extendRequest,
  getRequest,
  revokeRequest,
  type ActionOptions,
} from '../../core/request-actions';
import { parseDuration } from '../../policy/duration';
import { exportAudit } from '../../store/audit';
import type { RequestStatus, RequestView } from '../../workflows/definitions';
import type { RequestRow } from '../../store/types';
import { findFlow } from '../../policy/snapshot';
import { describeFlows } from '../../config/explain';
import { requireStepUp } from './step-up';
import { createCredentialVault, type CredentialVault } from '../../core/credentials';
import { keyringFromEnv } from '../../core/keyring';
import { ForbiddenError, NoCredentialsError } from './errors';
import { callerOf, maySee, approvesFlow, requireAdmin, type Caller } from './access';
import { sendError } from './errors';
import { openApiDocument } from './openapi';

const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, 'is not a duration (use e.g. 30m, 1h)');
const createBody = z
  .object({
    flow: z.string().min(1),
    resource: z.string().min(1),
    permission: z.string().min(1),
    duration: duration.optional(),
    reason: z.string().default(''),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict();
const listQuery = z.object({
  scope: z.enum(['mine', 'approvals', 'active', 'all']).default('mine'),
  status: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const commentBody = z.object({ comment: z.string().optional() }).strict();
const denyBody = z.object({ reason: z.string().trim().min(1, 'say why') }).strict();
const extendBody = z.object({ by: duration }).strict();
const revokeBody = z.object({ reason: z.string().optional() }).strict();
const auditQuery = z.object({
  requestId: z.string().min(1).optional(),
  actor: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
  since: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

/** What the caller may do with the request now; a hint for the portal's buttons, the workflow decides. */
function actionsFor(c: Caller, view: RequestView) {
  const me = c.identity.email;
  const mine = view.requester === me;
  const approver = view.approvers.includes(me);
  const live = view.status === 'ACTIVE';
  return {
    approve:
      view.status === 'PENDING_APPROVAL' &&
      approver &&
      !mine &&
      !view.approvals.some((a) => a.approver === me),
    cancel: view.status === 'PENDING_APPROVAL' && (mine || c.admin),
    extend: live && (mine || c.admin),
    revoke: (live || view.status === 'GRANTING') && (mine || approver || c.admin),
  };
}

/** The Web UI page of one workflow. */
function workflowUrl(ui: string, namespace: string, workflowId: string): string {
  return `${ui.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

type Handler = (caller: Caller, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Where the portal links to each request's workflow in the Temporal Web UI. */
export interface ApiLinks {
  /** The Web UI's base URL, e.g. http://localhost:8233. */
  temporalUi?: string;
  /** Where grants' sign-ins are kept for their requesters. @default sealed with GRANTFLOW_ENCRYPTION_KEYS */
  credentials?: CredentialVault;
}

export function registerApi(server: FastifyInstance, ctx: AppContext, links: ApiLinks = {}): void {
  const namespace = ctx.client.options.namespace;
  const vault = links.credentials ?? createCredentialVault(ctx.store, keyringFromEnv());
  const route = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await handler(await callerOf(ctx, req), req, reply);
    } catch (err) {
      return sendError(reply, err);
    }
  };
  const visible = async (caller: Caller, id: string) => {
    const row = await ctx.store.getRequest(id);
    // Someone who may not see a request learns nothing about it, not even that it exists.
    if (!row || !maySee(ctx, caller, row)) throw new RequestNotFoundError(id);
    return row;
  };
  const options = (req: FastifyRequest): ActionOptions => {
    const key = req.headers['idempotency-key'];
    return typeof key === 'string' && key ? { updateId: `api:${key}` } : {};
  };

  server.get('/api/v1/openapi.json', async () => openApiDocument);
  server.get(
    '/api/v1/me',
    route(async (c) => ({ ...c.identity, admin: c.admin })),
  );

  server.get(
    '/api/v1/flows',
    route(async (c) => explainFor(ctx.config(), c.identity.email)),
  );

  server.post(
    '/api/v1/requests',
    route(async (c, req, reply) => {
      const body = createBody.parse(req.body ?? {});
      const { request, existing } = await createRequest(ctx, c.actor, {
        ...body,
        durationMs: body.duration ? parseDuration(body.duration) : undefined,
      });
      return reply.code(existing ? 200 : 201).send({ request, existing });
    }),
  );

  server.get(
    '/api/v1/requests',
    route(async (c, req) => {
      const q = listQuery.parse(req.query ?? {});
      const status = q.status ? (q.status.toUpperCase() as RequestStatus) : undefined;
      if (q.scope === 'mine')
        return ctx.store.listRequests({ requester: c.identity.email, status, limit: q.limit });
      if (q.scope === 'approvals') {
        const pending = await ctx.store.listRequests({ status: 'PENDING_APPROVAL', limit: 1000 });
        return pending
          .filter((r) => r.requester !== c.identity.email && approvesFlow(ctx, c, r.flow))
          .slice(0, q.limit);
      }
      requireAdmin(c);
      return ctx.store.listRequests({ status: q.scope === 'active' ? 'ACTIVE' : status, limit: q.limit });
    }),
  );

  server.get(
    '/api/v1/requests/:id',
    route(async (c, req) => {
      const { id } = req.params as { id: string };
      const row = await visible(c, id);
      const timeline = (await ctx.store.listAudit({ requestId: id })).map((e) => ({
        at: e.at,
        type: e.type,
        actor: e.actor,
        channel: e.channel,
        details: e.details,
      }));
      const view = await getRequest(ctx, id);
      return {
        ...view,
        workflowId: row.workflowId,
        stepUp: findFlow(ctx.config(), row.flow)?.stepUp === true,
        actions: actionsFor(c, view),
        // Whether a sign-in waits for the caller (GET …/credentials); never the sign-in itself.
        credentials: row.requester === c.identity.email && (await ctx.store.getCredentials(id)) !== undefined,
        ...(links.temporalUi
          ? { temporalUrl: workflowUrl(links.temporalUi, namespace, row.workflowId) }
          : {}),
        timeline,
      };
    }),
  );

  // A grant's own sign-in (temporary users): for its requester alone, never an approver or admin; each read audited.
  server.get(
    '/api/v1/requests/:id/credentials',
    route(async (c, req, reply) => {
      const { id } = req.params as { id: string };
      const row = await visible(c, id);
      if (row.requester !== c.identity.email)
        throw new ForbiddenError('only the requester may read the sign-in of a grant');
      const credentials = await vault.read(id, c.identity.email);
      if (!credentials) throw new NoCredentialsError(id);
      await ctx.store.appendAudit({
        eventKey: `${id}:credentials-read:${Date.now()}:${Math.random().toString(36).slice(2)}`,
        type: 'request.credentials_read',
        actor: c.identity.email,
        requestId: id,
        channel: c.actor.channel,
        details: { username: credentials.username },
      });
      reply.header('cache-control', 'no-store');
      return credentials;
    }),
  );

  const action = (
    path: string,
    run: (c: Caller, id: string, req: FastifyRequest, row: RequestRow) => Promise<unknown>,
  ) =>
    server.post(
      `/api/v1/requests/:id/${path}`,
      route(async (c, req) => {
        const { id } = req.params as { id: string };
        let row: RequestRow;
        try {
          row = await visible(c, id);
        } catch (err) {
          // Refused like any other action and on the record, though the caller learns nothing of the request.
          if (err instanceof RequestNotFoundError && (await ctx.store.getRequest(id)))
            await ctx.store.appendAudit({
              eventKey: `rejected:${id}:${randomUUID()}`,
              type: 'request.action_rejected',
              actor: c.actor.email,
              requestId: id,
              channel: c.actor.channel,
              details: { action: path, reason: `${c.actor.email} may not see or act on this request` },
            });
          throw err;
        }
        return run(c, id, req, row);
      }),
    );
  action('approve', async (c, id, req, row) => {
    const { comment } = commentBody.parse(req.body ?? {});
    requireStepUp(ctx, c, row.flow, id);
    return decideRequest(ctx, c.actor, id, 'approve', comment, options(req));
  });
  action('deny', async (c, id, req, row) => {
    const { reason } = denyBody.parse(req.body ?? {});
    requireStepUp(ctx, c, row.flow, id);
    return decideRequest(ctx, c.actor, id, 'deny', reason, options(req));
  });
  action('extend', (c, id, req) =>
    extendRequest(
      ctx,
      c.actor,
      id,
      parseDuration(extendBody.parse(req.body ?? {}).by) as number,
      options(req),
    ),
  );
  action('revoke', (c, id, req) =>
    revokeRequest(ctx, c.actor, id, revokeBody.parse(req.body ?? {}).reason, options(req)),
  );
  action('cancel', (c, id) => cancelRequest(ctx, c.actor, id));

  server.get(
    '/api/v1/audit',
    route(async (c, req, reply) => {
      requireAdmin(c);
      const q = z
        .object({ format: z.enum(['jsonl', 'csv']).default('jsonl'), since: z.iso.datetime().optional() })
        .parse(req.query ?? {});
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (d: Buffer) => chunks.push(d));
      await exportAudit(ctx.store, { format: q.format, since: q.since ? new Date(q.since) : undefined, out });
      const type = q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
      return reply.type(type).send(Buffer.concat(chunks));
    }),
  );

  server.get(
    '/api/v1/audit/events',
    route(async (c, req) => {
      requireAdmin(c);
      const q = auditQuery.parse(req.query ?? {});
      const rows = await ctx.store.listAudit({
        requestId: q.requestId,
        actor: q.actor,
        type: q.type,
        since: q.since ? new Date(q.since) : undefined,
        last: q.limit,
      });
      return rows.reverse();
    }),
  );

  server.get(
    '/api/v1/admin/flows',
    route(async (c) => {
      requireAdmin(c);
      return describeFlows(ctx.config());
    }),
  );

  server.get(
    '/api/v1/audit/verify',
    route(async (c) => {
      requireAdmin(c);
      return ctx.store.verifyAudit();
    }),
  );
}
