/**
 * Slack in Socket Mode, end to end: the API server starts the real Bolt app with an app-level token, which
 * opens a WebSocket through the fake Slack's `apps.connections.open`; the fake then delivers envelopes the way
 * docs.slack.dev/apis/events-api/using-socket-mode documents them and checks each ack. The request goes through
 * the real workflow on the Temporal dev server and real PostgreSQL access.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { WebSocket } from 'ws';
import { ACTIONS, BLOCKS, CALLBACKS, encodeChoice } from '../chat-adapters/slack/ids';
import { slackSettings } from '../chat-adapters/slack/settings';
import type { AppContext } from '../core/context';
import { createMetrics } from '../core/metrics';
import { startApiServer, type ApiServer } from '../server/start';
import type { RequestRow } from '../store/types';
import { buildChatAdapters } from '../workers/chat';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { createHarness, type Harness } from './helpers/harness';
import {
  externalSelectValue,
  plainTextValue,
  TEST_APP_ID,
  TEST_TEAM,
  viewSubmissionPayload,
} from './helpers/slack-requests';
import { testLog } from './setup/stack';
import { until } from './helpers/until';

const TOKEN = 'xoxb-socket-test-token';
const APP_TOKEN = 'xapp-1-A0GRANTFLOW-socket-test';
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'];
const uid = (person: string) => `U${person.toUpperCase()}`;

/** Gives the test config Slack ids for people and a `slack:` section for Socket Mode (no signing secret). */
function withSocketMode(yaml: string, apiUrl: string): string {
  const out = yaml.replace(
    /( {2}- email: (\w+)@example\.com\n {4}groups: .*\n {4}accounts: .*)/g,
    (all: string, _line: string, person: string) =>
      PEOPLE.includes(person) ? `${all}\n    slack: { userId: ${uid(person)} }` : all,
  );
  return `${out}\nslack:\n  botToken: \${GF_TEST_SLACK_TOKEN}\n  appToken: \${GF_TEST_SLACK_APP_TOKEN}\n  apiUrl: ${apiUrl}\n`;
}

/** A slash command's payload as Socket Mode carries it: the HTTP form's fields, as JSON. */
function slashCommand(userId: string, text: string, triggerId: string) {
  return {
    token: 'deprecated-verification-token',
    team_id: TEST_TEAM.id,
    team_domain: TEST_TEAM.domain,
    channel_id: 'C0GENERAL',
    channel_name: 'general',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: '/grantflow',
    text,
    api_app_id: TEST_APP_ID,
    is_enterprise_install: 'false',
    response_url: `https://hooks.slack.com/commands/${TEST_TEAM.id}/1/${randomUUID()}`,
    trigger_id: triggerId,
  };
}

