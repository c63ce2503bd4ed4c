/**
 * Words every chat surface uses the same way: request statuses in plain words, and cutting text to a limit.
 */
import { formatDuration } from '../policy/duration';
import type { Audience, RequestMessage, RequestStatus } from './types';

export const STATUS_WORDS: Record<RequestStatus, string> = {
  PENDING_APPROVAL: 'Waiting for approval',
  APPROVED: 'Approved',
  DENIED: 'Denied',
  EXPIRED: 'Expired',
  CANCELLED: 'Cancelled',
  GRANTING: 'Granting',
  ACTIVE: 'Active',
  REVOKING: 'Revoking',
  REVOKE_OVERDUE: 'Revoke overdue',
  REVOKED: 'Revoked',
  GRANT_FAILED: 'Grant failed',
};

/** Cuts text to `max` characters with an ellipsis; never empty (chat platforms refuse empty text). */
export function clip(text: string, max: number): string {
  if (text.length === 0) return ' ';
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Do not leave half of a surrogate pair (an emoji) before the ellipsis.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** How a platform writes a time and a piece of user-typed text (escaped, cut to a length). */
export interface StatusFormat {
  date(iso: string): string;
  userText(text: string, max: number): string;
}

function progress(m: RequestMessage): string {
  const approved = m.decisions.filter((d) => d.decision === 'approve').length;
  return `${approved} of ${m.requiredApprovals} approval${m.requiredApprovals === 1 ? '' : 's'}`;
}

/**
 * The status of a request in plain words, as approvers and admins read it or as the requester does. Slack and
 * Teams say the same thing; only dates and escaping differ.
 */
export function statusText(m: RequestMessage, audience: Audience, f: StatusFormat, now: Date): string {
  const failure = () => f.userText(m.note ?? m.failure ?? 'see the Grantflow log', 1000);
  const revokedAt = () => f.date(m.revokedAt ?? now.toISOString());
  if (audience !== 'requester') {
    switch (m.status) {
      case 'PENDING_APPROVAL':
        return `Waiting for approval: ${progress(m)}`;
      case 'APPROVED':
        return 'Approved: granting access';
      case 'GRANTING':
        return 'Granting access…';
      case 'ACTIVE':
        return m.expiresAt ? `Access active until ${f.date(m.expiresAt)}` : 'Access active';
      case 'DENIED':
        return 'Denied';
      case 'EXPIRED':
        return 'Expired: nobody decided in time';
      case 'CANCELLED':
        return 'Cancelled by the requester';
      case 'REVOKING':
        return 'Revoking access…';
      case 'REVOKE_OVERDUE':
        return 'Revoke OVERDUE: still retrying; admins are alerted';
      case 'REVOKED':
        return `Revoked at ${revokedAt()}`;
      case 'GRANT_FAILED':
        return `Grant failed: ${failure()}`;
    }
  }
  switch (m.status) {
    case 'PENDING_APPROVAL':
      return `Waiting for approval (${progress(m)})`;
    case 'APPROVED':
    case 'GRANTING':
      return 'Approved: granting your access now';
    case 'ACTIVE': {
      const length = formatDuration(m.durationMs);
      const granted = m.expiresAt
        ? `Granted until ${f.date(m.expiresAt)} (${length})`
        : `Granted for ${length}`;
      // Never the sign-in itself: only where the requester alone can read it.
      return m.signIn
        ? `${granted}. A sign-in was made for you alone: open the request in the portal, or run grantflow credentials ${m.requestId}`
        : granted;
    }
    case 'DENIED':
      return 'Your request was denied';
    case 'EXPIRED':
      return 'Nobody decided in time, so the request expired. You can ask again.';
    case 'CANCELLED':
      return 'This request was cancelled';
    case 'REVOKING':
    case 'REVOKE_OVERDUE':
      return 'Your access is being revoked';
    case 'REVOKED':
      return `Your access has been revoked (${revokedAt()})`;
    case 'GRANT_FAILED':
      return `Granting your access failed: ${failure()}`;
  }
}
