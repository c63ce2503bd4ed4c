/**
 * The loaded grantflow.yaml: validated, with secret references resolved and durations in milliseconds.
 */
import type { AccessFlow, Identity, NotificationTarget, PrincipalSet } from '../policy/types';
import type { PostgresIntegrationConfig } from '../connectors/postgres/config';
import type { WebhookIntegrationConfig } from '../connectors/webhook/config';
import type { AwsIntegrationConfig } from '../connectors/aws/config';
import type { MysqlIntegrationConfig } from '../connectors/mysql/config';

export type IntegrationConfig =
  PostgresIntegrationConfig | MysqlIntegrationConfig | AwsIntegrationConfig | WebhookIntegrationConfig;

/** What drift reconciliation does about access in an integration that no grant backs (docs/reconcile.md). */
export type ReconcileMode = 'report' | 'revoke';

export interface AdminsConfig extends PrincipalSet {
  /** Where operator alerts go (e.g. a revoke that keeps failing). */
  alerts: NotificationTarget[];
}

export interface GrantflowConfig {
  /** Absolute path of the file it was loaded from. */
  file: string;
  /** SHA-256 of the file's text: recorded with each request's flow snapshot. */
  version: string;
  /** The raw text, kept to diff against the next load. */
  text: string;
  /** Temporal task queue the worker polls. @default 'grantflow' */
  taskQueue: string;
  identities: Identity[];
  admins: AdminsConfig;
  integrations: Record<string, IntegrationConfig>;
  flows: AccessFlow[];
  /** Where people reach the API server and portal (links in chat, step-up). */
  publicUrl?: string;
  /** Slack settings from the file (secrets resolved); the environment overrides them. */
  slack?: {
    botToken?: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl?: string;
    matchUsersByEmail: boolean;
  };
  /** Teams settings from the file (secrets resolved); botbuilder's environment variables override them. */
  teams?: {
    appId?: string;
    appPassword?: string;
    appType?: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
    tenantId?: string;
    matchUsersByEmail: boolean;
  };
  /** Drift reconciliation: a Temporal Schedule compares each target with the grants Grantflow holds. */
  reconcile: {
    /** The Schedule's interval. @default '5m' */
    everyMs: number;
    /** The mode of every integration (those the file does not name: `report`). */
    integrations: Record<string, ReconcileMode>;
  };
  settings: {
    /** Failed revoke attempts after which admins are alerted. @default 5 */
    revokeAlertAfterAttempts: number;
    /** Cap on the backoff between revoke attempts. @default '1m' */
    revokeMaxBackoffMs: number;
    /** How recent a portal login must be to decide on a step-up flow. @default '10m' */
    stepUpMaxAgeMs: number;
    /** A revoke not done this long after it started is REVOKE_OVERDUE and alerts admins. @default '5m' */
    revokeOverdueAfterMs: number;
  };
}
