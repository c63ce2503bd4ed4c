/**
 * Tests of the Teams test doubles against the real botbuilder path: `ConfigurationBotFrameworkAuthentication`
 * verifying tokens from the fake OpenID endpoint, `CloudAdapter.process` behind a plain `node:http` server, and
 * botbuilder's `ConnectorClient` talking to the fake Bot Connector. No Grantflow bot code is involved.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  MessageFactory,
  TeamsInfo,
  TurnContext,
  type Activity,
  type ConversationParameters,
  type Request as BotRequest,
  type Response as BotResponse,
} from 'botbuilder';
import { ServiceClientCredentialsFactory, type ServiceClientCredentials } from 'botframework-connector';
import { startFakeBotAuth, type FakeBotAuth, type MintTokenOptions } from './fakes/bot-auth';
import { startFakeConnector, type FakeConnector } from './fakes/bot-connector';
import {
  adaptiveCardInvoke,
  channelConversation,
  conversationUpdateMembersAdded,
  createTeamsSender,
  installationUpdate,
  messageActivity,
  personalConversation,
  teamsUser,
  type TeamsActivity,
  type TeamsSender,
  type TeamsSendOptions,
} from './helpers/teams-activities';

const APP_ID = 'test-app-id';
const OUTGOING = `Bearer outgoing-token-for-${APP_ID}`;
const alice = teamsUser('Alice Admin');
type Logic = (ctx: TurnContext) => Promise<void>;

/** Credentials for outgoing calls that never ask Microsoft's identity service for a token. */
class TestCredentialsFactory extends ServiceClientCredentialsFactory {
  readonly created: { appId: string; audience?: string }[] = [];
  constructor(private readonly appId: string) {
    super();
  }
  override async isValidAppId(appId: string): Promise<boolean> {
    return appId === this.appId;
  }
  override async isAuthenticationDisabled(): Promise<boolean> {
    return false;
  }
  override async createCredentials(appId: string, audience?: string): Promise<ServiceClientCredentials> {
    this.created.push({ appId, audience });
    return {
      signRequest: async (request) => {
        request.headers.set('authorization', `Bearer outgoing-token-for-${appId}`);
        return request;
      },
    };
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bridge from Node's http to `CloudAdapter.process`: it wants the body already parsed and a response object
 * with `status/header/send/end`. What process writes is buffered and sent once it resolves, because process calls
 * `status`, then `send` only when there is a body (a string error message or an invoke response object), then `end`.
 */
async function processHttp(adapter: CloudAdapter, req: IncomingMessage, res: ServerResponse, logic: Logic) {
  const request: BotRequest = { method: req.method, headers: req.headers, body: await readJson(req) };
  const out: { status: number; headers: Record<string, string>; body?: unknown } = {
    status: 200,
    headers: {},
  };
  const response: BotResponse = {
    socket: req.socket,
    status: (code: unknown) => void (out.status = Number(code)),
    header: (name: unknown, value: unknown) => void (out.headers[String(name)] = String(value)),
    send: (body: unknown) => void (out.body = body),
    end: () => undefined,
  };
  await adapter.process(request, response, logic);
  const text = typeof out.body === 'string';
  res.writeHead(out.status, { 'content-type': text ? 'text/plain' : 'application/json', ...out.headers });
  res.end(out.body === undefined ? '' : text ? out.body : JSON.stringify(out.body));
}

/** Runs `fn` with console.error captured: botbuilder logs every rejected request there. */
async function quietly<T>(fn: () => Promise<T>): Promise<{ result: T; logged: unknown[][] }> {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    return { result: await fn(), logged };
  } finally {
    console.error = original;
  }
}

/** The error a botbuilder call fails with. */
async function failure(call: Promise<unknown>): Promise<{ statusCode?: number; message: string }> {
  try {
    await call;
  } catch (err) {
    return err as { statusCode?: number; message: string };
  }
  assert.fail('expected the call to fail');
}

describe('Teams fakes with the real botbuilder auth path', () => {
  let auth: FakeBotAuth;
  let connector: FakeConnector;
  let credentials: TestCredentialsFactory;
  let adapter: CloudAdapter;
  let server: Server;
  let sender: TeamsSender;
  let logic: Logic;
  let turns: Partial<Activity>[];
  const message = (text: string): TeamsActivity =>
    messageActivity({ user: alice, text, serviceUrl: connector.serviceUrl });

  before(async () => {
    auth = await startFakeBotAuth();
    connector = await startFakeConnector({ members: [alice] });
    credentials = new TestCredentialsFactory(APP_ID);
    const botAuth = new ConfigurationBotFrameworkAuthentication(
      {
        MicrosoftAppId: APP_ID,
        MicrosoftAppPassword: 'unused',
        MicrosoftAppType: 'MultiTenant',
        ToBotFromChannelOpenIdMetadataUrl: auth.metadataUrl,
        ToBotFromChannelTokenIssuer: auth.issuer,
      },
      credentials,
    );
    adapter = new CloudAdapter(botAuth);
    server = createServer((req, res) => {
      const turnLogic: Logic = async (ctx) => {
        turns.push(ctx.activity);
        await logic(ctx);
      };
      processHttp(adapter, req, res, turnLogic).catch((err: Error) => res.writeHead(599).end(err.message));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`;
    sender = createTeamsSender({ url, auth, appId: APP_ID });
  });
  beforeEach(() => {
    connector.reset();
    turns = [];
    logic = async (ctx) => void (await ctx.sendActivity('pong'));
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await connector.close();
    await auth.close();
  });

  it('accepts a valid token and the reply reaches the fake connector with the outgoing credentials', async () => {
    const activity = message('ping');
    const res = await sender.send(activity);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(auth.fetches.slice(0, 2), ['/v1/.well-known/openidconfiguration', '/keys']);
    assert.equal(turns[0].text, 'ping');
    assert.equal(turns[0].from?.aadObjectId, alice.aadObjectId);
    const [call] = connector.calls;
    assert.equal(call.method, 'POST');
    assert.equal(call.path, `/v3/conversations/${activity.conversation.id}/activities/${activity.id}`);
    assert.equal(call.authorization, OUTGOING);
    const [reply] = connector.activities(activity.conversation.id);
    assert.equal(reply.activity.text, 'pong');
    assert.equal(reply.replyToId, activity.id);
    assert.deepEqual(credentials.created.at(-1), { appId: APP_ID, audience: undefined });
  });

  it('answers bad tokens as botbuilder does: 401, except 500 for a forged signature or a future nbf', async () => {
    const token = (o: Partial<MintTokenOptions>) =>
      auth.mintToken({ audience: APP_ID, serviceUrl: connector.serviceUrl, ...o });
    const cases: [string, TeamsSendOptions, number][] = [
      ['no Authorization header', { token: null }, 401],
      ['wrong audience', { audience: 'someone-else' }, 401],
      ['expired 10 min ago', { token: token({ expiresInSec: -600 }) }, 401],
      ['wrong issuer', { token: token({ issuer: 'https://login.example' }) }, 401],
      ['other serviceurl', { token: token({ serviceUrl: 'https://smba.trafficmanager.net/teams/' }) }, 401],
      ['unknown kid', { token: token({ kid: 'no-such-key' }) }, 401],
      ['unknown key, trusted kid', { signWith: 'unknown-key' }, 500],
      ['nbf in 15 min', { token: token({ notBefore: Math.floor(Date.now() / 1000) + 900 }) }, 500],
      ['expired 60 s ago (300 s skew)', { token: token({ expiresInSec: -60 }) }, 200],
    ];
    const { result, logged } = await quietly(async () => {
      const answers: [string, number, string][] = [];
      for (const [name, opts] of cases) {
        const res = await sender.send(message(name), opts);
        answers.push([name, res.status, res.body]);
      }
      return answers;
    });
    assert.deepEqual(
      result.map(([name, status]) => [name, status]),
      cases.map(([name, , status]) => [name, status]),
    );
    assert.equal(result[5][2], 'Signing Key could not be retrieved.');
    assert.equal(result[6][2], 'invalid signature');
    assert.equal(result[7][2], 'jwt not active');
    assert.ok(logged.length >= 8, 'botbuilder console.errors every rejected request');
    assert.deepEqual(
      turns.map((t) => t.text),
      ['expired 60 s ago (300 s skew)'],
    );
  });

  it('returns an Adaptive Card invoke response as the HTTP body', async () => {
    logic = async (ctx) => {
      const value = ctx.activity.value as { action: { verb: string; data: { requestId: string } } };
      const card = {
        type: 'AdaptiveCard',
        version: '1.5',
        body: [{ type: 'TextBlock', text: value.action.verb }],
      };
      const body = { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card };
      await ctx.sendActivity({ type: 'invokeResponse', value: { status: 200, body } });
    };
    const invoke = adaptiveCardInvoke({
      user: alice,
      serviceUrl: connector.serviceUrl,
      verb: 'grantflow.approve',
      data: { requestId: 'r1' },
      replyToId: '1700000000000',
    });
    const res = await sender.send(invoke);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(
      (res.json as { value: { body: { text: string }[] } }).value.body[0].text,
      'grantflow.approve',
    );
    assert.equal(turns[0].name, 'adaptiveCard/action');
    assert.equal(turns[0].replyToId, '1700000000000');
    assert.equal(connector.calls.length, 0);
  });

  it('delivers installation and members-added events with their Teams fields', async () => {
    logic = async () => undefined;
    const install = installationUpdate({ user: alice, serviceUrl: connector.serviceUrl });
    const added = conversationUpdateMembersAdded({
      user: alice,
      serviceUrl: connector.serviceUrl,
      team: 'Platform',
    });
    assert.equal((await sender.send(install)).status, 200);
    assert.equal((await sender.send(added)).status, 200);
    assert.equal(turns[0].type, 'installationUpdate');
    assert.equal(turns[0].action, 'add');
    assert.deepEqual(turns[1].membersAdded, [{ id: `28:${APP_ID}` }]);
    assert.equal(turns[1].conversation?.id, channelConversation({ team: 'Platform' }).id);
    assert.equal((turns[1].channelData as { team: { name: string } }).team.name, 'Platform');
  });

  it('sends a proactive message with continueConversationAsync, updates it (PUT) and deletes it', async () => {
    const reference = TurnContext.getConversationReference(message('hi') as unknown as Partial<Activity>);
    const cid = reference.conversation!.id;
    let continuationId = '';
    let sentId = '';
    await adapter.continueConversationAsync(APP_ID, reference, async (ctx) => {
      continuationId = ctx.activity.id!;
      sentId = (await ctx.sendActivity('Request r1: pending'))!.id;
    });
    await adapter.continueConversationAsync(APP_ID, reference, async (ctx) => {
      await ctx.updateActivity({ ...MessageFactory.text('Request r1: approved'), id: sentId });
    });
    const [sent] = connector.activities(cid);
    assert.equal(sent.id, sentId);
    assert.equal(sent.activity.text, 'Request r1: approved');
    assert.deepEqual(
      sent.history.map((h) => h.activity.text),
      ['Request r1: pending'],
    );
    // botbuilder gives the continuation turn a fresh uuid and "replies" to it: proactive sends use the reply route.
    assert.match(continuationId, /^[0-9a-f-]{36}$/);
    assert.equal(sent.replyToId, continuationId);
    assert.deepEqual(
      connector.calls.map((c) => [c.method, c.path, c.authorization]),
      [
        ['POST', `/v3/conversations/${cid}/activities/${continuationId}`, OUTGOING],
        ['PUT', `/v3/conversations/${cid}/activities/${sentId}`, OUTGOING],
      ],
    );
    await adapter.continueConversationAsync(APP_ID, reference, (ctx) => ctx.deleteActivity(sentId));
    assert.deepEqual([connector.calls[2].method, sent.deleted], ['DELETE', true]);
    const err = await failure(
      adapter.continueConversationAsync(APP_ID, reference, async (ctx) => {
        await ctx.updateActivity({ ...MessageFactory.text('x'), id: sentId });
      }),
    );
    assert.equal(err.statusCode, 404, 'a deleted or unknown activity cannot be updated');
  });

  it('creates conversations: the personal one of a user, and a new thread in a channel', async () => {
    const personal = personalConversation(alice);
    const channel = channelConversation({ team: 'Platform', channel: 'Access requests' });
    const bot = { id: `28:${APP_ID}`, name: 'Grantflow' };
    const created: string[] = [];
    const create = (parameters: Partial<ConversationParameters>, text?: string) =>
      adapter.createConversationAsync(
        APP_ID,
        'msteams',
        connector.serviceUrl,
        '',
        parameters as ConversationParameters,
        async (ctx) => {
          created.push(ctx.activity.conversation.id);
          if (text) await ctx.sendActivity(text);
        },
      );
    await create(
      { bot, members: [{ id: alice.id, name: alice.name }], tenantId: personal.tenantId },
      'Approved',
    );
    const activity = MessageFactory.text('Alice requests db-admin') as Activity;
    await create({ bot, isGroup: true, channelData: { channel: { id: channel.id } }, activity });
    assert.equal(created[0], personal.id);
    assert.equal(connector.activities(personal.id)[0].activity.text, 'Approved');
    const [first] = connector.activities(created[1]);
    assert.equal(created[1], `${channel.id};messageid=${first.id}`);
    assert.equal(first.activity.text, 'Alice requests db-admin');
    assert.deepEqual(
      connector.conversations.map((c) => c.id),
      created,
    );
  });

  it('reads a member with TeamsInfo.getMember, and 404s an unknown one', async () => {
    let email: string | undefined;
    let missing: { statusCode?: number } | undefined;
    logic = async (ctx) => {
      email = (await TeamsInfo.getMember(ctx, ctx.activity.from.id)).email;
      missing = await failure(TeamsInfo.getMember(ctx, '29:nobody'));
    };
    const activity = message('who am i');
    assert.equal((await sender.send(activity)).status, 200);
    assert.equal(email, alice.email);
    assert.equal(missing?.statusCode, 404);
    assert.equal(
      connector.calls[0].path,
      `/v3/conversations/${activity.conversation.id}/members/${alice.id}`,
    );
    assert.equal(connector.calls[0].authorization, OUTGOING);
  });

  it('fails the next matching calls with failNext; botbuilder retries a single 5xx', async () => {
    const activity = message('ping');
    const prefix = `/v3/conversations/${activity.conversation.id}/`;
    connector.failNext(`POST ${prefix}`, 403);
    const { result } = await quietly(() => sender.send(activity));
    assert.equal(result.status, 500, 'a failed send fails the turn, and process answers 500');
    connector.failNext(`GET ${prefix}`, 503); // never matched: wrong method
    connector.failNext(prefix, 503);
    assert.equal((await sender.send(activity)).status, 200);
    assert.deepEqual(
      connector.calls.map((c) => c.status),
      [403, 503, 201],
    );
  });
});
