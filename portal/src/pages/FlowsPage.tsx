/** Flows and integrations (admin): the loaded flows, who may request and approve, and connector health. */
import { Loaded } from '../components/states';
import { formatDuration } from '../format';
import { useApi, useTitle } from '../hooks';
import type { DescribedFlow, IntegrationHealth } from '../types';

export function FlowsPage() {
  useTitle('Flows & integrations');
  const flows = useApi<DescribedFlow[]>('/api/v1/admin/flows');
  const health = useApi<IntegrationHealth>('/api/v1/integrations/health', 30000);
  return (
    <section>
      <h1>Flows &amp; integrations</h1>
      <h2>Integrations</h2>
      <Loaded what="integration health" {...health}>
        {(h) => (
          <ul className="health">
            {h.integrations.map((i) => (
              <li key={i.name} data-integration={i.name}>
                <span className={`badge badge-${i.ok ? 'good' : 'bad'}`}>{i.ok ? 'Healthy' : 'Failing'}</span>{' '}
                <strong>{i.name}</strong> {i.type && <span className="muted">({i.type})</span>}
                {i.message && <span className="muted"> — {i.message}</span>}
              </li>
            ))}
            <li>
              <span className={`badge badge-${h.chat.slack ? 'good' : 'done'}`}>
                {h.chat.slack ? 'On' : 'Off'}
              </span>{' '}
              <strong>Slack</strong>
            </li>
            <li>
              <span className={`badge badge-${h.chat.teams ? 'good' : 'done'}`}>
                {h.chat.teams ? 'On' : 'Off'}
              </span>{' '}
              <strong>Microsoft Teams</strong>
            </li>
          </ul>
        )}
      </Loaded>
      <h2>Access flows</h2>
      <Loaded
        what="flows"
        {...flows}
        empty={(d) => d.length === 0 && 'No flows are configured in grantflow.yaml.'}
      >
        {(list) => (
          <div className="flows">
            {list.map((f) => (
              <article key={f.name} className="card" aria-labelledby={`flow-${f.name}`}>
                <h3 id={`flow-${f.name}`}>{f.name}</h3>
                {f.description && <p>{f.description}</p>}
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
