/**
 * The Slack adapter against a tiny local Slack Web API (node:http) and a real WebClient: it posts to channels
 * and DMs, keeps the conversation id and ts Slack answers with, updates by them, skips people without a Slack
 * id, and surfaces Slack's error codes without ever showing the token.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { SlackChatAdapter } from '../chat-adapters/slack/adapter';
import { SlackApiError, SlackUnavailableError } from '../chat-adapters/slack/errors';
import { ACTIONS } from '../chat-adapters/slack/ids';
import { pendingMessage } from './helpers/messages';

const TOKEN = 'xoxb-test';

interface Call {
  method: string;
  params: Record<string, string>;
  auth: string | undefined;
}

/** Answers Web API methods like Slack does; `fail` makes a method answer `ok: false` with that code. */
class FakeSlack {
  readonly calls: Call[] = [];
  fail: Record<string, string> = {};
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '');
      const params = Object.fromEntries(new URLSearchParams(body));
      this.calls.push({ method, params, auth: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(this.answer(method, params)));
    });
  });

  private answer(method: string, params: Record<string, string>): unknown {
    if (this.fail[method])
      return {
        ok: false,
        error: this.fail[method],
        response_metadata: { messages: ['[ERROR] test detail'] },
      };
    if (method === 'conversations.open') return { ok: true, channel: { id: `D${params.users}` } };
    if (method === 'chat.postMessage' || method === 'chat.update')
      return { ok: true, channel: params.channel, ts: params.ts ?? '1700000000.000100' };
    return { ok: false, error: 'unknown_method' };
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const message = pendingMessage();

describe('Slack chat adapter', () => {
  const slack = new FakeSlack();
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const directory = {
    async slackUserIdFor(email: string) {
      return email === 'bob@example.com' ? 'U0BOB' : undefined;
    },
  };
  let adapter: SlackChatAdapter;
  let slackApiUrl = '';

  before(async () => {
    slackApiUrl = await slack.start();
    const client = new WebClient(TOKEN, { slackApiUrl, retryConfig: { retries: 0 } });
    adapter = new SlackChatAdapter(client, directory, log);
  });
  after(() => slack.stop());
  beforeEach(() => {
    slack.calls.length = 0;
    slack.fail = {};
  });

  it('posts to a target channel and keeps the channel id and ts Slack answers with', async () => {
    const ref = await adapter.post(
      { kind: 'target', target: { platform: 'slack', channel: 'C42' } },
      'approvers',
      message,
    );
    assert.deepEqual(ref, {
      requestId: 'req-1',
      platform: 'slack',
      audience: 'approvers',
      conversationId: 'C42',
      messageId: '1700000000.000100',
    });
    const [call] = slack.calls;
    assert.equal(call.method, 'chat.postMessage');
    assert.equal(call.params.channel, 'C42');
    assert.equal(call.auth, `Bearer ${TOKEN}`);
    assert.ok(call.params.text.includes('alice@example.com'));
    const blocks = JSON.parse(call.params.blocks) as unknown[];
    assert.ok(JSON.stringify(blocks).includes(ACTIONS.approve));
  });

  it('opens a DM with a person and keeps the DM id, not the user id', async () => {
    const ref = await adapter.post({ kind: 'person', email: 'bob@example.com' }, 'approvers', message);
    assert.deepEqual(
      slack.calls.map((c) => [c.method, c.params.users ?? c.params.channel]),
      [
        ['conversations.open', 'U0BOB'],
        ['chat.postMessage', 'DU0BOB'],
      ],
    );
    assert.equal(ref?.conversationId, 'DU0BOB');
    assert.equal(ref?.messageId, '1700000000.000100');
  });

  it('updates by the conversation id and ts, re-rendered for the audience of the copy', async () => {
    const ref = await adapter.post({ kind: 'person', email: 'bob@example.com' }, 'approvers', message);
    slack.calls.length = 0;
    const at = '2025-03-01T10:00:00.000Z';
    await adapter.update(ref!, {
      ...message,
      status: 'DENIED',
      event: 'denied',
      decisions: [{ approver: 'bob@example.com', decision: 'deny', comment: 'no', at, channel: 'slack' }],
    });
    const [call] = slack.calls;
    assert.equal(call.method, 'chat.update');
    assert.deepEqual([call.params.channel, call.params.ts], ['DU0BOB', '1700000000.000100']);
    const blocks = call.params.blocks;
    assert.ok(blocks.includes('Denied by bob@example.com'));
    assert.ok(!blocks.includes(ACTIONS.approve), 'no buttons once denied');
  });

  it('skips a person without a Slack id and a target without a channel', async () => {
    assert.equal(
      await adapter.post({ kind: 'person', email: 'nobody@example.com' }, 'requester', message),
      undefined,
    );
    assert.equal(
      await adapter.post({ kind: 'target', target: { platform: 'slack' } }, 'approvers', message),
      undefined,
    );
    assert.equal(slack.calls.length, 0);
    assert.ok(logLines.some((l) => l.includes('no Slack user for this person')));
  });

  it('surfaces Slack error codes, and never the token', async () => {
    slack.fail['chat.postMessage'] = 'channel_not_found';
    const err = await adapter
      .post({ kind: 'target', target: { platform: 'slack', channel: 'C404' } }, 'approvers', message)
      .then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof SlackApiError);
    assert.equal(err.slackError, 'channel_not_found');
    assert.equal(err.retryable, false);
    assert.match(err.message, /chat\.postMessage failed: channel_not_found \(\[ERROR\] test detail\)/);
    slack.fail['chat.update'] = 'message_not_found';
    await assert.rejects(
      adapter.update(
        {
          requestId: 'req-1',
          platform: 'slack',
          audience: 'requester',
          conversationId: 'D1',
          messageId: '1.2',
        },
        message,
      ),
      /chat\.update failed: message_not_found/,
    );
    const shown = JSON.stringify([err, Object.entries(err), err.stack, logLines]);
    assert.ok(!shown.includes(TOKEN));
  });

  it('reports an unreachable Slack as retryable, without the token', async () => {
    const closed = new FakeSlack();
    const url = await closed.start();
    await closed.stop();
    const down = new WebClient(TOKEN, { slackApiUrl: url, retryConfig: { retries: 0 } });
    const err = await new SlackChatAdapter(down, directory, log)
      .post({ kind: 'target', target: { platform: 'slack', channel: 'C1' } }, 'approvers', message)
      .then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof SlackUnavailableError);
    assert.equal(err.retryable, true);
    assert.match(err.message, /chat\.postMessage failed: request failed \(ECONNREFUSED\)/);
    assert.ok(!JSON.stringify([err, Object.entries(err), err.stack, err.cause]).includes(TOKEN));
  });

  it('links approvers to the portal instead of buttons only for step-up flows', async () => {
    const client = new WebClient(TOKEN, { slackApiUrl, retryConfig: { retries: 0 } });
    const portal = new SlackChatAdapter(client, directory, log, {
      stepUpUrlFor: (id) => `https://portal.example.com/requests/${id}`,
    });
    const channel = { kind: 'target' as const, target: { platform: 'slack' as const, channel: 'C42' } };
    await portal.post(channel, 'approvers', { ...message, stepUp: true });
    await portal.post(channel, 'approvers', message);
    await portal.post(channel, 'requester', { ...message, stepUp: true });
    const [stepUp, plainFlow, requester] = slack.calls.map((c) => c.params.blocks);
    assert.ok(
      stepUp.includes(ACTIONS.stepUp) && stepUp.includes('https://portal.example.com/requests/req-1'),
    );
    assert.ok(!stepUp.includes(ACTIONS.approve));
    assert.ok(plainFlow.includes(ACTIONS.approve) && !plainFlow.includes(ACTIONS.stepUp));
    assert.ok(!requester.includes(ACTIONS.stepUp));
  });

  it('posts alerts to the target channel', async () => {
    await adapter.alert({ platform: 'slack', channel: 'COPS' }, 'revoke keeps failing <@U1>', 'req-1');
    const [call] = slack.calls;
    assert.deepEqual([call.method, call.params.channel], ['chat.postMessage', 'COPS']);
    assert.ok(
      call.params.text.includes('revoke keeps failing &lt;@U1&gt;') && call.params.text.includes('req-1'),
    );
  });
});
