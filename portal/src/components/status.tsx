/** A request's status as a badge, and its live countdown. */
import { countdown, statusTone, statusWords } from '../format';
import { useNow } from '../hooks';
import type { RequestStatus } from '../types';

export function StatusBadge({ status }: { status: RequestStatus }) {
  return (
    <span className={`badge badge-${statusTone(status)}`} data-status={status}>
      {statusWords(status)}
    </span>
  );
}

export function Countdown({ expiresAt }: { expiresAt: string }) {
  const now = useNow();
  const text = countdown(expiresAt, now);
  return (
    <span className="countdown" data-testid="countdown" title={new Date(expiresAt).toLocaleString()}>
      <span className="visually-hidden">Time left: </span>
      {text}
    </span>
  );
}
