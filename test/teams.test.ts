/**
 * Microsoft Teams end to end: the real CloudAdapter behind the API server's POST /api/messages, driven with
 * Teams-shaped activities carrying real JWTs signed by a local key (checked against a local OpenID metadata +
 * JWKS), its replies and proactive cards going to a fake Bot Framework connector, the real workflow, and real
 * PostgreSQL access. One flow notifies Slack and Teams at once.
 */
import assert from 'node:assert/strict';
import { encodeChoice } from '../chat-adapters/choices';
import { ACTIONS } from '../chat-adapters/slack/ids';
import { VERBS } from '../chat-adapters/teams/ids';
import type { TeamsSettings } from '../chat-adapters/teams/settings';
import { createMetrics } from '../core/metrics';
import { decideRequest } from '../core/request-actions';
import { startApiServer, type ApiServer } from '../server/start';
import { buildChatAdapters } from '../workers/chat';
import { startFakeBotAuth, type FakeBotAuth } from './fakes/bot-auth';
import { startFakeConnector, type FakeConnector } from './fakes/bot-connector';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { createHarness, type Harness } from './helpers/harness';
import {
  adaptiveCardInvoke,
  channelConversation,
  conversationUpdateMembersAdded,
  createTeamsSender,
  messageActivity,
  personalConversation,
  teamsUser,
  TEST_APP_ID,
  type TeamsSender,
  type TeamsUser,
} from './helpers/teams-activities';
import { TestCredentialsFactory } from './helpers/teams-credentials';
import { testLog } from './setup/stack';
import { until } from './helpers/until';

const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
type Person = (typeof PEOPLE)[number];
const users = Object.fromEntries(PEOPLE.map((p) => [p, teamsUser(p, `${p}@example.com`)])) as Record<
  Person,
  TeamsUser
>;
const CHANNEL = channelConversation({ team: 'Platform', channel: 'Access' });

/** Teams ids for people; approvals of approved-write go to a Teams channel, approvers' chats and Slack. */
function withTeams(yaml: string, slackApiUrl: string): string {
  let out = yaml.replace(
    /( {2}- email: (\w+)@example\.com\n {4}groups: .*\n {4}accounts: .*)/g,
    (all, _l, p: string) =>
      (PEOPLE as readonly string[]).includes(p)
        ? `${all}\n    teams: { aadObjectId: ${users[p as Person].aadObjectId} }`
        : all,
  );
  out = out.replace(
    /( {4}requireJustification: (true|false))/g,
    `$1\n    notify: [{ platform: teams, channel: "${CHANNEL.id}", dmApprovers: true }, { platform: slack, channel: CAPPROVALS }]`,
  );
  return `${out}\nslack:\n  botToken: \${GF_TEST_SLACK_TOKEN}\n  signingSecret: \${GF_TEST_SLACK_SECRET}\n  apiUrl: ${slackApiUrl}\n`;
}

