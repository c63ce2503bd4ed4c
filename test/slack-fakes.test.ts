/**
 * Tests of the Slack test doubles: the fake Web API against the real `@slack/web-api` WebClient, and the signed
 * request sender against a real Bolt app (HTTPReceiver), plus the app manifest.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { App, LogLevel, webApi } from '@slack/bolt';
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
    assert.deepEqual(manifest.settings.event_subscriptions, {
      request_url: url,
      bot_events: ['app_home_opened', 'message.im'],
    });
    assert.deepEqual(manifest.settings.interactivity, {
      is_enabled: true,
      request_url: url,
      message_menu_options_url: url,
    });
    assert.equal(manifest.settings.socket_mode_enabled, false);
  });
});
