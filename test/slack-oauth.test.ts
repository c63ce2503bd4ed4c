/**
 * "Connect Slack" end to end over real HTTP: an admin's session starts /slack/install, the fake Slack's consent
 * page sends the browser back to /slack/oauth_redirect, and InstallProvider exchanges the code (oauth.v2.access)
 * and stores the installation. Then: the token is in the database only encrypted, notifications use it,
 * Disconnect revokes it (auth.revoke) and notifications fall back to SLACK_BOT_TOKEN. A forged, reused or
 * other browser's state completes nothing, and only admins start an install or change anything on the page.
 * Also the rest of the Integrations API: Teams status and its app package, connector checks, routing warnings.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WebClient } from '@slack/web-api';
import { slackConnection } from '../chat-adapters/slack/app';
import { SlackChatAdapter } from '../chat-adapters/slack/adapter';
import { SlackDirectory } from '../chat-adapters/slack/directory';
import { BOT_SCOPES, slackSettings } from '../chat-adapters/slack/settings';
import { Notifier } from '../chat-adapters/notifier';
import { createRequest } from '../core/create-request';
import { createKeyring, parseKeys, newKeySpec } from '../core/keyring';
import { createMetrics } from '../core/metrics';
import { freePort } from '../devstack/ports';
import { checkIntervalFromEnv, IntegrationsService } from '../server/integrations/service';
import type { IntegrationsOverview } from '../server/integrations/types';
import { startApiServer, type ApiServer } from '../server/start';
import { buildChatAdapters } from '../workers/chat';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { capturingLogger } from './helpers/capture-log';
import { createHarness, type Harness } from './helpers/harness';
import { until } from './helpers/until';
import { createSlackSender } from './helpers/slack-requests';
import { pendingMessage } from './helpers/messages';
import { readZip } from './helpers/zip';
import { testLog } from './setup/stack';

const ENV_TOKEN = 'xoxb-environment-token';
const SIGNING_SECRET = 'oauth-test-signing-secret';
const OAUTH = {
  clientId: '1111.2222',
  clientSecret: 'oauth-test-client-secret',
  stateSecret: 'oauth-test-state-secret-0123456789',
};
const WORKSPACE = { id: 'T0ACME', name: 'Acme Corp' };
const TEAMS_APP_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const ENV_NAMES = [
  'SLACK_CLIENT_ID',
  'SLACK_CLIENT_SECRET',
  'SLACK_STATE_SECRET',
  'SLACK_REDIRECT_URI',
  'GRANTFLOW_ENCRYPTION_KEYS',
  'GF_TEST_SLACK_TOKEN',
  'GF_TEST_SLACK_SECRET',
];

/** Flows notify Slack's #approvals; the config's Slack section has the signing secret and, maybe, a token. */
function withSlack(yaml: string, apiUrl: string, envToken: boolean): string {
  const out = yaml.replace(
    /( {4}requireJustification: (true|false))/g,
    '$1\n    notify: [{ platform: slack, channel: CAPPROVALS }]',
  );
  const token = envToken ? '  botToken: ${GF_TEST_SLACK_TOKEN}\n' : '';
  return `${out}\nslack:\n${token}  signingSecret: \${GF_TEST_SLACK_SECRET}\n  apiUrl: ${apiUrl}\n`;
}

/** A browser's cookie jar for one origin: enough for the session and the OAuth state cookie. */
class Browser {
  readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(private readonly base: string) {}

  async login(email: string): Promise<void> {
    const res = await this.fetch('/auth/dev', { method: 'POST', body: { email } });
    assert.equal(res.status, 200, `dev login as ${email}`);
    this.csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
  }

  /** One request, no redirects followed; keeps the cookies it sets. */
  async fetch(
    path: string,
    init: { method?: string; body?: unknown; csrf?: boolean } = {},
  ): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.csrf !== false && init.method === 'POST' && this.csrf) headers['x-csrf-token'] = this.csrf;
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=thu, 01 jan 1970/i.test(line) || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async json<T>(path: string, init: { method?: string; body?: unknown; csrf?: boolean } = {}): Promise<T> {
    const res = await this.fetch(path, init);
    assert.ok(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  }
}

