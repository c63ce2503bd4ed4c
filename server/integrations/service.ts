/**
 * The state of every integration, for the admin Integrations page: Slack (which token is in use, the workspace
 * connected with OAuth), Teams (app id, last activity, who the bot can reach), each connector's health (checked
 * on demand and every GRANTFLOW_INTEGRATION_CHECK_INTERVAL seconds, results kept in the database so every API
 * server shows the same), active grants, overdue revocations, and routing warnings. Disconnecting Slack is here
 * too: auth.revoke, then the row is removed and the change audited.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { routingProbe, routingWarnings } from '../../chat-adapters/routing';
import type { SlackConnection } from '../../chat-adapters/slack/connection';
import { fromWebApiError, SlackApiError } from '../../chat-adapters/slack/errors';
import type { KnexInstallationStore } from '../../chat-adapters/slack/installation-store';
import { missingOAuthSettings, type SlackSettings } from '../../chat-adapters/slack/settings';
import { teamsAppPackage, type TeamsAppPackage } from '../../chat-adapters/teams/app-package';
import type { TeamsSettings } from '../../chat-adapters/teams/settings';
import type { GrantflowConfig } from '../../config/types';
import { createConnectorRegistry } from '../../connectors/registry';
import type { ConnectorRegistry, HealthResult } from '../../connectors/types';
import type { Actor, AppContext } from '../../core/context';
import type { Keyring } from '../../core/keyring';
import { isInSet } from '../../policy/evaluate';
import { findIdentity } from '../../policy/snapshot';
import {
  CheckIntervalError,
  SlackNotConnectedError,
  SlackRevokeError,
  UnknownIntegrationError,
} from './errors';
import type {
  ConnectorStatus,
  IntegrationsOverview,
  RoutingWarning,
  SlackStatus,
  TeamsStatus,
} from './types';

/** Default seconds between background connector checks. */
export const DEFAULT_CHECK_INTERVAL_SECONDS = 300;
/** A connector check that takes longer than this fails. */
const CHECK_TIMEOUT_MS = 15_000;
/** How long a token Slack accepted (or refused) is taken as such before auth.test is asked again. */
const LIVENESS_CACHE_MS = 60_000;
/** Routing checks call Slack once per channel; the page refreshes often, so their result is kept this long. */
const ROUTING_CACHE_MS = 60_000;
/** Slack errors that mean the token is dead already: disconnecting then only has to forget it. */
const DEAD_TOKEN_ERRORS = new Set([
  'invalid_auth',
  'token_revoked',
  'account_inactive',
  'not_authed',
  'token_expired',
]);

/** GRANTFLOW_INTEGRATION_CHECK_INTERVAL (seconds; 0 = only on demand). */
export function checkIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.GRANTFLOW_INTEGRATION_CHECK_INTERVAL?.trim();
  if (!raw) return DEFAULT_CHECK_INTERVAL_SECONDS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new CheckIntervalError(raw);
  return seconds;
}

export interface IntegrationsServiceOptions {
  ctx: AppContext;
  log: Logger;
  /** Slack's settings and the connection over them (both undefined: Slack is off on this server). */
  slack: { settings?: SlackSettings; connection?: SlackConnection };
  /** Workspaces connected with OAuth (also inside the connection; here for the page and disconnect). */
  installations?: KnexInstallationStore;
  teams: TeamsSettings;
  keyring: () => Keyring | undefined;
  checkIntervalSeconds: number;
  env?: NodeJS.ProcessEnv;
}

export class IntegrationsService {
  private registry?: { config: GrantflowConfig; connectors: ConnectorRegistry };
  private routingCache?: { config: GrantflowConfig; at: number; warnings: Promise<RoutingWarning[]> };
  private timer?: NodeJS.Timeout;
  private builtPackage?: { appId: string | undefined; built: TeamsAppPackage };
  private readonly liveness = new Map<string, { at: number; problem: Promise<TokenProblem | undefined> }>();

  constructor(private readonly options: IntegrationsServiceOptions) {}

  async overview(): Promise<IntegrationsOverview> {
    const [slack, teams, connectors, routing] = await Promise.all([
      this.slackStatus(),
      this.teamsStatus(),
      this.connectorStatuses(),
      this.routing(),
    ]);
    return { slack, teams, connectors, routing, checkIntervalSeconds: this.options.checkIntervalSeconds };
  }

