/**
 * `npm run bench`: Grantflow's performance figures, each next to bare Temporal measured on the same machine in
 * the same run. Starts its own stack (bench/stack.ts), runs the scenarios in order — baseline, time to access,
 * approval to access, throughput, steady and burst revocation, footprint — printing a progress line as it goes,
 * and writes results.json, results.md and chart.svg to bench-results/<date>-<mode>/. `--quick` runs every
 * scenario small (under two minutes); `--only a,b` runs some. See docs/performance.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { renderChart } from './chart';
import { BenchContext, Progress } from './context';
import { defaultOptions, selectScenarios, SCENARIOS, type BenchOptions, type ScenarioName } from './options';
import { PairPool, type World } from './people';
import { evaluateTargets, machineInfo, markdown, type BenchResults, type Scenarios } from './report';
import { runAccess } from './scenarios/access';
import { runApproval } from './scenarios/approval';
import { runBaseline } from './scenarios/baseline';
import { runFootprint } from './scenarios/footprint';
import { runBurst, runSteady } from './scenarios/revocation';
import { runThroughput } from './scenarios/throughput';
import { startBenchStack, type BenchStack } from './stack';
import { ms } from './stats';
import { CLOCK_TICKS } from './procs';

const ROLES = 5;

function parseOptions(): BenchOptions {
  const program = new Command('bench')
    .description("Grantflow's performance figures against bare Temporal, on a stack of its own.")
    .option('--quick', 'every scenario, small: finishes in under two minutes')
    .addOption(new Option('--only <scenarios>', `comma-separated: ${SCENARIOS.join(', ')}`))
    .addOption(new Option('--out <dir>', 'results folder').default('bench-results'))
    .addOption(
      new Option('--store <kind>', "Grantflow's own store")
        .choices(['postgres', 'sqlite'])
        .default('postgres'),
    )
    .addOption(
      new Option('--concurrency <n>', 'requests in flight in the latency scenarios').argParser(Number),
    )
    .option(
      '--cpu-prof',
      "profile the worker's and the API server's CPU (node --cpu-prof) into <results>/profiles",
    )
    .showHelpAfterError();
  program.parse();
  const f = program.opts<{
    quick?: boolean;
    only?: string;
    out: string;
    store: 'postgres' | 'sqlite';
    concurrency?: number;
    cpuProf?: boolean;
  }>();
  const o = defaultOptions(f.quick === true);
  o.scenarios = selectScenarios(f.only);
  o.outDir = f.out;
  o.store = f.store;
  o.cpuProf = f.cpuProf === true;
  if (f.concurrency !== undefined) {
    if (!Number.isInteger(f.concurrency) || f.concurrency < 1)
      throw new Error('--concurrency: a whole number ≥ 1');
    o.concurrency = f.concurrency;
  }
  return o;
}

/** Enough (person, role) pairs for the most grants any selected scenario holds at once, with room to spare. */
function worldFor(o: BenchOptions): World {
  const has = (s: ScenarioName) => o.scenarios.includes(s);
  const live = Math.max(
    has('footprint') ? o.footprint.grants : 0,
    has('steady') ? o.steady.grants : 0,
    has('burst') ? o.burst.grants : 0,
    has('throughput') ? (o.quick ? 500 : 4_000) : 0,
    o.accessRequests + 4 * o.loadedConcurrency,
    o.approvalRequests + 2 * o.loadedConcurrency,
  );
  return { people: Math.ceil((live * 1.1) / ROLES), roles: ROLES };
}

function oneLine(name: ScenarioName, s: Scenarios): string {
  switch (name) {
    case 'baseline':
      return s.baseline ? `p50 ${ms(s.baseline.latencyMs.p50)}, p99 ${ms(s.baseline.latencyMs.p99)}` : '';
    case 'access':
      return s.access
        ? `p50 ${ms(s.access.latencyMs.p50)}, p99 ${ms(s.access.latencyMs.p99)}` +
            (s.baseline
              ? ` (${(s.access.latencyMs.p50 / s.baseline.latencyMs.p50).toFixed(2)}× baseline p50)`
              : '')
        : '';
    case 'baseline-loaded': {
      const x = s['baseline-loaded'];
      return x ? `p50 ${ms(x.latencyMs.p50)}, p99 ${ms(x.latencyMs.p99)}` : '';
    }
    case 'access-loaded': {
      const x = s['access-loaded'];
      const base = s['baseline-loaded'];
      return x
        ? `p50 ${ms(x.latencyMs.p50)}, p99 ${ms(x.latencyMs.p99)}` +
            (base ? ` (${(x.latencyMs.p50 / base.latencyMs.p50).toFixed(2)}× baseline p50)` : '')
        : '';
    }
    case 'approval':
      return s.approval ? `p50 ${ms(s.approval.latencyMs.p50)}, p99 ${ms(s.approval.latencyMs.p99)}` : '';
    case 'throughput':
      return s.throughput ? `knee ${s.throughput.kneeRps} requests/s` : '';
    case 'steady':
      return s.steady
        ? `lateness p50 ${ms(s.steady.latenessMs.p50)}, p99 ${ms(s.steady.latenessMs.p99)}, max ${ms(s.steady.latenessMs.max)}, never revoked ${s.steady.neverRevoked}`
        : '';
    case 'burst':
      return s.burst
        ? `${s.burst.aligned} aligned; last access gone ${ms(s.burst.drainMs)} after the expiry`
        : '';
    case 'footprint':
      return s.footprint ? `RSS ${s.footprint.rssMiB} MiB with ${s.footprint.granted} in flight` : '';
  }
}

