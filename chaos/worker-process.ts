/**
 * The chaos run's worker, in a process of its own so that a fault can SIGKILL it. Like
 * test/fixtures/worker-process.ts, plus a PostgreSQL store (GF_STORE_URL) and a workflow bundle built once by
 * the run (GF_WORKFLOW_BUNDLE), so a restarted worker is polling again in a second or two.
 * Environment: GF_CONFIG_FILE, GF_STORE_FILE or GF_STORE_URL, GF_WORKFLOW_BUNDLE, TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, and the config's secret references.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/load';
import { createLogger } from '../core/logger';
import { connectWorker, temporalSettings } from '../core/temporal';
import { openStore } from '../store';
import { createGrantflowWorker } from '../workers/worker';
import { installTemporalRuntime } from '../workers/runtime';

async function main(): Promise<void> {
  const log = createLogger('chaos-worker');
  installTemporalRuntime(log);
  const config = loadConfig(process.env.GF_CONFIG_FILE as string);
  const store = await openStore(
    process.env.GF_STORE_URL
      ? { databaseUrl: process.env.GF_STORE_URL, log }
      : { sqliteFile: process.env.GF_STORE_FILE as string, log },
  );
  const settings = temporalSettings();
  const connection = await connectWorker(settings);
  const bundleFile = process.env.GF_WORKFLOW_BUNDLE;
  const worker = await createGrantflowWorker({
    connection,
    namespace: settings.namespace,
    config: () => config,
    store,
    log,
    ...(bundleFile ? { workflowBundle: { code: readFileSync(bundleFile, 'utf8') } } : {}),
  });
  const running = worker.run();
  process.stdout.write('worker-ready\n');
  await running;
  log.warn('worker stopped running');
  process.exit(3);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
