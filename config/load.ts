/**
 * Loads grantflow.yaml: YAML → schema → cross-field checks → secret references → GrantflowConfig.
 * Every problem is reported at once, each with file, line, column and field, so a bad edit is fixed in one pass.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { core as zcore } from 'zod';
import type { AccessFlow, Identity } from '../policy/types';
import type { GrantflowConfig, IntegrationConfig } from './types';
import {
  ConfigError,
  ConfigFileError,
  formatPath,
  type ConfigIssue,
  type FieldProblem,
  type PathSegment,
} from './errors';
import {
  checkDocument,
  configDocumentSchema,
  flowDurations,
  knownKeysAt,
  RECONCILE_EVERY_DEFAULT_MS,
  type ConfigDocument,
} from './schema';
import { findInlineSecrets, resolveSecrets } from './secrets';

/** Options for loading. */
export interface LoadOptions {
  /**
   * Resolve `${ENV}` / `${file:…}` references. Turn off to validate a config where its secrets are not
   * available (e.g. in CI); integration values then keep their `${…}` text. @default true
   */
  resolveSecrets?: boolean;
}

/**
 * Which config file to use: `--config`, then `GRANTFLOW_CONFIG`, then `./grantflow.yaml`.
 * Returns an absolute path; throws ConfigFileError when the chosen file does not exist.
 */
export function findConfigFile(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const candidates: [string | undefined, string][] = [
    [explicit, '--config'],
    [env.GRANTFLOW_CONFIG, 'GRANTFLOW_CONFIG'],
  ];
  for (const [file, source] of candidates) {
    if (!file) continue;
    const abs = resolve(file);
    if (!existsSync(abs)) throw new ConfigFileError(`config file ${abs} (given by ${source}) does not exist`);
    return abs;
  }
  const fallback = resolve('grantflow.yaml');
  if (existsSync(fallback)) return fallback;
  throw new ConfigFileError(
    `no config file: pass --config FILE, set GRANTFLOW_CONFIG, or create ./grantflow.yaml ` +
      `(looked for ${fallback}; see docs/configuration.md)`,
  );
}

/** Reads and loads a config file. Throws ConfigFileError if it cannot be read and ConfigError if it is invalid. */
export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): GrantflowConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigFileError(`cannot read config file ${abs}: ${(err as Error).message}`);
  }
  const shown = relative(process.cwd(), abs);
  return parseConfig(
    text,
    shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : abs,
    env,
    options,
  );
}

/**
 * Validates config text. `file` is used in error messages and to resolve `${file:…}` references
 * (relative to its folder). Throws ConfigError listing every issue.
 */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): GrantflowConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        path: '',
        message: `YAML syntax error: ${e.message}${SYNTAX_HINTS[e.code] ?? ''}`,
      })),
    );
  }
  const locate = (problem: FieldProblem): ConfigIssue => ({
    file,
    ...at(offsetOf(doc, problem)),
    path: formatPath(problem.path),
    message: problem.message,
  });
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (err) {
    // e.g. an alias whose anchor is not defined: the parser accepts it, building the value does not.
    throw new ConfigError([
      { file, line: 1, column: 1, path: '', message: `YAML error: ${(err as Error).message}` },
    ]);
  }
  const problems = findInlineSecrets(raw);
  const parsed = configDocumentSchema.safeParse(raw);
  if (parsed.success) problems.push(...checkDocument(parsed.data));
  else problems.push(...parsed.error.issues.flatMap((issue) => describeZodIssue(issue, raw)));
  throwIfAny(problems.map(locate));
  const data = parsed.data as ConfigDocument;
  let integrations = data.integrations;
  let slack = data.slack;
  let teams = data.teams;
  if (options.resolveSecrets !== false) {
    const source = { env, baseDir: dirname(resolve(file)) };
    const resolved = resolveSecrets(integrations, ['integrations'], source);
    const resolvedSlack = slack ? resolveSecrets(slack, ['slack'], source) : undefined;
    const resolvedTeams = teams ? resolveSecrets(teams, ['teams'], source) : undefined;
    throwIfAny(
      [...resolved.problems, ...(resolvedSlack?.problems ?? []), ...(resolvedTeams?.problems ?? [])].map(
        locate,
      ),
    );
    integrations = resolved.value;
    slack = resolvedSlack?.value;
    teams = resolvedTeams?.value;
  }
  return buildConfig({ ...data, slack, teams }, integrations, { file: resolve(file), text });
}

/** What usually causes the commonest YAML mistakes in a hand-edited config. */
const SYNTAX_HINTS: Partial<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY: ' (put quotes around a value that contains ": ")',
  TAB_AS_INDENT: ' (indent with spaces)',
  DUPLICATE_KEY: ' (this key is set twice in the same map)',
};

