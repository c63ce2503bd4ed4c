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
      if (adapter) await adapter.update(ref, message);
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
      const platforms = new Set(targets.map((t) => t.platform));
      if (platforms.size === 0) platforms.add('log');
      for (const platform of platforms) {
        await this.send({ kind: 'person', email: message.requester }, 'requester', message, { platform });
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
    const ref = await adapter.post(destination, audience, message);
    if (ref) await this.store.saveMessageRef(ref);
  }
}
