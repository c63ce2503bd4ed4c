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
  patched,
} from '@temporalio/workflow';
import type { MessageEvent } from '../chat-adapters/types';
import type { AccessRequestInput, RequestView } from './definitions';
import { RequestEffects } from './effects';
import { registerHandlers } from './handlers';
import { RequestState } from './request-state';

export async function accessRequest(input: AccessRequestInput): Promise<RequestView> {
  const state = new RequestState(input);
  // Workflows started before this patch replay with every effect on the path, as they ran.
  const fx = new RequestEffects(state, patched(OFF_PATH_EFFECTS_PATCH));
  registerHandlers(state, fx);
  // Auto-approved, the grant goes to the server ahead of the notifications.
  const release = input.flow.autoApprove ? fx.holdNotifications() : () => undefined;
  const finish = async () => {
    release();
    await fx.settled();
    await condition(allHandlersFinished);
    return state.view();
  };

  if (!(await decision(state, fx))) return finish();
  if (!(await grant(state, fx, release))) return finish();
  // Active until expiry, an extension, or an early revoke. Cancelling the workflow still revokes.
  try {
    await holdUntilExpiry(state, () => fx.publish('reminder'));
  } catch (err) {
    if (!isCancellation(err)) throw err;
    state.revokeRequest ??= { actor: 'grantflow', reason: 'workflow cancelled', channel: 'temporal', at: '' };
  }
  await revokeAtEnd(state, fx);
  return finish();
}

/** Waits for the decision (or approves by policy); records the outcome. True when approved. */
async function decision(state: RequestState, fx: RequestEffects): Promise<boolean> {
  const { input } = state;
  // Auto-approved: written with the events up to the grant, in one go.
  const details = {
    flow: input.flow,
    resource: input.resource,
    permission: input.permission,
    durationMs: input.durationMs,
    reason: input.reason,
  };
  await fx.record('requested', input.requester, input.channel, details, { later: input.flow.autoApprove });
  await fx.publish('requested');
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
      fx.setStatus(final);
      const actor = state.denial?.approver ?? state.cancelledBy ?? 'grantflow';
      await fx.record(final.toLowerCase(), actor, state.denial?.channel ?? 'workflow', {
        comment: state.denial?.comment,
      });
      await fx.publish(final.toLowerCase() as MessageEvent);
    });
    return false;
  }
  // Off the path, an auto-approved request goes straight on to GRANTING in the search attributes.
  if (fx.offPath && input.flow.autoApprove) state.status = 'APPROVED';
  else fx.setStatus('APPROVED');
  const approvedBy = input.flow.autoApprove
    ? 'grantflow:auto-approve'
    : state.approvals.map((a) => a.approver);
  await fx.record(
    'approved',
    String(approvedBy),
    'workflow',
    { approvedBy, autoApprove: input.flow.autoApprove },
    { later: true },
  );
  await fx.publish('approved');
  return true;
}

/** Grants; the clock starts when the grant commits. If it fails for good, undoes anything partly done. */
async function grant(state: RequestState, fx: RequestEffects, scheduled: () => void): Promise<boolean> {
  const { input } = state;
  fx.setStatus('GRANTING');
  await fx.record('granting', 'grantflow', 'workflow', {}, { later: true });
  // Off the path, the grant activity writes the events up to here, and `granted` the moment access exists.
  const own = fx.ownEvents({ type: 'granted', actor: 'grantflow', channel: 'workflow', details: {} });
  try {
    const granting = fx.acts.grantAccess({
      requestId: input.requestId,
      target: targetOf(input),
      durationMs: input.durationMs,
      requester: input.requester,
      maxTotalDurationMs: input.flow.maxTotalDurationMs,
      events: own,
    });
    scheduled();
    const granted = await granting;
    state.grantedAtMs = Date.parse(granted.grantedAt);
    state.signIn = granted.credentials === true ? true : undefined;
    state.expiresAtMs = state.grantedAtMs + input.durationMs;
    fx.setStatus('ACTIVE');
    if (!fx.offPath)
      await fx.record('granted', 'grantflow', 'workflow', {
        alreadyHeld: granted.alreadyHeld,
        ...granted.details,
      });
  } catch (err) {
    state.failure = String(err instanceof Error && err.cause ? err.cause : err);
    fx.requeue(own);
    await CancellationScope.nonCancellable(async () => {
      const undo = await revoke(state, fx, 'grant failed: undoing anything partly granted');
      fx.setStatus('GRANT_FAILED');
      await fx.record('grant_failed', 'grantflow', 'workflow', { error: state.failure, undo });
      await fx.publish('grant_failed', state.failure);
    });
    return false;
  }
  await fx.publish('granted');
  return true;
}

