/**
 * Flows (admin): the loaded flows, who may request and approve, where they notify, and a warning on each flow
 * whose notifications go nowhere (connectors and chat platforms are on the Integrations page).
 */
import { Link } from 'react-router';
import { Loaded } from '../components/states';
import { formatDuration } from '../format';
import { useApi, useTitle } from '../hooks';
import type { DescribedFlow, IntegrationsOverview, RoutingWarning } from '../types';

export function FlowsPage() {
  useTitle('Flows');
  const flows = useApi<DescribedFlow[]>('/api/v1/admin/flows');
  // Read once: the warnings change only when configuration or chat connections do.
  const overview = useApi<IntegrationsOverview>('/api/v1/admin/integrations');
  const warningsOf = (flow: string): RoutingWarning[] =>
    overview.data?.routing.filter((w) => w.flows.includes(flow)) ?? [];
  return (
    <section>
      <h1>Flows</h1>
      {overview.error && (
        <p className="hint" data-testid="routing-unknown">
          Where notifications go could not be checked: {overview.error.message}
        </p>
      )}
      <h2>Access flows</h2>
      <Loaded
        what="flows"
        {...flows}
        empty={(d) => d.length === 0 && 'No flows are configured in grantflow.yaml.'}
      >
        {(list) => (
          <div className="flows">
            {list.map((f) => (
              <article key={f.name} className="card" aria-labelledby={`flow-${f.name}`} data-flow={f.name}>
                <h3 id={`flow-${f.name}`}>{f.name}</h3>
                {f.description && <p>{f.description}</p>}
                {warningsOf(f.name).map((w, n) => (
                  <div
                    key={n}
                    className="warning"
                    data-testid="flow-routing-warning"
                    data-problem={w.problem}
                  >
                    <p className="wrap">Notifications: {w.message}</p>
                    <p className="hint">
                      See <Link to="/admin/integrations">Integrations</Link>.
                    </p>
                  </div>
                ))}
                <dl className="facts">
                  <dt>Who may request</dt>
                  <dd>
                    {[...f.requesterGroups.map((g) => `group ${g}`), ...f.requesters].join(', ') || 'nobody'}
                  </dd>
                  <dt>Who approves</dt>
                  <dd>
                    {f.autoApprove
                      ? 'approved automatically'
                      : `${f.requiredApprovals} of: ${f.approvers.join(', ') || 'nobody'}`}
                    {f.stepUp && ' (in the portal, after a fresh login)'}
                  </dd>
                  <dt>Resources</dt>
                  <dd>
                    {f.resources
                      .map((r) => `${r.name} (${r.integration}: ${r.permissions.join(', ')})`)
                      .join('; ')}
                  </dd>
                  <dt>Longest grant</dt>
                  <dd>{formatDuration(f.maxDurationMs)}</dd>
                  <dt>Notifies</dt>
                  <dd>{f.notify.join(', ') || 'nobody'}</dd>
                </dl>
              </article>
            ))}
          </div>
        )}
      </Loaded>
    </section>
  );
}
