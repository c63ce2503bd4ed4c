/**
 * `grantflow reconcile [--dry-run] [--json] [--integration NAME]`: one drift reconciliation now, in this process,
 * through the same activity code and orchestration the Schedule runs (docs/reconcile.md). Like `audit`, it is an
 * operator command with the config (secrets included: it calls the connectors) and the store. Prints the findings
 * as a table. Exit codes: 0 no drift, 10 drift found, 11 no drift found but an integration could not be checked.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { createReconcileActivities, reconcilePlan, type IntegrationDrift } from '../../activities/reconcile';
import { LogChatAdapter } from '../../chat-adapters/log-adapter';
import { Notifier } from '../../chat-adapters/notifier';
import { findConfigFile, loadConfig } from '../../config/load';
import { createConnectorRegistry } from '../../connectors/registry';
import { InvalidInputError } from '../../core/errors';
import { createLogger } from '../../core/logger';
import { buildChatAdapters } from '../../workers/chat';
import { runReconciliation, type ReconcileSummary } from '../../workflows/reconcile';
import { applyDevDefaults, openStoreFromEnv, type GlobalOptions } from '../context';

export const EXIT_DRIFT = 10;
export const EXIT_NOT_CHECKED = 11;

export function registerReconcileCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('reconcile')
    .description('compare each target system with the grants Grantflow holds, now; report (or remove) drift')
    .option('--dry-run', 'report what revoke mode would remove, and remove nothing')
    .option('--json', 'print JSON')
    .option('--integration <name>', 'only this integration')
    .action(async (o: { dryRun?: boolean; json?: boolean; integration?: string }) => {
      applyDevDefaults();
      const config = loadConfig(findConfigFile(globals().config), process.env);
      const names = Object.keys(config.integrations);
      if (o.integration !== undefined && !names.includes(o.integration))
        throw new InvalidInputError(
          `no integration named ${o.integration} (configured: ${names.join(', ')})`,
          'integration',
        );
      const log = createLogger('grantflow-cli', { level: 'warn', stderr: true });
      const store = await openStoreFromEnv();
      const connectors = createConnectorRegistry(config.integrations, { log });
      try {
        const acts = createReconcileActivities({
          store,
          connectors,
          log,
          notifier: new Notifier(
            [new LogChatAdapter(log), ...buildChatAdapters(() => config, log, { store })],
            store,
            log,
          ),
          adminAlerts: () => config.admins.alerts,
        });
        const summary = await runReconciliation(
          { integrations: reconcilePlan(config, o.integration), dryRun: o.dryRun === true },
          acts,
          `cli-${randomUUID()}`,
          'cli',
        );
        console.log(o.json ? JSON.stringify(summary, null, 2) : summaryText(summary));
        if (summary.findings > 0) process.exitCode = EXIT_DRIFT;
        else if (summary.errors > 0) process.exitCode = EXIT_NOT_CHECKED;
      } finally {
        await connectors.closeAll();
        await store.close();
      }
    });
}

/** The findings as a table, then a line per integration not checked. */
export function summaryText(summary: ReconcileSummary): string {
  const rows = summary.results.flatMap((r) =>
    r.findings.map((f) => [
      f.integration,
      f.kind,
      f.account ?? '?',
      f.permission,
      f.requestId ?? '-',
      f.action,
    ]),
  );
  const lines: string[] = [];
  if (rows.length === 0) {
    const checked = summary.results.filter((r) => r.checked).length;
    lines.push(`no drift: ${checked} integration(s) checked${summary.dryRun ? ' (dry run)' : ''}`);
  } else {
    const header = ['INTEGRATION', 'KIND', 'ACCOUNT', 'PERMISSION', 'REQUEST', 'ACTION'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    for (const cols of [header, ...rows])
      lines.push(
        cols
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    lines.push(`${rows.length} finding(s)${summary.dryRun ? ' (dry run: nothing was removed)' : ''}`);
  }
  for (const r of summary.results.filter((x: IntegrationDrift) => !x.checked))
    lines.push(`${r.integration}: not checked: ${r.error ?? r.note ?? 'unknown reason'}`);
  return lines.join('\n');
}
