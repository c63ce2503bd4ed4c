/**
 * What the admin Integrations page shows (GET /api/v1/admin/integrations): each chat platform's connection,
 * each connector's health, active grants and overdue revocations, and warnings about where flows send
 * notifications. The portal reads these types directly (type-only imports).
 */

/** Where the Slack bot token in use comes from. */
export type SlackTokenSource = 'oauth' | 'environment' | 'none';

/** The Slack workspace installed with "Connect" (OAuth v2); never the token. */
export interface SlackInstallationView {
  teamId: string;
  teamName?: string;
  enterpriseId?: string;
  enterpriseName?: string;
  /** The bot's user id (U…), and its bot id (B…). */
  botUserId?: string;
  botId?: string;
  appId?: string;
  /** Scopes the workspace granted the bot. */
  scopes: string[];
  /** The admin who connected it (Grantflow identity), and when. */
  installedBy: string;
  installedAt: string;
  /** The encryption key the token is sealed with (for key rotation). */
  keyId: string;
}

export interface SlackStatus {
  /** `active`: a token is in use; `off`: none; `error`: a token exists but cannot be used (see message). */
  state: 'active' | 'off' | 'error';
  source: SlackTokenSource;
  /** HTTP events (POST /slack/events) or Socket Mode. */
  mode: 'http' | 'socket';
  /** SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET (with SLACK_SIGNING_SECRET) are set: Connect works. */
  oauthAvailable: boolean;
  /** What is missing for Connect, by variable name (empty when available). */
  oauthMissing: string[];
  /** SLACK_BOT_TOKEN is set (used when no workspace is connected). */
  environmentToken: boolean;
  installation?: SlackInstallationView;
  /** Why the state is `error` or `off`, in a sentence. */
  message?: string;
}

export interface TeamsStatus {
  /** MicrosoftAppId is set. */
  configured: boolean;
  appId?: string;
  /** When the bot last received an activity from Teams. */
  lastActivityAt?: string;
  /** People the bot can message proactively (they talked to it, or it was installed for them). */
  reachablePeople: number;
  /** Channels the bot was added to (it can post there). */
  channels: number;
  /** GET /api/v1/admin/integrations/teams/package answers with the app package. */
  packageAvailable: boolean;
  message?: string;
}

/** One check of a connector's health, as the connector reports it. */
export interface ConnectorCheckView {
  name: string;
  ok: boolean;
  message?: string;
}

export interface ConnectorStatus {
  name: string;
  type: string;
  /** The last check's result; `undefined` when it was never checked. */
  ok?: boolean;
  message?: string;
  checks: ConnectorCheckView[];
  checkedAt?: string;
  /** Grants this integration holds now (status ACTIVE). */
  activeGrants: number;
  /** Revocations taking longer than settings.revokeOverdueAfter (status REVOKE_OVERDUE). */
  overdueRevocations: number;
  /** Up to 10 of the overdue requests' ids. */
  overdueRequestIds: string[];
}

export type RoutingProblem =
  'platform_not_connected' | 'not_in_channel' | 'channel_not_found' | 'channel_unknown';

/** A flow sends notifications where nobody will see them. */
export interface RoutingWarning {
  platform: 'slack' | 'teams';
  /** The channel, when the problem is about one. */
  channel?: string;
  flows: string[];
  problem: RoutingProblem;
  /** One sentence that says what is wrong and how to fix it. */
  message: string;
}

export interface IntegrationsOverview {
  slack: SlackStatus;
  teams: TeamsStatus;
  connectors: ConnectorStatus[];
  routing: RoutingWarning[];
  /** How often connectors are checked in the background, in seconds (0: only on demand). */
  checkIntervalSeconds: number;
}
