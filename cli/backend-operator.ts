/**
 * Operator mode: the request commands straight against Temporal and the store, acting as `--as` (or
 * GRANTFLOW_USER), which must be an identity in the config.
 */
import { CredentialsNeedApiModeError } from './errors';
import { createRequest } from '../core/create-request';
import { InvalidInputError } from '../core/errors';
import {
  cancelRequest,
  decideRequest,
  extendRequest,
  getRequest,
  revokeRequest,
} from '../core/request-actions';
import { parseDuration } from '../policy/duration';
import type { RequestStatus } from '../workflows/definitions';
import type { RequestBackend } from './backend';
import { actorFrom, openContext, type GlobalOptions } from './context';

export async function operatorBackend(options: GlobalOptions): Promise<RequestBackend> {
  const ctx = await openContext(options);
  // Resolved per call: `status` and `list` need no acting identity.
  const actor = () => actorFrom(options, ctx.config());
  return {
    create: ({ duration, ...input }) =>
      createRequest(ctx, actor(), {
        ...input,
        durationMs: duration === undefined ? undefined : parseDuration(duration),
      }),
    get: (id) => getRequest(ctx, id),
    decide: (id, decision, text) => decideRequest(ctx, actor(), id, decision, text),
    extend: (id, by) => extendRequest(ctx, actor(), id, parseDuration(by) as number),
    revoke: (id, reason) => revokeRequest(ctx, actor(), id, reason),
    cancel: (id) => cancelRequest(ctx, actor(), id),
    list: (filter) => {
      if (filter.scope) throw new InvalidInputError('--scope is for API mode (GRANTFLOW_API_URL)', 'scope');
      return ctx.store.listRequests({
        status: filter.status ? (filter.status.toUpperCase() as RequestStatus) : undefined,
        requester: filter.requester?.toLowerCase(),
        limit: filter.limit,
      });
    },
    credentials: async () => {
      throw new CredentialsNeedApiModeError();
    },
    close: () => ctx.close(),
  };
}
