/**
 * The portal end to end in headless Chromium with a real OpenID provider: alice logs in through the provider
 * and requests a step-up flow in the form; bob, an approver whose login is older than `settings.stepUpMaxAge`,
 * is refused with the step-up prompt (and an API token is refused outright), logs in again through the
 * provider (prompt=login), and approves: the request becomes active and the audit says it was the portal.
 * Also: a cookie-authenticated POST without the CSRF token is refused in the browser.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createMetrics } from '../core/metrics';
import { getRequest } from '../core/request-actions';
import { issueToken } from '../core/tokens';
import { freePort } from '../devstack/ports';
import { hashSessionId, SESSION_COOKIE } from '../server/auth/sessions';
import { startApiServer, type ApiServer } from '../server/start';
import { launchBrowser, screenshot } from './helpers/browser';
import { createHarness, type Harness } from './helpers/harness';
import { startProvider } from './helpers/oidc-provider';
import { until } from './helpers/until';
import { testLog } from './setup/stack';

/**
 * How recent a login must be to decide on `step-up-write`: the test waits this long once, and bob's approval
 * after logging in again must land within it (auth_time has whole seconds, so up to 1 s of it is gone already).
 */
const STEP_UP_MAX_AGE = '4s';
const STEP_UP_FLOW = `
  - name: step-up-write
    requesters: { groups: [engineering] }
    resources: [{ name: db, permissions: [readwrite] }]
    approvers: { groups: [dba] }
    requiredApprovals: 1
    defaultDuration: 30s
    maxDuration: 1m
    approvalTimeout: 1m
    requireJustification: true
    stepUp: true
`;

/** The test config plus a step-up flow and a short `stepUpMaxAge`. */
function withStepUp(yaml: string): string {
  assert.match(yaml, /\nsettings:\n/);
  return `${yaml.replace('\nsettings:\n', `\nsettings:\n  stepUpMaxAge: ${STEP_UP_MAX_AGE}\n`)}${STEP_UP_FLOW}`;
}

