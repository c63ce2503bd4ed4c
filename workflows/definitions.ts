/**
 * The accessRequest workflow's public surface: input, status view, signals, updates, queries and search
 * attributes. Clients (CLI, API, chat adapters) import this file; it imports nothing with I/O.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { DecisionView, RequestStatus } from '../chat-adapters/types';
import type { FlowSnapshot } from '../policy/types';

export type { RequestStatus, DecisionView };

export const FINAL_STATUSES: readonly RequestStatus[] = [
  'DENIED',
  'EXPIRED',
  'CANCELLED',
  'REVOKED',
  'GRANT_FAILED',
];

/** Everything a request needs, fixed at start. Holds no secret. */
export interface AccessRequestInput {
  requestId: string;
  requester: string;
  flow: FlowSnapshot;
  resource: string;
  permission: string;
  integration: string;
  /** The requester's own account in the integration. */
  account: string;
  durationMs: number;
  reason: string;
  /** Where the request was made: `cli`, `api`, `slack`, `teams`. */
  channel: string;
  requestedAt: string;
  /** Failed revoke attempts after which admins are alerted. */
  revokeAlertAfterAttempts: number;
  /** Cap on the backoff between revoke attempts. */
  revokeMaxBackoffMs: number;
  /** A revoke still not done this long after it started is REVOKE_OVERDUE, and admins are alerted. */
  revokeOverdueAfterMs?: number;
}

/** The full view of a request, returned by the `status` query and by every update. */
export interface RequestView {
  id: string;
  status: RequestStatus;
  requester: string;
  flow: string;
  resource: string;
  permission: string;
  integration: string;
  reason: string;
  channel: string;
  durationMs: number;
  requestedAt: string;
  approvals: DecisionView[];
  denial?: DecisionView;
  requiredApprovals: number;
  approvers: string[];
  grantedAt?: string;
  expiresAt?: string;
  /** Total granted time including extensions. */
  totalDurationMs: number;
  extensions: { by: string; byMs: number; at: string }[];
  revokedBy?: string;
  revokedAt?: string;
  failure?: string;
}

/** A decision sent by an approver, through a signal or the `decide` update. */
export interface DecisionInput {
  approver: string;
  comment?: string;
  /** Where the decision was made: `cli`, `api`, `slack`, `teams`, `temporal`. @default 'temporal' */
  channel?: string;
}

export interface DecideInput extends DecisionInput {
  decision: 'approve' | 'deny';
}

export interface ExtendInput {
  actor: string;
  byMs: number;
  channel?: string;
}

export interface ActorInput {
  actor: string;
  reason?: string;
  channel?: string;
}

/** Approve the request: `temporal workflow signal --name approve --input '{"approver":"bob@example.com"}'`. */
export const approveSignal = defineSignal<[DecisionInput]>('approve');
/** Deny the request: `temporal workflow signal --name deny --input '{"approver":"bob@example.com","comment":"no"}'`. */
export const denySignal = defineSignal<[DecisionInput]>('deny');

/** Approve or deny with a synchronous answer; refused decisions are rejected by the validator. */
export const decideUpdate = defineUpdate<RequestView, [DecideInput]>('decide');
/** Extend an active grant, within the flow's limits. */
export const extendUpdate = defineUpdate<RequestView, [ExtendInput]>('extend');
/** End an active grant now. */
export const revokeUpdate = defineUpdate<RequestView, [ActorInput]>('revoke');
/** Withdraw a pending request. */
export const cancelUpdate = defineUpdate<RequestView, [ActorInput]>('cancel');

export const statusQuery = defineQuery<RequestView>('status');

/** Search attributes shown and filterable in the Temporal Web UI (within SQLite visibility's per-type limits). */
export const searchAttributes = {
  status: defineSearchAttributeKey('GrantflowStatus', SearchAttributeType.KEYWORD),
  requester: defineSearchAttributeKey('GrantflowRequester', SearchAttributeType.KEYWORD),
  flow: defineSearchAttributeKey('GrantflowFlow', SearchAttributeType.KEYWORD),
  resource: defineSearchAttributeKey('GrantflowResource', SearchAttributeType.KEYWORD),
  permission: defineSearchAttributeKey('GrantflowPermission', SearchAttributeType.KEYWORD),
  expiresAt: defineSearchAttributeKey('GrantflowExpiresAt', SearchAttributeType.DATETIME),
};

export const WORKFLOW_TYPE = 'accessRequest';

/** Every access request's workflow id starts with this, then the request id. */
export const REQUEST_WORKFLOW_PREFIX = 'access-request-';

export function workflowIdFor(requestId: string): string {
  return `${REQUEST_WORKFLOW_PREFIX}${requestId}`;
}
