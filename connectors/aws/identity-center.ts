/**
 * IAM Identity Center account assignments: a permission set in one AWS account, assigned to the person's Identity
 * Center user. Creating and deleting are asynchronous in AWS, so each waits (briefly, bounded) for the request's
 * status; a request still running when the wait ends is a retryable error, and the next attempt finds it listed.
 */
import {
  type AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  type SSOAdminClient,
  paginateListAccountAssignments,
} from '@aws-sdk/client-sso-admin';
import type { IdentityCenterTarget } from './config';
import { AssignmentError, isNotFound } from './errors';

/** An Identity Center user id as the API accepts it: a GUID, optionally prefixed by a 10-hex-digit store id. */
export const PRINCIPAL_ID =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;

/** How often and how long to wait for an assignment request: AWS usually finishes in a few seconds. */
export const POLL = { intervalMs: 500, limitMs: 30_000 };

export interface IdentityCenterContext {
  integration: string;
  permission: string;
  target: IdentityCenterTarget;
}

/** The Identity Center user ids that hold the assignment directly (group assignments are not Grantflow's). */
export async function assignedUsers(
  sso: SSOAdminClient,
  { target }: IdentityCenterContext,
): Promise<string[]> {
  const users: string[] = [];
  const input = {
    InstanceArn: target.instanceArn,
    AccountId: target.accountId,
    PermissionSetArn: target.permissionSetArn,
  };
  for await (const page of paginateListAccountAssignments({ client: sso }, input)) {
    for (const a of page.AccountAssignments ?? []) {
      if (a.PrincipalType === 'USER' && a.PrincipalId) users.push(a.PrincipalId);
    }
  }
  return users;
}

function assignment(ctx: IdentityCenterContext, principalId: string) {
  return {
    InstanceArn: ctx.target.instanceArn,
    TargetId: ctx.target.accountId,
    TargetType: 'AWS_ACCOUNT' as const,
    PermissionSetArn: ctx.target.permissionSetArn,
    PrincipalType: 'USER' as const,
    PrincipalId: principalId,
  };
}

/** Assigns the permission set to the user in the account, unless it already is; waits for the request to finish. */
export async function createAssignment(
  sso: SSOAdminClient,
  ctx: IdentityCenterContext,
  principalId: string,
  poll = POLL,
): Promise<{ alreadyPresent: boolean; awsRequestId?: string }> {
  if ((await assignedUsers(sso, ctx)).includes(principalId)) return { alreadyPresent: true };
  const { AccountAssignmentCreationStatus: status } = await sso.send(
    new CreateAccountAssignmentCommand(assignment(ctx, principalId)),
  );
  const done = await waitFor(
    status,
    async (id) => {
      const out = await sso.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: ctx.target.instanceArn,
          AccountAssignmentCreationRequestId: id,
        }),
      );
      return out.AccountAssignmentCreationStatus;
    },
    poll,
  );
  if (done.Status === 'FAILED') {
    throw new AssignmentError(
      ctx.integration,
      ctx.permission,
      `assignment failed: ${done.FailureReason}`,
      false,
    );
  }
  if (done.Status !== 'SUCCEEDED') {
    throw new AssignmentError(ctx.integration, ctx.permission, 'assignment is still in progress', true);
  }
  return { alreadyPresent: false, awsRequestId: done.RequestId };
}

/** Deletes the user's assignment if it exists; waits for the request to finish. */
export async function deleteAssignment(
  sso: SSOAdminClient,
  ctx: IdentityCenterContext,
  principalId: string,
  poll = POLL,
): Promise<{ alreadyAbsent: boolean }> {
  if (!(await assignedUsers(sso, ctx)).includes(principalId)) return { alreadyAbsent: true };
  let status: AccountAssignmentOperationStatus | undefined;
  try {
    const out = await sso.send(new DeleteAccountAssignmentCommand(assignment(ctx, principalId)));
    status = out.AccountAssignmentDeletionStatus;
  } catch (err) {
    if (isNotFound(err)) return { alreadyAbsent: true }; // deleted since it was listed
    throw err;
  }
  const done = await waitFor(
    status,
    async (id) => {
      const out = await sso.send(
        new DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: ctx.target.instanceArn,
          AccountAssignmentDeletionRequestId: id,
        }),
      );
      return out.AccountAssignmentDeletionStatus;
    },
    poll,
  );
  // A revoke that did not finish leaves the access in place: retryable, so that revoking goes on (and alerts).
  if (done.Status === 'FAILED') {
    throw new AssignmentError(
      ctx.integration,
      ctx.permission,
      `unassignment failed: ${done.FailureReason}`,
      true,
    );
  }
  if (done.Status !== 'SUCCEEDED') {
    throw new AssignmentError(ctx.integration, ctx.permission, 'unassignment is still in progress', true);
  }
  return { alreadyAbsent: false };
}

/**
 * Polls a request's status until it is SUCCEEDED or FAILED, or POLL.limitMs has passed (then returns the last
 * status seen, IN_PROGRESS). Exported for tests: moto answers SUCCEEDED at once.
 */
export async function waitFor(
  first: AccountAssignmentOperationStatus | undefined,
  describe: (requestId: string) => Promise<AccountAssignmentOperationStatus | undefined>,
  poll = POLL,
): Promise<AccountAssignmentOperationStatus> {
  let status = first ?? {};
  const deadline = Date.now() + poll.limitMs;
  while (status.Status !== 'SUCCEEDED' && status.Status !== 'FAILED') {
    if (!status.RequestId || Date.now() >= deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, poll.intervalMs));
    status = (await describe(status.RequestId)) ?? status;
  }
  return status;
}

/** Health: the permission set exists and may be read, and the account's assignments may be listed. */
export async function checkPermissionSet(
  sso: SSOAdminClient,
  { target }: IdentityCenterContext,
): Promise<string> {
  const { PermissionSet } = await sso.send(
    new DescribePermissionSetCommand({
      InstanceArn: target.instanceArn,
      PermissionSetArn: target.permissionSetArn,
    }),
  );
  await sso.send(
    new ListAccountAssignmentsCommand({
      InstanceArn: target.instanceArn,
      AccountId: target.accountId,
      PermissionSetArn: target.permissionSetArn,
      MaxResults: 1,
    }),
  );
  const duration = PermissionSet?.SessionDuration
    ? `, session duration ${PermissionSet.SessionDuration}`
    : '';
  return `permission set "${PermissionSet?.Name ?? target.permissionSetArn}"${duration} in account ${target.accountId}`;
}
