/**
 * The workflow's effects on the world, each through an activity: the audit trail and requests index
 * (record), notifications (publish, never fatal), and the search attributes of every transition (setStatus).
 * Since the off-path-effects patch, notifications run beside the request, and the events that lead up to a grant
 * or a revoke are written by that activity, so nothing but the grant itself stands between approval and access.
 */
import { log, upsertSearchAttributes } from '@temporalio/workflow';
import type { MessageEvent, RequestMessage } from '../chat-adapters/types';
import type { DoneEvent, OwnEvents, RecordEventsInput } from '../activities/types';
import { proxiesFor } from './activity-proxies';
import { searchAttributes, type RequestStatus } from './definitions';
import type { RequestState } from './request-state';

export class RequestEffects {
  readonly acts: ReturnType<typeof proxiesFor>;
  /** Numbers the events, so each has a key that retries and replays reproduce. */
  private eventNo = 0;
  /** Events noted but not yet written (off-path mode). */
  private pending: RecordEventsInput['events'] = [];
  /** Notifications, sent one batch after another in the background (off-path mode). */
  private notifications: Promise<void> = Promise.resolve();
  /** Notifications published and not yet handed to an activity: they go together, in order. */
  private unsent: RequestMessage[] = [];

  /**
   * `offPath` (workflows since the off-path-effects patch): events that can wait are written with the next
   * activity, and notifications never hold up the request. Without it, every effect is its own awaited activity.
   */
  constructor(
    private readonly state: RequestState,
    readonly offPath: boolean,
  ) {
    this.acts = proxiesFor(state.input);
  }

  private eventKey(type: string): string {
    const id = this.state.input.requestId;
    return `${id}:${++this.eventNo}:${type}`;
  }

  /**
   * Records an event in the audit trail, with the request's index as it stands. Off the path, an event marked
   * `later` waits, to be written with the next event that does not, or by the grant or revoke activity that
   * follows it (`ownEvents`). Without the patch, every event is written at once by its own activity.
   */
  async record(
    type: string,
    actor: string,
    channel: string,
    details: Record<string, unknown> = {},
    { later = false } = {},
  ): Promise<void> {
    const event = { eventKey: this.eventKey(type), type, actor, channel, details };
    const requestId = this.state.input.requestId;
    if (!this.offPath) {
      await this.acts.recordEvent({ requestId, ...event, index: indexPatch(this.state) });
      return;
    }
    this.pending.push(event);
    if (later) return;
    const events = this.pending;
    this.pending = [];
    await this.acts.recordEvents({ requestId, events, index: indexPatch(this.state) });
  }

  /**
   * Hands the waiting events to the grant or revoke activity about to run, with the event it writes once its work
   * is done (`granted`, `revoked`), keyed here so that retries and replays reproduce it; undefined without the
   * patch.
   */
  ownEvents(done?: Omit<DoneEvent, 'eventKey'>): OwnEvents | undefined {
    if (!this.offPath) return undefined;
    const before = this.pending;
    this.pending = [];
    return {
      before,
      index: indexPatch(this.state),
      ...(done ? { done: { ...done, eventKey: this.eventKey(done.type) } } : {}),
    };
  }

  /** Puts events back to wait, when the activity they were handed to may never have written them. */
  requeue(own: OwnEvents | undefined): void {
    if (own) this.pending = [...own.before, ...this.pending];
  }

  /** Tells the chat targets. Never fatal; off the path, it returns at once and the message goes in order. */
  publish(event: MessageEvent, note?: string): Promise<void> {
    const message = { ...messageOf(this.state), event, note };
    if (!this.offPath) return this.send(message);
    this.unsent.push(message);
    if (this.unsent.length === 1) this.notifications = this.notifications.then(() => this.sendUnsent());
    return Promise.resolve();
  }

  /**
   * Holds notifications back until the returned function is called (off the path only), so that the next activity
   * is scheduled ahead of them: the server dispatches a workflow task's activities in order.
   */
  holdNotifications(): () => void {
    if (!this.offPath) return () => undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.notifications = this.notifications.then(() => gate);
    return release;
  }

  /** Resolves once every notification published so far has been sent (or given up). */
  settled(): Promise<void> {
    return this.notifications;
  }

  private async sendUnsent(): Promise<void> {
    const messages = this.unsent;
    this.unsent = [];
    try {
      await this.acts.notifyAll({ messages, targets: this.state.input.flow.notify });
    } catch (err) {
      log.warn('notifications failed; the request goes on', {
        events: messages.map((m) => m.event),
        error: String(err),
      });
    }
  }

  private async send(message: RequestMessage): Promise<void> {
    try {
      await this.acts.notify({ message, targets: this.state.input.flow.notify });
    } catch (err) {
      log.warn('notification failed; the request goes on', { event: message.event, error: String(err) });
    }
  }

  setStatus(status: RequestStatus): void {
    this.state.status = status;
    const expiresAt = this.state.expiresAtMs;
    upsertSearchAttributes([
      { key: searchAttributes.status, value: status },
      ...(expiresAt !== undefined ? [{ key: searchAttributes.expiresAt, value: new Date(expiresAt) }] : []),
    ]);
  }
}

function indexPatch(state: RequestState) {
  const v = state.view();
  return {
    status: v.status,
    grantedAt: v.grantedAt,
    expiresAt: v.expiresAt,
    decidedBy: v.denial?.approver ?? (v.approvals.map((a) => a.approver).join(',') || undefined),
  };
}

function messageOf(state: RequestState): Omit<RequestMessage, 'event'> {
  const v = state.view();
  return {
    requestId: v.id,
    requester: v.requester,
    flow: v.flow,
    resource: v.resource,
    permission: v.permission,
    reason: v.reason,
    durationMs: v.totalDurationMs,
    status: v.status,
    decisions: v.denial ? [...v.approvals, v.denial] : v.approvals,
    approvers: v.approvers,
    requiredApprovals: v.requiredApprovals,
    autoApprove: state.input.flow.autoApprove,
    origin: v.channel,
    stepUp: state.input.flow.stepUp === true,
    signIn: state.signIn,
    grantedAt: v.grantedAt,
    expiresAt: v.expiresAt,
    revokedAt: v.revokedAt,
    failure: v.failure,
  };
}
