/**
 * The API server: health, readiness and metrics now; the chat endpoints, the HTTP API and the portal
 * mount here in later issues.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../core/metrics';

/** A named readiness check; it throws (or rejects) when its dependency is not usable. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface ServerOptions {
  log: Logger;
  metrics: Metrics;
  checks: ReadinessCheck[];
  /** Per-check timeout, so a hung dependency makes /readyz fail rather than hang. @default 3000 */
  checkTimeoutMs?: number;
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'http' }),
    // Per-request lines would drown the log; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const timeoutMs = options.checkTimeoutMs ?? 3000;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
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

  // Typed with pino's Logger, the instance is not assignable to the plain FastifyInstance plugins expect.
  return app as unknown as FastifyInstance;
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