function throwIfAny(issues: ConfigIssue[]): void {
  if (issues.length === 0) return;
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  throw new ConfigError(issues);
}

/** Where a problem is in the text: its node, the key for unknown keys, or the nearest enclosing node if missing. */
function offsetOf(doc: Document, problem: FieldProblem): number {
  let path = problem.path;
  if (problem.atKey && path.length > 0) {
    const parent = doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const key = path[path.length - 1];
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    }
  }
  for (;;) {
    const node: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range) return range[0];
    if (path.length === 0) return 0;
    path = path.slice(0, -1);
  }
}

function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let node = raw;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map of key: value',
  record: 'a map of key: value',
};

function describeValue(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  // Never echo a string here: a misplaced secret must not end up in terminal output or CI logs.
  return typeof value === 'string' ? 'text' : `${typeof value} ${String(value)}`;
}

/** Rewrites a zod issue in plain words, at the path where the problem is. */
function describeZodIssue(issue: zcore.$ZodIssue, raw: unknown): FieldProblem[] {
  const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
  const value = valueAt(raw, path);
  const one = (message: string): FieldProblem[] => [{ path, message }];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message: unknownKeyMessage(key, knownKeysAt(path)),
      }));
    case 'invalid_type':
      if (value === undefined) return one('is required');
      return one(`must be ${TYPE_WORDS[issue.expected] ?? issue.expected}, not ${describeValue(value)}`);
    case 'invalid_value':
      return one(`must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (!options) return one(issue.message);
      const choices = options.map((v) => JSON.stringify(v)).join(', ');
      return one(value === undefined ? `is required (one of ${choices})` : `must be one of ${choices}`);
    }
    case 'invalid_format':
      return one(`${JSON.stringify(value)} ${issue.message}`);
    case 'too_small':
      if (!issue.message.startsWith('Too small')) return one(issue.message);
      if (issue.origin === 'string') return one('must not be empty');
      return one(`must be at least ${String(issue.minimum)}`);
    default:
      return one(issue.message);
  }
}

function unknownKeyMessage(key: string, known: string[]): string {
  const close = known.filter((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  const hint = close.length > 0 ? `did you mean "${close[0]}"?` : `allowed here: ${known.join(', ')}`;
  return known.length > 0 ? `unknown key "${key}" (${hint})` : `unknown key "${key}"`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function buildConfig(
  data: ConfigDocument,
  integrations: Record<string, IntegrationConfig>,
  source: { file: string; text: string },
): GrantflowConfig {
  const identities = data.identities.map((id): Identity => {
    const identity: Identity = { email: id.email, groups: [...new Set(id.groups)], accounts: id.accounts };
    if (id.name !== undefined) identity.name = id.name;
    if (id.slack) identity.slackUserId = id.slack.userId;
    if (id.teams) identity.teamsAadObjectId = id.teams.aadObjectId;
    return identity;
  });
  const flows = data.flows.map((flow): AccessFlow => {
    const { defaultDurationMs, maxTotalDurationMs } = flowDurations(flow);
    const accessFlow: AccessFlow = {
      name: flow.name,
      requesters: flow.requesters,
      resources: flow.resources.map((r) => ({ ...r, integration: r.integration ?? r.name })),
      approvers: flow.approvers ?? { users: [], groups: [] },
      requiredApprovals: flow.requiredApprovals,
      autoApprove: flow.autoApprove,
      defaultDurationMs,
      maxDurationMs: flow.maxDuration,
      maxTotalDurationMs,
      approvalTimeoutMs: flow.approvalTimeout,
      reminderBeforeMs: flow.reminderBefore,
      requireJustification: flow.requireJustification,
      notify: flow.notify,
      stepUp: flow.stepUp,
    };
    if (flow.description !== undefined) accessFlow.description = flow.description;
    return accessFlow;
  });
  return {
    file: source.file,
    version: createHash('sha256').update(source.text).digest('hex'),
    text: source.text,
    taskQueue: data.taskQueue,
    identities,
    admins: data.admins,
    integrations,
    flows,
    publicUrl: data.publicUrl,
    slack: data.slack,
    teams: data.teams,
    reconcile: {
      everyMs: data.reconcile?.every ?? RECONCILE_EVERY_DEFAULT_MS,
      integrations: Object.fromEntries(
        Object.keys(integrations).map((name) => [name, data.reconcile?.integrations[name] ?? 'report']),
      ),
    },
    settings: {
      revokeAlertAfterAttempts: data.settings.revokeAlertAfterAttempts,
      revokeMaxBackoffMs: data.settings.revokeMaxBackoff,
      stepUpMaxAgeMs: data.settings.stepUpMaxAge,
      revokeOverdueAfterMs: data.settings.revokeOverdueAfter,
    },
  };
}
