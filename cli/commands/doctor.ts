/**
 * `grantflow doctor`: checks every connection Grantflow needs (Temporal, its namespace and search attributes, the
 * database and its migrations, the config, each integration, Slack, Teams, the encryption keys) and prints each
 * result as it comes, with what is wrong and how to fix it. `--json` prints one JSON report instead. Exits 0 when
 * nothing fails and 10 (DOCTOR_FAILED_EXIT_CODE) when a check fails; warnings and unconfigured parts do not fail.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { findConfigFile, loadConfig } from '../../config/load';
import { DOCTOR_FAILED_EXIT_CODE, formatCheck, formatSummary, runDoctor } from '../../core/doctor';
import { InvalidInputError } from '../../core/errors';
import { createLogger, redactUrl } from '../../core/logger';
import { applyDevDefaults, dataDir, openStoreFromEnv, type GlobalOptions } from '../context';

export function registerDoctorCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('doctor')
    .description(
      'check every connection: Temporal (address, TLS, credentials, namespace, search attributes), the database ' +
        'and its migrations, integrations, Slack, Teams, encryption keys',
    )
    .option('--json', 'print one JSON report instead of lines')
    .option('--timeout <seconds>', 'time limit of each check', '15')
    .action(async (o: { json?: boolean; timeout: string }) => {
      const seconds = Number(o.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0)
        throw new InvalidInputError(`--timeout must be a number of seconds, not "${o.timeout}"`, 'timeout');
      applyDevDefaults();
      const databaseUrl = process.env.DATABASE_URL;
      const sqliteFile = databaseUrl ? undefined : path.join(dataDir(), 'grantflow.sqlite');
      const log = createLogger('grantflow-doctor', { level: 'error', stderr: true });
      if (!o.json) console.log('grantflow doctor: checking every connection…');
      const report = await runDoctor({
        // Unlike most commands, doctor calls the connectors, so the config's secrets are resolved.
        loadConfig: () => loadConfig(findConfigFile(globals().config), process.env),
        database: {
          open: openStoreFromEnv,
          where: databaseUrl ? redactUrl(databaseUrl) : (sqliteFile as string),
          sqliteFile,
        },
        timeoutMs: seconds * 1000,
        log,
        onResult: (r) => {
          if (o.json) process.stderr.write(`${r.status.toUpperCase()} ${r.title}\n`);
          else console.log(formatCheck(r));
        },
      });
      const exitCode = report.ok ? 0 : DOCTOR_FAILED_EXIT_CODE;
      if (o.json) console.log(JSON.stringify({ ...report, exitCode }, null, 2));
      else console.log(formatSummary(report));
      process.exitCode = exitCode;
    });
}
