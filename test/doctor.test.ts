/**
 * `grantflow doctor` and `grantflow migrate` against Temporal behind the mutual-TLS nginx proxy: every check OK
 * (exit 0); a stopped proxy fails the Temporal checks with a fix (exit 10) while the rest still runs; a fresh
 * namespace lacks Grantflow's search attributes until `grantflow migrate` creates them (idempotently; where the
 * operator API is refused, as on Temporal Cloud, it says to use tcld); and a bad Slack token, malformed encryption
 * keys, a half-configured Teams bot and an unmigrated database are each named with their fix, without a secret in
 * the output.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { DOCTOR_FAILED_EXIT_CODE, type CheckResult } from '../core/doctor';
import { GRANTFLOW_SEARCH_ATTRIBUTES } from '../devstack/search-attributes';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { createHarness, type Harness } from './helpers/harness';
import {
  envWithoutTemporal,
  makeTlsFiles,
  startGrpcTlsProxy,
  type GrpcTlsProxy,
} from './helpers/grpc-tls-proxy';
import { runCli, type CliResult } from './helpers/run-cli';
import { until } from './helpers/until';
import { getTestTemporal } from './setup/stack';

interface Report {
  ok: boolean;
  exitCode: number;
  checks: CheckResult[];
}

function parse(r: CliResult): Report {
  try {
    return JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

function statuses(report: Report): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

function check(report: Report, id: string): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  assert.ok(found, `no check ${id} in ${JSON.stringify(statuses(report))}`);
  return found;
}

describe('grantflow doctor and migrate (Temporal over mutual TLS)', function () {
  this.timeout(90_000);
  let dir: string;
  let proxy: GrpcTlsProxy;
  let cloudLike: GrpcTlsProxy;
  let slack: FakeSlack;
  let h: Harness;
  let env: NodeJS.ProcessEnv;
  let devAddress: string;
  const slackToken = `xoxb-doctor-${randomBytes(6).toString('hex')}`;
  const keys = `k1:${randomBytes(32).toString('base64')}`;

  const doctor = (extra: NodeJS.ProcessEnv = {}, args: string[] = ['--json']) =>
    runCli(['doctor', '--timeout', '8', ...args], { env: { ...env, ...extra } });

  before(async () => {
    const temporal = await getTestTemporal();
    devAddress = temporal.address;
    dir = mkdtempSync(path.join(os.tmpdir(), 'gf-doctor-'));
    const tls = makeTlsFiles(path.join(dir, 'pki'));
    [proxy, cloudLike, slack, h] = await Promise.all([
      startGrpcTlsProxy({ upstream: temporal.address, tls, dir: path.join(dir, 'nginx') }),
      startGrpcTlsProxy({
        upstream: temporal.address,
        tls,
        dir: path.join(dir, 'nginx-no-operator'),
        denyMethods: ['/temporal.api.operatorservice.v1.OperatorService/AddSearchAttributes'],
      }),
      startFakeSlack({ token: slackToken }),
      createHarness({ noWorker: true }),
    ]);
    const configFile = path.join(dir, 'grantflow.yaml');
    writeFileSync(configFile, h.configYaml);
    env = {
      ...envWithoutTemporal(path.join(dir, 'no-config')),
      ...h.configEnv,
      GRANTFLOW_CONFIG: configFile,
      GRANTFLOW_DATA_DIR: path.join(dir, 'data'),
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.caCert,
      TEMPORAL_TLS_SERVER_NAME: tls.serverName,
      TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKey,
      GRANTFLOW_ENCRYPTION_KEYS: keys,
      SLACK_BOT_TOKEN: slackToken,
      SLACK_SIGNING_SECRET: 'doctor-signing-secret',
      SLACK_API_URL: slack.url,
      GRANTFLOW_LOG_PRETTY: '0',
    };
    delete env.MicrosoftAppId;
    delete env.MicrosoftAppPassword;
    delete env.DATABASE_URL;
  });
  after(async () => {
    await proxy?.stop();
    await cloudLike?.stop();
    await slack?.close();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('migrates, then every check is OK against the proxied server (exit 0)', async () => {
    const migrated = await runCli(['migrate'], { env });
    assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
    assert.match(migrated.stdout, /migrated \(sqlite\)/);
    assert.match(
      migrated.stdout,
      new RegExp(`search attributes: all present on namespace default at ${proxy.address}`),
    );

    const r = await doctor();
    const report = parse(r);
    assert.equal(r.code, 0, JSON.stringify(report, null, 2));
    assert.equal(report.ok, true);
    assert.deepEqual(statuses(report), {
      'temporal.settings': 'ok',
      'temporal.connection': 'ok',
      'temporal.worker-connection': 'ok',
      'temporal.namespace': 'ok',
      'temporal.search-attributes': 'ok',
      database: 'ok',
      config: 'ok',
      'integration.db': 'ok',
      slack: 'ok',
      teams: 'skip',
      'encryption-keys': 'ok',
    });
    assert.match(
      check(report, 'temporal.settings').message,
      /server name temporal\.test.*client certificate CN=grantflow-worker/,
    );
    assert.match(check(report, 'database').message, /schema up to date/);
    assert.match(check(report, 'slack').message, /bot token works/);
    assert.match(check(report, 'teams').message, /not configured/);
    // Progress goes to stderr as each check ends, so stdout stays one JSON document.
    assert.match(r.stderr, /OK Temporal connection \(client\)/);

    const text = await doctor({}, []);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /^OK {3}Temporal namespace: namespace default exists/m);
    assert.match(text.stdout, /^-- {3}Microsoft Teams: not configured/m);
    assert.match(text.stdout, /all checks passed: 10 ok, 0 failed, 1 skipped/);
  });

  it('against a stopped proxy: Temporal FAILs with a fix, the rest still runs, exit 10', async () => {
    await proxy.stop();
    try {
      const r = await doctor();
      const report = parse(r);
      assert.equal(r.code, DOCTOR_FAILED_EXIT_CODE, JSON.stringify(report, null, 2));
      const s = statuses(report);
      assert.equal(s['temporal.connection'], 'fail');
      assert.equal(s['temporal.worker-connection'], 'fail');
      assert.equal(s['temporal.namespace'], 'skip');
      assert.equal(s.database, 'ok');
      assert.equal(s['integration.db'], 'ok');
      const failed = check(report, 'temporal.connection');
      assert.match(failed.message, new RegExp(`nothing accepts connections at ${proxy.address}`));
      assert.match(failed.fix ?? '', /TEMPORAL_ADDRESS/);
      const text = await doctor({}, []);
      assert.equal(text.code, DOCTOR_FAILED_EXIT_CODE);
      assert.match(text.stdout, /^FAIL Temporal connection \(client\): nothing accepts connections/m);
      assert.match(text.stdout, /^ {5}fix: Check TEMPORAL_ADDRESS/m);
      assert.match(text.stdout, /some checks failed/);
    } finally {
      await proxy.start();
    }
  });

  it('a namespace without the search attributes: doctor names them, migrate creates them, doctor passes', async () => {
    const namespace = `gf-doctor-${randomBytes(3).toString('hex')}`;
    const plain = await Connection.connect({ address: devAddress });
    try {
      await plain.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      await until(`namespace ${namespace}`, () =>
        plain.workflowService.describeNamespace({ namespace }).then(
          () => true,
          () => false,
        ),
      );
    } finally {
      await plain.close();
    }
    const nsEnv = { TEMPORAL_NAMESPACE: namespace };
    const before = parse(await doctor(nsEnv));
    assert.equal(before.exitCode, DOCTOR_FAILED_EXIT_CODE);
    const missing = check(before, 'temporal.search-attributes');
    assert.equal(missing.status, 'fail');
    for (const [name, type] of Object.entries(GRANTFLOW_SEARCH_ATTRIBUTES))
      assert.ok(missing.message.includes(`${name} (${type})`), missing.message);
    assert.match(missing.fix ?? '', /grantflow migrate/);

    // Where the operator API is not allowed (Temporal Cloud), migrate says how to create them instead.
    const denied = await runCli(['migrate'], {
      env: { ...env, ...nsEnv, TEMPORAL_ADDRESS: cloudLike.address },
    });
    assert.equal(denied.code, 8, denied.stdout + denied.stderr);
    assert.match(denied.stdout, /migrated \(sqlite\)/, 'the tables are migrated first');
    assert.match(denied.stderr, /does not allow adding search attributes through the operator API/);
    assert.match(
      denied.stderr,
      new RegExp(
        `tcld namespace search-attributes add --namespace ${namespace} --search-attribute GrantflowStatus=Keyword`,
      ),
    );
    assert.match(denied.stderr, /grantflow migrate --skip-temporal/);

    const migrated = await runCli(['migrate'], { env: { ...env, ...nsEnv } });
    assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
    assert.match(
      migrated.stdout,
      /search attributes: created GrantflowStatus \(Keyword\), .*GrantflowExpiresAt \(Datetime\)/,
    );
    const again = await runCli(['migrate'], { env: { ...env, ...nsEnv } });
    assert.match(again.stdout, /search attributes: all present/, 'migrate is idempotent');
    const tablesOnly = await runCli(['migrate', '--skip-temporal'], {
      env: { ...env, ...nsEnv, TEMPORAL_ADDRESS: '127.0.0.1:1' },
    });
    assert.equal(tablesOnly.code, 0, tablesOnly.stderr);
    assert.doesNotMatch(tablesOnly.stdout, /search attributes/);

    const after = await doctor(nsEnv);
    assert.equal(after.code, 0, after.stdout);
    assert.equal(check(parse(after), 'temporal.search-attributes').status, 'ok');
  });

  it('names each broken part with its fix, and prints no secret', async () => {
    const r = await doctor({
      GRANTFLOW_DATA_DIR: path.join(dir, 'empty'),
      SLACK_BOT_TOKEN: 'xoxb-wrong-token-000',
      GRANTFLOW_ENCRYPTION_KEYS: 'k1:dG9vLXNob3J0',
      MicrosoftAppId: '00000000-0000-0000-0000-000000000001',
    });
    const report = parse(r);
    assert.equal(r.code, DOCTOR_FAILED_EXIT_CODE);
    const db = check(report, 'database');
    assert.equal(db.status, 'fail');
    assert.match(db.message, /does not exist/);
    assert.match(db.fix ?? '', /grantflow migrate/);
    const slackCheck = check(report, 'slack');
    assert.equal(slackCheck.status, 'fail');
    assert.match(slackCheck.message, /invalid_auth/);
    assert.match(slackCheck.fix ?? '', /SLACK_BOT_TOKEN/);
    const keysCheck = check(report, 'encryption-keys');
    assert.equal(keysCheck.status, 'fail');
    assert.match(keysCheck.message, /key k1 must be 32 bytes/);
    const teams = check(report, 'teams');
    assert.equal(teams.status, 'fail');
    assert.match(teams.message, /not MicrosoftAppPassword/);
    assert.equal(check(report, 'temporal.connection').status, 'ok');
    for (const secret of ['xoxb-wrong-token-000', 'dG9vLXNob3J0', slackToken, keys.slice(3)])
      assert.ok(!(r.stdout + r.stderr).includes(secret), `${secret.slice(0, 6)}… is not printed`);
  });
});
