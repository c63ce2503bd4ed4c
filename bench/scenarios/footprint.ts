/**
 * Scenario 6, footprint: the Grantflow worker's resident memory and CPU with `footprint.grants` grants in flight,
 * each waiting on its timer (4 h grants), on the default worker settings. Grants are made as fast as the system
 * takes them, and once all are granted and the system has settled, /proc/<pid>/status VmRSS and
 * /proc/<pid>/stat CPU ticks are read over a quiet window.
 * By default the worker is the one that ran the scenarios before (a production worker is long-running; its RSS
 * right after start is reported too); `restartWorker` starts from a fresh process instead. The API server and
 * the Temporal dev server are sampled alongside, for context.
 */
import type { BenchContext } from '../context';
import { CLOCK_TICKS, cpuCores, sampleProc, type ProcSample } from '../procs';
import { sleep } from '../stats';

const MiB = 2 ** 20;

export interface FootprintResult {
  grants: number;
  granted: number;
  /** The worker's RSS right after it started, before any scenario. */
  startRssMiB: number;
  /** Whether the worker was restarted first (else "idle" is the worker that ran the scenarios before). */
  freshWorker: boolean;
  /** The worker that ran every scenario before this one, just before its restart. */
  longRunningWorkerRssMiB?: number;
  idleRssMiB: number;
  /** With every grant in flight, at the end of the quiet window. */
  rssMiB: number;
  /** Peak RSS of the fresh worker (VmHWM), during creation included. */
  peakRssMiB: number;
  /** (RSS in flight − idle RSS) / grants. */
  kibPerGrant: number;
  /** CPU over the quiet window, in cores (1 = one core busy). */
  idleCpuCores: number;
  /** CPU seconds the worker spent while the grants were made, per 1,000 grants. */
  cpuSecondsPer1000Grants: number;
  windowSeconds: number;
  apiServerRssMiB?: number;
  temporalServerRssMiB?: number;
  /** (seconds since creation began, worker RSS MiB), for the record. */
  rssSeries: [number, number][];
}

export async function runFootprint(b: BenchContext): Promise<FootprintResult> {
  const f = b.o.footprint;
  const { worker } = b.stack;
  const before = worker.pid ? sampleProc(worker.pid) : undefined;
  if (f.restartWorker) {
    b.progress.set('footprint: restarting the worker for a fresh process');
    await worker.stop();
    await worker.start();
  }
  await sleep(f.settleMs);
  const pid = worker.pid;
  if (!pid) throw new Error('the worker is not running');
  const idle = mustSample(pid);
  // As fast as the system goes: never more than a few seconds' worth of requests waiting for their grant.
  const rps = 1_000;
  const backlog = Math.max(100, Math.round((b.creationRps ?? b.o.create.defaultRps) * 15));
  const series: [number, number][] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const s = sampleProc(pid);
    if (s) series.push([Math.round((s.at - t0) / 1000), Math.round(s.rssBytes / MiB)]);
  }, 2_000);
  let made = 0;
  b.progress.set(
    `footprint: making ${f.grants} 4-hour grants`,
    () => `${made}/${f.grants} made, ${b.audit.counts.granted} granted in all`,
  );
  let grants;
  try {
    grants = await b.createPaced(
      f.grants,
      rps,
      () => 4 * 3_600_000,
      () => made++,
      backlog,
    );
    const ids = grants.flatMap((g) => (g.id ? [g.id] : []));
    b.progress.set(
      'footprint: waiting for all to be granted',
      () => `${ids.filter((id) => b.audit.at(id, 'granted')).length}/${ids.length}`,
    );
    await b.waitAll(ids, 'granted', 600_000, 60_000);
  } finally {
    clearInterval(sampler);
  }
  const afterCreation = mustSample(pid);
  b.progress.set('footprint: all in flight; settling, then a quiet window');
  await sleep(f.settleMs);
  const w0 = mustSample(pid);
  await sleep(f.windowMs);
  const w1 = mustSample(pid);
  const granted = grants.filter((g) => g.id && b.audit.at(g.id, 'granted') !== undefined).length;
  const api = b.stack.server.pid ? sampleProc(b.stack.server.pid) : undefined;
  const temporal = sampleProc(b.stack.temporalPid);
  return {
    grants: f.grants,
    granted,
    startRssMiB: round(b.stack.workerStartRss / MiB),
    freshWorker: f.restartWorker,
    ...(before && f.restartWorker ? { longRunningWorkerRssMiB: round(before.rssBytes / MiB) } : {}),
    idleRssMiB: round(idle.rssBytes / MiB),
    rssMiB: round(w1.rssBytes / MiB),
    peakRssMiB: round(w1.hwmBytes / MiB),
    kibPerGrant: round((w1.rssBytes - idle.rssBytes) / 1024 / Math.max(1, granted)),
    idleCpuCores: Math.round(cpuCores(w0, w1) * 1000) / 1000,
    cpuSecondsPer1000Grants: round(
      ((afterCreation.cpuTicks - idle.cpuTicks) / CLOCK_TICKS / Math.max(1, granted)) * 1000,
    ),
    windowSeconds: Math.round((w1.at - w0.at) / 1000),
    ...(api ? { apiServerRssMiB: round(api.rssBytes / MiB) } : {}),
    ...(temporal ? { temporalServerRssMiB: round(temporal.rssBytes / MiB) } : {}),
    rssSeries: series,
  };
}

function mustSample(pid: number): ProcSample {
  const s = sampleProc(pid);
  if (!s) throw new Error(`process ${pid} is gone`);
  return s;
}

const round = (v: number) => Math.round(v * 10) / 10;
