/** Data loading for pages: one fetch, optional polling, and honest loading/error state. */
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from './api';

export interface Loaded<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload(): void;
}

/** GETs `path` (null: nothing yet), again every `pollMs` while the page is visible. */
export function useApi<T>(path: string | null, pollMs?: number): Loaded<T> {
  const [tick, setTick] = useState(0);
  const [result, setResult] = useState<{ path: string; data?: T; error?: ApiError }>();

  useEffect(() => {
    if (path === null) return;
    let live = true;
    api<T>(path).then(
      (data) => {
        if (live) setResult({ path, data });
      },
      (e: unknown) => {
        const error = e instanceof ApiError ? e : new ApiError(0, 'client', String(e));
        // A failed refresh keeps what was shown, with the error beside it.
        if (live) setResult((prev) => ({ path, data: prev?.path === path ? prev.data : undefined, error }));
      },
    );
    return () => {
      live = false;
    };
  }, [path, tick]);

  useEffect(() => {
    if (!pollMs || path === null) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, pollMs);
    return () => clearInterval(timer);
  }, [pollMs, path]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = result?.path === path ? result : undefined;
  return { data: current?.data, error: current?.error, loading: path !== null && !current, reload };
}

/** The current time, updated every second: drives countdowns. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** Sets the document title, so screen readers and tabs say which page this is. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Grantflow`;
  }, [title]);
}
