/**
 * Slack end to end: the real Bolt app on the API server, driven over HTTP with correctly signed requests in
 * Slack's payload formats, its Web API calls going to the fake Slack under test/fakes, the real workflow on the
 * Temporal dev server, and real PostgreSQL access.
 */
import assert from 'node:assert/strict';
import { buildChatAdapters } from '../workers/chat';
import { createMetrics } from '../core/metrics';
import { decideRequest } from '../core/request-actions';
import { startApiServer, type ApiServer } from '../server/start';
import { ACTIONS, BLOCKS, CALLBACKS, encodeChoice } from '../chat-adapters/slack/ids';
import { routingProbe, routingWarnings } from '../chat-adapters/routing';
import { SlackDirectory } from '../chat-adapters/slack/directory';
import type { RequestRow } from '../store/types';
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from './fakes/slack-api';
import { createHarness, type Harness } from './helpers/harness';
import {
  appHomeOpenedEvent,
  blockActionPayload,
  blockSuggestionPayload,
  createSlackSender,
  externalSelectValue,
  messageImEvent,
  plainTextValue,
  viewSubmissionPayload,
  type SlackSender,
} from './helpers/slack-requests';
import { testLog } from './setup/stack';
import { until } from './helpers/until';

const TOKEN = 'xoxb-test-token';
const SECRET = 'test-signing-secret';
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'];
const uid = (person: string) => `U${person.toUpperCase()}`;

/** Gives the test config Slack: ids for people, the app's settings, and a channel plus DMs for approvers. */
function withSlack(yaml: string, apiUrl: string): string {
  let out = yaml.replace(
    /( {2}- email: (\w+)@example\.com\n {4}groups: .*\n {4}accounts: .*)/g,
    (all: string, _line: string, person: string) =>
      PEOPLE.includes(person) ? `${all}\n    slack: { userId: ${uid(person)} }` : all,
  );
  out = out.replace(
    /( {4}requireJustification: (true|false))/g,
    '$1\n    notify: [{ platform: slack, channel: CAPPROVALS, dmApprovers: true }]',
  );
  out += [
    '  - name: step-up-write',
    '    requesters: { groups: [engineering] }',
    '    resources: [{ name: db, permissions: [readwrite] }]',
    '    approvers: { groups: [dba] }',
    '    defaultDuration: 3s',
    '    maxDuration: 1m',
    '    stepUp: true',
    '    requireJustification: false',
    '    notify: [{ platform: slack, channel: CAPPROVALS, dmApprovers: true }]',
    '',
  ].join('\n');
  return `${out}\nslack:\n  botToken: \${GF_TEST_SLACK_TOKEN}\n  signingSecret: \${GF_TEST_SLACK_SECRET}\n  apiUrl: ${apiUrl}\n`;
}

const hasButtons = (m: FakeSlackMessage) =>
  JSON.stringify(m.blocks ?? []).includes('"type":"actions"') &&
  JSON.stringify(m.blocks).includes(ACTIONS.approve);
