/**
 * The sign-in a temporary-user grant made for the requester: fetched only when asked for (each read is audited),
 * shown once on this page, never stored in the browser.
 */
import { useState } from 'react';
import { api, ApiError } from '../api';
import type { IssuedCredentials } from '../../../connectors/types';
import { ErrorBox } from './states';

export function SignIn({ requestId }: { requestId: string }) {
  const [shown, setShown] = useState<IssuedCredentials>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const reveal = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setShown(await api<IssuedCredentials>(`/api/v1/requests/${encodeURIComponent(requestId)}/credentials`));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="signin-h">
      <h2 id="signin-h">Your sign-in</h2>
      <p className="hint">
        This grant made a database user for you alone. It stops working when the grant ends. Only you can see
        it, and every look is written to the audit log.
      </p>
      {error && <ErrorBox error={error} />}
      {shown ? (
        <dl className="facts" data-testid="signin">
          <dt>User</dt>
          <dd className="mono">{shown.username}</dd>
          <dt>Password</dt>
          <dd className="mono">{shown.password}</dd>
          {shown.connectHint && (
            <>
              <dt>Connect</dt>
              <dd className="mono">{shown.connectHint}</dd>
            </>
          )}
        </dl>
      ) : (
        <button type="button" className="primary" onClick={() => void reveal()} disabled={busy}>
          {busy ? 'Fetching…' : 'Show my sign-in'}
        </button>
      )}
    </section>
  );
}
