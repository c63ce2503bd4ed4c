/**
 * The baseline: the least a Temporal workflow can do that touches the world once, a workflow that runs one
 * no-op activity. The activity returns the moment it completed, so the bench measures start → activity done.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './activities';

const { noop } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30s' });

export async function benchBaseline(): Promise<number> {
  return noop();
}
