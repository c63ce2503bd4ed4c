import type { Client } from '@temporalio/client';
import type { Store } from '../store/types';
import type { ReadinessCheck } from './app';

/** Readiness: Grantflow's database answers, and Temporal answers for our namespace. */
export function standardChecks(store: Store, client: Client): ReadinessCheck[] {
  return [
    {
      name: 'database',
      check: async () => {
        await store.knex.raw('select 1');
      },
    },
    {
      name: 'temporal',
      check: async () => {
        await client.workflowService.describeNamespace({ namespace: client.options.namespace });
      },
    },
  ];
}
