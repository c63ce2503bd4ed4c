/**
 * Activities: the only code that touches the world on a request's behalf. Built by a factory over their
 * dependencies, so that the worker wires real clients and tests can wire their own.
 */
import { Context, ApplicationFailure } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { ConnectorRegistry, AccessTarget } from '../connectors/types';
import type { Notifier } from '../chat-adapters/notifier';
import type { Store } from '../store/types';
import type { Metrics } from '../core/metrics';
import { FINAL_STATUSES } from '../workflows/definitions';
import type {
  GrantAccessInput,
  GrantAccessResult,
  NotifyInput,
  RecordEventInput,
  RevokeAccessInput,
  RevokeAccessResult,
} from './types';

export interface ActivityDeps {
  store: Store;
  connectors: ConnectorRegistry;
  notifier: Notifier;
  log: Logger;
  metrics?: Metrics;
  /** Admin emails to alert when a revoke keeps failing. */
  adminAlerts: () => Parameters<Notifier['alert']>[0];
}

/** One piece of access, as the key its holders and lock are kept under (unambiguous, and valid text everywhere). */
export function accessKey(target: AccessTarget): string {
  return JSON.stringify([target.integration, target.account, target.permission]);
}

export function createActivities(deps: ActivityDeps) {
  const { store, connectors, notifier, log } = deps;

  async function recordEvent(e: RecordEventInput): Promise<void> {
    await store.appendAudit({
      eventKey: e.eventKey,
      type: `request.${e.type}`,
      actor: e.actor,
      requestId: e.requestId,
      channel: e.channel,
      details: e.details,
    });
    if (e.index) {
      const patch = Object.fromEntries(Object.entries(e.index).filter(([, v]) => v !== undefined));
      await store.updateRequest(e.requestId, { ...patch, updatedAt: new Date().toISOString() });
      if (
        e.index.status &&
        FINAL_STATUSES.includes(e.index.status) &&
        e.type === e.index.status.toLowerCase()
      )
        deps.metrics?.requestsFinal.inc({ state: e.index.status });
    }
  }

  async function notify(input: NotifyInput): Promise<void> {
    await notifier.publish(input.message, input.targets);
  }

  async function grantAccess(input: GrantAccessInput): Promise<GrantAccessResult> {
    const connector = connectors.get(input.target.integration);
    try {
      const outcome = await store.withAccessLock(accessKey(input.target), async (holders) => {
        const held = await holders.list();
        const alreadyHeld = held.some((id) => id !== input.requestId);
        // Granting is idempotent, so it runs even when held: access removed outside Grantflow comes back.
        const result = await connector.grant({
          target: input.target,
          requestId: input.requestId,
          expiresAt: new Date(Date.now() + input.durationMs),
        });
        if (!(await connector.hasAccess(input.target)))
          throw new Error(
            `grant did not take effect: ${input.target.account} lacks ${input.target.permission}`,
          );
        await holders.add(input.requestId, new Date(Date.now() + input.durationMs));
        return { alreadyHeld, details: result.details };
      });
      // The clock starts once the grant and its holder row have committed.
      return { ...outcome, grantedAt: new Date().toISOString() };
    } catch (err) {
      throw asFailure(err);
    }
  }

  async function revokeAccess(input: RevokeAccessInput): Promise<RevokeAccessResult> {
    const connector = connectors.get(input.target.integration);
    const attempt = Context.current().info.attempt;
    try {
      return await store.withAccessLock(accessKey(input.target), async (holders) => {
        await holders.remove(input.requestId);
        const heldBy = await holders.list();
        if (heldBy.length > 0) {
          return { revoked: false, heldBy, sessionsTerminated: 0, revokedAt: new Date().toISOString() };
        }
        const result = await connector.revoke({ target: input.target, requestId: input.requestId });
        if (await connector.hasAccess(input.target))
          throw new Error(
            `revoke did not take effect: ${input.target.account} still has ${input.target.permission}`,
          );
        return {
          revoked: true,
          heldBy,
          sessionsTerminated: result.sessionsTerminated,
          revokedAt: new Date().toISOString(),
        };
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ requestId: input.requestId, attempt, err: message }, 'revoke failed; it will be retried');
      if (attempt % input.alertAfterAttempts === 0) await alertRevokeFailing(input, attempt, message);
      throw err;
    }
  }

  async function alertRevokeFailing(input: RevokeAccessInput, attempt: number, error: string): Promise<void> {
    try {
      await store.appendAudit({
        eventKey: `${input.requestId}:alert:revoke-failing:${attempt}`,
        type: 'alert.revoke_failing',
        actor: 'grantflow',
        requestId: input.requestId,
        channel: 'workflow',
        details: { attempt, error, target: input.target },
      });
      await notifier.alert(deps.adminAlerts(), {
        requestId: input.requestId,
        text: `Revoke of ${input.target.permission} on ${input.target.integration} for ${input.requester} has failed ${attempt} times and is still being retried: ${error}`,
      });
    } catch (err) {
      log.error({ requestId: input.requestId, err: String(err) }, 'could not raise the revoke alert');
    }
  }

  return { recordEvent, notify, grantAccess, revokeAccess };
}

export type Activities = ReturnType<typeof createActivities>;

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
