/** Plain-words formatting shared by every page. Pure functions, tested under mocha (test/portal-format.test.ts). */
import type { RequestStatus } from './types';

// The server's own duration syntax (pure code, shared), so the portal accepts exactly what the API does.
export { formatDuration, parseDuration } from '../../policy/duration';
import { STATUS_WORDS } from '../../chat-adapters/words';

/** The live countdown text: "12:04" under an hour, "2h 05m" above, "expired" when past. */
export function countdown(expiresAt: string, now: number): string {
  const left = Date.parse(expiresAt) - now;
  if (!(left > 0)) return 'expired';
  const total = Math.ceil(left / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m` : `${pad(m)}:${pad(s)}`;
}

export function statusWords(status: RequestStatus): string {
  return STATUS_WORDS[status] ?? status;
}

/** The badge's tone: what a person should feel about the status. */
export function statusTone(status: RequestStatus): 'wait' | 'good' | 'bad' | 'done' {
  if (status === 'ACTIVE') return 'good';
  if (status === 'DENIED' || status === 'GRANT_FAILED') return 'bad';
  if (status === 'REVOKE_OVERDUE') return 'bad';
  if (['PENDING_APPROVAL', 'APPROVED', 'GRANTING', 'REVOKING'].includes(status)) return 'wait';
  return 'done';
}

const EVENT_WORDS: Record<string, string> = {
  requested: 'Requested',
  approval: 'Approved by',
  denial: 'Denied by',
  approved: 'Approvals complete',
  denied: 'Denied',
  granting: 'Granting',
  granted: 'Access granted',
  grant_failed: 'Grant failed',
  extended: 'Extended by',
  revoke_requested: 'Revoke asked by',
  revoking: 'Revoking',
  revoked: 'Access revoked',
  expired: 'Expired unapproved',
  cancelled: 'Cancelled',
  cancel_requested: 'Cancel asked by',
  decision_rejected: 'Decision refused for',
  action_rejected: 'Action refused for',
};

/** An audit type without its `request.` prefix: `request.granted` → `granted`. */
export function eventKind(type: string): string {
  return type.replace(/^request\./, '');
}

/** One timeline line, e.g. "Approved by bob@example.com (portal)". */
export function eventWords(e: { type: string; actor: string; channel: string | null }): string {
  const kind = eventKind(e.type);
  const label = EVENT_WORDS[kind] ?? kind.replace(/[._]/g, ' ');
  const who =
    e.actor && e.actor !== 'grantflow'
      ? ` ${label.endsWith(' by') || label.endsWith(' for') ? '' : '· '}${e.actor}`
      : '';
  const via = e.channel && e.channel !== 'workflow' ? ` (${e.channel})` : '';
  return `${label}${who}${via}`;
}

/** "26 Nov, 16:42:05" in the browser's locale and time zone. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}
