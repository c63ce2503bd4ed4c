/**
 * One request: who, what, why, how long; its status with a live countdown; the actions the caller may take
 * (approve, deny, cancel, extend, revoke now); its timeline; and its workflow in the Temporal Web UI.
 */
import { useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { ApiError, loginUrl, post } from '../api';
import { ErrorBox, Loaded } from '../components/states';
import { Countdown, StatusBadge } from '../components/status';
import { SignIn } from '../components/SignIn';
import { Timeline } from '../components/Timeline';
import { eventKind, formatDuration, formatTime, parseDuration } from '../format';
import { useApi, useTitle } from '../hooks';
import { useSession } from '../session';
import type { RequestDetail } from '../types';

const SETTLED = ['DENIED', 'EXPIRED', 'CANCELLED', 'REVOKED', 'GRANT_FAILED'];
const FINAL_EVENTS = ['denied', 'expired', 'cancelled', 'revoked', 'grant_failed'];

export function RequestPage() {
  const { id = '' } = useParams();
  useTitle(`Request ${id}`);
  const path = `/api/v1/requests/${encodeURIComponent(id)}`;
  const [poll, setPoll] = useState(2000);
  const detail = useApi<RequestDetail>(path, poll);
  // Stop refreshing once the request is over and its last event is in the timeline (it lands just after).
  const over =
    detail.data !== undefined &&
    SETTLED.includes(detail.data.status) &&
    detail.data.timeline.some((e) => FINAL_EVENTS.includes(eventKind(e.type)));
  if (over && poll !== 0) setPoll(0);
  return (
    <section>
      <p className="crumbs">
        <Link to="/requests">My requests</Link>
      </p>
      <Loaded what="the request" {...detail}>
        {(r) => <RequestView r={r} reload={detail.reload} />}
      </Loaded>
    </section>
  );
}

function RequestView({ r, reload }: { r: RequestDetail; reload: () => void }) {
  const approved = r.approvals.length;
  return (
    <>
      <div className="heading">
        <h1>
          Request <span className="mono">{r.id}</span>
        </h1>
        <StatusBadge status={r.status} />
      </div>
      {r.status === 'ACTIVE' && r.expiresAt && (
        <p className="active-banner" role="status">
          Access is active: <Countdown expiresAt={r.expiresAt} /> left (until {formatTime(r.expiresAt)}).
        </p>
      )}
      {r.failure && (
        <div className="error" role="alert">
          <p>{r.failure}</p>
        </div>
      )}
      <dl className="facts card">
        <dt>Who</dt>
        <dd>{r.requester}</dd>
        <dt>What</dt>
        <dd>
          <strong>{r.permission}</strong> on {r.resource} <span className="muted">({r.integration})</span>
        </dd>
        <dt>Why</dt>
        <dd className="reason">{r.reason || <span className="muted">no reason given</span>}</dd>
        <dt>How long</dt>
        <dd>
          {formatDuration(r.totalDurationMs)}
          {r.extensions.length > 0 && ` (extended ${r.extensions.length}×)`}
        </dd>
        <dt>Flow</dt>
        <dd>{r.flow}</dd>
        <dt>Approvals</dt>
        <dd>
          {r.requiredApprovals === 0
            ? 'approved automatically'
            : `${approved} of ${r.requiredApprovals}` +
              (r.approvals.length ? ` (${r.approvals.map((a) => a.approver).join(', ')})` : '')}
          {r.denial && ` — denied by ${r.denial.approver}`}
        </dd>
        <dt>Requested</dt>
        <dd>
          {formatTime(r.requestedAt)} via {r.channel}
        </dd>
        {r.grantedAt && (
          <>
            <dt>Granted</dt>
            <dd>{formatTime(r.grantedAt)}</dd>
          </>
        )}
        {r.revokedAt && (
          <>
            <dt>Revoked</dt>
            <dd>
              {formatTime(r.revokedAt)}
              {r.revokedBy && ` by ${r.revokedBy}`}
            </dd>
          </>
        )}
      </dl>
      {r.credentials && r.status === 'ACTIVE' && <SignIn requestId={r.id} />}
      <Actions r={r} reload={reload} />
      <h2>Timeline</h2>
      <Timeline events={r.timeline} />
      {r.temporalUrl && (
        <p>
          <a href={r.temporalUrl} target="_blank" rel="noreferrer">
            Open the workflow in the Temporal Web UI
          </a>
        </p>
      )}
    </>
  );
}

type Pending = 'approve' | 'deny' | 'cancel' | 'extend' | 'revoke';

function Actions({ r, reload }: { r: RequestDetail; reload: () => void }) {
  const { logout, me } = useSession();
  const location = useLocation();
  const [busy, setBusy] = useState<Pending>();
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  const [comment, setComment] = useState('');
  const [denyReason, setDenyReason] = useState('');
  const [extendBy, setExtendBy] = useState('30m');
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const base = `/api/v1/requests/${encodeURIComponent(r.id)}`;
  const act = async (what: Pending, body: unknown, message: string) => {
    setBusy(what);
    setError(undefined);
    setDone(undefined);
    try {
      await post(`${base}/${what}`, body);
      setDone(message);
      setConfirmRevoke(false);
      reload();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setBusy(undefined);
    }
  };
  const { actions } = r;
  if (!actions.approve && !actions.cancel && !actions.extend && !actions.revoke && !error && !done)
    return null;
  const extendMs = parseDuration(extendBy);
  const stepUp = error?.code === 'step_up_required';
  return (
    <div className="actions card" aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      {done && (
        <p className="done" role="status">
          {done}
        </p>
      )}
      {stepUp ? (
        <div className="error" role="alert">
          <p>{error.message}</p>
          {me?.oidc ? (
            <a className="button primary" href={error.loginUrl ?? loginUrl(location.pathname, true)}>
              Log in again to decide
            </a>
          ) : (
            <button type="button" className="primary" onClick={() => void logout()}>
              Log in again to decide
            </button>
          )}
        </div>
      ) : (
        error && <ErrorBox error={error} />
      )}
      {actions.approve && (
        <div className="decide">
          {r.stepUp && (
            <p className="hint">
              This flow needs a recent login to decide; Grantflow asks you to log in again if yours is older.
            </p>
          )}
          <div className="field">
            <label htmlFor="comment">Comment (optional)</label>
            <input id="comment" value={comment} onChange={(e) => setComment(e.target.value)} />
          </div>
          <button
            type="button"
            className="primary"
            disabled={busy !== undefined}
            onClick={() =>
              void act('approve', comment.trim() ? { comment: comment.trim() } : {}, 'Approved.')
            }
          >
            {busy === 'approve' ? 'Approving…' : 'Approve'}
          </button>
          <div className="field">
            <label htmlFor="deny-reason">Reason to deny</label>
            <input id="deny-reason" value={denyReason} onChange={(e) => setDenyReason(e.target.value)} />
          </div>
          <button
            type="button"
            className="danger"
            disabled={busy !== undefined || !denyReason.trim()}
            onClick={() => void act('deny', { reason: denyReason.trim() }, 'Denied.')}
          >
            {busy === 'deny' ? 'Denying…' : 'Deny'}
          </button>
        </div>
      )}
      {actions.cancel && (
        <button
          type="button"
          disabled={busy !== undefined}
          onClick={() => void act('cancel', {}, 'Cancelled.')}
        >
          {busy === 'cancel' ? 'Cancelling…' : 'Cancel request'}
        </button>
      )}
      {actions.extend && (
        <div className="inline">
          <label htmlFor="extend-by">Extend by</label>
          <input
            id="extend-by"
            value={extendBy}
            onChange={(e) => setExtendBy(e.target.value)}
            aria-invalid={extendMs === undefined ? true : undefined}
            size={6}
          />
          <button
            type="button"
            disabled={busy !== undefined || extendMs === undefined}
            onClick={() => void act('extend', { by: extendBy.trim() }, `Extended by ${extendBy.trim()}.`)}
          >
            {busy === 'extend' ? 'Extending…' : 'Extend'}
          </button>
        </div>
      )}
      {actions.revoke &&
        (confirmRevoke ? (
          <div className="inline" role="group" aria-label="Confirm revoke">
            <span>Revoke this access now? This cannot be undone.</span>
            <button
              type="button"
              className="danger"
              disabled={busy !== undefined}
              onClick={() => void act('revoke', { reason: 'revoked early in the portal' }, 'Revoke started.')}
            >
              {busy === 'revoke' ? 'Revoking…' : 'Yes, revoke now'}
            </button>
            <button type="button" onClick={() => setConfirmRevoke(false)}>
              Keep it
            </button>
          </div>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirmRevoke(true)}>
            Revoke now
          </button>
        ))}
    </div>
  );
}
