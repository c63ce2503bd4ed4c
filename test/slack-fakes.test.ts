/**
 * Tests of the Slack test doubles: the fake Web API against the real `@slack/web-api` WebClient (and its OAuth
 * install flow against real HTTP and `@slack/oauth`'s InstallProvider), and the signed request sender against a
 * real Bolt app (HTTPReceiver), plus the app manifest.
 */
import assert from 'node:assert/strict';
import { BOT_SCOPES } from '../chat-adapters/slack/settings';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { App, LogLevel, webApi } from '@slack/bolt';
import { InstallProvider, type Installation } from '@slack/oauth';
import { parse } from 'yaml';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import {
  appHomeOpenedEvent,
  blockActionPayload,
  blockSuggestionPayload,
  createSlackSender,
  externalSelectValue,
  messageImEvent,
  plainTextValue,
  slackSignature,
  viewSubmissionPayload,
  type SlackSender,
} from './helpers/slack-requests';

const TOKEN = 'xoxb-test-token';
const ALICE = { id: 'U0ALICE', name: 'alice', realName: 'Alice A', email: 'Alice@Example.com' };
const modal = {
  type: 'modal',
  callback_id: 'grantflow_request',
  title: { type: 'plain_text', text: 'Request' },
};

const client = (fake: FakeSlack, token = TOKEN) =>
  new webApi.WebClient(token, {
    slackApiUrl: fake.url,
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
  });

