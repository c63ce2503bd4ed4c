/**
 * The shapes the portal reads from the HTTP API (documented in /api/v1/openapi.json). Where the server has the
 * type, the portal uses it (type-only imports, erased at build), so the two cannot drift apart.
 */
import type { AuditRow, AuditVerifyResult, RequestRow } from '../../store/types';
import type { RequestStatus, RequestView } from '../../workflows/definitions';
import type { DescribedFlow, ExplainedFlow, Explanation } from '../../config/explain';

export type { AuditVerifyResult, DescribedFlow, ExplainedFlow, Explanation, RequestRow, RequestStatus };
export type {
  ConnectorCheckView,
  ConnectorStatus,
  IntegrationsOverview,
  RoutingProblem,
  RoutingWarning,
  SlackInstallationView,
  SlackStatus,
  SlackTokenSource,
  TeamsStatus,
} from '../../server/integrations/types';

/** An audit event as GET /api/v1/audit/events returns it. */
export type AuditEvent = AuditRow;

export interface TimelineEvent {
  at: string;
  type: string;
  actor: string;
  channel: string | null;
  details?: Record<string, unknown>;
}

/** One request as the workflow sees it, with its audit timeline (GET /api/v1/requests/:id). */
export interface RequestDetail extends RequestView {
  workflowId: string;
  stepUp: boolean;
  /** What the caller may do now (the server still checks every action). */
  actions: { approve: boolean; cancel: boolean; extend: boolean; revoke: boolean };
  temporalUrl?: string;
  /** A sign-in (temporary user) waits for me: GET /api/v1/requests/:id/credentials. */
  credentials: boolean;
  timeline: TimelineEvent[];
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
