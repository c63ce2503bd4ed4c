/**
 * "Connect Slack": Slack's OAuth v2 install through Bolt's installer (@slack/oauth InstallProvider), on the API
 * server.
 *
 *   GET /slack/install          an admin's browser session only; sets the state cookie and redirects to Slack
 *   GET /slack/oauth_redirect   Slack sends the browser back here with `code` and `state`
 *
 * The state is signed with SLACK_STATE_SECRET, dated, tied to the browser by a cookie (InstallProvider's check)
 * and usable once (oauth-state.ts). It carries the admin who started, who must still be an admin when Slack
 * sends them back. These routes are exempt from CSRF tokens (server/auth/csrf.ts): `state` protects them.
 * The bot token goes straight into the encrypted installation store; success and refusals go back to the
 * portal's Integrations page (as a code only: the page has its own words for each), and a connection is audited.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { InstallProvider, type CodedError, type Installation, type InstallURLOptions } from '@slack/oauth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { SlackConnection } from '../../chat-adapters/slack/connection';
import type { KnexInstallationStore } from '../../chat-adapters/slack/installation-store';
import { OneTimeStateStore, STATE_TTL_SECONDS } from '../../chat-adapters/slack/oauth-state';
import type { SlackOAuthSettings } from '../../chat-adapters/slack/settings';
import type { AppContext } from '../../core/context';
import type { Keyring } from '../../core/keyring';
import { callerOf } from '../api/access';
import { ForbiddenError, UnauthenticatedError } from '../api/errors';
import { SlackOAuthUnavailableError } from './errors';
import type { IntegrationsService } from './service';

/** Where the browser lands after the round trip (the portal's Integrations page). */
export const INTEGRATIONS_PAGE = '/admin/integrations';

export interface SlackOAuthOptions {
  ctx: AppContext;
  log: Logger;
  /** Undefined when SLACK_CLIENT_ID & co. are not set: both routes then explain what is missing. */
  oauth?: SlackOAuthSettings;
  missing: string[];
  connection?: SlackConnection;
  installations?: KnexInstallationStore;
  keyring: () => Keyring | undefined;
  service: IntegrationsService;
}

/** Why a connection did not happen, as the page's `slack_error` code. */
type FailureCode =
  | 'access_denied'
  | 'invalid_state'
  | 'missing_state'
  | 'missing_code'
  | 'oauth_failed'
  | 'other_workspace'
  | 'not_admin'
  | 'no_encryption_keys';

