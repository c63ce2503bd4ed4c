/**
 * Scenario 4, revocation punctuality.
 * Steady: `steady.grants` grants, all active at once, expiring at a steady rate over `steady.spreadMs`. They are
 * made at a pace the system sustains (70% of the throughput knee when known), each with the duration that puts
 * its expiry on its slot; lateness is from each grant's expiresAt (requests index) to its access being gone
 * (`request.revoke_verified` audit `at`; `request.revoked` is reported too).
 * Burst: `burst.grants` grants, then each extended (through the core use case, as an admin) so that all expire
 * in the same millisecond; the figure is how long until the last access is gone.
 * Both end with pg_auth_members checked for every one of their pairs, and a sample watched as it expires.
 */
import type { BenchContext, Grant } from '../context';
import { extendRequest } from '../../core/request-actions';
import { allBenchMemberships, isMember, requestTimes } from '../observe';
import { ADMIN } from '../people';
import { breakdown } from './access';
import { closedLoop, sleep, summarize, type Summary } from '../stats';

export interface RevocationResult {
  grants: number;
  /** Grants made but not granted (excluded from lateness). */
  notGranted: number;
  /** The most grants active at once (granted, not yet revoked). */
  peakActive: number;
  creationRps: number;
  creationSeconds: number;
  /** expiresAt → revoke_verified `at`. */
  latenessMs: Summary;
  /** expiresAt → revoked `at` (the workflow's own record, after the verification). */
  revokedLatenessMs: Summary;
  /** Grants with no revoke by the end of the wait. */
  neverRevoked: number;
  /** Their pairs still members in pg_auth_members after the wait (a full check of every pair). */
  stillMembers: number;
  spotChecks: { watched: number; goneBeforeAudit: number; auditMinusDbMs: Summary };
  /** Where the time goes after the expiry, step by step (p50 and p99). */
  breakdownMs: Record<string, Summary>;
  /** Expiries per second: planned (steady) or all at once (burst). */
  expiriesPerSecond: number;
}

export interface SteadyResult extends RevocationResult {
  spreadMs: number;
  /** (seconds since the first expiry, lateness ms), at most 2,000 of them, for the chart. */
  series: [number, number][];
}

export interface BurstResult extends RevocationResult {
  /** The expiry all grants were aligned to, and how many had it. */
  aligned: number;
  expirySpreadMs: number;
  /** From the common expiry to the last access gone. */
  drainMs: number;
}

export async function runSteady(b: BenchContext): Promise<SteadyResult> {
  const n = b.o.steady.grants;
  const spread = b.o.steady.spreadMs;
  await b.calibrate();
  const rps = b.creationRate();
  const createMs = (n / rps) * 1000;
  const t0 = Date.now();
  // The first expiry comes once everything is made and granted, with a margin.
  const firstExpiry =
    t0 + createMs + Math.max(b.o.quick ? 4_000 : 20_000, createMs * (b.o.quick ? 0.25 : 0.15));
  const slot = (i: number) => firstExpiry + (i * spread) / n;
  let made = 0;
  b.progress.set(
    `steady: making ${n} grants at ${rps}/s`,
    () => `${made}/${n} made, ${b.audit.counts.granted} granted in all`,
  );
  const grants = await b.createPaced(
    n,
    rps,
    (i, now) => slot(i) - now,
    () => made++,
  );
  const creationSeconds = (Date.now() - t0) / 1000;
  return {
    ...(await measureRevocation(b, grants, 'steady', rps, creationSeconds, n / (spread / 1000))),
    spreadMs: spread,
  } as SteadyResult;
}

export async function runBurst(b: BenchContext): Promise<BurstResult> {
  const n = b.o.burst.grants;
  await b.calibrate();
  const rps = b.creationRate();
  const t0 = Date.now();
  const createMs = (n / rps) * 1000;
  // Long enough to make them all and then extend them all before the first would expire.
  // Extending is lighter than granting (two activities, not seven): it takes about half as long as making them.
  const extendMs = Math.max(b.o.quick ? 2_000 : 10_000, createMs / 2);
  const provisional = t0 + createMs * 1.25 + extendMs + (b.o.quick ? 2_000 : 20_000);
  let made = 0;
  b.progress.set(`burst: making ${n} grants at ${rps}/s`, () => `${made}/${n} made`);
  const grants = await b.createPaced(
    n,
    rps,
    (_i, now) => provisional - now,
    () => made++,
  );
  const creationSeconds = (Date.now() - t0) / 1000;
  const ids = grants.flatMap((g) => (g.id ? [g.id] : []));
  await b.waitAll(ids, 'granted', 300_000, 60_000);
  // Align: every expiry moved (by extension) to one whole second after the latest.
  await sleep(1_000); // the index rows are written by the activity that records `granted`
  const times = await requestTimes(b.stack.store, ids);
  const expiries = [...times.values()].flatMap((t) => (t.expiresAt !== undefined ? [t.expiresAt] : []));
  const latest = Math.max(...expiries);
  const common =
    Math.ceil((Math.max(latest, Date.now() + extendMs) + (b.o.quick ? 2_000 : 5_000)) / 1000) * 1000;
  let extended = 0;
  const aligned: number[] = [];
  b.progress.set(
    `burst: aligning ${ids.length} expiries on ${new Date(common).toISOString()}`,
    () => `${extended} extended`,
  );
  const actor = { email: ADMIN, channel: 'bench' };
  await closedLoop(ids.length, b.o.create.concurrency, async (i) => {
    const id = ids[i];
    const exp = times.get(id)?.expiresAt;
    if (exp === undefined || exp <= Date.now()) return;
    try {
      const view = await extendRequest(b.stack.ctx, actor, id, common - exp, {
        updateId: `bench-align-${id}`,
      });
      if (view.expiresAt) aligned.push(Date.parse(view.expiresAt));
      extended++;
    } catch {
      // counted: not aligned
    }
  });
  const result = await measureRevocation(b, grants, 'burst', rps, creationSeconds, aligned.length);
  const lastGone = Math.max(
    ...grants.flatMap((g) => (g.id ? [b.audit.at(g.id, 'verified') ?? Number.NaN] : [])),
  );
  return {
    ...result,
    aligned: aligned.filter((a) => a === common).length,
    expirySpreadMs: aligned.length ? Math.max(...aligned) - Math.min(...aligned) : Number.NaN,
    drainMs: lastGone - common,
  };
}

