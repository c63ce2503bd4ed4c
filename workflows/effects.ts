/**
 * The workflow's effects on the world, each through an activity: the audit trail and requests index
 * (record), notifications (publish, never fatal), and the search attributes of every transition (setStatus).
 */
import { log, upsertSearchAttributes } from '@temporalio/workflow';
import type { MessageEvent, RequestMessage } from '../chat-adapters/types';
import { proxiesFor } from './activity-proxies';
import { searchAttributes, type RequestStatus } from './definitions';
import type { RequestState } from './request-state';

export class RequestEffects {
  readonly acts: ReturnType<typeof proxiesFor>;
  /** Numbers the events, so each has a key that retries and replays reproduce. */
  private eventNo = 0;

  constructor(private readonly state: RequestState) {
    this.acts = proxiesFor(state.input);
  }

  record(type: string, actor: string, channel: string, details: Record<string, unknown> = {}): Promise<void> {
    const id = this.state.input.requestId;
    return this.acts.recordEvent({
      requestId: id,
      eventKey: `${id}:${++this.eventNo}:${type}`,
      type,
      actor,
      channel,
      details,
      index: indexPatch(this.state),
    });
  }

  async publish(event: MessageEvent, note?: string): Promise<void> {
    try {
      await this.acts.notify({
        message: { ...messageOf(this.state), event, note },
        targets: this.state.input.flow.notify,
      });
    } catch (err) {
      log.warn('notification failed; the request goes on', { event, error: String(err) });
    }
  }

  setStatus(status: RequestStatus): void {
    this.state.status = status;
    const expiresAt = this.state.expiresAtMs;
    upsertSearchAttributes([
      { key: searchAttributes.status, value: status },
      ...(expiresAt !== undefined ? [{ key: searchAttributes.expiresAt, value: new Date(expiresAt) }] : []),
    ]);
  }
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

function messageOf(state: RequestState): Omit<RequestMessage, 'event'> {
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
    signIn: state.signIn,
    grantedAt: v.grantedAt,
    expiresAt: v.expiresAt,
    revokedAt: v.revokedAt,
    failure: v.failure,
  };
}
