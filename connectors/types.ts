/**
 * The Connector interface: how Grantflow changes access in a target system.
 * Connectors know nothing of Temporal, chat or policy; activities call them, and only activities do.
 */

/** One piece of access: a permission for an account in an integration. */
export interface AccessTarget {
  /** The integration (connector instance) name from grantflow.yaml. */
  integration: string;
  /** The person's own account in that integration (from `accounts:` in their identity). */
  account: string;
  /** The permission name, as listed by the flow's resource. */
  permission: string;
}

export interface GrantRequest {
  target: AccessTarget;
  /** The request this grant belongs to, for logs and for connectors that tag what they create. */
  requestId: string;
  /** When the grant is due to end; connectors may set it as a backstop in the target system. */
  expiresAt: Date;
}

export interface GrantResult {
  /** Non-secret facts about what was done, recorded in the audit log (never a password). */
  details: Record<string, string | number | boolean>;
}

export interface RevokeRequest {
  target: AccessTarget;
  requestId: string;
}

export interface RevokeResult {
  /** True when the access was already absent: revoke is idempotent and this is not an error. */
  alreadyAbsent: boolean;
  /** Open sessions of the account that were terminated so that access is really gone. */
  sessionsTerminated: number;
}

/** Access that exists in the target system right now, for drift checks. */
export interface ExistingAccess {
  account: string;
  permission: string;
}

export interface HealthResult {
  ok: boolean;
  /** A short, human-readable reason when not ok (never a secret). */
  message?: string;
  latencyMs: number;
}

export interface Connector {
  /** The connector type, e.g. `postgres`. */
  readonly type: string;
  /** Grants the access. Must be idempotent: granting access that exists already succeeds. */
  grant(request: GrantRequest): Promise<GrantResult>;
  /** Revokes the access and ends live sessions. Succeeds when the access is already gone. */
  revoke(request: RevokeRequest): Promise<RevokeResult>;
  /** Lists the access of the permissions this connector manages that exists now. */
  listAccess(): Promise<ExistingAccess[]>;
  /** Whether the target system is reachable with Grantflow's own credentials. */
  checkHealth(): Promise<HealthResult>;
  /** Whether the access exists right now (used to verify grants and revokes). */
  hasAccess(target: AccessTarget): Promise<boolean>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Looks up the connector for an integration name. */
export interface ConnectorRegistry {
  get(integration: string): Connector;
  names(): string[];
  closeAll(): Promise<void>;
}
