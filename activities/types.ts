/**
 * Activity inputs and results. The workflow imports only these types (and the activity object's type).
 */
import type { AccessTarget } from '../connectors/types';
import type { RequestMessage } from '../chat-adapters/types';
import type { NotificationTarget } from '../policy/types';
import type { RequestRow } from '../store/types';

export interface RecordEventInput {
  requestId: string;
  /** Unique per event (request id + the workflow's event counter), so retries write once. */
  eventKey: string;
  type: string;
  actor: string;
  channel: string;
  details: Record<string, unknown>;
  /** When it happened, if not when it is written. */
  at?: string;
  /** Changes to the request's row in the requests index. */
  index?: Partial<RequestRow>;
}

/**
 * Events an activity writes itself, so that they cost no round trip of their own: those that led to its work
 * (written before it, with the index as it then stood) and `done`, the one that says the work is done, written the
 * moment it is. Idempotent by event key, so retries write each once.
 */
export interface OwnEvents {
  before: RecordEventsInput['events'];
  index: Partial<RequestRow>;
  done?: DoneEvent;
}

/** The event an activity writes once its work is done: `granted`, or `revoked` (with the result in its details). */
export interface DoneEvent {
  eventKey: string;
  type: 'granted' | 'revoked';
  actor: string;
  channel: string;
  details: Record<string, unknown>;
}

/** Several events of one request, written in order in one audit transaction, then one change to its index row. */
export interface RecordEventsInput {
  requestId: string;
  events: Omit<RecordEventInput, 'requestId' | 'index'>[];
  index?: Partial<RequestRow>;
}

/** Several notifications about one request, sent in order by one activity (workflows since off-path-effects). */
export interface NotifyAllInput {
  messages: RequestMessage[];
  targets: NotificationTarget[];
}

export interface NotifyInput {
  message: RequestMessage;
  /** The flow's notification targets (used when a request is first posted). */
  targets: NotificationTarget[];
}

export interface GrantAccessInput {
  requestId: string;
  target: AccessTarget;
  durationMs: number;
  /** Who asked: the only person who may read a sign-in the grant makes. (Absent in workflows started before.) */
  requester?: string;
  /** The longest the grant may last with extensions: the backstop connectors may set. */
  maxTotalDurationMs?: number;
  /** The events this grant writes itself (workflows since the off-path-effects patch): `granted` is its done event. */
  events?: OwnEvents;
}

export interface GrantAccessResult {
  /** When the grant committed: the grant's clock starts here. */
  grantedAt: string;
  /** True when another active request already held this access, so nothing changed in the target. */
  alreadyHeld: boolean;
  details: Record<string, string | number | boolean>;
  /** The grant made a sign-in of its own, kept for the requester (never the sign-in itself). */
  credentials?: boolean;
}

export interface RevokeAccessInput {
  requestId: string;
  requester: string;
  target: AccessTarget;
  reason: string;
  /** Failed attempts after which (and every so many after) admins are alerted. */
  alertAfterAttempts: number;
  /**
   * The events this revoke writes before it starts, and `revoked` once it is done (workflows since the
   * off-path-effects patch).
   */
  events?: OwnEvents;
  /** The workflow calls a revoke overdue after this long; `revoked` says whether it was. */
  overdueAfterMs?: number;
}

export interface RevokeAccessResult {
  /** False when other active requests still hold the access, which therefore stays. */
  revoked: boolean;
  /** The requests that still hold the access. */
  heldBy: string[];
  sessionsTerminated: number;
  /** The connector looked and the access is gone (true), or it cannot look, or the access stays for another holder. */
  verified?: boolean | 'not verifiable' | 'still held by another request';
  revokedAt: string;
}

export interface RevokeOverdueInput {
  requestId: string;
  requester: string;
  target: AccessTarget;
  overdueAfterMs: number;
}
