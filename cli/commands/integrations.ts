/**
 * `grantflow integrations check [name…]`: connects to each integration with Grantflow's own credentials and runs
 * its connector's health checks (connectivity and the privileges Grantflow needs), one clear result per
 * integration. Exits 8 when any fails.
 */
import type { Command } from 'commander';
import { checkIntegrations, type IntegrationHealth } from '../../core/doctor';
import { InvalidInputError } from '../../core/errors';
import { logger } from '../../core/logger';
import { findConfigFile, loadConfig } from '../../config/load';
import { applyDevDefaults, type GlobalOptions } from '../context';

const CHECK_TIMEOUT_MS = 15_000;

export function registerIntegrationCommands(program: Command, globals: () => GlobalOptions): void {
  const integrations = program.command('integrations').description('the systems Grantflow grants access in');
  integrations
    .command('check [names...]')
    .description("test each integration's connectivity and Grantflow's permissions there")
    .option('--json', 'print JSON')
    .action(async (names: string[], o) => {
      applyDevDefaults();
      // Unlike the other commands, this one calls the connectors, so it needs the integrations' secrets.
      const config = loadConfig(findConfigFile(globals().config), process.env);
      const all = Object.keys(config.integrations);
      const unknown = names.filter((n) => !all.includes(n));
      if (unknown.length)
        throw new InvalidInputError(
          `no integration named ${unknown.join(', ')} (configured: ${all.join(', ')})`,
        );
      const results = await checkIntegrations(config, names.length ? names : all, {
        log: logger.child({}, { level: 'warn' }),
        timeoutMs: CHECK_TIMEOUT_MS,
      });
      if (o.json) console.log(JSON.stringify(results, null, 2));
      else for (const r of results) console.log(describe(r));
      if (results.some((r) => !r.ok)) process.exitCode = 8;
    });
}

function describe(r: IntegrationHealth): string {
  const head = `${r.ok ? '✔' : '✘'} ${r.name} (${r.type}) ${r.ok ? 'ok' : 'FAILED'} in ${r.latencyMs} ms`;
  const lines = (r.checks ?? []).map(
    (c) => `    ${c.ok ? '✔' : '✘'} ${c.name}${c.message ? `: ${c.message}` : ''}`,
  );
  if (!r.checks?.length && r.message) lines.push(`    ${r.message}`);
  return [head, ...lines].join('\n');
}