export function registerSlackOAuth(server: FastifyInstance, options: SlackOAuthOptions): void {
  const { ctx, log, oauth } = options;
  const installer =
    oauth && options.installations && options.connection
      ? new InstallProvider({
          clientId: oauth.clientId,
          clientSecret: oauth.clientSecret,
          stateStore: new OneTimeStateStore(ctx.store.knex, oauth.stateSecret, STATE_TTL_SECONDS),
          stateCookieExpirationSeconds: STATE_TTL_SECONDS,
          installationStore: options.installations,
          authorizationUrl: oauth.authorizeUrl,
          // The portal's button is the landing page: go straight to Slack's consent screen.
          directInstall: true,
          clientOptions: options.connection.options,
          logger: oauthLogger(log),
        })
      : undefined;

  server.get('/slack/install', async (req, reply) => {
    let admin: string;
    try {
      admin = await requireAdminSession(ctx, req);
      if (!installer)
        throw new SlackOAuthUnavailableError(
          `Connect Slack is not configured: set ${options.missing.join(', ')} (docs/integrations.md)`,
        );
      if (!options.keyring())
        throw new SlackOAuthUnavailableError(
          'GRANTFLOW_ENCRYPTION_KEYS is not set: Grantflow stores the Slack bot token encrypted with it (docs/encryption.md)',
        );
    } catch (err) {
      return page(reply, err);
    }
    const installOptions: InstallURLOptions = {
      scopes: oauth!.scopes,
      redirectUri: oauth!.redirectUri,
      metadata: JSON.stringify({ installedBy: admin }),
    };
    reply.hijack();
    try {
      await installer.handleInstallPath(req.raw, reply.raw, undefined, installOptions);
    } catch (err) {
      log.error({ err: messageOf(err) }, 'could not start the Slack install');
      failHijacked(reply.raw, 500, 'Could not start the Slack install; see the server log.');
    }
  });

  server.get('/slack/oauth_redirect', async (req, reply) => {
    if (!installer)
      return page(reply, new SlackOAuthUnavailableError('Connect Slack is not configured on this server'));
    reply.hijack();
    const res = reply.raw;
    let replaced: string | undefined;
    try {
      await installer.handleCallback(req.raw, res, {
        afterInstallation: async (installation, installOptions, _req, callbackRes) => {
          const refusal = await refuse(installation, installOptions);
          if (!refusal) {
            // list(), not current(): a token that no longer opens (a removed key) must not stop its replacement.
            replaced = (await options.installations!.list())[0]?.teamId;
            return true;
          }
          // The token Slack just issued is not kept: revoke it, so no live token is left behind.
          const token = installation.bot?.token;
          if (token)
            await options
              .connection!.clientFor(token)
              .auth.revoke()
              .catch(() => undefined);
          log.warn(
            { teamId: installation.team?.id, code: refusal.code },
            `refused a Slack install: ${refusal.message}`,
          );
          backToPage(callbackRes, { slack_error: refusal.code });
          return false;
        },
        successAsync: async (installation, installOptions, _req, callbackRes) => {
          const by = installedBy(installOptions) ?? 'unknown';
          await ctx.store.appendAudit({
            eventKey: `integration:slack_connected:${randomUUID()}`,
            type: 'integration.slack_connected',
            actor: by,
            channel: 'portal',
            details: {
              teamId: installation.team?.id ?? installation.enterprise?.id,
              ...(installation.team?.name ? { teamName: installation.team.name } : {}),
              ...(installation.enterprise?.id ? { enterpriseId: installation.enterprise.id } : {}),
              botUserId: installation.bot?.userId,
              scopes: installation.bot?.scopes ?? [],
              reconnected: replaced !== undefined,
            },
          });
          options.service.invalidate();
          log.info({ teamId: installation.team?.id, by }, 'Slack workspace connected');
          backToPage(callbackRes, { slack: 'connected' });
        },
        failureAsync: async (error, _installOptions, _req, callbackRes) => {
          const code = failureCode(error);
          log.warn({ code, err: failureMessage(code, error) }, 'a Slack install did not complete');
          backToPage(callbackRes, { slack_error: code });
        },
      });
    } catch (err) {
      log.error({ err: messageOf(err) }, 'the Slack install callback failed');
      failHijacked(res, 500, 'The Slack install failed; see the server log.');
    }
  });

  /** Whether an install Slack completed may be kept. */
  async function refuse(
    installation: Installation,
    installOptions: InstallURLOptions,
  ): Promise<{ code: FailureCode; message: string } | undefined> {
    const by = installedBy(installOptions);
    if (!by || !options.service.isAdmin(by))
      return {
        code: 'not_admin',
        message: `${by ?? 'The person who started'} is no longer a Grantflow admin`,
      };
    // This server may not be the one that started the install: it too must be able to seal the token.
    if (!options.keyring())
      return { code: 'no_encryption_keys', message: 'GRANTFLOW_ENCRYPTION_KEYS is not set on this server' };
    const current = (await options.installations!.list())[0];
    // An org-wide install is kept under its enterprise id, which the view shows as its teamId.
    const team = installation.isEnterpriseInstall ? installation.enterprise?.id : installation.team?.id;
    if (current && current.teamId !== team)
      return {
        code: 'other_workspace',
        message: `Grantflow is connected to ${current.teamName ?? current.teamId}; disconnect it before connecting another workspace`,
      };
    return undefined;
  }
}

