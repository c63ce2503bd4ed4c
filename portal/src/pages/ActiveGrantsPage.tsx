/** Active grants (admin): everything live now, with time left and Revoke. */
import { useState } from 'react';
import { ApiError, post } from '../api';
import { RequestList } from '../components/RequestList';
import { ErrorBox, Loaded } from '../components/states';
import { useApi, useTitle } from '../hooks';
import type { RequestRow } from '../types';

export function ActiveGrantsPage() {
  useTitle('Active grants');
  const active = useApi<RequestRow[]>('/api/v1/requests?scope=active&limit=1000', 5000);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState<string>();
  const revoke = async (row: RequestRow) => {
    if (!window.confirm(`Revoke ${row.permission} on ${row.resource} from ${row.requester} now?`)) return;
    setBusy(row.id);
    setError(undefined);
    try {
      await post(`/api/v1/requests/${encodeURIComponent(row.id)}/revoke`, {
        reason: 'revoked by an admin in the portal',
      });
      active.reload();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <section>
      <h1>Active grants</h1>
      <p className="lead">All access that is live now. Each is revoked automatically at its expiry.</p>
      {error && <ErrorBox error={error} />}
      <Loaded
        what="active grants"
        {...active}
        empty={(rows) => rows.length === 0 && 'No access is active right now.'}
      >
        {(rows) => (
          <RequestList
            rows={rows}
            caption="Active grants"
            actions={(r) => (
              <button
                type="button"
                className="danger"
                disabled={busy !== undefined}
                onClick={() => void revoke(r)}
                aria-label={`Revoke request ${r.id}`}
              >
                {busy === r.id ? 'Revoking…' : 'Revoke'}
              </button>
            )}
          />
        )}
      </Loaded>
    </section>
  );
}
