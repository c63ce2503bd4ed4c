/**
 * Drift reconciliation against a real PostgreSQL: access granted by hand is found unbacked and, in revoke mode,
 * removed (pg_auth_members checked directly) — only for roles the config lists; a grant revoked by hand is reported
 * missing and left so; a legitimate grant is neither reported nor touched; --dry-run removes nothing. Also the CLI
 * (built bin: table and exit codes), the config block, and the Temporal Schedule a worker sets and its run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { escapeIdentifier, Client as PgClient } from 'pg';
import { createReconcileActivities, reconcilePlan } from '../activities/reconcile';
import { Notifier } from '../chat-adapters/notifier';
import type { ChatAdapter } from '../chat-adapters/types';
import { ConfigError } from '../config/errors';
import { parseConfig } from '../config/load';
import type { Connector, ConnectorRegistry } from '../connectors/types';
import { createRequest } from '../core/create-request';
import { createMetrics } from '../core/metrics';
import { revokeRequest } from '../core/request-actions';
import { connectWorker } from '../core/temporal';
import { createGrantflowWorker } from '../workers/worker';
import { ensureReconcileSchedule } from '../workers/schedules';
import { runReconciliation, type ReconcileSummary } from '../workflows/reconcile';
import { connectorsFor, createHarness, type Harness, type Person } from './helpers/harness';
import { runCli } from './helpers/run-cli';
import { testConfigYaml } from './helpers/test-config';
import { until } from './helpers/until';
import { getWorkflowBundle, testLog } from './setup/stack';

const RECONCILE_BLOCK = `
reconcile:
  every: 1h
  integrations:
    db: revoke
`;

/** Collects admin alerts instead of logging them. */
function alertCollector(): ChatAdapter & { alerts: string[] } {
  const alerts: string[] = [];
  return {
    platform: 'log',
    alerts,
    post: async () => undefined,
    update: async () => undefined,
    alert: async (_target, text) => {
      alerts.push(text);
    },
  };
}

