/**
 * Scenario 1, the baseline: a bare Temporal workflow that runs one no-op activity, on the same server, on its
 * own worker process and task queue. Each run is timed from the client's start call to the moment the activity
 * completed (recorded inside the activity), with the same number in flight as the time-to-access scenario.
 */
import type { BenchContext } from '../context';
import { BASELINE_QUEUE } from '../stack';
import { closedLoop, summarize, type Summary } from '../stats';
import { countHistory, type HistoryCount } from '../history';

export interface BaselineResult {
  runs: number;
  concurrency: number;
  latencyMs: Summary;
  samples: number[];
  history?: HistoryCount;
}

export async function runBaseline(b: BenchContext, c = b.o.concurrency): Promise<BaselineResult> {
  const { client } = b.stack;
  const n = b.o.baselineRuns;
  const tag = `${Date.now().toString(36)}-c${c}`;
  const once = async (id: string): Promise<number> => {
    const t0 = Date.now();
    const handle = await client.workflow.start('benchBaseline', {
      taskQueue: BASELINE_QUEUE,
      workflowId: id,
    });
    const doneAt = await handle.result();
    return doneAt - t0;
  };
  b.progress.set('baseline: warming up');
  await closedLoop(c * 4, c, async (i) => void (await once(`bench-baseline-warm-${tag}-${i}`)));
  const samples: number[] = [];
  b.progress.set('baseline', () => `${samples.length}/${n} workflows`);
  await closedLoop(n, c, async (i) => {
    samples.push(await once(`bench-baseline-${tag}-${i}`));
  });
  const history = await countHistory(client, `bench-baseline-${tag}-0`).catch(() => undefined);
  return { runs: n, concurrency: c, latencyMs: summarize(samples), samples, ...(history ? { history } : {}) };
}
