/**
 * How the API server serves the portal: the app at `/` and at every page path a browser navigates to, hashed
 * assets cached for a year, security headers on the page, JSON 404s for the server's own paths, and a page
 * that says how to build the portal when it is missing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMetrics } from '../core/metrics';
import { startApiServer, type ApiServer } from '../server/start';
import { createHarness, type Harness } from './helpers/harness';
import { testLog } from './setup/stack';

describe('portal serving', function () {
  this.timeout(60_000);
  let h: Harness;
  let built: ApiServer;
  let missing: ApiServer;

  before(async () => {
    h = await createHarness({ noWorker: true });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-portal-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>portal test build</title>');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    const common = { ctx: h.ctx, metrics: createMetrics(), log: testLog, port: 0, host: '127.0.0.1' };
    built = await startApiServer({ ...common, portalDir: dir });
    missing = await startApiServer({ ...common, portalDir: path.join(dir, 'nothing-here') });
  });
  after(async () => {
    await built?.close();
    await missing?.close();
    await h?.close();
  });

  const html = { accept: 'text/html,application/xhtml+xml' };

  it('serves the app at / and at page paths, with security headers', async () => {
    for (const page of ['/', '/requests/req_abc', '/admin/audit?x=1']) {
      const res = await fetch(`${built.url}${page}`, { headers: html });
      assert.equal(res.status, 200, page);
      assert.match(await res.text(), /portal test build/, page);
      assert.match(String(res.headers.get('content-security-policy')), /default-src 'self'/);
      assert.match(String(res.headers.get('content-security-policy')), /frame-ancestors 'none'/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
    }
  });

  it('caches hashed assets for a year', async () => {
    const res = await fetch(`${built.url}/assets/index-abc123.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${built.url}/assets/gone-000.js`)).status, 404);
  });

  it("answers JSON 404s on the server's own paths, even to a browser", async () => {
    for (const p of ['/api/v1/nope', '/auth/nope', '/slack/nope']) {
      const res = await fetch(`${built.url}${p}`, { headers: html });
      assert.equal(res.status, 404, p);
      assert.equal((await res.json()).error.code, 'not_found', p);
    }
    const api = await fetch(`${built.url}/requests/req_abc`, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 404, 'only browser navigations get the app');
  });

  it('says how to build the portal when it is not built', async () => {
    const res = await fetch(`${missing.url}/`, { headers: html });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /npm run build/);
  });
});
