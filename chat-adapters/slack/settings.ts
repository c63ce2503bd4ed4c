/**
 * Slack settings: from the environment (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL,
 * and for "Connect Slack" from the portal Bolt's OAuth names SLACK_CLIENT_ID, SLACK_CLIENT_SECRET,
 * SLACK_STATE_SECRET, optionally SLACK_REDIRECT_URI), else from grantflow.yaml's `slack:` section.
 *
 * Slack is available when Grantflow can both hear from Slack (a signing secret, or an app-level token for
 * Socket Mode) and get a bot token: from the environment, or from a workspace connected with OAuth (kept in the
 * database, chat-adapters/slack/installation-store.ts). Otherwise Slack is off.
 */
import type { GrantflowConfig } from '../../config/types';
import { publicBaseUrl } from '../../core/links';
import { SlackSettingsError } from './errors';

/** The bot scopes Grantflow asks for when a workspace connects; the same list as slack-app-manifest.yaml. */
export const BOT_SCOPES = [
  'commands',
  'chat:write',
  'im:write',
  'im:history',
  'users:read',
  'users:read.email',
  'channels:read',
  'groups:read',
] as const;

/** The OAuth app ("Connect Slack"): Bolt's usual environment names. */
export interface SlackOAuthSettings {
  clientId: string;
  clientSecret: string;
  /** Signs the OAuth `state` (each state is also usable once: chat-adapters/slack/oauth-state.ts). */
  stateSecret: string;
  scopes: string[];
  /** Where Slack sends the browser back: SLACK_REDIRECT_URI, else <public URL>/slack/oauth_redirect. */
  redirectUri: string;
  /** Slack's consent page: https://slack.com/oauth/v2/authorize, or beside SLACK_API_URL. */
  authorizeUrl: string;
}

export interface SlackSettings {
  /** SLACK_BOT_TOKEN: used when no workspace is connected with OAuth. */
  botToken?: string;
  /** Verifies HTTP requests; not needed in Socket Mode. */
  signingSecret?: string;
  /** An app-level token (`xapp-…`) turns on Socket Mode, for installations with no public URL. */
  appToken?: string;
  /** Base of a Slack-compatible Web API, e.g. `https://slack.com/api/` (the default). */
  apiUrl?: string;
  /** Map Slack users to identities by their email (`users.info`) when no Slack id is configured. */
  matchUsersByEmail: boolean;
  /** Set when "Connect Slack" (OAuth v2 install) is configured. */
  oauth?: SlackOAuthSettings;
}

const OAUTH_VARIABLES = ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET'] as const;

/** What "Connect Slack" still needs, by variable name (empty when it is configured). */
export function missingOAuthSettings(env: NodeJS.ProcessEnv = process.env): string[] {
  const set = [env.SLACK_CLIENT_ID, env.SLACK_CLIENT_SECRET, env.SLACK_STATE_SECRET];
  const missing: string[] = OAUTH_VARIABLES.filter((_, i) => !set[i]?.trim());
  if (!env.SLACK_SIGNING_SECRET?.trim() && !env.SLACK_APP_TOKEN?.trim()) missing.push('SLACK_SIGNING_SECRET');
  return missing;
}

export function slackSettings(
  config: GrantflowConfig,
  env: NodeJS.ProcessEnv = process.env,
): SlackSettings | undefined {
  const file = config.slack;
  const botToken = env.SLACK_BOT_TOKEN || file?.botToken;
  const signingSecret = env.SLACK_SIGNING_SECRET || file?.signingSecret;
  const appToken = env.SLACK_APP_TOKEN || file?.appToken;
  const rawApiUrl = env.SLACK_API_URL || file?.apiUrl;
  const apiUrl = rawApiUrl && !rawApiUrl.endsWith('/') ? `${rawApiUrl}/` : rawApiUrl;
  const oauth = oauthSettings(config, env, apiUrl, Boolean(signingSecret || appToken));
  if ((!botToken && !oauth) || (!signingSecret && !appToken)) return undefined;
  // Socket Mode with any other token would retry forever without saying why (the library treats the refusal
  // as passing), so a wrong kind of token is refused here, at once.
  if (appToken && !appToken.startsWith('xapp-'))
    throw new SlackSettingsError(
      'SLACK_APP_TOKEN must be an app-level token (xapp-…), not a bot or user token',
    );
  if (botToken && !botToken.startsWith('xoxb-'))
    throw new SlackSettingsError('SLACK_BOT_TOKEN must be a bot token (xoxb-…)');
  return {
    botToken,
    signingSecret,
    appToken,
    apiUrl,
    matchUsersByEmail: env.SLACK_MATCH_USERS_BY_EMAIL
      ? env.SLACK_MATCH_USERS_BY_EMAIL === 'true'
      : (file?.matchUsersByEmail ?? false),
    ...(oauth ? { oauth } : {}),
  };
}

/**
 * The OAuth app settings, when SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET are all set. Some
 * but not all of them is a mistake, refused with the names of those missing.
 */
function oauthSettings(
  config: GrantflowConfig,
  env: NodeJS.ProcessEnv,
  apiUrl: string | undefined,
  canHear: boolean,
): SlackOAuthSettings | undefined {
  // Read by name (not in a loop) so that a search for each variable finds where it is used.
  const values = [env.SLACK_CLIENT_ID, env.SLACK_CLIENT_SECRET, env.SLACK_STATE_SECRET].map(
    (v) => v?.trim() ?? '',
  );
  if (values.every((v) => !v)) return undefined;
  const missing = OAUTH_VARIABLES.filter((_, i) => !values[i]);
  if (missing.length > 0)
    throw new SlackSettingsError(
      `Connect Slack needs ${OAUTH_VARIABLES.join(', ')}; ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`,
    );
  if (!canHear)
    throw new SlackSettingsError(
      'SLACK_CLIENT_ID is set but SLACK_SIGNING_SECRET is not: Grantflow could not verify what Slack sends (Basic Information → Signing Secret)',
    );
  const [clientId, clientSecret, stateSecret] = values as [string, string, string];
  if (stateSecret.length < 16)
    throw new SlackSettingsError(
      'SLACK_STATE_SECRET must be at least 16 characters (e.g. openssl rand -hex 32)',
    );
  const redirectUri = env.SLACK_REDIRECT_URI?.trim() || `${publicBaseUrl(config, env)}/slack/oauth_redirect`;
  try {
    new URL(redirectUri);
  } catch {
    throw new SlackSettingsError(`SLACK_REDIRECT_URI "${redirectUri}" is not a URL`);
  }
  return {
    clientId,
    clientSecret,
    stateSecret,
    scopes: [...BOT_SCOPES],
    redirectUri,
    authorizeUrl: apiUrl
      ? new URL('../oauth/v2/authorize', apiUrl).toString()
      : 'https://slack.com/oauth/v2/authorize',
  };
}

/** The one line `grantflow dev` and the server log when Slack is off. */
export const SLACK_OFF_MESSAGE =
  'Slack is off: set SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN (or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET to connect it from the portal; SLACK_APP_TOKEN for Socket Mode); see docs/slack.md';
