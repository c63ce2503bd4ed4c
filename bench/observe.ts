/**
 * How the bench sees what happened: the audit trail followed as it grows (each request's `request.granted`,
 * `request.revoke_verified` and `request.revoked` moments, read from the rows' `at`), the API calls that make
 * requests, and PostgreSQL itself — pg_auth_members watched for a sample of grants, to check the audit's
 * moments against the database.
 */
import type { Client as PgClient } from 'pg';
import type { Store } from '../store';
import { loginOf, permissionOf, roleOf, type Pair } from './people';
import { sleep } from './stats';

/** The audit events the bench reads, by short name. */
const TYPES = {
  'request.requested': 'requested',
  'request.approval': 'approval',
  'request.approved': 'approved',
  'request.granting': 'granting',
  'request.granted': 'granted',
  'request.grant_failed': 'grantFailed',
  'request.revoking': 'revoking',
  'request.revoke_verified': 'verified',
  'request.revoked': 'revoked',
  'request.revoke_overdue': 'overdue',
} as const;
export type EventName = (typeof TYPES)[keyof typeof TYPES];
export type RequestEvents = Partial<Record<EventName, number>>;

/** Follows the audit table by sequence number and keeps, per request, when each event was recorded. */
export class AuditFollower {
  readonly events = new Map<string, RequestEvents>();
  private lastSeq = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly waiters = new Map<string, { event: EventName; resolve: (at: number) => void }[]>();
  private readonly listeners: ((id: string, event: EventName, at: number) => void)[] = [];
  /** Counts of each event seen, for progress lines. */
  readonly counts = Object.fromEntries(Object.values(TYPES).map((t) => [t, 0])) as Record<EventName, number>;

  constructor(
    private readonly store: Store,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.poll();
        } catch {
          // a failed read is retried on the next round
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  onEvent(fn: (id: string, event: EventName, at: number) => void): void {
    this.listeners.push(fn);
  }

  at(id: string, event: EventName): number | undefined {
    return this.events.get(id)?.[event];
  }

  /** When the request's event was recorded; undefined if not within `timeoutMs`. */
  waitFor(id: string, event: EventName, timeoutMs: number): Promise<number | undefined> {
    const known = this.at(id, event);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const entry = {
        event,
        resolve: (at: number) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(id) ?? [];
        this.waiters.set(
          id,
          list.filter((w) => w !== entry),
        );
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), entry]);
    });
  }

  private async poll(): Promise<void> {
    for (;;) {
      const rows = (await this.store
        .knex('audit_events')
        .where('seq', '>', this.lastSeq)
        .whereIn('type', Object.keys(TYPES))
        .orderBy('seq')
        .limit(5000)
        .select('seq', 'request_id', 'type', 'at')) as {
        seq: number | string;
        request_id: string | null;
        type: keyof typeof TYPES;
        at: string;
      }[];
      for (const r of rows) {
        this.lastSeq = Math.max(this.lastSeq, Number(r.seq));
        if (!r.request_id) continue;
        const event = TYPES[r.type];
        const at = Date.parse(r.at);
        const known = this.events.get(r.request_id) ?? {};
        if (known[event] !== undefined) continue;
        known[event] = at;
        this.events.set(r.request_id, known);
        this.counts[event]++;
        for (const fn of this.listeners) fn(r.request_id, event, at);
        const waiting = this.waiters.get(r.request_id);
        if (waiting) {
          for (const w of waiting.filter((x) => x.event === event)) w.resolve(at);
          const rest = waiting.filter((x) => x.event !== event);
          if (rest.length) this.waiters.set(r.request_id, rest);
          else this.waiters.delete(r.request_id);
        }
      }
      if (rows.length < 5000) return;
    }
  }
}

export interface Created {
  id?: string;
  status: number;
  /** When the POST was sent, and when its answer came (epoch ms). */
  sentAt: number;
  answeredAt: number;
  error?: string;
}

