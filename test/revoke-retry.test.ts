/**
 * A revoke that fails is retried until it succeeds, and admins are alerted while it keeps failing.
 */
import assert from 'node:assert/strict';
import { createRequest } from '../core/create-request';
import type { Connector, ConnectorRegistry } from '../connectors/types';
import { connectorsFor, createHarness, type Harness } from './helpers/harness';

/** The real connectors, with revoke failing while `failing` is true (the target refusing, say). */
function flakyRevoke(
  real: ConnectorRegistry,
  state: { failing: boolean; attempts: number },
): ConnectorRegistry {
  return {
    names: () => real.names(),
    closeAll: () => real.closeAll(),
    get(name) {
      const c = real.get(name);
      const wrapped: Connector = Object.create(c);
      wrapped.revoke = async (req) => {
        state.attempts++;
        if (state.failing) throw new Error('target refused the connection');
        return c.revoke(req);
      };
      return wrapped;
    },
  };
}

describe('revoke retries and alerts', function () {
  this.timeout(120_000);
  let h: Harness;
  const state = { failing: true, attempts: 0 };
  before(async () => {
    h = await createHarness({
      settings: { revokeAlertAfterAttempts: 2, revokeMaxBackoff: '1s' },
      connectors: (config) => flakyRevoke(connectorsFor(config), state),
    });
  });
  after(async () => {
    await h?.close();
  });

  it('keeps retrying a failing revoke, alerts, then revokes once the target is back', async () => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'flaky target',
      durationMs: 2000,
    });
    await h.waitFor(request.id, 'ACTIVE', 15_000);
    await h.waitFor(request.id, 'REVOKING', 15_000);
    const deadline = Date.now() + 20_000;
    let alerts = 0;
    while (Date.now() < deadline && (alerts < 2 || state.attempts < 4)) {
      alerts = (await h.store.listAudit({ requestId: request.id })).filter(
        (r) => r.type === 'alert.revoke_failing',
      ).length;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(state.attempts >= 4, `attempts so far: ${state.attempts}`);
    assert.ok(alerts >= 2, `alerts so far: ${alerts}`);
    assert.equal(await h.canRead('alice'), true, 'still granted while the revoke fails');
    state.failing = false;
    await h.waitFor(request.id, 'REVOKED', 20_000);
    assert.equal(await h.canRead('alice'), false);
  });
});
