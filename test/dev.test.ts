/**
 * `grantflow dev` (what `npm start` runs), end to end: everything starts on free ports with no configuration,
 * a first request grants real access in the sandbox, Ctrl-C stops every part, and a second start resumes the
 * in-flight grant and revokes it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createDevStack, type DevProcess, type DevStack } from './helpers/dev-stack';

describe('grantflow dev (npm start)', function () {
  this.timeout(240_000);
  let stack: DevStack;
  let dev: DevProcess | undefined;

  before(async () => {
    stack = await createDevStack();
  });
  after(async () => {
    await stack?.close(dev);
  });

  const startDev = () => stack.start();
  const cli = (...args: string[]) => stack.cli(...args);
  const aliceCanRead = (password: string) => stack.can('alice', password, 'select * from incidents');

  it('starts everything, grants a first request, stops cleanly, and resumes in-flight grants', async () => {
    dev = await startDev();
    const state = stack.state();
    for (const key of ['apiUrl', 'temporalAddress', 'temporalUiUrl', 'sandboxAdminUrl'] as const)
      assert.ok(state[key], key);
    assert.equal((await fetch(`${state.apiUrl}/healthz`)).status, 200);
    const ready = await fetch(`${state.apiUrl}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    assert.match(await (await fetch(`${state.apiUrl}/metrics`)).text(), /grantflow_grants_active 0/);
    assert.equal((await fetch(state.temporalUiUrl)).status, 200);

    const password = stack.password(dev.output(), 'alice');
    assert.match(dev.output(), /npx grantflow --as alice@example.com request/);
    assert.match(
      dev.output(),
      /Slack is off: set SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN \(or SLACK_CLIENT_ID/,
      'one line says Slack is off and how to turn it on',
    );
    assert.match(dev.output(), /Integrations {6}http:\/\/localhost:\d+\/admin\/integrations/);
    assert.match(
      dev.output(),
      /Notifications: every flow's notifications have somewhere to go/,
      'the routing check ran (the demo flows notify the log only)',
    );
    assert.equal(await aliceCanRead(password), false, 'no access before the first request');

    // The CLI finds the running stack through dev.json: no Temporal or database settings needed.
    const request = JSON.parse(
      await cli(
        '--as',
        'alice@example.com',
        'request',
        '--flow',
        'sandbox-readonly',
        '--resource',
        'sandbox-db',
        '--permission',
        'readonly',
        '--duration',
        '25s',
        '--reason',
        'first request',
        '--wait',
        '--json',
      ),
    );
    assert.equal(request.status, 'ACTIVE');
    assert.equal(await aliceCanRead(password), true, 'access after the grant');
    assert.match(await (await fetch(`${state.apiUrl}/metrics`)).text(), /grantflow_grants_active 1/);

    dev.child.kill('SIGINT');
    assert.equal(await dev.exited, 0, dev.output());
    assert.equal(existsSync(path.join(stack.dataDir, 'dev.json')), false, 'dev.json is removed on stop');
    const t = state.ports.temporal;
    const portFree = await new Promise((resolve) => {
      const s = require('node:net').createServer();
      s.once('error', () => resolve(false));
      s.listen(t, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    assert.equal(portFree, true, 'the Temporal dev server stopped too');

    dev = await startDev();
    const resumed = JSON.parse(await cli('status', request.id, '--json'));
    assert.equal(resumed.status, 'ACTIVE', 'the grant survived the restart');
    const deadline = Date.parse(request.expiresAt) + 30_000;
    let status = resumed.status;
    while (status !== 'REVOKED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = JSON.parse(await cli('status', request.id, '--json')).status;
    }
    assert.equal(status, 'REVOKED');
    assert.equal(await aliceCanRead(password), false, 'access gone at expiry');
    const verify = await cli('audit', 'verify');
    assert.match(verify, /audit chain intact/);
  });
});
