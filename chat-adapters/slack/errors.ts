import { WebClient } from '@slack/web-api';

/**
 * Errors of the Slack adapter. Each has a stable `code` and says whether trying again can help (`retryable`).
 * They are built from the Web API client's errors by copying only the method, Slack's error code and status:
 * the client's own errors can hold the request configuration, and with it the bot token.
 */

/** Base of every error the Slack adapter throws on purpose. */
export class SlackAdapterError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** True when the same call may succeed later (Slack down, rate limited); false when config or data must change. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'SlackAdapterError';
  }
}

/** Slack error codes that mean "try again later" rather than "this call is wrong". */
const TRANSIENT_SLACK_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
]);

/** Slack answered `ok: false`; `slackError` is Slack's own code, e.g. `channel_not_found` or `invalid_blocks`. */
export class SlackApiError extends SlackAdapterError {
  constructor(
    readonly method: string,
    readonly slackError: string,
    /** Slack's explanations (e.g. which block broke which limit), when it gave any. */
    readonly details: string[] = [],
  ) {
    const more = details.length > 0 ? ` (${details.join('; ')})` : '';
    super(
      'SLACK_API_ERROR',
      `Slack ${method} failed: ${slackError}${more}`,
      TRANSIENT_SLACK_ERRORS.has(slackError),
    );
    this.name = 'SlackApiError';
  }
}

/** Slack could not be reached, answered with an HTTP error, or kept rate-limiting past the client's retries. */
export class SlackUnavailableError extends SlackAdapterError {
  constructor(
    readonly method: string,
    reason: string,
  ) {
    super('SLACK_UNAVAILABLE', `Slack ${method} failed: ${reason}`, true);
    this.name = 'SlackUnavailableError';
  }
}

/** Slack answered `ok: true` without a field the adapter needs (e.g. the `ts` of a posted message). */
export class SlackResponseError extends SlackAdapterError {
  constructor(
    readonly method: string,
    missing: string,
  ) {
    super('SLACK_BAD_RESPONSE', `Slack ${method} answered without ${missing}`, false);
    this.name = 'SlackResponseError';
  }
}

interface WebApiErrorShape {
  code?: unknown;
  data?: { error?: unknown; response_metadata?: { messages?: unknown } };
  statusCode?: unknown;
  retryAfter?: unknown;
  original?: { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
}

/** Turns whatever the Web API client threw into one of the errors above, keeping nothing secret. */
export function fromWebApiError(method: string, err: unknown): SlackAdapterError {
  if (err instanceof SlackAdapterError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as WebApiErrorShape;
  switch (e.code) {
    case 'slack_webapi_platform_error': {
      const messages = e.data?.response_metadata?.messages;
      const details = Array.isArray(messages) ? messages.filter((m) => typeof m === 'string') : [];
      return new SlackApiError(method, String(e.data?.error ?? 'unknown_error'), details);
    }
    case 'slack_webapi_http_error':
      return new SlackUnavailableError(method, `HTTP ${String(e.statusCode)}`);
    case 'slack_webapi_rate_limited_error':
      return new SlackUnavailableError(method, `rate limited (retry after ${String(e.retryAfter)}s)`);
    case 'slack_webapi_request_error': {
      const cause = e.original?.cause;
      const why = cause?.code ?? cause?.message ?? e.original?.code ?? e.original?.message ?? 'no response';
      return new SlackUnavailableError(method, `request failed (${String(why)})`);
    }
    default:
      return new SlackUnavailableError(
        method,
        err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      );
  }
}

/** Slack settings that cannot work (a token of the wrong kind); refused at start with the reason. */
export class SlackSettingsError extends Error {
  readonly code = 'SLACK_SETTINGS_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SlackSettingsError';
  }
}

/** A Slack installation (a workspace connected with OAuth) cannot be stored or read, with the reason. */
export class SlackInstallationError extends Error {
  readonly code = 'SLACK_INSTALLATION';
  constructor(message: string) {
    super(message);
    this.name = 'SlackInstallationError';
  }
}

/** Slack has no bot token: no workspace is connected and SLACK_BOT_TOKEN is not set. */
export class SlackOffError extends SlackAdapterError {
  constructor(readonly method: string) {
    super(
      'SLACK_OFF',
      `Slack is off (no workspace connected in the portal and no SLACK_BOT_TOKEN): ${method} was not sent`,
      false,
    );
    this.name = 'SlackOffError';
  }
}

/** Where a Slack client comes from each time it is needed (the token in use may change: OAuth, disconnect). */
export type SlackClientSource = () => Promise<WebClient | undefined>;

/** The client to call `method` with now; SlackOffError when there is none. */
export async function slackClientOf(
  source: WebClient | SlackClientSource,
  method: string,
): Promise<WebClient> {
  const client = source instanceof WebClient ? source : await source();
  if (!client) throw new SlackOffError(method);
  return client;
}
