/**
 * Injects the planned faults one after another, at their planned moments: SIGKILL of the worker (a new one is
 * started after the pause), a stop and start of the Temporal dev server on its SQLite file and ports, and a
 * PostgreSQL outage for the connector (the proxy refuses connections, then listens again). Each fault is kept
 * with the moment its target was back, which the lateness check needs.
 */
import type { FaultKind, Plan } from './plan';
import type { ChaosStack } from './stack';

export interface FaultRecord {
  kind: FaultKind | 'worker-unexpected-exit';
  /** When the target went away and when it was back (ms since the epoch). */
  startedAt: number;
  endedAt: number;
  downMs: number;
  error?: string;
}

export interface FaultState {
  records: FaultRecord[];
  /** The fault going on now, for the progress line. */
  current?: { kind: FaultKind; since: number };
}

export async function runFaults(
  stack: ChaosStack,
  plan: Plan,
  state: FaultState,
  t0: number,
  isStopping: () => boolean,
): Promise<void> {
  for (const f of plan.faults) {
    await sleep(Math.max(0, t0 + f.atMs - Date.now()));
    if (isStopping()) return;
    const startedAt = Date.now();
    state.current = { kind: f.kind, since: startedAt };
    let error: string | undefined;
    try {
      await inject(stack, f.kind, f.downMs);
    } catch (err) {
      error = String(err);
      stack.log.error({ err: error, kind: f.kind }, 'fault injection failed');
    }
    state.current = undefined;
    state.records.push({ kind: f.kind, startedAt, endedAt: Date.now(), downMs: f.downMs, error });
  }
}

async function inject(stack: ChaosStack, kind: FaultKind, downMs: number): Promise<void> {
  switch (kind) {
    case 'worker-kill':
      await stack.worker.kill();
      await sleep(downMs);
      await stack.worker.start();
      return;
    case 'temporal-restart':
      await stack.temporal.restart(downMs);
      return;
    case 'pg-outage':
      await stack.proxy.down();
      try {
        await sleep(downMs);
      } finally {
        await stack.proxy.up();
      }
      return;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
