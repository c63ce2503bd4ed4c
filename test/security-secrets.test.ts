/**
 * Canary secrets: distinctive values planted wherever Grantflow holds a secret (the PostgreSQL connector's
 * password, on a role made for it; a wrong password of a second integration; the Slack bot token and signing
 * secret; the Teams app password; an API token and a bogus one a caller sends; the OpenID client secret). Requests
 * then run through grant and revoke, with failures (an unknown account, a refused database login, a Slack channel
 * that does not exist, a rejected OpenID client, unauthenticated Slack and Teams calls), and no canary may appear
 * in the logs (every logger of the worker and API server at debug, the Temporal SDK's, the CLI's), the workflow
 * histories read through the Temporal API, the audit log, or any answer of the API and the CLI.
 */
import { capturingLogger, tapLogger } from './helpers/capture-log';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { escapeIdentifier, escapeLiteral, Client as PgClient } from 'pg';
import type http from 'node:http';
import { teamsSettings } from '../chat-adapters/teams/settings';
import { createMetrics } from '../core/metrics';
import { connectWorker } from '../core/temporal';
import { issueToken } from '../core/tokens';
import { freePort } from '../devstack/ports';
import { startApiServer, type ApiServer } from '../server/start';
import { buildChatAdapters } from '../workers/chat';
import { createGrantflowWorker, type GrantflowWorker } from '../workers/worker';
import { startFakeBotAuth, type FakeBotAuth } from './fakes/bot-auth';
import { startFakeConnector, type FakeConnector } from './fakes/bot-connector';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { createHarness, type Harness } from './helpers/harness';
import { startProvider } from './helpers/oidc-provider';
import { runCli, type CliResult } from './helpers/run-cli';
import { createSlackSender } from './helpers/slack-requests';
import { createTeamsSender, messageActivity, teamsUser, TEST_APP_ID } from './helpers/teams-activities';
import { TestCredentialsFactory } from './helpers/teams-credentials';
import { until } from './helpers/until';
import { getTestPostgres } from './setup/postgres';
import { getWorkflowBundle, testLog } from './setup/stack';

const tag = randomBytes(4).toString('hex');
/** The planted secrets; the API token's value joins them once issued. */
const CANARIES: Record<string, string> = {
  'PostgreSQL password': `CanaryPgPassword${tag}`,
  'wrong PostgreSQL password': `CanaryWrongPgPassword${tag}`,
  'Slack bot token': `xoxb-canary-${tag}`,
  'Slack signing secret': `canary-signing-secret-${tag}`,
  'Teams app password': `canary-teams-password-${tag}`,
  'OpenID client secret': `canary-oidc-secret-${tag}`,
  'bogus API token sent by a caller': `gft_canary-bogus-token-${tag}`,
};
const CANARY_ROLE = `gfsec_canary_${tag}`;
const ENV = {
  db: 'GF_SEC_CANARY_DB_URL',
  badDb: 'GF_SEC_CANARY_BAD_DB_URL',
  slackToken: 'GF_SEC_CANARY_SLACK_TOKEN',
  slackSecret: 'GF_SEC_CANARY_SLACK_SECRET',
  teamsPassword: 'GF_SEC_CANARY_TEAMS_PASSWORD',
};

/** A value with every byte array replaced by its UTF-8 text (payloads in histories are bytes). */
function decoded(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(decoded);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decoded(v)]));
  return value;
}

/** JSON of a value, its byte arrays shown as text. */
function textOf(value: unknown): string {
  return JSON.stringify(decoded(value));
}

/** The test config with every secret a canary reference, a failing integration, and Slack and Teams on. */
function canaryConfig(yaml: string, slackApiUrl: string): string {
  const envName = /url: \$\{(\w+)\}/.exec(yaml)![1];
  const prefix = /readonly: \{ role: (\w+)_readonly \}/.exec(yaml)![1];
  const url = new URL(process.env[envName]!);
  url.username = CANARY_ROLE;
  url.password = CANARIES['PostgreSQL password'];
  process.env[ENV.db] = url.toString();
  url.password = CANARIES['wrong PostgreSQL password'];
  process.env[ENV.badDb] = url.toString();
  return `${yaml
    .replace(`url: \${${envName}}`, `url: \${${ENV.db}}`)
    .replace(
      'integrations:\n',
      `integrations:\n  dbbad:\n    type: postgres\n    url: \${${ENV.badDb}}\n    permissions:\n      readonly: { role: ${prefix}_readonly }\n`,
    )
    .replace(
      `accounts: { db: ${prefix}_alice }`,
      `accounts: { db: ${prefix}_alice, dbbad: ${prefix}_alice }\n    slack: { userId: UALICE }`,
    )
    .replace(
      'flows:\n',
      `flows:
  - name: bad-read
    requesters: { groups: [engineering] }
    resources: [{ name: dbbad, permissions: [readonly] }]
    autoApprove: true
    defaultDuration: 3s
    maxDuration: 1m
    requireJustification: false
    notify: [{ platform: slack, channel: CNOWHERE }, { platform: log }]
`,
    )}
slack:
  botToken: \${${ENV.slackToken}}
  signingSecret: \${${ENV.slackSecret}}
  apiUrl: ${slackApiUrl}
teams:
  appId: ${TEST_APP_ID}
  appPassword: \${${ENV.teamsPassword}}
`;
}

