/**
 * The portal end to end, in headless Chromium against `grantflow dev` (what `npm start` runs): alice logs in and
 * requests sandbox-readwrite; bob approves from his Approvals page; alice sees the grant ACTIVE with a live
 * countdown and really can write in PostgreSQL; she revokes it early and the access is gone; the timeline and
 * the admin pages (audit log with the chain check, active grants, flows and integration health) show it all.
 * Each page is also checked for labels, keyboard entry and a narrow screen. Screenshots: test-results/screenshots.
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkAccessible, launchBrowser, screenshot } from './helpers/browser';
import { createDevStack, type DevProcess, type DevStack } from './helpers/dev-stack';
import { until } from './helpers/until';

/** Passes when alice's sandbox login may change the incidents table (readwrite). */
const WRITE_CHECK = 'begin; lock table incidents in row exclusive mode; rollback';

describe('portal in Chromium (npm start stack)', function () {
  this.timeout(240_000);
  let stack: DevStack;
  let dev: DevProcess;
  let browser: Browser;
  let base: string;
  let alicePassword: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    stack = await createDevStack();
    dev = await stack.start();
    base = stack.state().apiUrl;
    alicePassword = stack.password(dev.output(), 'alice');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close(dev);
  });

  /** A fresh browser profile logged in (dev login) as `email`. */
  async function loggedIn(email: string, viewport = { width: 1200, height: 860 }): Promise<Page> {
    const context = await browser.newContext({ viewport, baseURL: base });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${email}: ${e.message}`));
    await page.goto('/');
    await page.getByLabel('Log in as').selectOption(email);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('whoami').filter({ hasText: email }).waitFor();
    return page;
  }

  it('shows the login page with the dev banner, and a keyboard can reach the login', async () => {
    const context = await browser.newContext({ baseURL: base });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/requests');
    await page.getByRole('heading', { name: 'Log in to Grantflow' }).waitFor();
    await page.getByText('Development login: pick any demo identity').waitFor();
    await checkAccessible(page, 'login');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'dev-email');
    await screenshot(page, '01-login');
  });

  it('requests, approves, grants with a countdown, revokes early, and shows the audit trail', async () => {
    const alice = await loggedIn('alice@example.com');
    assert.equal(await stack.can('alice', alicePassword, WRITE_CHECK), false, 'no write access before');

    // Request access: only what alice's flows allow, with the flow's terms.
    await alice.getByRole('link', { name: 'Request access' }).first().click();
    await alice.getByLabel('Access flow').selectOption('sandbox-readwrite');
    await alice.getByText('Needs 1 approval from: bob@example.com, carol@example.com').waitFor();
    await alice.getByText('at most 4h').waitFor();
    await checkAccessible(alice, 'request access');
    // The justification rule is enforced before anything is sent.
    assert.equal(await alice.getByRole('button', { name: 'Request access' }).isDisabled(), true);
    await alice.getByLabel('For how long').fill('9h');
    await alice.getByText('At most 4h for this flow.').waitFor();
    await alice.getByLabel('For how long').fill('30m');
    await alice.getByLabel('Why').fill('INC-4242: fix the stuck incident rows');
    await screenshot(alice, '02-request-access');
    await alice.getByRole('button', { name: 'Request access' }).click();
    await alice.waitForURL(/\/requests\/req_/);
    const id = decodeURIComponent(new URL(alice.url()).pathname.split('/').pop() ?? '');
    await alice.locator('[data-status="PENDING_APPROVAL"]').waitFor();
    await alice.getByText('INC-4242: fix the stuck incident rows').waitFor();
    await checkAccessible(alice, 'pending request');
    await screenshot(alice, '03-request-pending');

    // Bob, an approver, finds it on his Approvals page with who, what, why and how long.
    const bob = await loggedIn('bob@example.com');
    await bob.getByRole('link', { name: 'Approvals' }).click();
    const row = bob.locator(`tr[data-request-id="${id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /alice@example\.com[\s\S]*readwrite[\s\S]*INC-4242[\s\S]*30m/);
    await checkAccessible(bob, 'approvals');
    await screenshot(bob, '04-approvals');
    await row.getByRole('link', { name: `Review request ${id}` }).click();
    await bob.getByLabel('Comment (optional)').fill('ok for the incident');
    await bob.getByRole('button', { name: 'Approve', exact: true }).click();
    await bob.getByRole('status').filter({ hasText: 'Approved.' }).waitFor();

    // Alice's page follows by itself: ACTIVE, a countdown that counts, and real access in PostgreSQL.
    await alice.locator('[data-status="ACTIVE"]').waitFor({ timeout: 30_000 });
    const countdown = alice.getByTestId('countdown').first();
    const first = await countdown.innerText();
    assert.match(first, /(29|30):\d\d/);
    await until('the countdown ticks', async () => (await countdown.innerText()) !== first, 5000);
    assert.equal(await stack.can('alice', alicePassword, WRITE_CHECK), true, 'write access while ACTIVE');
    const temporal = alice.getByRole('link', { name: 'Open the workflow in the Temporal Web UI' });
    const href = String(await temporal.getAttribute('href'));
    assert.match(href, new RegExp(`/namespaces/default/workflows/[^/]*${id}`));
    assert.equal((await fetch(href)).status, 200, 'the Temporal Web UI answers the link');
    await checkAccessible(alice, 'active request');
    await screenshot(alice, '05-request-active');

    // Revoke early, with a confirmation; the access is gone and the timeline tells the story.
    await alice.getByRole('button', { name: 'Revoke now' }).click();
    await alice.getByRole('button', { name: 'Yes, revoke now' }).click();
    await alice.locator('[data-status="REVOKED"]').waitFor({ timeout: 30_000 });
    assert.equal(
      await stack.can('alice', alicePassword, WRITE_CHECK),
      false,
      'write access gone after revoke',
    );
    const timeline = alice.getByRole('list', { name: 'Timeline' });
    await until('revoked in the timeline', async () => /Access revoked/.test(await timeline.innerText()));
    const story = await timeline.innerText();
    for (const line of [
      /Requested · alice@example\.com \(portal\)/,
      /Approved by bob@example\.com \(portal\)/,
      /ok for the incident/,
      /Access granted/,
      /Revoke asked by alice@example\.com \(portal\)/,
      /Access revoked/,
    ])
      assert.match(story, line);
    await screenshot(alice, '06-request-revoked');

    // My requests lists it, on a phone-sized screen too.
    const phone = await loggedIn('alice@example.com', { width: 375, height: 800 });
    await phone.getByRole('link', { name: 'My requests' }).click();
    await phone.locator(`tr[data-request-id="${id}"] [data-status="REVOKED"]`).waitFor();
    await checkAccessible(phone, 'my requests (narrow)');
    await screenshot(phone, '07-my-requests-narrow');

    // Carol (admin): audit log with the request's events and an intact chain, active grants, flows and health.
    const carol = await loggedIn('carol@example.com');
    await carol.getByRole('link', { name: 'Audit log' }).click();
    await carol.getByLabel('Request id').fill(id);
    await carol.getByRole('button', { name: 'Filter' }).click();
    await carol.locator('tr[data-event="revoked"]').waitFor();
    assert.equal(await carol.locator('tr[data-event="requested"]').count(), 1);
    await carol.getByRole('button', { name: 'Verify hash chain' }).click();
    assert.match(
      await carol.getByTestId('verify-result').innerText(),
      /The hash chain is intact: \d+ events/,
    );
    await checkAccessible(carol, 'audit log');
    await screenshot(carol, '08-audit');
    await carol.getByRole('link', { name: 'Active grants' }).click();
    await carol.getByText('No access is active right now.').waitFor();
    await screenshot(carol, '09-active-grants');
    await carol.getByRole('link', { name: 'Flows', exact: true }).click();
    await carol.getByRole('heading', { name: 'sandbox-readwrite' }).waitFor();
    await checkAccessible(carol, 'flows');
    await screenshot(carol, '10-flows');
    await carol.getByRole('link', { name: 'Integrations', exact: true }).click();
    await carol.locator('[data-integration="sandbox-db"]').getByText('Healthy').waitFor();
    await checkAccessible(carol, 'integrations');
    await screenshot(carol, '11-integrations');

    assert.deepEqual(pageErrors, [], 'no script errors in any page');
  });

  it('keeps admin pages from people who are not admins', async () => {
    const alice = await loggedIn('alice@example.com');
    assert.equal(await alice.getByRole('link', { name: 'Audit log' }).count(), 0, 'no admin links');
    await alice.goto('/admin/audit');
    await alice.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
    await alice.goto('/admin/active');
    await alice.getByRole('alert').filter({ hasText: 'this needs a Grantflow admin' }).waitFor();
  });
});