/** The Slack error code a Web API call fails with. */
async function slackError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return String((err as { data?: { error?: string } }).data?.error);
  }
  assert.fail('expected the call to fail');
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('fake Slack Web API', () => {
  let fake: FakeSlack;
  beforeEach(async () => {
    fake = await startFakeSlack({ users: [ALICE] });
  });
  afterEach(() => fake.close());

  it('answers auth.test and refuses unknown tokens and methods', async () => {
    const auth = await client(fake).auth.test();
    assert.equal(auth.user_id, 'UBOT');
    assert.equal(auth.bot_id, 'BBOT');
    assert.equal(await slackError(client(fake, 'xoxb-wrong').auth.test()), 'invalid_auth');
    assert.equal(await slackError(client(fake).apiCall('nothing.here')), 'unknown_method');
  });

  it('posts to a user id into their DM; chat.update needs that conversation id and an existing ts', async () => {
    const web = client(fake);
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'Approve?' } }];
    const posted = await web.chat.postMessage({ channel: ALICE.id, text: 'Request', blocks });
    const dm = (await web.conversations.open({ users: ALICE.id })).channel!.id!;
    assert.match(dm, /^D/);
    assert.equal(posted.channel, dm);
    assert.equal(fake.dmFor(ALICE.id), dm);
    const second = await web.chat.postMessage({ channel: dm, text: 'again' });
    assert.notEqual(second.ts, posted.ts);

    const update = { ts: posted.ts!, text: 'Approved', blocks: [] };
    assert.equal(await slackError(web.chat.update({ ...update, channel: ALICE.id })), 'channel_not_found');
    assert.equal(
      await slackError(web.chat.update({ ...update, channel: dm, ts: '1.000001' })),
      'message_not_found',
    );
    await web.chat.update({ ...update, channel: dm });

    const [message] = fake.messages(dm);
    assert.equal(message!.text, 'Approved');
    assert.deepEqual(message!.blocks, []);
    assert.deepEqual(
      message!.history.map((h) => h.text),
      ['Request'],
    );
    assert.deepEqual(message!.history[0]!.blocks, blocks);
    const call = fake.calls.find((c) => c.method === 'chat.postMessage')!;
    assert.deepEqual(call.args.blocks, blocks, 'JSON form fields are recorded parsed');
    assert.equal(call.args.token, undefined);
  });

  it('posts only to channels it knows and is in; conversations.info tells membership', async () => {
    const web = client(fake);
    assert.equal(
      await slackError(web.chat.postMessage({ channel: 'C0NOPE', text: 'x' })),
      'channel_not_found',
    );
    assert.equal(await slackError(web.conversations.info({ channel: 'C0NOPE' })), 'channel_not_found');
    fake.addChannel('C0APPROVE');
    assert.equal((await web.conversations.info({ channel: 'C0APPROVE' })).channel!.is_member, true);
    fake.setMember('C0APPROVE', false);
    assert.equal((await web.conversations.info({ channel: 'C0APPROVE' })).channel!.is_member, false);
    assert.equal(
      await slackError(web.chat.postMessage({ channel: 'C0APPROVE', text: 'x' })),
      'not_in_channel',
    );
    fake.setMember('C0APPROVE', true);
    const posted = await web.chat.postMessage({ channel: 'C0APPROVE', text: 'hello' });
    assert.equal(posted.channel, 'C0APPROVE');
    const eph = await web.chat.postEphemeral({ channel: 'C0APPROVE', user: ALICE.id, text: 'only you' });
    assert.equal(fake.ephemerals[0]!.messageTs, eph.message_ts);
  });

  it('opens a modal only with a fresh, unused trigger', async () => {
    const shortLived = await startFakeSlack({ triggerTtlMs: 100 });
    try {
      const web = client(shortLived);
      const trigger = shortLived.issueTrigger();
      const opened = await web.views.open({ trigger_id: trigger, view: modal as never });
      assert.match(opened.view!.id!, /^V/);
      assert.equal(opened.view!.callback_id, 'grantflow_request');
      assert.equal(
        await slackError(web.views.open({ trigger_id: trigger, view: modal as never })),
        'exchanged_trigger_id',
      );
      assert.equal(
        await slackError(web.views.open({ trigger_id: '1.2.abc', view: modal as never })),
        'invalid_trigger_id',
      );
      const old = shortLived.issueTrigger();
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(
        await slackError(web.views.open({ trigger_id: old, view: modal as never })),
        'expired_trigger_id',
      );
      assert.equal(shortLived.views.length, 1);
      assert.deepEqual(shortLived.calls.find((c) => c.method === 'views.open')!.args.view, modal);
    } finally {
      await shortLived.close();
    }
  });

  it('updates modals and publishes Home tabs', async () => {
    const web = client(fake);
    const opened = await web.views.open({ trigger_id: fake.issueTrigger(), view: modal as never });
    const changed = { ...modal, title: { type: 'plain_text', text: 'Changed' } };
    assert.equal(
      await slackError(web.views.update({ view_id: 'V0NOPE', view: changed as never })),
      'not_found',
    );
    await web.views.update({ view_id: opened.view!.id!, view: changed as never });
    assert.deepEqual(fake.views[0]!.view, changed);
    assert.deepEqual(fake.views[0]!.history, [modal]);
    const home = { type: 'home', blocks: [] };
    const first = await web.views.publish({ user_id: ALICE.id, view: home as never });
    const again = await web.views.publish({ user_id: ALICE.id, view: home as never });
    assert.equal(first.view!.id, again.view!.id);
    assert.equal(fake.views.filter((v) => v.method === 'views.publish' && v.userId === ALICE.id).length, 1);
  });

  it('looks people up by id and by email', async () => {
    const web = client(fake);
    const info = await web.users.info({ user: ALICE.id });
    assert.equal(info.user!.profile!.email, ALICE.email);
    assert.equal(info.user!.real_name, 'Alice A');
    assert.equal(await slackError(web.users.info({ user: 'U0NOBODY' })), 'user_not_found');
    assert.equal((await web.users.lookupByEmail({ email: 'alice@example.com' })).user!.id, ALICE.id);
    assert.equal(await slackError(web.users.lookupByEmail({ email: 'x@example.com' })), 'users_not_found');
    fake.addUser({ id: 'U0BOB', email: 'bob@example.com' });
    assert.equal((await web.users.info({ user: 'U0BOB' })).user!.profile!.email, 'bob@example.com');
  });

  it('takes JSON bodies with a Bearer token, fails the next call on demand, and resets', async () => {
    const post = (token: string) =>
      fetch(`${fake.url}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
        body: JSON.stringify({ channel: ALICE.id, text: 'json' }),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    assert.equal((await post(TOKEN)).ok, true);
    assert.deepEqual(await post('xoxb-other'), { ok: false, error: 'invalid_auth' });
    fake.failNext('chat.postMessage', 'ratelimited');
    assert.deepEqual(await post(TOKEN), { ok: false, error: 'ratelimited' });
    assert.equal((await post(TOKEN)).ok, true);
    assert.equal(fake.messages().length, 2);
    fake.reset();
    assert.equal(fake.messages().length + fake.calls.length, 0);
    assert.equal((await client(fake).users.info({ user: ALICE.id })).ok, true, 'users survive reset');
  });
});

describe('fake Slack OAuth v2 install flow', () => {
  const oauth = { clientId: '1111.2222', clientSecret: 'app-secret' };
  const credentials = { client_id: oauth.clientId, client_secret: oauth.clientSecret };
  const redirectUri = 'https://grantflow.example.com/slack/oauth_redirect?from=test';
  /** The SDK's generated AuthRevokeResponse type lacks the documented `revoked` field. */
  const revoked = async (call: Promise<unknown>) => ((await call) as { revoked?: boolean }).revoked;
  let fake: FakeSlack;
  beforeEach(async () => {
    fake = await startFakeSlack({ users: [ALICE], oauth });
  });
  afterEach(() => fake.close());

  const noToken = (target: FakeSlack) =>
    new webApi.WebClient(undefined, {
      slackApiUrl: target.url,
      retryConfig: { retries: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
  const authorizeUrl = (fields: Record<string, string> = {}) =>
    `${fake.authorizeUrl}?${new URLSearchParams({
      client_id: oauth.clientId,
      scope: 'chat:write,commands',
      redirect_uri: redirectUri,
      state: 'st-1',
      ...fields,
    }).toString()}`;
  /** Runs the consent page with Allow and returns the code from the redirect. */
  async function newCode(): Promise<string> {
    const location = new URL(await fake.authorize(authorizeUrl()));
    return location.searchParams.get('code')!;
  }
  const exchange = (code: string, fields: Record<string, string> = {}) =>
    noToken(fake).oauth.v2.access({
      ...credentials,
      code,
      redirect_uri: redirectUri,
      ...fields,
    });

  it('shows a consent page with the scopes, an Allow and a Cancel button, and refuses bad requests', async () => {
    const page = await fetch(authorizeUrl({ user_scope: 'search:read' }));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    const html = await page.text();
    assert.match(
      html,
      /<h1>Grantflow is requesting permission to access the Grantflow Test Slack workspace<\/h1>/,
    );
    for (const scope of ['chat:write', 'commands', 'search:read'])
      assert.ok(html.includes(`<code>${scope}</code>`), scope);
    assert.match(html, /<form method="post" action="\/oauth\/v2\/authorize">/);
    assert.match(html, /<button type="submit" name="decision" value="allow">Allow<\/button>/);
    assert.match(html, /<button type="submit" name="decision" value="cancel">Cancel<\/button>/);
    assert.ok(html.includes(`<input type="hidden" name="redirect_uri" value="${redirectUri}">`));
    assert.ok(html.includes('<input type="hidden" name="state" value="st-1">'));

    const unknown = await fetch(authorizeUrl({ client_id: '9999.0000' }));
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /invalid_client_id/);
    const noRedirect = await fetch(`${fake.authorizeUrl}?client_id=${oauth.clientId}&scope=chat:write`);
    assert.equal(noRedirect.status, 400);
    assert.match(await noRedirect.text(), /bad_redirect_uri/);
    await assert.rejects(fake.authorize(authorizeUrl({ client_id: '9999.0000' })), /400.*invalid_client_id/s);

    const bare = await startFakeSlack();
    try {
      const refused = await fetch(
        `${bare.authorizeUrl}?client_id=${oauth.clientId}&scope=chat:write&redirect_uri=${redirectUri}`,
      );
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /invalid_client_id/);
      assert.equal(
        await slackError(
          noToken(bare).oauth.v2.access({
            ...credentials,
            code: 'x',
          }),
        ),
        'invalid_client_id',
      );
    } finally {
      await bare.close();
    }
  });

  it('installs: Allow redirects with a code, oauth.v2.access answers the documented shape, the token works', async () => {
    const location = new URL(await fake.authorize(authorizeUrl()));
    assert.equal(
      `${location.origin}${location.pathname}`,
      'https://grantflow.example.com/slack/oauth_redirect',
    );
    assert.equal(location.searchParams.get('from'), 'test', "the redirect keeps the app's own query");
    assert.equal(location.searchParams.get('state'), 'st-1');
    const code = location.searchParams.get('code')!;
    assert.match(code, /^\d+\.\d+\.[0-9a-f]+$/);

    const answer = await exchange(code);
    assert.match(answer.access_token!, /^xoxb-\d+-\d+-\w+$/);
    assert.notEqual(answer.access_token, TOKEN);
    const { access_token: _token, response_metadata: _meta, ...rest } = answer;
    assert.deepEqual(rest, {
      ok: true,
      token_type: 'bot',
      scope: 'chat:write,commands',
      bot_user_id: 'UBOT',
      app_id: 'A0GRANTFLOW',
      team: { id: 'T0FAKE', name: 'Grantflow Test' },
      enterprise: null,
      is_enterprise_install: false,
      authed_user: { id: 'U0INSTALLER' },
    });
    const recorded = fake.calls.find((c) => c.method === 'oauth.v2.access')!;
    assert.equal(recorded.args.client_secret, undefined, 'the client secret is not recorded');
    assert.equal(recorded.args.code, code);

    const web = client(fake, answer.access_token!);
    const auth = await web.auth.test();
    assert.deepEqual([auth.team_id, auth.user_id, auth.bot_id], ['T0FAKE', 'UBOT', 'BBOT']);
    const posted = await web.chat.postMessage({ channel: ALICE.id, text: 'installed' });
    assert.equal(fake.messages(posted.channel)[0]!.text, 'installed');
    assert.equal(fake.calls.find((c) => c.method === 'chat.postMessage')!.token, answer.access_token);
    assert.equal((await client(fake).auth.test()).ok, true, 'the configured token still works');

    const second = await exchange(await newCode());
    assert.notEqual(second.access_token, answer.access_token, 'each install gets a new token');
    assert.deepEqual(
      fake.installs.map((i) => [i.token, i.teamId, i.scopes, i.revoked]),
      [
        [answer.access_token, 'T0FAKE', ['chat:write', 'commands'], false],
        [second.access_token, 'T0FAKE', ['chat:write', 'commands'], false],
      ],
    );
  });

  it('refuses a wrong secret, client id, redirect_uri, an unknown, reused or expired code', async () => {
    const code = await newCode();
    assert.equal(await slackError(exchange(code, { client_secret: 'wrong' })), 'bad_client_secret');
    assert.equal(await slackError(exchange(code, { client_id: '9999.0000' })), 'invalid_client_id');
    assert.equal(
      await slackError(exchange(code, { redirect_uri: 'https://evil.example.com/cb' })),
      'bad_redirect_uri',
    );
    assert.equal(
      await slackError(noToken(fake).oauth.v2.access({ ...credentials, code })),
      'bad_redirect_uri',
      'required when the authorize URL had one',
    );
    assert.equal(await slackError(exchange('123.456.abc')), 'invalid_code');
    assert.equal((await exchange(code)).ok, true, 'refusals do not spend the code');
    assert.equal(await slackError(exchange(code)), 'invalid_code', 'a code is single-use');
    assert.equal(fake.installs.length, 1);

    const quick = await startFakeSlack({ oauth: { ...oauth, codeTtlMs: 50 } });
    try {
      const url = `${quick.authorizeUrl}?client_id=${oauth.clientId}&scope=chat:write&redirect_uri=${encodeURIComponent(redirectUri)}`;
      const stale = new URL(await quick.authorize(url)).searchParams.get('code')!;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(
        await slackError(
          noToken(quick).oauth.v2.access({
            ...credentials,
            code: stale,
            redirect_uri: redirectUri,
          }),
        ),
        'invalid_code',
      );
    } finally {
      await quick.close();
    }
  });

  it('answers for the configured workspace, enterprise and bot, and issues a user token for user_scope', async () => {
    const grid = await startFakeSlack({
      oauth: {
        ...oauth,
        team: { id: 'T0GRID', name: 'Acme Ops' },
        enterprise: { id: 'E0ACME', name: 'Acme' },
        appId: 'A0OTHER',
        botUserId: 'U0GRIDBOT',
        botId: 'B0GRID',
        installer: 'U0ADMIN',
      },
    });
    try {
      const url = `${grid.authorizeUrl}?${new URLSearchParams({
        client_id: oauth.clientId,
        scope: 'chat:write',
        user_scope: 'search:read',
        redirect_uri: redirectUri,
        team: 'T0GRID',
      }).toString()}`;
      const location = new URL(await grid.authorize(url));
      assert.equal(location.searchParams.has('state'), false, 'no state given, none sent back');
      const answer = await noToken(grid).oauth.v2.access({
        ...credentials,
        code: location.searchParams.get('code')!,
        redirect_uri: redirectUri,
      });
      assert.deepEqual(
        [answer.team, answer.enterprise],
        [
          { id: 'T0GRID', name: 'Acme Ops' },
          { id: 'E0ACME', name: 'Acme' },
        ],
      );
      assert.deepEqual([answer.app_id, answer.bot_user_id], ['A0OTHER', 'U0GRIDBOT']);
      const user = answer.authed_user!;
      assert.deepEqual([user.id, user.scope, user.token_type], ['U0ADMIN', 'search:read', 'user']);
      assert.match(user.access_token!, /^xoxp-/);

      const bot = await client(grid, answer.access_token!).auth.test();
      assert.deepEqual(
        [bot.team_id, bot.team, bot.user_id, bot.bot_id, bot.enterprise_id, bot.url],
        ['T0GRID', 'Acme Ops', 'U0GRIDBOT', 'B0GRID', 'E0ACME', 'https://acme-ops.slack.com/'],
      );
      const person = await client(grid, user.access_token!).auth.test();
      assert.deepEqual([person.user_id, person.bot_id], ['U0ADMIN', undefined]);
      assert.equal((await client(grid).auth.test()).team_id, 'T0FAKE', 'the configured token is unchanged');

      const elsewhere = await fetch(url.replace('team=T0GRID', 'team=T0ELSE'));
      assert.equal(elsewhere.status, 400);
      assert.match(await elsewhere.text(), /team_mismatch/);
    } finally {
      await grid.close();
    }
  });

  it('Cancel redirects with error=access_denied and the state, and issues no code', async () => {
    const location = new URL(await fake.authorize(authorizeUrl({ state: 'st-cancel' }), 'cancel'));
    assert.equal(location.searchParams.get('error'), 'access_denied');
    assert.equal(location.searchParams.get('state'), 'st-cancel');
    assert.equal(location.searchParams.get('code'), null);
    assert.equal(fake.installs.length, 0);
  });

  it('takes the client credentials as HTTP Basic', async () => {
    const post = (id: string, secret: string, code: string) =>
      fetch(`${fake.url}oauth.v2.access`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ code, redirect_uri: redirectUri }).toString(),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const code = await newCode();
    assert.deepEqual(await post(oauth.clientId, 'wrong', code), { ok: false, error: 'bad_client_secret' });
    const answer = await post(oauth.clientId, oauth.clientSecret, code);
    assert.equal(answer.ok, true);
    assert.equal(fake.installs[0]!.token, answer.access_token);
  });

  it('auth.revoke revokes an installed token or the configured one; test mode and reset do not keep it', async () => {
    const token = (await exchange(await newCode())).access_token!;
    const web = client(fake, token);
    assert.equal(await revoked(web.auth.revoke({ test: true })), false);
    assert.equal((await web.auth.test()).ok, true, 'test mode does not revoke');
    assert.equal(await revoked(web.auth.revoke()), true);
    assert.equal(await slackError(web.auth.test()), 'token_revoked');
    assert.equal(await slackError(web.chat.postMessage({ channel: ALICE.id, text: 'x' })), 'token_revoked');
    assert.ok(fake.isRevoked(token));
    assert.equal(fake.installs[0]!.revoked, true);
    assert.equal((await client(fake).auth.test()).ok, true, 'other tokens keep working');

    assert.equal(await revoked(client(fake).auth.revoke()), true);
    assert.equal(await slackError(client(fake).conversations.open({ users: ALICE.id })), 'token_revoked');
    assert.deepEqual(fake.revokedTokens, [token, TOKEN]);
    fake.reset();
    assert.equal((await client(fake).auth.test()).ok, true);
    assert.equal(fake.installs.length + fake.revokedTokens.length, 0);
    assert.equal(await slackError(web.auth.test()), 'invalid_auth', 'reset forgets installed tokens');
  });

  it("satisfies @slack/oauth's InstallProvider from the install path to the stored installation", async () => {
    const stored: Installation[] = [];
    const installer = new InstallProvider({
      ...oauth,
      stateSecret: 'state-secret',
      directInstall: true,
      authorizationUrl: fake.authorizeUrl,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
      logLevel: webApi.LogLevel.ERROR,
    });
    const app = createServer((req, res) => {
      const callbackOptions = {
        success: (installation: Installation) => {
          stored.push(installation);
          res.end('installed');
        },
        failure: (error: Error) => {
          res.writeHead(500).end(error.message);
        },
      };
      if (req.url!.startsWith('/slack/install'))
        void installer.handleInstallPath(req, res, undefined, {
          scopes: ['chat:write'],
          redirectUri: callback,
        });
      else void installer.handleCallback(req, res, callbackOptions);
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const callback = `http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/oauth_redirect`;
    try {
      const start = await fetch(callback.replace('oauth_redirect', 'install'), { redirect: 'manual' });
      assert.equal(start.status, 302);
      const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
      const back = await fake.authorize(start.headers.get('location')!);
      const done = await fetch(back, { headers: { cookie } });
      assert.equal(await done.text(), 'installed');
      const [installation] = stored;
      assert.deepEqual(installation!.team, { id: 'T0FAKE', name: 'Grantflow Test' });
      assert.deepEqual(installation!.bot, {
        scopes: ['chat:write'],
        token: fake.installs[0]!.token,
        userId: 'UBOT',
        id: 'BBOT',
      });
      assert.equal(installation!.user.id, 'U0INSTALLER');
      assert.deepEqual(
        fake.calls.filter((c) => c.method === 'auth.test').map((c) => c.token),
        [fake.installs[0]!.token],
        'InstallProvider learns bot_id with the new token',
      );
    } finally {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });
});

describe('signed Slack requests to a real Bolt app', () => {
  const signingSecret = 'test-signing-secret';
  let fake: FakeSlack;
  let app: App;
  let sender: SlackSender;
  const seen: { kind: string; body: Record<string, unknown>; retryNum?: number }[] = [];

  before(async () => {
    fake = await startFakeSlack({ users: [ALICE] });
    app = new App({
      signingSecret,
      token: TOKEN,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    });
    app.command('/grantflow', async ({ ack, command, client: web }) => {
      await ack();
      seen.push({ kind: 'command', body: command });
      await web.views.open({ trigger_id: command.trigger_id, view: modal as never });
    });
    app.action('grantflow_approve', async ({ ack, body }) => {
      await ack();
      seen.push({ kind: 'action', body: body as never });
    });
    app.view('grantflow_request', async ({ ack, view }) => {
      seen.push({ kind: 'view', body: view as never });
      await ack({ response_action: 'errors', errors: { reason: 'Too short' } });
    });
    app.options<'block_suggestion'>({ action_id: 'grantflow_access' }, async ({ ack, body }) => {
      seen.push({ kind: 'options', body: body as never });
      await ack({ options: [{ text: { type: 'plain_text', text: 'db read' }, value: 'db-read' }] });
    });
    app.event('message', async ({ event, context }) => {
      seen.push({ kind: 'message', body: event as never, retryNum: context.retryNum });
    });
    app.event('app_home_opened', async ({ event, client: web }) => {
      await web.views.publish({ user_id: event.user, view: { type: 'home', blocks: [] } });
    });
    const server = await app.start(0);
    const { port } = server.address() as AddressInfo;
    sender = createSlackSender({ url: `http://127.0.0.1:${port}/slack/events`, signingSecret });
  });
  after(async () => {
    await app.stop();
    await fake.close();
  });

  it("signs exactly like Slack's documented example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    assert.equal(
      slackSignature('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body),
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('delivers a signed command to the listener, whose views.open reaches the fake', async () => {
    const trigger = fake.issueTrigger();
    const res = await sender.command({
      command: '/grantflow',
      text: 'list',
      user_id: ALICE.id,
      trigger_id: trigger,
    });
    assert.equal(res.status, 200);
    await until(() => fake.views.length === 1);
    const command = seen.find((s) => s.kind === 'command')!.body;
    assert.equal(command.text, 'list');
    assert.equal(command.user_id, ALICE.id);
    const open = fake.calls.find((c) => c.method === 'views.open')!;
    assert.equal(open.args.trigger_id, trigger);
    assert.deepEqual(open.args.view, modal);
  });

  it('refuses a forged signature and a 6-minute-old timestamp with 401, before any listener', async () => {
    const before = seen.length;
    const fields = { command: '/grantflow', text: '', user_id: ALICE.id };
    assert.equal((await sender.command(fields, { forgeSignature: true })).status, 401);
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    assert.equal((await sender.command(fields, { timestamp: stale })).status, 401);
    assert.equal(
      (
        await sender.event(messageImEvent({ userId: ALICE.id, channel: 'D1', text: 'x' }), {
          forgeSignature: true,
        })
      ).status,
      401,
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, before);
  });

  it('answers url_verification with the challenge', async () => {
    const res = await sender.urlVerification('challenge-123');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { challenge: 'challenge-123' });
  });

  it('delivers block actions, view submissions and option requests in the shapes Bolt routes', async () => {
    const click = blockActionPayload({
      userId: ALICE.id,
      actionId: 'grantflow_approve',
      value: 'req-1',
      channelId: 'C0APPROVE',
      messageTs: '1700000000.000100',
    });
    assert.equal((await sender.interaction(click)).status, 200);
    await until(() => seen.some((s) => s.kind === 'action'));
    const action = seen.find((s) => s.kind === 'action')!.body as {
      actions: { value: string }[];
      container: Record<string, unknown>;
    };
    assert.equal(action.actions[0]!.value, 'req-1');
    assert.equal(action.container.message_ts, '1700000000.000100');

    const values = {
      reason: { reason: plainTextValue('x') },
      access: { grantflow_access: externalSelectValue('db-read', 'db read') },
    };
    const submit = viewSubmissionPayload({
      userId: ALICE.id,
      callbackId: 'grantflow_request',
      viewId: 'V0MODAL',
      values,
      privateMetadata: '{"a":1}',
    });
    const submitted = await sender.interaction(submit);
    assert.deepEqual(submitted.json, { response_action: 'errors', errors: { reason: 'Too short' } });
    const view = seen.find((s) => s.kind === 'view')!.body as {
      private_metadata: string;
      state: { values: unknown };
    };
    assert.equal(view.private_metadata, '{"a":1}');
    assert.deepEqual(view.state.values, values);

    const suggest = blockSuggestionPayload({
      userId: ALICE.id,
      actionId: 'grantflow_access',
      blockId: 'access',
      value: 'db',
    });
    const options = (await sender.interaction(suggest)).json as { options: { value: string }[] };
    assert.equal(options.options[0]!.value, 'db-read');
    assert.equal(seen.find((s) => s.kind === 'options')!.body.value, 'db');
  });

  it('delivers events with retry headers, and app_home_opened reaches views.publish', async () => {
    const event = messageImEvent({ userId: ALICE.id, channel: 'D0ALICE', text: 'request' });
    const res = await sender.event(event, { retryNum: 1, retryReason: 'http_timeout' });
    assert.equal(res.status, 200);
    await until(() => seen.some((s) => s.kind === 'message'));
    const message = seen.find((s) => s.kind === 'message')!;
    assert.equal(message.body.text, 'request');
    assert.equal(message.body.channel_type, 'im');
    assert.equal(message.retryNum, 1);

    assert.equal((await sender.event(appHomeOpenedEvent(ALICE.id))).status, 200);
    await until(() => fake.views.some((v) => v.method === 'views.publish' && v.userId === ALICE.id));
  });
});

