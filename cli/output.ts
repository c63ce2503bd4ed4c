/**
 * How the CLI shows requests: one JSON object with --json, else a few readable lines.
 */
import { formatDuration } from '../policy/duration';
import type { RequestRow } from '../store/types';
import type { RequestView } from '../workflows/definitions';

export function viewJson(v: RequestView): Record<string, unknown> {
  return {
    id: v.id,
    status: v.status,
    requester: v.requester,
    flow: v.flow,
    resource: v.resource,
    permission: v.permission,
    reason: v.reason,
    durationMs: v.totalDurationMs,
    grantedAt: v.grantedAt ?? null,
    expiresAt: v.expiresAt ?? null,
    approvals: v.approvals,
    denial: v.denial ?? null,
    requiredApprovals: v.requiredApprovals,
    approvers: v.approvers,
    extensions: v.extensions,
    failure: v.failure ?? null,
  };
}

export function viewText(v: RequestView): string {
  const lines = [
    `${v.id}  ${v.status}`,
    `  who:   ${v.requester}`,
    `  what:  ${v.resource} ${v.permission} (flow ${v.flow})`,
    `  why:   ${v.reason || '(none)'}`,
    `  for:   ${formatDuration(v.totalDurationMs)}`,
  ];
  if (v.status === 'PENDING_APPROVAL')
    lines.push(
      `  needs: ${v.requiredApprovals - v.approvals.length} more approval(s) from ${v.approvers.join(', ')}`,
    );
  for (const a of v.approvals) lines.push(`  approved by ${a.approver} at ${a.at} via ${a.channel}`);
  if (v.denial) lines.push(`  denied by ${v.denial.approver} at ${v.denial.at}: ${v.denial.comment ?? ''}`);
  if (v.grantedAt) lines.push(`  granted at ${v.grantedAt}`);
  if (v.expiresAt)
    lines.push(`  ${v.status === 'REVOKED' ? 'was due to expire' : 'expires'} at ${v.expiresAt}`);
  if (v.revokedAt) lines.push(`  revoked at ${v.revokedAt}${v.revokedBy ? ` by ${v.revokedBy}` : ''}`);
  if (v.failure) lines.push(`  failure: ${v.failure}`);
  return lines.join('\n');
}

export function rowsText(rows: RequestRow[]): string {
  if (rows.length === 0) return 'no requests';
  const header = ['ID', 'STATUS', 'REQUESTER', 'FLOW', 'ACCESS', 'EXPIRES'];
  const body = rows.map((r) => [
    r.id,
    r.status,
    r.requester,
    r.flow,
    `${r.resource} ${r.permission}`,
    r.expiresAt ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [header, ...body]
    .map((cols) =>
      cols
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
