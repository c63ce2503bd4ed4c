import type { RequestRow } from '../../store/types';
import type { RequestSummary } from './views';

export function summaryOf(row: RequestRow): RequestSummary {
  return {
    id: row.id,
    status: row.status,
    requester: row.requester,
    flow: row.flow,
    resource: row.resource,
    permission: row.permission,
    reason: row.reason,
    durationMs: row.durationMs,
    expiresAt: row.expiresAt,
  };
}
