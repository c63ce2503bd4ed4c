/**
 * Prometheus metrics (prom-client): one Registry per process, served at GET /metrics by the API server and by the
 * worker's health listener (server/app.ts). The request metrics are counted by the activities, so they live in the
 * worker process; once per event (deduplicated on the audit insert), so retries never count twice. Labels are
 * bounded: flow, integration, platform and fixed words, never a person, an email or a request id.
 * docs/observability.md lists every metric.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/types';

/** Seconds from a request to access: 50 ms (auto-approved, warm) to an hour (an approver who took their time). */
export const TIME_TO_ACCESS_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];
/** Seconds a request waits for its decision: from a click a moment later to a day. */
export const APPROVAL_WAIT_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400];

/** The outcomes of waiting for a decision: the audit event that ends the wait. */
export const APPROVAL_OUTCOMES = ['approved', 'denied', 'expired', 'cancelled'] as const;
export type ApprovalOutcome = (typeof APPROVAL_OUTCOMES)[number];

/** What a chat delivery that failed was doing. */
export type ChatOperation = 'post' | 'update' | 'alert';

export interface Metrics {
  registry: Registry;
  /** Requests that reached a final state, by flow and that state (once per request). */
  requestsFinal: Counter<'flow' | 'state'>;
  /** Seconds from the request's creation to the commit of its grant, by flow and whether it was auto-approved. */
  timeToAccess: Histogram<'flow' | 'auto'>;
  /** Seconds from the request to its decision (flows with approvers only), by flow and outcome. */
  approvalWait: Histogram<'flow' | 'outcome'>;
  /** Grants active now, read from the requests index at scrape time so every replica agrees. */
  grantsActive: Gauge;
  /** Revokes past settings.revokeOverdueAfter and still being retried. */
  revokesOverdue: Gauge;
  /** Failed revoke attempts (each is retried), by integration. */
  revokeFailures: Counter<'integration'>;
  /** Failed grant attempts, by integration. */
  grantFailures: Counter<'integration'>;
  /** Chat deliveries that failed (the chat platform's API refused or could not be reached). */
  chatErrors: Counter<'platform' | 'operation'>;
  /** Drift found by the last reconciliation of each integration in this process, by kind (unbacked, missing). */
  driftFindings: Gauge<'integration' | 'kind'>;
}

export function createMetrics(store?: Store): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'grantflow_process_' });
  const registers = [registry];
  const requestsFinal = new Counter({
    name: 'grantflow_requests_final_total',
    help: 'Access requests that reached a final state (REVOKED, DENIED, EXPIRED, CANCELLED, GRANT_FAILED), by flow and state',
    labelNames: ['flow', 'state'],
    registers,
  });
  const timeToAccess = new Histogram({
    name: 'grantflow_time_to_access_seconds',
    help: 'Seconds from the creation of a request to the commit of its grant, by flow and auto-approval (true/false)',
    labelNames: ['flow', 'auto'],
    buckets: TIME_TO_ACCESS_BUCKETS,
    registers,
  });
  const approvalWait = new Histogram({
    name: 'grantflow_approval_wait_seconds',
    help: 'Seconds a request of a flow with approvers waited for its decision, by flow and outcome (approved, denied, expired, cancelled)',
    labelNames: ['flow', 'outcome'],
    buckets: APPROVAL_WAIT_BUCKETS,
    registers,
  });
  const grantsActive = new Gauge({
    name: 'grantflow_grants_active',
    help: 'Grants active now (requests in ACTIVE)',
    registers,
    async collect() {
      if (!store) return;
      this.set(await store.countRequests({ status: 'ACTIVE' }));
    },
  });
  const revokesOverdue = new Gauge({
    name: 'grantflow_revokes_overdue',
    help: 'Revokes not done within settings.revokeOverdueAfter and still being retried (REVOKE_OVERDUE)',
    registers,
    async collect() {
      if (!store) return;
      this.set(await store.countRequests({ status: 'REVOKE_OVERDUE' }));
    },
  });
  const revokeFailures = new Counter({
    name: 'grantflow_revoke_failures_total',
    help: 'Revoke attempts that failed (each is retried until the revoke succeeds), by integration',
    labelNames: ['integration'],
    registers,
  });
  const grantFailures = new Counter({
    name: 'grantflow_grant_failures_total',
    help: 'Grant attempts that failed, by integration',
    labelNames: ['integration'],
    registers,
  });
  const chatErrors = new Counter({
    name: 'grantflow_chat_api_errors_total',
    help: 'Chat deliveries that failed, by platform and operation (post, update, alert)',
    labelNames: ['platform', 'operation'],
    registers,
  });
  const driftFindings = new Gauge({
    name: 'grantflow_drift_findings',
    help: 'Drift found by the last reconciliation in this process, by integration and kind (unbacked, missing)',
    labelNames: ['integration', 'kind'],
    registers,
  });
  return {
    registry,
    requestsFinal,
    timeToAccess,
    approvalWait,
    grantsActive,
    revokesOverdue,
    revokeFailures,
    grantFailures,
    chatErrors,
    driftFindings,
  };
}
