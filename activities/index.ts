/**
 * Activities: the only code that touches the world on a request's behalf. Built by a factory over their
 * dependencies, so that the worker wires real clients and tests can wire their own.
 * Observability: every line they log is bound to the request (requestId, workflowId, activity, attempt); each
 * audit event written logs one line and feeds the request metrics once, however often the activity is retried
 * (only events the audit insert reports as new count); failed grant and revoke attempts are counted by integration.
 */
import { Context, ApplicationFailure } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ConnectorRegistry, AccessTarget } from '../connectors/types';
import type { Notifier } from '../chat-adapters/notifier';
import type { RequestRow, Store } from '../store/types';
import { APPROVAL_OUTCOMES, type ApprovalOutcome, type Metrics } from '../core/metrics';
import type { CredentialVault } from '../core/credentials';
import { FINAL_STATUSES } from '../workflows/definitions';
import type {
  GrantAccessInput,
  GrantAccessResult,
  NotifyAllInput,
  NotifyInput,
  RecordEventInput,
  RecordEventsInput,
  RevokeAccessInput,
  RevokeAccessResult,
  RevokeOverdueInput,
} from './types';
import { createReconcileActivities } from './reconcile';

export interface ActivityDeps {
  store: Store;
  connectors: ConnectorRegistry;
  notifier: Notifier;
  log: Logger;
  metrics?: Metrics;
  /** Keeps the sign-in a grant made (temporary users) for its requester alone. */
  credentials: CredentialVault;
  /** Admin emails to alert when a revoke keeps failing. */
  adminAlerts: () => Parameters<Notifier['alert']>[0];
}

/** One piece of access, as the key its holders and lock are kept under (unambiguous, and valid text everywhere). */
export function accessKey(target: AccessTarget): string {
  return JSON.stringify([target.integration, target.account, target.permission]);
}

