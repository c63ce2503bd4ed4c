/**
 * Errors of the webhook connector. Each carries `retryable` (see ConnectorError): true when the receiver may take
 * the event later (5xx, 408, 429, network, timeout), false when config or the receiver's rules must change.
 * No message ever holds the secret or the full URL (it may carry a token): only the URL's origin.
 */
import { ConnectorError } from '../errors';

/** The integration's resolved `url` or `secret` is unusable (checked after `${…}` references are resolved). */
export class WebhookConfigError extends ConnectorError {
  constructor(
    readonly integration: string,
    message: string,
  ) {
    super('WEBHOOK_CONFIG', `Integration "${integration}": ${message}`, false);
    this.name = 'WebhookConfigError';
  }
}

/** Shared by every connector (connectors/errors.ts); listed here with this module's errors. */
export { UnknownPermissionError } from '../errors';

/** What went wrong with one delivery attempt. */
export interface FailedAttempt {
  /** `status`: the receiver answered non-2xx; `timeout`: no answer in time; `network`: no connection. */
  kind: 'status' | 'timeout' | 'network';
  /** A short, secret-free description, e.g. `answered 503 Service Unavailable: "try later"`. */
  detail: string;
  /** The HTTP status, when the receiver answered. */
  status?: number;
  retryable: boolean;
}

/** The receiver refused the event (a 4xx other than 408/429, or a redirect): sending it again will not help. */
export class WebhookRejectedError extends ConnectorError {
  readonly status: number | undefined;
  constructor(
    readonly integration: string,
    readonly action: string,
    endpoint: string,
    failure: FailedAttempt,
  ) {
    super(
      'WEBHOOK_REJECTED',
      `Webhook ${action} of integration "${integration}" was refused by ${endpoint}: ${failure.detail}`,
      false,
    );
    this.name = 'WebhookRejectedError';
    this.status = failure.status;
  }
}

/** The receiver could not take the event now (5xx, 408, 429, network error, timeout), after the connector's retries. */
export class WebhookUnavailableError extends ConnectorError {
  readonly status: number | undefined;
  readonly kind: FailedAttempt['kind'];
  constructor(
    readonly integration: string,
    readonly action: string,
    endpoint: string,
    readonly attempts: number,
    failure: FailedAttempt,
  ) {
    super(
      'WEBHOOK_UNAVAILABLE',
      `Webhook ${action} of integration "${integration}" to ${endpoint} failed after ${attempts} ` +
        `attempt${attempts === 1 ? '' : 's'}: ${failure.detail}`,
      true,
    );
    this.name = 'WebhookUnavailableError';
    this.status = failure.status;
    this.kind = failure.kind;
  }
}
