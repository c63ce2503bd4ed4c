/** Audit log (admin): filter, export (JSONL, CSV) and check the hash chain. */
import { useState } from 'react';
import { Link } from 'react-router';
import { api, ApiError } from '../api';
import { ErrorBox, Loaded } from '../components/states';
import { eventKind, eventWords, formatTime } from '../format';
import { useApi, useTitle } from '../hooks';
import type { AuditEvent, AuditVerifyResult } from '../types';

export function AuditPage() {
  useTitle('Audit log');
  const [requestId, setRequestId] = useState('');
  const [actor, setActor] = useState('');
  const [type, setType] = useState('');
  const [query, setQuery] = useState('');
  const events = useApi<AuditEvent[]>(`/api/v1/audit/events?limit=200${query}`);
  const [verify, setVerify] = useState<AuditVerifyResult>();
  const [verifyError, setVerifyError] = useState<ApiError>();
  const [checking, setChecking] = useState(false);

  const apply = (e: React.FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (requestId.trim()) q.set('requestId', requestId.trim());
    if (actor.trim()) q.set('actor', actor.trim().toLowerCase());
    if (type.trim()) q.set('type', type.trim());
    setQuery(q.size ? `&${q.toString()}` : '');
  };
  const check = async () => {
    setChecking(true);
    setVerifyError(undefined);
    try {
      setVerify(await api<AuditVerifyResult>('/api/v1/audit/verify'));
    } catch (err) {
      setVerifyError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setChecking(false);
    }
  };

  return (
    <section>
      <h1>Audit log</h1>
      <div className="card toolbar">
        <form className="filters" onSubmit={apply} aria-label="Filter the audit log">
          <div className="field">
            <label htmlFor="f-request">Request id</label>
            <input id="f-request" value={requestId} onChange={(e) => setRequestId(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="f-actor">Actor (email)</label>
            <input id="f-actor" value={actor} onChange={(e) => setActor(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="f-type">Event type</label>
            <input
              id="f-type"
              value={type}
              onChange={(e) => setType(e.target.value)}
              placeholder="e.g. request.granted"
            />
          </div>
          <button type="submit">Filter</button>
        </form>
        <div className="exports">
          <a className="button" href="/api/v1/audit?format=jsonl" download="grantflow-audit.jsonl">
            Export JSONL
          </a>
          <a className="button" href="/api/v1/audit?format=csv" download="grantflow-audit.csv">
            Export CSV
          </a>
          <button type="button" onClick={() => void check()} disabled={checking}>
            {checking ? 'Checking…' : 'Verify hash chain'}
          </button>
        </div>
        {verifyError && <ErrorBox error={verifyError} />}
        {verify && (
          <p className={verify.ok ? 'done' : 'error'} role="status" data-testid="verify-result">
            {verify.ok
              ? `The hash chain is intact: ${verify.rows} events checked.`
              : `The hash chain is BROKEN: ${verify.problems.length} problem(s) in ${verify.rows} events. ` +
                verify.problems
                  .slice(0, 3)
                  .map((p) => `#${p.seq}: ${p.message}`)
                  .join('; ')}
          </p>
        )}
      </div>
      <Loaded what="audit events" {...events} empty={(rows) => rows.length === 0 && 'No audit events match.'}>
        {(rows) => (
          <table className="audit">
            <caption className="visually-hidden">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Request</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.seq} data-event={eventKind(e.type)}>
                  <td data-label="#">{e.seq}</td>
                  <td data-label="When">
                    <time dateTime={e.at}>{formatTime(e.at)}</time>
                  </td>
                  <td data-label="Event">{eventWords(e)}</td>
                  <td data-label="Request">
                    {e.requestId ? (
                      <Link to={`/requests/${encodeURIComponent(e.requestId)}`}>{e.requestId}</Link>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </section>
  );
}
