/**
 * The policy model: what grantflow.yaml says once it is loaded and resolved.
 * Pure data, no I/O: workflows import these types and the evaluation in ./evaluate.
 */

/** Where a notification about a request goes. The chat issues fill in the platform-specific fields. */
export interface NotificationTarget {
  /** The chat platform; `log` writes to the Grantflow log and is always available. */
  platform: 'slack' | 'teams' | 'log';
  /** A channel (Slack channel id, or Teams channel/conversation id). */
  channel?: string;
  /** Also send each approver a direct message. */
  dmApprovers?: boolean;
}

/** A person Grantflow knows, keyed by email. */
export interface Identity {
  email: string;
  name?: string;
  groups: string[];
  /** The person's own account in each integration, e.g. `{ 'sandbox-db': 'alice' }`. Never derived from the email. */
  accounts: Record<string, string>;
  /** Immutable Slack user id (`U…`), mapped by the Slack issue. */
  slackUserId?: string;
  /** Immutable Teams/Entra object id, mapped by the Teams issue. */
  teamsAadObjectId?: string;
}

/** A set of principals: users by email and groups by name. */
export interface PrincipalSet {
  users: string[];
  groups: string[];
}

/** A resource a flow offers, bound to an integration, with the permissions that may be requested on it. */
export interface FlowResource {
  name: string;
  integration: string;
  permissions: string[];
}

/** One access flow as configured (before it is snapshotted for a request). */
export interface AccessFlow {
  name: string;
  description?: string;
  requesters: PrincipalSet;
  resources: FlowResource[];
  approvers: PrincipalSet;
  requiredApprovals: number;
  autoApprove: boolean;
  defaultDurationMs: number;
  maxDurationMs: number;
  maxTotalDurationMs: number;
  approvalTimeoutMs: number;
  reminderBeforeMs: number;
  requireJustification: boolean;
  notify: NotificationTarget[];
  /** Approvers must decide in the portal (after its login), not with a click in chat. */
  stepUp: boolean;
}

/**
 * The flow as it applied to one request, frozen at request time and passed to the workflow,
 * so that its history shows which policy decided. Groups are resolved to emails.
 */
export interface FlowSnapshot {
  name: string;
  /** Emails of everyone who may approve, resolved from users and groups at request time. */
  approvers: string[];
  requiredApprovals: number;
  autoApprove: boolean;
  defaultDurationMs: number;
  maxDurationMs: number;
  maxTotalDurationMs: number;
  approvalTimeoutMs: number;
  reminderBeforeMs: number;
  requireJustification: boolean;
  notify: NotificationTarget[];
  /** Approvers must decide in the portal, not in chat. Absent in requests made before it existed. */
  stepUp?: boolean;
  /** Emails of Grantflow admins at request time: they may revoke any grant. */
  admins: string[];
  /** Hash of the config file the snapshot came from. */
  configVersion: string;
}
