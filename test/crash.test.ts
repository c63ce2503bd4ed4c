/**
 * Crashes while a grant is ACTIVE: a worker killed with SIGKILL, and the Temporal dev server stopped and
 * started again on its SQLite file. Either way the grant is still revoked on time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequest } from '../core/create-request';
import { createHarness, type Harness } from './helpers/harness';
import { startChildWorker, type ChildWorker } from './helpers/child-worker';
import { startOwnTemporal } from './setup/stack';

/** How late a revoke may be after expiry once things are back; configurable for slow machines. */
const SLACK_MS = Number(process.env.GF_TEST_REVOKE_SLACK_MS ?? 10_000);

describe('crash recovery', function () {
  this.timeout(180_000);

  describe('worker killed with SIGKILL while ACTIVE', () => {
    let h: Harness;
    let worker: ChildWorker | undefined;
    before(async () => {
      h = await createHarness({ noWorker: true });
    });
    after(async () => {
      await worker?.kill();
      await h?.close();
    });

    it('revokes on time after a new worker starts', async () => {
      worker = await startChildWorker(h);
      const { request } = await createRequest(h.ctx, h.actor('alice'), {
        flow: 'auto-read',
        resource: 'db',
        permission: 'readonly',
        reason: 'crash test',
        durationMs: 12_000,
      });
      const active = await h.waitFor(request.id, 'ACTIVE', 30_000);
      assert.equal(await h.canRead('alice'), true);
      await worker.kill('SIGKILL');
      worker = await startChildWorker(h);
      // On time: at expiry, or — when the new worker took longer than that to start — soon after it is up.
      const due = Math.max(Date.parse(active.expiresAt!), Date.now());
      const revoked = await h.waitFor(request.id, 'REVOKED', 12_000 + SLACK_MS + 30_000);
      const late = Date.parse(revoked.revokedAt!) - due;
      assert.ok(Date.parse(revoked.revokedAt!) >= Date.parse(active.expiresAt!), 'not before expiry');
      assert.ok(late < SLACK_MS, `revoked ${late} ms after it was due (expiry, or the new worker being up)`);
      assert.equal(await h.canRead('alice'), false);
    });
  });

  describe('Temporal dev server restarted on its SQLite file while ACTIVE', () => {
    let h: Harness;
    let worker: ChildWorker | undefined;
    let server: Awaited<ReturnType<typeof startOwnTemporal>> | undefined;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-restart-'));
    after(async () => {
      await worker?.kill();
      await h?.close();
      await server?.server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('still revokes the grant', async () => {
      server = await startOwnTemporal(dir);
      h = await createHarness({
        noWorker: true,
        temporal: { address: server.server.address, namespace: 'default' },
      });
      worker = await startChildWorker(h);
      const { request } = await createRequest(h.ctx, h.actor('alice'), {
        flow: 'auto-read',
        resource: 'db',
        permission: 'readonly',
        reason: 'server restart',
        durationMs: 15_000,
      });
      const active = await h.waitFor(request.id, 'ACTIVE', 30_000);
      await server.server.stop();
      await new Promise((r) => setTimeout(r, 2000));
      server = await startOwnTemporal(dir, { port: server.port, uiPort: server.uiPort });
      const revoked = await h.waitFor(request.id, 'REVOKED', 15_000 + SLACK_MS + 60_000);
      const late = Date.parse(revoked.revokedAt!) - Date.parse(active.expiresAt!);
      assert.ok(late >= 0 && late < SLACK_MS + 10_000, `revoked ${late} ms after expiry`);
      assert.equal(await h.canRead('alice'), false);
    });
  });
});
