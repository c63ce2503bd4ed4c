/**
 * Drift reconciliation activities (docs/reconcile.md): what exists in a target system (the connector's listAccess)
 * against the grants Grantflow holds (access_holders and the requests index). Findings are `unbacked` (access no
 * grant backs) and `missing` (an ACTIVE grant whose access is gone); each is audited, and one alert sums a run up.
 * In `revoke` mode unbacked shared access is removed through the connector, under the same access locks that grants
 * and revokes take, and only for permissions the integration's config lists. Missing access is only reported.
 */
import type { GrantflowConfig, ReconcileMode } from '../config/types';
import type { AccessTarget, Connector, ExistingAccess } from '../connectors/types';
import type { RequestStatus } from '../chat-adapters/types';
import type { AccessHolderRow, RequestRow } from '../store/types';
import { FINAL_STATUSES } from '../workflows/definitions';
// A cycle with ./index (which spreads these activities); accessKey is only called at run time, never at load.
import { accessKey, type ActivityDeps } from './index';

export type DriftKind = 'unbacked' | 'missing';

/** One difference between a target system and Grantflow's grants. */
export interface DriftFinding {
  integration: string;
  kind: DriftKind;
  /** The account in the target (for temporary users, the user Grantflow made); absent when unknown. */
  account?: string;
  permission: string;
  /** The request the access belongs to, when known. */
  requestId?: string;
  /** What was done: `reported`, `removed`, `would remove` (dry run), or why it was left alone. */
  action: string;
}

/** One integration of a reconciliation, as the config says (see reconcilePlan). */
export interface ReconcilePlanEntry {
  integration: string;
  mode: ReconcileMode;
  /**
   * Each permission the config lists, with what carries it in the target (its config as canonical JSON):
   * permissions with the same carrier (two names for one role) are one piece of access.
   */
  permissions: Record<string, string>;
  /**
   * The people's accounts in the integration (identities[].accounts): revoke mode removes only their access, so
   * service accounts, and Grantflow's own account (a member of the roles it grants, WITH ADMIN OPTION), are
   * reported but never touched.
   */
  accounts: string[];
}

export interface ReconcileIntegrationInput extends ReconcilePlanEntry {
  /** Report what would be removed, remove nothing. */
  dryRun: boolean;
  /** Names the run in audit event keys, so that a retried activity writes each event once. */
  runId: string;
  /** Where the run came from: `workflow` (the Schedule) or `cli`. */
  channel: string;
}

export interface IntegrationDrift {
  integration: string;
  mode: ReconcileMode;
  dryRun: boolean;
  /** False when the connector cannot list access (webhook): nothing was compared. */
  checked: boolean;
  /** Why it was not checked. */
  note?: string;
  findings: DriftFinding[];
  /** Set when the integration could not be reconciled (the target unreachable, say). */
  error?: string;
}

export interface DriftAlertInput {
  runId: string;
  channel: string;
  results: IntegrationDrift[];
}

/** Requests whose grant may exist now, or is about to: their access is backed. */
const FINAL: readonly RequestStatus[] = FINAL_STATUSES;
const isLive = (status: RequestStatus | undefined) => status !== undefined && !FINAL.includes(status);
/** More live grants of one integration than this and the run refuses to judge rather than work on a partial list. */
const MAX_REQUESTS = 100_000;
const MAX_ALERT_LINES = 20;

