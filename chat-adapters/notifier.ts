/**
 * The core of notifications, written once for every platform: what to send to whom on each event, and
 * updating every copy sent earlier. Adapters (log now; Slack and Teams later) only render and deliver.
 */
import type { Logger } from 'pino';
import type { NotificationTarget } from '../policy/types';
import type { Store } from '../store/types';
import type { Audience, ChatAdapter, Destination, MessageEvent, RequestMessage } from './types';

/** Events the requester is told about directly, besides the update of every earlier copy. */
const REQUESTER_EVENTS: ReadonlySet<MessageEvent> = new Set([
  'requested',
  'denied',
  'expired',
  'granted',
  'grant_failed',
  'extended',
  'reminder',
  'revoked',
]);

export interface AlertMessage {
  requestId?: string;
  text: string;
}

export class Notifier {
  private readonly adapters = new Map<string, ChatAdapter>();

  constructor(
    adapters: ChatAdapter[],
    private readonly store: Store,
    private readonly log: Logger,
  ) {
    for (const a of adapters) this.adapters.set(a.platform, a);
  }

  /** Sends what an event calls for and brings every earlier message about the request up to date. */
  async publish(message: RequestMessage, targets: NotificationTarget[]): Promise<void> {
    const refs = await this.store.listMessageRefs(message.requestId);
    for (const ref of refs) {
      const adapter = this.adapters.get(ref.platform);
      if (adapter)
        await this.attempt(`update ${ref.platform} ${ref.conversationId}`, () =>
          adapter.update(ref, message),
        );
    }
    if (message.event === 'requested' && message.status === 'PENDING_APPROVAL' && !message.autoApprove) {
      for (const target of targets) await this.send({ kind: 'target', target }, 'approvers', message, target);
      for (const target of targets.filter((t) => t.dmApprovers)) {
        for (const email of message.approvers) {
          if (email !== message.requester.toLowerCase())
            await this.send({ kind: 'person', email }, 'approvers', message, target);
        }
      }
    }
    if (REQUESTER_EVENTS.has(message.event)) {
      // The requester hears back on the flow's platforms and where they asked.
      const platforms = new Set<string>(targets.map((t) => t.platform));
      if (message.origin && this.adapters.has(message.origin)) platforms.add(message.origin);
      if (platforms.size === 0) platforms.add('log');
      for (const platform of platforms) {
        await this.send({ kind: 'person', email: message.requester }, 'requester', message, {
          platform: platform as NotificationTarget['platform'],
        });
      }
    }
  }

  /** Tells operators something needs them (e.g. a revoke that keeps failing). */
  async alert(targets: NotificationTarget[], alert: AlertMessage): Promise<void> {
    const list = targets.length > 0 ? targets : [{ platform: 'log' as const }];
    for (const target of list) {
      const adapter = this.adapters.get(target.platform) ?? this.adapters.get('log');
      if (adapter?.alert) await adapter.alert(target, alert.text, alert.requestId);
      else this.log.error({ requestId: alert.requestId, target }, alert.text);
    }
  }

  private async send(
    destination: Destination,
    audience: Audience,
    message: RequestMessage,
    target: NotificationTarget,
  ): Promise<void> {
    const adapter = this.adapters.get(target.platform);
    if (!adapter) {
      this.log.warn({ platform: target.platform }, 'no chat adapter is configured for this platform');
      return;
    }
    const to =
      destination.kind === 'person' ? destination.email : (destination.target.channel ?? target.platform);
    await this.attempt(`post ${target.platform} ${to}`, async () => {
      const ref = await adapter.post(destination, audience, message);
      if (ref) await this.store.saveMessageRef(ref);
    });
  }

  /**
   * One delivery that fails (a deactivated user, a channel the bot left) must not stop the others, nor make the
   * activity retry and post the rest twice; it is logged for the operator.
   */
  private async attempt(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        `notification failed: ${what}`,
      );
    }
  }
}
