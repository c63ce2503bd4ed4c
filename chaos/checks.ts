/**
 * The end-of-run checks, against the real systems: Grantflow's store and audit chain, Temporal, and PostgreSQL's
 * catalogs (pg_auth_members, pg_stat_activity). Each broken invariant becomes a violation naming the request and
 * carrying its evidence; the numbers of the report (lateness, lost grants, outcomes) are computed here too.
 */
import { Client as PgClient } from 'pg';
import type { AuditRow, RequestRow } from '../store/types';
import { FINAL_STATUSES, workflowIdFor } from '../workflows/definitions';
import type { FaultRecord } from './faults';
import type { LoadState, TrackedRequest } from './load';
import type { ChaosOptions } from './options';
import { FLOWS, loginOf, type Plan } from './plan';
import type { SessionSampler } from './sampler';
import { ROLE_OF, type ChaosStack } from './stack';

export const INVARIANTS = {
  made: 'every planned request was made through the API',
  'all-final': 'every request reached a final state (REVOKED, DENIED, EXPIRED, CANCELLED, GRANT_FAILED)',
  'grant-held': 'every approved grant existed in PostgreSQL while ACTIVE (granted verified; sessions saw it)',
  'no-access-left': "no access remains once none of the person's requests for it is ACTIVE",
  'no-session-left': 'no live session of a revoked user remains',
  'audit-complete': "every request's audit trail is complete",
  'audit-chain': 'the audit chain verifies',
  'decided-once': 'no request was decided twice',
  'revoked-in-time': 'no revoke later than the limit after its target came back',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  check: InvariantName;
  requestId?: string;
  message: string;
  evidence?: unknown;
}

