/**
 * `grantflow doctor`: checks every connection Grantflow needs, one result per check — ok, fail (with what is wrong
 * and how to fix it), warn, or skip (not configured) — as it goes: the Temporal settings, the client's and the
 * worker's connections (address, TLS handshake, credentials), the namespace and its search attributes, Grantflow's
 * database and its migrations, the config file, each integration (its connector's own health checks, as
 * `grantflow integrations check` runs them), Slack, Teams and the encryption keys. No message holds a secret.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import type { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { MicrosoftAppCredentials } from 'botframework-connector';
import { LogLevel, WebClient } from '@slack/web-api';
import type { GrantflowConfig } from '../config/types';
import { createConnectorRegistry } from '../connectors/registry';
import type { HealthResult } from '../connectors/types';
import { fromWebApiError, SlackSettingsError } from '../chat-adapters/slack/errors';
import { SLACK_OFF_MESSAGE, slackSettings } from '../chat-adapters/slack/settings';
import { TEAMS_OFF_MESSAGE, teamsSettings } from '../chat-adapters/teams/settings';
import { compareSearchAttributes, GRANTFLOW_SEARCH_ATTRIBUTES } from '../devstack/search-attributes';
import { MIGRATIONS } from '../migrations';
import type { Store } from '../store/types';
import { slackConnection } from '../chat-adapters/slack/app';
import type { SlackBotToken } from '../chat-adapters/slack/connection';
import { keyringFromEnv } from './keyring';
import { scrubSecrets } from './logger';
import {
  connectClientConnection,
  connectWorker,
  describeTemporalSettings,
  searchAttributesTcldCommand,
  TemporalConnectError,
  temporalSettings,
  type TemporalSettings,
} from './temporal';
import { GrantflowError } from './errors';

/** The exit code of `grantflow doctor` when a check fails (0 when none does). */
export const DOCTOR_FAILED_EXIT_CODE = 10;

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  /** Stable id, e.g. `temporal.connection`, `integration.db`. */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found (on fail: what is wrong). */
  message: string;
  /** How to fix it (fail and warn). */
  fix?: string;
  /** The connector's individual checks, for integrations. */
  details?: { name: string; ok: boolean; message?: string }[];
  ms: number;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  /** Loads grantflow.yaml with its secrets resolved (integration checks need them). */
  loadConfig: () => GrantflowConfig;
  /** Opens Grantflow's database; `where` names it (without a password), `sqliteFile` when it is one. */
  database: { open: () => Promise<Store>; where: string; sqliteFile?: string };
  /** Called with each result as soon as it is known (progress output). */
  onResult?: (result: CheckResult) => void;
  /** Per-check time limit. @default 15 s */
  timeoutMs?: number;
  log?: Logger;
}

/** A check's outcome before timing; a thrown error becomes a failure with its message. */
type Outcome = Omit<CheckResult, 'id' | 'title' | 'ms'>;

class CheckTimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckTimeoutError(`no answer within ${ms / 1000} s`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Runs every check in order; a check that needs an earlier one's result is skipped when that failed. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const checks: CheckResult[] = [];
  const run = async (
    id: string,
    title: string,
    fn: () => Promise<Outcome> | Outcome,
  ): Promise<CheckResult> => {
    const started = Date.now();
    let outcome: Outcome;
    try {
      outcome = await withTimeout(Promise.resolve().then(fn), timeoutMs);
    } catch (err) {
      outcome = { status: 'fail', message: errorMessage(err) };
    }
    const result: CheckResult = {
      id,
      title,
      ...outcome,
      message: scrubSecrets(outcome.message),
      ...(outcome.fix ? { fix: scrubSecrets(outcome.fix) } : {}),
      ms: Date.now() - started,
    };
    checks.push(result);
    options.onResult?.(result);
    return result;
  };
  const skip = (id: string, title: string, why: string) =>
    run(id, title, () => ({ status: 'skip', message: why }));

  // ---- Temporal ----
  let settings: TemporalSettings | undefined;
  await run('temporal.settings', 'Temporal settings', () => {
    try {
      settings = temporalSettings({}, env);
    } catch (err) {
      return {
        status: 'fail',
        message: errorMessage(err),
        fix: 'Fix the setting named above (see docs/connecting-temporal.md for every variable).',
      };
    }
    return { status: 'ok', message: describeTemporalSettings(settings) };
  });
  let connection: Connection | undefined;
  try {
    if (!settings) {
      await skip('temporal.connection', 'Temporal connection (client)', 'needs valid Temporal settings');
      await skip(
        'temporal.worker-connection',
        'Temporal connection (worker)',
        'needs valid Temporal settings',
      );
      await skip('temporal.namespace', 'Temporal namespace', 'needs valid Temporal settings');
      await skip('temporal.search-attributes', 'Temporal search attributes', 'needs valid Temporal settings');
    } else {
      const s = settings;
      await run('temporal.connection', 'Temporal connection (client)', async () => {
        try {
          // Within the check's own limit, so the connection is never left open behind a timed-out check.
          connection = await connectClientConnection(s, {
            connectTimeoutMs: Math.max(1_000, timeoutMs - 1_000),
            waitForServer: false,
          });
        } catch (err) {
          return connectFailure(err);
        }
        const info = await connection.workflowService.getSystemInfo({});
        return {
          status: 'ok',
          message: `connected to ${s.connection.address}${info.serverVersion ? ` (Temporal ${info.serverVersion})` : ''}`,
        };
      });
      await run('temporal.worker-connection', 'Temporal connection (worker)', async () => {
        let native: NativeConnection;
        let late = false;
        const connecting = connectWorker(s);
        // A connection that opens after the check gave up is closed at once.
        void connecting.then(
          (c) => (late ? c.close() : undefined),
          () => undefined,
        );
        try {
          native = await withTimeout(connecting, Math.max(1_000, timeoutMs - 1_000));
        } catch (err) {
          late = true;
          if (err instanceof CheckTimeoutError)
            return {
              status: 'fail',
              message: `no connection to ${s.connection.address} within ${Math.round(timeoutMs / 1000) - 1} s`,
              fix: 'Check TEMPORAL_ADDRESS, firewalls, and whether the server is TLS-only (TEMPORAL_TLS=true).',
            };
          return connectFailure(err);
        }
        await native.close().catch(() => undefined);
        return {
          status: 'ok',
          message: `the worker's connection (Rust core) to ${s.connection.address} works`,
        };
      });
      if (!connection) {
        await skip('temporal.namespace', 'Temporal namespace', 'needs a working Temporal connection');
        await skip(
          'temporal.search-attributes',
          'Temporal search attributes',
          'needs a working Temporal connection',
        );
      } else {
        const c = connection;
        const ns = await run('temporal.namespace', 'Temporal namespace', () =>
          checkNamespace(c, s.namespace),
        );
        if (ns.status === 'ok')
          await run('temporal.search-attributes', 'Temporal search attributes', () =>
            checkSearchAttributes(c, s.namespace),
          );
        else await skip('temporal.search-attributes', 'Temporal search attributes', 'needs the namespace');
      }
    }
  } finally {
    await (connection as Connection | undefined)?.close().catch(() => undefined);
  }

  // ---- Grantflow's database ----
  await run('database', 'Grantflow database', () => checkDatabase(options.database));

  // ---- Config, integrations, chat ----
  let config: GrantflowConfig | undefined;
  await run('config', 'Config file', () => {
    try {
      config = options.loadConfig();
    } catch (err) {
      return {
        status: 'fail',
        message: errorMessage(err),
        fix: 'Fix grantflow.yaml (`grantflow flows validate` names the line) or the secrets it refers to.',
      };
    }
    return {
      status: 'ok',
      message: `${config.file}: ${plural(config.identities.length, 'identity', 'identities')}, ${plural(config.flows.length, 'flow')}, ${plural(Object.keys(config.integrations).length, 'integration')}`,
    };
  });
  if (!config) {
    await skip('integrations', 'Integrations', 'needs a valid config file');
    await skip('slack', 'Slack', 'needs a valid config file');
    await skip('teams', 'Microsoft Teams', 'needs a valid config file');
  } else {
    const cfg = config;
    const names = Object.keys(cfg.integrations);
    if (names.length === 0) await skip('integrations', 'Integrations', 'none configured');
    const results = await checkIntegrations(cfg, names, { log: options.log, timeoutMs });
    for (const r of results)
      await run(`integration.${r.name}`, `Integration ${r.name} (${r.type})`, () => ({
        status: r.ok ? 'ok' : 'fail',
        message: integrationMessage(r),
        ...(r.ok
          ? {}
          : {
              fix: `Check the integration's address and the privileges of Grantflow's account there (grantflow integrations check ${r.name}).`,
            }),
        ...(r.checks?.length ? { details: r.checks } : {}),
      }));
    await run('slack', 'Slack', () =>
      checkSlack(cfg, env, timeoutMs, () => openIfMigrated(options.database)),
    );
    await run('teams', 'Microsoft Teams', () => checkTeams(cfg, env, timeoutMs));
  }

  await run('encryption-keys', 'Encryption keys', () => checkEncryptionKeys(env));
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

/** A failed connect as a check result: what core/temporal.ts diagnosed, and its fix. */
function connectFailure(err: unknown): Outcome {
  if (err instanceof TemporalConnectError)
    return { status: 'fail', message: err.diagnosis.problem, fix: err.diagnosis.fix };
  throw err;
}

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_UNAUTHENTICATED = 16;

async function checkNamespace(connection: Connection, namespace: string): Promise<Outcome> {
  try {
    const res = await connection.workflowService.describeNamespace({ namespace });
    const retention = res.config?.workflowExecutionRetentionTtl?.seconds;
    const days = retention ? ` (retention ${plural(Math.round(Number(retention) / 86_400), 'day')})` : '';
    return { status: 'ok', message: `namespace ${namespace} exists${days}` };
  } catch (err) {
    const code = grpcCode(err);
    if (code === GRPC_NOT_FOUND)
      return {
        status: 'fail',
        message: `namespace ${namespace} does not exist on this server`,
        fix:
          `Create it (\`temporal operator namespace create --namespace ${namespace}\`; on Temporal Cloud in the UI or ` +
          'with tcld), or set TEMPORAL_NAMESPACE to an existing one.',
      };
    if (code === GRPC_PERMISSION_DENIED || code === GRPC_UNAUTHENTICATED)
      return {
        status: 'fail',
        message: `not allowed to describe namespace ${namespace}: ${errorMessage(err)}`,
        fix: 'Give the API key or client certificate access to this namespace, or check TEMPORAL_NAMESPACE.',
      };
    throw err;
  }
}

async function checkSearchAttributes(connection: Connection, namespace: string): Promise<Outcome> {
  let existing: Record<string, number>;
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    existing = Object.fromEntries(Object.entries(res.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
  } catch (err) {
    const code = grpcCode(err);
    if (code === GRPC_PERMISSION_DENIED || code === GRPC_UNIMPLEMENTED || code === GRPC_UNAUTHENTICATED)
      return {
        status: 'warn',
        message: `this server does not let these credentials list search attributes (${errorMessage(err)})`,
        fix: `Check them in the Temporal UI or with tcld; Grantflow needs ${describeWanted()}.`,
      };
    throw err;
  }
  const { missing, wrongType } = compareSearchAttributes(existing);
  if (!missing.length && !wrongType.length)
    return {
      status: 'ok',
      message: `all ${Object.keys(GRANTFLOW_SEARCH_ATTRIBUTES).length} present: ${Object.keys(GRANTFLOW_SEARCH_ATTRIBUTES).join(', ')}`,
    };
  const problems = [
    ...(missing.length ? [`missing: ${missing.map((m) => `${m.name} (${m.type})`).join(', ')}`] : []),
    ...wrongType.map((w) => `${w.name} is ${w.actual}, must be ${w.wanted}`),
  ];
  return {
    status: 'fail',
    message: problems.join('; '),
    fix: wrongType.length
      ? 'Temporal cannot change the type of a search attribute: remove it (`temporal operator search-attribute remove`) if nothing uses it, or use another namespace; then run `grantflow migrate`.'
      : `Run \`grantflow migrate\` (it creates them). On Temporal Cloud: ${searchAttributesTcldCommand(
          namespace,
          missing.map((m) => m.name),
        )}`,
  };
}

function describeWanted(): string {
  return Object.entries(GRANTFLOW_SEARCH_ATTRIBUTES)
    .map(([name, type]) => `${name} (${type})`)
    .join(', ');
}

/** The store when it exists and has the Slack installations table (the database check reports the rest). */
async function openIfMigrated(db: DoctorOptions['database']): Promise<Store | undefined> {
  if (db.sqliteFile && !existsSync(db.sqliteFile)) return undefined;
  const store = await db.open().catch(() => undefined);
  if (store && !(await store.knex.schema.hasTable('slack_installations').catch(() => false))) {
    await store.close();
    return undefined;
  }
  return store;
}

async function checkDatabase(db: DoctorOptions['database']): Promise<Outcome> {
  if (db.sqliteFile && db.sqliteFile !== ':memory:' && !existsSync(db.sqliteFile))
    return {
      status: 'fail',
      message: `no database: ${db.sqliteFile} does not exist`,
      fix: "Run `grantflow migrate` to create it, or set DATABASE_URL to Grantflow's PostgreSQL database.",
    };
  let store: Store;
  try {
    store = await db.open();
  } catch (err) {
    return {
      status: 'fail',
      message: errorMessage(err),
      fix: 'Check DATABASE_URL (host, port, database, user and password) and that the database server is running.',
    };
  }
  try {
    const known = MIGRATIONS.map((m) => m.name);
    const applied = (await store.knex.schema.hasTable('knex_migrations'))
      ? ((await store.knex('knex_migrations').select('name').orderBy('id')) as { name: string }[]).map(
          (r) => r.name,
        )
      : [];
    const pending = known.filter((n) => !applied.includes(n));
    const unknown = applied.filter((n) => !known.includes(n));
    if (unknown.length)
      return {
        status: 'fail',
        message: `${db.where} (${store.dialect}) has migrations this Grantflow does not know: ${unknown.join(', ')}`,
        fix: 'A newer Grantflow migrated this database: upgrade this installation to that version.',
      };
    if (pending.length)
      return {
        status: 'fail',
        message: `${db.where} (${store.dialect}): ${pending.length} of ${known.length} migrations not applied (${pending.join(', ')})`,
        fix: 'Run `grantflow migrate`.',
      };
    return {
      status: 'ok',
      message: `${db.where} (${store.dialect}): schema up to date (${known.length} migrations, latest ${known[known.length - 1]})`,
    };
  } finally {
    await store.close();
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** An integration's result in one line; with several named checks, the failing ones are listed under it. */
function integrationMessage(r: IntegrationHealth): string {
  const checks = r.checks ?? [];
  if (r.ok) return `ok in ${r.latencyMs} ms${checks.length ? ` (${plural(checks.length, 'check')})` : ''}`;
  const failed = checks.filter((c) => !c.ok).length;
  if (checks.length > 1) return `${failed} of ${checks.length} checks failed in ${r.latencyMs} ms`;
  return r.message ?? 'failed';
}

/** One integration's health, as `grantflow integrations check` reports it. */
export interface IntegrationHealth extends HealthResult {
  name: string;
  /** The connector type and mode, e.g. `postgres membership`. */
  type: string;
}

/**
 * Runs each named integration's connector health checks at once, each bounded by `timeoutMs`; a check that throws or
 * does not answer becomes a failed result. Closes the connectors it opened.
 */
export async function checkIntegrations(
  config: GrantflowConfig,
  names: string[],
  options: { log?: Logger; timeoutMs?: number } = {},
): Promise<IntegrationHealth[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const registry = createConnectorRegistry(config.integrations, { log: options.log });
  try {
    return await Promise.all(
      names.map(async (name) => {
        const integration = config.integrations[name]!;
        const mode = 'mode' in integration ? ` ${integration.mode}` : '';
        const started = Date.now();
        let health: HealthResult;
        try {
          health = await withTimeout(
            Promise.resolve().then(() => registry.get(name).checkHealth()),
            timeoutMs,
          );
        } catch (err) {
          health = { ok: false, message: errorMessage(err), latencyMs: Date.now() - started };
        }
        return { name, type: `${integration.type}${mode}`, ...health };
      }),
    );
  } finally {
    await registry.closeAll();
  }
}

async function checkSlack(
  config: GrantflowConfig,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  openStore: () => Promise<Store | undefined>,
): Promise<Outcome> {
  let settings;
  try {
    settings = slackSettings(config, env);
  } catch (err) {
    if (err instanceof SlackSettingsError)
      return {
        status: 'fail',
        message: err.message,
        fix: "Use the tokens from the Slack app's settings (docs/slack.md).",
      };
    throw err;
  }
  if (!settings) {
    const botToken = env.SLACK_BOT_TOKEN ?? config.slack?.botToken;
    if (botToken)
      return {
        status: 'fail',
        message:
          'a bot token is set but neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN, so Slack stays off',
        fix: 'Set SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (Socket Mode); see docs/slack.md.',
      };
    return {
      status: 'skip',
      message: `not configured (${SLACK_OFF_MESSAGE.replace(/^Slack is off: /, '')})`,
    };
  }
  // The token in use: a workspace connected from the portal (in the database, sealed) first, else SLACK_BOT_TOKEN.
  let found: SlackBotToken | undefined;
  let store: Store | undefined;
  try {
    store = await openStore();
    // The keys are read only if a workspace is connected (their own check reports a malformed list).
    found = await slackConnection(settings, store?.knex, () => keyringFromEnv(env), 0).botToken();
  } catch (err) {
    return {
      status: 'fail',
      message: `the Slack workspace connected in the portal cannot be read: ${errorMessage(err)}`,
      fix: 'Set GRANTFLOW_ENCRYPTION_KEYS to the keys it was stored with (docs/integrations.md), or connect Slack again.',
    };
  } finally {
    await store?.close();
  }
  if (!found)
    return {
      status: 'warn',
      message: 'Connect Slack is configured, but no workspace is connected and SLACK_BOT_TOKEN is not set',
      fix: 'Open the portal as an admin: Integrations → Connect Slack.',
    };
  const client = new WebClient(found.token, {
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: timeoutMs,
    logLevel: LogLevel.ERROR,
  });
  const source = found.source === 'oauth' ? 'the workspace connected in the portal' : 'SLACK_BOT_TOKEN';
  try {
    const res = await client.auth.test();
    return {
      status: 'ok',
      message: `bot token works (${source}): ${String(res.user ?? res.user_id ?? 'the bot')} in ${String(res.team ?? res.team_id ?? 'its workspace')}`,
    };
  } catch (err) {
    const e = fromWebApiError('auth.test', err);
    const refused = /invalid_auth|not_authed|token_revoked|account_inactive|token_expired/.test(e.message);
    return {
      status: 'fail',
      message: `${e.message} (${source})`,
      fix: refused
        ? found.source === 'oauth'
          ? 'The connected workspace revoked the app: disconnect and connect Slack again on the Integrations page.'
          : 'Check SLACK_BOT_TOKEN: copy the Bot User OAuth Token (xoxb-…) from the app\'s "OAuth & Permissions" page; reinstall the app if it was revoked.'
        : `Check that this machine reaches ${settings.apiUrl ?? 'https://slack.com/api/'} (proxy, firewall) and SLACK_API_URL if set.`,
    };
  }
}

/** The host Bot Framework tokens come from. */
const MICROSOFT_LOGIN_HOST = 'login.microsoftonline.com';

/** Whether a TCP connection to host:port opens within `ms`; the reason when not. */
function canReach(host: string, port: number, ms: number): Promise<string | true> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: string | true) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(ms, () => done(`no answer within ${ms / 1000} s`));
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

async function checkTeams(
  config: GrantflowConfig,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Outcome> {
  const s = teamsSettings(config, env);
  if (!s.appId) {
    if (s.appPassword)
      return {
        status: 'fail',
        message: 'MicrosoftAppPassword is set but not MicrosoftAppId',
        fix: "Set MicrosoftAppId to the Azure Bot's Microsoft App ID (docs/teams.md).",
      };
    return {
      status: 'skip',
      message: `not configured (${TEAMS_OFF_MESSAGE.replace(/^Teams is off: /, '')})`,
    };
  }
  const what = `app id ${s.appId}, ${s.appType}${s.tenantId ? `, tenant ${s.tenantId}` : ''}`;
  if (s.appType === 'UserAssignedMSI')
    return {
      status: 'ok',
      message: `configured (${what}); a managed identity's token can only be tried on Azure`,
    };
  if (!s.appPassword)
    return {
      status: 'fail',
      message: `MicrosoftAppId is set (${what}) but not MicrosoftAppPassword`,
      fix: "Set MicrosoftAppPassword to a client secret of the bot's app registration (docs/teams.md).",
    };
  if (s.appType === 'SingleTenant' && !s.tenantId)
    return {
      status: 'fail',
      message: `a SingleTenant bot (${what}) needs MicrosoftAppTenantId`,
      fix: 'Set MicrosoftAppTenantId to the directory (tenant) id of the app registration.',
    };
  const reach = await canReach(MICROSOFT_LOGIN_HOST, 443, Math.min(timeoutMs, 5_000));
  if (reach !== true)
    return {
      status: 'warn',
      message: `configured (${what}); ${MICROSOFT_LOGIN_HOST} is not reachable from here (${reach}), so getting a token was not tried`,
      fix: `The bot needs to reach ${MICROSOFT_LOGIN_HOST}:443 to reply in Teams: check the proxy and firewall.`,
    };
  const credentials = new MicrosoftAppCredentials(
    s.appId,
    s.appPassword,
    s.appType === 'SingleTenant' ? s.tenantId : undefined,
  );
  try {
    await credentials.getToken(true);
    return { status: 'ok', message: `configured (${what}); got a Bot Framework token` };
  } catch (err) {
    return {
      status: 'fail',
      message: `configured (${what}) but getting a token failed: ${errorMessage(err).split('\n')[0]}`,
      fix: 'Check MicrosoftAppPassword (client secrets expire), MicrosoftAppId, and for a single-tenant bot MicrosoftAppType and MicrosoftAppTenantId.',
    };
  }
}

function checkEncryptionKeys(env: NodeJS.ProcessEnv): Outcome {
  try {
    const keyring = keyringFromEnv(env);
    if (!keyring)
      return {
        status: 'warn',
        message:
          "GRANTFLOW_ENCRYPTION_KEYS is not set: Temporal payloads are not encrypted, and grants' sign-ins cannot be kept for their requesters",
        fix: 'Set GRANTFLOW_ENCRYPTION_KEYS=<id>:$(openssl rand -base64 32) on every Grantflow process (docs/encryption.md).',
      };
    const others = keyring.keyIds.length - 1;
    return {
      status: 'ok',
      message: `current key ${keyring.currentKeyId}${others ? `, ${others} more kept for decoding (${keyring.keyIds.slice(1).join(', ')})` : ''}`,
    };
  } catch (err) {
    if (err instanceof GrantflowError)
      return {
        status: 'fail',
        message: err.message,
        fix: 'Write it as id:base64key[,id:base64key…], each key 32 random bytes (openssl rand -base64 32); see docs/encryption.md.',
      };
    throw err;
  }
}

/** The text form of one result, for the terminal. */
export function formatCheck(r: CheckResult): string {
  const label = { ok: 'OK  ', fail: 'FAIL', warn: 'WARN', skip: '--  ' }[r.status];
  const lines = [`${label} ${r.title}: ${r.message}`];
  const details = r.details ?? [];
  // A single check's failure is the message already.
  if (r.status === 'fail' && details.length > 1)
    for (const d of details)
      lines.push(`       ${d.ok ? 'ok  ' : 'FAIL'} ${d.name}${d.message ? `: ${d.message}` : ''}`);
  if (r.fix && (r.status === 'fail' || r.status === 'warn')) lines.push(`     fix: ${r.fix}`);
  return lines.join('\n');
}

/** The closing line: how many checks passed, failed, warned and were skipped. */
export function formatSummary(report: DoctorReport): string {
  const count = (s: CheckStatus) => report.checks.filter((c) => c.status === s).length;
  const parts = [`${count('ok')} ok`, `${count('fail')} failed`];
  if (count('warn')) parts.push(`${count('warn')} warning${count('warn') === 1 ? '' : 's'}`);
  if (count('skip')) parts.push(`${count('skip')} skipped`);
  return `${report.ok ? 'all checks passed' : 'some checks failed'}: ${parts.join(', ')}`;
}
