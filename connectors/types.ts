/**
 * The Connector interface: how Grantflow changes access in a target system.
 * Connectors know nothing of Temporal, chat or policy; activities call them, and only activities do.
 *
 * A connector either shares access between grants (`sharesAccess`: membership of a role or group — two requests
 * for the same thing hold one piece of access, and the activity revokes it only when the last one ends), or makes
 * access per grant (temporary users: each grant is its own, named after its request).
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

/** One grant of a target, by one request: what grant, revoke and check are about. */
export interface GrantRef {
  target: AccessTarget;
  /** The request this grant belongs to; per-grant connectors name what they create after it. */
  requestId: string;
}

export interface GrantRequest extends GrantRef {
  /** When the grant is due to end (before any extension). */
  expiresAt: Date;
  /**
   * The latest it could end with every extension the flow allows: a backstop that connectors may set in the target
   * system (e.g. VALID UNTIL) should the revoke never come. Defaults to expiresAt.
   */
  latestEnd?: Date;
}

/** Sign-in details made for one grant (temporary users). Secret: the activity hands them to the requester only. */
export interface IssuedCredentials {
  username: string;
  password: string;
  /** How to connect, without the password (e.g. `postgres://gf_x@db:5432/app`). */
  connectHint?: string;
}

export interface GrantResult {
  /** Non-secret facts about what was done, recorded in the audit log (never a password). */
  details: Record<string, string | number | boolean>;
  /** Present when the grant made its own sign-in; never logged, returned or recorded. */
  credentials?: IssuedCredentials;
}

export type RevokeRequest = GrantRef;

export interface RevokeResult {
  /** True when the access was already absent: revoke is idempotent and this is not an error. */
  alreadyAbsent: boolean;
  /** Open sessions or connections of the account that were ended so that access is really gone. */
  sessionsTerminated: number;
}

/** What the target system says about one grant right now. */
export interface AccessCheck {
  /** The access exists (membership, user, assignment). */
  exists: boolean;
  /** Live sessions or connections that could still use it (0 where the system has no such notion). */
  liveSessions: number;
}

export interface CheckOptions {
  /** Count only sessions that started before this (after a revoke: the ones that could still hold the access). */
  sessionsBefore?: Date;
}

/** Access that exists in the target system right now, for drift checks. */
export interface ExistingAccess {
  account: string;
  permission: string;
  /** For per-grant access (temporary users): the request it was made for. */
  requestId?: string;
}

/** One named check of health (connectivity, a privilege Grantflow's account needs). */
export interface HealthCheck {
  name: string;
  ok: boolean;
  message?: string;
}

export interface HealthResult {
  ok: boolean;
  /** A short, human-readable reason when not ok (never a secret). */
  message?: string;
  latencyMs: number;
  /** The individual checks behind `ok`, when the connector makes several. */
  checks?: HealthCheck[];
}

export interface Connector {
  /** The connector type, e.g. `postgres`. */
  readonly type: string;
  /**
   * True when the access is shared by every grant of the same target (role or group membership); false when
   * each grant makes its own (temporary users), so the activity needs no holder bookkeeping.
   */
  readonly sharesAccess: boolean;
  /** Grants the access. Must be idempotent: granting access that exists already succeeds. */
  grant(request: GrantRequest): Promise<GrantResult>;
  /** Revokes the access and ends live sessions. Succeeds when the access is already gone. */
  revoke(request: RevokeRequest): Promise<RevokeResult>;
  /**
   * Whether the grant's access exists now, and its live sessions, read with the system's listing calls: verifies
   * grants and revokes. Undefined when the system offers no way to look (webhook): the audit then says so.
   */
  check?(ref: GrantRef, options?: CheckOptions): Promise<AccessCheck>;
  /** Lists the access of the permissions this connector manages that exists now. */
  listAccess(): Promise<ExistingAccess[]>;
  /** Whether the target system is reachable, and Grantflow's account has what it needs. */
  checkHealth(): Promise<HealthResult>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Looks up the connector for an integration name. */
export interface ConnectorRegistry {
  get(integration: string): Connector;
  names(): string[];
  closeAll(): Promise<void>;
}
