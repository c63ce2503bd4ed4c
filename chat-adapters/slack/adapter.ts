/**
 * The Slack chat adapter: renders request messages with Block Kit and delivers them to channels and DMs.
 * It keeps the conversation id Slack answers with (C… for a channel, D… for a DM), because chat.update needs it;
 * a user id would not do.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { NotificationTarget } from '../../policy/types';
import type { Audience, ChatAdapter, Destination, RequestMessage, SentMessageRef } from '../types';
import { esc, requestMessage } from './blocks';
import { SlackResponseError, fromWebApiError, slackClientOf, type SlackClientSource } from './errors';

/** Finds a person's Slack user id from their email (from the identities config, or users.lookupByEmail). */
export interface SlackUserDirectory {
  slackUserIdFor(email: string): Promise<string | undefined>;
}

export interface SlackAdapterOptions {
  /**
   * The portal page of a request. Used instead of Approve/Deny for requests whose flow wants a step-up
   * (`message.stepUp`); returning undefined falls back to the buttons.
   */
  stepUpUrlFor?: (requestId: string) => string | undefined;
}

export class SlackChatAdapter implements ChatAdapter {
  readonly platform = 'slack';

  constructor(
    /** A fixed client, or where to get the one with the token in use now (chat-adapters/slack/connection.ts). */
    private readonly client: WebClient | SlackClientSource,
    private readonly directory: SlackUserDirectory,
    private readonly log: Logger,
    private readonly opts: SlackAdapterOptions = {},
  ) {}

  /** Posts to a target's channel or to a person's DM; undefined when there is nowhere to post. */
  async post(
    destination: Destination,
    audience: Audience,
    message: RequestMessage,
  ): Promise<SentMessageRef | undefined> {
    const channel = await this.channelFor(destination, message.requestId);
    if (!channel) return undefined;
    const rendered = this.render(message, audience);
    const res = await this.call('chat.postMessage', (client) =>
      client.chat.postMessage({ channel, text: rendered.text, blocks: rendered.blocks }),
    );
    if (!res.channel || !res.ts) throw new SlackResponseError('chat.postMessage', 'channel and ts');
    return {
      requestId: message.requestId,
      platform: this.platform,
      audience,
      conversationId: res.channel,
      messageId: res.ts,
    };
  }

  /** Re-renders a message sent earlier for the audience it was sent to. */
  async update(ref: SentMessageRef, message: RequestMessage): Promise<void> {
    const rendered = this.render(message, ref.audience);
    await this.call('chat.update', (client) =>
      client.chat.update({
        channel: ref.conversationId,
        ts: ref.messageId,
        text: rendered.text,
        blocks: rendered.blocks,
      }),
    );
  }

  /** Posts an operator alert to the target's channel. */
  async alert(target: NotificationTarget, text: string, requestId?: string): Promise<void> {
    if (!target.channel) {
      this.log.warn({ requestId }, 'a Slack notify target has no channel: the alert was not posted');
      return;
    }
    const about = requestId ? ` (request \`${esc(requestId)}\`)` : '';
    const channel = target.channel;
    await this.call('chat.postMessage', (client) =>
      client.chat.postMessage({
        channel,
        text: `:rotating_light: *Grantflow alert*${about}: ${esc(text)}`,
      }),
    );
  }

  private render(message: RequestMessage, audience: Audience) {
    const stepUpUrl =
      audience === 'approvers' && message.stepUp ? this.opts.stepUpUrlFor?.(message.requestId) : undefined;
    return requestMessage(message, audience, { stepUpUrl });
  }

  private async channelFor(destination: Destination, requestId: string): Promise<string | undefined> {
    if (destination.kind === 'target') {
      if (!destination.target.channel)
        this.log.warn({ requestId }, 'a Slack notify target has no channel: nothing was posted');
      return destination.target.channel;
    }
    const user = await this.directory.slackUserIdFor(destination.email);
    if (!user) {
      this.log.debug({ requestId, email: destination.email }, 'no Slack user for this person: no DM sent');
      return undefined;
    }
    const res = await this.call('conversations.open', (client) => client.conversations.open({ users: user }));
    if (!res.channel?.id) throw new SlackResponseError('conversations.open', 'a channel id');
    return res.channel.id;
  }

  /** Runs one Web API call, turning its failures into our errors (with Slack's code, without the token). */
  private async call<T>(method: string, fn: (client: WebClient) => Promise<T>): Promise<T> {
    try {
      return await fn(await slackClientOf(this.client, method));
    } catch (err) {
      throw fromWebApiError(method, err);
    }
  }
}
