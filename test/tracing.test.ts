/**
 * OpenTelemetry tracing through the production processes: `grantflow worker` and `grantflow server` with an OTLP
 * endpoint set send their spans to a real OTLP/HTTP receiver on loopback, and one API request is one trace: the
 * API's HTTP span, StartWorkflow, RunWorkflow, StartActivity and RunActivity of grantAccess. Spans still buffered
 * at SIGTERM are flushed before exit. Without OTEL settings nothing is sent, not even to the exporter's default
 * endpoint.
 */
import assert from 'node:assert/strict';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Worker } from '@temporalio/worker';
import { issueToken } from '../core/tokens';
import { tracingConfigured } from '../core/tracing';
import { freePort } from '../devstack/ports';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { bundleWorkflows } from '../workers/worker';
import { workflowIdFor } from '../workflows/definitions';
import { createHarness, type Harness } from './helpers/harness';
import { startOtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver';
import { GrantflowProcesses, grantflowProcessEnv, type GrantflowProcess } from './helpers/grantflow-process';
import { until } from './helpers/until';
import { getTestPostgres } from './setup/postgres';

/** Where an OTLP exporter sends when nothing says otherwise. */
const DEFAULT_OTLP_PORT = 4318;

const procs = new GrantflowProcesses();

describe('tracing (OpenTelemetry over OTLP/HTTP)', function () {
  this.timeout(150_000);
  let h: Harness;
  let store: Store;
  let base: NodeJS.ProcessEnv;
  let token: string;
  /** Requests whose workflows ran with tracing on, and off. */
  const ran: { traced?: string; untraced?: string } = {};

  before(async () => {
    h = await createHarness({ noWorker: true });
    const pg = await getTestPostgres();
    const storeUrl = await pg.createDatabase('tracingstore');
    store = await openStore({ databaseUrl: storeUrl });
    await store.migrate();
    token = (
      await issueToken({ store, config: () => h.config }, { email: 'alice@example.com', createdBy: 'test' })
    ).token;
    base = grantflowProcessEnv(h, storeUrl, 'tracing');
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') procs.printOutputs();
  });
  after(async () => {
    procs.killAll();
    await store?.close();
    await h?.close();
  });

  /** Starts a worker and an API server with `env`, makes one request, and waits for its workflow to end. */
  async function oneRequest(
    env: NodeJS.ProcessEnv,
  ): Promise<{ id: string; worker: GrantflowProcess; server: GrantflowProcess }> {
    const port = await freePort();
    const [worker, server] = await Promise.all([
      procs.launch(['worker'], env, /worker running/),
      procs.launch(['server'], { ...env, GRANTFLOW_PORT: String(port) }, /API server listening/),
    ]);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ flow: 'auto-read', resource: 'db', permission: 'readonly', duration: '1s' }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    const { request } = JSON.parse(text) as { request: { id: string } };
    // The workflow's span (RunWorkflow) ends when the workflow does.
    const handle = h.ctx.client.workflow.getHandle(workflowIdFor(request.id));
    await until(
      'the workflow to complete',
      async () => (await handle.describe()).status.name === 'COMPLETED',
      30_000,
    );
    return { id: request.id, worker, server };
  }

  async function stop(...running: GrantflowProcess[]): Promise<void> {
    for (const p of running) p.child.kill('SIGTERM');
    for (const p of running) assert.equal(await p.exited, 0, p.output());
  }

  it('reads the standard OTEL settings: an endpoint turns tracing on, OTEL_SDK_DISABLED off', () => {
    assert.equal(tracingConfigured({}), false);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), true);
    assert.equal(
      tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
      false,
    );
    assert.equal(
      tracingConfigured({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_TRACES_EXPORTER: 'none',
      }),
      false,
    );
  });

  it('sends one trace from the HTTP request through the workflow to the grant activity', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const env: NodeJS.ProcessEnv = {
        ...base,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,service.namespace=grantflow-tests',
        // Export only at shutdown: what arrives proves the flush on exit.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      };
      const { id, worker, server } = await oneRequest(env);
      ran.traced = id;
      assert.equal(receiver.spans.length, 0, 'nothing exported before the flush');
      assert.match(worker.output(), /tracing is on/);
      await stop(worker, server);
      assert.deepEqual(receiver.refused, []);

      const named = (name: string, service: string): ReceivedSpan => {
        const found = receiver.spans.filter((s) => s.name === name && s.service === service);
        assert.ok(
          found.length >= 1,
          `a ${name} span from ${service}; got ${receiver.spans.map((s) => `${s.service}:${s.name}`).join(', ')}`,
        );
        return found[0]!;
      };
      const http = named('POST /api/v1/requests', 'grantflow-api');
      assert.equal(http.kind, 2, 'a SERVER span');
      assert.equal(http.attributes['http.route'], '/api/v1/requests');
      assert.equal(Number(http.attributes['http.response.status_code']), 201);
      const start = named('StartWorkflow:accessRequest', 'grantflow-api');
      const run = named('RunWorkflow:accessRequest', 'grantflow-worker');
      const schedule = named('StartActivity:grantAccess', 'grantflow-worker');
      const activity = named('RunActivity:grantAccess', 'grantflow-worker');
      for (const span of [start, run, schedule, activity])
        assert.equal(span.traceId, http.traceId, `${span.name} is in the request's trace`);
      assert.equal(start.parentSpanId, http.spanId, 'the workflow start is a child of the HTTP span');
      assert.equal(run.parentSpanId, start.spanId, 'the workflow runs under its start');
      assert.equal(schedule.parentSpanId, run.spanId, 'the workflow schedules the activity');
      assert.equal(activity.parentSpanId, schedule.spanId, 'the activity runs under its scheduling span');
      assert.equal(activity.attributes['temporalWorkflowId'], workflowIdFor(id));
      assert.equal(http.resource['deployment.environment.name'], 'test', 'OTEL_RESOURCE_ATTRIBUTES is read');
      assert.equal(run.resource['service.namespace'], 'grantflow-tests');
      // Probes are not traced.
      assert.ok(!receiver.spans.some((s) => /readyz|livez|metrics/.test(s.name)));
    } finally {
      await receiver.close();
    }
  });

  it('sends nothing without OTEL settings', async () => {
    // An SDK started with no settings would export to http://localhost:4318: listen there.
    const receiver = await startOtlpReceiver(DEFAULT_OTLP_PORT).catch((err: unknown) => {
      throw new Error(
        `this test listens on 127.0.0.1:${DEFAULT_OTLP_PORT}, the OTLP default; free it (${String(err)})`,
      );
    });
    try {
      const { id, worker, server } = await oneRequest(base);
      ran.untraced = id;
      await stop(worker, server);
      assert.equal(receiver.requests, 0, 'nothing was sent');
      for (const p of [worker, server]) assert.doesNotMatch(p.output(), /tracing is on/);
    } finally {
      await receiver.close();
    }
  });

  it('replays a traced workflow without tracing, and an untraced one with it', async () => {
    assert.ok(ran.traced && ran.untraced, 'the two tests above ran their workflows');
    const history = (id: string) => h.ctx.client.workflow.getHandle(workflowIdFor(id)).fetchHistory();
    // The exporter sink is not called on replay; it is registered so that the worker finds it.
    const sinks = {
      exporter: makeWorkflowExporter(new SimpleSpanProcessor(new InMemorySpanExporter()), Resource.empty()),
    };
    await Worker.runReplayHistory(
      { workflowBundle: await bundleWorkflows({ tracing: false }) },
      await history(ran.traced),
      workflowIdFor(ran.traced),
    );
    await Worker.runReplayHistory(
      { workflowBundle: await bundleWorkflows({ tracing: true }), sinks },
      await history(ran.untraced),
      workflowIdFor(ran.untraced),
    );
  });
});
