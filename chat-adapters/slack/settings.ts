/**
 * Slack settings: from the environment (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL),
 * else from grantflow.yaml's `slack:` section. Without a bot token and a signing secret (or an app token for
 * Socket Mode), Slack is off.
 */
import type { GrantflowConfig } from '../../config/types';
import { SlackSettingsError } from './errors';

export interface SlackSettings {
  botToken: string;
  /** Verifies HTTP requests; not needed in Socket Mode. */
  signingSecret?: string;
  /** An app-level token (`xapp-…`) turns on Socket Mode, for installations with no public URL. */
  appToken?: string;
  /** Base of a Slack-compatible Web API, e.g. `https://slack.com/api/` (the default). */
  apiUrl?: string;
  /** Map Slack users to identities by their email (`users.info`) when no Slack id is configured. */
  matchUsersByEmail: boolean;
}

export function slackSettings(
  config: GrantflowConfig,
  env: NodeJS.ProcessEnv = process.env,
): SlackSettings | undefined {
  const file = config.slack;
  const botToken = env.SLACK_BOT_TOKEN ?? file?.botToken;
  const signingSecret = env.SLACK_SIGNING_SECRET ?? file?.signingSecret;
  const appToken = env.SLACK_APP_TOKEN ?? file?.appToken;
  if (!botToken || (!signingSecret && !appToken)) return undefined;
  // Socket Mode with any other token would retry forever without saying why (the library treats the refusal
  // as passing), so a wrong kind of token is refused here, at once.
  if (appToken && !appToken.startsWith('xapp-'))
    throw new SlackSettingsError(
      'SLACK_APP_TOKEN must be an app-level token (xapp-…), not a bot or user token',
    );
  if (!botToken.startsWith('xoxb-'))
    throw new SlackSettingsError('SLACK_BOT_TOKEN must be a bot token (xoxb-…)');
  const apiUrl = env.SLACK_API_URL ?? file?.apiUrl;
  return {
    botToken,
    signingSecret,
    appToken,
    apiUrl: apiUrl && !apiUrl.endsWith('/') ? `${apiUrl}/` : apiUrl,
    matchUsersByEmail: env.SLACK_MATCH_USERS_BY_EMAIL
      ? env.SLACK_MATCH_USERS_BY_EMAIL === 'true'
      : (file?.matchUsersByEmail ?? false),
  };
}

/** The one line `grantflow dev` and the server log when Slack is off. */
export const SLACK_OFF_MESSAGE =
  'Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) to turn it on; see docs/slack.md';