export interface Percentiles {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface Findings {
  violations: Violation[];
  notes: string[];
  byStatus: Record<string, number>;
  byBehaviour: Record<string, Record<string, number>>;
  grantsLost: number;
  lateRevokes: number;
  /** revoked_at − expiresAt of every revoked grant. */
  lateness: Percentiles;
  /** revoked_at − max(expiresAt, the moment the last fault overlapping the wait was over). */
  lateAfterRecovery: Percentiles;
  /** The ten latest revokes, for a look at their trails. */
  latestRevokes: { requestId: string; latenessMs: number; afterRecoveryMs: number }[];
  revokesOverdue: number;
  revokeVerified: number;
  auditRows: number;
  auditOk: boolean;
  sessions: {
    observations: number;
    duringActive: number;
    sawNoAccessWhileActive: number;
    kept: number;
    keptEndedByRevoke: number;
    keptAlive: number;
    leakProbes: number;
    leaksFound: number;
    samplerErrors: number;
  };
  actions: { sent: number; unexpected: number; byStatus: Record<string, number> };
}

export interface CheckInput {
  stack: ChaosStack;
  plan: Plan;
  o: ChaosOptions;
  load: LoadState;
  faults: FaultRecord[];
  sampler: SessionSampler;
}

const DECISIONS = ['request.approved', 'request.denied', 'request.expired', 'request.cancelled'];
const FINAL_EVENT: Record<string, string> = {
  REVOKED: 'request.revoked',
  DENIED: 'request.denied',
  EXPIRED: 'request.expired',
  CANCELLED: 'request.cancelled',
  GRANT_FAILED: 'request.grant_failed',
};

export async function runChecks(input: CheckInput): Promise<Findings> {
  const { stack, o, load, sampler } = input;
  const violations: Violation[] = [];
  const notes: string[] = [];
  const v = (check: InvariantName, message: string, requestId?: string, evidence?: unknown) =>
    violations.push({
      check,
      message,
      ...(requestId ? { requestId } : {}),
      ...(evidence ? { evidence } : {}),
    });

  // Requests, their rows, their audit trails and their workflows.
  const made = load.tracked.filter((t) => t.id);
  for (const t of load.tracked.filter((t) => !t.id))
    v(
      'made',
      `request #${t.plan.index} (${t.plan.person}, ${t.plan.flow}) was not made: ${t.failed ?? 'never sent'}`,
    );
  const rows = new Map<string, RequestRow | undefined>();
  const trails = new Map<string, AuditRow[]>();
  for (const t of made) {
    const id = t.id as string;
    rows.set(id, await stack.store.getRequest(id));
    trails.set(id, await stack.store.listAudit({ requestId: id, limit: 10_000 }));
  }
  const byStatus: Record<string, number> = {};
  const byBehaviour: Record<string, Record<string, number>> = {};
  for (const t of made) {
    const id = t.id as string;
    const row = rows.get(id);
    const status = row?.status ?? 'MISSING';
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    const b = (byBehaviour[t.plan.behaviour] ??= {});
    b[status] = (b[status] ?? 0) + 1;
    const trail = trails.get(id) ?? [];
    const evidence = () => ({ status, flow: t.plan.flow, person: t.plan.person, trail: trailOf(trail) });
    if (!row || !FINAL_STATUSES.includes(row.status)) {
      v('all-final', `request ${id} is ${status}, not final`, id, evidence());
      continue;
    }
    try {
      const described = await stack.ctx.client.workflow.getHandle(workflowIdFor(id)).describe();
      if (described.status.name !== 'COMPLETED')
        v('all-final', `workflow of ${id} is ${described.status.name}, not COMPLETED`, id, evidence());
    } catch (err) {
      v('all-final', `workflow of ${id} cannot be described: ${String(err)}`, id, evidence());
    }
    checkTrail(t, row, trail, v, evidence);
  }

  // Grants held while ACTIVE: verified at grant time, and every session opened while ACTIVE saw the role.
  const lost = new Set<string>();
  for (const t of made) {
    const granted = (trails.get(t.id as string) ?? []).find((e) => e.type === 'request.granted');
    if (granted && granted.details.verified !== true) {
      lost.add(t.id as string);
      v(
        'grant-held',
        `request ${t.id} was granted without verification (${String(granted.details.verified)})`,
        t.id,
        {
          granted: granted.details,
        },
      );
    }
  }
  // A grant must hold from its `granted` event until its revoke starts or it expires, whichever comes first (a
  // revoke held up by a fault may start after expiry; the access may then go with another request's revoke).
  const holdWindow = (id: string): [number, number] | undefined => {
    const trail = trails.get(id) ?? [];
    const grantedAt = timeOf(trail, 'request.granted');
    if (grantedAt === undefined) return undefined;
    const expiresAt = rows.get(id)?.expiresAt;
    const end = Math.min(
      timeOf(trail, 'request.revoking') ?? Infinity,
      expiresAt ? Date.parse(expiresAt) : Infinity,
    );
    return [grantedAt, end];
  };
  let duringActive = 0;
  let sawNoAccess = 0;
  for (const ob of sampler.observations) {
    const trail = trails.get(ob.requestId) ?? [];
    const window = holdWindow(ob.requestId);
    if (!window || window[0] > ob.t0 || window[1] < ob.t1) continue;
    duringActive++;
    if (ob.member) continue;
    sawNoAccess++;
    lost.add(ob.requestId);
    v(
      'grant-held',
      `a session of ${ob.person} opened while ${ob.requestId} was ACTIVE lacked ${ROLE_OF[ob.permission]}`,
      ob.requestId,
      {
        observation: { ...ob, t0: iso(ob.t0), t1: iso(ob.t1) },
        trail: trailOf(trail),
      },
    );
  }

  // From the audit alone: a revoke that took a person's role away (verified through the connector) while another
  // request of theirs for that role was within its hold window lost that request's grant.
  for (const x of made) {
    const xTrail = trails.get(x.id as string) ?? [];
    const verifiedRow = xTrail.find((e) => e.type === 'request.revoke_verified');
    const revokingAt = timeOf(xTrail, 'request.revoking');
    if (!verifiedRow || revokingAt === undefined) continue;
    const verifiedAt = Date.parse(String(verifiedRow.details.checkedAt ?? verifiedRow.at));
    for (const y of made) {
      if (y === x || y.plan.person !== x.plan.person || y.plan.permission !== x.plan.permission) continue;
      const window = holdWindow(y.id as string);
      if (!window || !(window[0] < revokingAt && verifiedAt < window[1])) continue;
      lost.add(y.id as string);
      const yTrail = trails.get(y.id as string) ?? [];
      v(
        'grant-held',
        `${loginOf(y.plan.person)} lost ${ROLE_OF[y.plan.permission]} at ${iso(verifiedAt)} to the revoke of ${x.id}, ` +
          `while ${y.id} was ACTIVE until ${iso(window[1])}`,
        y.id,
        {
          revokeOf: x.id,
          revoked: xTrail.find((e) => e.type === 'request.revoked')?.details,
          extended: yTrail.filter((e) => e.type === 'request.extended').map((e) => e.details),
          trail: trailOf(yTrail),
          revokerTrail: trailOf(xTrail),
        },
      );
    }
  }

  // No access left: role memberships, holder rows, and what the sampler's probes found during the run.
  const admin = new PgClient({ connectionString: stack.targetUrl });
  admin.on('error', () => undefined); // a lost connection fails the query below instead
  await admin.connect();
  const logins = [...input.plan.people, ...input.plan.ghosts].map(loginOf);
  try {
    const { rows: members } = await admin.query<{ role: string; member: string }>(
      `select r.rolname as role, u.rolname as member from pg_auth_members am
       join pg_roles r on r.oid = am.roleid join pg_roles u on u.oid = am.member
       where r.rolname = any($1) order by 1, 2`,
      [Object.values(ROLE_OF)],
    );
    for (const m of members)
      v('no-access-left', `${m.member} is still a member of ${m.role} at the end`, undefined, {
        requests: made
          .filter((t) => loginOf(t.plan.person) === m.member)
          .map((t) => ({ id: t.id, trail: trailOf(trails.get(t.id as string) ?? []) })),
      });
    const { rows: sessions } = await admin.query<{ usename: string; pid: number; backend_start: Date }>(
      'select usename, pid, backend_start from pg_stat_activity where usename = any($1)',
      [logins],
    );
    for (const s of sessions)
      v(
        'no-session-left',
        `session ${s.pid} of ${s.usename} (since ${s.backend_start.toISOString()}) is alive at the end`,
      );
  } finally {
    await admin.end();
  }
  const holders = await stack.store.listAccessHolders('db');
  for (const h of holders)
    v(
      'no-access-left',
      `access holder row left: ${h.account} ${h.permission} by ${h.requestId}`,
      h.requestId,
    );
  const leaks = sampler.leakProbes.filter((p) => p.member);
  for (const p of leaks)
    v(
      'no-access-left',
      `${loginOf(p.person)} held ${ROLE_OF[p.permission]} at ${iso(p.at)} though all its requests for it were final`,
      undefined,
      {
        requests: p.requestIds.map((id) => ({ id, trail: trailOf(trails.get(id) ?? []) })),
      },
    );
  const keptAlive = sampler.kept.filter((s) => s.endedAt === undefined);
  for (const s of keptAlive)
    v(
      'no-session-left',
      `a session of ${s.person} kept open while ${s.requestId} was ACTIVE is still alive`,
      s.requestId,
    );

  // Audit chain.
  const verified = await stack.store.verifyAudit();
  if (!verified.ok)
    v('audit-chain', `the audit chain does not verify: ${JSON.stringify(verified.problems.slice(0, 5))}`);

  // Answers of the API to duplicate and late decisions.
  const actionsByStatus: Record<string, number> = {};
  let unexpected = 0;
  for (const a of load.actions) {
    actionsByStatus[String(a.status)] = (actionsByStatus[String(a.status)] ?? 0) + 1;
    const ok = a.status >= 200 && a.status < 300;
    if (a.expect === 'refused' && ok) {
      unexpected++;
      v(
        'decided-once',
        `${a.step}: ${a.actor}'s ${a.action} of ${a.requestId} was accepted (${a.status})`,
        a.requestId,
        {
          action: a,
          trail: trailOf(trails.get(a.requestId ?? '') ?? []),
        },
      );
    } else if (a.expect === 'ok' && !ok) {
      unexpected++;
      notes.push(
        `${a.step}: ${a.actor}'s ${a.action} of ${a.requestId ?? `#${a.requestIndex}`} answered ${a.status} ${a.message ?? ''} after ${a.attempts} attempt(s)`,
      );
    } else if (a.expect === 'refused' && a.status !== 409) {
      notes.push(`${a.step}: ${a.actor}'s ${a.action} of ${a.requestId} answered ${a.status}, not 409`);
    }
  }

  // Lateness of revokes: against expiry, and against the moment the last overlapping fault was over.
  const lateness: number[] = [];
  const lateAfter: number[] = [];
  const latest: Findings['latestRevokes'] = [];
  let lateRevokes = 0;
  for (const t of made) {
    const id = t.id as string;
    const row = rows.get(id);
    const revoked = (trails.get(id) ?? []).find((e) => e.type === 'request.revoked');
    if (!row?.expiresAt || !revoked) continue;
    const expiresAt = Date.parse(row.expiresAt);
    const revokedAt = Date.parse(String(revoked.details.revokedAt ?? revoked.at));
    lateness.push(revokedAt - expiresAt);
    const recovered = input.faults
      .filter((f) => f.startedAt < revokedAt && f.endedAt > expiresAt)
      .reduce((at, f) => Math.max(at, f.endedAt), expiresAt);
    const late = revokedAt - recovered;
    lateAfter.push(late);
    latest.push({ requestId: id, latenessMs: revokedAt - expiresAt, afterRecoveryMs: late });
    if (late > o.lateLimitMs) {
      lateRevokes++;
      v(
        'revoked-in-time',
        `request ${id} was revoked ${(late / 1000).toFixed(1)} s after its target came back`,
        id,
        {
          expiresAt: row.expiresAt,
          revokedAt: iso(revokedAt),
          recoveredAt: iso(recovered),
          trail: trailOf(trails.get(id) ?? []),
        },
      );
    }
  }

  const all = [...trails.values()].flat();
  const ended = sampler.kept.filter((s) => s.endedAt !== undefined);
  return {
    violations,
    notes,
    byStatus,
    byBehaviour,
    grantsLost: lost.size,
    lateRevokes,
    lateness: percentiles(lateness),
    lateAfterRecovery: percentiles(lateAfter),
    latestRevokes: latest.sort((a, b) => b.latenessMs - a.latenessMs).slice(0, 10),
    revokesOverdue: new Set(all.filter((e) => e.type === 'request.revoke_overdue').map((e) => e.requestId))
      .size,
    revokeVerified: all.filter((e) => e.type === 'request.revoke_verified').length,
    auditRows: verified.rows,
    auditOk: verified.ok,
    sessions: {
      observations: sampler.observations.length,
      duringActive,
      sawNoAccessWhileActive: sawNoAccess,
      kept: sampler.kept.length,
      keptEndedByRevoke: ended.length,
      keptAlive: keptAlive.length,
      leakProbes: sampler.leakProbes.length,
      leaksFound: leaks.length,
      samplerErrors: sampler.errors.length,
    },
    actions: { sent: load.actions.length, unexpected, byStatus: actionsByStatus },
  };
}

/** One request's audit trail against its final state: requested, decided once, granted, revoked, verified. */
function checkTrail(
  t: TrackedRequest,
  row: RequestRow,
  trail: AuditRow[],
  v: (check: InvariantName, message: string, requestId?: string, evidence?: unknown) => void,
  evidence: () => unknown,
): void {
  const id = row.id;
  const count = (type: string) => trail.filter((e) => e.type === type).length;
  const has = (type: string) => count(type) > 0;
  const missing = (what: string) =>
    v('audit-complete', `request ${id} (${row.status}) has no ${what} event`, id, evidence());
  if (count('request.requested') !== 1) missing('single request.requested');
  const decisions = trail.filter((e) => DECISIONS.includes(e.type)).map((e) => e.type);
  if (decisions.length === 0) missing('decision (approved/denied/expired/cancelled)');
  if (decisions.length > 1)
    v(
      'decided-once',
      `request ${id} was decided ${decisions.length} times: ${decisions.join(', ')}`,
      id,
      evidence(),
    );
  const required = FLOWS[t.plan.flow].requiredApprovals;
  const approvals = count('request.approval');
  if (approvals > required)
    v('decided-once', `request ${id} has ${approvals} approvals; its flow needs ${required}`, id, evidence());
  if (count('request.denial') > 1)
    v('decided-once', `request ${id} was denied ${count('request.denial')} times`, id, evidence());
  if (has('request.approved') && required > 0 && approvals < required)
    v(
      'decided-once',
      `request ${id} was approved with ${approvals} of ${required} approvals`,
      id,
      evidence(),
    );
  const finalEvent = FINAL_EVENT[row.status];
  if (finalEvent && !has(finalEvent)) missing(finalEvent);
  if (has('request.approved')) {
    if (!has('request.granting')) missing('request.granting');
    if (!has('request.granted') && !has('request.grant_failed'))
      missing('request.granted or request.grant_failed');
  }
  if (has('request.granted')) {
    for (const type of ['request.revoking', 'request.revoked']) if (!has(type)) missing(type);
    const revoked = trail.find((e) => e.type === 'request.revoked');
    const stillHeld = revoked?.details.verified === 'still held by another request';
    if (!has('request.revoke_verified') && !stillHeld) missing('request.revoke_verified');
    if (has('request.revoke_verified') && revoked && revoked.details.verified !== true)
      v(
        'audit-complete',
        `request ${id}: revoked says verified=${String(revoked.details.verified)}`,
        id,
        evidence(),
      );
  }
}

function timeOf(trail: AuditRow[], type: string): number | undefined {
  const e = trail.find((r) => r.type === type);
  return e ? Date.parse(e.at) : undefined;
}

function trailOf(trail: AuditRow[]): string[] {
  return trail.map((e) => `${e.at} ${e.type} ${e.actor}`);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50Ms: null, p99Ms: null, maxMs: null };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { count: sorted.length, p50Ms: rank(0.5), p99Ms: rank(0.99), maxMs: sorted[sorted.length - 1] };
}
