/**
 * The run's report: a short table for people (stdout and report.txt) and the same as JSON (report.json) with the
 * seed, the settings, the machine and the versions, every violation with its evidence, and the faults as injected.
 */
import os from 'node:os';
import { INVARIANTS, type Findings, type InvariantName, type Percentiles, type Violation } from './checks';
import type { FaultRecord } from './faults';
import { settingsOf, type ChaosOptions } from './options';

export interface ChaosReport {
  ok: boolean;
  seed: number;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  phases: Record<string, number>;
  settings: Record<string, unknown>;
  machine: { cores: number; memoryGiB: number; platform: string };
  versions: Record<string, string>;
  requests: {
    planned: number;
    made: number;
    /** Grants their requester extended while ACTIVE. */
    extended: number;
    byStatus: Record<string, number>;
    byBehaviour: Findings['byBehaviour'];
  };
  faults: { byKind: Record<string, number>; injected: FaultRecord[]; workerUnexpectedExits: unknown[] };
  grantsLost: number;
  lateRevokes: number;
  revokeLateness: Percentiles;
  revokeLatenessAfterRecovery: Percentiles;
  latestRevokes: Findings['latestRevokes'];
  revokesOverdue: number;
  revokeVerified: number;
  sessions: Findings['sessions'];
  audit: { rows: number; ok: boolean };
  apiActions: Findings['actions'];
  invariants: { name: InvariantName; description: string; ok: boolean; violations: number }[];
  violations: Violation[];
  notes: string[];
}

export function buildReport(args: {
  o: ChaosOptions;
  findings: Findings;
  faults: FaultRecord[];
  injected: Record<string, number>;
  workerUnexpectedExits: unknown[];
  planned: number;
  made: number;
  versions: Record<string, string>;
  startedAt: number;
  phases: Record<string, number>;
}): ChaosReport {
  const { o, findings: f } = args;
  const byKind: Record<string, number> = { 'worker-kill': 0, 'temporal-restart': 0, 'pg-outage': 0 };
  for (const r of args.faults) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  for (const [k, n] of Object.entries(args.injected)) if (k !== 'extension') byKind[k] = n;
  const invariants = (Object.keys(INVARIANTS) as InvariantName[]).map((name) => {
    const n = f.violations.filter((x) => x.check === name).length;
    return { name, description: INVARIANTS[name], ok: n === 0, violations: n };
  });
  const finishedAt = Date.now();
  const notes = [
    ...args.workerUnexpectedExits.map(
      (e) =>
        `the worker exited on its own at ${String((e as { at: string }).at)}: ${String((e as { reason: string }).reason)}`,
    ),
    ...f.notes,
  ];
  return {
    ok: f.violations.length === 0,
    seed: o.seed,
    startedAt: new Date(args.startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    wallSeconds: Math.round((finishedAt - args.startedAt) / 1000),
    phases: args.phases,
    settings: settingsOf(o),
    machine: {
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.arch()}`,
    },
    versions: args.versions,
    requests: {
      planned: args.planned,
      made: args.made,
      extended: args.injected.extension ?? 0,
      byStatus: f.byStatus,
      byBehaviour: f.byBehaviour,
    },
    faults: { byKind, injected: args.faults, workerUnexpectedExits: args.workerUnexpectedExits },
    grantsLost: f.grantsLost,
    lateRevokes: f.lateRevokes,
    revokeLateness: f.lateness,
    revokeLatenessAfterRecovery: f.lateAfterRecovery,
    latestRevokes: f.latestRevokes,
    revokesOverdue: f.revokesOverdue,
    revokeVerified: f.revokeVerified,
    sessions: f.sessions,
    audit: { rows: f.auditRows, ok: f.auditOk },
    apiActions: f.actions,
    invariants,
    violations: f.violations,
    notes,
  };
}

const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** The table people read. */
export function formatTable(r: ChaosReport): string {
  const s = r.settings;
  const statuses = Object.entries(r.requests.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const kinds = Object.entries(r.faults.byKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const rows: [string, string][] = [
    [
      'requests',
      `${r.requests.made} of ${r.requests.planned} made: ${statuses}; ${r.requests.extended} extended`,
    ],
    ['faults injected', kinds],
    ['worker exits (unplanned)', String(r.faults.workerUnexpectedExits.length)],
    ['grants lost', `${r.grantsLost}  (must be 0)`],
    [`revokes late > ${s.lateLimit}`, `${r.lateRevokes}  (after the target came back; must be 0)`],
    [
      'revoke lateness',
      `p50 ${secs(r.revokeLateness.p50Ms)}, p99 ${secs(r.revokeLateness.p99Ms)}, max ${secs(r.revokeLateness.maxMs)}  (revoked_at - expiresAt, n=${r.revokeLateness.count})`,
    ],
    [
      'after recovery',
      `p50 ${secs(r.revokeLatenessAfterRecovery.p50Ms)}, p99 ${secs(r.revokeLatenessAfterRecovery.p99Ms)}, max ${secs(r.revokeLatenessAfterRecovery.maxMs)}`,
    ],
    ['revokes overdue', `${r.revokesOverdue} went REVOKE_OVERDUE (all then revoked and verified)`],
    [
      'sessions',
      `${r.sessions.observations} opened (${r.sessions.duringActive} while ACTIVE, ${r.sessions.sawNoAccessWhileActive} without access), ${r.sessions.kept} kept across revoke: ${r.sessions.keptEndedByRevoke} ended, ${r.sessions.keptAlive} alive`,
    ],
    [
      'leak probes',
      `${r.sessions.leakProbes} (${r.sessions.leaksFound} found access without an ACTIVE request)`,
    ],
    ['audit chain', `${r.audit.ok ? 'verifies' : 'BROKEN'} (${r.audit.rows} rows)`],
    ...r.invariants.map((i): [string, string] => [
      i.ok ? '  ok' : '  FAIL',
      `${i.description}${i.ok ? '' : ` (${i.violations})`}`,
    ]),
    ['result', r.ok ? 'PASS' : `FAIL: ${r.violations.length} violation(s)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const head =
    `Grantflow chaos run: seed ${r.seed}, ${String(s.requests)} requests, fault phase ${String(s.duration)}, ` +
    `grants ${String(s.minGrant)}-${String(s.maxGrant)}, store ${String(s.store)}, ${r.machine.cores} cores, ${r.wallSeconds} s`;
  const lines = [head, ...rows.map(([k, val]) => `  ${k.padEnd(width)}  ${val}`)];
  const exits = r.notes.filter((n) => n.startsWith('the worker exited on its own'));
  for (const n of exits.slice(0, 5)) lines.push(`  NOTE: ${n}`);
  if (exits.length > 5) lines.push(`  NOTE: ... ${exits.length - 5} more worker exits in report.json`);
  for (const x of r.violations.slice(0, 30))
    lines.push(`  VIOLATION [${x.check}]${x.requestId ? ` ${x.requestId}` : ''}: ${x.message}`);
  if (r.violations.length > 30) lines.push(`  ... and ${r.violations.length - 30} more in report.json`);
  return lines.join('\n');
}
