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

  /**
   * Remembers how to reach this person (and this channel) later. A channel is kept by its own id (a message in
   * a thread carries `;messageid=…`, which is cut off, so that later posts start new threads); a team install
   * that names no channel is kept under the team id, which is its General channel's id.
   */
  async remember(context: TurnContext, reference: Partial<ConversationReference>): Promise<void> {
    const activity = context.activity;
    const data = activity.channelData as { channel?: { id?: string }; team?: { id?: string } } | undefined;
    const channelId = data?.channel?.id ?? data?.team?.id;
    if (channelId) {
      const conversation = {
        ...reference.conversation,
        id: channelId,
      } as ConversationReference['conversation'];
      await this.store.saveChatReference(PLATFORM, `channel:${channelId}`, { ...reference, conversation });
      return;
    }
    if (activity.conversation?.conversationType !== 'personal') return;
    if (activity.from.aadObjectId)
      await this.store.saveChatReference(
        PLATFORM,
        `user:${activity.from.aadObjectId}`,
        reference as Record<string, unknown>,
      );
    // People matched by email (no AAD id in the config) are reachable by their email.
    const identity = await this.identityOf(context);
    if (identity)
      await this.store.saveChatReference(
        PLATFORM,
        `email:${identity.email}`,
        reference as Record<string, unknown>,
      );
  }

  async forPerson(email: string): Promise<Partial<ConversationReference> | undefined> {
    const identity = findIdentity(this.config(), email);
    if (!identity) return undefined;
    const byAad = identity.teamsAadObjectId
      ? await this.store.getChatReference(PLATFORM, `user:${identity.teamsAadObjectId}`)
      : undefined;
    return (byAad ?? (await this.store.getChatReference(PLATFORM, `email:${identity.email}`))) as
      Partial<ConversationReference> | undefined;
  }

  async forChannel(channelId: string): Promise<Partial<ConversationReference> | undefined> {
    return (await this.store.getChatReference(PLATFORM, `channel:${channelId}`)) as
      Partial<ConversationReference> | undefined;
  }
}
