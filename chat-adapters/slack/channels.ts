/**
 * Checks that the bot is a member of every Slack channel a flow notifies (channels:read / groups:read), so a
 * missing invitation is found at start rather than when the first approval goes nowhere.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { GrantflowConfig } from '../../config/types';

export interface ChannelProblem {
  channel: string;
  flows: string[];
  problem: 'not_a_member' | 'not_found';
}

export async function checkFlowChannels(
  client: WebClient,
  config: GrantflowConfig,
): Promise<ChannelProblem[]> {
  const flowsByChannel = new Map<string, string[]>();
  for (const flow of config.flows)
    for (const target of flow.notify)
      if (target.platform === 'slack' && target.channel)
        flowsByChannel.set(target.channel, [...(flowsByChannel.get(target.channel) ?? []), flow.name]);
  const problems: ChannelProblem[] = [];
  for (const [channel, flows] of flowsByChannel) {
    try {
      const info = await client.conversations.info({ channel });
      if (info.channel?.is_member === false) problems.push({ channel, flows, problem: 'not_a_member' });
    } catch {
      problems.push({ channel, flows, problem: 'not_found' });
    }
  }
  return problems;
}

export function logChannelProblems(problems: ChannelProblem[], log: Logger): void {
  for (const p of problems)
    log.warn(
      { channel: p.channel, flows: p.flows },
      p.problem === 'not_a_member'
        ? `the Grantflow bot is not in Slack channel ${p.channel}: invite it (/invite @Grantflow), or approvals for ${p.flows.join(', ')} go unseen`
        : `Slack channel ${p.channel} (flows ${p.flows.join(', ')}) was not found, or the bot may not see it`,
    );
}
