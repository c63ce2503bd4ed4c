/**
 * The log adapter: "sends" messages by writing them to the Grantflow log. It is always present, so a
 * deployment without Slack or Teams still shows who asked for what, and every decision.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { formatDuration } from '../policy/duration';
import type { NotificationTarget } from '../policy/types';
import type { Audience, ChatAdapter, Destination, RequestMessage, SentMessageRef } from './types';

export function renderText(message: RequestMessage): string {
  const what = `${message.requester} → ${message.resource} ${message.permission} for ${formatDuration(message.durationMs)}`;
  const decisions = message.decisions
    .map((d) => `${d.decision === 'approve' ? 'approved' : 'denied'} by ${d.approver} at ${d.at}`)
    .join('; ');
  const until = message.expiresAt ? ` until ${message.expiresAt}` : '';
  return `[${message.status}] ${what}${until} (${message.event})${decisions ? ` — ${decisions}` : ''} — why: ${message.reason || '(none)'}`;
}

export class LogChatAdapter implements ChatAdapter {
  readonly platform = 'log';

  constructor(private readonly log: Logger) {}

  async post(destination: Destination, audience: Audience, message: RequestMessage): Promise<SentMessageRef> {
    const to = destination.kind === 'person' ? destination.email : (destination.target.channel ?? 'log');
    this.log.info({ requestId: message.requestId, to, audience, event: message.event }, renderText(message));
    return {
      requestId: message.requestId,
      platform: 'log',
      audience,
      conversationId: to,
      messageId: randomUUID(),
    };
  }

  async update(ref: SentMessageRef, message: RequestMessage): Promise<void> {
    this.log.debug(
      { requestId: ref.requestId, to: ref.conversationId, messageId: ref.messageId },
      renderText(message),
    );
  }

  async alert(target: NotificationTarget, text: string, requestId?: string): Promise<void> {
    this.log.error({ requestId, alert: true, channel: target.channel }, text);
  }
}
