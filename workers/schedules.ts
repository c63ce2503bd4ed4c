/**
 * The Temporal Schedule that runs drift reconciliation (docs/reconcile.md): created, or brought in line with the
 * config, whenever a worker starts. Several workers starting at once all end with one Schedule: the first creates
 * it, the others find it and update it. Failing here never stops a worker: it logs a warning.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { Logger } from 'pino';
import { reconcilePlan } from '../activities/reconcile';
import type { GrantflowConfig } from '../config/types';
import type { reconcileDrift, ReconcileDriftInput } from '../workflows/reconcile';

export const RECONCILE_SCHEDULE_ID = 'grantflow-reconcile';
export const RECONCILE_WORKFLOW_TYPE = 'reconcileDrift';

/** What the Schedule should be for this config: interval, SKIP on overlap, reconcileDrift on the task queue. */
function scheduleFor(config: GrantflowConfig, scheduleId: string) {
  const input: ReconcileDriftInput = { integrations: reconcilePlan(config) };
  const action: ScheduleOptionsStartWorkflowAction<typeof reconcileDrift> = {
    type: 'startWorkflow',
    workflowType: RECONCILE_WORKFLOW_TYPE,
    workflowId: scheduleId,
    taskQueue: config.taskQueue,
    args: [input],
  };
  return {
    spec: { intervals: [{ every: config.reconcile.everyMs }] },
    action,
    // A run still going when the next is due: the next is skipped. Runs missed while Temporal was away are not
    // made up for beyond one interval.
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: Math.max(config.reconcile.everyMs, 60_000),
    },
  };
}

/** Creates the Schedule, or updates it to this config; a paused Schedule stays paused. Throws on failure. */
export async function ensureReconcileSchedule(
  client: Client,
  config: GrantflowConfig,
  scheduleId = RECONCILE_SCHEDULE_ID,
): Promise<'created' | 'updated'> {
  const wanted = scheduleFor(config, scheduleId);
  // A Schedule deleted between the create and the update is created again (once more at most).
  for (let attempt = 1; ; attempt++) {
    try {
      await client.schedule.create({ scheduleId, ...wanted });
      return 'created';
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
    try {
      await client.schedule
        .getHandle(scheduleId)
        .update((current): ScheduleUpdateOptions<typeof wanted.action> => ({
          ...wanted,
          policies: { ...current.policies, ...wanted.policies },
          state: { paused: current.state.paused, note: current.state.note },
        }));
      return 'updated';
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError) || attempt >= 2) throw err;
    }
  }
}

/** ensureReconcileSchedule for a starting worker: logs the outcome, and never throws. */
export async function startReconcileSchedule(
  client: Client | undefined,
  config: GrantflowConfig,
  log: Logger,
  scheduleId = RECONCILE_SCHEDULE_ID,
): Promise<void> {
  if (!client) {
    log.debug('no Temporal client given to the worker: the drift reconciliation Schedule is not set');
    return;
  }
  try {
    const outcome = await ensureReconcileSchedule(client, config, scheduleId);
    log.info(
      { scheduleId, everyMs: config.reconcile.everyMs, outcome },
      'drift reconciliation Schedule in place',
    );
  } catch (err) {
    log.warn(
      { scheduleId, err: err instanceof Error ? err.message : String(err) },
      'could not create or update the drift reconciliation Schedule; the worker runs on without it',
    );
  }
}
