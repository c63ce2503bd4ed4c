/**
 * `npm run chaos`: proves on one machine, against the real stack, that no grant is forgotten while workers are
 * killed, Temporal restarts and PostgreSQL goes away. Flags (each also from a CHAOS_* environment variable)
 * set the seed, the load and the faults; the report goes to stdout and to the results folder. Exits 1 when any
 * invariant fails, naming each violation. See docs/reliability.md.
 */
import { Command, Option } from 'commander';
import { defaultFaults, defaultOptions, parseMs, parseRange, type ChaosOptions } from './options';
import { runChaos } from './index';

const int = (what: string) => (text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: ${text} is not a whole number`);
  return n;
};
const ms = (what: string) => (text: string) => parseMs(text, what);
const range = (what: string) => (text: string) => parseRange(text, what);

async function main(): Promise<number> {
  const d = defaultOptions();
  const program = new Command('chaos')
    .description('Chaos run of Grantflow against a real Temporal dev server and PostgreSQL on this machine.')
    .addOption(
      new Option('--seed <n>', 'seed of every random decision')
        .env('CHAOS_SEED')
        .argParser(int('--seed'))
        .default(d.seed),
    )
    .addOption(
      new Option('--requests <n>', 'access requests to make')
        .env('CHAOS_REQUESTS')
        .argParser(int('--requests'))
        .default(d.requests),
    )
    .addOption(
      new Option('--duration <d>', 'length of the fault phase (requests start in its first 70%)')
        .env('CHAOS_DURATION')
        .argParser(ms('--duration'))
        .default(d.durationMs, '5m'),
    )
    .addOption(
      new Option('--min-grant <d>', 'shortest grant')
        .env('CHAOS_MIN_GRANT')
        .argParser(ms('--min-grant'))
        .default(d.minGrantMs, '10s'),
    )
    .addOption(
      new Option('--max-grant <d>', 'longest grant')
        .env('CHAOS_MAX_GRANT')
        .argParser(ms('--max-grant'))
        .default(d.maxGrantMs, '60s'),
    )
    .addOption(new Option('--out <dir>', 'results folder').env('CHAOS_OUT').default(d.outDir))
    .addOption(
      new Option('--store <kind>', "Grantflow's own store")
        .env('CHAOS_STORE')
        .choices(['sqlite', 'postgres'])
        .default(d.store),
    )
    .addOption(
      new Option('--worker-kills <n>', 'worker SIGKILLs (default: one per 50 s of the fault phase)')
        .env('CHAOS_WORKER_KILLS')
        .argParser(int('--worker-kills')),
    )
    .addOption(
      new Option('--temporal-restarts <n>', 'Temporal dev server restarts (same default)')
        .env('CHAOS_TEMPORAL_RESTARTS')
        .argParser(int('--temporal-restarts')),
    )
    .addOption(
      new Option('--pg-outages <n>', 'PostgreSQL outages for the connector (same default)')
        .env('CHAOS_PG_OUTAGES')
        .argParser(int('--pg-outages')),
    )
    .addOption(
      new Option('--worker-down <range>', 'pause before a killed worker is started again')
        .env('CHAOS_WORKER_DOWN')
        .argParser(range('--worker-down'))
        .default(d.workerDownMs, '1s-5s'),
    )
    .addOption(
      new Option('--temporal-down <range>', 'how long Temporal stays stopped')
        .env('CHAOS_TEMPORAL_DOWN')
        .argParser(range('--temporal-down'))
        .default(d.temporalDownMs, '2s-8s'),
    )
    .addOption(
      new Option('--pg-down <range>', 'how long PostgreSQL refuses the connector')
        .env('CHAOS_PG_DOWN')
        .argParser(range('--pg-down'))
        .default(d.pgDownMs, '3s-20s'),
    )
    .addOption(
      new Option('--approval-timeout <d>', 'unanswered approvals expire after this')
        .env('CHAOS_APPROVAL_TIMEOUT')
        .argParser(ms('--approval-timeout'))
        .default(d.approvalTimeoutMs, '45s'),
    )
    .addOption(
      new Option('--revoke-overdue-after <d>', 'settings.revokeOverdueAfter')
        .env('CHAOS_REVOKE_OVERDUE_AFTER')
        .argParser(ms('--revoke-overdue-after'))
        .default(d.revokeOverdueAfterMs, '10s'),
    )
    .addOption(
      new Option('--late-limit <d>', 'a revoke later than this after its target came back fails the run')
        .env('CHAOS_LATE_LIMIT')
        .argParser(ms('--late-limit'))
        .default(d.lateLimitMs, '60s'),
    )
    .addOption(
      new Option(
        '--final-wait <d>',
        'bound on the wait for every request to be final (default: max grant + approval timeout + overdue + 3m)',
      )
        .env('CHAOS_FINAL_WAIT')
        .argParser(ms('--final-wait')),
    )
    .addOption(
      new Option('--extend <share>', 'share of automatic grants their requester extends once ACTIVE (0 to 1)')
        .env('CHAOS_EXTEND')
        .argParser((text: string) => {
          const n = Number(text);
          if (!(n >= 0 && n <= 1)) throw new Error(`--extend: ${text} is not between 0 and 1`);
          return n;
        })
        .default(d.extendShare),
    )
    .addOption(
      new Option('--keep-temp', 'keep the temporary folder (Temporal and PostgreSQL files)').env(
        'CHAOS_KEEP_TEMP',
      ),
    )
    .showHelpAfterError();
  program.parse();
  const f = program.opts<{
    seed: number;
    requests: number;
    duration: number;
    minGrant: number;
    maxGrant: number;
    out: string;
    store: 'sqlite' | 'postgres';
    workerKills?: number;
    temporalRestarts?: number;
    pgOutages?: number;
    workerDown: [number, number];
    temporalDown: [number, number];
    pgDown: [number, number];
    approvalTimeout: number;
    revokeOverdueAfter: number;
    lateLimit: number;
    finalWait?: number;
    keepTemp?: boolean;
    extend: number;
  }>();
  if (f.maxGrant < f.minGrant) throw new Error('--max-grant is shorter than --min-grant');
  const per = defaultFaults(f.duration);
  const base = defaultOptions({
    durationMs: f.duration,
    maxGrantMs: f.maxGrant,
    approvalTimeoutMs: f.approvalTimeout,
    revokeOverdueAfterMs: f.revokeOverdueAfter,
  });
  const options: ChaosOptions = {
    ...base,
    seed: f.seed,
    requests: f.requests,
    minGrantMs: f.minGrant,
    outDir: f.out,
    store: f.store,
    faults: {
      workerKill: f.workerKills ?? per.workerKill,
      temporalRestart: f.temporalRestarts ?? per.temporalRestart,
      pgOutage: f.pgOutages ?? per.pgOutage,
    },
    workerDownMs: f.workerDown,
    temporalDownMs: f.temporalDown,
    pgDownMs: f.pgDown,
    lateLimitMs: f.lateLimit,
    finalWaitMs: f.finalWait ?? base.finalWaitMs,
    keepTemp: f.keepTemp === true,
    extendShare: f.extend,
  };
  const report = await runChaos(options);
  if (!report.ok) {
    process.stderr.write(
      `chaos: ${report.violations.length} violation(s); details in ${options.outDir}/report.json\n`,
    );
    for (const v of report.violations) process.stderr.write(`  [${v.check}] ${v.message}\n`);
  }
  return report.ok ? 0 : 1;
}

// Interrupted: exit handlers stop the worker, the proxy, Temporal and PostgreSQL.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
