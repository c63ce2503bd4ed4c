/**
 * The portal's only way to the server: same-origin fetch with the session cookie, the session's CSRF token on
 * every state-changing call, and errors as ApiError with the server's code, message and field.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly loginUrl?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

/** Set after login (from /auth/me); sent as x-csrf-token on POSTs. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string; loginUrl?: string };
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'The Grantflow server cannot be reached. Check your connection and retry.',
    );
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as ErrorBody | undefined)?.error;
    throw new ApiError(
      res.status,
      e?.code ?? 'http_' + res.status,
      e?.message ?? `The server answered ${res.status} ${res.statusText}.`,
      e?.field,
      e?.loginUrl,
    );
  }
  return body as T;
}

/** POST with a fresh Idempotency-Key, so that a double click or a retry acts once. */
export function post<T>(path: string, body: unknown = {}): Promise<T> {
  return api<T>(path, { method: 'POST', body });
}

export function loginUrl(returnTo: string, stepUp = false): string {
  const q = new URLSearchParams({ returnTo });
  if (stepUp) q.set('stepUp', '1');
  return `/auth/login?${q.toString()}`;
}