/** Waits for the revokes of `grants` and measures them against their expiries and PostgreSQL. */
async function measureRevocation(
  b: BenchContext,
  grants: Grant[],
  label: string,
  rps: number,
  creationSeconds: number,
  expiriesPerSecond: number,
): Promise<RevocationResult> {
  const ids = grants.flatMap((g) => (g.id ? [g.id] : []));
  b.progress.set(`${label}: waiting for all to be granted`, () => `${granted()}/${ids.length} granted`);
  const granted = () => ids.filter((id) => b.audit.at(id, 'granted') !== undefined).length;
  await b.waitAll(ids, 'granted', 600_000, 60_000);
  await sleep(1_000);
  const times = await requestTimes(b.stack.store, ids);
  const live = grants.filter((g) => g.id && b.audit.at(g.id, 'granted') !== undefined);
  const expiryOf = (g: Grant) => (g.id ? times.get(g.id)?.expiresAt : undefined);
  const expiries = live.flatMap((g) => {
    const e = expiryOf(g);
    return e !== undefined ? [e] : [];
  });
  b.noteCreationRate(b.observedRate(grants));
  const first = Math.min(...expiries);
  const last = Math.max(...expiries);
  // Peak: granted before the first expiry and not revoked by then.
  const peakActive = live.filter((g) => (b.audit.at(g.id!, 'granted') ?? Infinity) <= first).length;

  // Watch a sample in pg_auth_members from a second before its expiry until the membership is gone.
  const sample = live.filter((_, i) => i % Math.max(1, Math.floor(live.length / b.o.spotChecks)) === 0);
  const watched = sample.map((g) => ({
    g,
    gone: b.watcher.watch(g.pair, 'absent', (expiryOf(g) ?? Date.now()) - 1_000, 600_000),
  }));

  let gone = 0;
  b.progress.set(`${label}: revoking`, () => {
    gone = live.filter((g) => b.audit.at(g.id!, 'verified') !== undefined).length;
    const now = Date.now();
    const due = expiries.filter((e) => e <= now).length;
    return `${due}/${expiries.length} expired, ${gone} revoked and verified, first expiry ${Math.round((now - first) / 1000)} s ago`;
  });
  if (last > Date.now()) await sleep(last - Date.now());
  const left = await b.waitAll(
    live.map((g) => g.id!),
    'revoked',
    300_000,
    90_000,
  );

  const members = await allBenchMemberships(b.stack.target);
  // Nothing else is granted meanwhile, so any membership of these pairs is access that outlived its grant.
  const stillMembers = live.filter((g) => isMember(members, g.pair)).length;
  const lateness: number[] = [];
  const revokedLateness: number[] = [];
  for (const g of live) {
    const exp = expiryOf(g);
    const v = b.audit.at(g.id!, 'verified');
    const r = b.audit.at(g.id!, 'revoked');
    if (exp !== undefined && v !== undefined) lateness.push(v - exp);
    if (exp !== undefined && r !== undefined) revokedLateness.push(r - exp);
  }
  const diffs: number[] = [];
  let goneBeforeAudit = 0;
  for (const w of watched) {
    const at = await w.gone;
    const audit = b.audit.at(w.g.id!, 'verified');
    if (at === undefined || audit === undefined) continue;
    diffs.push(audit - at);
    if (at <= audit + b.watcher.intervalMs) goneBeforeAudit++;
  }
  return {
    grants: grants.length,
    notGranted: grants.length - live.length,
    peakActive,
    creationRps: rps,
    creationSeconds: Math.round(creationSeconds),
    latenessMs: summarize(lateness),
    revokedLatenessMs: summarize(revokedLateness),
    neverRevoked: left.length,
    stillMembers,
    spotChecks: { watched: diffs.length, goneBeforeAudit, auditMinusDbMs: summarize(diffs) },
    breakdownMs: breakdown(live, ['expiry', 'revoking', 'verified', 'revoked'], (g, mark) =>
      mark === 'expiry' ? expiryOf(g) : b.audit.at(g.id!, mark as 'revoking' | 'verified' | 'revoked'),
    ),
    expiriesPerSecond: Math.round(expiriesPerSecond * 10) / 10,
    ...(label === 'steady' ? { series: seriesOf(b, live, expiryOf, first) } : {}),
  } as RevocationResult;
}

function seriesOf(
  b: BenchContext,
  live: Grant[],
  expiryOf: (g: Grant) => number | undefined,
  first: number,
): [number, number][] {
  const points = live.flatMap((g): [number, number][] => {
    const e = expiryOf(g);
    const v = b.audit.at(g.id!, 'verified');
    return e !== undefined && v !== undefined ? [[(e - first) / 1000, v - e]] : [];
  });
  const step = Math.max(1, Math.ceil(points.length / 2000));
  return points.filter((_, i) => i % step === 0);
}
