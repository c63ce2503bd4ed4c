/**
 * Who is who between Slack and Grantflow. A Slack user is an identity by the immutable Slack user id in the
 * config, or, where the config allows it, by the email Slack reports for them (`users.info`). Never by name.
 */
import type { WebClient } from '@slack/web-api';
import type { GrantflowConfig } from '../../config/types';
import { slackClientOf, type SlackClientSource } from './errors';
import type { Identity } from '../../policy/types';
import { findIdentity } from '../../policy/snapshot';

export class SlackDirectory {
  constructor(
    private readonly config: () => GrantflowConfig,
    private readonly client: WebClient | SlackClientSource,
    private readonly matchByEmail: () => boolean,
  ) {}

  /** The identity behind a Slack user id, or undefined for people Grantflow does not know. */
  async identityFor(slackUserId: string): Promise<Identity | undefined> {
    const config = this.config();
    const byId = config.identities.find((i) => i.slackUserId === slackUserId);
    if (byId) return byId;
    if (!this.matchByEmail()) return undefined;
    const info = await (await slackClientOf(this.client, 'users.info')).users.info({ user: slackUserId });
    const email = info.user?.profile?.email;
    return email ? findIdentity(config, email) : undefined;
  }

  /** The Slack user id of an identity, for direct messages. */
  async slackUserIdFor(email: string): Promise<string | undefined> {
    const identity = findIdentity(this.config(), email);
    if (identity?.slackUserId) return identity.slackUserId;
    if (!this.matchByEmail()) return undefined;
    try {
      const client = await slackClientOf(this.client, 'users.lookupByEmail');
      const found = await client.users.lookupByEmail({ email });
      return found.user?.id;
    } catch {
      return undefined;
    }
  }
}
