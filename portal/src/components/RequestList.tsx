/** Requests as a table (cards on a narrow screen): who, what, why, how long, status and time left. */
import { Link } from 'react-router';
import { formatDuration, formatTime } from '../format';
import type { RequestRow } from '../types';
import { Countdown, StatusBadge } from './status';

export function RequestList({
  rows,
  caption,
  showRequester = true,
  actions,
}: {
  rows: RequestRow[];
  caption: string;
  showRequester?: boolean;
  actions?: (row: RequestRow) => React.ReactNode;
}) {
  return (
    <table className="requests">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Request</th>
          {showRequester && <th scope="col">Who</th>}
          <th scope="col">What</th>
          <th scope="col">Why</th>
          <th scope="col">How long</th>
          <th scope="col">Status</th>
          {actions && <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} data-request-id={r.id}>
            <td data-label="Request">
              <Link to={`/requests/${encodeURIComponent(r.id)}`}>{r.id}</Link>
              <div className="muted">{formatTime(r.createdAt)}</div>
            </td>
            {showRequester && <td data-label="Who">{r.requester}</td>}
            <td data-label="What">
              <strong>{r.permission}</strong> on {r.resource}
              <div className="muted">{r.flow}</div>
            </td>
            <td data-label="Why" className="reason">
              {r.reason || <span className="muted">—</span>}
            </td>
            <td data-label="How long">{formatDuration(r.durationMs)}</td>
            <td data-label="Status">
              <StatusBadge status={r.status} />
              {r.status === 'ACTIVE' && r.expiresAt && (
                <div>
                  <Countdown expiresAt={r.expiresAt} /> left
                </div>
              )}
            </td>
            {actions && <td data-label="Actions">{actions(r)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
