/** A past moment as "5 min ago (26 Nov, 16:42:05)": relative for a glance, absolute to be sure. */
import { formatTime } from '../format';
import { useNow } from '../hooks';

/** "just now", "5 min ago", "3 h ago", "4 days ago". A time slightly ahead (clock skew) reads "just now". */
export function ago(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  if (ms < 45_000) return 'just now';
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(ms / 3_600_000);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(ms / 86_400_000)} days ago`;
}

/** `never` is what to say when there is no time (e.g. "never", "not checked yet"). */
export function When({ at, never = 'never' }: { at?: string; never?: string }) {
  // Relative words go stale slowly; a refresh every 15 s is plenty and cheap.
  const now = useNow(15_000);
  if (!at) return <span className="muted">{never}</span>;
  return (
    <time dateTime={at}>
      {ago(at, now)} <span className="muted">({formatTime(at)})</span>
    </time>
  );
}