  async slackStatus(): Promise<SlackStatus> {
    const { settings } = this.options.slack;
    const env = this.options.env ?? process.env;
    const base = {
      mode: settings?.appToken ? ('socket' as const) : ('http' as const),
      oauthAvailable: settings?.oauth !== undefined,
      oauthMissing: settings?.oauth ? [] : missingOAuthSettings(env),
      environmentToken: Boolean(settings?.botToken ?? env.SLACK_BOT_TOKEN),
    };
    const installations = this.options.installations;
    // Open the token first (which also re-seals it under the current key), then read what the page shows.
    let opened: Awaited<ReturnType<KnexInstallationStore['current']>>;
    let openError: string | undefined;
    try {
      opened = await installations?.current();
    } catch (err) {
      openError = messageOf(err);
    }
    const view = installations ? (await installations.list())[0] : undefined;
    if (view) {
      if (openError)
        return { ...base, state: 'error', source: 'oauth', installation: view, message: openError };
      if (!settings)
        return {
          ...base,
          state: 'error',
          source: 'oauth',
          installation: view,
          message: `a workspace is connected, but Slack is not configured on this server (${missingOAuthSettings(env).join(', ')} not set), so its token is not used`,
        };
      const token = opened?.installation.bot?.token;
      return this.withLiveness({ ...base, state: 'active', source: 'oauth', installation: view }, token);
    }
    if (settings?.botToken)
      return this.withLiveness({ ...base, state: 'active', source: 'environment' }, settings.botToken);
    return {
      ...base,
      state: 'off',
      source: 'none',
      message: base.oauthAvailable
        ? 'No workspace is connected: use Connect Slack.'
        : `Slack is off: set ${base.oauthMissing.join(', ')} to connect it from here, or SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET.`,
    };
  }

  /**
   * An active status, unless Slack refuses its token (the app was removed, the token revoked): then `error`, with
   * what to do. Asked with auth.test, at most once a minute per token; Slack unreachable only adds a message.
   */
  private async withLiveness(status: SlackStatus, token: string | undefined): Promise<SlackStatus> {
    const connection = this.options.slack.connection;
    if (!token || !connection) return status;
    let check = this.liveness.get(token);
    if (!check || Date.now() - check.at > LIVENESS_CACHE_MS) {
      check = { at: Date.now(), problem: tokenProblem(connection, token) };
      this.liveness.set(token, check);
    }
    const problem = await check.problem;
    if (!problem) return status;
    if (problem.dead)
      return {
        ...status,
        state: 'error',
        message:
          status.source === 'oauth'
            ? `Slack refuses the connected workspace's token (${problem.message}): disconnect, then connect Slack again`
            : `Slack refuses SLACK_BOT_TOKEN (${problem.message}): set a working bot token, or connect a workspace here`,
      };
    return { ...status, message: `Slack could not be reached to check the token: ${problem.message}` };
  }

  async teamsStatus(): Promise<TeamsStatus> {
    const { teams } = this.options;
    const store = this.options.ctx.store;
    const [activity, userKeys, emailKeys, channelKeys] = await Promise.all([
      store.getIntegrationStatus('teams'),
      store.listChatReferenceKeys('teams', 'user:'),
      store.listChatReferenceKeys('teams', 'email:'),
      store.listChatReferenceKeys('teams', 'channel:'),
    ]);
    // Reachable: an identity with a stored personal conversation, by AAD object id or by email.
    const users = new Set(userKeys.map((k) => k.slice('user:'.length)));
    const emails = new Set(emailKeys.map((k) => k.slice('email:'.length)));
    const reachablePeople = this.options.ctx
      .config()
      .identities.filter(
        (i) => (i.teamsAadObjectId !== undefined && users.has(i.teamsAadObjectId)) || emails.has(i.email),
      ).length;
    const lastActivityAt = activity?.status.lastActivityAt;
    let packageProblem: string | undefined;
    if (teams.appId)
      try {
        this.teamsPackage();
      } catch (err) {
        packageProblem = messageOf(err);
      }
    return {
      configured: Boolean(teams.appId),
      ...(teams.appId ? { appId: teams.appId } : {}),
      ...(typeof lastActivityAt === 'string' ? { lastActivityAt } : {}),
      reachablePeople,
      channels: channelKeys.length,
      packageAvailable: Boolean(teams.appId) && !packageProblem,
      ...(!teams.appId
        ? { message: 'Teams is off: set MicrosoftAppId and MicrosoftAppPassword (docs/teams.md).' }
        : packageProblem
          ? { message: packageProblem }
          : {}),
    };
  }

  /** The Teams app package with this installation's bot id (built once per app id). */
  teamsPackage(): TeamsAppPackage {
    const appId = this.options.teams.appId;
    const cached = this.builtPackage;
    if (cached && cached.appId === appId) return cached.built;
    const built = teamsAppPackage(appId);
    this.builtPackage = { appId, built };
    return built;
  }

