/**
 * The request metrics through real life cycles (real Temporal dev server, real PostgreSQL target), scraped over
 * HTTP from GET /metrics (server/app.ts) of the worker process's registry before and after each step: an
 * auto-approved and an approved request from grant to revoke, a failing revoke, a grant that fails for good, and a
 * denied request whose chat deliveries fail. Every counter and histogram moves exactly as far as it should.
 */
import assert from 'node:assert/strict';
import { createActivities } from '../activities';
import { Notifier } from '../chat-adapters/notifier';
import { createRequest } from '../core/create-request';
import { createCredentialVault } from '../core/credentials';
import { newRequestId } from '../core/ids';
import { decideRequest, revokeRequest } from '../core/request-actions';
import { createMetrics, type Metrics } from '../core/metrics';
import { connectWorker } from '../core/temporal';
import type { Connector, ConnectorRegistry } from '../connectors/types';
import type { ChatAdapter } from '../chat-adapters/types';
import { buildServer } from '../server/app';
import { createGrantflowWorker, type GrantflowWorker } from '../workers/worker';
import { connectorsFor, createHarness, type Harness } from './helpers/harness';
import { until } from './helpers/until';
import { getWorkflowBundle, testLog } from './setup/stack';

/** How long to wait for a step, in seconds. */
const WAIT_S = Number(process.env.GRANTFLOW_TEST_WAIT_SECONDS ?? 20);
const WAIT_MS = WAIT_S * 1000;

/** The real connectors, with revoke failing (the target refusing) while `failing` is true; counts the failures. */
function flakyRevoke(
  real: ConnectorRegistry,
  state: { failing: boolean; failures: number },
): ConnectorRegistry {
  return {
    names: () => real.names(),
    closeAll: () => real.closeAll(),
    get(name) {
      const c = real.get(name);
      const wrapped: Connector = Object.create(c);
      wrapped.revoke = async (req) => {
        if (state.failing) {
          state.failures++;
          throw new Error('target refused the connection');
        }
        return c.revoke(req);
      };
      return wrapped;
    },
  };
}

/** A Slack whose Web API refuses every call (the fake of a SaaS outage). */
function refusingSlack(): ChatAdapter {
  const refuse = () => Promise.reject(new Error('An API error occurred: service_unavailable'));
  return { platform: 'slack', post: refuse, update: refuse, alert: refuse };
}

/** One sample of a Prometheus text exposition: a metric name with its labels. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** A scrape, read by metric name and exact label set (0 when the series does not exist yet). */
class Scrape {
  constructor(readonly samples: Sample[]) {}
  get(name: string, labels: Record<string, string> = {}): number {
    const wanted = Object.entries(labels);
    const found = this.samples.find(
      (s) =>
        s.name === name &&
        Object.keys(s.labels).length === wanted.length &&
        wanted.every(([k, v]) => s.labels[k] === v),
    );
    return found?.value ?? 0;
  }
  /** Every series of a metric whose labels include these (e.g. all flows of a counter). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((total, s) => total + s.value, 0);
  }
}

describe('request metrics over a request life cycle', function () {
  this.timeout(Math.max(120_000, WAIT_MS * 6));
  let h: Harness;
  let metrics: Metrics;
  let http: ReturnType<typeof buildServer>;
  let metricsUrl = '';
  let worker: GrantflowWorker;
  let running: Promise<void>;
  const revokes = { failing: false, failures: 0 };

  const scrape = async (): Promise<Scrape> => {
    const res = await fetch(metricsUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return new Scrape(parseExposition(await res.text()));
  };
  /** Scrapes until `ready` holds, then hands that scrape back (a status shows a moment before its activity ends). */
  const scrapeUntil = (what: string, ready: (s: Scrape) => boolean): Promise<Scrape> =>
    until(
      what,
      async () => {
        const s = await scrape();
        return ready(s) && s;
      },
      WAIT_MS,
    );

  const TTA = 'grantflow_time_to_access_seconds';
  const WAIT = 'grantflow_approval_wait_seconds';
  const FINAL = 'grantflow_requests_final_total';

  before(async () => {
    h = await createHarness({
      noWorker: true,
      settings: { revokeAlertAfterAttempts: 100, revokeMaxBackoff: '1s' },
    });
    metrics = createMetrics(h.store);
    http = buildServer({ log: testLog, metrics, checks: [] });
    metricsUrl = `${await http.listen({ port: 0, host: '127.0.0.1' })}/metrics`;
    const connection = await connectWorker({
      connection: { address: h.temporal.address },
      namespace: h.temporal.namespace,
    });
    worker = await createGrantflowWorker({
      connection,
      namespace: h.temporal.namespace,
      config: () => h.config,
      store: h.store,
      log: testLog,
      metrics,
      workflowBundle: await getWorkflowBundle(),
      connectors: flakyRevoke(connectorsFor(h.config), revokes),
      chatAdapters: [refusingSlack()],
    });
    running = worker.run().finally(() => connection.close());
  });
  after(async () => {
    await worker?.shutdown();
    await running?.catch(() => undefined);
    await http?.close();
    await h?.close();
  });

