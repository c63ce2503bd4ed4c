/**
 * The accessRequest life cycle against a real Temporal dev server and a real PostgreSQL target:
 * auto-approval, approval, denial, N-of-M, refusals, approval timeout, cancel, extend, early revoke,
 * grant failure, duplicates and idempotency.
 */
import assert from 'node:assert/strict';
import { createRequest } from '../core/create-request';
import { ActionRefusedError, RequestRefusedError } from '../core/errors';
import {
  cancelRequest,
  decideRequest,
  extendRequest,
  getRequest,
  revokeRequest,
} from '../core/request-actions';
import { workflowIdFor } from '../workflows/definitions';
import { createHarness, type Harness } from './helpers/harness';

/**
 * The audit event types of a request once all of `wanted` are there. The status a query shows changes in the
 * workflow a moment before the activity that records it has written the row.
 */
async function auditTypes(
  h: Harness,
  id: string,
  wanted: string[] = [],
  timeoutMs = 10_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const types = (await h.store.listAudit({ requestId: id })).map((r) => r.type);
    if (wanted.every((t) => types.includes(t)) || Date.now() > deadline) return types;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('accessRequest workflow', function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('auto-approves, grants real access, and revokes it at expiry', async () => {
    assert.equal(await h.canRead('alice'), false, 'no access before the grant');
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'incident 42',
    });
    const active = await h.waitFor(request.id, 'ACTIVE', 15_000);
    assert.ok(active.grantedAt && active.expiresAt);
    assert.equal(
      Date.parse(active.expiresAt) - Date.parse(active.grantedAt),
      3000,
      'the clock starts at the grant',
    );
    assert.equal(await h.canRead('alice'), true, 'access while ACTIVE');
    // The Temporal Web UI can find it by its search attributes, and its summary reads like a sentence.
    const query = `GrantflowRequester = 'alice@example.com' AND GrantflowStatus = 'ACTIVE' AND GrantflowFlow = 'auto-read'`;
    let found: string[] = [];
    for (let i = 0; i < 50 && !found.includes(workflowIdFor(request.id)); i++) {
      found = [];
      for await (const wf of h.ctx.client.workflow.list({ query })) found.push(wf.workflowId);
      if (!found.includes(workflowIdFor(request.id))) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(found.includes(workflowIdFor(request.id)), 'visible by search attributes while ACTIVE');
    const described = await h.ctx.client.workflow.getHandle(workflowIdFor(request.id)).describe();
    assert.equal(await described.staticSummary(), 'alice@example.com → db readonly, 3s');
    assert.equal(await h.canWrite('alice'), false, 'readonly does not allow writes');

    const revoked = await h.waitFor(request.id, 'REVOKED', 20_000);
    assert.ok(revoked.revokedAt);
    const late = Date.parse(revoked.revokedAt) - Date.parse(active.expiresAt);
    assert.ok(late >= 0 && late < 5000, `revoked ${late} ms after expiry`);
    assert.equal(await h.canRead('alice'), false, 'access gone after expiry');

    const lifecycle = ['requested', 'approved', 'granting', 'granted', 'revoking', 'revoked'];
    const types = await auditTypes(
      h,
      request.id,
      lifecycle.map((t) => `request.${t}`),
    );
    for (const t of lifecycle)
      assert.ok(types.includes(`request.${t}`), `audit has request.${t}: ${types.join(', ')}`);
    const row = await h.store.getRequest(request.id);
    assert.equal(row?.status, 'REVOKED');
    assert.equal((await h.store.verifyAudit()).ok, true);

    // No secret in the workflow's history: not the target's URL, nor any password.
    const history = JSON.stringify(
      await h.ctx.client.workflow.getHandle(workflowIdFor(request.id)).fetchHistory(),
    );
    assert.ok(!history.includes(new URL(h.dbUrl).password), 'the database password is not in history');
    assert.ok(!history.includes('test-password-1'), 'no login password is in history');
  });

  it('waits for an approver, then grants; the decision records who and when', async () => {
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'fix data',
    });
    await h.waitFor(request.id, 'PENDING_APPROVAL');
    const decided = await decideRequest(h.ctx, h.actor('bob', 'cli'), request.id, 'approve', 'ok');
    assert.equal(decided.approvals[0].approver, 'bob@example.com');
    assert.equal(decided.approvals[0].channel, 'cli');
    assert.ok(Date.parse(decided.approvals[0].at) > 0);
    await h.waitFor(request.id, 'ACTIVE', 15_000);
    assert.equal(await h.canWrite('erin'), true);
    // A session opened while access is active must not outlive the revoke.
    const session = await h.connectAs('erin');
    session.on('error', () => undefined);
    await session.query('select count(*) from incidents');
    const revoked = await revokeRequest(h.ctx, h.actor('erin'), request.id, 'done early');
    assert.equal(revoked.revokedBy, 'erin@example.com');
    await h.waitFor(request.id, 'REVOKED', 15_000);
    assert.equal(await h.canWrite('erin'), false);
    await assert.rejects(session.query('select count(*) from incidents'), 'the open session was terminated');
    await session.end().catch(() => undefined);
  });

  it('refuses self-approval and non-approvers through the update, and records the refusal', async () => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'self',
    });
    await assert.rejects(decideRequest(h.ctx, h.actor('alice'), request.id, 'approve'), (err: Error) => {
      assert.ok(err instanceof ActionRefusedError);
      assert.match(err.message, /own request/);
      return true;
    });
    await assert.rejects(decideRequest(h.ctx, h.actor('erin'), request.id, 'approve'), /not an approver/);
    const view = await getRequest(h.ctx, request.id);
    assert.equal(view.status, 'PENDING_APPROVAL');
    assert.equal(view.approvals.length, 0);
    const rejected = (await h.store.listAudit({ requestId: request.id })).filter(
      (r) => r.type === 'request.action_rejected',
    );
    assert.equal(rejected.length, 2);
    assert.deepEqual(rejected.map((r) => r.actor).sort(), ['alice@example.com', 'erin@example.com']);
    await cancelRequest(h.ctx, h.actor('alice'), request.id);
    await h.waitFor(request.id, 'CANCELLED');
  });

  it('denies with the approver and reason, and grants nothing', async () => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'please',
    });
    await decideRequest(h.ctx, h.actor('carol'), request.id, 'deny', 'not during the freeze');
    const denied = await h.waitFor(request.id, 'DENIED');
    assert.equal(denied.denial?.approver, 'carol@example.com');
    assert.equal(denied.denial?.comment, 'not during the freeze');
    assert.equal(await h.canWrite('alice'), false);
    await assert.rejects(decideRequest(h.ctx, h.actor('bob'), request.id, 'approve'), ActionRefusedError);
  });

  it('needs N distinct approvals (two of three)', async () => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'two-of-three',
      resource: 'db',
      permission: 'readwrite',
      reason: 'migration',
    });
    const first = await decideRequest(h.ctx, h.actor('bob'), request.id, 'approve');
    assert.equal(first.status, 'PENDING_APPROVAL');
    await assert.rejects(decideRequest(h.ctx, h.actor('bob'), request.id, 'approve'), /already approved/);
    const second = await decideRequest(h.ctx, h.actor('dave'), request.id, 'approve');
    assert.deepEqual(
      second.approvals.map((a) => a.approver),
      ['bob@example.com', 'dave@example.com'],
    );
    await h.waitFor(request.id, 'ACTIVE', 15_000);
    await h.waitFor(request.id, 'REVOKED', 20_000);
  });

  it('expires a request nobody decides within the approval timeout', async () => {
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      flow: 'quick-expire',
      resource: 'db',
      permission: 'readonly',
      reason: '',
    });
    const expired = await h.waitFor(request.id, 'EXPIRED', 15_000);
    assert.equal(expired.approvals.length, 0);
    assert.ok((await auditTypes(h, request.id, ['request.expired'])).includes('request.expired'));
  });

  it('lets only the requester or an admin cancel a pending request', async () => {
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'maybe',
    });
    await assert.rejects(cancelRequest(h.ctx, h.actor('alice'), request.id), /may not cancel/);
    const view = await cancelRequest(h.ctx, h.actor('carol'), request.id);
    assert.equal(view.status, 'CANCELLED');
    await h.waitFor(request.id, 'CANCELLED');
  });

  it('extends an active grant within the flow limits', async () => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'long debug',
      durationMs: 4000,
    });
    const active = await h.waitFor(request.id, 'ACTIVE', 15_000);
    await assert.rejects(extendRequest(h.ctx, h.actor('bob'), request.id, 2000), /may not extend/);
    await assert.rejects(extendRequest(h.ctx, h.actor('alice'), request.id, 10 * 60_000), /maximum/);
    const extended = await extendRequest(h.ctx, h.actor('alice'), request.id, 3000);
    assert.equal(Date.parse(extended.expiresAt!) - Date.parse(active.expiresAt!), 3000);
    // Past the original expiry, access is still there.
    await new Promise((r) => setTimeout(r, Date.parse(active.expiresAt!) - Date.now() + 1000));
    assert.equal((await getRequest(h.ctx, request.id)).status, 'ACTIVE');
    assert.equal(await h.canRead('alice'), true);
    const revoked = await h.waitFor(request.id, 'REVOKED', 15_000);
    assert.ok(Date.parse(revoked.revokedAt!) >= Date.parse(extended.expiresAt!));
    assert.equal(await h.canRead('alice'), false);
  });

  it('undoes a grant that fails for good (GRANT_FAILED)', async () => {
    const { request } = await createRequest(h.ctx, h.actor('nobody' as 'alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'no login exists',
    });
    const failed = await h.waitFor(request.id, 'GRANT_FAILED', 30_000);
    assert.ok(failed.failure, 'the failure is shown');
    const types = await auditTypes(h, request.id, ['request.grant_failed']);
    assert.ok(types.includes('request.grant_failed'));
  });

  it('returns the existing request for a duplicate pending request or a repeated idempotency key', async () => {
    const input = { flow: 'approved-write', resource: 'db', permission: 'readwrite', reason: 'dup' };
    const first = await createRequest(h.ctx, h.actor('erin'), input);
    const second = await createRequest(h.ctx, h.actor('erin'), input);
    assert.equal(second.existing, true);
    assert.equal(second.request.id, first.request.id);
    await cancelRequest(h.ctx, h.actor('erin'), first.request.id);

    const keyed = { ...input, idempotencyKey: 'ticket-123' };
    const a = await createRequest(h.ctx, h.actor('alice'), keyed);
    await cancelRequest(h.ctx, h.actor('alice'), a.request.id);
    await h.waitFor(a.request.id, 'CANCELLED');
    const b = await createRequest(h.ctx, h.actor('alice'), keyed);
    assert.equal(b.request.id, a.request.id);
    assert.equal(b.existing, true);
  });

  it('refuses requests the flows do not allow, naming the field', async () => {
    const cases: [string, Parameters<typeof createRequest>[2], string][] = [
      ['bob', { flow: 'auto-read', resource: 'db', permission: 'readonly', reason: '' }, 'requester'],
      ['alice', { flow: 'no-such-flow', resource: 'db', permission: 'readonly', reason: '' }, 'flow'],
      ['alice', { flow: 'auto-read', resource: 'db', permission: 'readwrite', reason: '' }, 'permission'],
      ['alice', { flow: 'approved-write', resource: 'db', permission: 'readwrite', reason: '' }, 'reason'],
      [
        'alice',
        { flow: 'auto-read', resource: 'db', permission: 'readonly', reason: '', durationMs: 3_600_000 },
        'duration',
      ],
    ];
    for (const [who, input, field] of cases) {
      await assert.rejects(createRequest(h.ctx, h.actor(who as 'alice'), input), (err: Error) => {
        assert.ok(err instanceof RequestRefusedError, String(err));
        assert.match(String(err.field), new RegExp(field, 'i'));
        return true;
      });
    }
  });
});
