/**
 * What every scenario works with: the options, the stack, the pool of (person, role) pairs, the audit follower,
 * the membership watcher and the progress line; and the moves they share — make a grant through the API, make
 * many at a steady pace, wait until a set of grants has been revoked.
 */
import type { BenchOptions } from './options';
import {
  AuditFollower,
  LockSampler,
  MembershipWatcher,
  postRequest,
  type Created,
  type EventName,
} from './observe';
import { ADMIN, emailOf, FLOW_AUTO, type Pair, PairPool } from './people';
import { revokeRequest } from '../core/request-actions';
import { sampleProc } from './procs';
import type { BenchStack } from './stack';
import { closedLoop, sleep } from './stats';
import os from 'node:os';

export interface Grant extends Created {
  pair: Pair;
  /** Position in its scenario. */
  index: number;
  durationMs: number;
}

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private label = 'starting';
  private detail: () => string = () => '';
  private readonly t0 = Date.now();

  constructor(
    private readonly stack: () => BenchStack | undefined,
    private readonly everyMs: number,
    private readonly say: (line: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.say(this.line()), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  set(label: string, detail: () => string = () => ''): void {
    this.label = label;
    this.detail = detail;
  }

  line(): string {
    const s = Math.round((Date.now() - this.t0) / 1000);
    const clock = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    const pid = this.stack()?.worker.pid;
    const w = pid ? sampleProc(pid) : undefined;
    const worker = w ? ` | worker ${Math.round(w.rssBytes / 2 ** 20)} MiB` : '';
    let detail = '';
    try {
      detail = this.detail();
    } catch {
      // a progress line never fails the run
    }
    return `[bench ${clock}] ${this.label}${detail ? `: ${detail}` : ''}${worker} | load ${os.loadavg()[0].toFixed(2)}`;
  }
}

export class BenchContext {
  readonly pool: PairPool;
  readonly audit: AuditFollower;
  readonly watcher: MembershipWatcher;
  readonly locks: LockSampler;
  /** The pair of every request the bench made, by request id. */
  readonly pairs = new Map<string, Pair>();
  /** Grants per second committed when the system only makes grants (calibrated, then the best phase seen). */
  creationRps: number | undefined;

  constructor(
    readonly o: BenchOptions,
    readonly stack: BenchStack,
    pool: PairPool,
    readonly progress: Progress,
    readonly say: (line: string) => void,
  ) {
    this.pool = pool;
    this.audit = new AuditFollower(stack.store);
    this.watcher = new MembershipWatcher(stack.target);
    this.locks = new LockSampler(stack.store, stack.target);
    // A pair is free again once the request that held it is over.
    this.audit.onEvent((id, event) => {
      if (event !== 'revoked' && event !== 'grantFailed') return;
      const pair = this.pairs.get(id);
      if (pair) this.pool.release(pair);
    });
  }

  start(): void {
    this.audit.start();
    this.watcher.start();
    this.locks.start();
  }

  async stop(): Promise<void> {
    await this.locks.stop();
    await this.watcher.stop();
    await this.audit.stop();
  }

  noteCreationRate(rps: number): void {
    if (Number.isFinite(rps) && rps > 0) this.creationRps = Math.max(this.creationRps ?? 0, rps);
  }

  /** A pace of creation the system keeps up with: 80% of the creation rate seen. */
  creationRate(): number {
    return Math.max(1, Math.round((this.creationRps ?? this.o.create.defaultRps) * 0.8 * 10) / 10);
  }

  /**
   * Measures how fast grants can be made (a short burst of grants, as fast as the system takes them), so that
   * the revocation scenarios can plan their schedules; then revokes them and waits until they are gone.
   */
  async calibrate(): Promise<void> {
    if (this.creationRps !== undefined) return;
    const n = this.o.quick ? 20 : 200;
    // Long enough that no revoke runs while they are made; revoked early once measured.
    const durationMs = 3_600_000;
    this.progress.set(
      'calibrating: how fast can grants be made',
      () => `${this.audit.counts.granted} granted in all`,
    );
    const grants = await this.createPaced(n, 1_000, () => durationMs, undefined, 100);
    const ids = grants.flatMap((g) => (g.id ? [g.id] : []));
    await this.waitAll(ids, 'granted', 300_000, 60_000);
    const rate = this.observedRate(grants);
    this.noteCreationRate(rate);
    this.say(`bench: grants are made at up to ${rate.toFixed(1)}/s on this machine (calibration)`);
    await this.revokeNow(ids);
  }

  /** Grants committed per second over a phase: from the first request sent to the last grant. */
  observedRate(grants: readonly Grant[]): number {
    const granted = grants.flatMap((g) => (g.id ? [this.audit.at(g.id, 'granted') ?? Number.NaN] : []));
    const done = granted.filter((t) => Number.isFinite(t));
    if (done.length < 20) return Number.NaN;
    const first = Math.min(...grants.map((g) => g.sentAt));
    return done.length / ((Math.max(...done) - first) / 1000);
  }

  /** One request through the API for a fresh pair (the pair is given back if the request was refused). */
  async create(flow: string, durationMs: number, index: number, pair = this.pool.take()): Promise<Grant> {
    const token = this.stack.tokens.get(emailOf(pair.person));
    if (!token) throw new Error(`no API token for ${emailOf(pair.person)}`);
    const created = await postRequest(this.stack.apiUrl, token, flow, pair, durationMs);
    if (created.id) this.pairs.set(created.id, pair);
    else this.pool.release(pair);
    return { ...created, pair, index, durationMs };
  }

  /**
   * Makes `count` auto-approved grants at `rps` (never more than `o.create.concurrency` calls in flight, nor
   * more than `maxBacklog` requests made but not yet granted); `durationFor` gives each its duration at the
   * moment it is sent. A refused call is retried (it is not what this phase measures).
   */
  async createPaced(
    count: number,
    rps: number,
    durationFor: (index: number, now: number) => number,
    onGrant: (g: Grant) => void = () => undefined,
    maxBacklog = Math.max(50, rps * 10),
  ): Promise<Grant[]> {
    const out: Grant[] = [];
    const t0 = Date.now();
    let inFlight = 0;
    let next = 0;
    const granted = () => out.filter((g) => g.id && this.audit.at(g.id, 'granted') !== undefined).length;
    let grantedCount = 0;
    const running: Promise<void>[] = [];
    while (next < count) {
      const due = t0 + (next * 1000) / rps;
      if (Date.now() < due) await sleep(Math.min(50, due - Date.now()));
      if (Date.now() < due) continue;
      if (inFlight >= this.o.create.concurrency) {
        await sleep(5);
        continue;
      }
      if (out.length - grantedCount > maxBacklog) {
        grantedCount = granted();
        if (out.length - grantedCount > maxBacklog) {
          await sleep(100);
          continue;
        }
      }
      const index = next++;
      inFlight++;
      running.push(
        (async () => {
          try {
            for (let attempt = 1; ; attempt++) {
              const g = await this.create(FLOW_AUTO, durationFor(index, Date.now()), index);
              if (g.id || attempt >= 5) {
                out.push(g);
                onGrant(g);
                return;
              }
              await sleep(500 * attempt);
            }
          } finally {
            inFlight--;
          }
        })(),
      );
    }
    await Promise.all(running);
    return out.sort((a, b) => a.index - b.index);
  }

  /** Waits until each request has `event` (or failed to grant); returns those that did not in time. */
  async waitAll(ids: readonly string[], event: EventName, timeoutMs: number, stallMs = timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let lastProgress = Date.now();
    let lastLeft = Number.POSITIVE_INFINITY;
    for (;;) {
      const left = ids.filter(
        (id) => this.audit.at(id, event) === undefined && this.audit.at(id, 'grantFailed') === undefined,
      );
      if (left.length === 0) return [];
      if (left.length < lastLeft) {
        lastLeft = left.length;
        lastProgress = Date.now();
      }
      if (Date.now() > deadline || Date.now() - lastProgress > stallMs) return left;
      await sleep(200);
    }
  }

  /**
   * Ends grants early (the core's revoke, as an admin) and waits until they are revoked: a latency scenario's
   * grants last long enough that no revoke runs while it measures, and are cleared away right after.
   */
  async revokeNow(ids: readonly string[]): Promise<string[]> {
    const actor = { email: ADMIN, channel: 'bench' };
    let done = 0;
    this.progress.set('revoking the grants of the last scenario', () => `${done}/${ids.length}`);
    await closedLoop(ids.length, this.o.create.concurrency, async (i) => {
      await revokeRequest(this.stack.ctx, actor, ids[i], 'bench: scenario over', {
        updateId: `bench-revoke-${ids[i]}`,
      }).catch(() => undefined); // already revoking or revoked: the wait below tells
      done++;
    });
    return this.drain(ids, 300_000);
  }

  /** Waits until every grant made is revoked (or failed), so the next scenario starts on a quiet system. */
  async drain(ids: readonly string[], timeoutMs: number): Promise<string[]> {
    return this.waitAll(ids, 'revoked', timeoutMs, Math.min(timeoutMs, 120_000));
  }
}