/** Location of a redirect, asserted. */
function location(res: Response): string {
  assert.equal(res.status, 302, `expected a redirect, got ${res.status}`);
  const to = res.headers.get('location');
  assert.ok(to, 'the redirect has a Location');
  return to;
}

describe('Connect Slack (OAuth v2) and the Integrations API', function () {
  this.timeout(120_000);
  let fake: FakeSlack;
  let h: Harness;
  let api: ApiServer;
  let port: number;
  const saved = new Map<string, string | undefined>();
  const keys = newKeySpec('k1');

  before(async () => {
    for (const name of ENV_NAMES) saved.set(name, process.env[name]);
    fake = await startFakeSlack({
      token: ENV_TOKEN,
      oauth: { clientId: OAUTH.clientId, clientSecret: OAUTH.clientSecret, team: WORKSPACE },
    });
    fake.addChannel('CAPPROVALS');
    port = await freePort();
    Object.assign(process.env, {
      SLACK_CLIENT_ID: OAUTH.clientId,
      SLACK_CLIENT_SECRET: OAUTH.clientSecret,
      SLACK_STATE_SECRET: OAUTH.stateSecret,
      SLACK_REDIRECT_URI: `http://127.0.0.1:${port}/slack/oauth_redirect`,
      GRANTFLOW_ENCRYPTION_KEYS: keys,
      GF_TEST_SLACK_TOKEN: ENV_TOKEN,
      GF_TEST_SLACK_SECRET: SIGNING_SECRET,
    });
    h = await createHarness({
      configTransform: (yaml) => withSlack(yaml, fake.url, true),
      chatAdapters: (config, store) => buildChatAdapters(() => config, testLog, { store, slackRetries: 0 }),
    });
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port,
      host: '127.0.0.1',
      slackRetries: 0,
      devLogin: true,
      integrationCheckIntervalSeconds: 0,
      teamsSettings: { appId: TEAMS_APP_ID, appType: 'MultiTenant', matchUsersByEmail: false },
    });
  });
  after(async () => {
    await api?.close();
    await h?.close();
    await fake?.close();
    for (const [name, value] of saved)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  const browserAs = async (email: string) => {
    const b = new Browser(api.url);
    await b.login(email);
    return b;
  };
  const overview = (b: Browser) => b.json<IntegrationsOverview>('/api/v1/admin/integrations');

  /** Runs the install as a browser would; returns the browser and the callback URL it was sent to. */
  async function install(b: Browser): Promise<{ callback: string; landed: string }> {
    const toSlack = location(await b.fetch('/slack/install'));
    assert.ok(toSlack.startsWith(fake.authorizeUrl), `sent to Slack's consent page, not ${toSlack}`);
    const callback = await fake.authorize(toSlack, 'allow');
    const landed = location(await b.fetch(callback));
    return { callback, landed };
  }

  /** A new request that asks approvers in #approvals; `person` must have no request of that flow pending. */
  async function postApproval(person: 'alice' | 'erin'): Promise<void> {
    const before = fake.messages('CAPPROVALS').length;
    await createRequest(h.ctx, h.actor(person), {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: `oauth test ${before}`,
    });
    await until('a message in #approvals', () => fake.messages('CAPPROVALS').length > before);
  }

  it('shows the environment token as the source before anything is connected', async () => {
    const o = await overview(await browserAs('carol@example.com'));
    assert.equal(o.slack.state, 'active');
    assert.equal(o.slack.source, 'environment');
    assert.equal(o.slack.oauthAvailable, true);
    assert.deepEqual(o.slack.oauthMissing, []);
    assert.equal(o.slack.installation, undefined);
  });

  it('refuses to start an install for anyone but a logged-in admin', async () => {
    const anonymous = new Browser(api.url);
    const none = await anonymous.fetch('/slack/install');
    assert.equal(none.status, 401);
    assert.match(await none.text(), /Log in to the portal/);
    const bob = await browserAs('bob@example.com');
    const refused = await bob.fetch('/slack/install');
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /Only a Grantflow admin/);
    assert.equal(refused.headers.get('set-cookie'), null, 'no state was handed out');
    assert.equal(fake.installs.length, 0);
  });

  it('connects the workspace, keeps the token only encrypted, and sends with it', async () => {
    const carol = await browserAs('carol@example.com');
    const toSlack = new URL(location(await carol.fetch('/slack/install')));
    assert.equal(toSlack.searchParams.get('client_id'), OAUTH.clientId);
    assert.deepEqual(toSlack.searchParams.get('scope')?.split(','), [...BOT_SCOPES]);
    assert.equal(toSlack.searchParams.get('redirect_uri'), process.env.SLACK_REDIRECT_URI);
    assert.ok(carol.cookies.has('slack-app-oauth-state'), 'the state is tied to this browser by a cookie');
    const landed = location(await carol.fetch(await fake.authorize(toSlack.toString())));
    assert.equal(landed, '/admin/integrations?slack=connected');
    assert.equal(fake.installs.length, 1);
    const token = fake.installs[0]!.token;

    const o = await overview(carol);
    assert.equal(o.slack.state, 'active');
    assert.equal(o.slack.source, 'oauth');
    assert.equal(o.slack.installation?.teamId, WORKSPACE.id);
    assert.equal(o.slack.installation?.teamName, WORKSPACE.name);
    assert.deepEqual(o.slack.installation?.scopes, [...BOT_SCOPES]);
    assert.equal(o.slack.installation?.installedBy, 'carol@example.com');
    assert.equal(o.slack.installation?.keyId, 'k1');
    assert.ok(o.slack.installation?.botUserId, 'the bot user is shown');
    assert.ok(Date.now() - Date.parse(o.slack.installation!.installedAt) < 60_000, 'connected just now');

    // Not readable in plain text: not in any column, not anywhere in the database file.
    const rows = (await h.store.knex('slack_installations').select()) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(token), 'the token is in no column');
    assert.ok(String(rows[0]!.sealed).startsWith('k1.'), 'sealed with the current key');
    await h.store.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    const file = readFileSync(h.storeFile!);
    assert.ok(!file.includes(Buffer.from(token)), 'the token is nowhere in the database file');
    assert.ok(
      file.includes(Buffer.from(WORKSPACE.name)),
      '(the file read is the database: the name is there)',
    );

    const [audit] = await h.store.listAudit({ type: 'integration.slack_connected' });
    assert.equal(audit?.actor, 'carol@example.com');
    assert.equal(audit?.channel, 'portal');
    assert.equal(audit?.details.teamId, WORKSPACE.id);

    // The environment token is revoked at the fake: a message that still arrives was sent with the OAuth token.
    await new WebClient(ENV_TOKEN, { slackApiUrl: fake.url, retryConfig: { retries: 0 } }).auth.revoke();
    await postApproval('alice');
  });

  it('refuses a replayed callback, a forged state, and a state from another browser', async () => {
    const exchanges = () => fake.calls.filter((c) => c.method === 'oauth.v2.access').length;
    const carol = await browserAs('carol@example.com');
    const { callback, landed } = await install(carol);
    assert.equal(landed, '/admin/integrations?slack=connected', 'reconnecting the same workspace works');
    const done = exchanges();

    // The same callback again, with the same state cookie put back: the state was used.
    const state = new URL(callback).searchParams.get('state')!;
    carol.cookies.set('slack-app-oauth-state', state);
    const replay = new URL(location(await carol.fetch(callback)), api.url);
    assert.equal(replay.searchParams.get('slack_error'), 'invalid_state');

    // A state Grantflow never signed.
    const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJpbnN0YWxsT3B0aW9ucyI6e319.forged';
    carol.cookies.set('slack-app-oauth-state', forged);
    const forgedUrl = `/slack/oauth_redirect?code=made-up&state=${encodeURIComponent(forged)}`;
    const refusedForged = new URL(location(await carol.fetch(forgedUrl)), api.url);
    assert.equal(refusedForged.searchParams.get('slack_error'), 'invalid_state');

    // A real state, started by carol, arriving in another browser (no state cookie there).
    const toSlack = location(await carol.fetch('/slack/install'));
    const stolen = await fake.authorize(toSlack);
    const other = await browserAs('carol@example.com');
    const refusedOther = new URL(location(await other.fetch(stolen)), api.url);
    assert.equal(refusedOther.searchParams.get('slack_error'), 'invalid_state');

    assert.equal(exchanges(), done, 'no refused callback exchanged a code');
    assert.equal((await h.store.listAudit({ type: 'integration.slack_connected' })).length, 2);
  });

  it('checks the session, the role and the CSRF token before any change', async () => {
    const bob = await browserAs('bob@example.com');
    const asBob = await bob.fetch('/api/v1/admin/integrations/slack/disconnect', {
      method: 'POST',
      body: {},
    });
    assert.equal(asBob.status, 403);
    assert.equal((await bob.fetch('/api/v1/admin/integrations')).status, 403);
    const carol = await browserAs('carol@example.com');
    const noCsrf = await carol.fetch('/api/v1/admin/integrations/slack/disconnect', {
      method: 'POST',
      body: {},
      csrf: false,
    });
    assert.equal(noCsrf.status, 403);
    assert.equal(((await noCsrf.json()) as { error: { code: string } }).error.code, 'csrf');
    assert.equal((await overview(carol)).slack.source, 'oauth', 'still connected');
  });

  it('disconnects: revokes the token in Slack, forgets it, and falls back to SLACK_BOT_TOKEN', async () => {
    const carol = await browserAs('carol@example.com');
    const token = fake.installs.at(-1)!.token;
    const after = await carol.json<{ slack: IntegrationsOverview['slack'] }>(
      '/api/v1/admin/integrations/slack/disconnect',
      { method: 'POST', body: {} },
    );
    assert.equal(after.slack.source, 'environment');
    assert.equal(after.slack.installation, undefined);
    assert.ok(fake.isRevoked(token), 'auth.revoke revoked the workspace token');
    assert.equal((await h.store.knex('slack_installations').count({ n: '*' }))[0]!.n, 0);
    const [audit] = await h.store.listAudit({ type: 'integration.slack_disconnected' });
    assert.equal(audit?.actor, 'carol@example.com');
    assert.equal(audit?.details.revoked, true);

    const again = await carol.fetch('/api/v1/admin/integrations/slack/disconnect', {
      method: 'POST',
      body: {},
    });
    assert.equal(again.status, 409, 'nothing left to disconnect');

    // Un-revoke the environment token (reset forgets revocations, and the fake's installs with them): a message
    // now arrives only if the worker uses the environment token.
    fake.reset();
    fake.addChannel('CAPPROVALS');
    await postApproval('erin');
  });

  it('reports Slack as off when nothing is connected and there is no environment token', async () => {
    const settings = slackSettings(
      { ...h.config, slack: { ...h.config.slack!, botToken: undefined } },
      {
        ...process.env,
        GF_TEST_SLACK_TOKEN: '',
      },
    );
    assert.ok(settings, 'OAuth alone keeps Slack available');
    assert.equal(settings.botToken, undefined);
    const keyring = createKeyring(parseKeys(keys));
    const connection = slackConnection(settings, h.store.knex, () => keyring, 0);
    const client = () => connection.client();
    const adapter = new SlackChatAdapter(
      client,
      new SlackDirectory(
        () => h.config,
        client,
        () => false,
      ),
      testLog,
    );
    const lines: string[] = [];
    const notifier = new Notifier([adapter], h.store, capturingLogger(lines));
    const calls = fake.calls.length;
    const message = pendingMessage({
      requestId: 'req-slack-off',
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
    });
    await notifier.publish(message, [{ platform: 'slack', channel: 'CAPPROVALS' }]);
    assert.equal(fake.calls.length, calls, 'nothing was sent to Slack');
    const said = lines.map((l) => JSON.parse(l) as { platform?: string; err?: string });
    assert.ok(
      said.some((l) => l.platform === 'slack' && /Slack is off/.test(String(l.err))),
      `the log says Slack is off: ${lines.join('')}`,
    );
  });

  it('shows Teams and downloads its app package with this bot id', async () => {
    const carol = await browserAs('carol@example.com');
    const o = await overview(carol);
    assert.equal(o.teams.configured, true);
    assert.equal(o.teams.appId, TEAMS_APP_ID);
    assert.equal(o.teams.packageAvailable, true);
    assert.equal(o.teams.lastActivityAt, undefined);
    assert.equal(o.teams.reachablePeople, 0);
    await h.store.saveChatReference('teams', 'email:alice@example.com', { conversation: { id: 'a' } });
    await h.store.saveChatReference('teams', 'email:stranger@example.com', { conversation: { id: 's' } });
    assert.equal((await overview(carol)).teams.reachablePeople, 1, 'only identities Grantflow knows count');

    const res = await carol.fetch('/api/v1/admin/integrations/teams/package');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.match(
      res.headers.get('content-disposition') ?? '',
      /attachment; filename="grantflow-teams-app\.zip"/,
    );
    const entries = readZip(Buffer.from(await res.arrayBuffer()));
    const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8')) as {
      id: string;
      bots: { botId: string }[];
    };
    assert.equal(manifest.id, TEAMS_APP_ID);
    assert.equal(manifest.bots[0]?.botId, TEAMS_APP_ID);
    assert.deepEqual(entries.map((e) => e.name).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const bob = await browserAs('bob@example.com');
    assert.equal((await bob.fetch('/api/v1/admin/integrations/teams/package')).status, 403);
  });

  it('checks a connector on demand, counting its active grants and overdue revocations', async () => {
    const carol = await browserAs('carol@example.com');
    const before = (await overview(carol)).connectors.find((c) => c.name === 'db');
    assert.equal(before?.ok, undefined, 'never checked yet (periodic checks are off here)');
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'connector status',
    });
    await h.waitFor(request.id, 'ACTIVE');
    const now = new Date().toISOString();
    await h.store.upsertRequest({
      ...(await h.store.getRequest(request.id))!,
      id: 'req-overdue',
      workflowId: 'wf-overdue',
      status: 'REVOKE_OVERDUE',
      idempotencyKey: undefined,
      createdAt: now,
      updatedAt: now,
    });
    const checked = await carol.json<IntegrationsOverview['connectors'][number]>(
      '/api/v1/admin/integrations/connectors/db/check',
      { method: 'POST' },
    );
    assert.equal(checked.ok, true, checked.message);
    assert.ok(checked.checks.length > 0 && checked.checks.every((c) => c.ok));
    assert.ok(checked.checkedAt);
    assert.ok(checked.activeGrants >= 1);
    assert.equal(checked.overdueRevocations, 1);
    assert.deepEqual(checked.overdueRequestIds, ['req-overdue']);
    const kept = (await overview(carol)).connectors.find((c) => c.name === 'db');
    assert.equal(kept?.checkedAt, checked.checkedAt, 'the result is kept for every API server');
    const [audit] = await h.store.listAudit({ type: 'integration.checked' });
    assert.equal(audit?.actor, 'carol@example.com');
    const unknown = await carol.fetch('/api/v1/admin/integrations/connectors/nope/check', { method: 'POST' });
    assert.equal(unknown.status, 404);
  });

  it('checks connectors in the background every interval, and refuses a bad interval', async () => {
    const service = new IntegrationsService({
      ctx: h.ctx,
      log: testLog,
      slack: {},
      teams: { appType: 'MultiTenant', matchUsersByEmail: false },
      keyring: () => undefined,
      checkIntervalSeconds: 1,
    });
    const checkedAt = async () =>
      (await service.connectorStatuses()).find((c) => c.name === 'db')?.checkedAt ?? '';
    try {
      const before = await checkedAt();
      service.startPeriodicChecks();
      const first = await until('a background check', async () =>
        (await checkedAt()) > before ? checkedAt() : undefined,
      );
      await until('the next background check', async () => (await checkedAt()) > first);
    } finally {
      await service.close();
    }
    assert.equal(checkIntervalFromEnv({}), 300);
    assert.equal(checkIntervalFromEnv({ GRANTFLOW_INTEGRATION_CHECK_INTERVAL: '0' }), 0);
    assert.throws(
      () => checkIntervalFromEnv({ GRANTFLOW_INTEGRATION_CHECK_INTERVAL: '5m' }),
      /GRANTFLOW_INTEGRATION_CHECK_INTERVAL must be a number of seconds/,
    );
  });

  it('shows a token Slack refuses as an error, and forgets the workspace when Slack says the app was removed', async () => {
    const carol = await browserAs('carol@example.com');
    fake.reset();
    fake.addChannel('CAPPROVALS');
    assert.equal((await install(carol)).landed, '/admin/integrations?slack=connected');
    const token = fake.installs.at(-1)!.token;
    api.integrations.invalidate();
    assert.equal((await overview(carol)).slack.state, 'active');

    // Revoked behind Grantflow's back (no event): the page says so, and what to do.
    await new WebClient(token, { slackApiUrl: fake.url, retryConfig: { retries: 0 } }).auth.revoke();
    api.integrations.invalidate();
    const refused = (await overview(carol)).slack;
    assert.equal(refused.state, 'error');
    assert.equal(refused.source, 'oauth');
    assert.match(
      refused.message ?? '',
      /Slack refuses the connected workspace's token \(token_revoked\): disconnect/,
    );

    // Slack's app_uninstalled event (signed, from that workspace): the installation is forgotten and audited.
    const events = createSlackSender({ url: `${api.url}/slack/events`, signingSecret: SIGNING_SECRET });
    const res = await events.event(
      { type: 'app_uninstalled', event_ts: '1800000000.000100' },
      { teamId: WORKSPACE.id },
    );
    assert.equal(res.status, 200);
    await until('the workspace forgotten', async () =>
      (await h.store.knex('slack_installations').count({ n: '*' }))[0]!.n === 0 ? true : undefined,
    );
    const [audit] = await h.store.listAudit({ type: 'integration.slack_uninstalled' });
    assert.equal(audit?.actor, 'slack');
    assert.equal(audit?.details.teamId, WORKSPACE.id);
    const forged = await events.event(
      { type: 'app_uninstalled' },
      { teamId: WORKSPACE.id, forgeSignature: true },
    );
    assert.equal(forged.status, 401, 'only Slack can say so');
  });

  it('warns about flows that notify a channel the bot is not in', async () => {
    const carol = await browserAs('carol@example.com');
    api.integrations.invalidate();
    assert.deepEqual((await overview(carol)).routing, []);
    fake.setMember('CAPPROVALS', false);
    api.integrations.invalidate();
    const [warning, ...rest] = (await overview(carol)).routing;
    assert.equal(rest.length, 0);
    assert.equal(warning?.problem, 'not_in_channel');
    assert.equal(warning?.channel, 'CAPPROVALS');
    assert.ok(warning?.flows.includes('approved-write'));
    assert.match(warning!.message, /invite it/);
    fake.setMember('CAPPROVALS', true);
  });
});
