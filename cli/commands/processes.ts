/**
 * Long-running processes: `dev` (everything on one machine), `worker` and `server` (production, scaled
 * out separately against any Temporal cluster or Temporal Cloud). The production processes trace when an OTLP
 * endpoint is configured (core/tracing.ts), shut down gracefully on SIGTERM/SIGINT (readiness 503 first, then
 * drain, then close connections, exit 0; a second signal exits at once), and the worker can serve its own
 * /livez, /readyz and /metrics (GRANTFLOW_WORKER_HEALTH_PORT) and the Temporal SDK's metrics
 * (GRANTFLOW_TEMPORAL_METRICS_ADDRESS). See docs/operations.md.
 */
import os from 'node:os';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { runDev } from '../../devstack/dev';
import { ConfigHolder } from '../../core/config-holder';
import { InvalidInputError } from '../../core/errors';
import { createLogger } from '../../core/logger';
import { createMetrics } from '../../core/metrics';
import { connectClient, connectWorker, temporalSettings } from '../../core/temporal';
import { startTracing, withClientTracing } from '../../core/tracing';
import { databaseCheck, temporalCheck, workerCheck } from '../../server/checks';
import { startApiServer, startHealthServer } from '../../server/start';
import { createGrantflowWorker, shutdownGraceFromEnv } from '../../workers/worker';
import { installTemporalRuntime } from '../../workers/runtime';
import { findConfigFile } from '../../config/load';
import { applyDevDefaults, openStoreFromEnv, type GlobalOptions } from '../context';

type Globals = () => GlobalOptions;

/**
 * On the first SIGINT or SIGTERM runs `stop`, then exits 0 (1 if it failed). A second signal exits at once
 * (128 + the signal's number), without waiting for what is still in flight.
 */
function onStopSignal(stop: (signal: NodeJS.Signals) => Promise<void>, say: (message: string) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} received again: exiting now, without finishing the shutdown`);
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    }
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** A port from the environment, or undefined when the variable is unset or empty. */
function portFromEnv(name: string): number | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidInputError(`${name} must be a port number (0-65535), not "${raw}"`, name);
  return port;
}

/** GRANTFLOW_SHUTDOWN_DELAY: seconds the API server keeps serving, unready, before it closes its listener. */
function shutdownDelayFromEnv(): number {
  const raw = process.env.GRANTFLOW_SHUTDOWN_DELAY?.trim();
  if (!raw) return 0;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new InvalidInputError(
      `GRANTFLOW_SHUTDOWN_DELAY must be a number of seconds (0 or more), not "${raw}"`,
      'GRANTFLOW_SHUTDOWN_DELAY',
    );
  return seconds;
}

function logTo(log: Logger): (message: string) => void {
  return (message) => log.warn(message);
}

export function registerProcessCommands(program: Command, globals: Globals): void {
  program
    .command('dev')
    .description(
      'run everything on this machine: Temporal dev server, sandbox PostgreSQL, worker, API server',
    )
    .action(async () => {
      const stack = await runDev({ configFile: globals().config });
      onStopSignal(
        async (signal) => {
          console.error(`\n${signal} received: stopping...`);
          await stack.stop();
        },
        (message) => console.error(message),
      );
    });

  program
    .command('worker')
    .description('run a worker against the configured Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...)')
    .action(async () => {
      applyDevDefaults();
      const log = createLogger('grantflow-worker');
      const graceMs = shutdownGraceFromEnv();
      const healthPort = portFromEnv('GRANTFLOW_WORKER_HEALTH_PORT');
      installTemporalRuntime(log);
      const tracing = startTracing('grantflow-worker', log);
      const store = await openStoreFromEnv();
      const holder = new ConfigHolder(findConfigFile(globals().config), store, log);
      await holder.recordInitial();
      const settings = temporalSettings();
      const connection = await connectWorker(settings);
      // The worker sets the drift reconciliation Schedule through it (workers/schedules.ts).
      const client = await connectClient(settings);
      const metrics = createMetrics(store);
      const worker = await createGrantflowWorker({
        connection,
        namespace: settings.namespace,
        config: holder.current,
        store,
        log,
        metrics,
        client,
        tracing,
        shutdownGraceMs: graceMs,
      });
      const health =
        healthPort === undefined
          ? undefined
          : await startHealthServer({
              log,
              metrics,
              checks: [
                workerCheck(worker.worker),
                temporalCheck(connection, settings.namespace),
                databaseCheck(store),
              ],
              port: healthPort,
              host: process.env.GRANTFLOW_HOST ?? '0.0.0.0',
            });
      if (health) log.info({ health: health.url }, 'worker health: /livez, /readyz, /metrics');
      const unwatch = holder.watchSighup();
      let stopping = false;
      const running = worker.run();
      onStopSignal(async (signal) => {
        stopping = true;
        log.info(
          { signal, graceSeconds: graceMs / 1000 },
          'shutting down: readiness is 503 from now; the worker stops polling and lets in-flight activities finish',
        );
        unwatch();
        health?.beginShutdown();
        await worker.shutdown();
        await health?.close();
        await client.connection.close();
        await connection.close();
        await store.close();
        log.info('shutdown: Temporal connections and the store are closed');
        await tracing.shutdown();
        log.info('shutdown: done');
      }, logTo(log));
      log.info({ namespace: settings.namespace, taskQueue: holder.current().taskQueue }, 'worker running');
      // A worker that fails on its own ends the command (and the process, non-zero); during a shutdown its end
      // is the shutdown's business.
      await running.catch((err: unknown) => {
        if (!stopping) throw err;
      });
    });

  program
    .command('server')
    .description('run the API server (HTTP API, portal, chat endpoints, health, readiness, metrics)')
    .action(async () => {
      applyDevDefaults();
      const log = createLogger('grantflow-server');
      const delaySeconds = shutdownDelayFromEnv();
      const tracing = startTracing('grantflow-api', log);
      const store = await openStoreFromEnv();
      const holder = new ConfigHolder(findConfigFile(globals().config), store, log);
      // With tracing on, a workflow started from a request joins the request's trace.
      const client = withClientTracing(await connectClient(temporalSettings()), tracing);
      const port = Number(process.env.GRANTFLOW_PORT ?? 3000);
      const api = await startApiServer({
        ctx: { config: holder.current, store, client, log },
        metrics: createMetrics(store),
        log,
        port,
        host: process.env.GRANTFLOW_HOST ?? '0.0.0.0',
      });
      const unwatch = holder.watchSighup();
      onStopSignal(async (signal) => {
        log.info({ signal }, 'shutting down: readiness is 503 from now');
        unwatch();
        api.beginShutdown();
        if (delaySeconds > 0) {
          log.info({ delaySeconds }, 'shutdown: still serving while load balancers notice');
          await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
        }
        log.info('shutdown: no new connections; finishing the requests in flight');
        await api.close();
        log.info('shutdown: every request in flight has finished');
        await client.connection.close();
        await store.close();
        log.info('shutdown: the Temporal connection and the store are closed');
        await tracing.shutdown();
        log.info('shutdown: done');
      }, logTo(log));
      log.info({ port }, 'API server listening');
    });
}
