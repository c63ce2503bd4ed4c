/**
 * What one workflow costs Temporal: the events in its history, by type (every activity, timer, search
 * attribute upsert and workflow task is work for the server and a write to its database).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface HistoryCount {
  workflowId: string;
  events: number;
  activities: number;
  workflowTasks: number;
  searchAttributeUpserts: number;
  timers: number;
  byType: Record<string, number>;
  /**
   * The start of the workflow's life as the server saw it: each event up to the completion of the first
   * activity that is not a notification, in ms since the workflow started (activity types named).
   */
  opening: { event: string; ms: number }[];
}

export async function countHistory(client: Client, workflowId: string): Promise<HistoryCount> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const byType: Record<string, number> = {};
  const opening: HistoryCount['opening'] = [];
  const activityTypes = new Map<string, string>();
  let t0: number | undefined;
  let opened = false;
  for (const e of history.events ?? []) {
    const name = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(
      /^EVENT_TYPE_/,
      '',
    );
    byType[name] = (byType[name] ?? 0) + 1;
    if (opened) continue;
    const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
    t0 ??= at;
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) activityTypes.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const of =
      e.activityTaskStartedEventAttributes?.scheduledEventId ??
      e.activityTaskCompletedEventAttributes?.scheduledEventId;
    const activity =
      scheduled?.activityType?.name ?? (of != null ? activityTypes.get(String(of)) : undefined);
    opening.push({ event: activity ? `${name} (${activity})` : name, ms: at - t0 });
    if (name === 'ACTIVITY_TASK_COMPLETED' && !activity?.startsWith('notify')) opened = true;
  }
  return {
    workflowId,
    events: history.events?.length ?? 0,
    activities: byType.ACTIVITY_TASK_SCHEDULED ?? 0,
    workflowTasks: byType.WORKFLOW_TASK_SCHEDULED ?? 0,
    searchAttributeUpserts: byType.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES ?? 0,
    timers: byType.TIMER_STARTED ?? 0,
    byType,
    opening,
  };
}
