/**
 * Long-running processes: `dev` (everything on one machine), `worker` and `server` (production, scaled
 * out separately against any Temporal cluster or Temporal Cloud).
 */
import type { Command } from 'commander';
import { runDev } from '../../devstack/dev';
import { ConfigHolder } from '../../core/config-holder';
import { createLogger } from '../../core/logger';
import { createMetrics } from '../../core/metrics';
import { connectClient, connectWorker, temporalSettings } from '../../core/temporal';
import { startApiServer } from '../../server/start';
import { createGrantflowWorker } from '../../workers/worker';
import { installTemporalRuntime } from '../../workers/runtime';
import { findConfigFile } from '../../config/load';
import { applyDevDefaults, openStoreFromEnv, type GlobalOptions } from '../context';

type Globals = () => GlobalOptions;

function onStopSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal} received: stopping...`);
    stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

export function registerProcessCommands(program: Command, globals: Globals): void {
  program
    .command('dev')
    .description(
      'run everything on this machine: Temporal dev server, sandbox PostgreSQL, worker, API server',
    )
    .action(async () => {
      const stack = await runDev({ configFile: globals().config });
      onStopSignal(() => stack.stop());
    });

  program
    .command('worker')
    .description('run a worker against the configured Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...)')
    .action(async () => {
      applyDevDefaults();
      const log = createLogger('grantflow-worker');
      installTemporalRuntime(log);
      const store = await openStoreFromEnv();
      const holder = new ConfigHolder(findConfigFile(globals().config), store, log);
      await holder.recordInitial();
      const settings = temporalSettings();
      const connection = await connectWorker(settings);
      // The worker sets the drift reconciliation Schedule through it (workers/schedules.ts).
      const client = await connectClient(settings);
      const worker = await createGrantflowWorker({
        connection,
        namespace: settings.namespace,
        config: holder.current,
        store,
        log,
        metrics: createMetrics(store),
        client,
      });
      const unwatch = holder.watchSighup();
      onStopSignal(async () => {
        unwatch();
        await worker.shutdown();
        await client.connection.close();
        await connection.close();
        await store.close();
      });
      log.info({ namespace: settings.namespace, taskQueue: holder.current().taskQueue }, 'worker running');
      await worker.run();
    });

  program
    .command('server')
    .description('run the API server (health, readiness, metrics; chat endpoints and portal later)')
    .action(async () => {
      applyDevDefaults();
      const log = createLogger('grantflow-server');
      const store = await openStoreFromEnv();
      const holder = new ConfigHolder(findConfigFile(globals().config), store, log);
      const client = await connectClient(temporalSettings());
      const port = Number(process.env.GRANTFLOW_PORT ?? 3000);
      const api = await startApiServer({
        ctx: { config: holder.current, store, client, log },
        metrics: createMetrics(store),
        log,
        port,
        host: process.env.GRANTFLOW_HOST ?? '0.0.0.0',
      });
      const unwatch = holder.watchSighup();
      onStopSignal(async () => {
        unwatch();
        await api.close();
        await client.connection.close();
        await store.close();
      });
      log.info({ port }, 'API server listening');
    });
}
