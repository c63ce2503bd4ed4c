/** The shapes the portal reads from the HTTP API (documented in /api/v1/openapi.json). */

export type RequestStatus =
  | 'PENDING_APPROVAL'
  | 'APPROVED'
  | 'DENIED'
  | 'EXPIRED'
  | 'CANCELLED'
  | 'GRANTING'
  | 'ACTIVE'
  | 'REVOKING'
  | 'REVOKED'
  | 'GRANT_FAILED';

/** One row of a request list. */
export interface RequestRow {
  id: string;
  workflowId: string;
  requester: string;
  flow: string;
  resource: string;
  permission: string;
  integration: string;
  status: RequestStatus;
  reason: string;
  durationMs: number;
  channel: string;
  createdAt: string;
  updatedAt: string;
  grantedAt?: string;
  expiresAt?: string;
  decidedBy?: string;
}

export interface Decision {
  approver: string;
  decision: 'approve' | 'deny';
  comment?: string;
  at: string;
  channel: string;
}

export interface TimelineEvent {
  at: string;
  type: string;
  actor: string;
  channel: string | null;
  details?: Record<string, unknown>;
}

/** One request as the workflow sees it, with its audit timeline. */
export interface RequestDetail {
  id: string;
  workflowId: string;
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
  approvals: Decision[];
  denial?: Decision;
  requiredApprovals: number;
  approvers: string[];
  grantedAt?: string;
  expiresAt?: string;
  totalDurationMs: number;
  extensions: { by: string; byMs: number; at: string }[];
  revokedBy?: string;
  revokedAt?: string;
  failure?: string;
  stepUp: boolean;
  /** What the caller may do now (the server still checks every action). */
  actions: { approve: boolean; cancel: boolean; extend: boolean; revoke: boolean };
  temporalUrl?: string;
  timeline: TimelineEvent[];
}

export interface ExplainedFlow {
  name: string;
  description?: string;
  resources: {
    name: string;
    integration: string;
    integrationType: string;
    permissions: string[];
    account?: string;
  }[];
  defaultDurationMs: number;
  maxDurationMs: number;
  maxTotalDurationMs: number;
  autoApprove: boolean;
  approvers: string[];
  approverGroups: string[];
  requiredApprovals: number;
  approvalTimeoutMs: number;
  requireJustification: boolean;
  selfIsApprover: boolean;
  stepUp?: boolean;
}

export interface Explanation {
  email: string;
  name?: string;
  groups: string[];
  isAdmin: boolean;
  flows: ExplainedFlow[];
  approves: string[];
}

/** The logged-in person (GET /auth/me). */
export interface Me {
  email: string;
  name?: string;
  admin: boolean;
  csrfToken: string;
  devLogin: boolean;
  authTime: string;
  /** OpenID Connect login is configured (else only dev login). */
  oidc: boolean;
}

/** How people may log in (GET /auth/methods). */
export interface LoginMethods {
  oidc: boolean;
  devLogin: boolean;
}

export interface AuditEvent {
  seq: number;
  type: string;
  actor: string;
  requestId: string | null;
  channel: string | null;
  at: string;
  details: Record<string, unknown>;
  hash: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  problems: { seq: number; problem: string; message: string }[];
}

export interface AdminFlow {
  name: string;
  description?: string;
  requesters: string[];
  requesterGroups: string[];
  approvers: string[];
  approverGroups: string[];
  requiredApprovals: number;
  autoApprove: boolean;
  stepUp: boolean;
  maxDurationMs: number;
  resources: { name: string; integration: string; permissions: string[] }[];
  notify: string[];
}

export interface IntegrationHealth {
  integrations: { name: string; type?: string; ok: boolean; message?: string }[];
  chat: { slack: boolean; teams: boolean };
}
