/**
 * IAM group membership: the person's IAM user joins and leaves a configured group. IAM evaluates the user's
 * policies on every request, so removal cuts off the user's own keys and console session once IAM has propagated
 * it (seconds); sessions of roles the group let them assume are not ended (see docs/connectors/aws.md).
 */
import {
  AddUserToGroupCommand,
  GetGroupCommand,
  type IAMClient,
  RemoveUserFromGroupCommand,
  paginateGetGroup,
  paginateListGroupsForUser,
} from '@aws-sdk/client-iam';
import { AccountNotFoundError, GroupNotFoundError, isNotFound } from './errors';

/** IAM's rule for user names; anything else cannot be an IAM user. */
export const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;

/** Where a failure comes from, for the errors that name it. */
export interface IamContext {
  integration: string;
  permission: string;
  group: string;
}

/** The groups of a user, or undefined when the user does not exist. */
async function groupsOf(iam: IAMClient, user: string): Promise<Set<string> | undefined> {
  const groups = new Set<string>();
  try {
    for await (const page of paginateListGroupsForUser({ client: iam }, { UserName: user })) {
      for (const group of page.Groups ?? []) if (group.GroupName) groups.add(group.GroupName);
    }
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return groups;
}

/** Whether the user is in the group (false when the user does not exist). */
export async function isMember(iam: IAMClient, group: string, user: string): Promise<boolean> {
  return (await groupsOf(iam, user))?.has(group) ?? false;
}

/** Adds the user to the group; AddUserToGroup is idempotent, the listing before it only tells the audit log. */
export async function addToGroup(
  iam: IAMClient,
  ctx: IamContext,
  user: string,
): Promise<{ alreadyPresent: boolean }> {
  const groups = await groupsOf(iam, user);
  if (!groups) throw new AccountNotFoundError(ctx.integration, user);
  if (groups.has(ctx.group)) return { alreadyPresent: true };
  try {
    await iam.send(new AddUserToGroupCommand({ GroupName: ctx.group, UserName: user }));
  } catch (err) {
    // The user was just listed, so a missing entity is the group.
    if (isNotFound(err)) throw new GroupNotFoundError(ctx.integration, ctx.permission, ctx.group);
    throw err;
  }
  return { alreadyPresent: false };
}

/** Removes the user from the group; an absent membership or user is success (alreadyAbsent), an absent group is not. */
export async function removeFromGroup(
  iam: IAMClient,
  ctx: IamContext,
  user: string,
): Promise<{ alreadyAbsent: boolean }> {
  try {
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: ctx.group, UserName: user }));
    return { alreadyAbsent: false };
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  // NoSuchEntity covers the group, the user and the membership alike: only a missing group is a config problem.
  if (!(await groupExists(iam, ctx.group))) {
    throw new GroupNotFoundError(ctx.integration, ctx.permission, ctx.group);
  }
  return { alreadyAbsent: true };
}

async function groupExists(iam: IAMClient, group: string): Promise<boolean> {
  try {
    await iam.send(new GetGroupCommand({ GroupName: group, MaxItems: 1 }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The user names in a group (GetGroup, all pages). */
export async function groupMembers(iam: IAMClient, ctx: IamContext): Promise<string[]> {
  const users: string[] = [];
  try {
    for await (const page of paginateGetGroup({ client: iam }, { GroupName: ctx.group })) {
      for (const user of page.Users ?? []) if (user.UserName) users.push(user.UserName);
    }
  } catch (err) {
    if (isNotFound(err)) throw new GroupNotFoundError(ctx.integration, ctx.permission, ctx.group);
    throw err;
  }
  return users;
}

/** Health: the group exists and Grantflow may read it (iam:GetGroup). */
export async function checkGroup(iam: IAMClient, group: string): Promise<string> {
  const { Group } = await iam.send(new GetGroupCommand({ GroupName: group, MaxItems: 1 }));
  return `group ${Group?.Arn ?? group} is readable`;
}