/** A logger whose lines the test can read, at debug so that nothing Bolt says is missed. */
function capturedLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return {
    log: pino({ level: 'debug' }, sink),
    text: () => lines.join(''),
    lines: () => lines.map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

describe('Slack Socket Mode', function () {
  this.timeout(120_000);
  let fake: FakeSlack;
  let h: Harness;
  let api: ApiServer | undefined;

  before(async () => {
    fake = await startFakeSlack({
      token: TOKEN,
      appToken: APP_TOKEN,
      users: PEOPLE.map((p) => ({ id: uid(p), name: p, email: `${p}@example.com` })),
    });
    process.env.GF_TEST_SLACK_TOKEN = TOKEN;
    process.env.GF_TEST_SLACK_APP_TOKEN = APP_TOKEN;
    h = await createHarness({
      configTransform: (yaml) => withSocketMode(yaml, fake.url),
      chatAdapters: (config) => buildChatAdapters(() => config, testLog, { slackRetries: 0 }),
    });
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
      slackRetries: 0,
    });
  });
  after(async () => {
    await api?.close();
    await h?.close();
    await fake?.close();
  });

  const opens = () => fake.calls.filter((c) => c.method === 'apps.connections.open');
  const requestsOf = async (person: string): Promise<RequestRow[]> =>
    h.store.listRequests({ requester: `${person}@example.com`, limit: 100 });
  const requestSubmission = (viewId: string, duration: string) =>
    viewSubmissionPayload({
      userId: uid('alice'),
      callbackId: CALLBACKS.request,
      viewId,
      values: {
        [BLOCKS.access]: {
          [ACTIONS.access]: externalSelectValue(
            encodeChoice({ flow: 'auto-read', resource: 'db', permission: 'readonly' }),
            'db',
          ),
        },
        [BLOCKS.duration]: { value: plainTextValue(duration) },
        [BLOCKS.reason]: { value: plainTextValue('socket mode') },
      },
    });

  it('connects with the app-level token: one apps.connections.open, then hello', async () => {
    // app.start() resolves only once the client has read `hello`, so startApiServer returning proves it.
    assert.ok(api?.slack, 'Slack is on');
    assert.equal(fake.socket.connections(), 1);
    assert.equal(fake.socket.opened(), 1);
    assert.equal(opens().length, 1);
    assert.equal(fake.socket.received.length, 0, 'the app sent nothing before an envelope');
  });

  it('gives out single-use Socket Mode URLs for the app-level token only, from the Authorization header', async () => {
    const call = async (method: string, token: string, inHeader = true) => {
      const res = await fetch(`${fake.url}${method}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(inHeader ? { authorization: `Bearer ${token}` } : {}),
        },
        body: inHeader ? '' : new URLSearchParams({ token }).toString(),
      });
      return (await res.json()) as { ok: boolean; error?: string; url?: string };
    };
    assert.deepEqual(await call('apps.connections.open', TOKEN), {
      ok: false,
      error: 'not_allowed_token_type',
    });
    assert.deepEqual(await call('apps.connections.open', APP_TOKEN, false), {
      ok: false,
      error: 'missing_args',
    });
    assert.deepEqual(await call('auth.test', APP_TOKEN), { ok: false, error: 'not_allowed_token_type' });
    const { url } = await call('apps.connections.open', APP_TOKEN);
    assert.match(url ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/socket\?ticket=[0-9a-f]{32}&app_id=A0GRANTFLOW$/);

    const first = new WebSocket(url!);
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      first.once('message', (data: Buffer) =>
        resolve(JSON.parse(data.toString()) as Record<string, unknown>),
      );
      first.once('error', reject);
    });
    assert.equal(hello.type, 'hello');
    assert.deepEqual(hello.connection_info, { app_id: 'A0GRANTFLOW' });
    assert.equal(hello.num_connections, 2, "the app's connection and this one");
    first.close(1000);
    await until('the extra connection closed', () => fake.socket.connections() === 1);
    const reused = new WebSocket(url!);
    const refused = await new Promise<Error>((resolve) => reused.once('error', resolve));
    assert.match(refused.message, /401/, 'a ticket works once');
  });

  it('acks a /grantflow envelope on its envelope_id and opens the modal with the trigger', async () => {
    const envelopeId = randomUUID();
    const ack = await fake.socket.send(
      'slash_commands',
      slashCommand(uid('alice'), '', fake.issueTrigger()),
      { envelopeId },
    );
    assert.equal(ack.envelope_id, envelopeId);
    const modal = await until('the modal', () =>
      fake.views.find((v) => v.view.callback_id === CALLBACKS.request),
    );
    assert.equal(modal.method, 'views.open');

    // What HTTP answers in the response body, Socket Mode carries in the ack's payload.
    const help = await fake.socket.send('slash_commands', slashCommand(uid('alice'), 'help', ''));
    assert.match(JSON.stringify(help.payload), /grantflow list/);
    assert.equal((help.payload as { response_type?: string }).response_type, 'ephemeral');
  });

  it('answers a bad submission inline in the ack', async () => {
    const ack = await fake.socket.send('interactive', requestSubmission('VSOCKBAD', 'soon'));
    const payload = ack.payload as { response_action?: string; errors?: Record<string, string> };
    assert.equal(payload.response_action, 'errors');
    assert.match(payload.errors?.[BLOCKS.duration] ?? '', /not a duration/);
    assert.equal((await requestsOf('alice')).length, 0);
  });

  it('creates one request from a view_submission envelope, despite its redelivery', async () => {
    const envelopeId = randomUUID();
    const payload = requestSubmission('VSOCK1', '30s');
    const first = await fake.socket.send('interactive', payload, { envelopeId });
    assert.equal(first.envelope_id, envelopeId);
    assert.deepEqual(first.payload ?? {}, {}, 'a bare ack closes the modal');
    const request = await until('the request', async () =>
      (await requestsOf('alice')).find((r) => r.idempotencyKey === 'slack-view:VSOCK1'),
    );
    const again = await fake.socket.send('interactive', payload, {
      envelopeId,
      retryAttempt: 1,
      retryReason: 'timeout',
    });
    assert.equal(again.envelope_id, envelopeId, 'the redelivery is acked too');
    await h.waitFor(request.id, 'ACTIVE', 20_000);
    assert.equal((await requestsOf('alice')).length, 1, 'the redelivery opened no second request');
    assert.equal(await h.canRead('alice'), true);
  });

  it('fails to start with an unknown app token, saying invalid_auth, without logging the token', async () => {
    const before = opens().length;
    const captured = capturedLog();
    const wrong = 'xapp-1-A0GRANTFLOW-not-issued';
    const ctx: AppContext = {
      ...h.ctx,
      config: () => ({ ...h.config, slack: { ...h.config.slack!, appToken: wrong } }),
    };
    await assert.rejects(
      startApiServer({
        ctx,
        metrics: createMetrics(),
        log: captured.log,
        port: 0,
        host: '127.0.0.1',
        slackRetries: 0,
      }),
      (err: Error & { data?: { error?: string } }) => {
        assert.equal(err.data?.error, 'invalid_auth');
        return true;
      },
    );
    assert.equal(opens().length, before + 1, 'invalid_auth is final: no retry');
    const said = captured.lines().find((l) => /Failed to retrieve a new WSS URL/.test(l.msg));
    assert.match(said?.msg ?? '', /An API error occurred: invalid_auth/);
    assert.equal(said?.level, 50, 'logged as an error');
    assert.ok(!captured.text().includes(wrong), 'the token is not in the log');
    assert.equal(fake.socket.connections(), 1, 'only the first app is connected');
  });

  it('refuses a bot token given as the app token at once, instead of retrying forever', async () => {
    // @slack/socket-mode 3.1.0 treats not_allowed_token_type as passing and retries for ever, so the
    // settings refuse the wrong kind of token before anything connects.
    const before = opens().length;
    assert.throws(
      () => slackSettings({ ...h.config, slack: { ...h.config.slack!, appToken: TOKEN } }),
      /SLACK_APP_TOKEN must be an app-level token \(xapp-…\)/,
    );
    assert.equal(opens().length, before, 'nothing was tried');
  });

  it('reconnects when Slack asks for a refresh, and keeps working on the new connection', async () => {
    const before = { opens: opens().length, opened: fake.socket.opened(), closes: fake.socket.closes.length };
    fake.socket.disconnect('refresh_requested');
    await until('the old connection closed', () => !fake.socket.connected());
    assert.equal(fake.socket.closes.length, before.closes + 1);
    assert.equal(fake.socket.closes.at(-1)?.code, 1000, 'the app closed it normally');
    // The client waits its ping timeout (5 s) before reconnecting.
    await until('a new connection', () => fake.socket.connected(), 15_000);
    assert.equal(fake.socket.opened(), before.opened + 1);
    assert.equal(opens().length, before.opens + 1, 'a fresh URL for the new connection');
    const help = await fake.socket.send('slash_commands', slashCommand(uid('bob'), 'help', ''));
    assert.match(JSON.stringify(help.payload), /grantflow list/);
  });

  it('closes the socket when the API server stops', async () => {
    const closes = fake.socket.closes.length;
    await api!.close();
    api = undefined;
    await fake.socket.waitForDisconnect(5000);
    assert.equal(fake.socket.closes.length, closes + 1);
    assert.equal(fake.socket.closes.at(-1)?.code, 1000);
    await assert.rejects(
      fake.socket.send('slash_commands', slashCommand(uid('bob'), 'help', '')),
      /no app is connected/,
    );
  });
});