  async connectorStatuses(): Promise<ConnectorStatus[]> {
    const config = this.options.ctx.config();
    const stored = new Map(
      (await this.options.ctx.store.listIntegrationStatus()).map((row) => [row.subject, row]),
    );
    return Promise.all(
      Object.entries(config.integrations).map(async ([name, integration]) => {
        const last = stored.get(`connector:${name}`);
        return this.connectorStatus(
          name,
          integration.type,
          last?.status as StoredCheck | undefined,
          last?.updatedAt,
        );
      }),
    );
  }

  /**
   * GET /api/v1/integrations/health (any logged-in person): every connector's health checked now, and whether
   * each chat platform is on. The connectors are the page's own (one set of pools per API server).
   */
  async health(): Promise<{
    integrations: ({ name: string; type?: string; ok: boolean; message?: string } & Partial<HealthResult>)[];
    chat: { slack: boolean; teams: boolean };
  }> {
    const registry = this.connectors();
    const integrations = await Promise.all(
      registry.names().map(async (name) => {
        try {
          return { name, type: registry.get(name).type, ...(await registry.get(name).checkHealth()) };
        } catch (err) {
          return { name, ok: false, message: messageOf(err) };
        }
      }),
    );
    return {
      integrations,
      chat: { slack: this.options.slack.settings !== undefined, teams: Boolean(this.options.teams.appId) },
    };
  }

  /** Runs one connector's health check now, keeps the result, and audits who asked. */
  async checkConnector(name: string, actor?: Actor): Promise<ConnectorStatus> {
    const config = this.options.ctx.config();
    const integration = config.integrations[name];
    if (!integration) throw new UnknownIntegrationError(name);
    const result = await this.runCheck(name);
    const at = new Date();
    await this.options.ctx.store.putIntegrationStatus(`connector:${name}`, result, at);
    if (actor)
      await this.options.ctx.store.appendAudit({
        eventKey: `integration:checked:${randomUUID()}`,
        type: 'integration.checked',
        actor: actor.email,
        channel: actor.channel,
        details: { integration: name, ok: result.ok, ...(result.message ? { message: result.message } : {}) },
      });
    return this.connectorStatus(name, integration.type, result, at.toISOString());
  }

  /** Checks every connector (the background pass); a failure of one does not stop the others. */
  async checkAll(): Promise<void> {
    for (const name of Object.keys(this.options.ctx.config().integrations)) {
      try {
        const result = await this.runCheck(name);
        await this.options.ctx.store.putIntegrationStatus(`connector:${name}`, result);
        if (!result.ok)
          this.options.log.warn(
            { integration: name, problem: result.message },
            `integration ${name} is failing its health check`,
          );
      } catch (err) {
        this.options.log.warn(
          { integration: name, err: messageOf(err) },
          'could not record a connector check',
        );
      }
    }
  }

  /** Checks now and then every interval, in the background; stops with `stop()`. */
  startPeriodicChecks(): void {
    const seconds = this.options.checkIntervalSeconds;
    if (seconds <= 0 || this.timer) return;
    const pass = () =>
      void this.checkAll().catch((err: unknown) =>
        this.options.log.warn({ err: messageOf(err) }, 'connector checks failed'),
      );
    pass();
    this.timer = setInterval(pass, seconds * 1000);
    this.timer.unref();
  }

  /** Routing warnings for the config in force (kept for a minute: each Slack channel is one API call). */
  routing(fresh = false): Promise<RoutingWarning[]> {
    const config = this.options.ctx.config();
    const cached = this.routingCache;
    if (!fresh && cached && cached.config === config && Date.now() - cached.at < ROUTING_CACHE_MS)
      return cached.warnings;
    const warnings = (async () => {
      let slack;
      try {
        slack = await this.options.slack.connection?.checkClient();
      } catch (err) {
        this.options.log.warn({ err: messageOf(err) }, 'the connected Slack workspace cannot be used');
      }
      return routingWarnings(
        config,
        routingProbe({ slack, teamsAppId: this.options.teams.appId, store: this.options.ctx.store }),
      );
    })();
    this.routingCache = { config, at: Date.now(), warnings };
    warnings.catch(() => {
      if (this.routingCache?.warnings === warnings) this.routingCache = undefined;
    });
    return warnings;
  }

  /** Forget what is cached (routing, token checks): after connect or disconnect, and in tests. */
  invalidate(): void {
    this.routingCache = undefined;
    this.liveness.clear();
  }