describe('Microsoft Teams', function () {
  this.timeout(120_000);
  let auth: FakeBotAuth;
  let connector: FakeConnector;
  let slackFake: FakeSlack;
  let h: Harness;
  let api: ApiServer;
  let teams: TeamsSender;
  let settings: TeamsSettings;

  before(async () => {
    auth = await startFakeBotAuth();
    connector = await startFakeConnector({
      members: PEOPLE.map((p) => ({
        id: users[p].id,
        name: p,
        aadObjectId: users[p].aadObjectId,
        email: users[p].email,
      })),
    });
    slackFake = await startFakeSlack({ token: 'xoxb-test-token' });
    slackFake.addChannel('CAPPROVALS');
    process.env.GF_TEST_SLACK_TOKEN = 'xoxb-test-token';
    process.env.GF_TEST_SLACK_SECRET = 'test-signing-secret';
    settings = {
      appId: TEST_APP_ID,
      appPassword: 'not-used-by-tests',
      appType: 'MultiTenant',
      openIdMetadataUrl: auth.metadataUrl,
      tokenIssuer: auth.issuer,
      matchUsersByEmail: false,
    };
    const credentials = new TestCredentialsFactory(TEST_APP_ID);
    h = await createHarness({
      configTransform: (yaml) => withTeams(yaml, slackFake.url),
      chatAdapters: (config, store) =>
        buildChatAdapters(() => config, testLog, {
          store,
          slackRetries: 0,
          teamsSettings: settings,
          teamsCredentialsFactory: credentials,
        }),
    });
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
      slackRetries: 0,
      teamsSettings: settings,
      teamsCredentialsFactory: credentials,
    });
    teams = createTeamsSender({ url: `${api.url}/api/messages`, auth, appId: TEST_APP_ID });
    // People talk to the bot once (so it can reach them later), and the bot is added to the channel.
    for (const p of PEOPLE) {
      const res = await teams.send(
        messageActivity({ user: users[p], serviceUrl: connector.serviceUrl, text: 'hello' }),
      );
      assert.equal(res.status, 200, res.body);
    }
    const added = await teams.send(
      conversationUpdateMembersAdded({
        user: users.carol,
        serviceUrl: connector.serviceUrl,
        team: 'Platform',
        channel: 'Access',
      }),
    );
    assert.equal(added.status, 200, added.body);
  });
  after(async () => {
    await api?.close();
    await h?.close();
    await connector?.close();
    await auth?.close();
    await slackFake?.close();
  });

  const send = (activity: Record<string, unknown>) => teams.send(activity);
  const invoke = (person: Person, verb: string, data: Record<string, unknown>) =>
    send(adaptiveCardInvoke({ user: users[person], serviceUrl: connector.serviceUrl, verb, data }));
  const invokeText = (res: { json?: unknown }) => String((res.json as { value?: unknown })?.value ?? '');
  const cardsAbout = (id: string) =>
    connector.activities().filter((a) => !a.deleted && JSON.stringify(a.activity).includes(id));
  const hasExecute = (a: { activity: Record<string, unknown> }, verb: string) =>
    JSON.stringify(a.activity).includes(`"verb":"${verb}"`);

  async function requestByCard(
    person: Person,
    o: { flow: string; permission: string; duration: string; reason: string },
  ) {
    const res = await invoke(person, VERBS.request, {
      access: encodeChoice({ flow: o.flow, resource: 'db', permission: o.permission }),
      duration: o.duration,
      reason: o.reason,
    });
    assert.equal(res.status, 200, res.body);
    const id = /req_[a-z0-9]+/.exec(JSON.stringify(res.json))?.[0];
    assert.ok(id, `a request id in the answer: ${res.body}`);
    return id;
  }

  it('refuses missing, badly signed and misaddressed tokens with 401, never 500', async () => {
    const activity = messageActivity({ user: users.alice, serviceUrl: connector.serviceUrl, text: 'hello' });
    const noted = await h.store.getIntegrationStatus('teams');
    assert.equal((await teams.send(activity, { token: null })).status, 401);
    assert.equal((await teams.send(activity, { signWith: 'unknown-key' })).status, 401);
    assert.equal((await teams.send(activity, { audience: 'someone-else' })).status, 401);
    assert.equal((await teams.send(activity, { token: 'not-a-jwt' })).status, 401);
    assert.deepEqual(
      await h.store.getIntegrationStatus('teams'),
      noted,
      'a refused activity is not "received" on the Integrations page',
    );
  });

  it('answers "request" with a form card, and turns a submitted card into a grant', async () => {
    const before = connector.activities().length;
    await send(messageActivity({ user: users.alice, serviceUrl: connector.serviceUrl, text: 'request' }));
    // Noted at most once a minute per process: the page's "last activity" is within the last minute or so.
    const last = await until('the activity noted for the Integrations page', async () => {
      const at = (await h.store.getIntegrationStatus('teams'))?.status.lastActivityAt;
      return typeof at === 'string' ? Date.parse(at) : undefined;
    });
    assert.ok(Date.now() - last < 70_000, `last activity ${new Date(last).toISOString()} is recent`);
    const form = await until('the form card', () =>
      connector
        .activities()
        .slice(before)
        .find((a) => hasExecute(a, VERBS.request)),
    );
    assert.match(JSON.stringify(form.activity), /auto-read/);

    const bad = await invoke('alice', VERBS.request, {
      access: encodeChoice({ flow: 'auto-read', resource: 'db', permission: 'readonly' }),
      duration: '2h',
      reason: '',
    });
    assert.equal(
      (bad.json as { type: string }).type,
      'application/vnd.microsoft.card.adaptive',
      'the form again',
    );
    assert.match(bad.body, /attention/, 'with the problem next to the field');

    const id = await requestByCard('alice', {
      flow: 'auto-read',
      permission: 'readonly',
      duration: '30s',
      reason: 'teams',
    });
    await h.waitFor(id, 'ACTIVE', 15_000);
    assert.equal(await h.canRead('alice'), true);
    const mine = personalConversation(users.alice, TEST_APP_ID).id;
    const card = await until('the requester card', () =>
      connector
        .activities(mine)
        .find((a) => JSON.stringify(a.activity).includes(id) && hasExecute(a, VERBS.revoke)),
    );
    assert.ok(hasExecute(card, VERBS.extend));
    const extended = await invoke('alice', VERBS.extend, { requestId: id, extendBy: '10s' });
    assert.match(invokeText(extended), /Extended/);
    const revoked = await invoke('alice', VERBS.revoke, { requestId: id });
    assert.match(invokeText(revoked), /Revoking/);
    await h.waitFor(id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false);
  });

  it('reaches approvers proactively in the channel and their chats; an Action.Execute approval grants, and every card updates', async () => {
    const id = await requestByCard('erin', {
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '30s',
      reason: 'fix data',
    });
    const cards = await until('approval cards', () => {
      const found = cardsAbout(id).filter((a) => hasExecute(a, VERBS.approve));
      return found.length >= 4 ? found : undefined;
    });
    const where = cards.map((c) => c.conversationId);
    assert.ok(where.includes(CHANNEL.id), 'the flow channel');
    for (const p of ['bob', 'carol', 'dave'] as const)
      assert.ok(where.includes(personalConversation(users[p], TEST_APP_ID).id), `${p}'s chat`);
    assert.match(JSON.stringify(cards[0].activity), /fix data/);

    const res = await invoke('bob', VERBS.approve, { requestId: id });
    assert.equal(res.status, 200);
    assert.match(invokeText(res), /Approved/);
    await h.waitFor(id, 'ACTIVE', 15_000);
    assert.equal(await h.canWrite('erin'), true);
    await until('every card updated', () =>
      cards.every((c) => {
        const now = connector.activities(c.conversationId).find((a) => a.id === c.id)!;
        return (
          now.history.length > 0 &&
          !hasExecute(now, VERBS.approve) &&
          JSON.stringify(now.activity).includes('bob@example.com')
        );
      }),
    );
  });

  it('refuses non-approvers and self-approval, explaining and auditing; deny takes a reason', async () => {
    const id = await requestByCard('erin', {
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '30s',
      reason: 'refusals',
    });
    await until('approval cards', () => (cardsAbout(id).length >= 4 ? true : undefined));
    assert.match(invokeText(await invoke('alice', VERBS.approve, { requestId: id })), /not an approver/);
    assert.match(invokeText(await invoke('erin', VERBS.approve, { requestId: id })), /own request/);
    const rejected = (await h.store.listAudit({ requestId: id })).filter(
      (r) => r.type === 'request.action_rejected',
    );
    assert.deepEqual(
      rejected.map((r) => r.channel),
      ['teams', 'teams'],
    );
    assert.match(invokeText(await invoke('carol', VERBS.deny, { requestId: id, denyReason: '' })), /Say why/);
    await invoke('carol', VERBS.deny, { requestId: id, denyReason: 'change freeze' });
    const denied = await h.waitFor(id, 'DENIED');
    assert.equal(denied.denial?.comment, 'change freeze');
  });

  it('updates Teams cards and Slack messages alike when the decision comes from the CLI', async () => {
    const id = await requestByCard('erin', {
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '20s',
      reason: 'both',
    });
    const cards = await until('Teams cards', () => {
      const found = cardsAbout(id).filter((a) => hasExecute(a, VERBS.approve));
      return found.length >= 4 ? found : undefined;
    });
    const slackMessage = await until('the Slack message', () =>
      slackFake.messages('CAPPROVALS').find((m) => JSON.stringify(m.blocks ?? []).includes(id)),
    );
    assert.match(JSON.stringify(slackMessage.blocks), new RegExp(ACTIONS.approve));
    await decideRequest(h.ctx, h.actor('dave', 'cli'), id, 'approve');
    await until('Teams cards show dave', () =>
      cards.every((c) => {
        const now = connector.activities(c.conversationId).find((a) => a.id === c.id)!;
        return !hasExecute(now, VERBS.approve) && JSON.stringify(now.activity).includes('dave@example.com');
      }),
    );
    await until('Slack shows dave', () => {
      const m = slackFake.messages('CAPPROVALS').find((x) => x.ts === slackMessage.ts)!;
      return (
        JSON.stringify(m.blocks).includes('dave@example.com') &&
        !JSON.stringify(m.blocks).includes(ACTIONS.approve)
      );
    });
  });

  it('lists my requests and grants on "my requests"', async () => {
    const id = await requestByCard('alice', {
      flow: 'auto-read',
      permission: 'readonly',
      duration: '20s',
      reason: 'list me',
    });
    await h.waitFor(id, 'ACTIVE', 15_000);
    const before = connector.activities().length;
    await send(messageActivity({ user: users.alice, serviceUrl: connector.serviceUrl, text: 'my requests' }));
    // Card text escapes markdown, so the id reads req\_… there: look for the reason and the status instead.
    const list = await until('the list card', () =>
      connector
        .activities()
        .slice(before)
        .find(
          (a) =>
            JSON.stringify(a.activity).includes('list me') &&
            JSON.stringify(a.activity).includes('Your requests and grants'),
        ),
    );
    assert.match(JSON.stringify(list.activity), /\*\*Active\*\*/);
  });

  it('refuses every activity with 401 when Teams has no app id, except dev mode on loopback', async () => {
    const off = { ...settings, appId: undefined, appPassword: undefined };
    const base = {
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
      teamsSettings: off,
    };
    const activity = messageActivity({ user: users.alice, serviceUrl: connector.serviceUrl, text: 'hello' });
    const prod = await startApiServer(base);
    const dev = await startApiServer({ ...base, devMode: true });
    try {
      const post = (url: string) =>
        fetch(`${url}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(activity),
        });
      assert.equal((await post(prod.url)).status, 401, 'Teams is off');
      assert.equal((await post(dev.url)).status, 200, 'dev mode on loopback accepts the Emulator');
    } finally {
      await prod.close();
      await dev.close();
    }
  });

  it('tells an unknown Teams user who to ask', async () => {
    const stranger = teamsUser('mallory', 'mallory@example.com');
    const before = connector.activities().length;
    await send(messageActivity({ user: stranger, serviceUrl: connector.serviceUrl, text: 'request' }));
    const answer = await until('the answer', () =>
      connector
        .activities()
        .slice(before)
        .find((a) => /does not know/.test(JSON.stringify(a.activity))),
    );
    assert.match(JSON.stringify(answer.activity), new RegExp(stranger.aadObjectId));
  });
});
