/**
 * Readiness checks: Grantflow's database answers, Temporal answers for our namespace, and (in the worker
 * process) the worker is running.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Store } from '../store/types';
import type { ReadinessCheck } from './app';

/** A Temporal connection: the client's Connection, or the worker's NativeConnection. */
interface TemporalService {
  workflowService: Pick<Client['workflowService'], 'describeNamespace'>;
  withDeadline<T>(deadline: number | Date, fn: () => Promise<T>): Promise<T>;
}

export function databaseCheck(store: Store): ReadinessCheck {
  return {
    name: 'database',
    check: async () => {
      await store.knex.raw('select 1');
    },
  };
}

/**
 * Temporal answers for our namespace within `timeoutMs`. A deadline, not only the readiness timeout: the client
 * retries a call to a server that is down, and a retry still waiting when the connection closes throws out of a
 * timer; with the deadline past, the next attempt ends at once instead of retrying on.
 */
export function temporalCheck(
  temporal: TemporalService,
  namespace: string,
  timeoutMs = 2_500,
): ReadinessCheck {
  return {
    name: 'temporal',
    check: async () => {
      await temporal.withDeadline(Date.now() + timeoutMs, () =>
        temporal.workflowService.describeNamespace({ namespace }),
      );
    },
  };
}

/** The worker polls its task queue (RUNNING); not while starting, draining or stopped. */
export function workerCheck(worker: Pick<Worker, 'getState'>): ReadinessCheck {
  return {
    name: 'worker',
    check: async () => {
      const state = worker.getState();
      if (state !== 'RUNNING') throw new Error(`the worker is ${state}`);
    },
  };
}

/** Readiness of the API server: Grantflow's database answers, and Temporal answers for our namespace. */
export function standardChecks(store: Store, client: Client): ReadinessCheck[] {
  return [databaseCheck(store), temporalCheck(client.connection, client.options.namespace)];
}