  it('serves every metric with its HELP text', async () => {
    const res = await fetch(metricsUrl);
    const text = await res.text();
    for (const name of [
      FINAL,
      TTA,
      WAIT,
      'grantflow_grants_active',
      'grantflow_revokes_overdue',
      'grantflow_revoke_failures_total',
      'grantflow_grant_failures_total',
      'grantflow_chat_api_errors_total',
    ])
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'), `${name} has HELP text`);
    assert.match(text, /^# TYPE grantflow_time_to_access_seconds histogram$/m);
    assert.match(text, /^# TYPE grantflow_revoke_failures_total counter$/m);
  });

  it('counts an auto-approved request once from grant to revoke', async () => {
    const flow = { flow: 'auto-read' };
    const before = await scrape();
    assert.equal(before.get('grantflow_grants_active'), 0);
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      ...flow,
      resource: 'db',
      permission: 'readonly',
      reason: 'metrics: auto',
      durationMs: 2000,
    });
    await h.waitFor(request.id, 'ACTIVE', WAIT_MS);
    const active = await scrapeUntil(
      'the grant to be counted',
      (s) => s.get(`${TTA}_count`, { ...flow, auto: 'true' }) > 0,
    );
    assert.equal(active.get(`${TTA}_count`, { ...flow, auto: 'true' }), 1);
    assert.equal(active.get(`${TTA}_count`, { ...flow, auto: 'false' }), 0);
    const seconds = active.get(`${TTA}_sum`, { ...flow, auto: 'true' });
    assert.ok(seconds > 0 && seconds < WAIT_S, `time to access ${seconds} s`);
    assert.equal(active.get(`${TTA}_bucket`, { ...flow, auto: 'true', le: '+Inf' }), 1);
    assert.equal(active.get('grantflow_grants_active'), 1);
    // Auto-approval is no wait for a decision.
    assert.equal(active.sum(`${WAIT}_count`, flow), 0);
    assert.equal(active.get(FINAL, { ...flow, state: 'REVOKED' }), 0);

    await h.waitFor(request.id, 'REVOKED', WAIT_MS);
    const revoked = await scrapeUntil(
      'the revoke to be counted',
      (s) => s.get(FINAL, { ...flow, state: 'REVOKED' }) > 0,
    );
    assert.equal(revoked.get(FINAL, { ...flow, state: 'REVOKED' }), 1);
    assert.equal(revoked.sum(FINAL), 1, 'no other final state counted');
    assert.equal(revoked.get('grantflow_grants_active'), 0);
    assert.equal(revoked.get(`${TTA}_count`, { ...flow, auto: 'true' }), 1, 'the grant counted once');
    assert.equal(revoked.sum('grantflow_revoke_failures_total'), 0);
    assert.equal(revoked.sum('grantflow_chat_api_errors_total'), 0);
  });

