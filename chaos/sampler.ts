/**
 * The session sampler: while grants are ACTIVE it signs in as their people now and then (real sessions, straight
 * to PostgreSQL) and notes whether the grant's role is really there; some sessions are kept open across the
 * revoke, to see that revoking ends them. It also probes people whose requests for a role are all final: such a
 * person must not be a member of that role.
 */
import { Client as PgClient } from 'pg';
import { FINAL_STATUSES } from '../workflows/definitions';
import type { LoadState, TrackedRequest } from './load';
import type { ChaosOptions } from './options';
import { loginOf, type Permission } from './plan';
import type { Random } from './prng';
import { ROLE_OF, type ChaosStack } from './stack';

export interface Observation {
  requestId: string;
  person: string;
  permission: Permission;
  /** Before the session was opened, and after it answered. */
  t0: number;
  t1: number;
  member: boolean;
  canRead: boolean;
  kept: boolean;
}

export interface KeptSession {
  requestId: string;
  person: string;
  openedAt: number;
  endedAt?: number;
  endReason?: string;
  client: PgClient;
}

export interface LeakProbe {
  person: string;
  permission: Permission;
  at: number;
  member: boolean;
  requestIds: string[];
}

const MAX_KEPT = 40;
const KEEP_CHANCE = 0.35;
const SAMPLES_PER_TICK = 2;

export class SessionSampler {
  readonly observations: Observation[] = [];
  readonly kept: KeptSession[] = [];
  readonly leakProbes: LeakProbe[] = [];
  readonly errors: string[] = [];
  private loop: Promise<void> | undefined;
  private stopping = false;
  private admin: PgClient | undefined;

  constructor(
    private readonly stack: ChaosStack,
    private readonly load: LoadState,
    private readonly rnd: Random,
    private readonly o: ChaosOptions,
  ) {}

  async start(): Promise<void> {
    this.admin = new PgClient({ connectionString: this.stack.targetUrl });
    this.admin.on('error', (err) => this.errors.push(`admin connection: ${err.message}`));
    await this.admin.connect();
    this.loop = (async () => {
      while (!this.stopping) {
        try {
          await this.tick();
        } catch (err) {
          this.errors.push(String(err));
        }
        await sleep(this.o.sampleEveryMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.admin?.end().catch(() => undefined);
  }

  /** Whether each kept session is still alive (a query answers); those that are not are marked ended. */
  async refreshKept(): Promise<void> {
    for (const s of this.kept) {
      if (s.endedAt !== undefined) continue;
      try {
        await s.client.query('select 1');
      } catch (err) {
        s.endedAt ??= Date.now();
        s.endReason ??= String(err);
      }
    }
  }

  async closeKept(): Promise<void> {
    for (const s of this.kept) await s.client.end().catch(() => undefined);
  }

  private byId(): Map<string, TrackedRequest> {
    return new Map(this.load.tracked.filter((t) => t.id).map((t) => [t.id as string, t]));
  }

  private async tick(): Promise<void> {
    const tracked = this.byId();
    const active = (await this.stack.store.listRequests({ status: 'ACTIVE', limit: 10_000 })).filter((r) => {
      const t = tracked.get(r.id);
      return t && !t.plan.ghost;
    });
    for (const row of this.rnd.shuffle(active).slice(0, SAMPLES_PER_TICK)) {
      const t = tracked.get(row.id) as TrackedRequest;
      await this.observe(t);
    }
    await this.probeLeak();
  }

  private async observe(t: TrackedRequest): Promise<void> {
    const { person, permission } = t.plan;
    const t0 = Date.now();
    const client = new PgClient({
      connectionString: this.stack.personUrl(person),
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ member: boolean; can_read: boolean }>(
        `select pg_has_role(current_user, $1, 'MEMBER') as member, has_table_privilege('incidents', 'SELECT') as can_read`,
        [ROLE_OF[permission]],
      );
      const t1 = Date.now();
      const member = rows[0]?.member === true;
      const keep =
        member &&
        this.kept.filter((s) => s.endedAt === undefined).length < MAX_KEPT &&
        this.rnd.chance(KEEP_CHANCE);
      this.observations.push({
        requestId: t.id as string,
        person,
        permission,
        t0,
        t1,
        member,
        canRead: rows[0]?.can_read === true,
        kept: keep,
      });
      if (keep) {
        const session: KeptSession = { requestId: t.id as string, person, openedAt: t0, client };
        const ended = (reason: string) => {
          session.endedAt ??= Date.now();
          session.endReason ??= reason;
        };
        client.on('error', (err) => ended(err.message));
        client.on('end', () => ended('connection closed'));
        this.kept.push(session);
        return;
      }
    } catch (err) {
      this.errors.push(`session as ${person}: ${String(err)}`);
    }
    await client.end().catch(() => undefined);
  }

  /** A person and role whose requests are all final (none being made): the person must not hold the role. */
  private async probeLeak(): Promise<void> {
    const groups = new Map<string, TrackedRequest[]>();
    for (const t of this.load.tracked) {
      if (t.plan.ghost) continue;
      const key = `${t.plan.person}/${t.plan.permission}`;
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    const candidates = [...groups.values()].filter(
      (ts) => ts.some((t) => t.id) && ts.every((t) => !t.creating),
    );
    if (candidates.length === 0 || !this.admin) return;
    const group = this.rnd.pick(candidates);
    const snapshot = () => group.map((t) => `${t.id ?? '-'}:${t.creating}`).join(',');
    const before = snapshot();
    const ids = group.filter((t) => t.id).map((t) => t.id as string);
    const rows = await Promise.all(ids.map((id) => this.stack.store.getRequest(id)));
    if (!rows.every((r) => r && FINAL_STATUSES.includes(r.status))) return;
    const { person, permission } = group[0].plan;
    const { rows: m } = await this.admin.query<{ n: number }>(
      `select count(*)::int as n from pg_auth_members am join pg_roles r on r.oid = am.roleid
       join pg_roles u on u.oid = am.member where r.rolname = $1 and u.rolname = $2`,
      [ROLE_OF[permission], loginOf(person)],
    );
    if (snapshot() !== before) return; // a request was made meanwhile: no verdict
    this.leakProbes.push({ person, permission, at: Date.now(), member: (m[0]?.n ?? 0) > 0, requestIds: ids });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
