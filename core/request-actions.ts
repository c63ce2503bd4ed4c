/**
 * Acting on a request through its workflow's updates: decide, extend, revoke, cancel. A refusal comes back
 * synchronously from the update's validator, is recorded in the audit log (rejected updates never reach
 * the workflow history), and is raised as ActionRefusedError.
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import {
  cancelUpdate,
  decideUpdate,
  extendUpdate,
  revokeUpdate,
  statusQuery,
  workflowIdFor,
  type RequestView,
} from '../workflows/definitions';
import type { Actor, AppContext } from './context';
import { ActionRefusedError, RequestNotFoundError } from './errors';

async function act(
  ctx: AppContext,
  actor: Actor,
  requestId: string,
  action: string,
  run: (handle: WorkflowHandle) => Promise<RequestView>,
  details: Record<string, unknown> = {},
): Promise<RequestView> {
  const handle = ctx.client.workflow.getHandle(workflowIdFor(requestId));
  try {
    return await run(handle);
  } catch (err) {
    // A finished workflow answers NOT_FOUND ("already completed"): when the request exists, that is a refusal.
    if (err instanceof WorkflowNotFoundError && !(await ctx.store.getRequest(requestId)))
      throw new RequestNotFoundError(requestId);
    const refusal = refusalOf(err);
    if (refusal === undefined) throw err;
    await ctx.store.appendAudit({
      eventKey: `rejected:${requestId}:${randomUUID()}`,
      type: 'request.action_rejected',
      actor: actor.email,
      requestId,
      channel: actor.channel,
      details: { action, reason: refusal, osUser: actor.osUser, ...details },
    });
    throw new ActionRefusedError(refusal);
  }
}

/** The validator's message when an update was refused; a finished workflow refuses every update. */
function refusalOf(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
  if (err instanceof WorkflowNotFoundError) return 'the request is already resolved';
  const message = err instanceof Error ? err.message : '';
  if (/workflow execution already completed/i.test(message)) return 'the request is already resolved';
  return undefined;
}

/**
 * Options of an action. `updateId` makes a repeated delivery of the same action (a chat platform's retry,
 * a second replica) apply once: Temporal returns the first update's result for a repeated id.
 */
export interface ActionOptions {
  updateId?: string;
}

export function decideRequest(
  ctx: AppContext,
  actor: Actor,
  requestId: string,
  decision: 'approve' | 'deny',
  comment?: string,
  options: ActionOptions = {},
): Promise<RequestView> {
  return act(
    ctx,
    actor,
    requestId,
    decision,
    (h) =>
      h.executeUpdate(decideUpdate, {
        args: [{ approver: actor.email, decision, comment, channel: actor.channel }],
        updateId: options.updateId,
      }),
    { comment },
  );
}

export function extendRequest(
  ctx: AppContext,
  actor: Actor,
  requestId: string,
  byMs: number,
  options: ActionOptions = {},
) {
  return act(
    ctx,
    actor,
    requestId,
    'extend',
    (h) =>
      h.executeUpdate(extendUpdate, {
        args: [{ actor: actor.email, byMs, channel: actor.channel }],
        updateId: options.updateId,
      }),
    { byMs },
  );
}

export function revokeRequest(
  ctx: AppContext,
  actor: Actor,
  requestId: string,
  reason?: string,
  options: ActionOptions = {},
) {
  return act(ctx, actor, requestId, 'revoke', (h) =>
    h.executeUpdate(revokeUpdate, {
      args: [{ actor: actor.email, reason, channel: actor.channel }],
      updateId: options.updateId,
    }),
  );
}

export function cancelRequest(ctx: AppContext, actor: Actor, requestId: string) {
  return act(ctx, actor, requestId, 'cancel', (h) =>
    h.executeUpdate(cancelUpdate, { args: [{ actor: actor.email, channel: actor.channel }] }),
  );
}

/**
 * The full view of a request: asked of its workflow while it has history, else rebuilt from the requests
 * index (histories are deleted after the namespace's retention; the index and audit log are kept).
 */
export async function getRequest(ctx: AppContext, requestId: string): Promise<RequestView> {
  try {
    return await ctx.client.workflow.getHandle(workflowIdFor(requestId)).query(statusQuery);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const row = await ctx.store.getRequest(requestId);
  if (!row) throw new RequestNotFoundError(requestId);
  return {
    id: row.id,
    status: row.status,
    requester: row.requester,
    flow: row.flow,
    resource: row.resource,
    permission: row.permission,
    integration: row.integration,
    reason: row.reason,
    channel: row.channel,
    durationMs: row.durationMs,
    requestedAt: row.createdAt,
    approvals: [],
    requiredApprovals: 0,
    approvers: [],
    grantedAt: row.grantedAt,
    expiresAt: row.expiresAt,
    totalDurationMs: row.durationMs,
    extensions: [],
  };
}

/** Polls until the request is ACTIVE or resolved, or the timeout passes. */
export async function waitForSettled(
  ctx: AppContext,
  requestId: string,
  timeoutMs: number,
): Promise<RequestView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await getRequest(ctx, requestId);
    const settled = !['APPROVED', 'GRANTING', 'REVOKING', 'REVOKE_OVERDUE', 'PENDING_APPROVAL'].includes(
      view.status,
    );
    if (settled || Date.now() > deadline) return view;
    await new Promise((r) => setTimeout(r, 250));
  }
}