  /**
   * Revokes the connected workspace's bot token in Slack (auth.revoke) and forgets it. A token Slack says is dead
   * already is simply forgotten; any other failure keeps it (so it can still be revoked) unless `force`.
   */
  async disconnectSlack(actor: Actor, force = false): Promise<SlackStatus> {
    const installations = this.options.installations;
    const connection = this.options.slack.connection;
    const current = installations ? await installations.current() : undefined;
    if (!installations || !connection || !current) throw new SlackNotConnectedError();
    const token = current.installation.bot?.token;
    let revoked = false;
    let revokeError: string | undefined;
    if (token) {
      try {
        await connection.clientFor(token).auth.revoke();
        revoked = true;
      } catch (err) {
        const e = fromWebApiError('auth.revoke', err);
        const dead = e instanceof SlackApiError && DEAD_TOKEN_ERRORS.has(e.slackError);
        if (!dead && !force) throw new SlackRevokeError(e.message);
        revokeError = e.message;
      }
    }
    const key = current.installation.isEnterpriseInstall ? current.view.enterpriseId : current.view.teamId;
    await installations.remove(key ?? current.view.teamId);
    await this.options.ctx.store.appendAudit({
      eventKey: `integration:slack_disconnected:${randomUUID()}`,
      type: 'integration.slack_disconnected',
      actor: actor.email,
      channel: actor.channel,
      details: {
        teamId: current.view.teamId,
        ...(current.view.teamName ? { teamName: current.view.teamName } : {}),
        revoked,
        ...(revokeError ? { revokeError } : {}),
        forced: force,
      },
    });
    this.invalidate();
    this.options.log.info(
      { teamId: current.view.teamId, revoked, by: actor.email },
      'Slack workspace disconnected',
    );
    return this.slackStatus();
  }

  /** Whether `email` is an admin by the config in force (installs started by an admin must still be one). */
  isAdmin(email: string): boolean {
    const config = this.options.ctx.config();
    const identity = findIdentity(config, email);
    return identity !== undefined && isInSet(identity, config.admins);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.registry?.connectors.closeAll();
    this.registry = undefined;
  }

  /** The connectors of the config in force; rebuilt (and the old ones closed) when the config is reloaded. */
  connectors(): ConnectorRegistry {
    const config = this.options.ctx.config();
    if (this.registry?.config !== config) {
      const old = this.registry?.connectors;
      this.registry = {
        config,
        connectors: createConnectorRegistry(config.integrations, { log: this.options.log }),
      };
      void old?.closeAll().catch(() => undefined);
    }
    return this.registry.connectors;
  }

  private async runCheck(name: string): Promise<StoredCheck> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const health = await Promise.race([
        Promise.resolve().then(() => this.connectors().get(name).checkHealth()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)),
            CHECK_TIMEOUT_MS,
          );
        }),
      ]);
      return storedCheck(health);
    } catch (err) {
      return { ok: false, message: messageOf(err), checks: [] };
    } finally {
      clearTimeout(timer);
    }
  }

  private async connectorStatus(
    name: string,
    type: string,
    check: StoredCheck | undefined,
    checkedAt: string | undefined,
  ): Promise<ConnectorStatus> {
    const store = this.options.ctx.store;
    const [activeGrants, overdue] = await Promise.all([
      store.countRequests({ status: 'ACTIVE', integration: name }),
      store.listRequests({ status: 'REVOKE_OVERDUE', integration: name, limit: 1000 }),
    ]);
    return {
      name,
      type,
      ...(check ? { ok: check.ok } : {}),
      ...(check?.message ? { message: check.message } : {}),
      checks: check?.checks ?? [],
      ...(check && checkedAt ? { checkedAt } : {}),
      activeGrants,
      overdueRevocations: overdue.length,
      overdueRequestIds: overdue.slice(0, 10).map((r) => r.id),
    };
  }
}

/** Why Slack did not accept a token: `dead` when Slack refused it, else Slack could not be asked. */
interface TokenProblem {
  dead: boolean;
  message: string;
}

async function tokenProblem(connection: SlackConnection, token: string): Promise<TokenProblem | undefined> {
  try {
    await (await connection.checkClient(token))!.auth.test();
    return undefined;
  } catch (err) {
    const e = fromWebApiError('auth.test', err);
    const dead = e instanceof SlackApiError && DEAD_TOKEN_ERRORS.has(e.slackError);
    return { dead, message: e instanceof SlackApiError ? e.slackError : e.message };
  }
}

/** What is kept of one health check (never credentials: connectors' messages do not carry them). */
type StoredCheck = {
  ok: boolean;
  message?: string;
  checks: { name: string; ok: boolean; message?: string }[];
};

function storedCheck(health: HealthResult): StoredCheck {
  return {
    ok: health.ok,
    ...(health.message ? { message: health.message } : {}),
    checks: (health.checks ?? []).map((c) => ({
      name: c.name,
      ok: c.ok,
      ...(c.message ? { message: c.message } : {}),
    })),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
