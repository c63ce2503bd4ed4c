/**
 * Activity proxies with the timeouts and retry policies each kind of step needs.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AccessRequestInput } from './definitions';

export function proxiesFor(input: AccessRequestInput) {
  const what = `${input.resource} ${input.permission} for ${input.requester}`;
  // The audit trail must be written: retry until the store answers.
  const { recordEvent } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
    summary: 'record audit event',
  });
  // The same, several events at once (workflows since the off-path-effects patch).
  const { recordEvents } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
    summary: 'record audit events',
  });
  // A notification that cannot be delivered must not hold up access or its revoke.
  const { notify, notifyAll } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
    summary: 'notify',
  });
  const { grantAccess } = proxyActivities<Activities>({
    startToCloseTimeout: '60s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
    summary: `grant ${what}`,
  });
  // Revoke is retried without limit, with capped backoff; the activity alerts admins while it keeps failing.
  const { revokeAccess } = proxyActivities<Activities>({
    startToCloseTimeout: '60s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: input.revokeMaxBackoffMs },
    summary: `revoke ${what}`,
  });
  // The overdue alert: like a notification, it must not hold up the revoke it is about.
  const { alertRevokeOverdue } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
    summary: 'alert: revoke overdue',
  });
  return { recordEvent, recordEvents, notify, notifyAll, grantAccess, revokeAccess, alertRevokeOverdue };
}