const textOf = (m: FakeSlackMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;

describe('Slack', function () {
  this.timeout(120_000);
  let fake: FakeSlack;
  let h: Harness;
  let api: ApiServer;
  let slack: SlackSender;

  before(async () => {
    fake = await startFakeSlack({
      token: TOKEN,
      users: PEOPLE.map((p) => ({ id: uid(p), name: p, email: `${p}@example.com` })),
    });
    fake.addChannel('CAPPROVALS');
    process.env.GF_TEST_SLACK_TOKEN = TOKEN;
    process.env.GF_TEST_SLACK_SECRET = SECRET;
    h = await createHarness({
      configTransform: (yaml) => withSlack(yaml, fake.url),
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
    slack = createSlackSender({ url: `${api.url}/slack/events`, signingSecret: SECRET });
  });
  after(async () => {
    await api?.close();
    await h?.close();
    await fake?.close();
  });

  const requestsOf = async (person: string): Promise<RequestRow[]> =>
    h.store.listRequests({ requester: `${person}@example.com`, limit: 100 });

  async function submitRequest(
    person: string,
    o: { flow: string; permission: string; duration: string; reason: string; viewId: string },
    retryNum?: number,
  ) {
    return slack.interaction(
      viewSubmissionPayload({
        userId: uid(person),
        callbackId: CALLBACKS.request,
        viewId: o.viewId,
        values: {
          [BLOCKS.access]: {
            [ACTIONS.access]: externalSelectValue(
              encodeChoice({ flow: o.flow, resource: 'db', permission: o.permission }),
              'db',
            ),
          },
          [BLOCKS.duration]: { value: plainTextValue(o.duration) },
          [BLOCKS.reason]: { value: plainTextValue(o.reason) },
        },
      }),
      retryNum ? { retryNum } : undefined,
    );
  }

  async function newRequest(
    person: string,
    o: { flow: string; permission: string; duration: string; reason: string; viewId: string },
  ) {
    const res = await submitRequest(person, o);
    assert.equal(res.status, 200, res.body);
    return until(`request from ${person}`, async () =>
      (await requestsOf(person)).find((r) => r.idempotencyKey === `slack-view:${o.viewId}`),
    );
  }

  const approverMessages = (id: string) =>
    fake
      .messages()
      .filter(
        (m) =>
          textOf(m).includes(id) &&
          m.channel !== fake.dmFor(uid('erin')) &&
          m.channel !== fake.dmFor(uid('alice')),
      );

  it('refuses forged and stale requests, and answers url_verification', async () => {
    const before = fake.calls.length;
    const forged = await slack.command(
      { command: '/grantflow', text: '', user_id: uid('alice'), trigger_id: fake.issueTrigger() },
      { forgeSignature: true },
    );
    assert.equal(forged.status, 401);
    const stale = await slack.command(
      { command: '/grantflow', text: '', user_id: uid('alice'), trigger_id: fake.issueTrigger() },
      { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    assert.equal(stale.status, 401);
    assert.equal(fake.calls.slice(before).filter((c) => c.method === 'views.open').length, 0);
    const challenge = await slack.urlVerification('abc123');
    assert.deepEqual(challenge.json, { challenge: 'abc123' });
  });

  it('opens the request modal from /grantflow within the trigger window, and offers only allowed access', async () => {
    const res = await slack.command({
      command: '/grantflow',
      text: '',
      user_id: uid('alice'),
      trigger_id: fake.issueTrigger(),
    });
    assert.equal(res.status, 200);
    const view = await until('the modal', () =>
      fake.views.find((v) => v.view.callback_id === CALLBACKS.request),
    );
    assert.equal(view.method, 'views.open');

    const options = await slack.interaction(
      blockSuggestionPayload({
        userId: uid('alice'),
        actionId: ACTIONS.access,
        blockId: BLOCKS.access,
        value: 'read',
      }),
    );
    const labels = (options.json as { options: { text: { text: string } }[] }).options.map(
      (o) => o.text.text,
    );
    assert.ok(
      labels.some((l) => l.includes('readonly')),
      labels.join(', '),
    );
    assert.ok(labels.some((l) => l.includes('readwrite')));
    const forBob = await slack.interaction(
      blockSuggestionPayload({
        userId: uid('bob'),
        actionId: ACTIONS.access,
        blockId: BLOCKS.access,
        value: '',
      }),
    );
    assert.deepEqual((forBob.json as { options: unknown[] }).options, [], 'bob may request nothing');

    const help = await slack.command({ command: '/grantflow', text: 'help', user_id: uid('alice') });
    assert.match(help.body, /grantflow list/);
  });

  it('answers bad input inline, naming the field', async () => {
    const base = { flow: 'auto-read', permission: 'readonly', reason: '', viewId: 'VBAD1' };
    const notDuration = await submitRequest('alice', { ...base, duration: 'soon' });
    assert.equal((notDuration.json as { response_action: string }).response_action, 'errors');
    assert.ok((notDuration.json as { errors: Record<string, string> }).errors[BLOCKS.duration]);
    const tooLong = await submitRequest('alice', { ...base, duration: '2h' });
    assert.match(
      (tooLong.json as { errors: Record<string, string> }).errors[BLOCKS.duration],
      /maximum|at most|exceed/i,
    );
    const noReason = await submitRequest('alice', {
      ...base,
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '',
    });
    assert.ok((noReason.json as { errors: Record<string, string> }).errors[BLOCKS.reason]);
    assert.equal((await requestsOf('alice')).length, 0, 'nothing was created');
  });

  it('grants an auto-approved request from the modal, once despite a retry, and revokes from the button', async () => {
    const request = await newRequest('alice', {
      flow: 'auto-read',
      permission: 'readonly',
      duration: '40s',
      reason: 'incident',
      viewId: 'VAUTO1',
    });
    const retried = await submitRequest(
      'alice',
      { flow: 'auto-read', permission: 'readonly', duration: '40s', reason: 'incident', viewId: 'VAUTO1' },
      1,
    );
    assert.equal(retried.status, 200);
    await h.waitFor(request.id, 'ACTIVE', 15_000);
    assert.equal((await requestsOf('alice')).length, 1, 'the retried submission opened no second request');
    assert.equal(await h.canRead('alice'), true);

    const dm = fake.dmFor(uid('alice'));
    const granted = await until('the grant confirmation', () =>
      fake.messages(dm).find((m) => textOf(m).includes(ACTIONS.revoke) && textOf(m).includes(request.id)),
    );
    assert.match(textOf(granted), /readonly/);
    const res = await slack.interaction(
      blockActionPayload({
        userId: uid('alice'),
        actionId: ACTIONS.revoke,
        value: request.id,
        channelId: dm,
        messageTs: granted.ts,
      }),
    );
    assert.equal(res.status, 200);
    await h.waitFor(request.id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false);
    await until('the final message', () => fake.messages(dm).some((m) => /revoked/i.test(textOf(m))));
  });

  it('posts to the channel and DMs approvers; an approve click decides once and updates every copy', async () => {
    const request = await newRequest('erin', {
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '30s',
      reason: 'fix a row',
      viewId: 'VAPP1',
    });
    const copies = await until('approver messages', () => {
      const found = approverMessages(request.id);
      return found.length >= 4 ? found : undefined;
    });
    const channels = copies.map((m) => m.channel).sort();
    assert.ok(channels.includes('CAPPROVALS'));
    for (const p of ['bob', 'carol', 'dave']) assert.ok(channels.includes(fake.dmFor(uid(p))), p);
    const first = copies.find((m) => m.channel === 'CAPPROVALS')!;
    assert.ok(hasButtons(first));
    for (const who of ['erin', 'fix a row', 'readwrite']) assert.match(textOf(first), new RegExp(who));

    const click = blockActionPayload({
      userId: uid('bob'),
      actionId: ACTIONS.approve,
      value: request.id,
      channelId: 'CAPPROVALS',
      messageTs: first.ts,
      actionTs: '1800000000.000001',
    });
    await slack.interaction(click);
    await slack.interaction(click, { retryNum: 1, retryReason: 'http_timeout' });
    await h.waitFor(request.id, 'ACTIVE', 15_000);
    const approvals = (await h.store.listAudit({ requestId: request.id })).filter(
      (r) => r.type === 'request.approval',
    );
    assert.equal(approvals.length, 1, 'the redelivered click decided nothing more');
    await until('every copy updated', () =>
      approverMessages(request.id).every((m) => !hasButtons(m) && textOf(m).includes('bob@example.com')),
    );
    assert.equal(await h.canWrite('erin'), true);

    // Extend from the requester's message: a dialog asks how long.
    const dm = fake.dmFor(uid('erin'));
    const active = await until('the requester message', () =>
      fake.messages(dm).find((m) => textOf(m).includes(ACTIONS.extend)),
    );
    await slack.interaction(
      blockActionPayload({
        userId: uid('erin'),
        actionId: ACTIONS.extend,
        value: request.id,
        channelId: dm,
        messageTs: active.ts,
        triggerId: fake.issueTrigger(),
      }),
    );
    const dialog = await until('the extend dialog', () =>
      fake.views.find((v) => v.view.callback_id === CALLBACKS.extend),
    );
    const before = (await h.waitFor(request.id, 'ACTIVE')).expiresAt!;
    const res = await slack.interaction(
      viewSubmissionPayload({
        userId: uid('erin'),
        callbackId: CALLBACKS.extend,
        viewId: dialog.id,
        privateMetadata: request.id,
        values: { [BLOCKS.extendBy]: { value: plainTextValue('10s') } },
      }),
    );
    assert.equal(res.status, 200, res.body);
    const after = (await h.waitFor(request.id, 'ACTIVE')).expiresAt!;
    assert.equal(Date.parse(after) - Date.parse(before), 10_000);
    await slack.interaction(
      blockActionPayload({
        userId: uid('erin'),
        actionId: ACTIONS.revoke,
        value: request.id,
        channelId: dm,
        messageTs: active.ts,
      }),
    );
    await h.waitFor(request.id, 'REVOKED', 20_000);
  });

  it('refuses a non-approver click and a self-approval click, privately, and audits them', async () => {
    const request = await newRequest('erin', {
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '30s',
      reason: 'refusals',
      viewId: 'VREF1',
    });
    // Clicks come from the approval messages, which exist once the workflow runs.
    await until('approver messages', () => (approverMessages(request.id).length >= 4 ? true : undefined));
    for (const person of ['alice', 'erin']) {
      await slack.interaction(
        blockActionPayload({
          userId: uid(person),
          actionId: ACTIONS.approve,
          value: request.id,
          channelId: 'CAPPROVALS',
          actionTs: `1800000001.00000${person.length}`,
        }),
      );
    }
    const privately = await until('two ephemeral refusals', () => {
      const found = fake.ephemerals.filter((e) => e.text?.includes('Not approved'));
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(privately.map((e) => e.user).sort(), [uid('alice'), uid('erin')]);
    assert.ok(
      privately.some((e) => /own request/.test(e.text ?? '')),
      JSON.stringify(privately.map((e) => e.text)),
    );
    assert.ok(
      privately.some((e) => /not an approver/.test(e.text ?? '')),
      JSON.stringify(privately.map((e) => e.text)),
    );
    const rejected = (await h.store.listAudit({ requestId: request.id })).filter(
      (r) => r.type === 'request.action_rejected',
    );
    assert.equal(rejected.length, 2);
    assert.equal((await h.waitFor(request.id, 'PENDING_APPROVAL')).approvals.length, 0);

    // Deny asks why, then denies; every copy shows it.
    await slack.interaction(
      blockActionPayload({
        userId: uid('carol'),
        actionId: ACTIONS.deny,
        value: request.id,
        channelId: 'CAPPROVALS',
        triggerId: fake.issueTrigger(),
      }),
    );
    const dialog = await until('the deny dialog', () =>
      fake.views.find(
        (v) => v.view.callback_id === CALLBACKS.denyReason && v.view.private_metadata === request.id,
      ),
    );
    await slack.interaction(
      viewSubmissionPayload({
        userId: uid('carol'),
        callbackId: CALLBACKS.denyReason,
        viewId: dialog.id,
        privateMetadata: request.id,
        values: { [BLOCKS.denyReason]: { value: plainTextValue('change freeze') } },
      }),
    );
    const denied = await h.waitFor(request.id, 'DENIED');
    assert.equal(denied.denial?.comment, 'change freeze');
    await until('copies show the denial', () =>
      approverMessages(request.id).every((m) => !hasButtons(m) && textOf(m).includes('change freeze')),
    );
  });

  it('updates the Slack messages when the decision comes from the CLI', async () => {
    const request = await newRequest('erin', {
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '20s',
      reason: 'cli decides',
      viewId: 'VCLI1',
    });
    await until('approver messages', () => (approverMessages(request.id).length >= 4 ? true : undefined));
    await decideRequest(h.ctx, h.actor('carol', 'cli'), request.id, 'approve');
    await until('copies show carol', () =>
      approverMessages(request.id).every((m) => !hasButtons(m) && textOf(m).includes('carol@example.com')),
    );
    await h.waitFor(request.id, 'ACTIVE', 15_000);
  });

  it('sends approvers of a step-up flow to the portal, and refuses a decision from chat', async () => {
    const request = await newRequest('alice', {
      flow: 'step-up-write',
      permission: 'readwrite',
      duration: '',
      reason: '',
      viewId: 'VSTEP1',
    });
    const copies = await until('approver messages', () => {
      const found = approverMessages(request.id);
      return found.length >= 4 ? found : undefined;
    });
    for (const m of copies) {
      assert.ok(!hasButtons(m), 'no Approve button');
      assert.match(textOf(m), new RegExp(`/requests/${request.id}`), 'a link to the portal');
    }
    // A crafted click (the button is not there) is refused by the workflow itself.
    await slack.interaction(
      blockActionPayload({
        userId: uid('bob'),
        actionId: ACTIONS.approve,
        value: request.id,
        channelId: 'CAPPROVALS',
        actionTs: '1800000005.000001',
      }),
    );
    const refusal = await until('the refusal', () =>
      fake.ephemerals.find((e) => e.user === uid('bob') && /step-up/.test(e.text ?? '')),
    );
    assert.match(refusal.text!, /portal/);
    assert.equal((await h.waitFor(request.id, 'PENDING_APPROVAL')).approvals.length, 0);
    await decideRequest(h.ctx, h.actor('bob', 'portal'), request.id, 'approve');
    await h.waitFor(request.id, 'ACTIVE', 15_000);
  });

  it('warns about flow channels the bot is not in, or that do not exist', async () => {
    const slackWarnings = async () => {
      const probe = routingProbe({ slack: await api.slack!.connection.client(), teamsAppId: undefined });
      return (await routingWarnings(h.config, probe)).filter((w) => w.platform === 'slack');
    };
    assert.deepEqual(await slackWarnings(), []);
    fake.setMember('CAPPROVALS', false);
    try {
      const problems = await slackWarnings();
      assert.equal(problems.length, 1);
      assert.equal(problems[0].problem, 'not_in_channel');
      assert.equal(problems[0].channel, 'CAPPROVALS');
      assert.ok(problems[0].flows.includes('approved-write'));
      assert.match(problems[0].message, /invite it/);
    } finally {
      fake.setMember('CAPPROVALS', true);
    }
    const unknownChannel = {
      ...h.config,
      flows: [{ ...h.config.flows[0]!, notify: [{ platform: 'slack' as const, channel: 'CNOSUCH' }] }],
    };
    const probe = routingProbe({ slack: await api.slack!.connection.client(), teamsAppId: undefined });
    const [missing] = await routingWarnings(unknownChannel, probe);
    assert.equal(missing?.problem, 'channel_not_found');
  });

  it('maps a Slack user by email only where the config allows it', async () => {
    fake.addUser({ id: 'UMAILONLY', name: 'dave2', email: 'dave@example.com' });
    const client = () => api.slack!.connection.client();
    const strict = new SlackDirectory(
      () => h.config,
      client,
      () => false,
    );
    assert.equal(await strict.identityFor('UMAILONLY'), undefined);
    const byEmail = new SlackDirectory(
      () => h.config,
      client,
      () => true,
    );
    assert.equal((await byEmail.identityFor('UMAILONLY'))?.email, 'dave@example.com');
    assert.equal((await byEmail.identityFor(uid('bob')))?.email, 'bob@example.com', 'configured ids first');
  });

  it('tells an unknown Slack user privately who to ask', async () => {
    const res = await slack.command({
      command: '/grantflow',
      text: '',
      user_id: 'UNOBODY',
      trigger_id: fake.issueTrigger(),
    });
    assert.equal(res.status, 200);
    assert.match(res.body, /does not know your Slack account/);
    assert.match(res.body, /ephemeral/);
  });

  it('guides a request step by step by direct message, with its state in the database', async () => {
    const dm = fake.dmFor(uid('alice'));
    await slack.event(messageImEvent({ userId: uid('alice'), channel: dm, text: 'request' }));
    await until('the access question', () =>
      fake.messages(dm).find((m) => textOf(m).includes('What do you need access to')),
    );
    assert.deepEqual(await h.store.getConversation('slack', uid('alice')), {
      step: 'access',
      lastEventTs: (await h.store.getConversation('slack', uid('alice')))?.lastEventTs,
    });

    const select = blockActionPayload({
      userId: uid('alice'),
      actionId: ACTIONS.access,
      value: '',
      channelId: dm,
    });
    (select.actions as Record<string, unknown>[])[0] = {
      type: 'external_select',
      action_id: ACTIONS.access,
      block_id: BLOCKS.access,
      selected_option: {
        value: encodeChoice({ flow: 'approved-write', resource: 'db', permission: 'readwrite' }),
        text: { type: 'plain_text', text: 'db' },
      },
      action_ts: '1800000002.000001',
    };
    await slack.interaction(select);
    const question = await until('the duration question', () =>
      fake.messages(dm).find((m) => textOf(m).includes(ACTIONS.dmDuration)),
    );
    const button = JSON.stringify(question.blocks).match(
      new RegExp(`"action_id":"(${ACTIONS.dmDuration}_\\d+)","value":"(\\d+)"`),
    )!;
    await slack.interaction(
      blockActionPayload({ userId: uid('alice'), actionId: button[1], value: button[2], channelId: dm }),
    );
    await until('the reason question', () =>
      fake.messages(dm).find((m) => textOf(m).includes('Why do you need it')),
    );

    const reason = messageImEvent({
      userId: uid('alice'),
      channel: dm,
      text: 'rotate keys',
      ts: '1800000003.000100',
    });
    await slack.event(reason, { eventId: 'Ev1' });
    await slack.event(reason, { eventId: 'Ev1', retryNum: 1, retryReason: 'http_timeout' });
    const request = await until('the DM request', async () =>
      (await requestsOf('alice')).find((r) => r.reason === 'rotate keys'),
    );
    assert.equal(request.flow, 'approved-write');
    assert.equal(request.durationMs, Number(button[2]));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      (await requestsOf('alice')).filter((r) => r.reason === 'rotate keys').length,
      1,
      'a redelivered message opens nothing twice',
    );
    assert.equal(
      await h.store.getConversation('slack', uid('alice')),
      undefined,
      'the conversation is finished',
    );
  });

  it('shows App Home with requests waiting for my approval', async () => {
    const request = await newRequest('erin', {
      flow: 'approved-write',
      permission: 'readwrite',
      duration: '20s',
      reason: 'home',
      viewId: 'VHOME1',
    });
    await h.waitFor(request.id, 'PENDING_APPROVAL');
    await slack.event(appHomeOpenedEvent(uid('bob')));
    const home = await until('the home view', () =>
      fake.views.find(
        (v) =>
          v.method === 'views.publish' &&
          v.userId === uid('bob') &&
          JSON.stringify(v.view).includes(request.id),
      ),
    );
    assert.match(JSON.stringify(home.view), /Waiting for your approval/);
  });
});
