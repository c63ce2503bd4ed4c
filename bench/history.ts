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
}

export async function countHistory(client: Client, workflowId: string): Promise<HistoryCount> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const byType: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const name = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(
      /^EVENT_TYPE_/,
      '',
    );
    byType[name] = (byType[name] ?? 0) + 1;
  }
  return {
    workflowId,
    events: history.events?.length ?? 0,
    activities: byType.ACTIVITY_TASK_SCHEDULED ?? 0,
    workflowTasks: byType.WORKFLOW_TASK_SCHEDULED ?? 0,
    searchAttributeUpserts: byType.UPSERT_WORKFLOW_SEARCH_ATTRIBUTES ?? 0,
    timers: byType.TIMER_STARTED ?? 0,
    byType,
  };
}
