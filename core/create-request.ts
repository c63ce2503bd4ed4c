/**
 * Creating an access request: check it against the flows, return the existing request for a repeated
 * idempotency key or a duplicate pending request, else start its workflow.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { checkRequest } from '../policy/snapshot';
import { formatDuration } from '../policy/duration';
import type { RequestRow } from '../store/types';
import {
  WORKFLOW_TYPE,
  searchAttributes,
  workflowIdFor,
  type AccessRequestInput,
} from '../workflows/definitions';
import type { Actor, AppContext } from './context';
import { RequestRefusedError } from './errors';
import { newRequestId, requestIdForKey } from './ids';

export interface CreateRequestInput {
  flow: string;
  resource: string;
  permission: string;
  /** Defaults to the flow's default duration. */
  durationMs?: number;
  reason: string;
  /** The same key from the same person always yields the same request. */
  idempotencyKey?: string;
}

export interface CreateRequestResult {
  request: RequestRow;
  /** True when an existing request was returned instead of creating one. */
  existing: boolean;
}

export async function createRequest(
  ctx: AppContext,
  actor: Actor,
  input: CreateRequestInput,
): Promise<CreateRequestResult> {
  const config = ctx.config();
  const check = checkRequest(config, { requester: actor.email, ...input });
  if (!check.ok) {
    await ctx.store.appendAudit({
      eventKey: `refused:${newRequestId()}`,
      type: 'request.refused',
      actor: actor.email,
      channel: actor.channel,
      details: { ...input, field: check.field, reason: check.message, osUser: actor.osUser },
    });
    throw new RequestRefusedError(check.message, check.field);
  }
  const requester = actor.email.toLowerCase();
  const id = input.idempotencyKey ? requestIdForKey(requester, input.idempotencyKey) : newRequestId();
  const now = new Date().toISOString();
  const row: RequestRow = {
    id,
    workflowId: workflowIdFor(id),
    requester,
    flow: check.flow.name,
    resource: check.resource.name,
    permission: input.permission,
    integration: check.resource.integration,
    status: 'PENDING_APPROVAL',
    reason: input.reason,
    durationMs: check.durationMs,
    channel: actor.channel,
    idempotencyKey: input.idempotencyKey,
    createdAt: now,
    updatedAt: now,
  };
  const inserted = await ctx.store.insertRequest(row);
  if (!inserted.inserted) return { request: inserted.existing, existing: true };

  const workflowInput: AccessRequestInput = {
    requestId: id,
    requester,
    flow: check.snapshot,
    resource: row.resource,
    permission: row.permission,
    integration: check.resource.integration,
    account: check.account,
    durationMs: check.durationMs,
    reason: input.reason,
    channel: actor.channel,
    requestedAt: now,
    revokeAlertAfterAttempts: config.settings.revokeAlertAfterAttempts,
    revokeMaxBackoffMs: config.settings.revokeMaxBackoffMs,
    revokeOverdueAfterMs: config.settings.revokeOverdueAfterMs,
  };
  try {
    await ctx.client.workflow.start(WORKFLOW_TYPE, {
      workflowId: row.workflowId,
      taskQueue: config.taskQueue,
      args: [workflowInput],
      staticSummary: `${requester} → ${row.resource} ${row.permission}, ${formatDuration(row.durationMs)}`,
      staticDetails: `Flow ${row.flow}. Reason: ${input.reason || '(none)'}. Requested through ${actor.channel}.`,
      typedSearchAttributes: [
        { key: searchAttributes.status, value: 'PENDING_APPROVAL' },
        { key: searchAttributes.requester, value: requester },
        { key: searchAttributes.flow, value: row.flow },
        { key: searchAttributes.resource, value: row.resource },
        { key: searchAttributes.permission, value: row.permission },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { request: row, existing: true };
    // Nothing is half-created: without its workflow the row would be a request nobody handles.
    await ctx.store.deleteRequest(id);
    throw err;
  }
  ctx.log.info({ requestId: id, requester, flow: row.flow, channel: actor.channel }, 'access requested');
  return { request: row, existing: false };
}