/** Revokes at expiry or on request: retried without limit, never skipped by cancellation. */
function revokeAtEnd(state: RequestState, fx: RequestEffects): Promise<void> {
  return CancellationScope.nonCancellable(async () => {
    const early = state.revokeRequest;
    const reason = early ? `revoked early: ${early.reason}` : 'expired';
    const by = { actor: early?.actor ?? 'grantflow', channel: early?.channel ?? 'workflow' };
    // Off the path, "revoking" is told only once the revoke is late or done (then with "revoked", in one batch),
    // and the revoke activity records `revoked` itself.
    const release = fx.holdNotifications();
    await fx.publish('revoking');
    const result = await revoke(state, fx, reason, { late: release, done: by });
    release();
    fx.setStatus('REVOKED');
    if (!fx.offPath) await fx.record('revoked', by.actor, by.channel, { reason, ...result });
    await fx.publish('revoked');
  });
}

/**
 * Revokes, retrying without limit; REVOKE_OVERDUE (with `late` called) once it takes longer than allowed. With
 * `done`, the revoke activity records `revoked` by that actor itself (off the path).
 */
async function revoke(
  state: RequestState,
  fx: RequestEffects,
  reason: string,
  { late, done: by }: { late?: () => void; done?: { actor: string; channel: string } } = {},
) {
  const { input } = state;
  fx.setStatus('REVOKING');
  await fx.record('revoking', 'grantflow', 'workflow', { reason }, { later: true });
  let done = false;
  const overdueAfterMs = input.revokeOverdueAfterMs ?? DEFAULT_REVOKE_OVERDUE_MS;
  const running = fx.acts.revokeAccess({
    requestId: input.requestId,
    requester: input.requester,
    target: targetOf(input),
    reason,
    alertAfterAttempts: input.revokeAlertAfterAttempts,
    events: fx.ownEvents(by && { type: 'revoked', ...by, details: { reason } }),
    overdueAfterMs,
  });
  void running.then(
    () => (done = true),
    () => (done = true),
  );
  // Workflows started before REVOKE_OVERDUE existed replay without it.
  if (
    patched(REVOKE_OVERDUE_PATCH) &&
    !(await condition(() => done, overdueAfterMs, { summary: 'revoke' }))
  ) {
    fx.setStatus('REVOKE_OVERDUE');
    late?.();
    await fx.record('revoke_overdue', 'grantflow', 'workflow', { reason, overdueAfterMs });
    try {
      await fx.acts.alertRevokeOverdue({
        requestId: input.requestId,
        requester: input.requester,
        target: targetOf(input),
        overdueAfterMs,
      });
    } catch (err) {
      log.warn('could not alert about the overdue revoke; retrying the revoke goes on', {
        error: String(err),
      });
    }
  }
  const result = await running;
  state.revokedAt = result.revokedAt;
  return { ...result, overdue: state.status === 'REVOKE_OVERDUE' };
}

/**
 * Marks the workflows whose grant and revoke activities write the events that lead up to them and their own done
 * event (`granted`, `revoked`), and whose notifications are batched beside the request instead of before its next
 * step (see docs/versioning.md).
 */
const OFF_PATH_EFFECTS_PATCH = 'off-path-effects';

/** Marks the workflows that know REVOKE_OVERDUE (see docs on versioning). */
const REVOKE_OVERDUE_PATCH = 'revoke-overdue';
const DEFAULT_REVOKE_OVERDUE_MS = 5 * 60_000;

function targetOf(input: AccessRequestInput) {
  return { integration: input.integration, account: input.account, permission: input.permission };
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
