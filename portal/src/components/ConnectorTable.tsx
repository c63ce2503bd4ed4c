/**
 * Connectors on the Integrations page: each one's health and checks, the grants it holds, its overdue
 * revocations (with links to the requests), and a "Check now" button that runs its health check on the spot.
 */
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiError, api } from '../api';
import type { ConnectorStatus } from '../types';
import { ErrorBox } from './states';
import { When } from './When';

/** The health badge's words and tone; `ok` is undefined until the first check. */
function health(ok: boolean | undefined): [string, 'good' | 'bad' | 'done', string] {
  if (ok === undefined) return ['Not checked yet', 'done', 'unchecked'];
  return ok ? ['Healthy', 'good', 'healthy'] : ['Failing', 'bad', 'failing'];
}

export function ConnectorTable({ connectors }: { connectors: ConnectorStatus[] }) {
  return (
    <table className="connectors">
      <caption className="visually-hidden">Connectors and their health</caption>
      <thead>
        <tr>
          <th scope="col">Connector</th>
          <th scope="col">Health</th>
          <th scope="col">Checks</th>
          <th scope="col">Last checked</th>
          <th scope="col">Grants</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {connectors.map((c) => (
          <ConnectorRow key={c.name} listed={c} />
        ))}
      </tbody>
    </table>
  );
}

function ConnectorRow({ listed }: { listed: ConnectorStatus }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [said, setSaid] = useState('');
  // A check's answer is shown until the next refresh of the overview brings a newer row.
  const [checked, setChecked] = useState<{ over: ConnectorStatus; now: ConnectorStatus }>();
  const c = checked?.over === listed ? checked.now : listed;
  const [word, tone, key] = health(c.ok);

  const check = async () => {
    setBusy(true);
    setError(undefined);
    setSaid(`Checking ${c.name}…`);
    try {
      const now = await api<ConnectorStatus>(
        `/api/v1/admin/integrations/connectors/${encodeURIComponent(c.name)}/check`,
        { method: 'POST' },
      );
      setChecked({ over: listed, now });
      setSaid(`${c.name} checked: ${health(now.ok)[0]}${now.message ? ` — ${now.message}` : ''}.`);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
      setSaid(`The check of ${c.name} could not run.`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr data-testid={`connector-${c.name}`} data-integration={c.name} data-health={key}>
      <td data-label="Connector">
        <strong className="wrap">{c.name}</strong>
        <div className="muted wrap">{c.type}</div>
      </td>
      <td data-label="Health">
        <span className={`badge badge-${tone}`}>{word}</span>
        {c.message && <div className="wrap">{c.message}</div>}
      </td>
      <td data-label="Checks">
        {c.checks.length ? (
          <ul className="checks">
            {c.checks.map((k) => (
              <li key={k.name} data-check-ok={k.ok}>
                <span className={k.ok ? 'ok-mark' : 'bad-mark'} aria-hidden="true">
                  {k.ok ? '✓' : '✗'}
                </span>{' '}
                <span className="visually-hidden">{k.ok ? 'Passed: ' : 'Failed: '}</span>
                <strong>{k.name}</strong>
                {k.message && <span className="muted"> — {k.message}</span>}
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">none reported</span>
        )}
      </td>
      <td data-label="Last checked">
        <When at={c.checkedAt} never="not checked yet" />
      </td>
      <td data-label="Grants">
        <div>{c.activeGrants} active</div>
        {c.overdueRevocations > 0 && <Overdue c={c} />}
      </td>
      <td data-label="Actions">
        <button type="button" aria-label={`Check ${c.name} now`} disabled={busy} onClick={() => void check()}>
          {busy ? 'Checking…' : 'Check now'}
        </button>
        <p className="hint" role="status" data-testid={`connector-${c.name}-check-result`}>
          {said}
        </p>
        {error && <ErrorBox error={error} />}
      </td>
    </tr>
  );
}

function Overdue({ c }: { c: ConnectorStatus }) {
  const n = c.overdueRevocations;
  const more = n - c.overdueRequestIds.length;
  return (
    <div className="overdue" data-testid={`connector-${c.name}-overdue`}>
      <strong>
        {n} {n === 1 ? 'revocation' : 'revocations'} overdue
      </strong>
      {c.overdueRequestIds.length > 0 && (
        <ul>
          {c.overdueRequestIds.map((id) => (
            <li key={id}>
              <Link to={`/requests/${encodeURIComponent(id)}`} className="wrap">
                {id}
              </Link>
            </li>
          ))}
        </ul>
      )}
      {more > 0 && <div>and {more} more</div>}
    </div>
  );
}
