/** The portal's frame: who is logged in, the navigation (admin pages for admins), and the routes. */
import { NavLink, Navigate, Route, Routes } from 'react-router';
import { ErrorBox, Loading } from './components/states';
import { LoginPage } from './pages/LoginPage';
import { RequestAccessPage } from './pages/RequestAccessPage';
import { MyRequestsPage } from './pages/MyRequestsPage';
import { RequestPage } from './pages/RequestPage';
import { ApprovalsPage } from './pages/ApprovalsPage';
import { ActiveGrantsPage } from './pages/ActiveGrantsPage';
import { AuditPage } from './pages/AuditPage';
import { FlowsPage } from './pages/FlowsPage';
import { IntegrationsPage } from './pages/IntegrationsPage';
import { useSession } from './session';

export function App() {
  const { me, loading, error, refresh, logout } = useSession();
  if (loading)
    return (
      <main id="main" className="page">
        <Loading what="your session" />
      </main>
    );
  if (error)
    return (
      <main id="main" className="page">
        <ErrorBox error={error} retry={() => void refresh()} />
      </main>
    );
  if (!me) return <LoginPage />;
  const links: [string, string][] = [
    ['/request', 'Request access'],
    ['/requests', 'My requests'],
    ['/approvals', 'Approvals'],
  ];
  if (me.admin)
    links.push(
      ['/admin/active', 'Active grants'],
      ['/admin/audit', 'Audit log'],
      ['/admin/flows', 'Flows'],
      ['/admin/integrations', 'Integrations'],
    );
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      {me.devLogin && (
        <div className="dev-banner" role="note">
          Development login is on: anyone who reaches this server can log in as anyone. Never expose it.
        </div>
      )}
      <header className="top">
        <span className="brand">Grantflow</span>
        <nav aria-label="Main">
          <ul>
            {links.map(([to, label]) => (
              <li key={to}>
                <NavLink to={to} end={to === '/requests'}>
                  {label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span data-testid="whoami">{me.email}</span>
          {me.admin && <span className="tag">admin</span>}
          <button type="button" className="link" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Navigate to="/requests" replace />} />
          <Route path="/request" element={<RequestAccessPage />} />
          <Route path="/requests" element={<MyRequestsPage />} />
          <Route path="/requests/:id" element={<RequestPage />} />
          <Route path="/approvals" element={<ApprovalsPage />} />
          <Route path="/admin/active" element={<ActiveGrantsPage />} />
          <Route path="/admin/audit" element={<AuditPage />} />
          <Route path="/admin/flows" element={<FlowsPage />} />
          <Route path="/admin/integrations" element={<IntegrationsPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page here. Go to <NavLink to="/requests">My requests</NavLink>.
      </p>
    </section>
  );
}
