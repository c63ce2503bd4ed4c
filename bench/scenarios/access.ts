/**
 * Scenario 2, time to access (auto-approved): from the API's POST of a request to the moment the grant in
 * PostgreSQL committed, read from the `request.granted` audit event's `at`. Same concurrency as the baseline it is
 * compared with: one at a time (latency), and 5 in flight (`access-loaded`, latency under load).
 * Spot checks: for a sample, pg_auth_members must show the membership right after the audit event, and a
 * watcher polling pg_auth_members tells when the membership really appeared (to compare with the audit's `at`
 * and with `granted_at` in the requests index, which the grant activity sets as it commits).
 */
import type { BenchContext, Grant } from '../context';
import { isMember, membersNow, requestTimes } from '../observe';
import { FLOW_AUTO } from '../people';
import { closedLoop, summarize, type Summary } from '../stats';
import { countHistory, type HistoryCount } from '../history';
import { workflowIdFor } from '../../workflows/definitions';

export interface AccessResult {
  requests: number;
  concurrency: number;
  failed: number;
  /** POST sent → `request.granted` audit `at`. */
  latencyMs: Summary;
  samples: number[];
  /** POST sent → its answer (the request is created and its workflow started). */
  postMs: Summary;
  /** POST sent → `granted_at` in the requests index (set by the grant activity right after the commit). */
  toCommitMs: Summary;
  /** One auto-approved request's workflow history, from request to revoke. */
  history?: HistoryCount;
  /** Where the time goes: each step between the request's audit events (and the commit), p50 and p99. */
  breakdownMs: Record<string, Summary>;
  spotChecks: SpotCheck;
  errors: string[];
}

/**
 * Durations between consecutive moments of each request (undefined moments skipped), summarised per step:
 * `marks` names the moments in order, `at` gives a request's moment by name.
 */
export function breakdown<T>(
  items: readonly T[],
  marks: readonly string[],
  at: (item: T, mark: string) => number | undefined,
): Record<string, Summary> {
  const out: Record<string, Summary> = {};
  for (let k = 1; k < marks.length; k++) {
    const values = items.flatMap((item) => {
      const a = at(item, marks[k - 1]);
      const b = at(item, marks[k]);
      return a !== undefined && b !== undefined ? [b - a] : [];
    });
    out[`${marks[k - 1]} → ${marks[k]}`] = summarize(values);
  }
  return out;
}

export interface SpotCheck {
  checked: number;
  /** Sampled grants whose membership pg_auth_members showed right after the audit event. */
  presentAfterAudit: number;
  /** Audit `at` minus the moment the watcher first saw the membership (positive: the audit is later). */
  auditMinusDbMs: Summary;
}

/** Waits for each of `grants` to be granted and runs the spot checks on every `every`-th. */
export async function grantAndCheck(
  b: BenchContext,
  g: Grant,
  spot: boolean,
  dbSeen: Promise<number | undefined> | undefined,
  check: { presentAfterAudit: number; checked: number; diffs: number[] },
): Promise<number | undefined> {
  if (!g.id) return undefined;
  const at = await b.audit.waitFor(g.id, 'granted', 60_000);
  if (at === undefined || !spot) return at;
  check.checked++;
  if (isMember(await membersNow(b.stack.target, [g.pair]), g.pair)) check.presentAfterAudit++;
  const seen = await dbSeen;
  if (seen !== undefined) check.diffs.push(at - seen);
  return at;
}

export async function runAccess(b: BenchContext, c = b.o.concurrency): Promise<AccessResult> {
  const n = b.o.accessRequests;
  // Long enough that nothing expires while the scenario measures; revoked early right after.
  const durationMs = 3_600_000;
  const every = Math.max(1, Math.floor(n / b.o.spotChecks));
  const check = { presentAfterAudit: 0, checked: 0, diffs: [] as number[] };
  const grants: Grant[] = [];
  const latency: number[] = [];
  const errors: string[] = [];
  const warm: string[] = [];
  const one = async (i: number, measured: boolean) => {
    const pair = b.pool.take();
    const spot = measured && i % every === 0;
    const dbSeen = spot ? b.watcher.watch(pair, 'present', Date.now(), 60_000) : undefined;
    const g = await b.create(FLOW_AUTO, durationMs, i, pair);
    if (!measured) {
      if (g.id) warm.push(g.id);
      if (g.id) await b.audit.waitFor(g.id, 'granted', 60_000);
      return;
    }
    grants.push(g);
    if (!g.id) errors.push(`${g.status}: ${g.error}`);
    const at = await grantAndCheck(b, g, spot, dbSeen, check);
    if (at !== undefined) latency.push(at - g.sentAt);
  };
  b.progress.set('time to access: warming up');
  await closedLoop(c * (b.o.quick ? 2 : 4), c, (i) => one(i, false));
  b.progress.set('time to access (auto-approved)', () => `${latency.length}/${n} granted`);
  await closedLoop(n, c, (i) => one(i, true));
  const ids = grants.flatMap((g) => (g.id ? [g.id] : []));
  const times = await requestTimes(b.stack.store, ids);
  const breakdownMs = breakdown(
    grants.filter((g) => g.id),
    ['POST', 'requested', 'approved', 'granting', 'commit', 'granted'],
    (g, mark) =>
      mark === 'POST'
        ? g.sentAt
        : mark === 'commit'
          ? times.get(g.id!)?.grantedAt
          : b.audit.at(g.id!, mark as 'requested' | 'approved' | 'granting' | 'granted'),
  );
  const toCommit = grants.flatMap((g) => {
    const t = g.id ? times.get(g.id)?.grantedAt : undefined;
    return t !== undefined ? [t - g.sentAt] : [];
  });
  b.progress.set('time to access: revoking its grants');
  await b.revokeNow([...warm, ...ids]);
  // One request's whole life (requested → granted → revoked), as Temporal recorded it.
  const done = ids.find((id) => b.audit.at(id, 'revoked') !== undefined);
  const history = done
    ? await countHistory(b.stack.client, workflowIdFor(done)).catch(() => undefined)
    : undefined;
  return {
    requests: n,
    concurrency: c,
    failed: n - latency.length,
    latencyMs: summarize(latency),
    samples: latency,
    postMs: summarize(grants.map((g) => g.answeredAt - g.sentAt)),
    toCommitMs: summarize(toCommit),
    breakdownMs,
    ...(history ? { history } : {}),
    spotChecks: {
      checked: check.checked,
      presentAfterAudit: check.presentAfterAudit,
      auditMinusDbMs: summarize(check.diffs),
    },
    errors: errors.slice(0, 5),
  };
}
