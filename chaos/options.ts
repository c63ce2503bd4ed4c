/**
 * Settings of a chaos run, their defaults, and parsing of the duration and range flags (`30s`, `3s-20s`).
 */
import os from 'node:os';
import { formatDuration, parseDuration } from '../policy/duration';
import type { Findings } from './checks';
import type { ChaosStack } from './stack';

/** Inclusive range of milliseconds, e.g. how long an outage lasts. */
export type Range = [min: number, max: number];

export interface FaultCounts {
  /** SIGKILL the worker process, then start a new one. */
  workerKill: number;
  /** Stop the Temporal dev server, then start it again on the same SQLite file and ports. */
  temporalRestart: number;
  /** The proxy between the connector and PostgreSQL refuses connections for a while. */
  pgOutage: number;
}

export interface ChaosOptions {
  seed: number;
  requests: number;
  /** Length of the fault phase; requests start over its first `rampFraction`. */
  durationMs: number;
  rampFraction: number;
  minGrantMs: number;
  maxGrantMs: number;
  /** Results folder (report.json, report.txt, logs/). */
  outDir: string;
  /** Grantflow's own store. */
  store: 'sqlite' | 'postgres';
  faults: FaultCounts;
  workerDownMs: Range;
  temporalDownMs: Range;
  pgDownMs: Range;
  /** Approval-required requests nobody answers expire after this. */
  approvalTimeoutMs: number;
  /** settings.revokeOverdueAfter of the run's grantflow.yaml. */
  revokeOverdueAfterMs: number;
  /** settings.revokeMaxBackoff. */
  revokeMaxBackoffMs: number;
  /** How long an approver waits before deciding. */
  decideAfterMs: Range;
  /** How long to wait, after the fault phase, for every request to be final. */
  finalWaitMs: number;
  /** A revoke later than this after its target came back is a violation. */
  lateLimitMs: number;
  /** How often the session sampler looks. */
  sampleEveryMs: number;
  /** Share of automatic grants that their requester extends once ACTIVE (by half a grant's length at most). */
  extendShare: number;
  /** Each approval behaviour at least this many times (so a short run still sees each). */
  minEachBehaviour: number;
  /** Where progress lines go (default: stdout). */
  progress?: (line: string) => void;
  /** How often a progress line is printed. */
  progressEveryMs: number;
  /** Keep the temporary folder (Temporal's and PostgreSQL's files) after the run. */
  keepTemp: boolean;
  /**
   * Called after the checks, while the stack still runs (tests): `recheck()` runs the checks again, e.g. after
   * breaking something on purpose to see that they notice. Its findings do not go into the report.
   */
  afterChecks?: (run: { stack: ChaosStack; recheck: () => Promise<Findings> }) => Promise<void>;
}

export function defaultFaults(durationMs: number): FaultCounts {
  const each = Math.max(1, Math.round(durationMs / 50_000));
  return { workerKill: each, temporalRestart: each, pgOutage: each };
}

export function defaultOptions(overrides: Partial<ChaosOptions> = {}): ChaosOptions {
  const durationMs = overrides.durationMs ?? 5 * 60_000;
  const approvalTimeoutMs = overrides.approvalTimeoutMs ?? 45_000;
  const maxGrantMs = overrides.maxGrantMs ?? 60_000;
  const revokeOverdueAfterMs = overrides.revokeOverdueAfterMs ?? 10_000;
  return {
    seed: 1,
    requests: 200,
    durationMs,
    rampFraction: 0.7,
    minGrantMs: 10_000,
    maxGrantMs,
    outDir: 'chaos-results',
    store: 'sqlite',
    faults: defaultFaults(durationMs),
    workerDownMs: [1_000, 5_000],
    temporalDownMs: [2_000, 8_000],
    pgDownMs: [3_000, 20_000],
    approvalTimeoutMs,
    revokeOverdueAfterMs,
    revokeMaxBackoffMs: 2_000,
    decideAfterMs: [500, 4_000],
    finalWaitMs: maxGrantMs + approvalTimeoutMs + revokeOverdueAfterMs + 180_000,
    lateLimitMs: 60_000,
    sampleEveryMs: 1_000,
    extendShare: 0.2,
    minEachBehaviour: 1,
    progressEveryMs: 5_000,
    keepTemp: false,
    ...overrides,
  };
}

export function parseMs(text: string, what: string): number {
  const ms = /^\d+$/.test(text.trim()) ? Number(text) : parseDuration(text);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0)
    throw new Error(`${what}: ${text} is not a duration`);
  return ms;
}

/** `3s-20s`, or one duration for a fixed length. */
export function parseRange(text: string, what: string): Range {
  const [a, b] = text.split('-');
  const min = parseMs(a, what);
  const max = b === undefined ? min : parseMs(b, what);
  if (max < min) throw new Error(`${what}: ${text} ends before it starts`);
  return [min, max];
}

export function formatRange([min, max]: Range): string {
  return min === max ? formatDuration(min) : `${formatDuration(min)}-${formatDuration(max)}`;
}

/** The settings as they go into the JSON report (no functions). */
export function settingsOf(o: ChaosOptions): Record<string, unknown> {
  return {
    seed: o.seed,
    requests: o.requests,
    duration: formatDuration(o.durationMs),
    rampFraction: o.rampFraction,
    extendShare: o.extendShare,
    minGrant: formatDuration(o.minGrantMs),
    maxGrant: formatDuration(o.maxGrantMs),
    store: o.store,
    faults: o.faults,
    workerDown: formatRange(o.workerDownMs),
    temporalDown: formatRange(o.temporalDownMs),
    pgDown: formatRange(o.pgDownMs),
    approvalTimeout: formatDuration(o.approvalTimeoutMs),
    revokeOverdueAfter: formatDuration(o.revokeOverdueAfterMs),
    revokeMaxBackoff: formatDuration(o.revokeMaxBackoffMs),
    finalWait: formatDuration(o.finalWaitMs),
    lateLimit: formatDuration(o.lateLimitMs),
    cores: os.cpus().length,
  };
}