/** Scenarios selected but not (yet) measured, as errors of a run that stopped before them. */
function pendingOf(
  selected: readonly ScenarioName[],
  done: Scenarios,
  errors: BenchResults['errors'],
): BenchResults['errors'] {
  return Object.fromEntries(
    selected
      .filter((n) => !(n in done) && !(n in errors))
      .map((n) => [n, 'not run: the run stopped before it']),
  );
}

async function main(): Promise<number> {
  const o = parseOptions();
  const t0 = Date.now();
  const say = (line: string) => {
    const sec = Math.round((Date.now() - t0) / 1000);
    const clock = `${String(Math.floor(sec / 60)).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
    const plain = line.startsWith('[bench') || line === '' || line.includes('\n');
    process.stdout.write(plain ? `${line}\n` : `[bench ${clock}] ${line.replace(/^bench: /, '')}\n`);
  };
  const startedAt = new Date();
  const machine = machineInfo();
  const mode = o.quick ? 'quick' : 'full';
  const dir = path.resolve(o.outDir, `${startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${mode}`);
  const logsDir = path.join(dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const world = worldFor(o);
  say(
    `bench (${mode}): ${o.scenarios.join(', ')} on ${machine.cores} cores, load ${machine.loadAtStart.join(' / ')}; ` +
      `results and logs in ${path.relative(process.cwd(), dir)}`,
  );
  let stack: BenchStack | undefined;
  const progress = new Progress(() => stack, o.quick ? 5_000 : 15_000, say);
  let b: BenchContext | undefined;
  let interrupted = false;
  const scenarios: Scenarios = {};
  const errors: BenchResults['errors'] = {};
  const cpu: BenchResults['cpu'] = {};
  const locks: BenchResults['auditLockWaits'] = {};
  let versions: Record<string, string> = {};
  // Written after every scenario, so that a run stopped midway keeps what it measured.
  const write = (finished: boolean): BenchResults => {
    const finishedAt = new Date();
    const { outDir: _outDir, ...settings } = o;
    const results: BenchResults = {
      mode,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
      machine: { ...machine, loadAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100) },
      versions,
      settings,
      world,
      scenarios,
      targets: evaluateTargets(scenarios),
      cpu,
      auditLockWaits: locks,
      errors: finished ? errors : { ...errors, ...pendingOf(o.scenarios, scenarios, errors) },
    };
    writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(path.join(dir, 'results.md'), markdown(results));
    writeFileSync(path.join(dir, 'chart.svg'), renderChart(results));
    return results;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      interrupted = true;
      say(`bench: ${signal}: writing what was measured and stopping the stack`);
      void (async () => {
        progress.stop();
        write(false);
        await b?.stop().catch(() => undefined);
        await stack?.close().catch(() => undefined);
        process.exit(130);
      })();
    });
  try {
    stack = await startBenchStack(o, world, logsDir, say);
    versions = stack.versions;
    b = new BenchContext(o, stack, new PairPool(world), progress, say);
    b.start();
    progress.start();
    for (const name of o.scenarios) {
      if (interrupted) break;
      const began = Date.now();
      const ticks0 = stack.cpuTicks();
      b.locks.take();
      say(`bench: ${name}…`);
      try {
        if (name === 'baseline') scenarios.baseline = await runBaseline(b);
        if (name === 'access') scenarios.access = await runAccess(b);
        if (name === 'baseline-loaded')
          scenarios['baseline-loaded'] = await runBaseline(b, o.loadedConcurrency);
        if (name === 'access-loaded') scenarios['access-loaded'] = await runAccess(b, o.loadedConcurrency);
        if (name === 'approval') scenarios.approval = await runApproval(b);
        if (name === 'throughput') scenarios.throughput = await runThroughput(b);
        if (name === 'steady') scenarios.steady = await runSteady(b);
        if (name === 'burst') scenarios.burst = await runBurst(b);
        if (name === 'footprint') scenarios.footprint = await runFootprint(b);
        say(
          `bench: ${name} done in ${Math.round((Date.now() - began) / 1000)} s: ${oneLine(name, scenarios)}`,
        );
      } catch (err) {
        errors[name] = err instanceof Error ? err.message.split('\n')[0] : String(err);
        say(`bench: ${name} FAILED: ${errors[name]}`);
      }
      const ticks1 = stack.cpuTicks();
      const lockWaits = b.locks.take();
      if (lockWaits) locks[name] = lockWaits;
      cpu[name] = {
        wallSeconds: Math.round((Date.now() - began) / 1000),
        cpuSeconds: Object.fromEntries(
          Object.keys(ticks1).map((k) => [
            k,
            Math.round(((ticks1[k] - (ticks0[k] ?? 0)) / CLOCK_TICKS) * 10) / 10,
          ]),
        ),
      };
      if (!interrupted) write(false);
    }
  } finally {
    progress.stop();
    await b?.stop();
    await stack?.close();
  }
  const results = write(true);
  say('');
  say(markdown(results));
  say(
    `bench: finished in ${results.wallSeconds} s; ${path.relative(process.cwd(), dir)}/results.{json,md}, chart.svg`,
  );
  return Object.keys(errors).length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
