/**
 * The core of notifications, written once for every platform: what to send to whom on each event, and
 * updating every copy sent earlier. Adapters (log, Slack, Teams) only render and deliver. A delivery that fails
 * is logged (with the request's id) and counted in grantflow_chat_api_errors_total{platform, operation}.
 */
import type { Logger } from 'pino';
import type { ChatOperation, Metrics } from '../core/metrics';
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
    private metrics?: Metrics,
  ) {
    for (const a of adapters) this.adapters.set(a.platform, a);
  }

  /** Counts failed deliveries in these metrics from now on (unless counting already: the first one stays). */
  countErrorsIn(metrics: Metrics): void {
    this.metrics ??= metrics;
  }

  /**
   * Sends what an event calls for and brings every earlier message about the request up to date. `log` (the
   * activity's, bound to the request) is where failed deliveries are logged; by default the notifier's own.
   */
  /**
   * Several messages about one request, in order. A message that would only bring earlier copies up to date is
   * skipped when a later one in the batch does the same (e.g. "revoking" followed by "revoked").
   */
  async publishAll(messages: RequestMessage[], targets: NotificationTarget[], log?: Logger): Promise<void> {
    for (const [i, message] of messages.entries()) {
      const onlyUpdates = message.event !== 'requested' && !REQUESTER_EVENTS.has(message.event);
      if (onlyUpdates && i < messages.length - 1) continue;
      await this.publish(message, targets, log);
    }
  }

  async publish(message: RequestMessage, targets: NotificationTarget[], log?: Logger): Promise<void> {
    const say = log ?? this.log.child({ requestId: message.requestId });
    const refs = await this.store.listMessageRefs(message.requestId);
    for (const ref of refs) {
      const adapter = this.adapters.get(ref.platform);
      if (adapter)
        await this.attempt(say, ref.platform, 'update', ref.conversationId, () =>
          adapter.update(ref, message),
        );
    }
    if (message.event === 'requested' && message.status === 'PENDING_APPROVAL' && !message.autoApprove) {
      for (const target of targets)
        await this.send({ kind: 'target', target }, 'approvers', message, target, say);
      for (const target of targets.filter((t) => t.dmApprovers)) {
        for (const email of message.approvers) {
          if (email !== message.requester.toLowerCase())
            await this.send({ kind: 'person', email }, 'approvers', message, target, say);
        }
      }
    }
    if (REQUESTER_EVENTS.has(message.event)) {
      // The requester hears back on the flow's platforms and where they asked.
      const platforms = new Set<string>(targets.map((t) => t.platform));
      if (message.origin && this.adapters.has(message.origin)) platforms.add(message.origin);
      if (platforms.size === 0) platforms.add('log');
      for (const platform of platforms) {
        await this.send(
          { kind: 'person', email: message.requester },
          'requester',
          message,
          { platform: platform as NotificationTarget['platform'] },
          say,
        );
      }
    }
  }

  /**
   * Tells operators something needs them (e.g. a revoke that keeps failing). A platform that fails is counted and
   * logged, and the error thrown on, as before: the caller decides whether it matters.
   */
  async alert(targets: NotificationTarget[], alert: AlertMessage, log?: Logger): Promise<void> {
    const say = log ?? (alert.requestId ? this.log.child({ requestId: alert.requestId }) : this.log);
    const list = targets.length > 0 ? targets : [{ platform: 'log' as const }];
    for (const target of list) {
      const adapter = this.adapters.get(target.platform) ?? this.adapters.get('log');
      if (!adapter?.alert) {
        say.error({ target }, alert.text);
        continue;
      }
      try {
        await adapter.alert(target, alert.text, alert.requestId);
      } catch (err) {
        this.failed(say, adapter.platform, 'alert', target.channel ?? target.platform, err);
        throw err;
      }
    }
  }

  private async send(
    destination: Destination,
    audience: Audience,
    message: RequestMessage,
    target: NotificationTarget,
    log: Logger,
  ): Promise<void> {
    const adapter = this.adapters.get(target.platform);
    if (!adapter) {
      log.warn({ platform: target.platform }, 'no chat adapter is configured for this platform');
      return;
    }
    const to =
      destination.kind === 'person' ? destination.email : (destination.target.channel ?? target.platform);
    await this.attempt(log, target.platform, 'post', to, async () => {
      const ref = await adapter.post(destination, audience, message);
      if (ref) await this.store.saveMessageRef(ref);
    });
  }

  /**
   * One delivery that fails (a deactivated user, a channel the bot left) must not stop the others, nor make the
   * activity retry and post the rest twice; it is logged for the operator and counted.
   */
  private async attempt(
    log: Logger,
    platform: string,
    operation: ChatOperation,
    to: string,
    fn: () => Promise<void>,
  ): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.failed(log, platform, operation, to, err);
    }
  }

  private failed(log: Logger, platform: string, operation: ChatOperation, to: string, err: unknown): void {
    this.metrics?.chatErrors.inc({ platform, operation });
    log.warn(
      { platform, operation, to, err: err instanceof Error ? err.message : String(err) },
      `notification failed: ${operation} ${platform} ${to}`,
    );
  }
}