/** The admin behind a browser session, or an error saying what is needed. */
async function requireAdminSession(ctx: AppContext, req: FastifyRequest): Promise<string> {
  // Only a browser session: the install is a redirect a person follows, never an API token's call.
  if (req.headers.authorization !== undefined)
    throw new ForbiddenError('Connect Slack from the portal, logged in as an admin (not with an API token)');
  const caller = await callerOf(ctx, req);
  if (!caller.admin) throw new ForbiddenError('Only a Grantflow admin can connect Slack');
  return caller.identity.email;
}

function installedBy(installOptions: InstallURLOptions | undefined): string | undefined {
  try {
    const meta = JSON.parse(installOptions?.metadata ?? '') as { installedBy?: unknown };
    return typeof meta.installedBy === 'string' ? meta.installedBy : undefined;
  } catch {
    return undefined;
  }
}

function failureCode(error: CodedError): FailureCode {
  switch (error.code) {
    case 'slack_oauth_installer_authorization_error':
      return 'access_denied';
    case 'slack_oauth_invalid_state':
      return 'invalid_state';
    case 'slack_oauth_missing_state':
      return 'missing_state';
    case 'slack_oauth_missing_code':
      return 'missing_code';
    default:
      return 'oauth_failed';
  }
}

function failureMessage(code: FailureCode, error: CodedError): string {
  switch (code) {
    case 'access_denied':
      return 'The install was cancelled in Slack';
    case 'invalid_state':
      return 'This sign-in link is not valid any more (used already, expired, or started in another browser): use Connect Slack again';
    case 'missing_state':
    case 'missing_code':
      return 'Slack sent the browser back without what Grantflow needs: use Connect Slack again';
    default: {
      // Slack's own error code (e.g. invalid_code, bad_client_secret), never the request itself.
      const slack = (error as { data?: { error?: unknown } }).data?.error;
      return `Slack refused the install${typeof slack === 'string' ? ` (${slack})` : ''}: check SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and the app's redirect URL`;
    }
  }
}

/** Redirects the browser to the Integrations page with the outcome in the query. */
function backToPage(res: ServerResponse, query: Record<string, string>): void {
  res.statusCode = 302;
  res.setHeader('Location', `${INTEGRATIONS_PAGE}?${new URLSearchParams(query).toString()}`);
  res.setHeader('Cache-Control', 'no-store');
  res.end();
}

/** A small HTML page for a refusal before the round trip starts (the browser navigated here, it did not fetch). */
function page(reply: FastifyReply, err: unknown): FastifyReply {
  const status =
    err instanceof UnauthenticatedError
      ? 401
      : err instanceof ForbiddenError
        ? 403
        : err instanceof SlackOAuthUnavailableError
          ? 409
          : 500;
  const message = status === 500 ? 'Something went wrong; see the server log.' : messageOf(err);
  const login =
    status === 401 ? '<p><a href="/">Log in to the portal</a>, then use Connect Slack again.</p>' : '';
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Connect Slack</title></head><body>` +
        `<main><h1>Connect Slack</h1><p role="alert">${escapeHtml(message)}</p>${login}` +
        `<p><a href="${INTEGRATIONS_PAGE}">Back to Integrations</a></p></main></body></html>`,
    );
}

function failHijacked(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.end();
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(message);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** @slack/oauth's logger interface over pino. */
function oauthLogger(log: Logger) {
  const child = log.child({ component: 'slack-oauth' });
  const text = (msg: unknown[]) =>
    msg
      .map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m)))
      .join(' ');
  let level = 'info';
  return {
    debug: (...msg: unknown[]) => child.debug(text(msg)),
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: (l: string) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  } as unknown as NonNullable<ConstructorParameters<typeof InstallProvider>[0]['logger']>;
}
