/**
 * The admin Integrations page in headless Chromium against `grantflow dev`, with a fake Slack playing the OAuth
 * install: carol (admin) sees Slack off, Teams configured and the sandbox connector; she connects Slack through
 * the consent page and comes back to the workspace, bot, scopes and who connected it; checks the connector now;
 * downloads the Teams app package; disconnects Slack (its token revoked in Slack). bob (no admin) sees none of it
 * and cannot start an install, and a cancelled install comes back as an error banner.
 * Screenshots: test-results/screenshots (integrations-slack-connected is the page after connecting).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BOT_SCOPES } from '../chat-adapters/slack/settings';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { checkAccessible, launchBrowser, screenshot } from './helpers/browser';
import { createDevStack, type DevProcess, type DevStack } from './helpers/dev-stack';
import { readZip } from './helpers/zip';

const OAUTH = {
  clientId: '4242.1717',
  clientSecret: 'portal-test-client-secret',
  stateSecret: 'portal-test-state-secret-0123456789',
};
const WORKSPACE = { id: 'T0ACME', name: 'Acme Corp' };
const TEAMS_APP_ID = '3b8e51c2-7d4f-4a90-b1e6-2c5d8f0a9e13';
const WIDE = { width: 1200, height: 860 };
const NARROW = { width: 375, height: 800 };

describe('Integrations page in Chromium (grantflow dev, fake Slack)', function () {
  this.timeout(240_000);
  let fake: FakeSlack;
  let stack: DevStack;
  let dev: DevProcess;
  let browser: Browser;
  let base: string;
  let carol: Page;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    fake = await startFakeSlack({
      token: 'xoxb-not-given-to-grantflow',
      oauth: { clientId: OAUTH.clientId, clientSecret: OAUTH.clientSecret, team: WORKSPACE },
    });
    stack = await createDevStack();
    // Slack comes back to the address the browser logged in on, so the session and state cookies go with it.
    const origin = `http://localhost:${stack.env.GRANTFLOW_PORT}`;
    Object.assign(stack.env, {
      SLACK_CLIENT_ID: OAUTH.clientId,
      SLACK_CLIENT_SECRET: OAUTH.clientSecret,
      SLACK_STATE_SECRET: OAUTH.stateSecret,
      SLACK_SIGNING_SECRET: 'portal-test-signing-secret',
      SLACK_API_URL: fake.url,
      SLACK_REDIRECT_URI: `${origin}/slack/oauth_redirect`,
      MicrosoftAppId: TEAMS_APP_ID,
    });
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'MicrosoftAppPassword', 'GRANTFLOW_PUBLIC_URL'])
      delete stack.env[name];
    dev = await stack.start();
    base = stack.state().apiUrl;
    assert.equal(base, origin, 'the dev stack serves the portal where Slack sends the browser back');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close(dev);
    await fake?.close();
  });

  /** A fresh browser profile logged in (dev login) as `email`. */
  async function loggedIn(email: string): Promise<Page> {
    const context = await browser.newContext({ viewport: WIDE, baseURL: base, acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${email}: ${e.message}`));
    await page.goto('/');
    await page.getByLabel('Log in as').selectOption(email);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('whoami').filter({ hasText: email }).waitFor();
    return page;
  }

  /** Connect Slack from the page: the browser ends up on the fake's consent page. */
  async function startConnect(page: Page): Promise<void> {
    await page.getByRole('link', { name: 'Connect Slack' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${fake.authorizeUrl}?`));
  }

  it('shows Slack off with Connect, Teams configured and the sandbox connector, wide and narrow', async () => {
    carol = await loggedIn('carol@example.com');
    await carol.getByRole('link', { name: 'Integrations' }).click();
    await carol.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();

    const slack = carol.getByTestId('slack-card');
    await slack.getByTestId('slack-status').filter({ hasText: 'Off' }).waitFor();
    assert.equal(await slack.getByTestId('slack-status').getAttribute('data-state'), 'off');
    assert.equal(await slack.getByTestId('slack-source').getAttribute('data-source'), 'none');
    await slack.getByText('No workspace is connected: use Connect Slack.').waitFor();
    const connect = slack.getByRole('link', { name: 'Connect Slack' });
    assert.equal(await connect.getAttribute('href'), '/slack/install');
    assert.equal(await slack.getByRole('button', { name: 'Disconnect Slack' }).count(), 0);

    const teams = carol.getByTestId('teams-card');
    assert.equal(await teams.getByTestId('teams-status').innerText(), 'Configured');
    assert.equal(await teams.getByTestId('teams-status').getAttribute('data-configured'), 'true');
    await teams.getByText(TEAMS_APP_ID, { exact: true }).waitFor();
    await teams.getByRole('link', { name: 'Download Teams app package' }).waitFor();

    const row = carol.locator('[data-integration="sandbox-db"]');
    await row.waitFor();
    assert.match(await row.innerText(), /sandbox-db[\s\S]*postgres/);
    assert.equal(await carol.getByTestId('routing-warnings').getAttribute('data-count'), '0');

    await checkAccessible(carol, 'integrations');
    await carol.setViewportSize(NARROW);
    await checkAccessible(carol, 'integrations (narrow)');
    await screenshot(carol, 'integrations-narrow');
    await carol.setViewportSize(WIDE);
  });

  it('connects Slack through the consent page and shows the workspace, bot, scopes and who connected it', async () => {
    await startConnect(carol);
    await carol
      .getByRole('heading', {
        level: 1,
        name: `Grantflow is requesting permission to access the ${WORKSPACE.name} Slack workspace`,
      })
      .waitFor();
    assert.deepEqual(await carol.locator('li code').allInnerTexts(), [...BOT_SCOPES]);
    await carol.getByRole('button', { name: 'Allow' }).click();

    await carol.waitForURL(`${base}/admin/integrations?slack=connected`);
    const banner = carol.getByTestId('slack-oauth-banner');
    await banner.filter({ hasText: `Slack is connected to ${WORKSPACE.name} (${WORKSPACE.id}).` }).waitFor();
    assert.equal(await banner.getAttribute('role'), 'status');

    const slack = carol.getByTestId('slack-card');
    await slack.getByTestId('slack-status').filter({ hasText: 'Active' }).waitFor();
    assert.equal(await slack.getByTestId('slack-status').getAttribute('data-state'), 'active');
    assert.equal(
      await slack.getByTestId('slack-workspace').innerText(),
      `${WORKSPACE.name} (${WORKSPACE.id})`,
    );
    await slack.getByText('UBOT (bot BBOT)').waitFor();
    assert.deepEqual(
      await slack.getByRole('list', { name: 'Granted scopes' }).getByRole('listitem').allInnerTexts(),
      [...BOT_SCOPES],
    );
    assert.match(await slack.innerText(), /Connected by\s+carol@example\.com, just now/);
    const source = slack.getByTestId('slack-source');
    assert.equal(await source.getAttribute('data-source'), 'oauth');
    assert.equal(await source.innerText(), 'Connected with Slack (OAuth)');
    await slack.getByRole('link', { name: 'Reconnect Slack' }).waitFor();

    assert.equal(fake.installs.length, 1, 'one code exchanged with oauth.v2.access');
    assert.equal(fake.installs[0]!.redirectUri, `${base}/slack/oauth_redirect`);
    await checkAccessible(carol, 'integrations (Slack connected)');
    await screenshot(carol, 'integrations-slack-connected');

    // Dismissing the banner takes the round trip's outcome out of the address bar.
    await banner.getByRole('button', { name: 'Dismiss' }).click();
    await banner.waitFor({ state: 'detached' });
    assert.equal(new URL(carol.url()).search, '');
  });

  it('checks the sandbox connector on demand', async () => {
    const row = carol.locator('[data-integration="sandbox-db"]');
    const last = row.locator('td[data-label="Last checked"] time');
    const before = (await last.count()) ? Date.parse(String(await last.getAttribute('datetime'))) : 0;
    const clicked = Date.now();
    await row.getByRole('button', { name: 'Check sandbox-db now' }).click();
    await carol
      .getByTestId('connector-sandbox-db-check-result')
      .filter({ hasText: 'checked: Healthy' })
      .waitFor();
    assert.equal(await row.getAttribute('data-health'), 'healthy');
    assert.match(await row.locator('td[data-label="Health"]').innerText(), /Healthy/);
    assert.match(await row.locator('td[data-label="Last checked"]').innerText(), /^just now \(/);
    const after = Date.parse(String(await last.getAttribute('datetime')));
    assert.ok(after > before && after >= clicked - 1000, 'the last check is the one just asked for');
  });

  it('downloads the Teams app package with the configured app id', async () => {
    const [download] = await Promise.all([
      carol.waitForEvent('download'),
      carol.getByRole('link', { name: 'Download Teams app package' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'grantflow-teams-app.zip');
    const entries = readZip(readFileSync(await download.path()));
    assert.deepEqual(entries.map((e) => e.name).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8')) as {
      id: string;
      bots: { botId: string }[];
    };
    assert.equal(manifest.id, TEAMS_APP_ID);
    assert.equal(manifest.bots[0]?.botId, TEAMS_APP_ID);
  });

  it('disconnects Slack after a confirmation and revokes the token in Slack', async () => {
    const token = fake.installs[0]!.token;
    assert.equal(fake.isRevoked(token), false);
    const slack = carol.getByTestId('slack-card');
    await slack.getByRole('button', { name: 'Disconnect Slack' }).click();
    const confirm = slack.getByRole('group', { name: 'Confirm disconnect' });
    assert.match(
      await confirm.innerText(),
      new RegExp(
        `Disconnect ${WORKSPACE.name} \\(${WORKSPACE.id}\\)\\?[\\s\\S]*off until someone connects it again`,
      ),
    );
    // The safe choice has the focus; nothing happens until the second press.
    assert.equal(await carol.evaluate(() => document.activeElement?.textContent), 'Keep it connected');
    assert.equal(fake.isRevoked(token), false);
    await confirm.getByRole('button', { name: 'Yes, disconnect' }).click();

    await slack
      .getByRole('status')
      .filter({ hasText: 'Disconnected. Slack is now off: nobody gets Slack messages from Grantflow.' })
      .waitFor();
    assert.equal(await slack.getByTestId('slack-status').getAttribute('data-state'), 'off');
    assert.equal(await slack.getByTestId('slack-status').innerText(), 'Off');
    assert.equal(await slack.getByTestId('slack-source').innerText(), 'No token');
    assert.equal(await slack.getByTestId('slack-workspace').count(), 0);
    await slack.getByRole('link', { name: 'Connect Slack' }).waitFor();
    assert.equal(fake.isRevoked(token), true, 'auth.revoke revoked the bot token');

    // The server agrees after a reload, not only the page's own state.
    await carol.reload();
    await carol.getByTestId('slack-status').filter({ hasText: 'Off' }).waitFor();
  });

  it('keeps the page and the install from bob, who is not an admin', async () => {
    const bob = await loggedIn('bob@example.com');
    assert.equal(await bob.getByRole('link', { name: 'Integrations' }).count(), 0, 'no Integrations link');
    await bob.goto('/admin/integrations');
    await bob.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
    assert.equal(await bob.getByTestId('slack-card').count(), 0);
    assert.equal(await bob.getByTestId('teams-card').count(), 0);
    assert.equal(await bob.locator('[data-integration]').count(), 0);

    const refused = await bob.goto('/slack/install');
    assert.equal(refused?.status(), 403);
    assert.equal(new URL(bob.url()).origin, base, 'no redirect to Slack');
    await bob.getByRole('alert').filter({ hasText: 'Only a Grantflow admin can connect Slack' }).waitFor();
    assert.equal(fake.installs.length, 1, 'no new install');
  });

  it('comes back with an error banner when the install is cancelled in Slack', async () => {
    await carol.goto('/admin/integrations');
    await startConnect(carol);
    await carol.getByRole('button', { name: 'Cancel' }).click();

    await carol.waitForURL((url) => url.pathname === '/admin/integrations' && url.origin === base);
    assert.equal(new URL(carol.url()).searchParams.get('slack_error'), 'access_denied');
    const banner = carol.getByTestId('slack-oauth-banner');
    await banner.waitFor();
    assert.equal(await banner.getAttribute('role'), 'alert');
    assert.match(
      await banner.innerText(),
      /Slack was not connected: the install was cancelled in Slack[\s\S]*Error code: access_denied/,
    );
    assert.equal(await carol.getByTestId('slack-status').getAttribute('data-state'), 'off');
    assert.equal(fake.installs.length, 1, 'no code was exchanged');
    await checkAccessible(carol, 'integrations (install cancelled)');
    await screenshot(carol, 'integrations-slack-cancelled');
  });

  it('had no script errors in any page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
