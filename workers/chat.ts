/**
 * The chat adapters the worker's notifier sends through (besides the log): Slack when it is configured — with
 * the token of the workspace connected in the portal, else SLACK_BOT_TOKEN, looked up for each message — and
 * Teams when it has an app id.
 */
import type { Logger } from 'pino';
import type { ChatAdapter } from '../chat-adapters/types';
import { SlackChatAdapter } from '../chat-adapters/slack/adapter';
import { slackConnection } from '../chat-adapters/slack/app';
import { SlackDirectory } from '../chat-adapters/slack/directory';
import { slackSettings } from '../chat-adapters/slack/settings';
import type { GrantflowConfig } from '../config/types';
import { portalLink } from '../core/links';
import { CloudAdapter } from 'botbuilder';
import type { ServiceClientCredentialsFactory } from 'botframework-connector';
import { TeamsChatAdapter } from '../chat-adapters/teams/adapter';
import { botFrameworkAuthentication } from '../chat-adapters/teams/app';
import { TeamsDirectory } from '../chat-adapters/teams/directory';
import { teamsSettings, type TeamsSettings } from '../chat-adapters/teams/settings';
import type { Store } from '../store/types';
import { keyringFromEnv, type Keyring } from '../core/keyring';

export interface ChatAdapterOptions {
  /** Retries of Slack Web API calls; tests use 0. */
  slackRetries?: number;
  /** Where Teams conversation references and Slack's connected workspace are kept. */
  store?: Store;
  /** Opens the connected Slack workspace's token. @default GRANTFLOW_ENCRYPTION_KEYS */
  keyring?: Keyring;
  /** Teams settings instead of those from the config and environment (tests). */
  teamsSettings?: TeamsSettings;
  /** Outgoing Bot Framework credentials (tests: no cloud identity service). */
  teamsCredentialsFactory?: ServiceClientCredentialsFactory;
}

export function buildChatAdapters(
  config: () => GrantflowConfig,
  log: Logger,
  options: ChatAdapterOptions = {},
): ChatAdapter[] {
  const adapters: ChatAdapter[] = [];
  const slack = slackSettings(config());
  if (slack) {
    const keyring = options.keyring ?? keyringFromEnv();
    const connection = slackConnection(slack, options.store?.knex, () => keyring, options.slackRetries);
    const client = () => connection.client();
    const directory = new SlackDirectory(config, client, () => slack.matchUsersByEmail);
    adapters.push(
      new SlackChatAdapter(client, directory, log.child({ component: 'slack' }), {
        // Used only for messages of step-up flows (the adapter checks message.stepUp).
        stepUpUrlFor: (requestId) => portalLink(config(), requestId),
      }),
    );
  }
  const teams = options.teamsSettings ?? teamsSettings(config());
  if (teams.appId && options.store) {
    const directory = new TeamsDirectory(config, options.store, () => teams.matchUsersByEmail);
    adapters.push(
      new TeamsChatAdapter({
        appId: teams.appId,
        adapter: new CloudAdapter(botFrameworkAuthentication(teams, options.teamsCredentialsFactory)),
        references: directory,
        log: log.child({ component: 'teams' }),
        stepUpUrlFor: (requestId) => portalLink(config(), requestId),
      }),
    );
  }
  return adapters;
}
