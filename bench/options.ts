/**
 * What a bench run measures and how much: the full defaults (the figures the issue asks for), `--quick` (the
 * same scenarios, small, in under two minutes) and `--only` (some scenarios; those that report a ratio to the
 * baseline bring the baseline along).
 */

export const SCENARIOS = [
  'baseline',
  'access',
  'baseline-loaded',
  'access-loaded',
  'approval',
  'throughput',
  'steady',
  'burst',
  'footprint',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  outDir: string;
  store: 'postgres' | 'sqlite';
  /** Requests in flight at once in the baseline and time-to-access scenarios: latency, one at a time. */
  concurrency: number;
  /** Requests in flight at once in their `-loaded` twins and in the approval scenario: latency under load. */
  loadedConcurrency: number;
  baselineRuns: number;
  accessRequests: number;
  approvalRequests: number;
  /** Requests checked against pg_auth_members (grant seen right after its audit event, and timed). */
  spotChecks: number;
  throughput: {
    /** First rate, requests per second. */
    startRps: number;
    /** Each next rate is this much times the last (until a step fails; then one step halfway back). */
    factor: number;
    stepMs: number;
    maxSteps: number;
    /** How long each throughput grant lasts: revokes run alongside, as in a steady state. */
    grantMs: number;
    /** The step passes when p99 time to access stays under this. */
    p99LimitMs: number;
  };
  steady: { grants: number; spreadMs: number };
  burst: { grants: number };
  /**
   * `restartWorker`: measure from a fresh worker process. Off by default: a production worker is long-running,
   * and the worker's RSS right after start is reported anyway.
   */
  footprint: { grants: number; settleMs: number; windowMs: number; restartWorker: boolean };
  /** Creation phases: requests in flight at once, and the rate used when no throughput knee is known. */
  create: { concurrency: number; defaultRps: number };
  /** Run the worker and the API server under `node --cpu-prof`, profiles into `<results>/profiles/`. */
  cpuProf: boolean;
}

export function defaultOptions(quick: boolean): BenchOptions {
  const common = {
    quick,
    scenarios: [...SCENARIOS],
    outDir: 'bench-results',
    store: 'postgres' as const,
    cpuProf: false,
  };
  if (quick)
    return {
      ...common,
      concurrency: 1,
      loadedConcurrency: 5,
      baselineRuns: 50,
      accessRequests: 25,
      approvalRequests: 10,
      spotChecks: 5,
      throughput: { startRps: 4, factor: 2, stepMs: 5_000, maxSteps: 2, grantMs: 3_000, p99LimitMs: 1_000 },
      steady: { grants: 40, spreadMs: 8_000 },
      burst: { grants: 30 },
      footprint: { grants: 80, settleMs: 2_000, windowMs: 4_000, restartWorker: false },
      create: { concurrency: 8, defaultRps: 8 },
    };
  return {
    ...common,
    concurrency: 1,
    loadedConcurrency: 5,
    baselineRuns: 300,
    accessRequests: 300,
    approvalRequests: 200,
    spotChecks: 30,
    throughput: { startRps: 4, factor: 1.5, stepMs: 60_000, maxSteps: 8, grantMs: 30_000, p99LimitMs: 1_000 },
    steady: { grants: 5_000, spreadMs: 600_000 },
    burst: { grants: 1_000 },
    footprint: { grants: 10_000, settleMs: 20_000, windowMs: 60_000, restartWorker: false },
    create: { concurrency: 8, defaultRps: 20 },
  };
}

/** Scenarios to run for `--only a,b`: in the bench's order, with the baseline whenever a ratio needs it. */
export function selectScenarios(only: string | undefined): ScenarioName[] {
  if (!only) return [...SCENARIOS];
  const wanted = new Set(only.split(',').map((s) => s.trim()));
  for (const name of wanted)
    if (!SCENARIOS.includes(name as ScenarioName))
      throw new Error(`--only: no scenario "${name}" (choose from ${SCENARIOS.join(', ')})`);
  if (wanted.has('access')) wanted.add('baseline');
  if (wanted.has('access-loaded')) wanted.add('baseline-loaded');
  return SCENARIOS.filter((s) => wanted.has(s));
}