describe('drift reconciliation', function () {
  this.timeout(120_000);
  let h: Harness;
  let pg: PgClient;
  let connectors: ConnectorRegistry;
  let configFile: string;
  let env: NodeJS.ProcessEnv;
  let aliceRequest: string;
  let erinRequest: string;
  const role = (name: string) => `${h.prefix}_${name}`;
  const cli = (...args: string[]) => runCli(['--config', configFile, 'reconcile', ...args], { env });

  /** Whether the login (a person's, or a role name) is a direct member of the role, read from pg_auth_members. */
  async function member(person: Person | 'svc', roleName: string): Promise<boolean> {
    const { rows } = await pg.query<{ n: number }>(
      `select count(*)::int as n from pg_auth_members am join pg_roles r on r.oid = am.roleid
       join pg_roles m on m.oid = am.member where r.rolname = $1 and m.rolname = $2`,
      [role(roleName), person === 'svc' ? role('svc') : h.account(person)],
    );
    return rows[0]!.n > 0;
  }
  const grantByHand = (roleName: string, person: Person) =>
    pg.query(`grant ${escapeIdentifier(role(roleName))} to ${escapeIdentifier(h.account(person))}`);

  /** One in-process run through the activity code, with the mode given and alerts collected. */
  function inProcess(registry = connectors) {
    const collector = alertCollector();
    const metrics = createMetrics();
    const acts = createReconcileActivities({
      store: h.store,
      connectors: registry,
      notifier: new Notifier([collector], h.store, testLog),
      log: testLog,
      metrics,
      adminAlerts: () => h.config.admins.alerts,
    });
    let n = 0;
    return {
      alerts: collector.alerts,
      metrics,
      run: (mode: 'report' | 'revoke', dryRun = false): Promise<ReconcileSummary> =>
        runReconciliation(
          {
            integrations: reconcilePlan(h.config).map((p) => ({ ...p, mode })),
            dryRun,
          },
          acts,
          `test-${h.prefix}-${++n}-${mode}`,
          'test',
        ),
    };
  }

  const brief = (s: ReconcileSummary) =>
    s.results
      .flatMap((r) => r.findings)
      .map((f) => `${f.kind} ${f.account} ${f.permission} ${f.requestId ?? '-'} ${f.action}`)
      .sort();

  before(async () => {
    h = await createHarness({ configTransform: (yaml) => yaml + RECONCILE_BLOCK });
    connectors = connectorsFor(h.config);
    pg = new PgClient({ connectionString: h.dbUrl });
    await pg.connect();
    configFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'gf-reconcile-')), 'grantflow.yaml');
    writeFileSync(configFile, h.configYaml);
    env = {
      ...process.env,
      ...h.configEnv,
      GRANTFLOW_DATA_DIR: path.dirname(h.storeFile!),
      GRANTFLOW_LOG_PRETTY: '0',
    };
    delete env.DATABASE_URL;

    // Two legitimate grants; then alice's is taken away by hand, and bob is given readwrite by hand, plus a
    // role Grantflow does not manage at all.
    for (const person of ['alice', 'erin'] as const) {
      const { request } = await createRequest(h.ctx, h.actor(person), {
        flow: 'auto-read',
        resource: 'db',
        permission: 'readonly',
        reason: 'drift test',
        durationMs: 60_000,
      });
      await h.waitFor(request.id, 'ACTIVE');
      if (person === 'alice') aliceRequest = request.id;
      else erinRequest = request.id;
    }
    await pg.query(`create role ${escapeIdentifier(role('other'))} nologin`);
    await grantByHand('readwrite', 'bob');
    await grantByHand('other', 'bob');
    // A service login that administers the role, as Grantflow's own account does (WITH ADMIN OPTION): it is
    // nobody's account in the config, so it is reported but never removed.
    await pg.query(`create role ${escapeIdentifier(role('svc'))} login`);
    await pg.query(
      `grant ${escapeIdentifier(role('readwrite'))} to ${escapeIdentifier(role('svc'))} with admin option`,
    );
    await pg.query(
      `revoke ${escapeIdentifier(role('readonly'))} from ${escapeIdentifier(h.account('alice'))}`,
    );
  });
  after(async () => {
    await connectors?.closeAll();
    await pg?.end();
    await h?.close();
  });

  it('reads the reconcile block: defaults, modes, and errors with file:line', () => {
    assert.deepEqual(h.config.reconcile, { everyMs: 3_600_000, integrations: { db: 'revoke' } });
    const plain = testConfigYaml({ prefix: 'p', envName: 'GF_NONE', taskQueue: 'q' });
    const defaults = parseConfig(plain, 'plain.yaml', {}, { resolveSecrets: false });
    assert.deepEqual(defaults.reconcile, { everyMs: 300_000, integrations: { db: 'report' } });

    const bad = plain + 'reconcile:\n  every: 1s\n  integrations:\n    db: fix\n    nope: revoke\n';
    const lines = plain.split('\n').length;
    try {
      parseConfig(bad, 'bad.yaml', {}, { resolveSecrets: false });
      assert.fail('the config should be refused');
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(
        err.message,
        new RegExp(
          `bad\\.yaml:${lines + 3}:\\d+: reconcile\\.integrations\\.db: must be one of "report", "revoke"`,
        ),
      );
    }
    try {
      parseConfig(bad.replace('db: fix', 'db: report'), 'bad.yaml', {}, { resolveSecrets: false });
      assert.fail('the config should be refused');
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(
        err.message,
        new RegExp(`bad\\.yaml:${lines + 1}:\\d+: reconcile\\.every: 1s is too short`),
      );
      assert.match(
        err.message,
        new RegExp(`bad\\.yaml:${lines + 4}:5: reconcile\\.integrations\\.nope: no integration named "nope"`),
      );
    }
  });

  it('reports unbacked and missing access in report mode, audits each finding, alerts once, changes nothing', async () => {
    const runner = inProcess();
    const summary = await runner.run('report');
    assert.deepEqual(brief(summary), [
      `missing ${h.account('alice')} readonly ${aliceRequest} reported`,
      `unbacked ${h.account('bob')} readwrite - reported`,
      `unbacked ${role('svc')} readwrite - reported`,
    ]);
    assert.equal(await member('bob', 'readwrite'), true);
    assert.equal(await member('bob', 'other'), true);
    assert.equal(await member('alice', 'readonly'), false, 'missing access is reported, not re-granted');
    assert.equal(await member('erin', 'readonly'), true);

    const unbacked = (await h.store.listAudit({ type: 'drift.unbacked' })).filter((e) =>
      e.eventKey.startsWith(`drift:${summary.runId}:`),
    );
    assert.equal(unbacked.length, 2);
    const bob = unbacked.find((e) => e.details.account === h.account('bob'))!;
    assert.deepEqual(
      { ...bob.details, channel: bob.channel },
      {
        integration: 'db',
        account: h.account('bob'),
        permission: 'readwrite',
        mode: 'report',
        dryRun: false,
        action: 'reported',
        channel: 'test',
      },
    );
    const missing = (await h.store.listAudit({ requestId: aliceRequest })).filter(
      (e) => e.type === 'drift.missing',
    );
    assert.equal(missing.length, 1);
    assert.equal(missing[0]!.details.account, h.account('alice'));
    assert.equal(
      (await h.store.listAudit({ requestId: erinRequest })).some((e) => e.type.startsWith('drift.')),
      false,
    );

    assert.equal(runner.alerts.length, 1);
    assert.match(runner.alerts[0]!, /DRIFT: 3 finding\(s\)/);
    assert.match(runner.alerts[0]!, new RegExp(`db: unbacked ${h.account('bob')} readwrite — reported`));
    const metrics = await runner.metrics.registry.metrics();
    assert.match(metrics, /grantflow_drift_findings\{integration="db",kind="unbacked"\} 2/);
    assert.match(metrics, /grantflow_drift_findings\{integration="db",kind="missing"\} 1/);

    // The same drift again: audited again (a new run), but not alerted again.
    const again = await runner.run('report');
    assert.equal(again.findings, 3);
    assert.equal(runner.alerts.length, 1);
  });

  it('leaves integrations that cannot list access (webhook) alone', async () => {
    const blind: Connector = {
      type: 'webhook',
      sharesAccess: false,
      grant: () => Promise.reject(new Error('not used')),
      revoke: () => Promise.reject(new Error('must not be called')),
      listAccess: async () => [],
      checkHealth: async () => ({ ok: true, latencyMs: 0 }),
      close: async () => undefined,
    };
    const registry: ConnectorRegistry = {
      get: () => blind,
      names: () => ['db'],
      closeAll: async () => undefined,
    };
    const summary = await inProcess(registry).run('revoke');
    assert.equal(summary.findings, 0, 'the ACTIVE grants are not called missing');
    assert.equal(summary.results[0]!.checked, false);
    assert.match(summary.results[0]!.note ?? '', /cannot list access/);
  });

  it('per-grant access (temporary users): backed by a live request; others reported, never removed', async () => {
    let revoked = 0;
    const temporary: Connector = {
      type: 'postgres',
      sharesAccess: false,
      grant: () => Promise.reject(new Error('not used')),
      revoke: async () => {
        revoked++;
        return { alreadyAbsent: false, sessionsTerminated: 0 };
      },
      check: async () => ({ exists: true, liveSessions: 0 }),
      // erin's user (backed by her ACTIVE request); none for alice's grant (missing); a user whose request never
      // existed; and one with no known permission.
      listAccess: async () => [
        { account: 'gf_erin_x', permission: 'readonly', requestId: erinRequest },
        { account: 'gf_ghost_abc', permission: 'readonly', requestId: 'req_nosuchrequest00' },
        { account: 'gf_odd', permission: '(unknown)' },
      ],
      checkHealth: async () => ({ ok: true, latencyMs: 0 }),
      close: async () => undefined,
    };
    const registry: ConnectorRegistry = {
      get: () => temporary,
      names: () => ['db'],
      closeAll: async () => undefined,
    };
    const summary = await inProcess(registry).run('revoke');
    assert.deepEqual(brief(summary), [
      `missing undefined readonly ${aliceRequest} reported`,
      'unbacked gf_ghost_abc readonly req_nosuchrequest00 not removed: per-grant access (temporary users) is removed by hand',
      'unbacked gf_odd (unknown) - not removed: permission not in the config',
    ]);
    assert.equal(revoked, 0);
  });

  it('grantflow reconcile --dry-run prints what it would remove, removes nothing, and exits 10', async () => {
    const r = await cli('--dry-run');
    assert.equal(r.code, 10, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^INTEGRATION\s+KIND\s+ACCOUNT\s+PERMISSION\s+REQUEST\s+ACTION$/);
    assert.ok(
      lines.some((l) =>
        new RegExp(`^db\\s+unbacked\\s+${h.account('bob')}\\s+readwrite\\s+-\\s+would remove$`).test(l),
      ),
      r.stdout,
    );
    assert.ok(
      lines.some((l) =>
        new RegExp(
          `^db\\s+missing\\s+${h.account('alice')}\\s+readonly\\s+${aliceRequest}\\s+reported$`,
        ).test(l),
      ),
      r.stdout,
    );
    assert.ok(
      lines.some((l) =>
        new RegExp(
          `^db\\s+unbacked\\s+${role('svc')}\\s+readwrite\\s+-\\s+not removed: not a person's account in the config$`,
        ).test(l),
      ),
      r.stdout,
    );
    assert.match(r.stdout, /3 finding\(s\) \(dry run: nothing was removed\)/);
    assert.equal(await member('bob', 'readwrite'), true);

    const unknown = await cli('--integration', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no integration named nope/);
  });

  it('grantflow reconcile in revoke mode removes only unbacked access in roles the config lists', async () => {
    const r = await cli('--json');
    assert.equal(r.code, 10, r.stdout + r.stderr);
    const summary = JSON.parse(r.stdout) as ReconcileSummary;
    assert.deepEqual(brief(summary), [
      `missing ${h.account('alice')} readonly ${aliceRequest} reported`,
      `unbacked ${h.account('bob')} readwrite - removed`,
      `unbacked ${role('svc')} readwrite - not removed: not a person's account in the config`,
    ]);
    assert.equal(
      await member('svc', 'readwrite'),
      true,
      "an account that is nobody's in the config is untouched",
    );
    assert.equal(await member('bob', 'readwrite'), false, 'the hand-made grant is gone');
    assert.equal(await member('bob', 'other'), true, 'a role Grantflow does not manage is untouched');
    assert.equal(await member('erin', 'readonly'), true, 'the legitimate grant is untouched');
    assert.equal(await member('alice', 'readonly'), false, 'missing access is not silently re-granted');
    assert.equal((await h.store.getRequest(erinRequest))?.status, 'ACTIVE');

    const removed = (await h.store.listAudit({ type: 'drift.removed' })).filter((e) =>
      e.eventKey.startsWith(`drift:${summary.runId}:`),
    );
    assert.equal(removed.length, 1);
    assert.equal(removed[0]!.channel, 'cli');
    assert.equal(removed[0]!.details.account, h.account('bob'));
    assert.equal(removed[0]!.details.permission, 'readwrite');
    assert.equal(removed[0]!.details.verified, true);

    // Nothing left to remove: bob's line is gone.
    const table = await cli();
    assert.equal(table.code, 10);
    assert.doesNotMatch(table.stdout, new RegExp(h.account('bob')));
    assert.match(table.stdout, /2 finding\(s\)/);
  });

  it('exits 0 with "no drift" once the target matches the grants', async () => {
    await pg.query(`revoke ${escapeIdentifier(role('readwrite'))} from ${escapeIdentifier(role('svc'))}`);
    await revokeRequest(h.ctx, h.actor('alice'), aliceRequest, 'drift test over');
    await h.waitFor(aliceRequest, 'REVOKED');
    const r = await cli();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), 'no drift: 1 integration(s) checked');
    assert.equal(await member('erin', 'readonly'), true);
  });

  it('a worker sets the Schedule; triggering it runs reconcileDrift to completion, findings in the audit log', async () => {
    const scheduleId = `grantflow-reconcile-${h.prefix}`;
    const connection = await connectWorker({
      connection: { address: h.temporal.address },
      namespace: h.temporal.namespace,
    });
    const worker = await createGrantflowWorker({
      connection,
      namespace: h.temporal.namespace,
      config: () => h.config,
      store: h.store,
      log: testLog,
      workflowBundle: await getWorkflowBundle(),
      chatAdapters: [],
      client: h.ctx.client,
      reconcileScheduleId: scheduleId,
    });
    const running = worker.run().finally(() => connection.close());
    const handle = h.ctx.client.schedule.getHandle(scheduleId);
    try {
      const described = await until('the Schedule exists', () => handle.describe().catch(() => undefined));
      assert.equal(described.spec.intervals?.[0]?.every, 3_600_000);
      assert.equal(described.policies.overlap, ScheduleOverlapPolicy.SKIP);
      assert.equal(described.action.workflowType, 'reconcileDrift');
      assert.equal(described.action.taskQueue, h.taskQueue);

      await grantByHand('readwrite', 'dave');
      await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      const started = await until('the triggered run', async () => {
        const d = await handle.describe();
        return d.info.recentActions[0]?.action.workflow.workflowId;
      });
      const summary = (await h.ctx.client.workflow.getHandle(started).result()) as ReconcileSummary;
      assert.deepEqual(brief(summary), [`unbacked ${h.account('dave')} readwrite - removed`]);
      assert.equal(await member('dave', 'readwrite'), false);
      assert.equal(await member('erin', 'readonly'), true);
      const audited = (await h.store.listAudit({ type: 'drift.removed' })).filter((e) =>
        e.eventKey.startsWith(`drift:${started}:`),
      );
      assert.equal(audited.length, 1);
      assert.equal(audited[0]!.channel, 'workflow');
      assert.equal(audited[0]!.details.account, h.account('dave'));
    } finally {
      await handle.delete().catch(() => undefined);
      await worker.shutdown();
      await running.catch(() => undefined);
    }
  });

  it('workers starting at once end with one Schedule (created once, then updated)', async () => {
    const scheduleId = `grantflow-reconcile-${randomBytes(3).toString('hex')}`;
    try {
      const outcomes = await Promise.all(
        [1, 2, 3].map(() => ensureReconcileSchedule(h.ctx.client, h.config, scheduleId)),
      );
      assert.deepEqual(outcomes.sort(), ['created', 'updated', 'updated']);
      const changed = { ...h.config, reconcile: { ...h.config.reconcile, everyMs: 600_000 } };
      assert.equal(await ensureReconcileSchedule(h.ctx.client, changed, scheduleId), 'updated');
      const described = await h.ctx.client.schedule.getHandle(scheduleId).describe();
      assert.equal(described.spec.intervals?.[0]?.every, 600_000);
    } finally {
      await h.ctx.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
  });
});
