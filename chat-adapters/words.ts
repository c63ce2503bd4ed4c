/**
 * Words every chat surface uses the same way: request statuses in plain words, and cutting text to a limit.
 */
import type { RequestStatus } from './types';

export const STATUS_WORDS: Record<RequestStatus, string> = {
  PENDING_APPROVAL: 'Waiting for approval',
  APPROVED: 'Approved',
  DENIED: 'Denied',
  EXPIRED: 'Expired',
  CANCELLED: 'Cancelled',
  GRANTING: 'Granting',
  ACTIVE: 'Active',
  REVOKING: 'Revoking',
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
