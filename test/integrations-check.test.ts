/**
 * `grantflow integrations check`: a clear result per integration (its connector's checks), exit 0 when all pass
 * and 8 when one fails — here a real PostgreSQL, a webhook receiver that answers, and a database on a closed port.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../devstack/ports';
import { createHarness, type Harness } from './helpers/harness';
import { runCli } from './helpers/run-cli';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';

describe('grantflow integrations check', function () {
  this.timeout(60_000);
  let h: Harness;
  let receiver: WebhookReceiver;
  let file: string;
  let env: NodeJS.ProcessEnv;
  const secret = 'a-webhook-secret-of-at-least-32-characters';

  before(async () => {
    receiver = await startWebhookReceiver({ secret });
    const down = new URL('postgres://grantflow:hunter2@127.0.0.1/db');
    down.port = String(await freePort());
    // The harness resolves the config's secret references from the environment.
    Object.assign(process.env, {
      GF_HOOK_URL: receiver.url,
      GF_HOOK_SECRET: secret,
      GF_GONE_URL: down.toString(),
    });
    h = await createHarness({
      noWorker: true,
      configTransform: (yaml) =>
        yaml.replace(
          'integrations:\n',
          `integrations:\n  hooks:\n    type: webhook\n    url: \${GF_HOOK_URL}\n    secret: \${GF_HOOK_SECRET}\n    permissions: { deploy: {} }\n  gone:\n    type: postgres\n    url: \${GF_GONE_URL}\n    permissions: { readonly: { role: nobody } }\n`,
        ),
    });
    env = { ...process.env, ...h.configEnv };
    file = path.join(mkdtempSync(path.join(os.tmpdir(), 'gf-check-')), 'grantflow.yaml');
    writeFileSync(file, h.configYaml);
  });
  after(async () => {
    for (const name of ['GF_HOOK_URL', 'GF_HOOK_SECRET', 'GF_GONE_URL']) delete process.env[name];
    await receiver?.close();
    await h?.close();
  });

  it('checks the named integrations and exits 0 when they pass', async () => {
    const r = await runCli(['--config', file, 'integrations', 'check', 'db', 'hooks'], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✔ db \(postgres membership\) ok in \d+ ms/);
    assert.match(r.stdout, /✔ CREATEROLE/);
    assert.match(r.stdout, /✔ hooks \(webhook\) ok/);
  });

  it('names what fails, and exits 8', async () => {
    const r = await runCli(['--config', file, 'integrations', 'check', '--json'], { env });
    assert.equal(r.code, 8, r.stdout + r.stderr);
    const results = JSON.parse(r.stdout) as { name: string; ok: boolean; message?: string }[];
    assert.deepEqual(Object.fromEntries(results.map((x) => [x.name, x.ok])), {
      db: true,
      hooks: true,
      gone: false,
    });
    assert.match(results.find((x) => x.name === 'gone')?.message ?? '', /ECONNREFUSED|connect/);
    const text = await runCli(['--config', file, 'integrations', 'check', 'gone'], { env });
    assert.match(text.stdout, /✘ gone \(postgres membership\) FAILED/);
    assert.ok(!(text.stdout + text.stderr).includes('hunter2'), 'no credentials in the output');
    const unknown = await runCli(['--config', file, 'integrations', 'check', 'nope'], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no integration named nope/);
  });
});
