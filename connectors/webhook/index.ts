/**
 * The webhook connector: access lives in another system, which Grantflow tells of each grant and revoke by a
 * signed JSON event POSTed to its URL. The receiver owns the access, so Grantflow cannot look at it: there is no
 * `check`, listAccess is empty, and each request's grant and revoke is sent on its own (`sharesAccess: false`).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { logger as defaultLogger } from '../../core/logger';
import { WrongIntegrationError } from '../errors';
import type {
  AccessTarget,
  Connector,
  ExistingAccess,
  GrantRequest,
  GrantResult,
  HealthCheck,
  HealthResult,
  RevokeRequest,
  RevokeResult,
} from '../types';
import { checkResolvedWebhookConfig, type WebhookIntegrationConfig } from './config';
import { attemptOnce, send, type SenderOptions } from './deliver';
import {
  UnknownPermissionError,
  WebhookConfigError,
  WebhookRejectedError,
  WebhookUnavailableError,
} from './errors';

/** A health check answers quickly: one attempt, at most this long (or `timeout`, if shorter). */
const HEALTH_TIMEOUT_MS = 5_000;

/** The JSON body of a grant or revoke event; documented in docs/connectors/webhook.md. */
export interface WebhookEvent {
  id: string;
  type: 'grant' | 'revoke';
  integration: string;
  requestId: string;
  account: string;
  permission: string;
  /** Grant only: when Grantflow will revoke the access unless the grant is extended (ISO 8601). */
  expiresAt?: string;
  /** Grant only: the latest the grant could end with every extension its flow allows: a backstop (ISO 8601). */
  latestEnd?: string;
  /** When the event was first sent (ISO 8601); the same on the connector's retries. */
  sentAt: string;
}

/** Creates the connector of one `type: webhook` integration. Sends nothing until used. */
export function createWebhookConnector(
  name: string,
  config: WebhookIntegrationConfig,
  deps: { log?: Logger } = {},
): Connector {
  return new WebhookConnector(
    name,
    config,
    (deps.log ?? defaultLogger).child({ integration: name, connector: 'webhook' }),
  );
}

class WebhookConnector implements Connector {
  readonly type = 'webhook';
  /** The receiver owns the access and gets the requestId of each grant: Grantflow keeps no holder count for it. */
  readonly sharesAccess = false;
  private readonly configProblem: string | undefined;
  /** Where events go, for messages and logs: the URL's origin only (its path or query may hold a token). */
  private readonly endpoint: string;
  private readonly sender: SenderOptions;

  constructor(
    private readonly name: string,
    private readonly config: WebhookIntegrationConfig,
    private readonly log: Logger,
  ) {
    this.configProblem = checkResolvedWebhookConfig(config);
    this.endpoint = this.configProblem ? 'the receiver' : new URL(config.url).origin;
    this.sender = {
      url: config.url,
      secret: config.secret,
      timeoutMs: config.timeout,
      headers: config.headers,
      userAgent: `grantflow/${grantflowVersion()}`,
      log,
    };
  }

  async grant(request: GrantRequest): Promise<GrantResult> {
    const event = this.event('grant', request.target, request.requestId, {
      expiresAt: request.expiresAt.toISOString(),
      latestEnd: (request.latestEnd ?? request.expiresAt).toISOString(),
    });
    const response = await this.deliver(event);
    const details: GrantResult['details'] = {
      eventId: event.id,
      status: response.status,
      attempts: response.attempts,
    };
    if (typeof response.body?.alreadyPresent === 'boolean')
      details.alreadyPresent = response.body.alreadyPresent;
    return { details };
  }

  async revoke(request: RevokeRequest): Promise<RevokeResult> {
    const response = await this.deliver(this.event('revoke', request.target, request.requestId));
    const alreadyAbsent = response.body?.alreadyAbsent === true;
    // The receiver ends what it must; Grantflow cannot count sessions in another system.
    return { alreadyAbsent, sessionsTerminated: 0 };
  }

  /** The receiver keeps the access; Grantflow cannot list it. */
  async listAccess(): Promise<ExistingAccess[]> {
    return [];
  }

  async checkHealth(): Promise<HealthResult> {
    const started = performance.now();
    const checks: HealthCheck[] = [];
    const done = (): HealthResult => {
      const failed = checks.find((c) => !c.ok);
      return {
        ok: !failed,
        ...(failed ? { message: `${failed.name}: ${failed.message}` } : {}),
        latencyMs: Math.round(performance.now() - started),
        checks,
      };
    };
    if (this.configProblem) {
      checks.push({ name: 'config', ok: false, message: this.configProblem });
      return done();
    }
    checks.push({ name: 'config', ok: true });
    const id = `evt_${randomUUID()}`;
    const body = JSON.stringify({
      id,
      type: 'ping',
      integration: this.name,
      sentAt: new Date().toISOString(),
    });
    const result = await attemptOnce(
      { ...this.sender, timeoutMs: Math.min(this.sender.timeoutMs, HEALTH_TIMEOUT_MS) },
      id,
      body,
    );
    if (result.ok)
      checks.push({ name: 'ping', ok: true, message: `${this.endpoint} answered ${result.status}` });
    else {
      const hint =
        result.failure.status === 401 || result.failure.status === 403
          ? ' (does the receiver use the same secret?)'
          : '';
      checks.push({ name: 'ping', ok: false, message: `${this.endpoint} ${result.failure.detail}${hint}` });
    }
    return done();
  }

  async close(): Promise<void> {
    // Nothing to release: fetch's connection pool is process-wide.
  }

  private event(
    type: 'grant' | 'revoke',
    target: AccessTarget,
    requestId: string,
    ends?: { expiresAt: string; latestEnd: string },
  ): WebhookEvent {
    if (target.integration !== this.name) throw new WrongIntegrationError(this.name, target.integration);
    if (!Object.hasOwn(this.config.permissions, target.permission)) {
      throw new UnknownPermissionError(this.name, target.permission, Object.keys(this.config.permissions));
    }
    return {
      id: `evt_${randomUUID()}`,
      type,
      integration: this.name,
      requestId,
      account: target.account,
      permission: target.permission,
      ...ends,
      sentAt: new Date().toISOString(),
    };
  }

  /** Sends the event with the connector's quick retries; throws a ConnectorError saying whether to retry. */
  private async deliver(
    event: WebhookEvent,
  ): Promise<{ status: number; attempts: number; body: Record<string, unknown> | undefined }> {
    if (this.configProblem) throw new WebhookConfigError(this.name, this.configProblem);
    const { id, type, requestId, account, permission } = event;
    // Its retries' lines name the request too.
    const sender = { ...this.sender, log: this.log.child({ requestId }) };
    const result = await send(sender, id, JSON.stringify(event), this.config.retries);
    if (!result.ok) {
      const { failure, attempts } = result;
      if (!failure.retryable) throw new WebhookRejectedError(this.name, type, this.endpoint, failure);
      throw new WebhookUnavailableError(this.name, type, this.endpoint, attempts, failure);
    }
    this.log.info(
      {
        requestId,
        eventId: id,
        event: type,
        account,
        permission,
        status: result.status,
        attempts: result.attempts,
      },
      'webhook delivered',
    );
    return { status: result.status, attempts: result.attempts, body: result.response };
  }
}

let version: string | undefined;

/** Grantflow's version from its package.json (this file runs from the checkout or from dist/). */
function grantflowVersion(): string {
  if (version) return version;
  version = '0.0.0';
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'grantflow' && parsed.version) version = parsed.version;
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return version;
}
