/**
 * The built `grantflow` bin in API mode: only GRANTFLOW_API_URL and GRANTFLOW_TOKEN are set (no config file,
 * no Temporal address), so every request command goes through the HTTP API as the token's identity.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createMetrics } from '../core/metrics';
import { issueToken } from '../core/tokens';
import { startApiServer, type ApiServer } from '../server/start';
import { createHarness, type Harness } from './helpers/harness';
import { testLog } from './setup/stack';
import { runCli, type CliResult } from './helpers/run-cli';

describe('grantflow CLI in API mode', function () {
  this.timeout(120_000);
  let h: Harness;
  let api: ApiServer;
  let cwd: string;
  const tokens: Record<string, string> = {};

  const cliWith = (url: string, token: string, args: string[]) =>
    runCli(args, {
      env: { PATH: process.env.PATH ?? '', HOME: cwd, GRANTFLOW_API_URL: url, GRANTFLOW_TOKEN: token },
      cwd,
    });
  const cli = (person: string, ...args: string[]) => cliWith(api.url, tokens[person], args);
  const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;
  const oneLine = (r: CliResult) => assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

  before(async () => {
    h = await createHarness();
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
    });
    for (const p of ['alice', 'bob'])
      tokens[p] = (await issueToken(h.ctx, { email: `${p}@example.com`, createdBy: 'test' })).token;
    cwd = mkdtempSync(path.join(os.tmpdir(), 'gf-cli-api-'));
  });
  after(async () => {
    await api?.close();
    await h?.close();
  });

  it('requests, refuses self-approval, approves as the token, and shows the grant', async () => {
    const created = await cli(
      'alice',
      '--as',
      'bob@example.com',
      'request',
      '--flow',
      'approved-write',
      '--resource',
      'db',
      '--permission',
      'readwrite',
      '--duration',
      '1m',
      '--reason',
      'api mode',
      '--json',
    );
    assert.equal(created.code, 0, created.stderr);
    // --as is ignored: the token says who acts.
    assert.match(created.stderr, /--as is ignored in API mode/);
    const req = json(created);
    assert.equal(req.status, 'PENDING_APPROVAL');
    assert.equal(req.requester, 'alice@example.com');
    assert.equal(req.existing, false);
    const id = String(req.id);

    const own = await cli('alice', 'approve', id);
    assert.equal(own.code, 5, own.stderr);
    oneLine(own);
    assert.match(own.stderr, /^grantflow: /);

    const approved = await cli('bob', 'approve', id, '--comment', 'ok', '--json');
    assert.equal(approved.code, 0, approved.stderr);
    const decided = json(approved);
    assert.deepEqual(
      (decided.approvals as { approver: string }[]).map((a) => a.approver),
      ['bob@example.com'],
    );

    let status: Record<string, unknown> = {};
    for (let i = 0; i < 40 && status.status !== 'ACTIVE'; i++) {
      const r = await cli('alice', 'status', id, '--json');
      assert.equal(r.code, 0, r.stderr);
      status = json(r);
      if (status.status !== 'ACTIVE') await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(status.status, 'ACTIVE');
    assert.equal(typeof status.expiresAt, 'string');
    assert.ok(!('timeline' in status), 'prints the same shape as operator mode');
    assert.equal(await h.canWrite('alice'), true);

    const listed = await cli('alice', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as { id: string; status: string }[];
    assert.equal(rows.find((r) => r.id === id)?.status, 'ACTIVE');
    const text = await cli('alice', 'list');
    assert.match(text.stdout, new RegExp(`${id}\\s+ACTIVE`));

    const revoked = await cli('alice', 'revoke', id, '--reason', 'done', '--wait', '--json');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(json(revoked).status, 'REVOKED');
  });

  it('waits for an auto-approved grant with --wait', async () => {
    const r = await cli(
      'alice',
      'request',
      '--flow',
      'auto-read',
      '--resource',
      'db',
      '--permission',
      'readonly',
      '--duration',
      '20s',
      '--wait',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r).status, 'ACTIVE');
    assert.equal(r.stderr, '');
  });

  it('maps API errors to the operator exit codes', async () => {
    const missing = await cli('alice', 'status', 'req_doesnotexist');
    assert.equal(missing.code, 4, missing.stderr);
    oneLine(missing);
    const badToken = await cliWith(api.url, 'gft_not-a-real-token', ['list']);
    assert.equal(badToken.code, 9, badToken.stderr);
    oneLine(badToken);
    assert.doesNotMatch(badToken.stderr, /gft_not-a-real-token/);
    const forbidden = await cli('alice', 'list', '--scope', 'all');
    assert.equal(forbidden.code, 9, forbidden.stderr);
    const badDuration = await cli('alice', 'extend', 'req_x', '--by', 'soon');
    assert.equal(badDuration.code, 2, badDuration.stderr);
  });

  it('names the URL in one line when the API cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there, so the connection is refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}`;
    const r = await cliWith(url, tokens.alice, ['status', 'req_x']);
    assert.equal(r.code, 8, r.stderr);
    oneLine(r);
    assert.ok(
      r.stderr.startsWith(`grantflow: cannot reach the Grantflow API at ${url}: ECONNREFUSED`),
      r.stderr,
    );
  });
});
