/**
 * `grantflow integrations check [name…]`: connects to each integration with Grantflow's own credentials and runs
 * its connector's health checks (connectivity and the privileges Grantflow needs), one clear result per
 * integration. Exits 8 when any fails.
 */
import type { Command } from 'commander';
import { createConnectorRegistry } from '../../connectors/registry';
import type { HealthResult } from '../../connectors/types';
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
      const registry = createConnectorRegistry(config.integrations, {
        log: logger.child({}, { level: 'warn' }),
      });
      try {
        const results = await Promise.all(
          (names.length ? names : all).map(async (name) => {
            const integration = config.integrations[name]!;
            const mode = 'mode' in integration ? ` ${integration.mode}` : '';
            return {
              name,
              type: `${integration.type}${mode}`,
              ...(await checkOne(() => registry.get(name).checkHealth())),
            };
          }),
        );
        if (o.json) console.log(JSON.stringify(results, null, 2));
        else for (const r of results) console.log(describe(r));
        if (results.some((r) => !r.ok)) process.exitCode = 8;
      } finally {
        await registry.closeAll();
      }
    });
}

/** The connector's health, or a failure when it throws or does not answer in time. */
async function checkOne(run: () => Promise<HealthResult>): Promise<HealthResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    return {
      ok: false,
      message: err instanceof Error ? err.message : String(err),
      latencyMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

function describe(r: HealthResult & { name: string; type: string }): string {
  const head = `${r.ok ? '✔' : '✘'} ${r.name} (${r.type}) ${r.ok ? 'ok' : 'FAILED'} in ${r.latencyMs} ms`;
  const lines = (r.checks ?? []).map(
    (c) => `    ${c.ok ? '✔' : '✘'} ${c.name}${c.message ? `: ${c.message}` : ''}`,
  );
  if (!r.checks?.length && r.message) lines.push(`    ${r.message}`);
  return [head, ...lines].join('\n');
}
