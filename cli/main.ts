/**
 * `grantflow`: the operator's CLI. It talks to Temporal and the store directly, so anyone who can run it
 * against the namespace is an admin already; `--as` (or GRANTFLOW_USER) names the acting identity, and every
 * action is audited with the channel `cli` and the operating-system user.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors';
import { GrantflowError } from '../core/errors';
import { registerAdminCommands } from './commands/admin';
import { registerDoctorCommand } from './commands/doctor';
import { registerIntegrationCommands } from './commands/integrations';
import { registerProcessCommands } from './commands/processes';
import { registerReconcileCommand } from './commands/reconcile';
import { registerRequestCommands } from './commands/requests';
import { registerTokenCommands } from './commands/tokens';
import type { GlobalOptions } from './context';

export function buildProgram(): Command {
  const program = new Command('grantflow')
    .description('Just-in-time access: request, approve, grant and automatically revoke temporary access.')
    .option('-c, --config <file>', 'grantflow.yaml to use (or GRANTFLOW_CONFIG)')
    .option('--as <email>', 'the identity acting (or GRANTFLOW_USER)')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError()
    .exitOverride();
  const globals = () => program.opts<GlobalOptions>();
  registerRequestCommands(program, globals);
  registerAdminCommands(program, globals);
  registerIntegrationCommands(program, globals);
  registerProcessCommands(program, globals);
  registerTokenCommands(program, globals);
  registerReconcileCommand(program, globals);
  registerDoctorCommand(program, globals);
  return program;
}

/** Runs the CLI; a refused action exits non-zero with one clear line (--debug adds the stack). */
export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const debug = argv.includes('--debug');
    // Exit now: a command that failed half-way (a worker that could not start, say) may hold connections open.
    process.exit(reportError(err, debug));
  }
}

function reportError(err: unknown, debug: boolean): number {
  if (err instanceof ConfigError) {
    console.error(err.message);
    return 2;
  }
  if (err instanceof GrantflowError) {
    console.error(`grantflow: ${err.message}`);
    if (debug) console.error(err.stack);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(`grantflow: error: ${message}`);
  if (debug && err instanceof Error) console.error(err.stack);
  else console.error('(run with --debug for the stack trace)');
  return 1;
}

if (require.main === module) void main();
