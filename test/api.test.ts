/**
 * The HTTP API (/api/v1) over real HTTP, authenticated with API tokens: each role (requester, approver, admin)
 * and a refusal for each; bad input names the field; refused actions are audited.
 */
import { workflowIdFor } from '../workflows/definitions';
import { until } from './helpers/until';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createMetrics } from '../core/metrics';
import { getRequest } from '../core/request-actions';
import { issueToken } from '../core/tokens';
import { hashSessionId } from '../server/auth/sessions';
import { startApiServer, type ApiServer } from '../server/start';
import { createHarness, type Harness } from './helpers/harness';
import { testLog } from './setup/stack';

describe('HTTP API /api/v1', function () {
  this.timeout(120_000);
  let h: Harness;
  let api: ApiServer;
  const tokens: Record<string, string> = {};

  before(async () => {
    // One flow with step-up: decisions need a recent portal login (settings.stepUpMaxAge), never an API token.
    h = await createHarness({
      configTransform: (yaml) =>
        yaml.replace('revokeMaxBackoff: 1s', 'revokeMaxBackoff: 1s\n  stepUpMaxAge: 1m').replace(
          'flows:\n',
          `flows:
  - name: step-up-write
    requesters: { groups: [engineering] }
    resources: [{ name: db, permissions: [readwrite] }]
    approvers: { groups: [dba] }
    defaultDuration: 3s
    maxDuration: 1m
    approvalTimeout: 1m
    requireJustification: false
    stepUp: true
`,
        ),
    });
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
      temporalUiUrl: 'http://127.0.0.1:8233/',
    });
    for (const p of ['alice', 'bob', 'carol', 'erin'])
      tokens[p] = (await issueToken(h.ctx, { email: `${p}@example.com`, createdBy: 'test' })).token;
  });
  after(async () => {
    await api?.close();
    await h?.close();
  });

  async function call(
    person: string | null,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        ...(person ? { authorization: `Bearer ${tokens[person] ?? person}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      status: res.status,
      text,
      json: json as Record<string, unknown> & { error?: { code: string; field?: string; message: string } },
    };
  }

  it('refuses calls without a valid token', async () => {
    assert.equal((await call(null, 'GET', '/api/v1/me')).status, 401);
    assert.equal((await call('gft_not-a-real-token', 'GET', '/api/v1/me')).status, 401);
    const me = await call('carol', 'GET', '/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.json.email, 'carol@example.com');
    assert.equal(me.json.admin, true);
    assert.equal((await call('alice', 'GET', '/api/v1/me')).json.admin, false);
  });

  it('says what I may request and who approves', async () => {
    const flows = await call('alice', 'GET', '/api/v1/flows');
    assert.equal(flows.status, 200);
    assert.match(flows.text, /approved-write/);
    assert.match(flows.text, /bob@example.com/);
  });

  it('creates a request, names the field of bad input, and returns the existing one for a repeated key', async () => {
    const bad = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      duration: 'soon',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error?.field, 'duration');
    const refused = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readwrite',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error?.code, 'request_refused');
    assert.equal(refused.json.error?.field, 'permission');
    const body = {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'api',
      idempotencyKey: 'k1',
    };
    const made = await call('alice', 'POST', '/api/v1/requests', body);
    assert.equal(made.status, 201, made.text);
    const again = await call('alice', 'POST', '/api/v1/requests', body);
    assert.equal(again.status, 200);
    assert.equal((again.json.request as { id: string }).id, (made.json.request as { id: string }).id);
    await call('alice', 'POST', `/api/v1/requests/${(made.json.request as { id: string }).id}/cancel`, {});
  });

  it('lets an approver approve, refuses self-approval and strangers, and shows the timeline', async () => {
    const made = await call('erin', 'POST', '/api/v1/requests', {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'fix',
      duration: '30s',
    });
    const id = (made.json.request as { id: string }).id;
    await h.waitFor(id, 'PENDING_APPROVAL');

    const approvals = await call('bob', 'GET', '/api/v1/requests?scope=approvals');
    assert.ok((approvals.json as unknown as { id: string }[]).some((r) => r.id === id));
    assert.equal(
      (await call('alice', 'GET', `/api/v1/requests/${id}`)).status,
      404,
      'a stranger learns nothing',
    );
    assert.equal((await call('alice', 'POST', `/api/v1/requests/${id}/approve`, {})).status, 404);
    const self = await call('erin', 'POST', `/api/v1/requests/${id}/approve`, {});
    assert.equal(self.status, 409);
    assert.match(self.json.error?.message ?? '', /own request/);
    const noReason = await call('bob', 'POST', `/api/v1/requests/${id}/deny`, {});
    assert.equal(noReason.status, 400);
    assert.equal(noReason.json.error?.field, 'reason');

    const ok = await call(
      'bob',
      'POST',
      `/api/v1/requests/${id}/approve`,
      { comment: 'go' },
      { 'idempotency-key': 'click-1' },
    );
    assert.equal(ok.status, 200, ok.text);
    const replay = await call(
      'bob',
      'POST',
      `/api/v1/requests/${id}/approve`,
      { comment: 'go' },
      { 'idempotency-key': 'click-1' },
    );
    assert.equal(replay.status, 200, 'a repeated Idempotency-Key returns the first answer');
    await h.waitFor(id, 'ACTIVE', 15_000);
    assert.equal(await h.canWrite('erin'), true);

    const ext = await call('erin', 'POST', `/api/v1/requests/${id}/extend`, { by: '10s' });
    assert.equal(ext.status, 200, ext.text);
    const view = await call('erin', 'GET', `/api/v1/requests/${id}`);
    const types = (view.json.timeline as { type: string }[]).map((t) => t.type);
    for (const t of [
      'request.requested',
      'request.approval',
      'request.granted',
      'request.extended',
      'request.action_rejected',
    ])
      assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
    assert.equal((await call('erin', 'POST', `/api/v1/requests/${id}/revoke`, {})).status, 200);
    await h.waitFor(id, 'REVOKED', 20_000);
    assert.equal(await h.canWrite('erin'), false);
  });

  it('refuses, with 409 and an audit row, a decision on a request whose workflow has finished', async () => {
    const made = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'finished',
    });
    const id = (made.json.request as { id: string }).id;
    await h.waitFor(id, 'PENDING_APPROVAL');
    assert.equal((await call('bob', 'POST', `/api/v1/requests/${id}/deny`, { reason: 'no' })).status, 200);
    const handle = h.ctx.client.workflow.getHandle(workflowIdFor(id));
    await until('the workflow to finish', async () => (await handle.describe()).status.name === 'COMPLETED');
    const late = await call('carol', 'POST', `/api/v1/requests/${id}/approve`, {});
    assert.equal(late.status, 409, late.text);
    assert.match(late.json.error?.message ?? '', /already resolved/);
    const rejected = await h.auditEvent(id, 'request.action_rejected');
    assert.equal(rejected.actor, 'carol@example.com');
  });

  it('describes every /api/v1 route in the OpenAPI document', async () => {
    const doc = await call(null, 'GET', '/api/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.json.openapi, '3.1.0');
    const paths = doc.json.paths as Record<string, Record<string, unknown>>;
    const routes = api.routes.filter((r) => r.url.startsWith('/api/v1/'));
    assert.ok(routes.length >= 12);
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      assert.ok(paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} is documented`);
    }
  });

  it('reports integration health', async () => {
    const health = await call('alice', 'GET', '/api/v1/integrations/health');
    assert.equal(health.status, 200, health.text);
    const db = (health.json.integrations as { name: string; ok: boolean }[]).find((i) => i.name === 'db');
    assert.equal(db?.ok, true);
    assert.deepEqual(health.json.chat, { slack: false, teams: false });
  });

  it('keeps admin views to admins', async () => {
    assert.equal((await call('alice', 'GET', '/api/v1/requests?scope=all')).status, 403);
    assert.equal((await call('alice', 'GET', '/api/v1/audit')).status, 403);
    assert.equal((await call('bob', 'GET', '/api/v1/audit/verify')).status, 403);
    const all = await call('carol', 'GET', '/api/v1/requests?scope=all');
    assert.equal(all.status, 200);
    assert.ok((all.json as unknown as unknown[]).length >= 2);
    const verify = await call('carol', 'GET', '/api/v1/audit/verify');
    assert.equal(verify.json.ok, true);
    const csv = await call('carol', 'GET', '/api/v1/audit?format=csv');
    assert.match(csv.text.split('\n')[0], /^seq,/);
    const jsonl = await call('carol', 'GET', '/api/v1/audit');
    assert.ok(
      jsonl.text
        .trim()
        .split('\n')
        .every((l) => JSON.parse(l).hash),
    );
    assert.equal((await call('carol', 'GET', '/api/v1/audit?since=yesterday')).json.error?.field, 'since');
  });

  it('searches the audit log and lists every flow, for admins only', async () => {
    const made = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'audit search',
    });
    const id = (made.json.request as { id: string }).id;
    await h.waitFor(id, 'PENDING_APPROVAL');
    assert.equal((await call('alice', 'GET', '/api/v1/audit/events')).status, 403);
    assert.equal((await call('bob', 'GET', '/api/v1/admin/flows')).status, 403);
    await h.auditEvent(id, 'request.requested');
    const found = await call('carol', 'GET', `/api/v1/audit/events?requestId=${id}`);
    assert.equal(found.status, 200, found.text);
    const rows = found.json as unknown as { requestId: string; type: string; seq: number; actor: string }[];
    assert.ok(rows.length >= 1 && rows.every((r) => r.requestId === id));
    const byActor = await call('carol', 'GET', `/api/v1/audit/events?actor=alice@example.com&limit=5`);
    const actorRows = byActor.json as unknown as { actor: string; seq: number }[];
    assert.ok(actorRows.length >= 1 && actorRows.length <= 5);
    assert.ok(actorRows.every((r) => r.actor === 'alice@example.com'));
    assert.ok(
      actorRows.every((r, i) => i === 0 || r.seq < actorRows[i - 1].seq),
      'newest first',
    );
    assert.equal((await call('carol', 'GET', '/api/v1/audit/events?limit=0')).json.error?.field, 'limit');

    const flows = await call('carol', 'GET', '/api/v1/admin/flows');
    assert.equal(flows.status, 200, flows.text);
    const write = (
      flows.json as unknown as { name: string; requesters: string[]; approvers: string[] }[]
    ).find((f) => f.name === 'approved-write');
    assert.ok(write?.requesters.includes('alice@example.com'));
    assert.deepEqual([...(write?.approvers ?? [])].sort(), [
      'bob@example.com',
      'carol@example.com',
      'dave@example.com',
    ]);
    await call('alice', 'POST', `/api/v1/requests/${id}/cancel`, {});
  });

  it('says what each caller may do with a request, and links to its workflow', async () => {
    const made = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'actions',
    });
    const id = (made.json.request as { id: string }).id;
    await h.waitFor(id, 'PENDING_APPROVAL');
    const mine = await call('alice', 'GET', `/api/v1/requests/${id}`);
    assert.deepEqual(mine.json.actions, { approve: false, cancel: true, extend: false, revoke: false });
    assert.match(String(mine.json.workflowId), new RegExp(id));
    assert.equal(mine.json.stepUp, false);
    assert.equal(
      mine.json.temporalUrl,
      `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(String(mine.json.workflowId))}`,
    );
    const bobs = await call('bob', 'GET', `/api/v1/requests/${id}`);
    assert.deepEqual(bobs.json.actions, { approve: true, cancel: false, extend: false, revoke: false });
    await call('alice', 'POST', `/api/v1/requests/${id}/cancel`, {});
  });

  it('refuses step-up decisions by API token and by a stale login, and takes them from a fresh login', async () => {
    const made = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'step-up-write',
      resource: 'db',
      permission: 'readwrite',
    });
    const id = (made.json.request as { id: string }).id;
    await h.waitFor(id, 'PENDING_APPROVAL');
    const byToken = await call('bob', 'POST', `/api/v1/requests/${id}/approve`, {});
    assert.equal(byToken.status, 403, byToken.text);
    assert.equal(byToken.json.error?.code, 'step_up_required');

    // Sessions as the portal's login makes them: one logged in 5 minutes ago, one just now.
    const session = async (authTime: Date) => {
      const value = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      const now = new Date();
      await h.store.createSession({
        idHash: hashSessionId(value),
        email: 'bob@example.com',
        csrfToken,
        authTime: authTime.toISOString(),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
        lastSeenAt: now.toISOString(),
      });
      return { cookie: `gf_session=${value}`, 'x-csrf-token': csrfToken };
    };
    const stale = await call(
      null,
      'POST',
      `/api/v1/requests/${id}/deny`,
      { reason: 'no' },
      await session(new Date(Date.now() - 300_000)),
    );
    assert.equal(stale.status, 401, stale.text);
    assert.equal(stale.json.error?.code, 'step_up_required');
    assert.equal(
      (stale.json.error as { loginUrl?: string }).loginUrl,
      `/auth/login?returnTo=${encodeURIComponent(`/requests/${id}`)}&stepUp=1`,
    );
    assert.equal((await getRequest(h.ctx, id)).status, 'PENDING_APPROVAL', 'nothing was decided');
    const fresh = await call(null, 'POST', `/api/v1/requests/${id}/approve`, {}, await session(new Date()));
    assert.equal(fresh.status, 200, fresh.text);
    await h.waitFor(id, 'ACTIVE', 15_000);
    const approval = await h.auditEvent(id, 'request.approval');
    assert.equal(approval.channel, 'portal');
    assert.equal(approval.actor, 'bob@example.com');
  });
});
