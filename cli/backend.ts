/**
 * What the request commands run against: the HTTP API when GRANTFLOW_API_URL and GRANTFLOW_TOKEN are set
 * (the token is the identity), else Temporal and the store directly (operator mode, `--as` names the actor).
 */
import type { IssuedCredentials } from '../connectors/types';
import type { RequestRow } from '../store/types';
import type { RequestView } from '../workflows/definitions';
import { apiSettingsFromEnv } from './api-client';
import { apiBackend } from './backend-api';
import { operatorBackend } from './backend-operator';
import type { GlobalOptions } from './context';

/** A new request, as the `request` command takes it (durations already checked to parse). */
export interface BackendCreateInput {
  flow: string;
  resource: string;
  permission: string;
  duration?: string;
  reason: string;
  idempotencyKey?: string;
}

/** The `list` command's filters. `scope` is API mode's; `requester` operator mode's. */
export interface BackendListInput {
  status?: string;
  requester?: string;
  scope?: string;
  limit: number;
}

/** The request use cases, either over the API or directly; every method acts as the CLI's identity. */
export interface RequestBackend {
  create(input: BackendCreateInput): Promise<{ request: RequestRow; existing: boolean }>;
  get(id: string): Promise<RequestView>;
  decide(id: string, decision: 'approve' | 'deny', text?: string): Promise<RequestView>;
  extend(id: string, by: string): Promise<RequestView>;
  revoke(id: string, reason?: string): Promise<RequestView>;
  cancel(id: string): Promise<RequestView>;
  list(filter: BackendListInput): Promise<RequestRow[]>;
  /** The sign-in a temporary-user grant made, for its requester (API mode only). */
  credentials(id: string): Promise<IssuedCredentials>;
  close(): Promise<void>;
}

/** Opens the backend the environment asks for; in API mode no config file or Temporal is touched. */
export async function openBackend(options: GlobalOptions): Promise<RequestBackend> {
  const api = apiSettingsFromEnv();
  if (api) {
    if (options.as)
      console.error(`grantflow: note: --as is ignored in API mode; GRANTFLOW_TOKEN's identity acts`);
    return apiBackend(api);
  }
  return operatorBackend(options);
}

const UNSETTLED = ['APPROVED', 'GRANTING', 'REVOKING', 'REVOKE_OVERDUE', 'PENDING_APPROVAL'];

/** Polls until the request is ACTIVE or resolved, or the timeout passes (then returns the last view). */
export async function waitUntilSettled(
  backend: RequestBackend,
  id: string,
  timeoutMs: number,
): Promise<RequestView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await backend.get(id);
    if (!UNSETTLED.includes(view.status) || Date.now() > deadline) return view;
    await new Promise((r) => setTimeout(r, 250));
  }
}
