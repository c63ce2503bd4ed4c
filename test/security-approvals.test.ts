/**
 * Security regressions for decisions, on the real stack (Temporal dev server, API server with Bolt and botbuilder,
 * the built CLI): self-approval refused on every path a decision can take (Slack, Teams, portal, API token, CLI in
 * operator and API mode, a raw `approve` signal, the `decide` update), non-approvers refused, and every refusal
 * audited with its actor and channel; Slack's signature, timestamp window and replays; Teams' JWT checks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ACTIONS } from '../chat-adapters/slack/ids';
import { VERBS } from '../chat-adapters/teams/ids';
import type { TeamsSettings } from '../chat-adapters/teams/settings';
import { createRequest } from '../core/create-request';
import { createMetrics } from '../core/metrics';
import { cancelRequest, getRequest } from '../core/request-actions';
import { issueToken } from '../core/tokens';
import { hashSessionId } from '../server/auth/sessions';
import { startApiServer, type ApiServer } from '../server/start';
import type { AuditRow } from '../store/types';
import { approveSignal, decideUpdate, workflowIdFor } from '../workflows/definitions';
import { startFakeBotAuth, type FakeBotAuth } from './fakes/bot-auth';
import { startFakeConnector, type FakeConnector } from './fakes/bot-connector';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { createHarness, type Harness } from './helpers/harness';
import { runCli } from './helpers/run-cli';
import { blockActionPayload, createSlackSender, type SlackSender } from './helpers/slack-requests';
import {
  adaptiveCardInvoke,
  createTeamsSender,
  teamsUser,
  TEST_APP_ID,
  type TeamsSender,
  type TeamsUser,
} from './helpers/teams-activities';
import { TestCredentialsFactory } from './helpers/teams-credentials';
import { until } from './helpers/until';
import { testLog } from './setup/stack';

const SLACK_TOKEN = 'xoxb-security-test';
const SIGNING_SECRET = 'security-signing-secret';
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
type Person = (typeof PEOPLE)[number];
const uid = (p: Person) => `U${p.toUpperCase()}`;
const users = Object.fromEntries(PEOPLE.map((p) => [p, teamsUser(p, `${p}@example.com`)])) as Record<
  Person,
  TeamsUser
>;
const FORM = 'application/x-www-form-urlencoded';

/**
 * Slack and Teams ids for everyone, Slack pointed at the fake, and a flow alice may both request and approve
 * (approvers alice and bob): the requester-is-an-approver case every path must refuse.
 */
function securityConfig(yaml: string, slackApiUrl: string): string {
  const out = yaml
    .replace(/( {2}- email: (\w+)@example\.com\n {4}groups: .*\n {4}accounts: .*)/g, (all, _l, p: string) =>
      (PEOPLE as readonly string[]).includes(p)
        ? `${all}\n    slack: { userId: ${uid(p as Person)} }\n    teams: { aadObjectId: ${users[p as Person].aadObjectId} }`
        : all,
    )
    .replace(
      'flows:\n',
      `flows:
  - name: self-approvable
    requesters: { groups: [engineering] }
    resources: [{ name: db, permissions: [readwrite] }]
    approvers: { users: [alice@example.com, bob@example.com] }
    requiredApprovals: 1
    defaultDuration: 3s
    maxDuration: 1m
    approvalTimeout: 1m
    requireJustification: false
`,
    );
  return `${out}\nslack:\n  botToken: \${GF_SEC_SLACK_TOKEN}\n  signingSecret: \${GF_SEC_SLACK_SECRET}\n  apiUrl: ${slackApiUrl}\n`;
}