describe('slack-app-manifest.yaml', () => {
  it('parses and declares the command, URLs, events, App Home and exactly the needed scopes', () => {
    const manifest = parse(readFileSync(path.join(__dirname, '..', 'slack-app-manifest.yaml'), 'utf8'));
    const url = 'https://grantflow.example.com/slack/events';
    assert.deepEqual(manifest._metadata, { major_version: 1, minor_version: 1 });
    assert.equal(manifest.display_information.name, 'Grantflow');
    assert.deepEqual(manifest.features.app_home, {
      home_tab_enabled: true,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: false,
    });
    assert.ok(manifest.features.bot_user.display_name);
    const [command] = manifest.features.slash_commands;
    assert.deepEqual([command.command, command.url, command.usage_hint], ['/grantflow', url, '[list|help]']);
    assert.deepEqual(manifest.oauth_config.scopes.bot, [
      'commands',
      'chat:write',
      'im:write',
      'im:history',
      'users:read',
      'users:read.email',
      'channels:read',
      'groups:read',
    ]);
    // Connect Slack asks for exactly the scopes the app declares, and Slack sends the browser back here.
    assert.deepEqual(manifest.oauth_config.scopes.bot, [...BOT_SCOPES]);
    assert.deepEqual(manifest.oauth_config.redirect_urls, [
      'https://grantflow.example.com/slack/oauth_redirect',
    ]);
    assert.deepEqual(manifest.settings.event_subscriptions, {
      request_url: url,
      bot_events: ['app_home_opened', 'message.im', 'app_uninstalled', 'tokens_revoked'],
    });
    assert.deepEqual(manifest.settings.interactivity, {
      is_enabled: true,
      request_url: url,
      message_menu_options_url: url,
    });
    assert.equal(manifest.settings.socket_mode_enabled, false);
  });
});
