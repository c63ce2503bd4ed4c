/**
 * The baseline worker, a process of its own like Grantflow's: the bare workflow of ./workflows.ts on its own
 * task queue, with the SDK's default worker settings. Environment: TEMPORAL_ADDRESS, BENCH_BASELINE_QUEUE.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogger } from '../../core/logger';
import { installTemporalRuntime } from '../../workers/runtime';
import { baselineActivities } from './activities';

async function main(): Promise<void> {
  installTemporalRuntime(createLogger('bench-baseline-worker'));
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: process.env.BENCH_BASELINE_QUEUE ?? 'bench-baseline',
    workflowsPath: require.resolve('./workflows'),
    activities: baselineActivities,
  });
  const running = worker.run();
  process.stdout.write('baseline-worker-ready\n');
  const stop = () => worker.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await running;
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
