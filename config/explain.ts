/**
 * `grantflow flows explain --user EMAIL`: what one person may request under the loaded config, and on what terms.
 * Answers "why can't I request X?" and "who approves this?" without reading the YAML.
 */
import { formatDuration } from '../policy/duration';
import { canRequest, isInSet, resolveSet } from '../policy/evaluate';
import { accountIn, findIdentity } from '../policy/snapshot';
import { UnknownIdentityError } from './errors';
import type { GrantflowConfig } from './types';

/** One resource of a flow as it applies to the person. */
export interface ExplainedResource {
  name: string;
  integration: string;
  /** The integration's type, e.g. `postgres`. */
  integrationType: string;
  permissions: string[];
  /** The person's account in the integration; undefined means a request would be refused. */
  account?: string;
}

/** One flow the person may request. */
export interface ExplainedFlow {
  name: string;
  description?: string;
  resources: ExplainedResource[];
  defaultDurationMs: number;
  maxDurationMs: number;
  maxTotalDurationMs: number;
  autoApprove: boolean;
  /** Everyone who may approve, by email (empty when auto-approved). */
  approvers: string[];
  /** The groups the approvers come from, as configured. */
  approverGroups: string[];
  requiredApprovals: number;
  approvalTimeoutMs: number;
  requireJustification: boolean;
  /** The person is an approver too; they still cannot approve their own request. */
  selfIsApprover: boolean;
  /** Approvers decide in the portal after a recent login. */
  stepUp: boolean;
}

/** One flow as an admin reviews it: who may request and approve (groups resolved), what, and where it notifies. */
export interface DescribedFlow {
  name: string;
  description?: string;
  /** Everyone who may request, by email. */
  requesters: string[];
  requesterGroups: string[];
  approvers: string[];
  approverGroups: string[];
  requiredApprovals: number;
  autoApprove: boolean;
  stepUp: boolean;
  maxDurationMs: number;
  resources: { name: string; integration: string; permissions: string[] }[];
  /** Where notifications go, e.g. `slack #C0123`, `log`. */
  notify: string[];
}

/** Every loaded flow, for the portal's admin view. */
export function describeFlows(config: GrantflowConfig): DescribedFlow[] {
  return config.flows.map((flow) => ({
    name: flow.name,
    description: flow.description,
    requesters: resolveSet(flow.requesters, config.identities),
    requesterGroups: flow.requesters.groups,
    approvers: flow.autoApprove ? [] : resolveSet(flow.approvers, config.identities),
    approverGroups: flow.autoApprove ? [] : flow.approvers.groups,
    requiredApprovals: flow.requiredApprovals,
    autoApprove: flow.autoApprove,
    stepUp: flow.stepUp,
    maxDurationMs: flow.maxDurationMs,
    resources: flow.resources.map((r) => ({
      name: r.name,
      integration: r.integration,
      permissions: r.permissions,
    })),
    notify: flow.notify.map((t) =>
      [t.platform, t.channel, t.dmApprovers ? '(DM approvers)' : ''].filter(Boolean).join(' '),
    ),
  }));
}

/** What one identity may do under the config. */
export interface Explanation {
  email: string;
  name?: string;
  groups: string[];
  isAdmin: boolean;
  /** Flows the person may request. */
  flows: ExplainedFlow[];
  /** Names of flows whose requests the person may approve. */
  approves: string[];
}

/** Explains the config for one person. Throws UnknownIdentityError if the email is not an identity. */
export function explainFor(config: GrantflowConfig, email: string): Explanation {
  const identity = findIdentity(config, email);
  if (!identity) throw new UnknownIdentityError(email);
  const flows = config.flows
    .filter((flow) => canRequest(identity, flow))
    .map((flow): ExplainedFlow => {
      const approvers = flow.autoApprove ? [] : resolveSet(flow.approvers, config.identities);
      return {
        name: flow.name,
        description: flow.description,
        resources: flow.resources.map((r) => ({
          name: r.name,
          integration: r.integration,
          integrationType: config.integrations[r.integration]?.type ?? 'unknown',
          permissions: r.permissions,
          account: Object.hasOwn(config.integrations, r.integration)
            ? accountIn(identity, r.integration, config.integrations[r.integration]!)
            : undefined,
        })),
        defaultDurationMs: flow.defaultDurationMs,
        maxDurationMs: flow.maxDurationMs,
        maxTotalDurationMs: flow.maxTotalDurationMs,
        autoApprove: flow.autoApprove,
        approvers,
        approverGroups: flow.autoApprove ? [] : flow.approvers.groups,
        requiredApprovals: flow.requiredApprovals,
        approvalTimeoutMs: flow.approvalTimeoutMs,
        requireJustification: flow.requireJustification,
        selfIsApprover: approvers.includes(identity.email.toLowerCase()),
        stepUp: flow.stepUp,
      };
    });
  return {
    email: identity.email,
    name: identity.name,
    groups: identity.groups,
    isAdmin: isInSet(identity, config.admins),
    flows,
    approves: config.flows.filter((f) => !f.autoApprove && isInSet(identity, f.approvers)).map((f) => f.name),
  };
}

/** Renders an explanation as plain text for the terminal. */
export function formatExplanation(e: Explanation): string {
  const who = e.name ? `${e.email} (${e.name})` : e.email;
  const lines = [
    `${who}, groups: ${e.groups.join(', ') || 'none'}${e.isAdmin ? ', Grantflow admin' : ''}`,
    '',
  ];
  if (e.flows.length === 0) lines.push('May request no flows.');
  else lines.push(`May request ${e.flows.length} ${e.flows.length === 1 ? 'flow' : 'flows'}:`);
  for (const flow of e.flows) lines.push('', ...formatFlow(flow));
  lines.push('', `Approves requests in: ${e.approves.join(', ') || 'no flows'}`);
  return lines.join('\n');
}

function formatFlow(flow: ExplainedFlow): string[] {
  const lines = [`  ${flow.name}${flow.description ? ` — ${flow.description}` : ''}`];
  for (const r of flow.resources) {
    const as = r.account ? `as ${r.account}` : `no account in ${r.integration}: requests will be refused`;
    lines.push(
      `    grants:        ${r.name}: ${r.permissions.join(', ')} (${r.integrationType} ${r.integration}, ${as})`,
    );
  }
  lines.push(
    `    duration:      ${formatDuration(flow.defaultDurationMs)} by default, at most ` +
      `${formatDuration(flow.maxDurationMs)} per request, ${formatDuration(flow.maxTotalDurationMs)} in total with extensions`,
  );
  lines.push(`    approval:      ${formatApproval(flow)}`);
  lines.push(`    justification: ${flow.requireJustification ? 'required' : 'optional'}`);
  return lines;
}

function formatApproval(flow: ExplainedFlow): string {
  if (flow.autoApprove) return 'automatic (no approver needed)';
  const groups =
    flow.approverGroups.length > 0 ? ` (${flow.approverGroups.map((g) => `group ${g}`).join(', ')})` : '';
  const self = flow.selfIsApprover ? '; you cannot approve your own request' : '';
  return (
    `${flow.requiredApprovals} ${flow.requiredApprovals === 1 ? 'approval' : 'approvals'} from ` +
    `${flow.approvers.join(', ')}${groups}` +
    `; expires if not approved within ${formatDuration(flow.approvalTimeoutMs)}${self}`
  );
}