describe('security: decisions on every channel', function () {
  this.timeout(120_000);
  let fake: FakeSlack;
  let auth: FakeBotAuth;
  let connector: FakeConnector;
  let h: Harness;
  let api: ApiServer;
  let slack: SlackSender;
  let teams: TeamsSender;
  let cliEnv: NodeJS.ProcessEnv;
  let cwd: string;
  const tokens: Partial<Record<Person, string>> = {};

  before(async () => {
    fake = await startFakeSlack({
      token: SLACK_TOKEN,
      users: PEOPLE.map((p) => ({ id: uid(p), name: p, email: `${p}@example.com` })),
    });
    fake.addChannel('CAPPROVALS');
    auth = await startFakeBotAuth();
    connector = await startFakeConnector({
      members: PEOPLE.map((p) => ({ ...users[p], name: p })),
    });
    process.env.GF_SEC_SLACK_TOKEN = SLACK_TOKEN;
    process.env.GF_SEC_SLACK_SECRET = SIGNING_SECRET;
    h = await createHarness({ configTransform: (yaml) => securityConfig(yaml, fake.url) });
    const teamsSettings: TeamsSettings = {
      appId: TEST_APP_ID,
      appPassword: 'not-used-by-tests',
      appType: 'MultiTenant',
      openIdMetadataUrl: auth.metadataUrl,
      tokenIssuer: auth.issuer,
      matchUsersByEmail: false,
    };
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
      slackRetries: 0,
      teamsSettings,
      teamsCredentialsFactory: new TestCredentialsFactory(TEST_APP_ID),
    });
    slack = createSlackSender({ url: `${api.url}/slack/events`, signingSecret: SIGNING_SECRET });
    teams = createTeamsSender({ url: `${api.url}/api/messages`, auth, appId: TEST_APP_ID });
    for (const p of ['alice', 'bob', 'carol', 'erin'] as const)
      tokens[p] = (await issueToken(h.ctx, { email: `${p}@example.com`, createdBy: 'test' })).token;
    cwd = mkdtempSync(path.join(os.tmpdir(), 'gf-sec-'));
    const configFile = path.join(cwd, 'grantflow.yaml');
    writeFileSync(configFile, h.configYaml);
    cliEnv = {
      ...process.env,
      ...h.configEnv,
      GRANTFLOW_CONFIG: configFile,
      GRANTFLOW_DATA_DIR: path.dirname(h.storeFile!),
      TEMPORAL_ADDRESS: h.temporal.address,
      TEMPORAL_NAMESPACE: h.temporal.namespace,
      GRANTFLOW_LOG_PRETTY: '0',
    };
  });
  after(async () => {
    await api?.close();
    await h?.close();
    await connector?.close();
    await auth?.close();
    await fake?.close();
  });

  /** Requests each test made: those still pending are withdrawn after it, so the next one starts afresh. */
  const made: { id: string; requester: Person }[] = [];
  afterEach(async () => {
    for (const { id, requester } of made.splice(0))
      await cancelRequest(h.ctx, h.actor(requester), id).catch(() => undefined);
  });

  async function newRequest(person: Person, flow: string): Promise<string> {
    const { request, existing } = await createRequest(h.ctx, h.actor(person, 'api'), {
      flow,
      resource: 'db',
      permission: 'readwrite',
      reason: 'security test',
    });
    assert.equal(existing, false, 'a new request');
    made.push({ id: request.id, requester: person });
    await h.waitFor(request.id, 'PENDING_APPROVAL');
    return request.id;
  }

  async function apiCall(
    method: string,
    urlPath: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    const res = await fetch(`${api.url}${urlPath}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }
  const bearer = (p: Person) => ({ authorization: `Bearer ${tokens[p]}` });

  /** A portal session as the OpenID login makes one: the cookie and its CSRF token. */
  async function portalSession(p: Person): Promise<Record<string, string>> {
    const value = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const now = new Date();
    await h.store.createSession({
      idHash: hashSessionId(value),
      email: `${p}@example.com`,
      csrfToken,
      authTime: now.toISOString(),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
      lastSeenAt: now.toISOString(),
    });
    return { cookie: `gf_session=${value}`, 'x-csrf-token': csrfToken };
  }

  const slackClick = (p: Person, id: string, actionTs?: string) =>
    blockActionPayload({
      userId: uid(p),
      actionId: ACTIONS.approve,
      value: id,
      channelId: 'CAPPROVALS',
      ...(actionTs ? { actionTs } : {}),
    });
  const teamsApprove = (p: Person, id: string) =>
    adaptiveCardInvoke({
      user: users[p],
      serviceUrl: connector.serviceUrl,
      verb: VERBS.approve,
      data: { requestId: id },
    });
  const invokeText = (res: { json?: unknown }) => String((res.json as { value?: unknown })?.value ?? '');
  const audit = async (id: string, type: string): Promise<AuditRow[]> =>
    (await h.store.listAudit({ requestId: id })).filter((r) => r.type === type);
  const handle = (id: string) => h.ctx.client.workflow.getHandle(workflowIdFor(id));

  it('refuses alice approving her own request on all eight paths, audits each refusal, then takes bob', async () => {
    const id = await newRequest('alice', 'self-approvable');
    const before = await getRequest(h.ctx, id);
    assert.ok(before.approvers.includes('alice@example.com'), 'alice is an approver of the flow');
    const ephemeralsBefore = fake.ephemerals.length;

    // Slack: a correctly signed Approve click from alice's own Slack account.
    const slackRes = await slack.interaction(slackClick('alice', id, '1800000100.000001'));
    assert.equal(slackRes.status, 200, slackRes.body);
    const told = await until('the private Slack refusal', () =>
      fake.ephemerals.slice(ephemeralsBefore).find((e) => e.user === uid('alice')),
    );
    assert.match(told.text ?? '', /own request/);

    // Teams: Action.Execute with a valid channel JWT.
    const teamsRes = await teams.send(teamsApprove('alice', id));
    assert.equal(teamsRes.status, 200, teamsRes.body);
    assert.match(invokeText(teamsRes), /own request/);

    // Portal: session cookie plus CSRF token.
    const portal = await apiCall('POST', `/api/v1/requests/${id}/approve`, {}, await portalSession('alice'));
    assert.equal(portal.status, 409, portal.text);
    assert.match(portal.text, /own request/);

    // HTTP API: Bearer token.
    const byToken = await apiCall('POST', `/api/v1/requests/${id}/approve`, {}, bearer('alice'));
    assert.equal(byToken.status, 409, byToken.text);
    assert.match(byToken.text, /own request/);

    // CLI, operator mode (config file and Temporal), then API mode (only a URL and alice's token).
    const operator = await runCli(['--as', 'alice@example.com', 'approve', id], { env: cliEnv });
    assert.equal(operator.code, 5, operator.stderr);
    assert.match(operator.stderr, /own request/);
    const apiMode = await runCli(['approve', id], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: cwd,
        GRANTFLOW_API_URL: api.url,
        GRANTFLOW_TOKEN: tokens.alice,
      },
      cwd,
    });
    assert.equal(apiMode.code, 5, apiMode.stderr);
    assert.match(apiMode.stderr, /own request/);

    // Temporal directly: the documented approve signal (also with the email in other case), and the update.
    await handle(id).signal(approveSignal, { approver: 'alice@example.com' });
    await handle(id).signal(approveSignal, { approver: 'Alice@Example.COM', comment: 'case games' });
    await assert.rejects(
      handle(id).executeUpdate(decideUpdate, {
        args: [{ approver: 'alice@example.com', decision: 'approve', channel: 'temporal' }],
      }),
      (err: unknown) =>
        err instanceof WorkflowUpdateFailedError && /own request/.test(err.cause?.message ?? ''),
    );

    // Every refusal that reached a use case or the workflow is in the audit log, with its channel.
    const rejectedSignals = await until('the two refused signals in the audit log', async () => {
      const rows = await audit(id, 'request.decision_rejected');
      return rows.length >= 2 ? rows : undefined;
    });
    assert.deepEqual(
      rejectedSignals.map((r) => [r.actor.toLowerCase(), r.channel]),
      [
        ['alice@example.com', 'temporal'],
        ['alice@example.com', 'temporal'],
      ],
    );
    const rejectedActions = await audit(id, 'request.action_rejected');
    assert.deepEqual(
      rejectedActions.map((r) => r.channel).sort(),
      ['api', 'api', 'cli', 'portal', 'slack', 'teams'],
      JSON.stringify(rejectedActions.map((r) => [r.actor, r.channel])),
    );
    assert.ok(rejectedActions.every((r) => r.actor === 'alice@example.com'));
    assert.ok(
      rejectedActions.every((r) => /own request/.test(String(r.details.reason))),
      JSON.stringify(rejectedActions.map((r) => r.details.reason)),
    );

    const pending = await getRequest(h.ctx, id);
    assert.equal(pending.status, 'PENDING_APPROVAL');
    assert.deepEqual(pending.approvals, []);
    assert.deepEqual(await audit(id, 'request.approval'), []);

    // A legitimate approver still decides.
    const bob = await apiCall('POST', `/api/v1/requests/${id}/approve`, {}, bearer('bob'));
    assert.equal(bob.status, 200, bob.text);
    const active = await h.waitFor(id, 'ACTIVE', 15_000);
    assert.deepEqual(
      active.approvals.map((a) => a.approver),
      ['bob@example.com'],
    );
    const approvals = await audit(id, 'request.approval');
    assert.deepEqual(
      approvals.map((r) => [r.actor, r.channel]),
      [['bob@example.com', 'api']],
    );
  });

  it('refuses non-approvers by API, Slack, Teams and raw signal, auditing actor and channel', async () => {
    const id = await newRequest('alice', 'self-approvable');

    // carol is an admin (she may see the request) but not an approver of this flow.
    const byCarol = await apiCall('POST', `/api/v1/requests/${id}/approve`, {}, bearer('carol'));
    assert.equal(byCarol.status, 409, byCarol.text);
    assert.match(byCarol.text, /not an approver/);

    const ephemeralsBefore = fake.ephemerals.length;
    const slackRes = await slack.interaction(slackClick('erin', id, '1800000200.000001'));
    assert.equal(slackRes.status, 200, slackRes.body);
    const told = await until('the private Slack refusal', () =>
      fake.ephemerals.slice(ephemeralsBefore).find((e) => e.user === uid('erin')),
    );
    assert.match(told.text ?? '', /not an approver/);

    // dave approves other flows (group dba) but not this one.
    const teamsRes = await teams.send(teamsApprove('dave', id));
    assert.equal(teamsRes.status, 200, teamsRes.body);
    assert.match(invokeText(teamsRes), /not an approver/);

    await handle(id).signal(approveSignal, { approver: 'erin@example.com' });
    const bySignal = await until('the refused signal in the audit log', async () =>
      (await audit(id, 'request.decision_rejected')).find((r) => r.actor === 'erin@example.com'),
    );
    assert.equal(bySignal.channel, 'temporal');
    assert.match(String(bySignal.details.reason), /not an approver/);

    const rejected = await audit(id, 'request.action_rejected');
    assert.deepEqual(rejected.map((r) => `${r.actor} ${r.channel}`).sort(), [
      'carol@example.com api',
      'dave@example.com teams',
      'erin@example.com slack',
    ]);
    for (const r of rejected) assert.match(String(r.details.reason), /not an approver/);
    const pending = await getRequest(h.ctx, id);
    assert.equal(pending.status, 'PENDING_APPROVAL');
    assert.deepEqual(pending.approvals, []);
  });

  it("audits a stranger's API approval of a request they may not see, while answering 404", async () => {
    const id = await newRequest('alice', 'self-approvable');
    // erin may not see alice's request: the API answers as if it did not exist (learns nothing)…
    const res = await apiCall('POST', `/api/v1/requests/${id}/approve`, {}, bearer('erin'));
    assert.equal(res.status, 404, res.text);
    assert.equal((await getRequest(h.ctx, id)).approvals.length, 0);
    // …but the attempt on a real request must still be on the record, like every other refused decision.
    const rows = await h.store.listAudit({ requestId: id, actor: 'erin@example.com' });
    assert.deepEqual(
      rows.map((r) => `${r.type} ${r.channel}`),
      ['request.action_rejected api'],
      'the refused API decision by a stranger is audited with actor and channel',
    );
  });

  describe('security: Slack request authenticity', () => {
    const nowSec = () => Math.floor(Date.now() / 1000);
    const form = (payload: object) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

    it('refuses a forged signature and a stale timestamp with 401, and neither decides', async () => {
      const id = await newRequest('erin', 'two-of-three');
      const forged = await slack.interaction(slackClick('bob', id), { forgeSignature: true });
      assert.equal(forged.status, 401);
      const stale = await slack.interaction(slackClick('bob', id), { timestamp: nowSec() - 6 * 60 });
      assert.equal(stale.status, 401);
      // Stale by far more, and a missing timestamp, too.
      assert.equal((await slack.interaction(slackClick('bob', id), { timestamp: 1 })).status, 401);
      const body = form(slackClick('bob', id));
      const noTimestamp = await fetch(`${api.url}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': FORM, 'x-slack-signature': 'v0=00' },
        body,
      });
      assert.equal(noTimestamp.status, 401);
      const view = await getRequest(h.ctx, id);
      assert.equal(view.status, 'PENDING_APPROVAL');
      assert.deepEqual(view.approvals, []);
      assert.deepEqual(await audit(id, 'request.action_rejected'), [], 'nothing reached the workflow');
    });

    it('decides once for a replayed signed click and for its Slack retry', async () => {
      const id = await newRequest('erin', 'two-of-three');
      const body = form(slackClick('bob', id));
      const timestamp = nowSec();
      // The very same bytes three times: same body, same timestamp, hence the same signature.
      const first = await slack.raw(body, FORM, { timestamp });
      const replay = await slack.raw(body, FORM, { timestamp });
      const retry = await slack.raw(body, FORM, { timestamp, retryNum: 1, retryReason: 'http_timeout' });
      for (const r of [first, replay, retry]) assert.ok(r.status < 500, `${r.status} ${r.body}`);
      await until('bob’s approval', async () => (await audit(id, 'request.approval')).length > 0);
      // Let every delivery finish: each is answered before its update runs.
      await until('the three deliveries to settle', async () => {
        const view = await getRequest(h.ctx, id);
        return view.approvals.length === 1 || undefined;
      });
      await new Promise((r) => setTimeout(r, 500));
      const approvals = await audit(id, 'request.approval');
      assert.deepEqual(
        approvals.map((r) => r.actor),
        ['bob@example.com'],
        'one request.approval row for bob',
      );
      const view = await getRequest(h.ctx, id);
      assert.equal(view.status, 'PENDING_APPROVAL', 'two approvals are needed; a replay is not a second one');
      assert.deepEqual(
        view.approvals.map((a) => a.approver),
        ['bob@example.com'],
      );
      // The repeats were recognised as the same click (its update id), not refused as a second approval.
      assert.deepEqual(await audit(id, 'request.action_rejected'), []);
    });

    it('refuses a signed request whose timestamp is far in the future', async () => {
      const id = await newRequest('erin', 'two-of-three');
      // Signed correctly, but dated an hour ahead: a request captured from such a sender could be replayed
      // for an hour, and Slack never sends one. It must be outside the same 5-minute window as a stale one.
      const res = await slack.interaction(slackClick('carol', id), { timestamp: nowSec() + 3600 });
      let approvedBy: string[] = [];
      if (res.status !== 401) {
        // Accepted: see what it did before failing, to report it.
        approvedBy = await until(
          'the consequence of the accepted request',
          async () => {
            const rows = await audit(id, 'request.approval');
            return rows.length > 0 ? rows.map((r) => r.actor) : undefined;
          },
          5_000,
        ).catch(() => []);
      }
      assert.equal(
        res.status,
        401,
        `a request dated an hour ahead was accepted (${res.status}); approvals it recorded: ${JSON.stringify(approvedBy)}`,
      );
      assert.deepEqual((await getRequest(h.ctx, id)).approvals, []);
    });
  });

  describe('security: Teams token checks', () => {
    it('answers 401 to bad, expired, misaddressed, unknown-key, wrong-issuer and wrong-serviceUrl tokens; none decides', async () => {
      const id = await newRequest('erin', 'two-of-three');
      const serviceUrl = connector.serviceUrl;
      const mint = (o: Partial<Parameters<FakeBotAuth['mintToken']>[0]>) =>
        auth.mintToken({ audience: TEST_APP_ID, serviceUrl, ...o });
      const cases: [string, string | null][] = [
        ['no token', null],
        ['garbage', 'not-a-jwt'],
        ['garbage with dots', 'eyJhbGciOiJub25lIn0.e30.'],
        ['expired', mint({ expiresInSec: -3600 })],
        ['wrong audience', mint({ audience: 'someone-else' })],
        ['unknown signing key', mint({ signWith: 'unknown-key' })],
        ['wrong issuer', mint({ issuer: 'https://issuer.evil.example' })],
        ['serviceurl claim for another service', mint({ serviceUrl: 'https://smba.evil.example/teams/' })],
      ];
      // botbuilder prints each rejected token to console.error: keep the test output clean.
      const printed = console.error;
      console.error = () => undefined;
      try {
        for (const [name, token] of cases) {
          // A fresh activity each time, so that no update id is shared between attempts.
          const res = await teams.send(teamsApprove('bob', id), { token });
          assert.equal(res.status, 401, `${name}: ${res.status} ${res.body}`);
        }
      } finally {
        console.error = printed;
      }
      const view = await getRequest(h.ctx, id);
      assert.deepEqual(view.approvals, []);
      assert.deepEqual(await audit(id, 'request.approval'), []);
      assert.deepEqual(await audit(id, 'request.action_rejected'), [], 'nothing reached the workflow');

      // The same click with a good token counts: the refusals above were the tokens'.
      const ok = await teams.send(teamsApprove('bob', id));
      assert.equal(ok.status, 200, ok.body);
      assert.match(invokeText(ok), /Approved/);
      assert.deepEqual(
        (await getRequest(h.ctx, id)).approvals.map((a) => a.approver),
        ['bob@example.com'],
      );
    });
  });
});
