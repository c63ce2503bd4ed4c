/**
 * The request's state and its rules, kept apart from the workflow's waiting and calling so that the signal,
 * the update validator and the update handler all apply exactly the same checks.
 */
import { checkApprover, mayExtend, mayRevoke, REFUSAL_TEXT } from '../policy/evaluate';
import type { AccessRequestInput, DecisionView, RequestStatus, RequestView } from './definitions';

/** Channels where a click decides without the portal's login; a step-up flow refuses decisions from them. */
const CHAT_CHANNELS = ['slack', 'teams'];

export class RequestState {
  status: RequestStatus = 'PENDING_APPROVAL';
  approvals: DecisionView[] = [];
  denial?: DecisionView;
  grantedAtMs?: number;
  expiresAtMs?: number;
  extensions: { by: string; byMs: number; at: string }[] = [];
  revokeRequest?: { actor: string; reason: string; channel: string; at: string };
  cancelledBy?: string;
  failure?: string;
  revokedAt?: string;
  /** The grant made a sign-in for the requester (temporary user); the sign-in itself never reaches the workflow. */
  signIn?: boolean;
  /** Bumped by every extension, so that waiting timers restart. */
  extendVersion = 0;

  constructor(readonly input: AccessRequestInput) {}

  /** Why this decision must be refused, or undefined when it counts. */
  refuseDecision(approver: string, channel: string): string | undefined {
    if (this.status !== 'PENDING_APPROVAL') return `${approver} ${REFUSAL_TEXT['already-decided']}`;
    if (this.input.flow.stepUp && CHAT_CHANNELS.includes(channel))
      return `flow ${this.input.flow.name} requires a step-up: decide in the portal, not in chat`;
    const prior = this.approvals.map((a) => a.approver);
    const refusal = checkApprover(this.input.flow, this.input.requester, approver, prior);
    return refusal ? `${approver} ${REFUSAL_TEXT[refusal]}` : undefined;
  }

  applyDecision(decision: DecisionView): void {
    if (decision.decision === 'deny') {
      this.denial = decision;
      this.status = 'DENIED';
      return;
    }
    this.approvals.push(decision);
    if (this.approvals.length >= this.input.flow.requiredApprovals) this.status = 'APPROVED';
  }

  refuseExtend(actor: string, byMs: number): string | undefined {
    if (this.status !== 'ACTIVE') return `cannot extend: the request is ${this.status}, not ACTIVE`;
    if (!mayExtend(this.input.flow, this.input.requester, actor))
      return `${actor} may not extend this grant (only the requester or an admin may)`;
    if (!(byMs > 0)) return 'the extension must be a positive duration';
    if (this.revokeRequest) return 'cannot extend: a revoke is already under way';
    const total = this.totalDurationMs() + byMs;
    if (total > this.input.flow.maxTotalDurationMs)
      return `cannot extend: the total would exceed the flow's maximum of ${this.input.flow.maxTotalDurationMs} ms`;
    return undefined;
  }

  applyExtend(actor: string, byMs: number, at: string): void {
    this.expiresAtMs = (this.expiresAtMs ?? 0) + byMs;
    this.extensions.push({ by: actor, byMs, at });
    this.extendVersion++;
  }

  refuseRevoke(actor: string): string | undefined {
    if (this.status !== 'ACTIVE' && this.status !== 'GRANTING')
      return `cannot revoke: the request is ${this.status}, not ACTIVE`;
    if (!mayRevoke(this.input.flow, this.input.requester, actor))
      return `${actor} may not revoke this grant (only the requester, an approver or an admin may)`;
    if (this.revokeRequest) return 'a revoke is already under way';
    return undefined;
  }

  refuseCancel(actor: string): string | undefined {
    if (this.status !== 'PENDING_APPROVAL') return `cannot cancel: the request is already ${this.status}`;
    const admin = this.input.flow.admins.includes(actor.toLowerCase());
    if (actor.toLowerCase() !== this.input.requester.toLowerCase() && !admin)
      return `${actor} may not cancel this request (only the requester or an admin may)`;
    return undefined;
  }

  totalDurationMs(): number {
    return this.input.durationMs + this.extensions.reduce((sum, e) => sum + e.byMs, 0);
  }

  view(): RequestView {
    const i = this.input;
    return {
      id: i.requestId,
      status: this.status,
      requester: i.requester,
      flow: i.flow.name,
      resource: i.resource,
      permission: i.permission,
      integration: i.integration,
      reason: i.reason,
      channel: i.channel,
      durationMs: i.durationMs,
      requestedAt: i.requestedAt,
      approvals: [...this.approvals],
      denial: this.denial,
      requiredApprovals: i.flow.requiredApprovals,
      approvers: i.flow.approvers,
      grantedAt: this.grantedAtMs !== undefined ? new Date(this.grantedAtMs).toISOString() : undefined,
      expiresAt: this.expiresAtMs !== undefined ? new Date(this.expiresAtMs).toISOString() : undefined,
      totalDurationMs: this.totalDurationMs(),
      extensions: [...this.extensions],
      revokedBy: this.revokeRequest?.actor,
      revokedAt: this.revokedAt,
      failure: this.failure,
    };
  }
}
