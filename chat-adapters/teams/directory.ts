/**
 * Who is who between Teams and Grantflow: a Teams user is an identity by the immutable AAD object id in the
 * config, or, where the config allows it, by the email Teams reports for them (TeamsInfo.getMember). The
 * conversation references needed to reach people proactively are kept in the store.
 */
import { TeamsInfo, type ConversationReference, type TurnContext } from 'botbuilder';
import type { GrantflowConfig } from '../../config/types';
import type { Identity } from '../../policy/types';
import { findIdentity } from '../../policy/snapshot';
import type { Store } from '../../store/types';

const PLATFORM = 'teams';

export class TeamsDirectory {
  constructor(
    private readonly config: () => GrantflowConfig,
    private readonly store: Store,
    private readonly matchByEmail: () => boolean,
  ) {}

  /** The identity of the person behind an activity, or undefined for people Grantflow does not know. */
  async identityOf(context: TurnContext): Promise<Identity | undefined> {
    const from = context.activity.from;
    const config = this.config();
    const byId = from.aadObjectId
      ? config.identities.find((i) => i.teamsAadObjectId === from.aadObjectId)
      : undefined;
    if (byId) return byId;
    if (!this.matchByEmail()) return undefined;
    try {
      const member = await TeamsInfo.getMember(context, from.id);
      return member.email ? findIdentity(config, member.email) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remembers how to reach this person (and this channel) later. */
  async remember(context: TurnContext, reference: Partial<ConversationReference>): Promise<void> {
    const activity = context.activity;
    const channelId = (activity.channelData as { channel?: { id?: string } } | undefined)?.channel?.id;
    if (channelId)
      await this.store.saveChatReference(
        PLATFORM,
        `channel:${channelId}`,
        reference as Record<string, unknown>,
      );
    else if (activity.conversation?.conversationType === 'personal' && activity.from.aadObjectId)
      await this.store.saveChatReference(
        PLATFORM,
        `user:${activity.from.aadObjectId}`,
        reference as Record<string, unknown>,
      );
  }

  async forPerson(email: string): Promise<Partial<ConversationReference> | undefined> {
    const aad = findIdentity(this.config(), email)?.teamsAadObjectId;
    return aad
      ? ((await this.store.getChatReference(PLATFORM, `user:${aad}`)) as Partial<ConversationReference>)
      : undefined;
  }

  async forChannel(channelId: string): Promise<Partial<ConversationReference> | undefined> {
    return (await this.store.getChatReference(PLATFORM, `channel:${channelId}`)) as
      Partial<ConversationReference> | undefined;
  }
}
