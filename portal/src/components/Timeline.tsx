/** A request's audit timeline: requested, each decision, granted, extended, revoked — who, when, where. */
import { eventKind, eventWords, formatTime } from '../format';
import type { TimelineEvent } from '../types';

export function Timeline({ events }: { events: TimelineEvent[] }) {
  if (events.length === 0) return <p className="state empty">No events recorded yet.</p>;
  return (
    <ol className="timeline" aria-label="Timeline">
      {events.map((e, i) => {
        const note = noteOf(e);
        return (
          <li key={`${e.at}-${e.type}-${i}`} data-event={eventKind(e.type)}>
            <time dateTime={e.at}>{formatTime(e.at)}</time>
            <span>{eventWords(e)}</span>
            {note && <q>{note}</q>}
          </li>
        );
      })}
    </ol>
  );
}

/** The human part of an event's details: a comment or a reason, when there is one. */
function noteOf(e: TimelineEvent): string | undefined {
  const d = e.details ?? {};
  for (const key of ['comment', 'reason', 'error']) {
    const v = d[key];
    if (typeof v === 'string' && v.trim()) return v;
  }
  return undefined;
}
