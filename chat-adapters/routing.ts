/**
 * Where flows send notifications, checked against what is connected: a flow that notifies a chat platform that
 * is off, a Slack channel the bot is not in (or cannot see), or a Teams channel whose team never added the bot
 * would leave approvals unseen. The same warnings appear in `grantflow flows validate`, the portal's Flows and
 * Integrations pages, and the API server's start (which `npm start` prints).
 */
import type { WebClient } from '@slack/web-api';
import type { GrantflowConfig } from '../config/types';
import type { RoutingProblem, RoutingWarning } from '../server/integrations/types';
import type { Store } from '../store/types';
import { fromWebApiError, SlackApiError } from './slack/errors';

/** What a Slack channel looks like to the bot. */
export type SlackChannelState = 'member' | 'not_a_member' | 'not_found' | { unknown: string };

/** What the checks need to know about each platform; each part is built by `routingProbe`. */
export interface RoutingProbe {
  slack: { connected: boolean; channel?: (id: string) => Promise<SlackChannelState> };
  teams: { connected: boolean; channelKnown?: (id: string) => Promise<boolean> };
}

/** Builds a probe from a Slack client (undefined: Slack has no token) and the store of Teams references. */
export function routingProbe(parts: {
  slack: WebClient | undefined;
  teamsAppId: string | undefined;
  store?: Store;
}): RoutingProbe {
  const { slack, store } = parts;
  return {
    slack: {
      connected: slack !== undefined,
      ...(slack ? { channel: (id: string) => slackChannelState(slack, id) } : {}),
    },
    teams: {
      connected: Boolean(parts.teamsAppId),
      ...(store
        ? {
            channelKnown: async (id: string) =>
              (await store.getChatReference('teams', `channel:${id}`)) !== undefined,
          }
        : {}),
    },
  };
}

/** conversations.info: whether the bot is in the channel (needs channels:read / groups:read). */
export async function slackChannelState(client: WebClient, channel: string): Promise<SlackChannelState> {
  try {
    const info = await client.conversations.info({ channel });
    return info.channel?.is_member === false ? 'not_a_member' : 'member';
  } catch (err) {
    const e = fromWebApiError('conversations.info', err);
    if (e instanceof SlackApiError && e.slackError === 'channel_not_found') return 'not_found';
    return { unknown: e.message };
  }
}

/** Every problem, one warning per platform or channel, naming the flows it affects. */
export async function routingWarnings(
  config: GrantflowConfig,
  probe: RoutingProbe,
): Promise<RoutingWarning[]> {
  const byPlatform = new Map<'slack' | 'teams', Set<string>>();
  const byChannel = new Map<string, { platform: 'slack' | 'teams'; channel: string; flows: Set<string> }>();
  for (const flow of config.flows)
    for (const target of flow.notify) {
      if (target.platform === 'log') continue;
      const flows = byPlatform.get(target.platform) ?? new Set<string>();
      byPlatform.set(target.platform, flows.add(flow.name));
      if (!target.channel) continue;
      const key = `${target.platform}\u0000${target.channel}`;
      const entry = byChannel.get(key) ?? {
        platform: target.platform,
        channel: target.channel,
        flows: new Set(),
      };
      byChannel.set(key, { ...entry, flows: entry.flows.add(flow.name) });
    }

  const warnings: RoutingWarning[] = [];
  for (const [platform, flows] of byPlatform)
    if (!probe[platform].connected)
      warnings.push(warning(platform, undefined, [...flows], 'platform_not_connected'));
  for (const { platform, channel, flows } of byChannel.values()) {
    const list = [...flows];
    if (platform === 'slack' && probe.slack.connected && probe.slack.channel) {
      const state = await probe.slack.channel(channel);
      if (state === 'not_a_member') warnings.push(warning('slack', channel, list, 'not_in_channel'));
      else if (state === 'not_found') warnings.push(warning('slack', channel, list, 'channel_not_found'));
      else if (typeof state === 'object')
        warnings.push(warning('slack', channel, list, 'channel_unknown', state.unknown));
    }
    if (platform === 'teams' && probe.teams.connected && probe.teams.channelKnown)
      if (!(await probe.teams.channelKnown(channel)))
        warnings.push(warning('teams', channel, list, 'not_in_channel'));
  }
  return warnings;
}

const PLATFORM_NAMES = { slack: 'Slack', teams: 'Microsoft Teams' } as const;

function warning(
  platform: 'slack' | 'teams',
  channel: string | undefined,
  flows: string[],
  problem: RoutingProblem,
  detail?: string,
): RoutingWarning {
  const name = PLATFORM_NAMES[platform];
  const them = `flow${flows.length > 1 ? 's' : ''} ${flows.join(', ')}`;
  const messages: Record<RoutingProblem, string> = {
    platform_not_connected:
      platform === 'slack'
        ? `${them} notif${flows.length > 1 ? 'y' : 'ies'} Slack, which is not connected: connect it on the Integrations page (or set SLACK_BOT_TOKEN), or approvals go unseen`
        : `${them} notif${flows.length > 1 ? 'y' : 'ies'} Microsoft Teams, which is not configured: set MicrosoftAppId and MicrosoftAppPassword (docs/teams.md), or approvals go unseen`,
    not_in_channel:
      platform === 'slack'
        ? `the Grantflow bot is not in Slack channel ${channel}: invite it (/invite @Grantflow), or approvals for ${them} go unseen`
        : `the Grantflow bot has not been added to the team of Teams channel ${channel}: add the app to that team, or approvals for ${them} go unseen`,
    channel_not_found: `${name} channel ${channel} (${them}) was not found, or the bot may not see it (a private channel needs the bot invited)`,
    channel_unknown: `could not check ${name} channel ${channel} (${them}): ${detail ?? 'no answer'}`,
  };
  return { platform, ...(channel ? { channel } : {}), flows, problem, message: messages[problem] };
}
