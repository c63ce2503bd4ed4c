/**
 * Applying the loaded config to one request: find the flow and the person, check the request against the flow,
 * and freeze the flow into a FlowSnapshot for the workflow. Pure (type-only config import), so every entry
 * point — CLI, API, chat — refuses the same requests with the same words.
 */
import type { GrantflowConfig, IntegrationConfig } from '../config/types';
import { formatDuration } from './duration';
import { canRequest, resolveSet } from './evaluate';
import type { AccessFlow, FlowResource, FlowSnapshot, Identity } from './types';

/** Freezes `flow` as it applies now: approvers and admins resolved to emails, tagged with the config version. */
export function snapshotFlow(config: GrantflowConfig, flow: AccessFlow): FlowSnapshot {
  return {
    name: flow.name,
    approvers: resolveSet(flow.approvers, config.identities),
    requiredApprovals: flow.requiredApprovals,
    autoApprove: flow.autoApprove,
    defaultDurationMs: flow.defaultDurationMs,
    maxDurationMs: flow.maxDurationMs,
    maxTotalDurationMs: flow.maxTotalDurationMs,
    approvalTimeoutMs: flow.approvalTimeoutMs,
    reminderBeforeMs: flow.reminderBeforeMs,
    requireJustification: flow.requireJustification,
    // Copied so that a later config reload cannot reach into a running request's snapshot.
    notify: flow.notify.map((target) => ({ ...target })),
    stepUp: flow.stepUp,
    admins: resolveSet(config.admins, config.identities),
    configVersion: config.version,
  };
}

/** The flow with this name, or undefined. */
export function findFlow(config: GrantflowConfig, name: string): AccessFlow | undefined {
  return config.flows.find((flow) => flow.name === name);
}

/** The identity with this email (compared case-insensitively), or undefined. */
export function findIdentity(config: GrantflowConfig, email: string): Identity | undefined {
  const wanted = email.trim().toLowerCase();
  return config.identities.find((identity) => identity.email.toLowerCase() === wanted);
}

/** What someone asks for; `durationMs` defaults to the flow's defaultDuration. */
export interface RequestInput {
  requester: string;
  flow: string;
  resource: string;
  permission: string;
  durationMs?: number;
  reason: string;
}

/** A request the config allows, with everything the workflow needs to carry it out. */
export interface RequestAccepted {
  ok: true;
  flow: AccessFlow;
  resource: FlowResource;
  integration: IntegrationConfig;
  /** The requester's own account in the integration, which receives the grant. */
  account: string;
  /** The requested duration, or the flow's default. */
  durationMs: number;
  snapshot: FlowSnapshot;
}

/** A request the config refuses: the input field at fault and why, in words fit to show the requester. */
export interface RequestRefused {
  ok: false;
  field: keyof RequestInput;
  message: string;
}

/** Checks a request against the config; the first rule it breaks is reported. */
export function checkRequest(config: GrantflowConfig, input: RequestInput): RequestAccepted | RequestRefused {
  const refuse = (field: keyof RequestInput, message: string): RequestRefused => ({
    ok: false,
    field,
    message,
  });
  const identity = findIdentity(config, input.requester);
  if (!identity) return refuse('requester', `${input.requester} is not an identity in the Grantflow config`);
  const flow = findFlow(config, input.flow);
  if (!flow) {
    const names = config.flows.map((f) => f.name).join(', ') || 'none';
    return refuse('flow', `there is no flow named "${input.flow}" (flows: ${names})`);
  }
  if (!canRequest(identity, flow))
    return refuse('requester', `${identity.email} may not request flow ${flow.name}`);
  const resource = flow.resources.find((r) => r.name === input.resource);
  if (!resource) {
    const names = flow.resources.map((r) => r.name).join(', ');
    return refuse(
      'resource',
      `flow ${flow.name} does not offer resource "${input.resource}" (it offers: ${names})`,
    );
  }
  if (!resource.permissions.includes(input.permission)) {
    const allowed = resource.permissions.join(', ');
    return refuse(
      'permission',
      `permission "${input.permission}" is not offered on ${resource.name} (allowed: ${allowed})`,
    );
  }
  const durationMs = input.durationMs ?? flow.defaultDurationMs;
  if (!Number.isFinite(durationMs) || durationMs <= 0)
    return refuse('durationMs', 'the duration must be positive');
  if (durationMs > flow.maxDurationMs) {
    return refuse(
      'durationMs',
      `${formatDuration(durationMs)} is longer than flow ${flow.name} allows (at most ${formatDuration(flow.maxDurationMs)})`,
    );
  }
  if (flow.requireJustification && input.reason.trim() === '') {
    return refuse('reason', `flow ${flow.name} requires a reason for the request`);
  }
  const integration = ownValue(config.integrations, resource.integration);
  if (!integration)
    return refuse('resource', `resource ${resource.name} uses unknown integration ${resource.integration}`);
  const account = accountIn(identity, resource.integration, integration);
  if (!account) {
    return refuse(
      'requester',
      `${identity.email} has no account in ${resource.integration}: add it under accounts for this identity in the config`,
    );
  }
  return { ok: true, flow, resource, integration, account, durationMs, snapshot: snapshotFlow(config, flow) };
}

/**
 * The person's account in an integration: the one listed under `accounts`, or — where each grant makes its own
 * user (temporary-user mode) and none is listed — the email's local part, which only names that user.
 */
export function accountIn(
  identity: Pick<Identity, 'email' | 'accounts'>,
  integrationName: string,
  integration: { mode?: string } | object,
): string | undefined {
  const listed = ownValue(identity.accounts, integrationName);
  if (listed) return listed;
  const perGrant = 'mode' in integration && integration.mode === 'temporary-user';
  return perGrant ? identity.email.split('@')[0] : undefined;
}

/** Reads a record by a configured name without ever reaching inherited properties such as `constructor`. */
function ownValue<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
