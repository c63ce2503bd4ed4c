/**
 * The run's results: one JSON document (every figure, the settings, the machine and the versions), a Markdown
 * table with each target of the issue next to its figure (PASS or MISS, never hidden), and the detail tables.
 */
import os from 'node:os';
import type { BenchOptions, ScenarioName } from './options';
import type { AccessResult } from './scenarios/access';
import type { ApprovalResult } from './scenarios/approval';
import type { BaselineResult } from './scenarios/baseline';
import type { FootprintResult } from './scenarios/footprint';
import type { BurstResult, SteadyResult } from './scenarios/revocation';
import type { ThroughputResult } from './scenarios/throughput';
import { ms, type Summary } from './stats';
import type { LockWaits } from './observe';

export interface Scenarios {
  baseline?: BaselineResult;
  access?: AccessResult;
  'baseline-loaded'?: BaselineResult;
  'access-loaded'?: AccessResult;
  approval?: ApprovalResult;
  throughput?: ThroughputResult;
  steady?: SteadyResult;
  burst?: BurstResult;
  footprint?: FootprintResult;
}

export interface Target {
  figure: string;
  target: string;
  measured: string;
  pass: boolean;
}

export interface BenchResults {
  mode: 'full' | 'quick';
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  machine: {
    cores: number;
    cpu: string;
    memoryGiB: number;
    os: string;
    loadAtStart: number[];
    loadAtEnd: number[];
  };
  versions: Record<string, string>;
  settings: Omit<BenchOptions, 'outDir'>;
  world: { people: number; roles: number };
  scenarios: Scenarios;
  targets: Target[];
  /** CPU seconds each part of the stack used during each scenario, and the scenario's wall seconds. */
  cpu: Partial<Record<ScenarioName, { wallSeconds: number; cpuSeconds: Record<string, number> }>>;
  /** Store sessions waiting for the global audit lock, sampled every 250 ms through each scenario. */
  auditLockWaits: Partial<Record<ScenarioName, LockWaits>>;
  errors: Partial<Record<ScenarioName, string>>;
}

