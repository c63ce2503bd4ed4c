/**
 * Prometheus metrics (prom-client), served at GET /metrics. Later issues add to this registry.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/types';

export interface Metrics {
  registry: Registry;
  /** Requests that reached a final state, by that state. */
  requestsFinal: Counter<'state'>;
  /** Grants active now, read from the requests index at scrape time so every replica agrees. */
  grantsActive: Gauge;
  /** Revokes past settings.revokeOverdueAfter and still being retried. */
  revokesOverdue: Gauge;
  /** Drift found by the last reconciliation of each integration in this process, by kind (unbacked, missing). */
  driftFindings: Gauge<'integration' | 'kind'>;
}

export function createMetrics(store?: Store): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'grantflow_process_' });
  const requestsFinal = new Counter({
    name: 'grantflow_requests_final_total',
    help: 'Access requests that reached a final state, by state',
    labelNames: ['state'],
    registers: [registry],
  });
  const grantsActive = new Gauge({
    name: 'grantflow_grants_active',
    help: 'Grants active now (requests in ACTIVE)',
    registers: [registry],
    async collect() {
      if (!store) return;
      this.set(await store.countRequests({ status: 'ACTIVE' }));
    },
  });
  const revokesOverdue = new Gauge({
    name: 'grantflow_revokes_overdue',
    help: 'Revokes not done within settings.revokeOverdueAfter and still being retried (REVOKE_OVERDUE)',
    registers: [registry],
    async collect() {
      if (!store) return;
      this.set(await store.countRequests({ status: 'REVOKE_OVERDUE' }));
    },
  });
  const driftFindings = new Gauge({
    name: 'grantflow_drift_findings',
    help: 'Drift found by the last reconciliation in this process, by integration and kind (unbacked, missing)',
    labelNames: ['integration', 'kind'],
    registers: [registry],
  });
  return { registry, requestsFinal, grantsActive, revokesOverdue, driftFindings };
}
