/**
 * Records one workflow history per path of accessRequest into test/histories/, for the replay test.
 * Run after a deliberate, compatible change with `npm run record-histories -- --as <patch> [names…]`, which writes
 * `<name>.<patch>.json` for every path (or those named); commit the files it writes. Old files are kept on purpose:
 * histories recorded by earlier versions must keep replaying. Without `--as` it rewrites the original files.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findTemporalBinary } from '../../devstack/temporal';
import { createRequest } from '../../core/create-request';
import { cancelRequest, decideRequest, extendRequest, revokeRequest } from '../../core/request-actions';
import { approveSignal, workflowIdFor } from '../../workflows/definitions';
import { createHarness, type Harness } from '../helpers/harness';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { getTestPostgres, stopTestPostgres } from '../setup/postgres';
import { stopTestTemporal } from '../setup/stack';

type Scenario = (h: Harness) => Promise<string>;

const base = { resource: 'db', reason: 'recorded for replay' };

async function autoApprovedExpired(h: Harness): Promise<string> {
  const { request } = await createRequest(h.ctx, h.actor('alice'), {
    ...base,
    flow: 'auto-read',
    permission: 'readonly',
    durationMs: 3000,
  });
  await h.waitFor(request.id, 'REVOKED', 20_000);
  return request.id;
}

const scenarios: Record<string, Scenario> = {
  'auto-approved-expired': autoApprovedExpired,
  // The same path recorded after the revoke-overdue patch, with its marker in the history.
  'auto-approved-expired-v2': autoApprovedExpired,
  'approved-extended-revoked-early': async (h) => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      ...base,
      flow: 'approved-write',
      permission: 'readwrite',
      durationMs: 20_000,
    });
    await h.ctx.client.workflow
      .getHandle(workflowIdFor(request.id))
      .signal(approveSignal, { approver: 'alice@example.com' });
    await decideRequest(h.ctx, h.actor('bob'), request.id, 'approve', 'ok');
    await h.waitFor(request.id, 'ACTIVE');
    await extendRequest(h.ctx, h.actor('alice'), request.id, 5000);
    await revokeRequest(h.ctx, h.actor('alice'), request.id, 'done');
    await h.waitFor(request.id, 'REVOKED');
    return request.id;
  },
  'two-of-three': async (h) => {
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      ...base,
      flow: 'two-of-three',
      permission: 'readwrite',
      durationMs: 2000,
    });
    await decideRequest(h.ctx, h.actor('bob'), request.id, 'approve');
    await decideRequest(h.ctx, h.actor('carol'), request.id, 'approve');
    await h.waitFor(request.id, 'REVOKED', 20_000);
    return request.id;
  },
  denied: async (h) => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      ...base,
      flow: 'approved-write',
      permission: 'readwrite',
    });
    await decideRequest(h.ctx, h.actor('carol'), request.id, 'deny', 'no');
    await h.waitFor(request.id, 'DENIED');
    return request.id;
  },
  expired: async (h) => {
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      ...base,
      flow: 'quick-expire',
      permission: 'readonly',
    });
    await h.waitFor(request.id, 'EXPIRED', 15_000);
    return request.id;
  },
  cancelled: async (h) => {
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      ...base,
      flow: 'approved-write',
      permission: 'readwrite',
    });
    await cancelRequest(h.ctx, h.actor('erin'), request.id);
    await h.waitFor(request.id, 'CANCELLED');
    return request.id;
  },
  'grant-failed': async (h) => {
    const { request } = await createRequest(h.ctx, h.actor('nobody' as 'alice'), {
      ...base,
      flow: 'auto-read',
      permission: 'readonly',
    });
    await h.waitFor(request.id, 'GRANT_FAILED', 20_000);
    return request.id;
  },
  'workflow-cancelled-while-active': async (h) => {
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      ...base,
      flow: 'auto-read',
      permission: 'readonly',
      durationMs: 30_000,
    });
    await h.waitFor(request.id, 'ACTIVE');
    await h.ctx.client.workflow.getHandle(workflowIdFor(request.id)).cancel();
    await h.waitFor(request.id, 'REVOKED');
    return request.id;
  },
};

/**
 * The target goes down at expiry and comes back: REVOKE_OVERDUE, the alert, then REVOKED. Its own harness, whose
 * connector reaches PostgreSQL through a proxy the scenario can stop.
 */
async function revokeOverdue(): Promise<{ h: Harness; id: string; close(): Promise<void> }> {
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: (await getTestPostgres()).port });
  const h = await createHarness({
    configTransform: (yaml) => {
      const envName = /url: \$\{(\w+)\}/.exec(yaml)![1];
      const url = new URL(process.env[envName]!);
      url.port = String(proxy.port);
      process.env[`${envName}_PROXY`] = url.toString();
      return yaml
        .replace(`\${${envName}}`, `\${${envName}_PROXY}`)
        .replace('revokeMaxBackoff: 1s', 'revokeMaxBackoff: 1s\n  revokeOverdueAfter: 2s');
    },
  });
  const { request } = await createRequest(h.ctx, h.actor('alice'), {
    ...base,
    flow: 'auto-read',
    permission: 'readonly',
    durationMs: 2000,
  });
  await h.waitFor(request.id, 'ACTIVE');
  await proxy.down();
  await h.waitFor(request.id, 'REVOKE_OVERDUE', 20_000);
  await proxy.up();
  await h.waitFor(request.id, 'REVOKED', 30_000);
  return {
    h,
    id: request.id,
    close: async () => {
      await h.close();
      await proxy.close();
    },
  };
}

async function main(): Promise<void> {
  const h = await createHarness();
  try {
    const args = process.argv.slice(2);
    const asAt = args.indexOf('--as');
    const suffix = asAt >= 0 ? args[asAt + 1] : undefined;
    if (asAt >= 0 && !suffix)
      throw new Error('--as needs the name of the patch the histories are recorded after');
    const only = args.filter((_, i) => i !== asAt && i !== asAt + 1);
    const all: [string, () => Promise<{ h: Harness; id: string; close?: () => Promise<void> }>][] = [
      ...Object.entries(scenarios).map(
        ([name, run]) =>
          [name, async () => ({ h, id: await run(h) })] as [
            string,
            () => Promise<{ h: Harness; id: string }>,
          ],
      ),
      ['revoke-overdue', revokeOverdue],
    ];
    for (const [name, run] of all) {
      if (only.length > 0 && !only.includes(name)) continue;
      // Aliases of another path recorded at an earlier patch are not recorded again under a new one.
      if (suffix && /-v\d+$/.test(name)) continue;
      const { id, close } = await run();
      // Temporal's own CLI writes the standard JSON form that historyFromJSON reads back.
      const json = execFileSync(
        findTemporalBinary(),
        [
          'workflow',
          'show',
          '--output',
          'json',
          '--address',
          h.temporal.address,
          '--namespace',
          h.temporal.namespace,
          '--workflow-id',
          workflowIdFor(id),
        ],
        { encoding: 'utf8' },
      );
      const file = path.join(__dirname, `${name}${suffix ? `.${suffix}` : ''}.json`);
      writeFileSync(file, json.trim() + '\n');
      const events = (JSON.parse(json) as { events: unknown[] }).events.length;
      console.log(`recorded ${name} (${events} events) → ${path.relative(process.cwd(), file)}`);
      await close?.();
    }
  } finally {
    await h.close();
    await stopTestTemporal();
    await stopTestPostgres();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
