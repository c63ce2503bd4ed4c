/** A request message as the notifier hands it to chat adapters: a pending approval, for adapter tests. */
import type { RequestMessage } from '../../chat-adapters/types';

export function pendingMessage(changes: Partial<RequestMessage> = {}): RequestMessage {
  return {
    requestId: 'req-1',
    requester: 'alice@example.com',
    flow: 'db-read',
    resource: 'orders-db',
    permission: 'read',
    reason: 'INC-7',
    durationMs: 3_600_000,
    status: 'PENDING_APPROVAL',
    decisions: [],
    approvers: ['bob@example.com'],
    requiredApprovals: 1,
    autoApprove: false,
    event: 'requested',
    ...changes,
  };
}
