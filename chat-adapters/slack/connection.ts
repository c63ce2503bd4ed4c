/**
 * Which Slack bot token Grantflow uses, asked afresh each time: the workspace connected from the portal (OAuth,
 * kept encrypted in the database) first, else SLACK_BOT_TOKEN, else none — Slack is then off and says so.
 * Disconnecting in the portal therefore takes effect on the next message, in every process, with no restart.
 */
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { SlackTokenSource } from '../../server/integrations/types';
import type { KnexInstallationStore } from './installation-store';
import type { SlackSettings } from './settings';

/** How long a check's Slack call may take. */
const CHECK_TIMEOUT_MS = 10_000;

/** A usable bot token and where it came from. */
export interface SlackBotToken {
  token: string;
  source: Exclude<SlackTokenSource, 'none'>;
  /** The connected workspace (OAuth), when the token is its. */
  teamId?: string;
}

export class SlackConnection {
  private readonly clients = new Map<string, WebClient>();
  private readonly checkClients = new Map<string, WebClient>();

  constructor(
    readonly settings: SlackSettings,
    /** Workspaces connected with OAuth; undefined where there is no database (then only the environment). */
    readonly installations: KnexInstallationStore | undefined,
    private readonly clientOptions: WebClientOptions,
  ) {}

  /**
   * The token for events from `teamId` (any connected workspace when none is named). A workspace other than the
   * one connected falls back to SLACK_BOT_TOKEN, which is what Grantflow did before OAuth existed.
   */
  async botToken(teamId?: string, enterpriseId?: string): Promise<SlackBotToken | undefined> {
    if (this.installations) {
      const installation = teamId
        ? await this.installations.forTeam(teamId, enterpriseId)
        : (await this.installations.current())?.installation;
      const token = installation?.bot?.token;
      if (token)
        return { token, source: 'oauth', teamId: installation.team?.id ?? installation.enterprise?.id };
    }
    return this.settings.botToken ? { token: this.settings.botToken, source: 'environment' } : undefined;
  }

  /** A Web API client with the current token, or undefined when Slack has no token (off). */
  async client(): Promise<WebClient | undefined> {
    const current = await this.botToken();
    return current ? this.clientFor(current.token) : undefined;
  }

  /**
   * A client for checks a person is waiting on (the Integrations page, `flows validate`): no retries and a short
   * timeout, where the notifier's client keeps Slack's patient retry policy.
   */
  async checkClient(token?: string): Promise<WebClient | undefined> {
    const use = token ?? (await this.botToken())?.token;
    if (!use) return undefined;
    let client = this.checkClients.get(use);
    if (!client) {
      client = new WebClient(use, {
        ...this.clientOptions,
        retryConfig: { retries: 0 },
        timeout: CHECK_TIMEOUT_MS,
      });
      this.checkClients.set(use, client);
    }
    return client;
  }

  /** One client per token, reused. */
  clientFor(token: string): WebClient {
    let client = this.clients.get(token);
    if (!client) {
      client = new WebClient(token, this.clientOptions);
      this.clients.set(token, client);
    }
    return client;
  }

  /** A client with no token, for OAuth exchanges (oauth.v2.access) and the like. */
  get options(): WebClientOptions {
    return this.clientOptions;
  }
}
