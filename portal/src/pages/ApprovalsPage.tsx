/** Approvals: requests waiting for me, with who, what, why and for how long. Decide on the request's page. */
import { Link } from 'react-router';
import { RequestList } from '../components/RequestList';
import { Loaded } from '../components/states';
import { useApi, useTitle } from '../hooks';
import type { RequestRow } from '../types';

export function ApprovalsPage() {
  useTitle('Approvals');
  const waiting = useApi<RequestRow[]>('/api/v1/requests?scope=approvals&limit=200', 5000);
  return (
    <section>
      <h1>Approvals</h1>
      <p className="lead">
        Requests that wait for your decision. You never see your own here: nobody approves their own request.
      </p>
      <Loaded
        what="requests waiting for you"
        {...waiting}
        empty={(rows) => rows.length === 0 && 'Nothing waits for your approval.'}
      >
        {(rows) => (
          <RequestList
            rows={rows}
            caption="Requests waiting for my approval"
            actions={(r) => (
              <Link
                className="button"
                to={`/requests/${encodeURIComponent(r.id)}`}
                aria-label={`Review request ${r.id}`}
              >
                Review
              </Link>
            )}
          />
        )}
      </Loaded>
    </section>
  );
}
