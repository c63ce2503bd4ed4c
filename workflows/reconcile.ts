/**
 * reconcileDrift: one drift reconciliation run (docs/reconcile.md), started by the `grantflow-reconcile` Schedule.
 * It orchestrates only: one activity per integration compares and acts, then one alert sums the run up. The same
 * orchestration (runReconciliation) runs in-process for `grantflow reconcile`.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { IntegrationDrift, ReconcilePlanEntry } from '../activities/reconcile';

export interface ReconcileDriftInput {
  /** The integrations to reconcile and their modes, from the config when the Schedule was last set. */
  integrations: ReconcilePlanEntry[];
  /** Report what would be removed, remove nothing. @default false */
  dryRun?: boolean;
}

export interface ReconcileSummary {
  runId: string;
  dryRun: boolean;
  results: IntegrationDrift[];
  /** Findings in all integrations. */
  findings: number;
  /** Integrations that could not be reconciled. */
  errors: number;
}

type ReconcileActs = Pick<Activities, 'reconcileIntegration' | 'alertDrift'>;

export async function reconcileDrift(input: ReconcileDriftInput): Promise<ReconcileSummary> {
  // One integration's outage fails its activity after a few tries; the others are still reconciled.
  const { reconcileIntegration } = proxyActivities<Activities>({
    startToCloseTimeout: '5m',
    retry: { initialInterval: '5s', maximumInterval: '30s', maximumAttempts: 3 },
    summary: 'reconcile an integration',
  });
  const { alertDrift } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
    summary: 'alert: drift',
  });
  return runReconciliation(
    input,
    { reconcileIntegration, alertDrift },
    workflowInfo().workflowId,
    'workflow',
  );
}

/** Reconciles each integration in turn, then alerts once. Deterministic: every effect is in `acts`. */
export async function runReconciliation(
  input: ReconcileDriftInput,
  acts: ReconcileActs,
  runId: string,
  channel: string,
): Promise<ReconcileSummary> {
  const dryRun = input.dryRun === true;
  const results: IntegrationDrift[] = [];
  for (const plan of input.integrations) {
    try {
      results.push(await acts.reconcileIntegration({ ...plan, dryRun, runId, channel }));
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      results.push({
        integration: plan.integration,
        mode: plan.mode,
        dryRun,
        checked: false,
        findings: [],
        error: cause instanceof Error ? cause.message : String(cause),
      });
    }
  }
  const summary: ReconcileSummary = {
    runId,
    dryRun,
    results,
    findings: results.reduce((n, r) => n + r.findings.length, 0),
    errors: results.filter((r) => r.error !== undefined).length,
  };
  if (summary.findings > 0 || summary.errors > 0) {
    try {
      await acts.alertDrift({ runId, channel, results });
    } catch {
      // The findings are in the audit log and the summary; a failed alert does not fail the run.
    }
  }
  return summary;
}
