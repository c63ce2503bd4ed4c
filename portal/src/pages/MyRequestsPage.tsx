/** My requests: everything I asked for, newest first, refreshed while I watch. */
import { Link } from 'react-router';
import { RequestList } from '../components/RequestList';
import { Loaded } from '../components/states';
import { useApi, useTitle } from '../hooks';
import type { RequestRow } from '../types';

export function MyRequestsPage() {
  useTitle('My requests');
  const mine = useApi<RequestRow[]>('/api/v1/requests?scope=mine&limit=200', 5000);
  return (
    <section>
      <div className="heading">
        <h1>My requests</h1>
        <Link className="button primary" to="/request">
          Request access
        </Link>
      </div>
      <Loaded
        what="your requests"
        {...mine}
        empty={(rows) => rows.length === 0 && 'You have not requested anything yet.'}
      >
        {(rows) => <RequestList rows={rows} caption="My requests" showRequester={false} />}
      </Loaded>
    </section>
  );
}
