/**
 * The platform-neutral message model and the ChatAdapter interface.
 * The core (chat-adapters/notifier.ts) decides what to send and when; adapters only render and deliver.
 * Designed for Slack (channel + DM, chat.update by conversation id + ts) and for Teams (proactive
 * messages need a stored conversation reference, and cards are updated by activity id).
 */
import type { NotificationTarget } from '../policy/types';

export type RequestStatus =
  | 'PENDING_APPROVAL'
  | 'APPROVED'
  | 'DENIED'
  | 'EXPIRED'
  | 'CANCELLED'
  | 'GRANTING'
  | 'ACTIVE'
  | 'REVOKING'
  /** The revoke is taking longer than settings.revokeOverdueAfter; it is still being retried. */
  | 'REVOKE_OVERDUE'
  | 'REVOKED'
  | 'GRANT_FAILED';

export interface DecisionView {
  approver: string;
  decision: 'approve' | 'deny';
  comment?: string;
  at: string;
  channel: string;
}

/** Everything a person needs to see about a request: who, what, why, how long, status, decisions. */
export interface RequestMessage {
  requestId: string;
  requester: string;
  flow: string;
  resource: string;
  permission: string;
  reason: string;
  durationMs: number;
  status: RequestStatus;
  decisions: DecisionView[];
  approvers: string[];
  requiredApprovals: number;
  /** Where the request was made (`cli`, `slack`, `teams`, `api`): the requester hears back there too. */
  origin?: string;
  /** Approvers must decide in the portal (step-up), so chat shows a link instead of buttons. */
  stepUp?: boolean;
  /** The flow approves by itself: nobody is asked to approve. */
  autoApprove: boolean;
  grantedAt?: string;
  expiresAt?: string;
  revokedAt?: string;
  /** Why the grant failed, for GRANT_FAILED. */
  failure?: string;
  /** The event that caused this message, e.g. `requested`, `approved`, `reminder`, `revoked`. */
  event: MessageEvent;
  /** Free text for the event, e.g. the alert reason. */
  note?: string;
  /** The grant made a sign-in of its own (temporary user), waiting for the requester in the portal. */
  signIn?: boolean;
}

export type MessageEvent =
  | 'requested'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'cancelled'
  | 'granted'
  | 'grant_failed'
  | 'extended'
  | 'reminder'
  | 'revoking'
  | 'revoked'
  | 'alert';

/** Who a sent message is for; decides what it shows (approvers get buttons, the requester gets status). */
export type Audience = 'approvers' | 'requester' | 'admins';

/** A message that was sent, kept so that every copy can be updated later. */
export interface SentMessageRef {
  requestId: string;
  platform: string;
  audience: Audience;
  /** Where it went: a Slack conversation id (C…/D…), a Teams conversation id, or `log`. */
  conversationId: string;
  /** The platform's id for the message: Slack `ts`, Teams activity id. */
  messageId: string;
  /** Platform data needed to update it later, e.g. a Teams conversation reference (never a secret). */
  extra?: Record<string, unknown>;
}

/** A destination for one message: a configured target, or a person by email. */
export type Destination = { kind: 'target'; target: NotificationTarget } | { kind: 'person'; email: string };

export interface ChatAdapter {
  /** The platform this adapter serves; matches NotificationTarget.platform. */
  readonly platform: string;
  /** Posts a new message; returns its reference, or undefined when this adapter cannot reach the destination. */
  post(
    destination: Destination,
    audience: Audience,
    message: RequestMessage,
  ): Promise<SentMessageRef | undefined>;
  /** Replaces a message sent earlier with the current state. */
  update(ref: SentMessageRef, message: RequestMessage): Promise<void>;
  /** Sends an operator alert to a target (optional: the notifier logs it otherwise). */
  alert?(target: NotificationTarget, text: string, requestId?: string): Promise<void>;
}
