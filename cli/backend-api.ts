/**
 * API mode: the request commands over the HTTP API, acting as GRANTFLOW_TOKEN's identity.
 */
import { InvalidInputError } from '../core/errors';
import { createApiClient, type ApiListQuery, type ApiSettings } from './api-client';
import type { RequestBackend } from './backend';

const SCOPES: ApiListQuery['scope'][] = ['mine', 'approvals', 'active', 'all'];

export function apiBackend(settings: ApiSettings): RequestBackend {
  const api = createApiClient(settings);
  return {
    create: (input) => api.createRequest(input),
    get: (id) => api.getRequest(id),
    decide: (id, decision, text) =>
      decision === 'approve' ? api.approve(id, text) : api.deny(id, text ?? ''),
    extend: (id, by) => api.extend(id, by),
    revoke: (id, reason) => api.revoke(id, reason),
    cancel: (id) => api.cancel(id),
    credentials: (id) => api.credentials(id),
    list: (filter) => {
      if (filter.requester)
        throw new InvalidInputError('--requester is for operator mode; in API mode use --scope', 'requester');
      const scope = (filter.scope ?? 'mine').toLowerCase() as ApiListQuery['scope'];
      if (!SCOPES.includes(scope))
        throw new InvalidInputError(`--scope must be one of ${SCOPES.join(', ')}`, 'scope');
      return api.listRequests({ scope, status: filter.status, limit: filter.limit });
    },
    close: async () => {},
  };
}