  it('counts an approved request: the wait for the decision, then time to access, then its revoke', async () => {
    const flow = { flow: 'approved-write' };
    const before = await scrape();
    const { request } = await createRequest(h.ctx, h.actor('erin'), {
      ...flow,
      resource: 'db',
      permission: 'readwrite',
      reason: 'metrics: approved',
    });
    await h.waitFor(request.id, 'PENDING_APPROVAL', WAIT_MS);
    assert.equal((await scrape()).sum(`${WAIT}_count`, flow), 0, 'no decision yet');
    await decideRequest(h.ctx, h.actor('bob'), request.id, 'approve', 'ok');
    await h.waitFor(request.id, 'ACTIVE', WAIT_MS);
    const active = await scrapeUntil(
      'the grant to be counted',
      (s) => s.get(`${TTA}_count`, { ...flow, auto: 'false' }) > 0,
    );
    assert.equal(active.get(`${WAIT}_count`, { ...flow, outcome: 'approved' }), 1);
    assert.equal(active.sum(`${WAIT}_count`, flow), 1, 'one decision, one outcome');
    assert.equal(active.get(`${TTA}_count`, { ...flow, auto: 'false' }), 1);
    assert.equal(active.get(`${TTA}_count`, { ...flow, auto: 'true' }), 0);
    // Access comes after the decision: time to access includes the wait.
    const waited = active.get(`${WAIT}_sum`, { ...flow, outcome: 'approved' });
    const toAccess = active.get(`${TTA}_sum`, { ...flow, auto: 'false' });
    assert.ok(waited > 0 && toAccess >= waited, `waited ${waited} s, access after ${toAccess} s`);
    assert.equal(active.get('grantflow_grants_active'), 1);
    // The auto-approved request's series are as they were.
    assert.equal(
      active.get(`${TTA}_count`, { flow: 'auto-read', auto: 'true' }),
      before.get(`${TTA}_count`, { flow: 'auto-read', auto: 'true' }),
    );

    await revokeRequest(h.ctx, h.actor('erin'), request.id, 'done');
    await h.waitFor(request.id, 'REVOKED', WAIT_MS);
    const revoked = await scrapeUntil(
      'the revoke to be counted',
      (s) => s.get(FINAL, { ...flow, state: 'REVOKED' }) > 0,
    );
    assert.equal(revoked.get(FINAL, { ...flow, state: 'REVOKED' }), 1);
    assert.equal(
      revoked.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }),
      before.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }),
    );
    assert.equal(revoked.get('grantflow_grants_active'), 0);
    assert.equal(revoked.get(`${WAIT}_count`, { ...flow, outcome: 'approved' }), 1);
  });

  it('counts every failed revoke attempt, by integration, and the revoke once it succeeds', async () => {
    const before = await scrape();
    revokes.failing = true;
    revokes.failures = 0;
    const { request } = await createRequest(h.ctx, h.actor('alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'metrics: flaky revoke',
      durationMs: 1000,
    });
    await h.waitFor(request.id, 'REVOKING', WAIT_MS);
    await until('two failed revoke attempts', () => revokes.failures >= 2, WAIT_MS);
    const failing = await scrapeUntil(
      'the failures to be counted',
      (s) => s.get('grantflow_revoke_failures_total', { integration: 'db' }) >= 2,
    );
    assert.equal(failing.get('grantflow_grants_active'), 0, 'REVOKING is no longer ACTIVE');
    assert.equal(
      failing.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }),
      before.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }),
    );
    revokes.failing = false;
    await h.waitFor(request.id, 'REVOKED', WAIT_MS);
    const after = await scrapeUntil(
      'the revoke to be counted',
      (s) =>
        s.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }) >
        before.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }),
    );
    assert.equal(
      after.get('grantflow_revoke_failures_total', { integration: 'db' }) -
        before.get('grantflow_revoke_failures_total', { integration: 'db' }),
      revokes.failures,
      'one count per failed attempt',
    );
    assert.equal(
      after.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }),
      before.get(FINAL, { flow: 'auto-read', state: 'REVOKED' }) + 1,
    );
    assert.equal(
      after.get(`${TTA}_count`, { flow: 'auto-read', auto: 'true' }),
      before.get(`${TTA}_count`, { flow: 'auto-read', auto: 'true' }) + 1,
    );
  });

  it('counts a grant that fails for good: one failed attempt, one GRANT_FAILED', async () => {
    const before = await scrape();
    const { request } = await createRequest(h.ctx, h.actor('nobody' as 'alice'), {
      flow: 'auto-read',
      resource: 'db',
      permission: 'readonly',
      reason: 'metrics: no such login',
    });
    await h.waitFor(request.id, 'GRANT_FAILED', WAIT_MS);
    const after = await scrapeUntil(
      'the grant failure to be counted',
      (s) => s.get(FINAL, { flow: 'auto-read', state: 'GRANT_FAILED' }) > 0,
    );
    assert.equal(after.get(FINAL, { flow: 'auto-read', state: 'GRANT_FAILED' }), 1);
    // The missing login is not worth retrying: one attempt.
    assert.equal(
      after.get('grantflow_grant_failures_total', { integration: 'db' }) -
        before.get('grantflow_grant_failures_total', { integration: 'db' }),
      1,
    );
    assert.equal(
      after.get(`${TTA}_count`, { flow: 'auto-read', auto: 'true' }),
      before.get(`${TTA}_count`, { flow: 'auto-read', auto: 'true' }),
      'no access, no time to access',
    );
    assert.equal(after.get('grantflow_grants_active'), 0);
  });

  it('counts a denial and the chat deliveries that failed', async () => {
    const flow = { flow: 'approved-write' };
    const before = await scrape();
    const { request } = await createRequest(h.ctx, h.actor('erin', 'slack'), {
      ...flow,
      resource: 'db',
      permission: 'readwrite',
      reason: 'metrics: denied',
    });
    await h.waitFor(request.id, 'PENDING_APPROVAL', WAIT_MS);
    // The requester hears on Slack, where they asked: Slack refuses.
    await scrapeUntil(
      'the failed post of "requested"',
      (s) => s.get('grantflow_chat_api_errors_total', { platform: 'slack', operation: 'post' }) >= 1,
    );
    await decideRequest(h.ctx, h.actor('bob'), request.id, 'deny', 'no');
    await h.waitFor(request.id, 'DENIED', WAIT_MS);
    const after = await scrapeUntil(
      'the denial to be counted',
      (s) =>
        s.get(FINAL, { ...flow, state: 'DENIED' }) > 0 &&
        s.get('grantflow_chat_api_errors_total', { platform: 'slack', operation: 'post' }) >= 2,
    );
    assert.equal(after.get(FINAL, { ...flow, state: 'DENIED' }), 1);
    assert.equal(after.get(`${WAIT}_count`, { ...flow, outcome: 'denied' }), 1);
    assert.equal(
      after.get(`${WAIT}_count`, { ...flow, outcome: 'approved' }),
      before.get(`${WAIT}_count`, { ...flow, outcome: 'approved' }),
    );
    assert.equal(
      after.get('grantflow_chat_api_errors_total', { platform: 'slack', operation: 'post' }),
      2,
      'requested and denied',
    );
    assert.equal(after.sum('grantflow_chat_api_errors_total'), 2);
    assert.equal(after.sum(FINAL), before.sum(FINAL) + 1);
  });

  it('counts an event once when its activity runs again with the same input (a retry)', async () => {
    const flow = { flow: 'auto-read' };
    const before = await scrape();
    // The request as createRequest leaves it, without a workflow: the activities are called here, as Temporal would.
    const id = newRequestId();
    const createdAt = new Date(Date.now() - 1500).toISOString();
    await h.store.insertRequest({
      id,
      workflowId: `access-request-${id}`,
      requester: 'dave@example.com',
      flow: flow.flow,
      resource: 'db',
      permission: 'readonly',
      integration: 'db',
      status: 'PENDING_APPROVAL',
      reason: 'metrics: retried activities',
      durationMs: 60_000,
      channel: 'test',
      createdAt,
      updatedAt: createdAt,
    });
    const registry = connectorsFor(h.config);
    const acts = createActivities({
      store: h.store,
      connectors: registry,
      notifier: new Notifier([], h.store, testLog),
      log: testLog,
      metrics,
      credentials: createCredentialVault(h.store, undefined),
      adminAlerts: () => [],
    });
    const target = { integration: 'db', account: h.account('dave'), permission: 'readonly' };
    const grant = {
      requestId: id,
      target,
      durationMs: 60_000,
      requester: 'dave@example.com',
      events: {
        before: [
          {
            eventKey: `${id}:2:approved`,
            type: 'approved',
            actor: 'grantflow:auto-approve',
            channel: 'workflow',
            details: { autoApprove: true },
          },
        ],
        index: { status: 'GRANTING' as const },
        done: {
          eventKey: `${id}:4:granted`,
          type: 'granted' as const,
          actor: 'grantflow',
          channel: 'workflow',
          details: {},
        },
      },
    };
    const revoked = {
      requestId: id,
      events: [
        {
          eventKey: `${id}:9:revoked`,
          type: 'revoked',
          actor: 'grantflow',
          channel: 'workflow',
          details: {},
        },
      ],
      index: { status: 'REVOKED' as const },
    };
    try {
      await acts.grantAccess(grant);
      await acts.grantAccess(grant);
      await acts.recordEvents(revoked);
      await acts.recordEvents(revoked);
    } finally {
      await registry.get('db').revoke({ target, requestId: id });
      await registry.closeAll();
    }
    const after = await scrape();
    assert.equal(
      after.get(`${TTA}_count`, { ...flow, auto: 'true' }),
      before.get(`${TTA}_count`, { ...flow, auto: 'true' }) + 1,
    );
    const seconds =
      after.get(`${TTA}_sum`, { ...flow, auto: 'true' }) -
      before.get(`${TTA}_sum`, { ...flow, auto: 'true' });
    assert.ok(seconds >= 1.5 && seconds < WAIT_S, `time to access from the request's creation: ${seconds} s`);
    assert.equal(
      after.get(FINAL, { ...flow, state: 'REVOKED' }),
      before.get(FINAL, { ...flow, state: 'REVOKED' }) + 1,
    );
    assert.equal(
      after.sum(`${WAIT}_count`, flow),
      before.sum(`${WAIT}_count`, flow),
      'auto-approval is no wait',
    );
    assert.equal((await h.store.getRequest(id))?.status, 'REVOKED');
  });
});
