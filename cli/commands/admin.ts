/**
 * Operator commands: flows validate|explain, audit verify|export (no Temporal), and migrate (Grantflow's tables,
 * then Grantflow's search attributes on the Temporal namespace).
 */
import type { Command } from 'commander';
import { findConfigFile, loadConfig } from '../../config/load';
import { explainFor, formatExplanation } from '../../config/explain';
import { InvalidInputError } from '../../core/errors';
import {
  connectClientConnection,
  ensureGrantflowSearchAttributes,
  temporalSettings,
} from '../../core/temporal';
import { exportAudit } from '../../store/audit';
import { checkRouting } from '../routing-check';

/** `flows validate --strict`: the file is valid, but a flow's notifications would go unseen. */
export const EXIT_ROUTING_WARNINGS = 12;
import { applyDevDefaults, openStoreFromEnv, type GlobalOptions } from '../context';

type Globals = () => GlobalOptions;

export function registerAdminCommands(program: Command, globals: Globals): void {
  const flows = program.command('flows').description('check and explain access flows (grantflow.yaml)');
  flows
    .command('validate [file]')
    .description(
      'check a config file (errors name the file, line, column and field), then where its flows send notifications',
    )
    .option('--offline', 'check the file only: not whether chat is connected and the bot is in each channel')
    .option('--strict', `exit ${EXIT_ROUTING_WARNINGS} when a flow's notifications would go unseen`)
    .action(async (file: string | undefined, o: { offline?: boolean; strict?: boolean }) => {
      applyDevDefaults();
      const configFile = findConfigFile(file ?? globals().config);
      // Secret references are checked for form but not resolved: CI can validate without the secrets.
      const config = loadConfig(configFile, process.env, { resolveSecrets: false });
      console.log(
        `${config.file}: valid — ${config.identities.length} identities, ${config.flows.length} flows, ` +
          `${Object.keys(config.integrations).length} integrations`,
      );
      if (o.offline) return;
      const routing = await checkRouting(configFile, config);
      for (const w of routing.warnings) console.error(`warning: ${w.message}`);
      for (const n of routing.notes) console.error(`note: ${n}`);
      if (routing.warnings.length === 0 && routing.notes.length === 0)
        console.log("notifications: every flow's notifications have somewhere to go");
      if (o.strict && routing.warnings.length > 0) process.exitCode = EXIT_ROUTING_WARNINGS;
    });
  flows
    .command('explain')
    .description('say what a person may request and who would approve')
    .requiredOption('--user <email>', 'the person')
    .option('--json', 'print JSON')
    .action((o) => {
      applyDevDefaults();
      const config = loadConfig(findConfigFile(globals().config), process.env, { resolveSecrets: false });
      const explanation = explainFor(config, o.user);
      console.log(o.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation));
    });

  const audit = program.command('audit').description('the append-only, hash-chained audit log');
  audit
    .command('verify')
    .description('check the hash chain; names any edited, deleted or reordered row')
    .option('--json', 'print JSON')
    .action(async (o) => {
      applyDevDefaults();
      const store = await openStoreFromEnv();
      try {
        const result = await store.verifyAudit();
        if (o.json) console.log(JSON.stringify(result));
        else if (result.ok) console.log(`audit chain intact: ${result.rows} rows verified`);
        else
          for (const p of result.problems)
            console.log(`row ${p.seq} (${p.eventKey}): ${p.problem}: ${p.message}`);
        if (!result.ok) process.exitCode = 7;
      } finally {
        await store.close();
      }
    });
  audit
    .command('export')
    .description('export the audit log to stdout')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--since <iso-time>', 'only events at or after this time')
    .action(async (o) => {
      if (o.format !== 'jsonl' && o.format !== 'csv')
        throw new InvalidInputError(`--format must be jsonl or csv, not "${o.format}"`, 'format');
      const since = o.since ? new Date(o.since) : undefined;
      if (since && Number.isNaN(since.getTime()))
        throw new InvalidInputError(`--since "${o.since}" is not a date (use ISO 8601)`, 'since');
      applyDevDefaults();
      const store = await openStoreFromEnv();
      try {
        await exportAudit(store, { format: o.format, since, out: process.stdout });
      } finally {
        await store.close();
      }
    });

  program
    .command('migrate')
    .description(
      "create or update Grantflow's tables (SQLite, or PostgreSQL with DATABASE_URL), then create Grantflow's " +
        'search attributes on the Temporal namespace when missing',
    )
    .option('--skip-temporal', 'only the tables: leave the Temporal namespace alone')
    .action(async (o: { skipTemporal?: boolean }) => {
      applyDevDefaults();
      const store = await openStoreFromEnv();
      try {
        await store.migrate();
        console.log(`migrated (${store.dialect})`);
      } finally {
        await store.close();
      }
      if (o.skipTemporal) return;
      const settings = temporalSettings();
      const connection = await connectClientConnection(settings);
      try {
        const created = await ensureGrantflowSearchAttributes(connection, settings.namespace);
        const where = `namespace ${settings.namespace} at ${String(settings.connection.address)}`;
        if (created.length === 0) console.log(`search attributes: all present on ${where}`);
        else
          console.log(
            `search attributes: created ${created.map((c) => `${c.name} (${c.type})`).join(', ')} on ${where}`,
          );
      } finally {
        await connection.close();
      }
    });
}
