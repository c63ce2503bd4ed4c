/**
 * The Teams chat adapter: renders request messages as Adaptive Cards and delivers them as proactive messages.
 * Teams only lets a bot write where it has a conversation reference (saved when a person first talks to the bot,
 * or when the app is installed in a team), and updates a card by its activity id in that conversation; so the
 * reference travels with each sent message, in `extra.reference`.
 */
import { MessageFactory, type ConversationReference, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { NotificationTarget } from '../../policy/types';
import type { Audience, ChatAdapter, Destination, RequestMessage, SentMessageRef } from '../types';
import { cardAttachment, md, requestCard, textCard, type AdaptiveCard } from './cards';

/** The part of a Bot Framework adapter (CloudAdapter) this adapter uses: proactive messages. */
export interface ProactiveBotAdapter {
  continueConversationAsync(
    botAppId: string,
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void>;
}

/** Where the bot may write: conversation references saved from earlier activities. */
export interface ConversationReferences {
  /** The personal (1:1) conversation with a person, by email. */
  forPerson(email: string): Promise<Partial<ConversationReference> | undefined>;
  /** A channel (or group chat) by the id configured in a notify target. */
  forChannel(channelId: string): Promise<Partial<ConversationReference> | undefined>;
}

export interface TeamsChatAdapterDeps {
  /** The bot's Microsoft App id. */
  appId: string;
  adapter: ProactiveBotAdapter;
  references: ConversationReferences;
  log: Logger;
  /**
   * The portal page of a request. Used instead of Approve/Deny for requests whose flow wants a step-up
   * (`message.stepUp`); returning undefined falls back to the buttons.
   */
  stepUpUrlFor?: (requestId: string) => string | undefined;
}

/** A card that was sent: where, and the activity id Teams gave it. */
interface Sent {
  reference: Partial<ConversationReference>;
  conversationId: string;
  activityId: string;
}

export class TeamsChatAdapter implements ChatAdapter {
  readonly platform = 'teams';

  constructor(private readonly deps: TeamsChatAdapterDeps) {}

  /** Posts to a target's channel or to a person's 1:1 chat; undefined when the bot cannot reach them yet. */
  async post(
    destination: Destination,
    audience: Audience,
    message: RequestMessage,
  ): Promise<SentMessageRef | undefined> {
    const reference = await this.referenceFor(destination, message.requestId);
    if (!reference) return undefined;
    const sent = await this.send(reference, this.render(message, audience), message.requestId);
    if (!sent) return undefined;
    return {
      requestId: message.requestId,
      platform: this.platform,
      audience,
      conversationId: sent.conversationId,
      messageId: sent.activityId,
      extra: { reference: sent.reference },
    };
  }

  /** Replaces a card sent earlier with the current state, rendered for the audience it was sent to. */
  async update(ref: SentMessageRef, message: RequestMessage): Promise<void> {
    const reference = ref.extra?.reference as Partial<ConversationReference> | undefined;
    if (!reference || typeof reference !== 'object') {
      this.deps.log.warn(
        { requestId: ref.requestId, conversationId: ref.conversationId },
        'a Teams message has no saved conversation reference, so it cannot be updated',
      );
      return;
    }
    const attachment = cardAttachment(this.render(message, ref.audience));
    await this.deps.adapter.continueConversationAsync(this.deps.appId, reference, async (ctx) => {
      await ctx.updateActivity({ type: 'message', id: ref.messageId, attachments: [attachment] });
    });
  }

  /** Posts an operator alert to the target's channel. */
  async alert(target: NotificationTarget, text: string, requestId?: string): Promise<void> {
    const reference = await this.referenceFor({ kind: 'target', target }, requestId);
    if (!reference) return;
    const about = requestId ? ` (request ${md(requestId)})` : '';
    await this.send(reference, textCard(`🚨 **Grantflow alert**${about}: ${md(text, 2000)}`), requestId);
  }

  private render(message: RequestMessage, audience: Audience): AdaptiveCard {
    const stepUpUrl =
      audience === 'approvers' && message.stepUp ? this.deps.stepUpUrlFor?.(message.requestId) : undefined;
    return requestCard(message, audience, { stepUpUrl });
  }

  /** The saved conversation reference for a destination; logs why when there is none. */
  private async referenceFor(
    destination: Destination,
    requestId: string | undefined,
  ): Promise<Partial<ConversationReference> | undefined> {
    const { log, references } = this.deps;
    if (destination.kind === 'person') {
      const ref = await references.forPerson(destination.email);
      if (!ref)
        log.warn(
          { requestId, email: destination.email },
          'this person cannot be reached on Teams yet: they must send the Grantflow bot a message once ' +
            '(or have the app installed for them) before it can write to them',
        );
      return ref;
    }
    const channel = destination.target.channel;
    if (!channel) {
      log.warn({ requestId }, 'a Teams notify target has no channel: nothing was posted');
      return undefined;
    }
    const ref = await references.forChannel(channel);
    if (!ref)
      log.warn(
        { requestId, channel },
        'this Teams channel cannot be reached yet: install the Grantflow app in its team ' +
          '(or mention the bot there once) so that the bot learns the conversation',
      );
    return ref;
  }

  /** Sends one card; undefined (with a warning) when Teams gives no activity id, as the card cannot be updated. */
  private async send(
    reference: Partial<ConversationReference>,
    c: AdaptiveCard,
    requestId: string | undefined,
  ): Promise<Sent | undefined> {
    let activityId: string | undefined;
    await this.deps.adapter.continueConversationAsync(this.deps.appId, reference, async (ctx) => {
      const res = await ctx.sendActivity(MessageFactory.attachment(cardAttachment(c)));
      activityId = res?.id;
    });
    const conversationId = reference.conversation?.id;
    if (!activityId || !conversationId) {
      this.deps.log.warn(
        { requestId, conversationId },
        'Teams accepted a card without an activity id: it was sent but cannot be updated later',
      );
      return undefined;
    }
    return { reference, conversationId, activityId };
  }
}