/** What to reconcile, from the config: every integration (or just `only`), with its mode and permissions. */
export function reconcilePlan(config: GrantflowConfig, only?: string): ReconcilePlanEntry[] {
  return Object.entries(config.integrations)
    .filter(([name]) => only === undefined || name === only)
    .map(([integration, settings]) => ({
      integration,
      mode: config.reconcile.integrations[integration] ?? 'report',
      accounts: [
        ...new Set(
          config.identities.flatMap((identity) =>
            Object.hasOwn(identity.accounts, integration) ? [identity.accounts[integration]!] : [],
          ),
        ),
      ].sort(),
      permissions: Object.fromEntries(
        Object.entries(settings.permissions as Record<string, unknown>).map(([p, v]) => [p, canonical(v)]),
      ),
    }));
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export type ReconcileDeps = Pick<
  ActivityDeps,
  'store' | 'connectors' | 'notifier' | 'log' | 'metrics' | 'adminAlerts'
>;

export function createReconcileActivities(deps: ReconcileDeps) {
  const { store, connectors, notifier, log } = deps;
  /** The findings this process last alerted about: the same drift again is audited, not alerted again. */
  let lastAlert = '';

  async function reconcileIntegration(input: ReconcileIntegrationInput): Promise<IntegrationDrift> {
    const connector = connectors.get(input.integration);
    const base = { integration: input.integration, mode: input.mode, dryRun: input.dryRun };
    // A connector that cannot look (webhook) lists nothing, and every ACTIVE grant would look missing.
    if (!connector.check) {
      setGauge(input.integration, []);
      return {
        ...base,
        checked: false,
        note: `the ${connector.type} connector cannot list access`,
        findings: [],
      };
    }
    const run = connector.sharesAccess ? reconcileShared : reconcilePerGrant;
    const findings = await run(connector, input);
    for (const finding of findings) await audit(input, finding);
    setGauge(input.integration, findings);
    if (findings.length)
      log.warn({ integration: input.integration, findings: findings.length }, 'drift found');
    return { ...base, checked: true, findings };
  }

  /** Role or group membership: backed by access_holders rows (as the grant and revoke activities keep them). */
  async function reconcileShared(connector: Connector, input: ReconcileIntegrationInput) {
    const carrier = (permission: string) => input.permissions[permission];
    const existing = await connector.listAccess();
    const holders = await store.listAccessHolders(input.integration);
    const statuses = await statusesOf(holders.map((h) => h.requestId));
    const backed = new Set(
      holders.filter((h) => backs(h, statuses)).map((h) => `${h.account}\u0000${carrier(h.permission)}`),
    );
    const findings: DriftFinding[] = [];
    const seen = new Set<string>();
    for (const access of existing) {
      const known = carrier(access.permission) !== undefined;
      if (known && backed.has(`${access.account}\u0000${carrier(access.permission)}`)) continue;
      const key = `${access.account}\u0000${access.permission}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const finding = known ? await settleUnbacked(connector, input, access) : notConfigured(input, access);
      if (finding) findings.push(finding);
    }
    // ACTIVE grants whose access is not in the target. Their account is in their holder row.
    const present = new Set(existing.map((a) => `${a.account}\u0000${a.permission}`));
    for (const request of await liveRequests(input.integration, ['ACTIVE'])) {
      const holder = holders.find((h) => h.requestId === request.id);
      if (holder && present.has(`${holder.account}\u0000${request.permission}`)) continue;
      const finding = await settleMissing(connector, input, request, holder);
      if (finding) findings.push(finding);
    }
    return findings;
  }

  /**
   * A listed piece of shared access that no holder backs: looked at again under the access locks of every
   * permission it carries (a grant of any of them waits, and one that just committed is seen), then reported,
   * or removed in revoke mode.
   */
  async function settleUnbacked(
    connector: Connector,
    input: ReconcileIntegrationInput,
    access: ExistingAccess,
  ): Promise<DriftFinding | undefined> {
    const carrier = input.permissions[access.permission];
    const siblings = Object.keys(input.permissions).filter((p) => input.permissions[p] === carrier);
    const target: AccessTarget = {
      integration: input.integration,
      account: access.account,
      permission: access.permission,
    };
    const ref = { target, requestId: `drift-${input.runId}` };
    const keys = siblings.map((permission) => accessKey({ ...target, permission }));
    return underLocks(keys, async () => {
      const holders = (await store.listAccessHolders(input.integration)).filter(
        (h) => h.account === access.account && siblings.includes(h.permission),
      );
      const statuses = await statusesOf(holders.map((h) => h.requestId));
      if (holders.some((h) => backs(h, statuses))) return undefined;
      if (!(await connector.check!(ref)).exists) return undefined;
      const finding: DriftFinding = { ...target, kind: 'unbacked', action: 'reported' };
      if (input.mode !== 'revoke') return finding;
      if (!input.accounts.includes(access.account))
        return { ...finding, action: "not removed: not a person's account in the config" };
      if (input.dryRun) return { ...finding, action: 'would remove' };
      try {
        const result = await connector.revoke(ref);
        const verified = !(await connector.check!(ref)).exists;
        await store.appendAudit({
          eventKey: eventKey(input, 'removed', finding),
          type: 'drift.removed',
          actor: 'grantflow',
          channel: input.channel,
          details: {
            ...target,
            mode: input.mode,
            alreadyAbsent: result.alreadyAbsent,
            sessionsTerminated: result.sessionsTerminated,
            verified,
          },
        });
        log.warn({ ...target, verified }, 'removed access no grant backs');
        return { ...finding, action: verified ? 'removed' : 'remove not verified: access still there' };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.error({ ...target, err: message }, 'could not remove access no grant backs');
        return { ...finding, action: `remove failed: ${message}` };
      }
    });
  }

  /** An ACTIVE grant whose access was not listed: looked at again under its lock; reported, never re-granted. */
  async function settleMissing(
    connector: Connector,
    input: ReconcileIntegrationInput,
    request: RequestRow,
    holder: AccessHolderRow | undefined,
  ): Promise<DriftFinding | undefined> {
    const finding: DriftFinding = {
      integration: input.integration,
      kind: 'missing',
      permission: request.permission,
      requestId: request.id,
      action: 'reported',
    };
    if (!holder) return { ...finding, action: 'reported (no holder record: account unknown)' };
    const target = {
      integration: input.integration,
      account: holder.account,
      permission: request.permission,
    };
    return store.withAccessLock(accessKey(target), async () => {
      if ((await store.getRequest(request.id))?.status !== 'ACTIVE') return undefined;
      if ((await connector.check!({ target, requestId: request.id })).exists) return undefined;
      return { ...finding, account: holder.account };
    });
  }

  /** Temporary users: each is backed by its own request, which must not have ended. Removal is left to people. */
  async function reconcilePerGrant(connector: Connector, input: ReconcileIntegrationInput) {
    const existing = await connector.listAccess();
    const live = await liveRequests(input.integration);
    const liveIds = new Set(live.map((r) => r.id));
    const findings: DriftFinding[] = [];
    const unbacked = existing.filter((a) => !a.requestId || !liveIds.has(a.requestId));
    // A request that just started granting is live in the index before its user exists; one that just ended
    // may have been live a moment ago: read the candidates' requests again.
    const statuses = await statusesOf(unbacked.flatMap((a) => (a.requestId ? [a.requestId] : [])));
    for (const access of unbacked) {
      if (access.requestId && isLive(statuses.get(access.requestId))) continue;
      if (input.permissions[access.permission] === undefined) {
        findings.push(notConfigured(input, access));
        continue;
      }
      findings.push({
        integration: input.integration,
        kind: 'unbacked',
        account: access.account,
        permission: access.permission,
        ...(access.requestId ? { requestId: access.requestId } : {}),
        action:
          input.mode === 'revoke'
            ? 'not removed: per-grant access (temporary users) is removed by hand'
            : 'reported',
      });
    }
    const listed = new Set(existing.map((a) => a.requestId));
    const candidates = live.filter((r) => r.status === 'ACTIVE' && !listed.has(r.id));
    if (candidates.length) {
      // Listed again after re-reading the requests, so a grant that ended meanwhile is not called missing.
      const still = await statusesOf(candidates.map((r) => r.id));
      const again = new Set((await connector.listAccess()).map((a) => a.requestId));
      for (const request of candidates) {
        if (still.get(request.id) !== 'ACTIVE' || again.has(request.id)) continue;
        findings.push({
          integration: input.integration,
          kind: 'missing',
          permission: request.permission,
          requestId: request.id,
          action: 'reported',
        });
      }
    }
    return findings;
  }

  /** listAccess returned a permission the config does not list: never touched, whatever the mode. */
  function notConfigured(input: ReconcileIntegrationInput, access: ExistingAccess): DriftFinding {
    log.warn(
      { integration: input.integration, account: access.account, permission: access.permission },
      'the connector listed a permission the config does not list; it is left alone',
    );
    return {
      integration: input.integration,
      kind: 'unbacked',
      account: access.account,
      permission: access.permission,
      ...(access.requestId ? { requestId: access.requestId } : {}),
      action: 'not removed: permission not in the config',
    };
  }

  /** A holder row backs its access while it has not expired, or while its request is live (or unknown). */
  function backs(holder: AccessHolderRow, statuses: Map<string, RequestStatus>): boolean {
    if (Date.parse(holder.expiresAt) > Date.now()) return true;
    const status = statuses.get(holder.requestId);
    return status === undefined || isLive(status);
  }

  async function statusesOf(ids: string[]): Promise<Map<string, RequestStatus>> {
    const statuses = new Map<string, RequestStatus>();
    for (const id of new Set(ids)) {
      const row = await store.getRequest(id);
      if (row) statuses.set(id, row.status);
    }
    return statuses;
  }

  async function liveRequests(integration: string, only?: RequestStatus[]): Promise<RequestRow[]> {
    const status = only ?? LIVE_STATUSES;
    const rows = await store.listRequests({ integration, status, limit: MAX_REQUESTS });
    if (rows.length >= MAX_REQUESTS)
      throw new Error(
        `more than ${MAX_REQUESTS} live requests in ${integration}: not reconciling a partial list`,
      );
    return rows;
  }

  /** Runs `fn` holding every lock in `keys`, taken in sorted order (so two runs never wait on each other). */
  function underLocks<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(keys)].sort();
    if (first === undefined) return fn();
    return store.withAccessLock(first, () => underLocks(rest, fn));
  }

  async function audit(input: ReconcileIntegrationInput, finding: DriftFinding): Promise<void> {
    await store.appendAudit({
      eventKey: eventKey(input, finding.kind, finding),
      type: `drift.${finding.kind}`,
      actor: 'grantflow',
      requestId: finding.requestId,
      channel: input.channel,
      details: {
        integration: finding.integration,
        account: finding.account,
        permission: finding.permission,
        requestId: finding.requestId,
        mode: input.mode,
        dryRun: input.dryRun,
        action: finding.action,
      },
    });
  }

  function setGauge(integration: string, findings: DriftFinding[]): void {
    for (const kind of ['unbacked', 'missing'] as const)
      deps.metrics?.driftFindings.set({ integration, kind }, findings.filter((f) => f.kind === kind).length);
  }

  /** One alert to the admins for a run with drift or errors; the same drift found again is not alerted again. */
  async function alertDrift(input: DriftAlertInput): Promise<void> {
    const findings = input.results.flatMap((r) => r.findings);
    const errors = input.results.filter((r) => r.error);
    const lines = [
      ...findings.map(
        (f) =>
          `${f.integration}: ${f.kind} ${f.account ?? '?'} ${f.permission}` +
          `${f.requestId ? ` (${f.requestId})` : ''} — ${f.action}`,
      ),
      ...errors.map((r) => `${r.integration}: could not reconcile: ${r.error}`),
    ];
    const fingerprint = lines.join('\n');
    const acted = findings.some((f) => f.action === 'removed');
    if (lines.length === 0 || (fingerprint === lastAlert && !acted)) {
      lastAlert = fingerprint;
      return;
    }
    lastAlert = fingerprint;
    const shown = lines.slice(0, MAX_ALERT_LINES);
    if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more`);
    const dry = input.results.some((r) => r.dryRun) ? ' (dry run)' : '';
    await notifier.alert(deps.adminAlerts(), {
      text:
        `DRIFT${dry}: ${findings.length} finding(s)${errors.length ? `, ${errors.length} integration(s) not checked` : ''} ` +
        `(run ${input.runId}; see docs/reconcile.md):\n${shown.join('\n')}`,
    });
  }

  return { reconcileIntegration, alertDrift };
}

const LIVE_STATUSES: RequestStatus[] = ['APPROVED', 'GRANTING', 'ACTIVE', 'REVOKING', 'REVOKE_OVERDUE'];

function eventKey(input: ReconcileIntegrationInput, what: string, f: DriftFinding): string {
  return `drift:${input.runId}:${input.integration}:${what}:${f.account ?? ''}:${f.permission}:${f.requestId ?? ''}`;
}
