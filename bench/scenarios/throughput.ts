/**
 * Scenario 5, throughput: auto-approved requests sent at a fixed rate (open loop: on schedule, whatever the
 * answers do) for a step of `stepMs`, the rate rising step by step (× factor) until a step breaks — p99 time to
 * access of 1 s or more, an error, or a request not granted — then one step halfway between the last good rate
 * and the first bad one. The knee is the highest rate that held. Each grant lasts `grantMs`, so that revokes run
 * alongside requests, as in any steady state; their lateness is kept, per step, for the lateness-vs-load chart.
 */
import type { BenchContext, Grant } from '../context';
import { requestTimes } from '../observe';
import { FLOW_AUTO } from '../people';
import { sleep, summarize, type Summary } from '../stats';

export interface ThroughputStep {
  rps: number;
  sent: number;
  granted: number;
  errors: number;
  /** Grants committed per second over the step. */
  achievedRps: number;
  latencyMs: Summary;
  /** Lateness of these grants' revokes (expiresAt → revoke_verified), once drained. */
  revokeLatenessMs?: Summary;
  pass: boolean;
  why?: string;
  samples: number[];
}

export interface ThroughputResult {
  stepMs: number;
  p99LimitMs: number;
  grantMs: number;
  steps: ThroughputStep[];
  /** The highest rate that held (p99 under the limit, no errors, all granted); 0 when none did. */
  kneeRps: number;
  notRevoked: number;
}

export async function runThroughput(b: BenchContext): Promise<ThroughputResult> {
  const t = b.o.throughput;
  const steps: ThroughputStep[] = [];
  const all: { step: number; grants: Grant[] }[] = [];
  let pass: number | undefined;
  let fail: number | undefined;
  let refining = false;
  let rps = t.startRps;
  for (let k = 0; k < t.maxSteps; k++) {
    const step = await runStep(b, rps, k, (grants) => all.push({ step: k, grants }));
    steps.push(step);
    if (step.pass) pass = Math.max(pass ?? 0, rps);
    else fail = Math.min(fail ?? Number.POSITIVE_INFINITY, rps);
    if (refining) break;
    if (fail === undefined) {
      rps = roundRate(rps * t.factor);
      continue;
    }
    // A step failed: let its backlog clear, then go down (nothing held yet) or try halfway once.
    await b.waitAll(idsOf(all), 'granted', 300_000, 60_000);
    if (pass === undefined) {
      rps = roundRate(rps / t.factor);
      if (rps < 0.5) break;
      continue;
    }
    const mid = roundRate((pass + fail) / 2);
    if (mid <= pass || mid >= fail) break;
    refining = true;
    rps = mid;
  }
  b.progress.set('throughput: waiting for its grants to be revoked');
  const ids = idsOf(all);
  const left = await b.drain(ids, t.grantMs + 300_000);
  const times = await requestTimes(b.stack.store, ids);
  for (const { step, grants } of all) {
    const lateness = grants.flatMap((g) => {
      const exp = g.id ? times.get(g.id)?.expiresAt : undefined;
      const gone = g.id ? b.audit.at(g.id, 'verified') : undefined;
      return exp !== undefined && gone !== undefined ? [gone - exp] : [];
    });
    steps[step].revokeLatenessMs = summarize(lateness);
  }
  return {
    stepMs: t.stepMs,
    p99LimitMs: t.p99LimitMs,
    grantMs: t.grantMs,
    steps,
    kneeRps: pass ?? 0,
    notRevoked: left.length,
  };
}

function idsOf(all: { grants: Grant[] }[]): string[] {
  return all.flatMap((s) => s.grants.flatMap((g) => (g.id ? [g.id] : [])));
}

function roundRate(r: number): number {
  return r >= 10 ? Math.round(r) : Math.round(r * 2) / 2;
}

async function runStep(
  b: BenchContext,
  rps: number,
  k: number,
  keep: (grants: Grant[]) => void,
): Promise<ThroughputStep> {
  const t = b.o.throughput;
  const count = Math.round((rps * t.stepMs) / 1000);
  const grants: Grant[] = [];
  const latency: number[] = [];
  let errors = 0;
  const t0 = Date.now();
  b.progress.set(
    `throughput step ${k + 1} at ${rps}/s`,
    () => `${grants.length}/${count} sent, ${latency.length} granted`,
  );
  const waits: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rps;
    if (due > Date.now()) await sleep(due - Date.now());
    waits.push(
      (async () => {
        const g = await b.create(FLOW_AUTO, t.grantMs, i);
        grants.push(g);
        if (!g.id) {
          errors++;
          return;
        }
        const at = await b.audit.waitFor(g.id, 'granted', t.stepMs + 60_000);
        if (at !== undefined) latency.push(at - g.sentAt);
      })(),
    );
  }
  await Promise.all(waits);
  keep(grants);
  const lastGrant = Math.max(...grants.flatMap((g) => (g.id ? [b.audit.at(g.id, 'granted') ?? 0] : [0])));
  const summary = summarize(latency);
  const notGranted = count - errors - latency.length;
  const why =
    errors > 0
      ? `${errors} requests refused or failed`
      : notGranted > 0
        ? `${notGranted} not granted within the step + 60 s`
        : summary.p99 >= t.p99LimitMs
          ? `p99 ${Math.round(summary.p99)} ms ≥ ${t.p99LimitMs} ms`
          : undefined;
  return {
    rps,
    sent: count,
    granted: latency.length,
    errors,
    achievedRps: Math.round((latency.length / (Math.max(lastGrant, t0 + t.stepMs) - t0)) * 10_000) / 10,
    latencyMs: summary,
    pass: why === undefined,
    ...(why ? { why } : {}),
    samples: latency,
  };
}
