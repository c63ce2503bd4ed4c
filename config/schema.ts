/**
 * The shape of grantflow.yaml as written, in zod. Objects are strict so that a misspelled key is an error
 * rather than a silently ignored setting. Rules that span fields (references, duration order) are in checkDocument.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../policy/duration';
import { resolveSet } from '../policy/evaluate';
import { postgresIntegrationSchema } from '../connectors/postgres/config';
import { webhookIntegrationSchema } from '../connectors/webhook/config';
import { awsIntegrationSchema } from '../connectors/aws/config';
import { mysqlIntegrationSchema } from '../connectors/mysql/config';
import type { FieldProblem, PathSegment } from './errors';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A duration such as `30m` or `8h`, converted to milliseconds. */
const duration = z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null) {
    ctx.addIssue({ code: 'custom', message: 'is required (a duration, e.g. 30m, 1h, 8h)' });
    return z.NEVER;
  }
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a duration (use e.g. 30m, 1h, 8h)`,
    });
    return z.NEVER;
  }
  return ms;
});

/** Names used on the command line and in chat: no spaces or punctuation to quote. */
const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'must start with a letter or digit and use only letters, digits, . _ -',
  );

/** Emails are compared case-insensitively everywhere, so they are stored lowercase. */
const email = z
  .string()
  .trim()
  .pipe(z.email('is not a valid email address'))
  .transform((s) => s.toLowerCase());

const principalSet = z
  .object({
    users: z.array(email).default([]),
    groups: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** Where a notification goes; see NotificationTarget in policy/types.ts. */
export const notificationTargetSchema = z
  .object({
    platform: z.enum(['slack', 'teams', 'log']),
    channel: z.string().min(1).optional(),
    dmApprovers: z.boolean().optional(),
  })
  .strict();

const identitySchema = z
  .object({
    email,
    name: z.string().optional(),
    groups: z.array(z.string().min(1)).default([]),
    accounts: z.record(z.string(), z.string().min(1)).default({}),
    slack: z
      .object({ userId: z.string().min(1) })
      .strict()
      .optional(),
    teams: z
      .object({ aadObjectId: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict();

/** New integration types join this union by their `type`. */
export const integrationSchema = z.discriminatedUnion('type', [
  postgresIntegrationSchema,
  webhookIntegrationSchema,
  awsIntegrationSchema,
  mysqlIntegrationSchema,
]);

const resourceSchema = z
  .object({
    name,
    integration: name.optional(),
    permissions: z.array(z.string().min(1)).min(1, 'must list at least one permission'),
  })
  .strict();

const flowSchema = z
  .object({
    name,
    description: z.string().optional(),
    requesters: principalSet,
    resources: z.array(resourceSchema).min(1, 'must list at least one resource'),
    approvers: principalSet.optional(),
    requiredApprovals: z.number().int('must be a whole number').min(0).default(1),
    autoApprove: z.boolean().default(false),
    defaultDuration: duration.optional(),
    maxDuration: duration,
    maxTotalDuration: duration.optional(),
    approvalTimeout: duration.default(HOUR),
    reminderBefore: duration.default(5 * MINUTE),
    requireJustification: z.boolean().default(true),
    notify: z.array(notificationTargetSchema).default([{ platform: 'log' }]),
    stepUp: z.boolean().default(false),
  })
  .strict();

/** Slack settings; each may also come from the environment (SLACK_BOT_TOKEN, ...), which wins. */
export const slackSchema = z
  .object({
    botToken: z.string().min(1).optional(),
    signingSecret: z.string().min(1).optional(),
    appToken: z.string().min(1).optional(),
    apiUrl: z.url('is not a URL').optional(),
    matchUsersByEmail: z.boolean().default(false),
  })
  .strict();

/** Microsoft Teams (Bot Framework) settings, in botbuilder's naming; the environment wins. */
export const teamsSchema = z
  .object({
    appId: z.string().min(1).optional(),
    appPassword: z.string().min(1).optional(),
    appType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional(),
    tenantId: z.string().min(1).optional(),
    matchUsersByEmail: z.boolean().default(false),
  })
  .strict();

export const RECONCILE_EVERY_DEFAULT_MS = 5 * MINUTE;

/** Drift reconciliation (docs/reconcile.md): how often, and per integration whether to report or also revoke. */
export const reconcileSchema = z
  .object({
    every: duration.default(RECONCILE_EVERY_DEFAULT_MS),
    integrations: z.record(z.string(), z.enum(['report', 'revoke'])).default({}),
  })
  .strict();

/** The whole grantflow.yaml document. */
export const configDocumentSchema = z
  .object({
    taskQueue: z.string().min(1).default('grantflow'),
    settings: z
      .object({
        revokeAlertAfterAttempts: z.number().int('must be a whole number').min(1).default(5),
        revokeMaxBackoff: duration.default(MINUTE),
        /** How recent a portal login must be to decide on a step-up flow. */
        stepUpMaxAge: duration.default(10 * MINUTE),
        /** A revoke not done this long after it started is REVOKE_OVERDUE, and admins are alerted. */
        revokeOverdueAfter: duration.default(5 * MINUTE),
      })
      .strict()
      .default({
        revokeAlertAfterAttempts: 5,
        revokeMaxBackoff: MINUTE,
        stepUpMaxAge: 10 * MINUTE,
        revokeOverdueAfter: 5 * MINUTE,
      }),
    identities: z.array(identitySchema),
    admins: principalSet
      .extend({ alerts: z.array(notificationTargetSchema).default([]) })
      .strict()
      .default({ users: [], groups: [], alerts: [] }),
    integrations: z.record(name, integrationSchema),
    flows: z.array(flowSchema),
    publicUrl: z.url('is not a URL').optional(),
    slack: slackSchema.optional(),
    teams: teamsSchema.optional(),
    reconcile: reconcileSchema.optional(),
  })
  .strict();

/** The document after schema validation: defaults applied, emails lowercase, durations in milliseconds. */
export type ConfigDocument = z.output<typeof configDocumentSchema>;
/** One flow as parsed from the document. */
export type FlowDocument = ConfigDocument['flows'][number];

/** Strips optional/default/pipe wrappers to reach the schema that describes the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable)
      s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else return s;
  }
}

/**
 * The keys allowed in the object at `path` (used to suggest a fix for a misspelled key). Under a union of object
 * types (integrations), the keys of every type, or — deeper — of the first type that has the next key.
 */
export function knownKeysAt(path: readonly PathSegment[]): string[] {
  let s = unwrap(configDocumentSchema);
  const objectsOf = (u: z.ZodType): z.ZodObject[] =>
    u instanceof z.ZodDiscriminatedUnion
      ? (u.options as z.ZodType[]).map(unwrap).filter((o): o is z.ZodObject => o instanceof z.ZodObject)
      : [];
  for (const seg of path) {
    const inUnion = objectsOf(s).find((o) => Object.hasOwn(o.shape, seg as string));
    if (inUnion) s = inUnion.shape[seg as string] as z.ZodType;
    else if (s instanceof z.ZodObject) s = s.shape[seg as string] as z.ZodType;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
    if (!s) return [];
    s = unwrap(s);
  }
  const union = objectsOf(s);
  if (union.length) return [...new Set(union.flatMap((o) => Object.keys(o.shape)))];
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** The defaults that depend on other fields: defaultDuration is 1h (or maxDuration if shorter), total 3 × max. */
export function flowDurations(flow: FlowDocument): { defaultDurationMs: number; maxTotalDurationMs: number } {
  return {
    defaultDurationMs: flow.defaultDuration ?? Math.min(HOUR, flow.maxDuration),
    maxTotalDurationMs: flow.maxTotalDuration ?? 3 * flow.maxDuration,
  };
}

type Add = (path: PathSegment[], message: string) => void;
interface Known {
  emails: Set<string>;
  groups: Set<string>;
}

/** Rules the schema cannot express alone. Runs only on a document that passed the schema. */
export function checkDocument(doc: ConfigDocument): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add: Add = (path, message) => problems.push({ path, message });
  const emails = new Map<string, number>();
  doc.identities.forEach((identity, i) => {
    const prior = emails.get(identity.email);
    if (prior !== undefined)
      add(['identities', i, 'email'], `${identity.email} is already listed as identities[${prior}]`);
    else emails.set(identity.email, i);
    for (const integration of Object.keys(identity.accounts)) {
      if (!Object.hasOwn(doc.integrations, integration)) {
        problems.push({
          path: ['identities', i, 'accounts', integration],
          message: `no integration named "${integration}" under integrations`,
          atKey: true,
        });
      }
    }
  });
  const known: Known = {
    emails: new Set(emails.keys()),
    groups: new Set(doc.identities.flatMap((id) => id.groups)),
  };
  checkPrincipals(doc.admins, ['admins'], known, add);
  checkReconcile(doc, add, problems);
  const names = new Map<string, number>();
  doc.flows.forEach((flow, i) => {
    const prior = names.get(flow.name);
    if (prior !== undefined)
      add(
        ['flows', i, 'name'],
        `"${flow.name}" is already the name of flows[${prior}]; flow names must be unique`,
      );
    else names.set(flow.name, i);
    checkFlow(doc, flow, ['flows', i], known, add);
  });
  return problems;
}

/** The shortest reconcile interval: listing every integration more often than this only loads the targets. */
const MIN_RECONCILE_INTERVAL_MS = 10_000;

function checkReconcile(doc: ConfigDocument, add: Add, problems: FieldProblem[]): void {
  if (!doc.reconcile) return;
  if (doc.reconcile.every < MIN_RECONCILE_INTERVAL_MS)
    add(['reconcile', 'every'], `${formatDuration(doc.reconcile.every)} is too short (at least 10s)`);
  for (const integration of Object.keys(doc.reconcile.integrations)) {
    if (!Object.hasOwn(doc.integrations, integration))
      problems.push({
        path: ['reconcile', 'integrations', integration],
        message: `no integration named "${integration}" under integrations`,
        atKey: true,
      });
  }
}

function checkPrincipals(
  set: { users: string[]; groups: string[] },
  path: PathSegment[],
  known: Known,
  add: Add,
): void {
  set.users.forEach((user, j) => {
    if (!known.emails.has(user))
      add([...path, 'users', j], `unknown user ${user}: add it under identities first`);
  });
  set.groups.forEach((group, j) => {
    if (!known.groups.has(group)) {
      add([...path, 'groups', j], `unknown group "${group}": no identity lists it in its groups`);
    }
  });
}

function checkFlow(
  doc: ConfigDocument,
  flow: FlowDocument,
  path: PathSegment[],
  known: Known,
  add: Add,
): void {
  checkPrincipals(flow.requesters, [...path, 'requesters'], known, add);
  if (flow.requesters.users.length + flow.requesters.groups.length === 0) {
    add([...path, 'requesters'], 'names nobody: list at least one user or group who may request this flow');
  }
  checkResources(doc, flow, path, add);
  if (flow.approvers) checkPrincipals(flow.approvers, [...path, 'approvers'], known, add);
  if (!flow.autoApprove) {
    const approvers = flow.approvers ? resolveSet(flow.approvers, doc.identities).length : 0;
    if (!flow.approvers) add([...path, 'approvers'], 'is required unless autoApprove is true');
    else if (flow.requiredApprovals < 1)
      add([...path, 'requiredApprovals'], 'must be at least 1 unless autoApprove is true');
    else if (flow.requiredApprovals > approvers) {
      add(
        [...path, 'requiredApprovals'],
        `is ${flow.requiredApprovals} but the approvers resolve to only ${approvers} ${approvers === 1 ? 'person' : 'people'}`,
      );
    }
  }
  const { defaultDurationMs, maxTotalDurationMs } = flowDurations(flow);
  if (defaultDurationMs > flow.maxDuration) {
    add(
      [...path, 'defaultDuration'],
      `${formatDuration(defaultDurationMs)} is longer than maxDuration (${formatDuration(flow.maxDuration)})`,
    );
  }
  if (maxTotalDurationMs < flow.maxDuration) {
    add(
      [...path, 'maxTotalDuration'],
      `${formatDuration(maxTotalDurationMs)} is shorter than maxDuration (${formatDuration(flow.maxDuration)})`,
    );
  }
}

function checkResources(doc: ConfigDocument, flow: FlowDocument, path: PathSegment[], add: Add): void {
  const seen = new Set<string>();
  flow.resources.forEach((resource, r) => {
    const at = [...path, 'resources', r];
    if (seen.has(resource.name))
      add([...at, 'name'], `resource "${resource.name}" is listed twice in this flow`);
    seen.add(resource.name);
    const integrationName = resource.integration ?? resource.name;
    const integration = Object.hasOwn(doc.integrations, integrationName)
      ? doc.integrations[integrationName]
      : undefined;
    if (!integration) {
      const field = resource.integration === undefined ? 'name' : 'integration';
      add([...at, field], `no integration named "${integrationName}" under integrations`);
      return;
    }
    resource.permissions.forEach((permission, p) => {
      if (!Object.hasOwn(integration.permissions, permission)) {
        const offered = Object.keys(integration.permissions).join(', ') || 'none';
        add(
          [...at, 'permissions', p],
          `integration "${integrationName}" has no permission "${permission}" (it has: ${offered})`,
        );
      }
    });
  });
}
