/**
 * The run's plan, fixed by the seed before anything starts: who requests what through which flow, for how long
 * and when; what the simulated approver does with each approval-required request; and when each fault hits
 * and for how long. Nothing here looks at the clock or at the system under test.
 */
import type { ChaosOptions } from './options';
import { seededRandom } from './prng';

/** The flows of the run's grantflow.yaml: two roles, each reachable by an automatic and an approved flow. */
export const FLOWS = {
  'auto-read': { permission: 'readonly', requiredApprovals: 0, autoApprove: true },
  'auto-write': { permission: 'readwrite', requiredApprovals: 0, autoApprove: true },
  'approve-read': { permission: 'readonly', requiredApprovals: 1, autoApprove: false },
  'approve-write': { permission: 'readwrite', requiredApprovals: 2, autoApprove: false },
} as const;
export type FlowName = keyof typeof FLOWS;
export const FLOW_NAMES = Object.keys(FLOWS) as FlowName[];
export const PERMISSIONS = ['readonly', 'readwrite'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * What the simulated approver (or requester) does with an approval-required request.
 * - approve: the required number of distinct approvers approve.
 * - approve-dup-same-key: the first approval is sent twice at once with the same Idempotency-Key.
 * - approve-dup-new-key: the first approver approves again with a new key (refused), and once the request is
 *   approved one more approver tries (refused).
 * - deny-then-approve: an approver denies, then another approves (refused).
 * - ignore: nobody answers; the request expires.
 * - cancel: the requester withdraws it.
 */
export const BEHAVIOURS = [
  'approve',
  'approve-dup-same-key',
  'approve-dup-new-key',
  'deny-then-approve',
  'ignore',
  'cancel',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number] | 'auto';

const BEHAVIOUR_WEIGHTS: Record<(typeof BEHAVIOURS)[number], number> = {
  approve: 46,
  'approve-dup-same-key': 13,
  'approve-dup-new-key': 13,
  'deny-then-approve': 10,
  ignore: 9,
  cancel: 9,
};

export const APPROVERS = ['approver1', 'approver2', 'approver3'] as const;
export const ADMIN = 'admin';
export const EMAIL_DOMAIN = 'chaos.example';

export function emailOf(name: string): string {
  return `${name}@${EMAIL_DOMAIN}`;
}

/** A person's login in the target database. Ghosts' logins are never created: their grants fail. */
export function loginOf(person: string): string {
  return `chaos_${person}`;
}

export interface PlannedRequest {
  index: number;
  person: string;
  /** A person whose login does not exist in PostgreSQL: the grant fails (GRANT_FAILED). */
  ghost: boolean;
  flow: FlowName;
  permission: Permission;
  durationMs: number;
  /** When it is made, from the start of the fault phase. */
  atMs: number;
  behaviour: Behaviour;
  /** How long after the request the approver (or requester) acts. */
  decideAfterMs: number;
  /** Approvers in the order they act. */
  approvers: string[];
  idempotencyKey: string;
  /** Once ACTIVE, the requester extends the grant by this much (0: no extension). */
  extendByMs: number;
}

export type FaultKind = 'worker-kill' | 'temporal-restart' | 'pg-outage';
export const FAULT_KINDS: FaultKind[] = ['worker-kill', 'temporal-restart', 'pg-outage'];

export interface PlannedFault {
  kind: FaultKind;
  /** When it starts, from the start of the fault phase (later if the fault before it is still going on). */
  atMs: number;
  /** How long the target stays away (the pause before the worker or server is started again). */
  downMs: number;
}

export interface Plan {
  people: string[];
  ghosts: string[];
  requests: PlannedRequest[];
  faults: PlannedFault[];
}

export function makePlan(o: ChaosOptions): Plan {
  const rnd = seededRandom(o.seed);
  const pairsNeeded = Math.ceil(o.requests * 1.25);
  const personCount = Math.max(2, Math.ceil(pairsNeeded / FLOW_NAMES.length));
  const ghostCount = Math.max(1, Math.round(personCount / 25));
  const people = Array.from({ length: personCount }, (_, i) => `p${String(i + 1).padStart(3, '0')}`);
  const ghosts = Array.from({ length: ghostCount }, (_, i) => `ghost${String(i + 1).padStart(2, '0')}`);

  // Each (person, flow) at most once: two identical pending requests would be merged into one by design.
  const pairs = rnd
    .fork('pairs')
    .shuffle([...people, ...ghosts].flatMap((person) => FLOW_NAMES.map((flow) => ({ person, flow }))));
  const timing = rnd.fork('timing');
  const rampMs = o.durationMs * o.rampFraction;
  const times = Array.from({ length: o.requests }, () => Math.round(timing.uniform(0, rampMs))).sort(
    (a, b) => a - b,
  );
  const choice = rnd.fork('behaviour');
  const requests: PlannedRequest[] = times.map((atMs, index) => {
    const { person, flow } = pairs[index % pairs.length];
    const def = FLOWS[flow];
    return {
      index,
      person,
      ghost: ghosts.includes(person),
      flow,
      permission: def.permission,
      durationMs: Math.round(timing.uniform(o.minGrantMs, o.maxGrantMs)),
      atMs,
      behaviour: def.autoApprove ? 'auto' : choice.weighted(BEHAVIOUR_WEIGHTS),
      decideAfterMs: Math.round(timing.uniform(o.decideAfterMs[0], o.decideAfterMs[1])),
      approvers: choice.shuffle(APPROVERS),
      idempotencyKey: `chaos-${o.seed}-${index}`,
      extendByMs: 0,
    };
  });
  ensureEachBehaviour(requests, o.minEachBehaviour, rnd.fork('ensure'));
  ensureGhostGrant(requests, ghosts[0], rnd.fork('ghost'));
  const sharing = overlapSomeHolders(requests, rnd.fork('overlap'));
  // Extensions of a grant that shares its role are three times as likely: that is where they matter.
  const extend = rnd.fork('extend');
  for (const r of requests) {
    const share = sharing.has(r) ? Math.min(1, o.extendShare * 3) : o.extendShare;
    if (r.behaviour === 'auto' && !r.ghost && extend.chance(share))
      r.extendByMs = Math.round(extend.uniform(o.minGrantMs / 2, o.maxGrantMs / 2));
  }
  return { people, ghosts, requests, faults: planFaults(o, rnd.fork('faults')) };
}

/** Turns plain approvals into the rarer behaviours until each appears at least `min` times. */
function ensureEachBehaviour(
  requests: PlannedRequest[],
  min: number,
  rnd: ReturnType<typeof seededRandom>,
): void {
  for (const behaviour of BEHAVIOURS) {
    let have = requests.filter((r) => r.behaviour === behaviour).length;
    const spare = rnd.shuffle(requests.filter((r) => r.behaviour === 'approve' && !r.ghost));
    while (have < min && spare.length > 1) {
      spare.pop()!.behaviour = behaviour;
      have++;
    }
  }
}

/**
 * Half of the people who ask for the same role through two flows ask for both within a few seconds, so that the
 * two grants overlap and share the role: the holder bookkeeping (the last holder's revoke removes the role, no
 * earlier one may) is where a grant could be lost.
 */
function overlapSomeHolders(
  requests: PlannedRequest[],
  rnd: ReturnType<typeof seededRandom>,
): Set<PlannedRequest> {
  const sharing = new Set<PlannedRequest>();
  const groups = new Map<string, PlannedRequest[]>();
  for (const r of requests) {
    const key = `${r.person}/${r.permission}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [first, second] of groups.values()) {
    if (!second || !rnd.chance(0.5)) continue;
    const [early, late] = first.atMs <= second.atMs ? [first, second] : [second, first];
    late.atMs = early.atMs + Math.round(rnd.uniform(0, 3_000));
    sharing.add(early).add(late);
  }
  return sharing;
}

/** At least one automatic grant for a person without a login, so that every run sees GRANT_FAILED. */
function ensureGhostGrant(
  requests: PlannedRequest[],
  ghost: string,
  rnd: ReturnType<typeof seededRandom>,
): void {
  if (requests.length < 2 || requests.some((r) => r.ghost && r.behaviour === 'auto')) return;
  const target = rnd.pick(requests.filter((r) => r.behaviour === 'auto'));
  // (ghost, auto-read) is unused: no ghost request is automatic yet.
  if (target)
    Object.assign(target, { person: ghost, ghost: true, flow: 'auto-read', permission: 'readonly' });
}

function planFaults(o: ChaosOptions, rnd: ReturnType<typeof seededRandom>): PlannedFault[] {
  const kinds = rnd.shuffle([
    ...Array<FaultKind>(o.faults.workerKill).fill('worker-kill'),
    ...Array<FaultKind>(o.faults.temporalRestart).fill('temporal-restart'),
    ...Array<FaultKind>(o.faults.pgOutage).fill('pg-outage'),
  ]);
  if (kinds.length === 0) return [];
  // Faults fall in equal slots over the phase (after a short calm start), at a random moment in the first
  // half of each slot, so that one fault is over before the next begins.
  const start = Math.min(5_000, o.durationMs * 0.05);
  const slot = (o.durationMs - start) / kinds.length;
  const range = (kind: FaultKind) =>
    kind === 'worker-kill' ? o.workerDownMs : kind === 'temporal-restart' ? o.temporalDownMs : o.pgDownMs;
  return kinds.map((kind, i) => {
    const [min, max] = range(kind);
    return {
      kind,
      atMs: Math.round(start + i * slot + rnd.uniform(0, slot / 2)),
      downMs: Math.round(rnd.uniform(min, max)),
    };
  });
}
