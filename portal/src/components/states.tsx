/** Loading, error and empty states: every list and page says plainly which one it is in. */
import type { ReactNode } from 'react';
import type { ApiError } from '../api';

export function Loading({ what }: { what: string }) {
  return (
    <p className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: ApiError; retry?: () => void }) {
  return (
    <div className="error" role="alert">
      <p>
        <strong>{error.status === 403 ? 'Not allowed' : 'Something went wrong'}:</strong> {error.message}
      </p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** Load → error → empty → content, in that order. */
export function Loaded<T>(props: {
  what: string;
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload: () => void;
  empty?: (d: T) => ReactNode | false;
  children: (d: T) => ReactNode;
}) {
  if (props.loading) return <Loading what={props.what} />;
  if (props.error && props.data === undefined) return <ErrorBox error={props.error} retry={props.reload} />;
  if (props.data === undefined) return null;
  const empty = props.empty?.(props.data);
  return (
    <>
      {props.error && <ErrorBox error={props.error} retry={props.reload} />}
      {empty ? <Empty>{empty}</Empty> : props.children(props.data)}
    </>
  );
}
