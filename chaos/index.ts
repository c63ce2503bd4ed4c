/**
 * runChaos: the whole chaos run, as `npm run chaos` and test/chaos.test.ts run it. Starts the stack, sends the
 * planned load while injecting the planned faults and sampling sessions, waits (bounded) for every request to be
 * final, checks the invariants against the real systems, and writes report.json and report.txt.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FINAL_STATUSES } from '../workflows/definitions';
import { runChecks, type Findings } from './checks';
import { runFaults, type FaultState } from './faults';
import { newLoadState, runLoad, type LoadState } from './load';
import type { ChaosOptions } from './options';
import { makePlan } from './plan';
import { seededRandom } from './prng';
import { buildReport, formatTable, type ChaosReport } from './report';
import { SessionSampler } from './sampler';
import { startChaosStack, type ChaosStack } from './stack';

export { defaultOptions, type ChaosOptions } from './options';
export type { ChaosReport } from './report';

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const startedAt = Date.now();
  const say = o.progress ?? ((line: string) => process.stdout.write(`${line}\n`));
  const plan = makePlan(o);
  const logsDir = path.resolve(o.outDir, 'logs');
  rmSync(logsDir, { recursive: true, force: true });
  mkdirSync(logsDir, { recursive: true });
  say(
    `chaos: seed ${o.seed}, ${plan.requests.length} requests by ${plan.people.length + plan.ghosts.length} people, ` +
      `${plan.faults.length} faults over ${Math.round(o.durationMs / 1000)} s; starting the stack`,
  );
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    phases[name] = Math.round((Date.now() - mark) / 100) / 10;
    mark = Date.now();
  };
  const stack = await startChaosStack(o, plan, logsDir);
  phase('stackStartSeconds');
  const load = newLoadState(plan);
  const faults: FaultState = { records: [] };
  stack.worker.onOutage = (from, to) =>
    faults.records.push({ kind: 'worker-unexpected-exit', startedAt: from, endedAt: to, downMs: to - from });
  const sampler = new SessionSampler(stack, load, seededRandom(o.seed).fork('sampler'), o);
  let findings: Findings;
  let ticker: NodeJS.Timeout | undefined;
  try {
    await sampler.start();
    const t0 = Date.now();
    let stopping = false;
    let printing = false;
    ticker = setInterval(() => {
      if (printing) return;
      printing = true;
      void progressLine(stack, load, faults, t0, o)
        .then(say, () => undefined)
        .finally(() => (printing = false));
    }, o.progressEveryMs);
    const loadDone = runLoad(stack, load, t0, () => stopping);
    await runFaults(stack, plan, faults, t0, () => stopping);
    await sleep(Math.max(0, t0 + o.durationMs - Date.now()));
    await loadDone;
    phase('faultPhaseSeconds');
    stopping = true;
    await restoreAll(stack);
    say(
      `chaos: fault phase over; waiting (at most ${Math.round(o.finalWaitMs / 1000)} s) for every request to be final`,
    );
    await waitAllFinal(stack, load, o.finalWaitMs);
    phase('drainSeconds');
    await sampler.stop();
    await sampler.refreshKept();
    const check = () => runChecks({ stack, plan, o, load, faults: faults.records, sampler });
    findings = await check();
    phase('checksSeconds');
    await o.afterChecks?.({ stack, recheck: check });
  } finally {
    clearInterval(ticker);
    await sampler.stop().catch(() => undefined);
    await sampler.closeKept();
    await stack.close();
  }
  const report = buildReport({
    o,
    findings,
    faults: faults.records,
    injected: load.injected,
    workerUnexpectedExits: stack.worker.unexpectedExits.map((e) => ({
      ...e,
      at: new Date(e.at).toISOString(),
      reason: /^(\w*Error: .*)$/m.exec(e.tail)?.[1] ?? `exit ${e.code ?? e.signal}`,
    })),
    planned: plan.requests.length,
    made: load.tracked.filter((t) => t.id).length,
    versions: stack.versions,
    startedAt,
    phases,
  });
  const table = formatTable(report);
  mkdirSync(o.outDir, { recursive: true });
  writeFileSync(
    path.join(o.outDir, 'report.json'),
    `${JSON.stringify({ ...report, actions: load.actions }, null, 2)}\n`,
  );
  writeFileSync(path.join(o.outDir, 'report.txt'), `${table}\n`);
  say(table);
  return report;
}

/** Whatever a fault left away comes back before the final wait: the proxy listens, the worker runs. */
async function restoreAll(stack: ChaosStack): Promise<void> {
  await stack.proxy.up();
  if (!stack.worker.running) await stack.worker.start();
}

async function waitAllFinal(stack: ChaosStack, load: LoadState, timeoutMs: number): Promise<void> {
  const ids = load.tracked.filter((t) => t.id).map((t) => t.id as string);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rows = await Promise.all(ids.map((id) => stack.store.getRequest(id)));
    if (rows.every((r) => r && FINAL_STATUSES.includes(r.status))) return;
    await sleep(1_000);
  }
}

async function progressLine(
  stack: ChaosStack,
  load: LoadState,
  faults: FaultState,
  t0: number,
  o: ChaosOptions,
): Promise<string> {
  const rows = await stack.store.listRequests({ limit: 100_000 });
  const count: Record<string, number> = {};
  for (const r of rows) {
    const k = FINAL_STATUSES.includes(r.status) ? 'final' : r.status;
    count[k] = (count[k] ?? 0) + 1;
  }
  const made = load.tracked.filter((t) => t.id).length;
  const kinds: Record<string, number> = {};
  for (const f of faults.records) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
  const now = faults.current
    ? ` | now: ${faults.current.kind} ${Math.round((Date.now() - faults.current.since) / 1000)} s`
    : '';
  const elapsed = Math.round((Date.now() - t0) / 1000);
  return (
    `[${String(elapsed).padStart(4)} s/${Math.round(o.durationMs / 1000)}] made ${made}/${load.tracked.length} ` +
    `pending ${count.PENDING_APPROVAL ?? 0} active ${count.ACTIVE ?? 0} ` +
    `revoking ${(count.REVOKING ?? 0) + (count.REVOKE_OVERDUE ?? 0)} final ${count.final ?? 0} | faults ` +
    `${
      Object.entries(kinds)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none yet'
    }${now}`
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