export function createActivities(deps: ActivityDeps) {
  const { store, connectors, notifier, log } = deps;
  if (deps.metrics) notifier.countErrorsIn(deps.metrics);

  /** The logger of the running activity, bound to its request, workflow and attempt. */
  function requestLog(requestId: string): Logger {
    const info = activityInfo();
    return log.child(
      info
        ? {
            requestId,
            workflowId: info.workflowExecution?.workflowId,
            activity: info.activityType,
            attempt: info.attempt,
          }
        : { requestId },
    );
  }

  /**
   * Writes a request's events to the audit trail (one transaction), then its index row; logs and counts each
   * event the first time it is written (final states, time to access, approval wait).
   * With `ifNew`, events written before (by an earlier attempt) leave the index alone: it may have moved on since
   * (a retried revoke's REVOKING must not undo REVOKE_OVERDUE).
   */
  async function writeEvents(
    { requestId, events, index }: RecordEventsInput,
    { ifNew = false, alog = requestLog(requestId) }: { ifNew?: boolean; alog?: Logger } = {},
  ): Promise<void> {
    const written = await store.appendAuditEvents(
      events.map((e) => ({
        eventKey: e.eventKey,
        type: `request.${e.type}`,
        actor: e.actor,
        requestId,
        channel: e.channel,
        details: e.details,
        at: e.at === undefined ? undefined : new Date(e.at),
      })),
    );
    // Told and counted now, before anything else can fail: a retry finds these events written and skips them.
    const fresh = events.filter((_, i) => written[i]?.inserted);
    for (const e of fresh)
      alog.info(
        { event: e.type, actor: e.actor, channel: e.channel, status: index?.status },
        `request ${e.type}`,
      );
    await observe(requestId, fresh, index, alog);
    if (!index || (ifNew && fresh.length === 0)) return;
    const patch = Object.fromEntries(Object.entries(index).filter(([, v]) => v !== undefined));
    await store.updateRequest(requestId, { ...patch, updatedAt: new Date().toISOString() });
  }

  /**
   * Feeds the request metrics from events written for the first time: a final state (when the index moves to it
   * with its event), the time from the request to its grant, and the wait for a decision. Never throws: a metric
   * must not fail (and so repeat) the work it describes.
   */
  async function observe(
    requestId: string,
    fresh: RecordEventsInput['events'],
    index: RecordEventsInput['index'],
    alog: Logger,
  ): Promise<void> {
    const m = deps.metrics;
    const status = index?.status;
    const final = status && FINAL_STATUSES.includes(status) ? status : undefined;
    const counted = fresh.filter(
      (e) =>
        e.type === 'granted' ||
        (final !== undefined && e.type === final.toLowerCase()) ||
        (isApprovalOutcome(e.type) && e.details.autoApprove !== true),
    );
    if (!m || counted.length === 0) return;
    try {
      const row = await store.getRequest(requestId);
      const flow = row?.flow ?? 'unknown';
      for (const e of counted) {
        if (final !== undefined && e.type === final.toLowerCase())
          m.requestsFinal.inc({ flow, state: final });
        const seconds =
          row && secondsSince(row, e.at ?? (e.type === 'granted' ? index?.grantedAt : undefined));
        if (!row || seconds === undefined) continue;
        // Nobody decided an auto-approved request: its index row names no approver.
        if (e.type === 'granted')
          m.timeToAccess.observe({ flow, auto: String(!(index?.decidedBy ?? row.decidedBy)) }, seconds);
        else if (isApprovalOutcome(e.type)) m.approvalWait.observe({ flow, outcome: e.type }, seconds);
      }
    } catch (err) {
      alog.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'could not update the request metrics',
      );
    }
  }

  async function recordEvent({ requestId, index, ...event }: RecordEventInput): Promise<void> {
    await writeEvents({ requestId, events: [event], index });
  }

  /** The batched form the workflow uses since the off-path-effects patch. */
  async function recordEvents(input: RecordEventsInput): Promise<void> {
    await writeEvents(input);
  }

  async function notify(input: NotifyInput): Promise<void> {
    await notifier.publish(input.message, input.targets, requestLog(input.message.requestId));
  }

  /** Each message in turn; the last one leaves every earlier message about the request up to date. */
  async function notifyAll(input: NotifyAllInput): Promise<void> {
    const first = input.messages[0];
    const alog = first ? requestLog(first.requestId) : log;
    await notifier.publishAll(input.messages, input.targets, alog);
  }

  async function grantAccess(input: GrantAccessInput): Promise<GrantAccessResult> {
    const alog = requestLog(input.requestId);
    const connector = connectors.get(input.target.integration);
    const ref = { target: input.target, requestId: input.requestId };
    const now = Date.now();
    const expiresAt = new Date(now + input.durationMs);
    const latestEnd = new Date(now + Math.max(input.durationMs, input.maxTotalDurationMs ?? 0));
    const doGrant = async () => {
      const result = await connector.grant({ ...ref, expiresAt, latestEnd });
      const verified = connector.check ? (await connector.check(ref)).exists : undefined;
      if (verified === false)
        throw new Error(
          `grant did not take effect: ${input.target.account} lacks ${input.target.permission}`,
        );
      // The sign-in goes to the requester alone; the activity returns (and history records) only that it exists.
      if (result.credentials)
        await deps.credentials.keep({
          requestId: input.requestId,
          requester: input.requester ?? '',
          credentials: result.credentials,
          expiresAt: latestEnd,
        });
      return {
        details: {
          ...result.details,
          verified: verified ?? 'not verifiable',
          ...(result.credentials ? { credentials: 'kept for the requester' } : {}),
        },
        credentials: result.credentials !== undefined,
      };
    };
    // Access exists from here: the audit says so at once, with the moment it began.
    const own = input.events;
    const granted = async (result: GrantAccessResult): Promise<GrantAccessResult> => {
      alog.info(
        { ...input.target, alreadyHeld: result.alreadyHeld, grantedAt: result.grantedAt },
        'access granted',
      );
      if (!own?.done) return result;
      await writeEvents(
        {
          requestId: input.requestId,
          events: [
            {
              ...own.done,
              details: { ...own.done.details, alreadyHeld: result.alreadyHeld, ...result.details },
              at: result.grantedAt,
            },
          ],
          index: {
            status: 'ACTIVE',
            grantedAt: result.grantedAt,
            expiresAt: new Date(Date.parse(result.grantedAt) + input.durationMs).toISOString(),
            decidedBy: own.index.decidedBy,
          },
        },
        { alog },
      );
      return result;
    };
    try {
      if (own)
        await writeEvents(
          { requestId: input.requestId, events: own.before, index: own.index },
          { ifNew: true, alog },
        );
      if (!connector.sharesAccess) {
        const { details, credentials } = await doGrant();
        return await granted({
          alreadyHeld: false,
          details,
          credentials,
          grantedAt: new Date().toISOString(),
        });
      }
      const outcome = await store.withAccessLock(accessKey(input.target), async (holders) => {
        const held = await holders.list();
        const alreadyHeld = held.some((id) => id !== input.requestId);
        // Granting is idempotent, so it runs even when held: access removed outside Grantflow comes back.
        const { details, credentials } = await doGrant();
        // The holder lasts as long as the grant may (with every extension), so no other revoke counts it gone early.
        await holders.add(input.requestId, latestEnd);
        return { alreadyHeld, details, credentials };
      });
      // The clock starts once the grant and its holder row have committed.
      return await granted({ ...outcome, grantedAt: new Date().toISOString() });
    } catch (err) {
      deps.metrics?.grantFailures.inc({ integration: input.target.integration });
      alog.warn({ ...input.target, err: err instanceof Error ? err.message : String(err) }, 'grant failed');
      throw asFailure(err);
    }
  }

  async function revokeAccess(input: RevokeAccessInput): Promise<RevokeAccessResult> {
    const connector = connectors.get(input.target.integration);
    const ref = { target: input.target, requestId: input.requestId };
    const attempt = Context.current().info.attempt;
    const alog = requestLog(input.requestId);
    const doRevoke = async (): Promise<RevokeAccessResult> => {
      const startedAt = new Date();
      const result = await connector.revoke(ref);
      const verification = await verifyRevoked(input, startedAt);
      return {
        revoked: true,
        heldBy: [],
        sessionsTerminated: result.sessionsTerminated,
        verified: verification,
        revokedAt: new Date().toISOString(),
      };
    };
    try {
      const own = input.events;
      if (own)
        await writeEvents(
          { requestId: input.requestId, events: own.before, index: own.index },
          { ifNew: true, alog },
        );
      const outcome = connector.sharesAccess
        ? await store.withAccessLock(accessKey(input.target), async (holders) => {
            await holders.remove(input.requestId);
            const heldBy = await holders.list();
            if (heldBy.length > 0)
              return {
                revoked: false,
                heldBy,
                sessionsTerminated: 0,
                verified: 'still held by another request' as const,
                revokedAt: new Date().toISOString(),
              };
            return doRevoke();
          })
        : await doRevoke();
      await deps.credentials.forget(input.requestId);
      alog.info(
        {
          ...input.target,
          revoked: outcome.revoked,
          heldBy: outcome.heldBy.length,
          sessionsTerminated: outcome.sessionsTerminated,
          verified: outcome.verified,
        },
        outcome.revoked ? 'access revoked' : 'access kept for its other holders',
      );
      if (own?.done) {
        // Overdue as the workflow counts it: longer than allowed since the revoke was first scheduled.
        const since = Date.now() - Context.current().info.scheduledTimestampMs;
        const overdue = input.overdueAfterMs !== undefined && since > input.overdueAfterMs;
        await writeEvents(
          {
            requestId: input.requestId,
            events: [
              { ...own.done, details: { ...own.done.details, ...outcome, overdue }, at: outcome.revokedAt },
            ],
            index: { status: 'REVOKED' },
          },
          { alog },
        );
      }
      return outcome;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      deps.metrics?.revokeFailures.inc({ integration: input.target.integration });
      alog.warn({ ...input.target, err: message }, 'revoke failed; it will be retried');
      if (attempt % input.alertAfterAttempts === 0) await alertRevokeFailing(input, attempt, message, alog);
      throw err;
    }
  }

  /**
   * Looks through the connector that the access is gone and no session that started before the revoke is left;
   * writes the result to the audit log. Throws (so the revoke is retried) when access remains.
   */
  async function verifyRevoked(
    input: RevokeAccessInput,
    startedAt: Date,
  ): Promise<boolean | 'not verifiable'> {
    const connector = connectors.get(input.target.integration);
    const ref = { target: input.target, requestId: input.requestId };
    const base = { actor: 'grantflow', requestId: input.requestId, channel: 'workflow' };
    if (!connector.check) {
      await store.appendAudit({
        ...base,
        eventKey: `${input.requestId}:revoke-verification`,
        type: 'request.revoke_unverifiable',
        details: { connector: connector.type, why: 'the connector cannot list access' },
      });
      return 'not verifiable';
    }
    const seen = await connector.check(ref, { sessionsBefore: startedAt });
    if (seen.exists || seen.liveSessions > 0)
      throw new Error(
        `revoke did not take effect: ${seen.exists ? `${input.target.account} still has ${input.target.permission}` : ''}` +
          `${seen.exists && seen.liveSessions ? ' and ' : ''}${seen.liveSessions ? `${seen.liveSessions} session(s) remain` : ''}`,
      );
    await store.appendAudit({
      ...base,
      eventKey: `${input.requestId}:revoke-verification`,
      type: 'request.revoke_verified',
      details: { accessExists: false, liveSessions: 0, checkedAt: new Date().toISOString() },
    });
    return true;
  }

  /** The revoke is past its overdue threshold and still failing: tell the admins (the workflow keeps retrying). */
  async function alertRevokeOverdue(input: RevokeOverdueInput): Promise<void> {
    await store.appendAudit({
      eventKey: `${input.requestId}:alert:revoke-overdue`,
      type: 'alert.revoke_overdue',
      actor: 'grantflow',
      requestId: input.requestId,
      channel: 'workflow',
      details: { target: input.target, overdueAfterMs: input.overdueAfterMs },
    });
    const alog = requestLog(input.requestId);
    alog.error({ ...input.target, overdueAfterMs: input.overdueAfterMs }, 'revoke overdue');
    await notifier.alert(
      deps.adminAlerts(),
      {
        requestId: input.requestId,
        text:
          `REVOKE OVERDUE: ${input.target.permission} on ${input.target.integration} for ${input.requester} ` +
          `is still not revoked ${Math.round(input.overdueAfterMs / 1000)} s after it was due; Grantflow keeps retrying.`,
      },
      alog,
    );
  }

  async function alertRevokeFailing(
    input: RevokeAccessInput,
    attempt: number,
    error: string,
    alog: Logger,
  ): Promise<void> {
    try {
      await store.appendAudit({
        eventKey: `${input.requestId}:alert:revoke-failing:${attempt}`,
        type: 'alert.revoke_failing',
        actor: 'grantflow',
        requestId: input.requestId,
        channel: 'workflow',
        details: { attempt, error, target: input.target },
      });
      await notifier.alert(
        deps.adminAlerts(),
        {
          requestId: input.requestId,
          text: `Revoke of ${input.target.permission} on ${input.target.integration} for ${input.requester} has failed ${attempt} times and is still being retried: ${error}`,
        },
        alog,
      );
    } catch (err) {
      alog.error({ err: String(err) }, 'could not raise the revoke alert');
    }
  }

  return {
    recordEvent,
    recordEvents,
    notify,
    notifyAll,
    grantAccess,
    revokeAccess,
    alertRevokeOverdue,
    ...createReconcileActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** The running activity's info; undefined outside an activity (code called directly, e.g. by a test). */
function activityInfo(): Context['info'] | undefined {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
}

function isApprovalOutcome(type: string): type is ApprovalOutcome {
  return (APPROVAL_OUTCOMES as readonly string[]).includes(type);
}

/** Seconds from the request's creation to `at` (default now); undefined when either time is unreadable. */
function secondsSince(row: RequestRow, at: string | undefined): number | undefined {
  const from = Date.parse(row.createdAt);
  const to = at === undefined ? Date.now() : Date.parse(at);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return undefined;
  return Math.max(0, to - from) / 1000;
}

/** Errors a connector marks as not retryable fail the activity at once instead of being retried. */
function asFailure(err: unknown): unknown {
  if (err instanceof Error && (err as { retryable?: boolean }).retryable === false) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.name,
      nonRetryable: true,
      cause: err,
    });
  }
  return err;
}
