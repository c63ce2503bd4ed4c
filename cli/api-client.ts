/**
 * A small typed client of the HTTP API (/api/v1) for the CLI's API mode. The bearer token is the identity;
 * it is sent only in the Authorization header and never printed.
 */
import type { IssuedCredentials } from '../connectors/types';
import { redactUrl } from '../core/logger';
import type { RequestRow } from '../store/types';
import type { RequestView } from '../workflows/definitions';
import { ApiCallError, ApiUnreachableError } from './errors';

/** Where the API is and who is calling. */
export interface ApiSettings {
  baseUrl: string;
  token: string;
  /** @default 30_000 */
  timeoutMs?: number;
}

/** API mode is on when both GRANTFLOW_API_URL and GRANTFLOW_TOKEN are set. */
export function apiSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ApiSettings | undefined {
  const baseUrl = env.GRANTFLOW_API_URL?.trim();
  const token = env.GRANTFLOW_TOKEN?.trim();
  return baseUrl && token ? { baseUrl: baseUrl.replace(/\/+$/, ''), token } : undefined;
}

/** The body of POST /api/v1/requests. */
export interface ApiCreateInput {
  flow: string;
  resource: string;
  permission: string;
  /** A duration text such as `1h`. */
  duration?: string;
  reason?: string;
  idempotencyKey?: string;
}

/** The query of GET /api/v1/requests. */
export interface ApiListQuery {
  scope: 'mine' | 'approvals' | 'active' | 'all';
  status?: string;
  limit?: number;
}

/** One request as GET /api/v1/requests/:id answers: the view plus its audit timeline. */
export type ApiRequestDetail = RequestView & {
  timeline: { at: string; type: string; actor: string; channel: string }[];
};

export interface ApiClient {
  createRequest(input: ApiCreateInput): Promise<{ request: RequestRow; existing: boolean }>;
  listRequests(query: ApiListQuery): Promise<RequestRow[]>;
  getRequest(id: string): Promise<ApiRequestDetail>;
  approve(id: string, comment?: string): Promise<RequestView>;
  deny(id: string, reason: string): Promise<RequestView>;
  extend(id: string, by: string): Promise<RequestView>;
  revoke(id: string, reason?: string): Promise<RequestView>;
  cancel(id: string): Promise<RequestView>;
  credentials(id: string): Promise<IssuedCredentials>;
}

export function createApiClient(settings: ApiSettings): ApiClient {
  const call = <T>(method: string, path: string, body?: unknown) => apiCall<T>(settings, method, path, body);
  const action = (id: string, name: string, body: unknown) =>
    call<RequestView>('POST', `/api/v1/requests/${encodeURIComponent(id)}/${name}`, body);
  return {
    createRequest: (input) => call('POST', '/api/v1/requests', input),
    listRequests: (q) => {
      const params = new URLSearchParams({ scope: q.scope });
      if (q.status) params.set('status', q.status);
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      return call('GET', `/api/v1/requests?${params.toString()}`);
    },
    getRequest: (id) => call('GET', `/api/v1/requests/${encodeURIComponent(id)}`),
    approve: (id, comment) => action(id, 'approve', comment === undefined ? {} : { comment }),
    deny: (id, reason) => action(id, 'deny', { reason }),
    extend: (id, by) => action(id, 'extend', { by }),
    revoke: (id, reason) => action(id, 'revoke', reason === undefined ? {} : { reason }),
    cancel: (id) => action(id, 'cancel', {}),
    credentials: (id) => call('GET', `/api/v1/requests/${encodeURIComponent(id)}/credentials`),
  };
}

async function apiCall<T>(settings: ApiSettings, method: string, path: string, body?: unknown): Promise<T> {
  const shown = redactUrl(settings.baseUrl).replace(/\/$/, '');
  const timeoutMs = settings.timeoutMs ?? 30_000;
  let res: Response;
  try {
    res = await fetch(`${settings.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${settings.token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ApiUnreachableError(shown, whyUnreachable(err, timeoutMs));
  }
  const text = await res.text();
  const json = parseJson(text);
  if (res.ok) {
    if (json === undefined)
      throw new ApiCallError('bad_response', `${shown} did not answer JSON`, res.status);
    return json as T;
  }
  const error = (json as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
  throw new ApiCallError(
    error?.code ?? `http_${res.status}`,
    error?.message ?? `${shown} answered HTTP ${res.status} ${res.statusText}`.trim(),
    res.status,
    error?.field,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** fetch hides the reason (ECONNREFUSED, ENOTFOUND, ...) in `cause`; a timeout is an abort. */
function whyUnreachable(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${Math.round(timeoutMs / 1000)}s`;
  const cause =
    err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