describe('portal in Chromium: OpenID Connect login and step-up approval', function () {
  this.timeout(90_000);
  let h: Harness;
  let api: ApiServer;
  let idp: http.Server;
  let browser: Browser;
  let nextLogin = 'alice@example.com';

  before(async () => {
    h = await createHarness({ configTransform: withStepUp });
    const idpPort = await freePort();
    const apiPort = await freePort();
    const issuer = `http://127.0.0.1:${idpPort}`;
    const publicUrl = `http://127.0.0.1:${apiPort}`;
    idp = await startProvider(issuer, idpPort, publicUrl, () => nextLogin);
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      host: '127.0.0.1',
      port: apiPort,
      authSettings: { publicUrl, oidc: { issuer, clientId: 'grantflow', clientSecret: 'test-secret' } },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await new Promise((resolve) => idp?.close(resolve));
    await h?.close();
  });

  /** Opens the portal in a fresh browser context and logs in as `email` through the provider. */
  async function logIn(email: string, path = '/'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ baseURL: api.url });
    const page = await context.newPage();
    await page.goto(path);
    await page.getByRole('heading', { name: 'Log in to Grantflow' }).waitFor();
    nextLogin = email;
    await page.getByRole('link', { name: 'Log in with your identity provider' }).click();
    await page.getByTestId('whoami').filter({ hasText: email }).waitFor();
    assert.equal(new URL(page.url()).origin, api.url, 'back at Grantflow after the provider');
    return { context, page };
  }

  /** The stored session behind the context's session cookie. */
  async function sessionOf(context: BrowserContext) {
    const cookie = (await context.cookies(api.url)).find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie, 'a session cookie');
    const session = await h.store.findSession(hashSessionId(decodeURIComponent(cookie.value)));
    assert.ok(session, 'the cookie names a stored session');
    return session;
  }

  it('logs in through the provider, requests a step-up flow, and bob approves only after logging in again', async () => {
    // alice: the login page, the provider, and back logged in.
    const alice = await logIn('alice@example.com');
    assert.equal(new URL(alice.page.url()).pathname, '/requests');
    assert.equal((await alice.page.getByTestId('whoami').textContent())?.trim(), 'alice@example.com');
    await screenshot(alice.page, 'login-oidc');

    // alice requests step-up-write in the form.
    await alice.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Request access' })
      .click();
    await alice.page.getByLabel('Access flow').selectOption('step-up-write');
    await alice.page
      .getByText('Approvers decide in this portal after a fresh login.', { exact: false })
      .waitFor();
    await alice.page.getByLabel('Resource').selectOption('db');
    await alice.page.getByLabel('Permission').selectOption('readwrite');
    await alice.page.getByLabel('For how long').fill('30s');
    await alice.page.getByLabel('Why', { exact: true }).fill('migrate the incidents table (INC-42)');
    await alice.page.getByRole('button', { name: 'Request access' }).click();
    await alice.page.waitForURL(/\/requests\/[^/]+$/);
    const id = decodeURIComponent(new URL(alice.page.url()).pathname.split('/').pop() ?? '');
    await alice.page.getByText('Waiting for approval', { exact: true }).waitFor();
    const requested = await h.store.getRequest(id);
    assert.equal(requested?.flow, 'step-up-write');
    assert.equal(requested?.requester, 'alice@example.com');

    // bob logs in, opens the request, and lets his login grow older than stepUpMaxAge.
    const bob = await logIn('bob@example.com', `/requests/${encodeURIComponent(id)}`);
    assert.equal(new URL(bob.page.url()).pathname, `/requests/${id}`);
    await bob.page.getByText('This flow needs a recent login to decide', { exact: false }).waitFor();
    const first = await sessionOf(bob.context);
    const maxAgeMs = h.config.settings.stepUpMaxAgeMs;
    assert.equal(maxAgeMs, 4000);
    await until(
      "bob's login to be older than stepUpMaxAge",
      () => Date.now() - Date.parse(first.authTime) > maxAgeMs + 200,
      maxAgeMs + 5000,
    );

    // Approve: refused, with the way to log in again.
    await bob.page.getByRole('button', { name: 'Approve', exact: true }).click();
    const prompt = bob.page
      .getByRole('alert')
      .filter({ hasText: `requires a login within the last ${STEP_UP_MAX_AGE}` });
    await prompt.waitFor();
    const again = prompt.getByRole('link', { name: 'Log in again to decide' });
    const href = await again.getAttribute('href');
    const login = new URL(String(href), api.url);
    assert.equal(login.pathname, '/auth/login');
    assert.equal(login.searchParams.get('stepUp'), '1');
    assert.equal(login.searchParams.get('returnTo'), `/requests/${id}`);
    assert.equal((await h.store.getRequest(id))?.status, 'PENDING_APPROVAL');
    await screenshot(bob.page, 'step-up-prompt');

    // An API token never qualifies for a step-up decision, however fresh.
    const { token } = await issueToken(h.ctx, { email: 'bob@example.com', createdBy: 'test' });
    const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const viaToken = await fetch(`${api.url}/api/v1/requests/${encodeURIComponent(id)}/approve`, {
      method: 'POST',
      headers: bearer,
      body: '{}',
    });
    assert.equal(viaToken.status, 403);
    assert.equal(((await viaToken.json()) as { error: { code: string } }).error.code, 'step_up_required');
    const seen = await fetch(`${api.url}/api/v1/requests/${encodeURIComponent(id)}`, { headers: bearer });
    assert.equal(((await seen.json()) as { status: string }).status, 'PENDING_APPROVAL');

    // Log in again: the provider re-authenticates bob and the browser returns to the request.
    const clicked = Date.now();
    await again.click();
    await bob.page.waitForURL((u) => u.origin === api.url && u.pathname === `/requests/${id}`);
    await bob.page.getByTestId('whoami').filter({ hasText: 'bob@example.com' }).waitFor();
    const second = await sessionOf(bob.context);
    assert.notEqual(second.idHash, first.idHash, 'a new session');
    // auth_time has whole seconds: the new login is from after the click, not the old one carried over.
    assert.ok(Date.parse(second.authTime) >= Math.floor(clicked / 1000) * 1000, second.authTime);

    // Approve again: it counts, and access is granted.
    await bob.page.getByRole('button', { name: 'Approve', exact: true }).click();
    await bob.page.getByRole('status').filter({ hasText: 'Approved.' }).waitFor();
    await bob.page.getByText('Active', { exact: true }).waitFor({ timeout: 20_000 });
    await bob.page.getByTestId('countdown').waitFor();
    await bob.page
      .getByRole('list', { name: 'Timeline' })
      .getByText('Approved by bob@example.com (portal)', { exact: true })
      .waitFor();
    const approval = await h.auditEvent(id, 'request.approval');
    assert.equal(approval.actor, 'bob@example.com');
    assert.equal(approval.channel, 'portal');
    await h.waitFor(id, 'ACTIVE');
    assert.equal(await h.canWrite('alice'), true);

    // A cookie-authenticated POST from the page without x-csrf-token is refused.
    const refused = await bob.page.evaluate(
      async (path) => {
        const res = await fetch(path, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'no csrf token' }),
        });
        return { status: res.status, body: (await res.json()) as { error?: { code?: string } } };
      },
      `/api/v1/requests/${encodeURIComponent(id)}/revoke`,
    );
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'csrf');
    assert.equal((await getRequest(h.ctx, id)).status, 'ACTIVE');

    await alice.context.close();
    await bob.context.close();
  });
});
