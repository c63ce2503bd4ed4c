/**
 * A target that is down when the grant ends: the revoke keeps failing, the request turns REVOKE_OVERDUE after
 * settings.revokeOverdueAfter (in the workflow, its search attribute and the metric), admins are alerted, and
 * once the target is back the revoke completes, is verified, and the audit tells the whole story. The outage is a
 * real one: PostgreSQL behind a TCP proxy that stops listening. Thresholds are seconds here, configurable.
 */
import assert from 'node:assert/strict';
import { createMetrics } from '../core/metrics';
import { createRequest } from '../core/create-request';
import { getRequest } from '../core/request-actions';
import { workflowIdFor } from '../workflows/definitions';
import { createHarness, type Harness } from './helpers/harness';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy';
import { until } from './helpers/until';
import { getTestPostgres } from './setup/postgres';

const OVERDUE_AFTER = '2s';

describe('revoke while the target is down', function () {
  this.timeout(90_000);
  let h: Harness;
  let proxy: TcpProxy;

  before(async () => {
    const pg = await getTestPostgres();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: pg.port });
    h = await createHarness({
      settings: { revokeAlertAfterAttempts: 2, revokeMaxBackoff: '1s' },
      configTransform: (yaml) => {
        // The connector reaches the database through the proxy; the test's own checks go direct.
        const envName = /url: \$\{(\w+)\}/.exec(yaml)![1];
        const url = new URL(process.env[envName]!);
        url.port = String(proxy.port);
        process.env[`${envName}_PROXY`] = url.toString();
        return yaml
          .replace(`\${${envName}}`, `\${${envName}_PROXY}`)
          .replace('revokeMaxBackoff: 1s', `revokeMaxBackoff: 1s\n  revokeOverdueAfter: ${OVERDUE_AFTER}`);
      },
    });
  });
  after(async () => {
    await proxy?.up();
    await h?.close();
    await proxy?.close();
  });

  it('goes REVOKE_OVERDUE and alerts while the target is down, then revokes and verifies once it is back', async () => {
    assert.equal(h.config.settings.revokeOverdueAfterMs, 2000);
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'outage test',
      durationMs: 2000,
    });
    await h.waitFor(request.id, 'ACTIVE', 20_000);
    assert.equal(await h.canRead('alice'), true);

    await proxy.down();
    const downAt = Date.now();
    await h.waitFor(request.id, 'REVOKE_OVERDUE', 20_000);
    assert.ok(Date.now() - downAt < 15_000);
    assert.equal(await h.canRead('alice'), true, 'the access is still there: that is why it is overdue');
    const overdue = await h.auditEvent(request.id, 'alert.revoke_overdue');
    assert.equal(overdue.details.overdueAfterMs, 2000);
    await h.auditEvent(request.id, 'alert.revoke_failing', 15_000);
    const metrics = createMetrics(h.store);
    assert.match(await metrics.registry.metrics(), /grantflow_revokes_overdue 1\b/);
    // The Temporal Web UI (visibility) shows it too, through the status search attribute.
    await until('the search attribute says REVOKE_OVERDUE', async () => {
      for await (const wf of h.ctx.client.workflow.list({
        query: `WorkflowId = '${workflowIdFor(request.id)}' AND GrantflowStatus = 'REVOKE_OVERDUE'`,
      }))
        return wf.workflowId;
      return undefined;
    });

    await proxy.up();
    const done = await h.waitFor(request.id, 'REVOKED', 30_000);
    assert.equal(done.status, 'REVOKED');
    assert.equal(await h.canRead('alice'), false, 'access gone once the target is back');
    assert.match(await metrics.registry.metrics(), /grantflow_revokes_overdue 0\b/);

    const revoked = await h.auditEvent(request.id, 'request.revoked');
    assert.equal(revoked.details.overdue, true);
    assert.equal(revoked.details.verified, true);
    const story = (await h.store.listAudit({ requestId: request.id })).map((e) => e.type);
    const order = [
      'request.requested',
      'request.approved',
      'request.granted',
      'request.revoking',
      'request.revoke_overdue',
      'request.revoke_verified',
      'request.revoked',
    ];
    const positions = order.map((t) => story.indexOf(t));
    assert.ok(
      positions.every((p) => p >= 0),
      `story: ${story.join(', ')}`,
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
      `in order: ${story.join(', ')}`,
    );
    assert.ok(story.includes('alert.revoke_overdue') && story.includes('alert.revoke_failing'));
    assert.equal((await getRequest(h.ctx, request.id)).status, 'REVOKED');
  });
});