/** Cookies per origin, enough to walk a login through the provider. */
class Jar {
  private readonly byOrigin = new Map<string, Map<string, string>>();
  header(url: URL): string {
    return [...(this.byOrigin.get(url.origin) ?? new Map<string, string>())]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }
  take(url: URL, res: Response): void {
    const jar = this.byOrigin.get(url.origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0];
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1).trim();
      if (value === '') jar.delete(pair.slice(0, eq).trim());
      else jar.set(pair.slice(0, eq).trim(), value);
    }
    this.byOrigin.set(url.origin, jar);
  }
}

describe('security: canary secrets never leak', function () {
  this.timeout(120_000);
  const logs: string[] = [];
  /** Everything a caller got back (bodies, headers, CLI output), by where it came from. */
  const answers: { where: string; text: string }[] = [];
  let h: Harness;
  let worker: GrantflowWorker;
  let workerRun: Promise<void>;
  let api: ApiServer;
  let fake: FakeSlack;
  let auth: FakeBotAuth;
  let connector: FakeConnector;
  let idp: http.Server;
  let untap: () => void;
  let cliEnv: NodeJS.ProcessEnv;
  let apiToken: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    untap = tapLogger(testLog, logs);
    const pg = await getTestPostgres();
    const admin = new PgClient({ connectionString: pg.adminUrl });
    await admin.connect();
    try {
      await admin.query(
        `create role ${escapeIdentifier(CANARY_ROLE)} login superuser password ${escapeLiteral(CANARIES['PostgreSQL password'])}`,
      );
    } finally {
      await admin.end();
    }
    for (const name of Object.values(ENV)) saved[name] = process.env[name];
    process.env[ENV.slackToken] = CANARIES['Slack bot token'];
    process.env[ENV.slackSecret] = CANARIES['Slack signing secret'];
    process.env[ENV.teamsPassword] = CANARIES['Teams app password'];

    fake = await startFakeSlack({
      token: CANARIES['Slack bot token'],
      users: ['alice', 'bob'].map((p) => ({ id: `U${p.toUpperCase()}`, name: p, email: `${p}@example.com` })),
    });
    auth = await startFakeBotAuth();
    connector = await startFakeConnector();
    h = await createHarness({ noWorker: true, configTransform: (yaml) => canaryConfig(yaml, fake.url) });

    const log = capturingLogger(logs);
    const teams = {
      ...teamsSettings(h.config),
      openIdMetadataUrl: auth.metadataUrl,
      tokenIssuer: auth.issuer,
    };
    assert.equal(
      teams.appPassword,
      CANARIES['Teams app password'],
      'the Teams password comes from the config',
    );
    const credentials = new TestCredentialsFactory(TEST_APP_ID);
    const connection = await connectWorker({
      connection: { address: h.temporal.address },
      namespace: h.temporal.namespace,
    });
    worker = await createGrantflowWorker({
      connection,
      namespace: h.temporal.namespace,
      config: () => h.config,
      store: h.store,
      log,
      workflowBundle: await getWorkflowBundle(),
      chatAdapters: buildChatAdapters(() => h.config, log, {
        store: h.store,
        slackRetries: 0,
        teamsSettings: teams,
        teamsCredentialsFactory: credentials,
      }),
    });
    workerRun = worker.run().finally(() => connection.close());

    const idpPort = await freePort();
    const apiPort = await freePort();
    const publicUrl = `http://127.0.0.1:${apiPort}`;
    idp = await startProvider(`http://127.0.0.1:${idpPort}`, idpPort, publicUrl, () => 'alice@example.com');
    api = await startApiServer({
      ctx: { ...h.ctx, log },
      metrics: createMetrics(),
      log,
      port: apiPort,
      host: '127.0.0.1',
      slackRetries: 0,
      teamsSettings: teams,
      teamsCredentialsFactory: credentials,
      authSettings: {
        publicUrl,
        oidc: {
          issuer: `http://127.0.0.1:${idpPort}`,
          clientId: 'grantflow',
          clientSecret: CANARIES['OpenID client secret'],
        },
      },
    });
    apiToken = (await issueToken(h.ctx, { email: 'alice@example.com', createdBy: 'test' })).token;
    CANARIES['API token'] = apiToken;

    const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-sec-canary-'));
    const configFile = path.join(dir, 'grantflow.yaml');
    writeFileSync(configFile, h.configYaml);
    cliEnv = {
      ...process.env,
      ...h.configEnv,
      GRANTFLOW_CONFIG: configFile,
      GRANTFLOW_DATA_DIR: path.dirname(h.storeFile!),
      TEMPORAL_ADDRESS: h.temporal.address,
      TEMPORAL_NAMESPACE: h.temporal.namespace,
      GRANTFLOW_LOG_PRETTY: '0',
      GRANTFLOW_LOG_LEVEL: 'debug',
    };
  });
  afterEach(function () {
    // What the shared logger said is kept from stdout; show it when the test failed.
    if (this.currentTest?.state === 'failed') console.error(logs.join(''));
  });
  after(async () => {
    untap?.();
    await api?.close();
    await worker?.shutdown();
    await workerRun?.catch(() => undefined);
    await h?.close();
    // The canary login has no business outliving the test (it may still own grants of memberships: best effort).
    const admin = new PgClient({ connectionString: (await getTestPostgres()).adminUrl });
    await admin.connect();
    await admin.query(`drop role if exists ${escapeIdentifier(CANARY_ROLE)}`).catch(() => undefined);
    await admin.end();
    await new Promise((resolve) => idp?.close(resolve));
    await connector?.close();
    await auth?.close();
    await fake?.close();
    for (const [name, value] of Object.entries(saved))
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  async function call(method: string, urlPath: string, body?: unknown, token: string = apiToken) {
    const res = await fetch(`${api.url}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push({ where: `API ${method} ${urlPath}`, text: `${textOf([...res.headers])}\n${text}` });
    return { status: res.status, text, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }
  async function cli(where: string, args: string[], env = cliEnv): Promise<CliResult> {
    const r = await runCli(args, { env });
    answers.push({ where: `CLI ${where}`, text: `${r.stdout}\n${r.stderr}` });
    return r;
  }

  it('runs grants, revokes and failures with every secret in use, and none of them leaks', async () => {
    // A grant through the canary PostgreSQL login, and its revoke.
    const made = await call('POST', '/api/v1/requests', {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      duration: '30s',
    });
    assert.equal(made.status, 201, made.text);
    const granted = String((made.json.request as { id: string }).id);
    await h.waitFor(granted, 'ACTIVE', 15_000);
    assert.equal(await h.canRead('alice'), true, 'the connector really logged in with the canary password');
    const revoked = await call('POST', `/api/v1/requests/${granted}/revoke`, { reason: 'done' });
    assert.equal(revoked.status, 200, revoked.text);
    await h.waitFor(granted, 'REVOKED', 20_000);

    // An unknown account (nobody's login does not exist), from the CLI, waiting for the outcome.
    const nobody = await cli('request as nobody', [
      '--as',
      'nobody@example.com',
      'request',
      '--flow',
      'auto-read',
      '--resource',
      'db',
      '--permission',
      'readonly',
      '--reason',
      'canary',
      '--wait',
      '--json',
    ]);
    const unknownAccount = /req_[a-z0-9]+/.exec(nobody.stdout + nobody.stderr)?.[0];
    assert.ok(unknownAccount, nobody.stdout + nobody.stderr);
    await h.waitFor(unknownAccount, 'GRANT_FAILED', 15_000);

    // A database that refuses the configured password; its flow also notifies a Slack channel that is not there.
    // The grant fails, and undoing it is retried (without end: it cannot log in either) and alerted.
    const bad = await call('POST', '/api/v1/requests', {
      flow: 'bad-read',
      resource: 'dbbad',
      permission: 'readonly',
    });
    assert.equal(bad.status, 201, bad.text);
    const refusedLogin = String((bad.json.request as { id: string }).id);
    const failed = await h.waitFor(refusedLogin, 'REVOKING', 15_000);
    assert.match(String(failed.failure), /password authentication failed/);

    // Failures shown to callers: request views, integration health, unknown tokens.
    for (const id of [granted, unknownAccount, refusedLogin]) await call('GET', `/api/v1/requests/${id}`);
    const health = await call('GET', '/api/v1/integrations/health');
    const checked = health.json.integrations as { name: string; ok: boolean }[];
    assert.equal(checked.find((i) => i.name === 'dbbad')?.ok, false, health.text);
    const bogus = await call('GET', '/api/v1/me', undefined, CANARIES['bogus API token sent by a caller']);
    assert.equal(bogus.status, 401);
    await cli('status', ['status', refusedLogin, '--json']);
    await cli('integrations check', ['integrations', 'check']);
    await cli('API mode with a bogus token', ['list'], {
      PATH: process.env.PATH ?? '',
      HOME: os.tmpdir(),
      GRANTFLOW_API_URL: api.url,
      GRANTFLOW_TOKEN: CANARIES['bogus API token sent by a caller'],
      GRANTFLOW_LOG_LEVEL: 'debug',
    });
    await cli('API mode with the real token', ['status', refusedLogin], {
      PATH: process.env.PATH ?? '',
      HOME: os.tmpdir(),
      GRANTFLOW_API_URL: api.url,
      GRANTFLOW_TOKEN: apiToken,
      GRANTFLOW_LOG_LEVEL: 'debug',
    });

    // Slack: a valid command (the bot token in use), and a forged one (the signing secret checked).
    const slack = createSlackSender({
      url: `${api.url}/slack/events`,
      signingSecret: CANARIES['Slack signing secret'],
    });
    const command = { command: '/grantflow', text: '', user_id: 'UALICE', trigger_id: fake.issueTrigger() };
    const good = await slack.command(command);
    answers.push({ where: 'Slack command', text: good.body });
    assert.equal(good.status, 200, good.body);
    const forged = await slack.command(command, { forgeSignature: true });
    answers.push({ where: 'Slack forged command', text: forged.body });
    assert.equal(forged.status, 401);
    await until('the request modal, opened with the canary bot token', () =>
      fake.views.find((v) => v.method === 'views.open'),
    );

    // Teams: an activity with a good token, and one with a bad token.
    const teamsSender = createTeamsSender({ url: `${api.url}/api/messages`, auth, appId: TEST_APP_ID });
    const activity = messageActivity({
      user: teamsUser('alice', 'alice@example.com'),
      serviceUrl: connector.serviceUrl,
      text: 'hello',
    });
    const teamsOk = await teamsSender.send(activity);
    answers.push({ where: 'Teams activity', text: teamsOk.body });
    const printed = console.error;
    console.error = () => undefined; // botbuilder prints each rejected token
    try {
      const teamsBad = await teamsSender.send(activity, { signWith: 'unknown-key' });
      answers.push({ where: 'Teams forged activity', text: teamsBad.body });
      assert.equal(teamsBad.status, 401);
    } finally {
      console.error = printed;
    }

    // OpenID Connect: a login the provider ends by refusing Grantflow's client secret at the token endpoint.
    const jar = new Jar();
    let next = new URL(`${api.url}/auth/login?returnTo=/`);
    let page = '';
    for (let i = 0; i < 20; i++) {
      const res = await fetch(next, { headers: { cookie: jar.header(next) }, redirect: 'manual' });
      jar.take(next, res);
      page = await res.text();
      answers.push({ where: `login ${next.pathname}`, text: `${textOf([...res.headers])}\n${page}` });
      const location = res.headers.get('location');
      if (next.pathname === '/auth/callback' || !location) {
        assert.equal(res.status, 400, page);
        break;
      }
      next = new URL(location, next);
    }
    assert.match(page, /Login failed/);

    // Let the worker log the failures: the Slack channel that is not there, and the admins' alert about the undo.
    await until('the Slack failure in the log', () => logs.some((l) => /channel_not_found/.test(l)));
    await until('the revoke alert in the log', () =>
      logs.some((l) => /alert/i.test(l) && l.includes(refusedLogin)),
    );

    // Where secrets must never be: logs, workflow histories, the audit log, and every answer.
    const places: { where: string; text: string }[] = [...answers];
    places.push({ where: 'logs', text: logs.join('') });
    const rows = await h.store.listRequests({ limit: 100 });
    assert.ok(rows.length >= 3);
    for (const row of rows) {
      const history = await h.ctx.client.workflow.getHandle(row.workflowId).fetchHistory();
      const text = textOf(history);
      // The requester's email is only inside payloads: found, it shows the payloads were decoded.
      assert.ok(text.includes(row.requester), `the payloads of ${row.id}'s history are readable`);
      places.push({ where: `history of ${row.id}`, text });
    }
    places.push({ where: 'audit log', text: textOf(await h.store.listAudit({})) });
    // The undo of the refused login would be retried for ever: end it.
    await h.ctx.client.workflow
      .getHandle(rows.find((r) => r.id === refusedLogin)!.workflowId)
      .terminate('test over');

    // The net can catch: the logs did see the failures, and a canary planted in the haystack is found.
    assert.match(places.find((p) => p.where === 'logs')!.text, /password authentication failed/);
    const leaks = (extra: { where: string; text: string }[]) =>
      Object.entries(CANARIES).flatMap(([name, value]) =>
        [...places, ...extra].filter((p) => p.text.includes(value)).map((p) => `${name} in ${p.where}`),
      );
    assert.deepEqual(leaks([{ where: 'self-check', text: CANARIES['Slack signing secret'] }]), [
      'Slack signing secret in self-check',
    ]);
    assert.deepEqual(leaks([]), [], 'no canary secret leaked');
  });
});
