/**
 * Access-flow evaluation: pure functions over the policy model, shared by the workflow,
 * the CLI, the API and the chat adapters so that every path applies the same rules.
 */
import type { AccessFlow, FlowSnapshot, Identity, PrincipalSet } from './types';

export function isInSet(identity: Identity, set: PrincipalSet): boolean {
  const email = identity.email.toLowerCase();
  return (
    set.users.some((u) => u.toLowerCase() === email) || set.groups.some((g) => identity.groups.includes(g))
  );
}

/** Every identity in the set, by email. */
export function resolveSet(set: PrincipalSet, identities: Identity[]): string[] {
  const emails = new Set<string>();
  for (const id of identities) if (isInSet(id, set)) emails.add(id.email.toLowerCase());
  for (const u of set.users) emails.add(u.toLowerCase());
  return [...emails].sort();
}

export function canRequest(identity: Identity, flow: AccessFlow): boolean {
  return isInSet(identity, flow.requesters);
}

export type ApprovalRefusal = 'not-an-approver' | 'self-approval' | 'already-decided' | 'already-approved';

/**
 * Whether `approver` may cast a decision on a request by `requester` under `flow`.
 * Returns the reason for refusal, or undefined when the decision counts.
 */
export function checkApprover(
  flow: FlowSnapshot,
  requester: string,
  approver: string,
  priorApprovers: string[],
): ApprovalRefusal | undefined {
  const who = approver.toLowerCase();
  if (who === requester.toLowerCase()) return 'self-approval';
  if (!flow.approvers.includes(who)) return 'not-an-approver';
  if (priorApprovers.some((a) => a.toLowerCase() === who)) return 'already-approved';
  return undefined;
}

/** Who may end a grant early: the requester, an approver of the flow, or an admin. */
export function mayRevoke(flow: FlowSnapshot, requester: string, actor: string): boolean {
  const who = actor.toLowerCase();
  return who === requester.toLowerCase() || flow.approvers.includes(who) || flow.admins.includes(who);
}

/** Who may extend a grant: the requester, or an admin. */
export function mayExtend(flow: FlowSnapshot, requester: string, actor: string): boolean {
  const who = actor.toLowerCase();
  return who === requester.toLowerCase() || flow.admins.includes(who);
}

export const REFUSAL_TEXT: Record<ApprovalRefusal, string> = {
  'not-an-approver': 'is not an approver of this flow',
  'self-approval': 'cannot approve or deny their own request',
  'already-decided': 'cannot decide: the request is already resolved',
  'already-approved': 'has already approved this request',
};
