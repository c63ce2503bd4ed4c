/**
 * The `grantflow` CLI as a person runs it (the built bin), against the shared Temporal dev server.
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createHarness, type Harness } from './helpers/harness';
import { runCli, type CliResult } from './helpers/run-cli';

describe('grantflow CLI', function () {
  this.timeout(120_000);
  let h: Harness;
  let env: NodeJS.ProcessEnv;
  let configFile: string;

  const cli = (...args: string[]) => runCli(args, { env });
  const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;

  before(async () => {
    h = await createHarness();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-cli-'));
    configFile = path.join(dir, 'grantflow.yaml');
    writeFileSync(configFile, h.configYaml);
    env = {
      ...process.env,
      ...h.configEnv,
      GRANTFLOW_CONFIG: configFile,
      GRANTFLOW_DATA_DIR: path.dirname(h.storeFile!),
      TEMPORAL_ADDRESS: h.temporal.address,
      TEMPORAL_NAMESPACE: h.temporal.namespace,
      GRANTFLOW_LOG_PRETTY: '0',
    };
  });
  after(async () => {
    await h?.close();
  });

  it('requests with --wait --json and prints one JSON object', async () => {
    const r = await cli(
      '--as',
      'alice@example.com',
      'request',
      '--flow',
      'auto-read',
      '--resource',
      'db',
      '--permission',
      'readonly',
      '--duration',
      '20s',
      '--reason',
      'cli',
      '--wait',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const out = json(r);
    for (const key of ['id', 'status', 'requester', 'flow', 'resource', 'permission', 'expiresAt'])
      assert.ok(key in out, key);
    assert.equal(out.status, 'ACTIVE');
    assert.equal(out.requester, 'alice@example.com');
    assert.equal(await h.canRead('alice'), true);

    const status = await cli('status', String(out.id), '--json');
    assert.equal(json(status).expiresAt, out.expiresAt);
    const extended = await cli('--as', 'alice@example.com', 'extend', String(out.id), '--by', '5s', '--json');
    assert.equal(Date.parse(String(json(extended).expiresAt)) - Date.parse(String(out.expiresAt)), 5000);
    const revoked = await cli('--as', 'alice@example.com', 'revoke', String(out.id), '--wait', '--json');
    assert.equal(json(revoked).status, 'REVOKED');
    assert.equal(await h.canRead('alice'), false);
    const list = await cli('list', '--status', 'REVOKED', '--json');
    assert.ok((JSON.parse(list.stdout) as { id: string }[]).some((row) => row.id === out.id));
  });

  it('refuses self-approval and non-approvers with one clear line and a non-zero exit', async () => {
    const r = await cli(
      '--as',
      'erin@example.com',
      'request',
      '--flow',
      'approved-write',
      '--resource',
      'db',
      '--permission',
      'readwrite',
      '--reason',
      'cli approval',
      '--json',
    );
    const id = String(json(r).id);
    const self = await cli('--as', 'erin@example.com', 'approve', id);
    assert.equal(self.code, 5);
    assert.deepEqual(self.stderr.trim().split('\n'), [
      'grantflow: erin@example.com cannot approve or deny their own request',
    ]);
    const stranger = await cli('--as', 'alice@example.com', 'approve', id);
    assert.equal(stranger.code, 5);
    assert.match(stranger.stderr, /not an approver/);
    const debug = await cli('--as', 'alice@example.com', '--debug', 'approve', id);
    assert.match(debug.stderr, /ActionRefusedError[\s\S]*at /, 'the stack with --debug');
    const audit = await h.store.listAudit({ requestId: id });
    const rejected = audit.filter((row) => row.type === 'request.action_rejected');
    assert.equal(rejected.length, 3);
    assert.equal(rejected[0].channel, 'cli');
    assert.equal(rejected[0].details.osUser, os.userInfo().username);

    const noReason = await cli('--as', 'bob@example.com', 'deny', id);
    assert.equal(noReason.code, 2);
    assert.match(noReason.stderr, /--reason/);
    const denied = await cli('--as', 'bob@example.com', 'deny', id, '--reason', 'not now', '--json');
    assert.equal(json(denied).status, 'DENIED');
  });

  it('says who is unknown, and which input is wrong', async () => {
    const unknown = await cli('--as', 'mallory@example.com', 'status', 'req_x');
    assert.equal(unknown.code, 4, unknown.stderr);
    const who = await cli('--as', 'mallory@example.com', 'cancel', 'req_x');
    assert.equal(who.code, 6);
    assert.match(who.stderr, /mallory@example.com is not an identity/);
    const badDuration = await cli(
      '--as',
      'alice@example.com',
      'request',
      '--flow',
      'auto-read',
      '--resource',
      'db',
      '--permission',
      'readonly',
      '--duration',
      'soon',
    );
    assert.equal(badDuration.code, 2);
    assert.match(badDuration.stderr, /--duration "soon" is not a duration/);
    const tooLong = await cli(
      '--as',
      'alice@example.com',
      'request',
      '--flow',
      'auto-read',
      '--resource',
      'db',
      '--permission',
      'readonly',
      '--duration',
      '2h',
    );
    assert.equal(tooLong.code, 3);
  });

  it('validates and explains flows', async () => {
    const ok = await cli('flows', 'validate');
    assert.equal(ok.code, 0, ok.stderr);
    const broken = path.join(path.dirname(configFile), 'broken.yaml');
    writeFileSync(
      broken,
      h.configYaml.replace(
        'maxDuration: 1m\n    maxTotalDuration: 2m',
        'maxDuration: 1 minute\n    maxTotalDuration: 2m',
      ),
    );
    const bad = await cli('flows', 'validate', broken);
    assert.equal(bad.code, 2);
    const line = h.configYaml.split('\n').findIndex((l) => l.includes('maxDuration: 1m')) + 1;
    assert.match(bad.stderr, new RegExp(`broken.yaml:${line}:\\d+: flows\\[0\\]\\.maxDuration`));
    const explain = await cli('flows', 'explain', '--user', 'alice@example.com');
    assert.equal(explain.code, 0);
    assert.match(explain.stdout, /approved-write/);
    assert.match(explain.stdout, /bob@example.com/);
  });

  it('verifies the audit chain, names a tampered row, and exports', async () => {
    const ok = await cli('audit', 'verify');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /audit chain intact/);
    const jsonl = await cli('audit', 'export', '--format', 'jsonl');
    const rows = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number });
    assert.ok(rows.length > 5);
    const csv = await cli('audit', 'export', '--format', 'csv');
    assert.match(csv.stdout.split('\n')[0], /^seq,/);

    const db = new Database(h.storeFile!);
    db.prepare("update audit_events set actor = 'mallory@example.com' where seq = 3").run();
    db.close();
    const bad = await cli('audit', 'verify');
    assert.equal(bad.code, 7);
    assert.match(bad.stdout, /row 3 .*edited/);
  });
});
