/**
 * accessRequest: one durable workflow per access request.
 * PENDING_APPROVAL → APPROVED → GRANTING → ACTIVE → REVOKING → REVOKED, or DENIED / EXPIRED / CANCELLED /
 * GRANT_FAILED. It orchestrates only: every effect (audit, index, chat, connectors) is an activity.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  log,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { MessageEvent } from '../chat-adapters/types';
import {
  approveSignal,
  cancelUpdate,
  decideUpdate,
  denySignal,
  extendUpdate,
  revokeUpdate,
  searchAttributes,
  statusQuery,
  type AccessRequestInput,
  type DecisionInput,
  type RequestStatus,
  type RequestView,
} from './definitions';
import { RequestState } from './request-state';
import { proxiesFor } from './activity-proxies';

export async function accessRequest(input: AccessRequestInput): Promise<RequestView> {
  const state = new RequestState(input);
  const acts = proxiesFor(input);
  let eventNo = 0;

  const record = (type: string, actor: string, channel: string, details: Record<string, unknown> = {}) =>
    acts.recordEvent({
      requestId: input.requestId,
      eventKey: `${input.requestId}:${++eventNo}:${type}`,
      type,
      actor,
      channel,
      details,
      index: indexPatch(state),
    });

  const publish = async (event: MessageEvent, note?: string) => {
    try {
      await acts.notify({ message: { ...messageOf(state), event, note }, targets: input.flow.notify });
    } catch (err) {
      log.warn('notification failed; the request goes on', { event, error: String(err) });
    }
  };

  const setStatus = (status: RequestStatus) => {
    state.status = status;
    upsertSearchAttributes([
      { key: searchAttributes.status, value: status },
      ...(state.expiresAtMs !== undefined
        ? [{ key: searchAttributes.expiresAt, value: new Date(state.expiresAtMs) }]
        : []),
    ]);
  };

  const decide = (decision: 'approve' | 'deny') => async (d: DecisionInput) => {
    const channel = d.channel ?? 'temporal';
    const refusal = state.refuseDecision(d.approver, channel);
    if (refusal) {
      await record('decision_rejected', d.approver, channel, { decision, reason: refusal, via: 'signal' });
      return;
    }
    const at = new Date().toISOString();
    state.applyDecision({ approver: d.approver.toLowerCase(), decision, comment: d.comment, at, channel });
    await record(decision === 'approve' ? 'approval' : 'denial', d.approver, channel, { comment: d.comment });
  };

  setHandler(statusQuery, () => state.view());
  setHandler(approveSignal, decide('approve'));
  setHandler(denySignal, decide('deny'));
  setHandler(
    decideUpdate,
    async (d) => {
      await decide(d.decision)({ ...d, channel: d.channel ?? 'api' });
      return state.view();
    },
    { validator: (d) => throwIf(state.refuseDecision(d.approver, d.channel ?? 'api')) },
  );
  setHandler(
    extendUpdate,
    async ({ actor, byMs, channel }) => {
      state.applyExtend(actor, byMs, new Date().toISOString());
      setStatus(state.status);
      await record('extended', actor, channel ?? 'api', { byMs, expiresAt: state.view().expiresAt });
      await publish('extended');
      return state.view();
    },
    { validator: ({ actor, byMs }) => throwIf(state.refuseExtend(actor, byMs)) },
  );
  setHandler(
    revokeUpdate,
    async ({ actor, reason, channel }) => {
      const at = new Date().toISOString();
      state.revokeRequest = { actor, reason: reason ?? 'revoked early', channel: channel ?? 'api', at };
      await record('revoke_requested', actor, channel ?? 'api', { reason: state.revokeRequest.reason });
      return state.view();
    },
    { validator: ({ actor }) => throwIf(state.refuseRevoke(actor)) },
  );
  setHandler(
    cancelUpdate,
    async ({ actor, channel }) => {
      state.cancelledBy = actor;
      state.status = 'CANCELLED';
      await record('cancel_requested', actor, channel ?? 'api');
      return state.view();
    },
    { validator: ({ actor }) => throwIf(state.refuseCancel(actor)) },
  );

  const finish = async () => {
    await condition(allHandlersFinished);
    return state.view();
  };

  // 1. Decision.
  await record('requested', input.requester, input.channel, {
    flow: input.flow,
    resource: input.resource,
    permission: input.permission,
    durationMs: input.durationMs,
    reason: input.reason,
  });
  await publish('requested');
  try {
    if (input.flow.autoApprove) {
      state.status = 'APPROVED';
    } else {
      const decided = await condition(
        () => state.status !== 'PENDING_APPROVAL',
        input.flow.approvalTimeoutMs,
        {
          summary: 'waiting for approval',
        },
      );
      if (!decided) state.status = 'EXPIRED';
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    state.status = 'CANCELLED';
  }
  if (state.status !== 'APPROVED') {
    const final = state.status;
    await CancellationScope.nonCancellable(async () => {
      setStatus(final);
      const actor = state.denial?.approver ?? state.cancelledBy ?? 'grantflow';
      await record(final.toLowerCase(), actor, state.denial?.channel ?? 'workflow', {
        comment: state.denial?.comment,
      });
      await publish(final.toLowerCase() as MessageEvent);
    });
    return finish();
  }
  setStatus('APPROVED');
  const approvedBy = input.flow.autoApprove
    ? 'grantflow:auto-approve'
    : state.approvals.map((a) => a.approver);
  await record('approved', String(approvedBy), 'workflow', {
    approvedBy,
    autoApprove: input.flow.autoApprove,
  });
  await publish('approved');

  // 2. Grant; anything partly done is undone if it fails for good.
  const target = { integration: input.integration, account: input.account, permission: input.permission };
  const revoke = async (reason: string) => {
    setStatus('REVOKING');
    await record('revoking', 'grantflow', 'workflow', { reason });
    const result = await acts.revokeAccess({
      requestId: input.requestId,
      requester: input.requester,
      target,
      reason,
      alertAfterAttempts: input.revokeAlertAfterAttempts,
    });
    state.revokedAt = result.revokedAt;
    return result;
  };
  setStatus('GRANTING');
  await record('granting', 'grantflow', 'workflow');
  try {
    const granted = await acts.grantAccess({
      requestId: input.requestId,
      target,
      durationMs: input.durationMs,
    });
    state.grantedAtMs = Date.parse(granted.grantedAt);
    state.expiresAtMs = state.grantedAtMs + input.durationMs;
    setStatus('ACTIVE');
    await record('granted', 'grantflow', 'workflow', {
      alreadyHeld: granted.alreadyHeld,
      ...granted.details,
    });
  } catch (err) {
    state.failure = String(err instanceof Error && err.cause ? err.cause : err);
    await CancellationScope.nonCancellable(async () => {
      const undo = await revoke('grant failed: undoing anything partly granted');
      setStatus('GRANT_FAILED');
      await record('grant_failed', 'grantflow', 'workflow', { error: state.failure, undo });
      await publish('grant_failed', state.failure);
    });
    return finish();
  }
  await publish('granted');

  // 3. Active until expiry, an extension, or an early revoke. Cancelling the workflow still revokes.
  try {
    await holdUntilExpiry(state, () => publish('reminder'));
  } catch (err) {
    if (!isCancellation(err)) throw err;
    state.revokeRequest ??= { actor: 'grantflow', reason: 'workflow cancelled', channel: 'temporal', at: '' };
  }

  // 4. Revoke: retried without limit, never skipped by cancellation.
  await CancellationScope.nonCancellable(async () => {
    const reason = state.revokeRequest ? `revoked early: ${state.revokeRequest.reason}` : 'expired';
    await publish('revoking');
    const result = await revoke(reason);
    setStatus('REVOKED');
    await record(
      'revoked',
      state.revokeRequest?.actor ?? 'grantflow',
      state.revokeRequest?.channel ?? 'workflow',
      {
        reason,
        ...result,
      },
    );
    await publish('revoked');
  });
  return finish();
}

/** Waits until the grant expires or a revoke is requested; sends the reminder once per expiry time. */
async function holdUntilExpiry(state: RequestState, remind: () => Promise<void>): Promise<void> {
  let remindedFor: number | undefined;
  while (!state.revokeRequest) {
    const now = Date.now();
    const expiresAt = state.expiresAtMs ?? now;
    if (expiresAt <= now) return;
    const version = state.extendVersion;
    const changed = () => state.revokeRequest !== undefined || state.extendVersion !== version;
    const remindAt = expiresAt - state.input.flow.reminderBeforeMs;
    if (remindedFor !== expiresAt && state.input.flow.reminderBeforeMs > 0 && remindAt > now) {
      if (!(await condition(changed, remindAt - now, { summary: 'reminder before expiry' }))) {
        remindedFor = expiresAt;
        await remind();
      }
      continue;
    }
    await condition(changed, expiresAt - now, {
      summary: `access until ${new Date(expiresAt).toISOString()}`,
    });
  }
}

function throwIf(refusal: string | undefined): void {
  if (refusal) throw new Error(refusal);
}

function indexPatch(state: RequestState) {
  const v = state.view();
  return {
    status: v.status,
    grantedAt: v.grantedAt,
    expiresAt: v.expiresAt,
    decidedBy: v.denial?.approver ?? (v.approvals.map((a) => a.approver).join(',') || undefined),
  };
}

function messageOf(state: RequestState) {
  const v = state.view();
  return {
    requestId: v.id,
    requester: v.requester,
    flow: v.flow,
    resource: v.resource,
    permission: v.permission,
    reason: v.reason,
    durationMs: v.totalDurationMs,
    status: v.status,
    decisions: v.denial ? [...v.approvals, v.denial] : v.approvals,
    approvers: v.approvers,
    requiredApprovals: v.requiredApprovals,
    autoApprove: state.input.flow.autoApprove,
    origin: v.channel,
    stepUp: state.input.flow.stepUp === true,
    grantedAt: v.grantedAt,
    expiresAt: v.expiresAt,
    revokedAt: v.revokedAt,
    failure: v.failure,
  };
}