/** POST /api/v1/requests as the pair's person. */
export async function postRequest(
  apiUrl: string,
  token: string,
  flow: string,
  pair: Pair,
  durationMs: number,
): Promise<Created> {
  const sentAt = Date.now();
  try {
    const res = await fetch(`${apiUrl}/api/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        flow,
        resource: 'db',
        permission: permissionOf(pair.role),
        duration: `${Math.max(1000, Math.round(durationMs))}ms`,
        reason: 'bench',
      }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    const answeredAt = Date.now();
    let id: string | undefined;
    try {
      id = (JSON.parse(text) as { request?: { id?: string } }).request?.id;
    } catch {
      // not JSON: kept as the error
    }
    if (res.status !== 201 || !id)
      return { status: res.status, sentAt, answeredAt, error: text.slice(0, 300) };
    return { id, status: res.status, sentAt, answeredAt };
  } catch (err) {
    return { status: 0, sentAt, answeredAt: Date.now(), error: String(err) };
  }
}

const pairKey = (login: string, role: string) => `${login}|${role}`;

/** Which of these pairs are members now, straight from pg_auth_members. */
export async function membersNow(target: PgClient, pairs: readonly Pair[]): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const { rows } = await target.query<{ login: string; role: string }>(
    `select u.rolname as login, r.rolname as role
       from pg_auth_members m
       join pg_roles r on r.oid = m.roleid
       join pg_roles u on u.oid = m.member
      where r.rolname = any($1) and u.rolname = any($2)`,
    [[...new Set(pairs.map((p) => roleOf(p.role)))], [...new Set(pairs.map((p) => loginOf(p.person)))]],
  );
  const wanted = new Set(pairs.map((p) => pairKey(loginOf(p.person), roleOf(p.role))));
  return new Set(rows.map((r) => pairKey(r.login, r.role)).filter((k) => wanted.has(k)));
}

export function isMember(members: Set<string>, p: Pair): boolean {
  return members.has(pairKey(loginOf(p.person), roleOf(p.role)));
}

/** Every membership of a bench role that exists now (a full check after a scenario has drained). */
export async function allBenchMemberships(target: PgClient): Promise<Set<string>> {
  const { rows } = await target.query<{ login: string; role: string }>(
    `select u.rolname as login, r.rolname as role
       from pg_auth_members m
       join pg_roles r on r.oid = m.roleid
       join pg_roles u on u.oid = m.member
      where r.rolname like 'bench\\_role\\_%'`,
  );
  return new Set(rows.map((r) => pairKey(r.login, r.role)));
}

interface Watch {
  pair: Pair;
  want: 'present' | 'absent';
  from: number;
  resolve: (at: number | undefined) => void;
  until: number;
}

/**
 * Polls pg_auth_members for a few pairs (one query for all, every `intervalMs`) and tells when each reached
 * the state wanted: the database's own view of when a grant or a revoke took effect, to hold the audit's
 * moments against.
 */
export class MembershipWatcher {
  private watches: Watch[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly target: PgClient,
    readonly intervalMs = 20,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const now = Date.now();
        const due = this.watches.filter((w) => w.from <= now);
        if (due.length) {
          try {
            const members = await membersNow(
              this.target,
              due.map((w) => w.pair),
            );
            const seenAt = Date.now();
            for (const w of due) {
              const member = isMember(members, w.pair);
              if ((w.want === 'present') === member) this.finish(w, seenAt);
              else if (seenAt > w.until) this.finish(w, undefined);
            }
          } catch {
            // retried on the next round
          }
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const w of this.watches) w.resolve(undefined);
    this.watches = [];
  }

  /** When the pair was first seen in the state wanted (from `from` on), or undefined after `timeoutMs`. */
  watch(pair: Pair, want: 'present' | 'absent', from = Date.now(), timeoutMs = 120_000) {
    return new Promise<number | undefined>((resolve) => {
      this.watches.push({ pair, want, from, resolve, until: from + timeoutMs });
    });
  }

  private finish(w: Watch, at: number | undefined): void {
    this.watches = this.watches.filter((x) => x !== w);
    w.resolve(at);
  }
}

/** expires_at and granted_at of requests, from the requests index. */
export async function requestTimes(
  store: Store,
  ids: readonly string[],
): Promise<Map<string, { expiresAt?: number; grantedAt?: number; status: string }>> {
  const out = new Map<string, { expiresAt?: number; grantedAt?: number; status: string }>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await store
      .knex('requests')
      .whereIn('id', ids.slice(i, i + 500))
      .select('id', 'expires_at', 'granted_at', 'status')) as {
      id: string;
      expires_at: string | null;
      granted_at: string | null;
      status: string;
    }[];
    for (const r of rows)
      out.set(r.id, {
        expiresAt: r.expires_at ? Date.parse(r.expires_at) : undefined,
        grantedAt: r.granted_at ? Date.parse(r.granted_at) : undefined,
        status: r.status,
      });
  }
  return out;
}

export interface LockWaits {
  samples: number;
  /** Mean and most store sessions seen waiting for the audit lock at once. */
  meanWaiting: number;
  maxWaiting: number;
  /** Share of samples with at least one session waiting for it. */
  shareWaiting: number;
  /** Mean sessions waiting for any other advisory lock (the per-access locks). */
  meanOtherWaiting: number;
  /** Store sessions open (mean, most) and of those, idle inside a transaction (mean, most). */
  meanStoreSessions: number;
  maxStoreSessions: number;
  meanIdleInTransaction: number;
  maxIdleInTransaction: number;
  /** Sessions of the target database running a statement (the connector's; mean, most). */
  meanTargetActive: number;
  maxTargetActive: number;
}

interface Tally {
  sum: number;
  max: number;
}

/**
 * Samples, every `intervalMs`, the store's database (PostgreSQL store only): sessions waiting in pg_locks for the
 * store's global `audit` advisory lock (every audit append takes it, store/knex-store.ts) and for any other
 * advisory lock, and sessions open and idle inside a transaction (pg_stat_activity); and the target database's
 * sessions running a statement.
 */
export class LockSampler {
  private t: Record<string, Tally> = {};
  private withWaits = 0;
  private n = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly target: PgClient,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    if (this.store.dialect !== 'postgres') return;
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const { rows } = (await this.store.knex.raw(
            `select
               (select count(*)::int from pg_locks l where l.locktype = 'advisory' and not l.granted
                  and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('audit', 0)) as audit,
               (select count(*)::int from pg_locks l where l.locktype = 'advisory' and not l.granted
                  and ((l.classid::bigint << 32) | l.objid::bigint) <> hashtextextended('audit', 0)) as other,
               (select count(*)::int from pg_stat_activity
                 where datname = current_database() and pid <> pg_backend_pid()) as sessions,
               (select count(*)::int from pg_stat_activity
                 where datname = current_database() and state = 'idle in transaction') as idle_tx`,
          )) as { rows: { audit: number; other: number; sessions: number; idle_tx: number }[] };
          const target = await this.target.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
              where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`,
          );
          const r = rows[0];
          if (!r) continue;
          this.add('audit', r.audit);
          this.add('other', r.other);
          this.add('sessions', r.sessions);
          this.add('idleTx', r.idle_tx);
          this.add('targetActive', target.rows[0]?.n ?? 0);
          if (r.audit > 0) this.withWaits++;
          this.n++;
        } catch {
          // a failed sample is skipped
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  private add(key: string, v: number): void {
    const t = (this.t[key] ??= { sum: 0, max: 0 });
    t.sum += v;
    t.max = Math.max(t.max, v);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** What was seen since the last call (undefined with a SQLite store). */
  take(): LockWaits | undefined {
    if (this.store.dialect !== 'postgres') return undefined;
    const mean = (k: string) => (this.n ? Math.round(((this.t[k]?.sum ?? 0) / this.n) * 100) / 100 : 0);
    const max = (k: string) => this.t[k]?.max ?? 0;
    const out: LockWaits = {
      samples: this.n,
      meanWaiting: mean('audit'),
      maxWaiting: max('audit'),
      shareWaiting: this.n ? Math.round((this.withWaits / this.n) * 1000) / 1000 : 0,
      meanOtherWaiting: mean('other'),
      meanStoreSessions: mean('sessions'),
      maxStoreSessions: max('sessions'),
      meanIdleInTransaction: mean('idleTx'),
      maxIdleInTransaction: max('idleTx'),
      meanTargetActive: mean('targetActive'),
      maxTargetActive: max('targetActive'),
    };
    this.t = {};
    this.withWaits = this.n = 0;
    return out;
  }
}
