/**
 * Deciding a request by hand with Temporal's own CLI (`temporal workflow signal`): the documented `approve`
 * and `deny` signals apply the same rules as the update.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequest } from '../core/create-request';
import { findTemporalBinary } from '../devstack/temporal';
import { workflowIdFor } from '../workflows/definitions';
import { createHarness, type Harness } from './helpers/harness';
import { getTestTemporal } from './setup/stack';

const run = promisify(execFile);

describe('approve and deny signals (temporal workflow signal)', function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h?.close();
  });

  async function signal(requestId: string, name: 'approve' | 'deny', input: object) {
    const t = await getTestTemporal();
    await run(findTemporalBinary(), [
      'workflow',
      'signal',
      '--address',
      t.address,
      '--namespace',
      t.namespace,
      '--workflow-id',
      workflowIdFor(requestId),
      '--name',
      name,
      '--input',
      JSON.stringify(input),
    ]);
  }

  it('refuses self-approval and non-approvers by signal, records them, and accepts a listed approver', async () => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'by signal',
    });
    await h.waitFor(request.id, 'PENDING_APPROVAL');
    await signal(request.id, 'approve', { approver: 'alice@example.com' });
    await signal(request.id, 'approve', { approver: 'erin@example.com' });
    // The refusals are written by the workflow through an activity: wait for them.
    const deadline = Date.now() + 10_000;
    let rejected: string[] = [];
    while (Date.now() < deadline && rejected.length < 2) {
      rejected = (await h.store.listAudit({ requestId: request.id }))
        .filter((r) => r.type === 'request.decision_rejected')
        .map((r) => r.actor);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(rejected.sort(), ['alice@example.com', 'erin@example.com']);
    assert.equal((await h.waitFor(request.id, 'PENDING_APPROVAL')).approvals.length, 0);

    await signal(request.id, 'approve', { approver: 'bob@example.com', comment: 'by hand' });
    const active = await h.waitFor(request.id, 'ACTIVE', 15_000);
    assert.equal(active.approvals[0].approver, 'bob@example.com');
    assert.equal(active.approvals[0].channel, 'temporal');
    assert.equal(await h.canWrite('alice'), true);
    // A late deny changes nothing once resolved.
    await signal(request.id, 'deny', { approver: 'carol@example.com', comment: 'too late' });
    await h.waitFor(request.id, 'REVOKED', 20_000);
    assert.equal((await h.waitFor(request.id, 'REVOKED')).denial, undefined);
  });

  it('denies by signal', async () => {
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'deny me',
    });
    await signal(request.id, 'deny', { approver: 'dave@example.com', comment: 'no' });
    const denied = await h.waitFor(request.id, 'DENIED');
    assert.equal(denied.denial?.approver, 'dave@example.com');
  });
});
