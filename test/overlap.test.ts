/**
 * Overlapping grants of the same access: the access stays while any grant holds it, and goes when the last
 * one ends, including two that end at the same moment.
 */
import assert from 'node:assert/strict';
import { createRequest } from '../core/create-request';
import { extendRequest, revokeRequest } from '../core/request-actions';
import { createHarness, type Harness } from './helpers/harness';

describe('overlapping grants', function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await h?.close();
  });

  const readFor = (durationMs: number, reason: string) =>
    createRequest(h.ctx, h.actor('alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason,
      durationMs,
    });

  it('keeps access until the last overlapping grant expires', async () => {
    const short = await readFor(3000, 'short');
    await h.waitFor(short.request.id, 'ACTIVE', 15_000);
    const long = await readFor(9000, 'long');
    assert.notEqual(long.request.id, short.request.id);
    const longActive = await h.waitFor(long.request.id, 'ACTIVE', 15_000);

    const shortDone = await h.waitFor(short.request.id, 'REVOKED', 20_000);
    assert.ok(Date.parse(shortDone.revokedAt!) < Date.parse(longActive.expiresAt!));
    assert.equal(await h.canRead('alice'), true, 'the longer grant still holds the access');
    const revoked = await h.auditEvent(short.request.id, 'request.revoked');
    assert.equal(revoked?.details.revoked, false, 'the first revoke leaves the access in place');
    assert.deepEqual(revoked?.details.heldBy, [long.request.id]);

    await h.waitFor(long.request.id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false, 'gone once the last grant ends');
  });

  it("keeps an extended grant's access when another grant of it ends after the first one's original expiry", async () => {
    const extended = await readFor(3000, 'to be extended');
    await h.waitFor(extended.request.id, 'ACTIVE', 15_000);
    const other = await readFor(5000, 'ends after the original expiry');
    await h.waitFor(other.request.id, 'ACTIVE', 15_000);
    await extendRequest(h.ctx, h.actor('alice'), extended.request.id, 20_000);
    // The other grant's revoke comes after the extended one's original expiry: the extension must still hold.
    await h.waitFor(other.request.id, 'REVOKED', 20_000);
    assert.equal((await h.waitFor(extended.request.id, 'ACTIVE')).status, 'ACTIVE');
    assert.equal(await h.canRead('alice'), true, 'the extended grant still holds the access');
    const revoked = await h.auditEvent(other.request.id, 'request.revoked');
    assert.deepEqual(revoked.details.heldBy, [extended.request.id]);
    await revokeRequest(h.ctx, h.actor('alice'), extended.request.id, 'done');
    await h.waitFor(extended.request.id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false);
  });

  it('removes access when two grants end at the same moment', async () => {
    const a = await readFor(60_000, 'a');
    await h.waitFor(a.request.id, 'ACTIVE', 15_000);
    const b = await readFor(60_000, 'b');
    await h.waitFor(b.request.id, 'ACTIVE', 15_000);
    assert.equal(await h.canRead('alice'), true);
    // Revoke both at once: the coordinator serialises them, and exactly the last one removes the access.
    await Promise.all([
      revokeRequest(h.ctx, h.actor('alice'), a.request.id, 'together'),
      revokeRequest(h.ctx, h.actor('alice'), b.request.id, 'together'),
    ]);
    await h.waitFor(a.request.id, 'REVOKED', 20_000);
    await h.waitFor(b.request.id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false);
    const results = [];
    for (const id of [a.request.id, b.request.id]) {
      const row = await h.auditEvent(id, 'request.revoked');
      results.push(row.details.revoked);
    }
    assert.deepEqual(results.sort(), [false, true], 'one revoke keeps it for the other, the last removes it');
  });

  it('removes access when two grants expire at (nearly) the same moment', async () => {
    // A rapid duplicate would be returned as the same pending request, so the second starts once the first is
    // ACTIVE, with a duration that lands its expiry on the first one's (within the grant's own latency).
    const a = await readFor(6000, 'x');
    const activeA = await h.waitFor(a.request.id, 'ACTIVE', 15_000);
    const b = await readFor(Date.parse(activeA.expiresAt!) - Date.now(), 'y');
    const activeB = await h.waitFor(b.request.id, 'ACTIVE', 15_000);
    const gap = Math.abs(Date.parse(activeB.expiresAt!) - Date.parse(activeA.expiresAt!));
    assert.ok(gap < 1000, `expiries ${gap} ms apart`);
    await h.waitFor(a.request.id, 'REVOKED', 20_000);
    await h.waitFor(b.request.id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false);
  });
});
