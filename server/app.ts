/**
 * The base HTTP server of the API server and of the worker's health listener: liveness (/livez: the process
 * is up and its event loop answers; /healthz stays as its older name), readiness (/readyz: every dependency
 * answers, and 503 from the moment shutdown begins), Prometheus metrics (/metrics), and an OpenTelemetry SERVER
 * span per request when tracing is on. The chat endpoints, the HTTP API and the portal mount on top of it.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../core/metrics';
import { activeTracing } from '../core/tracing';

/** A named readiness check; it throws (or rejects) when its dependency is not usable. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** Whether the process is shutting down; shared by its listeners. */
export interface DrainState {
  draining: boolean;
}

export interface ServerOptions {
  log: Logger;
  metrics: Metrics;
  checks: ReadinessCheck[];
  /** Per-check timeout, so a hung dependency makes /readyz fail rather than hang. @default 3000 */
  checkTimeoutMs?: number;
  /** Set `draining` to make /readyz answer 503 and every response close its connection. @default a new state */
  drain?: DrainState;
  /** /livez fails once the event loop has not run for this long. @default 5000 */
  maxEventLoopStallMs?: number;
  /** A SERVER span per request (not for health and metrics). @default when this process traces (core/tracing.ts) */
  traceRequests?: boolean;
}

/** Probes and scrapes: never traced, always answered by this server (never the portal). */
export const HEALTH_PATHS = ['/livez', '/healthz', '/readyz', '/metrics'];

export function buildServer(options: ServerOptions): FastifyInstance {
  // Typed with pino's Logger, the instance is not assignable to the plain FastifyInstance plugins expect.
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'http' }),
    // Per-request lines would drown the log; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  const timeoutMs = options.checkTimeoutMs ?? 3000;
  const drain = options.drain ?? { draining: false };
  if (options.traceRequests ?? activeTracing().enabled) traceRequests(app);

  // While shutting down, a response ends its keep-alive connection: fastify's close() waits for every
  // connection, and one kept open would hold the exit up until its idle timeout.
  app.addHook('preClose', (done) => {
    drain.draining = true;
    done();
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (drain.draining) reply.header('connection', 'close');
    return payload;
  });

  const loop = watchEventLoop(options.maxEventLoopStallMs ?? 5000);
  app.addHook('onClose', (_instance, done) => {
    loop.stop();
    done();
  });
  const live = async (_req: FastifyRequest, reply: FastifyReply) => {
    const stalledMs = loop.stalledMs();
    return stalledMs > loop.maxStallMs
      ? reply.code(503).send({ status: 'event loop stalled', stalledMs })
      : reply.send({ status: 'ok' });
  };
  app.get('/livez', live);
  app.get('/healthz', live);

  app.get('/readyz', async (_req, reply) => {
    if (drain.draining) return reply.code(503).send({ status: 'shutting down', checks: [] });
    const results = await Promise.all(
      options.checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), timeoutMs, name);
          return { name, ok: true };
        } catch (err) {
          return { name, ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.header('content-type', options.metrics.registry.contentType).send(body);
  });

  return app;
}

/**
 * A SERVER span per request, child of an incoming `traceparent` if any, active while the route's handler runs
 * (so a workflow started there joins the trace), ended with the status code.
 */
function traceRequests(app: FastifyInstance): void {
  const tracer = trace.getTracer('grantflow-http');
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (req, _reply, done) => {
    const path = req.url.split('?')[0] ?? '/';
    if (HEALTH_PATHS.includes(path)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: req.method,
          [ATTR_URL_PATH]: path,
          [ATTR_URL_SCHEME]: req.protocol,
          [ATTR_CLIENT_ADDRESS]: req.ip,
          ...(req.headers['user-agent'] ? { [ATTR_USER_AGENT_ORIGINAL]: req.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    spans.set(req, span);
    done();
  });
  // The last hook before the handler: it runs the handler inside the span's context.
  app.addHook('preHandler', (req, _reply, done) => {
    const span = spans.get(req);
    if (!span) return done();
    const route = req.routeOptions.url;
    if (route) {
      span.updateName(`${req.method} ${route}`);
      span.setAttribute(ATTR_HTTP_ROUTE, route);
    }
    context.with(trace.setSpan(context.active(), span), done);
  });
  app.addHook('onError', (req, _reply, err, done) => {
    const span = spans.get(req);
    span?.recordException(err);
    span?.setAttribute(ATTR_ERROR_TYPE, err.name);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(req);
    }
    done();
  });
}

/** Notes when the event loop last ran a timer; a loop blocked for long shows as a stall. */
function watchEventLoop(maxStallMs: number) {
  const tickMs = Math.min(1000, Math.max(50, Math.floor(maxStallMs / 4)));
  let last = Date.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    worst = now - last - tickMs;
    last = now;
  }, tickMs);
  timer.unref();
  return {
    maxStallMs,
    /** The longer of the last tick's delay and the time since it. */
    stalledMs: () => Math.max(worst, Date.now() - last - tickMs, 0),
    stop: () => clearInterval(timer),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