export function machineInfo(): Omit<BenchResults['machine'], 'loadAtEnd'> {
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

export function evaluateTargets(s: Scenarios): Target[] {
  const t: Target[] = [];
  for (const [access, baseline] of [
    [s.access, s.baseline],
    [s['access-loaded'], s['baseline-loaded']],
  ] as const) {
    if (!access) continue;
    const inFlight = `${access.concurrency} in flight`;
    if (baseline) {
      const ratio = access.latencyMs.p50 / baseline.latencyMs.p50;
      t.push({
        figure: `Time to access p50 / baseline p50, ${inFlight}`,
        target: '≤ 1.5×',
        measured: `${ratio.toFixed(2)}× (${ms(access.latencyMs.p50)} / ${ms(baseline.latencyMs.p50)})`,
        pass: ratio <= 1.5,
      });
    }
    t.push({
      figure: `Time to access p99 (auto-approved), ${inFlight}`,
      target: '< 500 ms',
      measured: ms(access.latencyMs.p99),
      pass: access.latencyMs.p99 < 500 && access.failed === 0,
    });
  }
  if (s.approval)
    t.push({
      figure: 'Approval to access p50 (Slack click → grant)',
      target: '< 300 ms',
      measured: ms(s.approval.latencyMs.p50),
      pass: s.approval.latencyMs.p50 < 300 && s.approval.failed === 0,
    });
  if (s.steady) {
    t.push({
      figure: `Steady revocation p99 (${s.steady.grants} grants over ${Math.round(s.steady.spreadMs / 1000)} s)`,
      target: '< 2 s',
      measured: ms(s.steady.latenessMs.p99),
      pass: s.steady.latenessMs.p99 < 2000,
    });
    t.push({
      figure: 'Steady: grants never revoked',
      target: '0',
      measured: `${s.steady.neverRevoked} (still in pg_auth_members: ${s.steady.stillMembers})`,
      pass: s.steady.neverRevoked === 0 && s.steady.stillMembers === 0 && s.steady.notGranted === 0,
    });
  }
  if (s.burst)
    t.push({
      figure: `Burst: ${s.burst.aligned} grants expiring in the same second, last access gone after`,
      target: '≤ 60 s',
      measured: ms(s.burst.drainMs),
      pass:
        s.burst.drainMs <= 60_000 &&
        s.burst.neverRevoked === 0 &&
        s.burst.stillMembers === 0 &&
        s.burst.aligned > 0,
    });
  if (s.footprint)
    t.push({
      figure: `Worker RSS with ${s.footprint.granted.toLocaleString('en')} grants in flight`,
      target: '< 1 GiB',
      measured: `${s.footprint.rssMiB} MiB`,
      pass: s.footprint.rssMiB < 1024 && s.footprint.granted === s.footprint.grants,
    });
  return t;
}

const pct = (x: Summary) => `${ms(x.p50)} / ${ms(x.p95)} / ${ms(x.p99)}`;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

export function markdown(r: BenchResults): string {
  const s = r.scenarios;
  const out: string[] = [];
  out.push(
    `# Grantflow bench — ${r.mode} run, ${r.startedAt.replace('T', ' ').slice(0, 19)} UTC`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB, ${r.machine.os}; ` +
      `load (1/5/15 min) ${r.machine.loadAtStart.join(' / ')} at the start, ${r.machine.loadAtEnd.join(' / ')} at the end.`,
    `Versions: Node ${r.versions.node}, Temporal CLI ${r.versions.temporalCli}, Temporal TypeScript SDK ` +
      `${r.versions.temporalSdk}, PostgreSQL ${r.versions.postgres}, Grantflow ${r.versions.grantflow} ` +
      `(${r.versions.commit}); store: ${r.settings.store}. Wall time ${Math.round(r.wallSeconds)} s.`,
    '',
    '## Targets',
    '',
    row(['Figure', 'Measured', 'Target', 'Result']),
    row(['---', '---', '---', '---']),
    ...r.targets.map((t) => row([t.figure, t.measured, t.target, t.pass ? 'PASS' : '**MISS**'])),
    '',
    '## Figures',
    '',
    row(['Scenario', 'n', 'p50 / p95 / p99', 'max', 'Notes']),
    row(['---', '---', '---', '---', '---']),
  );
  for (const [access, baseline] of [
    [s.access, s.baseline],
    [s['access-loaded'], s['baseline-loaded']],
  ] as const) {
    if (baseline)
      out.push(
        row([
          'Baseline: bare workflow, one no-op activity (start → activity done)',
          baseline.latencyMs.n,
          pct(baseline.latencyMs),
          ms(baseline.latencyMs.max),
          `${baseline.concurrency} in flight`,
        ]),
      );
    if (access)
      out.push(
        row([
          'Time to access, auto-approved (POST → `request.granted` at)',
          access.latencyMs.n,
          pct(access.latencyMs),
          ms(access.latencyMs.max),
          `${access.concurrency} in flight; POST answered p50 ${ms(access.postMs.p50)}; grant commit (granted_at) p50 ` +
            `${ms(access.toCommitMs.p50)}; ${access.failed} failed` +
            (baseline
              ? `; **${(access.latencyMs.p50 / baseline.latencyMs.p50).toFixed(2)}× baseline p50**`
              : ''),
        ]),
      );
  }
  if (s.approval)
    out.push(
      row([
        'Approval to access (signed Slack Approve click → `request.granted` at)',
        s.approval.latencyMs.n,
        pct(s.approval.latencyMs),
        ms(s.approval.latencyMs.max),
        `${s.approval.concurrency} in flight; Slack ack p50 ${ms(s.approval.ackMs.p50)}; decision recorded p50 ` +
          `${ms(s.approval.toDecisionMs.p50)}; ${s.approval.failed} failed`,
      ]),
    );
  for (const [name, v] of [
    ['Steady revocation', s.steady],
    ['Burst revocation', s.burst],
  ] as const) {
    if (!v) continue;
    const extra =
      name === 'Burst revocation' && s.burst
        ? `${s.burst.aligned} expiring at the same ms (spread ${ms(s.burst.expirySpreadMs)}); last gone after **${ms(s.burst.drainMs)}**`
        : `${v.expiriesPerSecond}/s expiring over ${Math.round((s.steady?.spreadMs ?? 0) / 1000)} s; peak active ${v.peakActive}`;
    out.push(
      row([
        `${name} (expiresAt → \`request.revoke_verified\` at)`,
        v.latenessMs.n,
        pct(v.latenessMs),
        ms(v.latenessMs.max),
        `${extra}; never revoked ${v.neverRevoked}; left in pg_auth_members ${v.stillMembers}; ` +
          `\`request.revoked\` p99 ${ms(v.revokedLatenessMs.p99)}; made at ${v.creationRps}/s`,
      ]),
    );
  }
  if (s.throughput)
    out.push(
      row([
        `Throughput knee (60 s steps; p99 time to access < ${s.throughput.p99LimitMs} ms)`,
        s.throughput.steps.length,
        `**${s.throughput.kneeRps} requests/s**`,
        '',
        `steps: ${s.throughput.steps.map((x) => `${x.rps}/s ${x.pass ? 'held' : 'broke'}`).join(', ')}`,
      ]),
    );
  if (s.footprint)
    out.push(
      row([
        `Footprint: worker with ${s.footprint.granted} grants in flight`,
        s.footprint.granted,
        `RSS **${s.footprint.rssMiB} MiB**`,
        `peak ${s.footprint.peakRssMiB} MiB`,
        `before: ${s.footprint.idleRssMiB} MiB${s.footprint.freshWorker ? ' (fresh worker)' : ''} (+${s.footprint.kibPerGrant} KiB/grant); right after start: ${s.footprint.startRssMiB} MiB; CPU ${(s.footprint.idleCpuCores * 100).toFixed(1)}% ` +
          `of a core while waiting; ${s.footprint.cpuSecondsPer1000Grants} CPU-s per 1,000 grants made` +
          (s.footprint.longRunningWorkerRssMiB !== undefined
            ? `; the worker before its restart: ${s.footprint.longRunningWorkerRssMiB} MiB`
            : ''),
      ]),
    );
  if (s.throughput) {
    out.push(
      '',
      '## Throughput steps',
      '',
      row([
        'Rate',
        'Sent',
        'Granted',
        'Errors',
        'Achieved',
        'Time to access p50 / p95 / p99',
        'Revoke lateness p50 / p99',
        'Result',
      ]),
      row(['---', '---', '---', '---', '---', '---', '---', '---']),
      ...s.throughput.steps.map((x) =>
        row([
          `${x.rps}/s`,
          x.sent,
          x.granted,
          x.errors,
          `${x.achievedRps}/s`,
          pct(x.latencyMs),
          x.revokeLatenessMs ? `${ms(x.revokeLatenessMs.p50)} / ${ms(x.revokeLatenessMs.p99)}` : 'n/a',
          x.pass ? 'held' : `broke: ${x.why}`,
        ]),
      ),
    );
  }
  const steps: [string, Record<string, Summary> | undefined][] = [
    ['Time to access', s.access?.breakdownMs],
    ['Time to access, under load', s['access-loaded']?.breakdownMs],
    ['Approval to access', s.approval?.breakdownMs],
    ['Steady revocation', s.steady?.breakdownMs],
    ['Burst revocation', s.burst?.breakdownMs],
  ];
  const withSteps = steps.filter(([, v]) => v && Object.keys(v).length);
  if (withSteps.length)
    out.push(
      '',
      '## Where the time goes (between consecutive audit events of each request; p50 / p99)',
      '',
      ...withSteps.map(
        ([name, v]) =>
          `- ${name}: ${Object.entries(v!)
            .map(([step, x]) => `${step} ${ms(x.p50)} / ${ms(x.p99)}`)
            .join('; ')}`,
      ),
    );
  const checks: string[] = [];
  for (const [name, v] of [
    ['time to access', s.access?.spotChecks],
    ['time to access under load', s['access-loaded']?.spotChecks],
    ['approval to access', s.approval?.spotChecks],
  ] as const)
    if (v)
      checks.push(
        `- ${name}: ${v.presentAfterAudit}/${v.checked} sampled grants were in pg_auth_members right after their ` +
          `\`request.granted\` event; the event's \`at\` came ${ms(v.auditMinusDbMs.p50)} (p50, max ${ms(v.auditMinusDbMs.max)}) ` +
          `after the membership was first seen by a 20 ms poll.`,
      );
  for (const [name, v] of [
    ['steady', s.steady?.spotChecks],
    ['burst', s.burst?.spotChecks],
  ] as const)
    if (v)
      checks.push(
        `- ${name}: ${v.goneBeforeAudit}/${v.watched} watched grants were gone from pg_auth_members by their ` +
          `\`request.revoke_verified\` event; the event's \`at\` came ${ms(v.auditMinusDbMs.p50)} (p50, max ` +
          `${ms(v.auditMinusDbMs.max)}) after the membership was first seen gone.`,
      );
  if (checks.length) out.push('', '## Checked against PostgreSQL', '', ...checks);
  const hb = s.baseline?.history;
  const ha = s.access?.history;
  if (hb || ha) {
    const line = (name: string, h: typeof hb) =>
      h
        ? `- ${name}: ${h.events} history events — ${h.workflowTasks} workflow tasks, ${h.activities} activities, ` +
          `${h.searchAttributeUpserts} search-attribute upserts, ${h.timers} timers`
        : '';
    out.push(
      '',
      '## What one workflow costs Temporal',
      '',
      ...[line('Baseline workflow', hb), line('One auto-approved request, requested to revoked', ha)].filter(
        Boolean,
      ),
    );
    const opening = (name: string, h: typeof hb) =>
      h?.opening?.length
        ? [`- ${name}: ${h.opening.map((e) => `${e.event.toLowerCase()} +${e.ms} ms`).join(' → ')}`]
        : [];
    out.push(
      '',
      'Their first moments as the server recorded them (ms since the workflow started, up to the first ' +
        'activity that is not a notification):',
      '',
      ...opening('Baseline', hb),
      ...opening('Auto-approved request', ha),
    );
  }
  const cpuRows = Object.entries(r.cpu);
  if (cpuRows.length) {
    const parts = Object.keys(cpuRows[0][1].cpuSeconds);
    out.push(
      '',
      `## Where the CPU went (CPU seconds; the machine has ${r.machine.cores} cores)`,
      '',
      row(['Scenario', 'wall s', ...parts, 'total', 'share of the machine']),
      row(['---', '---', ...parts.map(() => '---'), '---', '---']),
      ...cpuRows.map(([name, c]) => {
        const total = Object.values(c.cpuSeconds).reduce((a, b) => a + b, 0);
        return row([
          name,
          c.wallSeconds,
          ...parts.map((p) => c.cpuSeconds[p]),
          Math.round(total * 10) / 10,
          `${Math.round((total / (c.wallSeconds * r.machine.cores)) * 100)}%`,
        ]);
      }),
    );
  }
  const lockRows = Object.entries(r.auditLockWaits ?? {});
  if (lockRows.length)
    out.push(
      '',
      '## Database sessions (sampled every 250 ms: mean / most)',
      '',
      'Store: sessions waiting for the global audit lock, waiting for other (per-access) advisory locks, open, and ' +
        'idle inside a transaction; target: sessions running a statement (the connector).',
      '',
      row([
        'Scenario',
        'samples',
        'audit-lock waits',
        'with a wait',
        'other lock waits',
        'store sessions',
        'idle in transaction',
        'target active',
      ]),
      row(['---', '---', '---', '---', '---', '---', '---', '---']),
      ...lockRows.map(([name, w]) =>
        row([
          name,
          w.samples,
          `${w.meanWaiting} / ${w.maxWaiting}`,
          `${Math.round(w.shareWaiting * 100)}%`,
          w.meanOtherWaiting,
          `${w.meanStoreSessions} / ${w.maxStoreSessions}`,
          `${w.meanIdleInTransaction} / ${w.maxIdleInTransaction}`,
          `${w.meanTargetActive} / ${w.maxTargetActive}`,
        ]),
      ),
    );
  const errs = Object.entries(r.errors);
  if (errs.length)
    out.push('', '## Scenarios that did not finish', '', ...errs.map(([k, v]) => `- ${k}: ${v}`));
  out.push('');
  return out.join('\n');
}
