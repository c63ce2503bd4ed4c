/**
 * OpenTelemetry tracing for the worker and the API server. Off unless an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none turn it off again). When on, spans go over OTLP/HTTP (JSON encoding) to that endpoint,
 * and the SDK reads the rest of the standard variables itself: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER(_ARG), OTEL_PROPAGATORS, OTEL_EXPORTER_OTLP_(TRACES_)HEADERS / TIMEOUT, OTEL_BSP_*.
 *
 * One request is one trace: the API's HTTP span (server/app.ts), the client's StartWorkflow, the workflow's
 * RunWorkflow and StartActivity spans (exported from the workflow sandbox through a sink), and each RunActivity,
 * all through Temporal's own interceptors (@temporalio/interceptors-opentelemetry).
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResourcesSync, envDetectorSync, hostDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { Client } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';

/** The workflow interceptors module for the workflow bundle (bundleWorkflowCode's workflowInterceptorModules). */
export const WORKFLOW_TRACING_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Whether the environment asks for tracing: an OTLP endpoint is set and the SDK is not disabled. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag(env.OTEL_SDK_DISABLED)) return false;
  if (
    (env.OTEL_TRACES_EXPORTER ?? '')
      .split(',')
      .map((s) => s.trim())
      .includes('none')
  )
    return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

export interface Tracing {
  readonly enabled: boolean;
  /** service.name of every span this process exports (OTEL_SERVICE_NAME, else the process's default). */
  readonly serviceName: string;
  /** Worker options that trace activities and workflows: interceptors and the workflow span exporter sink. */
  workerOptions(): Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>>;
  /** Exports what is still buffered and stops; safe to call more than once. */
  shutdown(): Promise<void>;
}

const DISABLED: Tracing = {
  enabled: false,
  serviceName: '',
  workerOptions: () => ({ interceptors: {}, sinks: {} }),
  shutdown: async () => undefined,
};

let current: Tracing | undefined;

/** The tracing this process started, if any (e.g. for the API server's HTTP spans). */
export function activeTracing(): Tracing {
  return current ?? DISABLED;
}

/**
 * Starts tracing for this process when the environment asks for it (see tracingConfigured), registering the
 * tracer provider, context manager and propagators globally. Once per process: a second call returns the first.
 */
export function startTracing(
  defaultServiceName: string,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Tracing {
  if (current) return current;
  if (!tracingConfigured(env)) {
    current = DISABLED;
    return current;
  }
  const otelLog = log.child({ component: 'otel' });
  diag.setLogger(diagToPino(otelLog), DiagLogLevel.WARN);
  warnOnUnsupportedProtocol(env, otelLog);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name.
  const resource = new Resource({ [ATTR_SERVICE_NAME]: defaultServiceName }).merge(
    detectResourcesSync({ detectors: [hostDetectorSync, envDetectorSync] }),
  );
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS and _TIMEOUT; the processor OTEL_BSP_*.
  const processor: SpanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  // The provider reads OTEL_TRACES_SAMPLER(_ARG) and the span limits; register() OTEL_PROPAGATORS.
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  const serviceName = String(resource.attributes[ATTR_SERVICE_NAME]);
  otelLog.info(
    { serviceName, collector: collectorOrigin(env) },
    'tracing is on: spans go to the OTLP endpoint (http/json)',
  );
  let stopped: Promise<void> | undefined;
  current = {
    enabled: true,
    serviceName,
    workerOptions: () => ({
      interceptors: {
        activity: [
          (ctx) => ({
            inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
        workflowModules: [WORKFLOW_TRACING_MODULE],
      },
      sinks: { exporter: makeWorkflowExporter(processor, resource) },
    }),
    shutdown() {
      stopped ??= withTimeout(provider.shutdown(), SHUTDOWN_TIMEOUT_MS).catch((err: unknown) =>
        otelLog.warn({ err: String(err) }, 'could not export the last spans'),
      );
      return stopped;
    },
  };
  return current;
}

/**
 * The client with Temporal's tracing interceptor added when tracing is on: a workflow it starts (or signals,
 * queries) carries the caller's trace context, so the workflow's spans join the caller's trace.
 */
export function withClientTracing(client: Client, tracing: Tracing = activeTracing()): Client {
  if (!tracing.enabled) return client;
  return new Client({
    connection: client.connection,
    namespace: client.options.namespace,
    identity: client.options.identity,
    dataConverter: client.options.dataConverter,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}

/** Buffered spans get this long to reach the collector at exit; an unreachable collector never holds it up. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

function flag(value: string | undefined): boolean {
  return (value ?? '').trim().toLowerCase() === 'true';
}

function collectorOrigin(env: NodeJS.ProcessEnv): string {
  const raw = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || '';
  try {
    return new URL(raw).origin; // never a path, query or credentials
  } catch {
    return '(not a URL)';
  }
}

function warnOnUnsupportedProtocol(env: NodeJS.ProcessEnv, log: Logger): void {
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol && protocol !== 'http/json')
    log.warn(
      { protocol },
      'Grantflow exports traces over OTLP/HTTP with JSON encoding only (http/json); the protocol asked for is ignored',
    );
}

function diagToPino(log: Logger): DiagLogger {
  const join = (message: string, args: unknown[]) =>
    [message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(' ');
  return {
    error: (message, ...args) => log.warn(join(message, args)),
    warn: (message, ...args) => log.warn(join(message, args)),
    info: (message, ...args) => log.debug(join(message, args)),
    debug: () => undefined,
    verbose: () => undefined,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
