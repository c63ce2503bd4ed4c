/**
 * The chat adapters the worker's notifier sends through: the log always, Slack when it is configured.
 * (Teams joins here.)
 */
import { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { ChatAdapter } from '../chat-adapters/types';
import { SlackChatAdapter } from '../chat-adapters/slack/adapter';
import { slackClientOptions } from '../chat-adapters/slack/app';
import { SlackDirectory } from '../chat-adapters/slack/directory';
import { slackSettings } from '../chat-adapters/slack/settings';
import type { GrantflowConfig } from '../config/types';
import { portalLink } from '../core/links';

export interface ChatAdapterOptions {
  /** Retries of Slack Web API calls; tests use 0. */
  slackRetries?: number;
}

export function buildChatAdapters(
  config: () => GrantflowConfig,
  log: Logger,
  options: ChatAdapterOptions = {},
): ChatAdapter[] {
  const adapters: ChatAdapter[] = [];
  const slack = slackSettings(config());
  if (slack) {
    const client = new WebClient(slack.botToken, slackClientOptions(slack, options.slackRetries));
    const directory = new SlackDirectory(config, client, () => slack.matchUsersByEmail);
    adapters.push(
      new SlackChatAdapter(client, directory, log.child({ component: 'slack' }), {
        // Used only for messages of step-up flows (the adapter checks message.stepUp).
        stepUpUrlFor: (requestId) => portalLink(config(), requestId),
      }),
    );
  }
  return adapters;
}
