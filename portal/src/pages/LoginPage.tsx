/** Login: the identity provider (OpenID Connect), and in `npm start` a picker of the demo identities. */
import { useState } from 'react';
import { useLocation } from 'react-router';
import { ApiError, loginUrl, post } from '../api';
import { ErrorBox, Loading } from '../components/states';
import { useApi, useTitle } from '../hooks';
import { useSession } from '../session';

interface DevIdentity {
  email: string;
  name?: string;
  admin: boolean;
}

export function LoginPage() {
  useTitle('Log in');
  const { methods, refresh } = useSession();
  const location = useLocation();
  const returnTo = location.pathname + location.search;
  return (
    <main id="main" className="page login">
      <h1>Log in to Grantflow</h1>
      <p>Request temporary access, approve requests and see what is granted.</p>
      {methods === undefined && <Loading what="login options" />}
      {methods?.oidc && (
        <p>
          <a className="button primary" href={loginUrl(returnTo)}>
            Log in with your identity provider
          </a>
        </p>
      )}
      {methods?.devLogin && <DevLogin onDone={refresh} />}
      {methods && !methods.oidc && !methods.devLogin && (
        <div className="error" role="alert">
          <p>
            No login is configured on this server. An operator sets <code>GRANTFLOW_OIDC_ISSUER</code>,{' '}
            <code>GRANTFLOW_OIDC_CLIENT_ID</code> and <code>GRANTFLOW_OIDC_CLIENT_SECRET</code> (see the
            README).
          </p>
        </div>
      )}
    </main>
  );
}

function DevLogin({ onDone }: { onDone: () => Promise<void> }) {
  const people = useApi<{ identities: DevIdentity[] }>('/auth/dev');
  const [email, setEmail] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await post('/auth/dev', { email });
      await onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setBusy(false);
    }
  };
  if (people.loading) return <Loading what="demo identities" />;
  if (people.error) return <ErrorBox error={people.error} retry={people.reload} />;
  const list = people.data?.identities ?? [];
  return (
    <form className="card dev-login" onSubmit={(e) => void submit(e)}>
      <div className="dev-banner" role="note">
        Development login: pick any demo identity. It exists only under <code>npm start</code> on this
        machine.
      </div>
      <label htmlFor="dev-email">Log in as</label>
      <select id="dev-email" value={email} onChange={(e) => setEmail(e.target.value)} required>
        <option value="">Choose an identity…</option>
        {list.map((i) => (
          <option key={i.email} value={i.email}>
            {i.name ? `${i.name} — ${i.email}` : i.email}
            {i.admin ? ' (admin)' : ''}
          </option>
        ))}
      </select>
      {error && <ErrorBox error={error} />}
      <button type="submit" className="primary" disabled={busy || !email}>
        {busy ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  );
}
