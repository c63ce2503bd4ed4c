/**
 * Starts the API server with what is configured: liveness, readiness and metrics always; Slack's
 * POST /slack/events when Slack is set up (else one line saying how to turn it on). Also the worker process's
 * small health listener (startHealthServer): the same /livez, /readyz and /metrics, nothing else.
 */
import type { Logger } from 'pino';
import { createSlackApp, slackClientOptions, type SlackIntegration } from '../chat-adapters/slack/app';
import { SlackConnection } from '../chat-adapters/slack/connection';
import { KnexInstallationStore } from '../chat-adapters/slack/installation-store';
import { missingOAuthSettings, SLACK_OFF_MESSAGE, slackSettings } from '../chat-adapters/slack/settings';
import { keyringFromEnv } from '../core/keyring';
import { registerIntegrationRoutes } from './integrations/routes';
import { checkIntervalFromEnv, IntegrationsService } from './integrations/service';
import { registerSlackOAuth } from './integrations/slack-oauth';
import type { AppContext } from '../core/context';
import type { Metrics } from '../core/metrics';
import type { FastifyInstance } from 'fastify';
import type { ServiceClientCredentialsFactory } from 'botframework-connector';
import { createTeamsApp, type TeamsIntegration } from '../chat-adapters/teams/app';
import { TEAMS_OFF_MESSAGE, teamsSettings, type TeamsSettings } from '../chat-adapters/teams/settings';
import { registerApi } from './api/routes';
import { authSettingsFromEnv, registerAuth, type AuthSettings } from './auth';
import { buildServer, type DrainState, type ReadinessCheck } from './app';
import { registerCodecEndpoint } from './codec-endpoint';
import { standardChecks } from './checks';
import { registerPortal } from './portal';

export interface ApiServerOptions {
  ctx: AppContext;
  metrics: Metrics;
  log: Logger;
  port: number;
  host: string;
  /** Retries of Slack Web API calls; tests use 0. */
  slackRetries?: number;
  /** `grantflow dev`: on loopback, Teams accepts unauthenticated activities when no app id is set. */
  devMode?: boolean;
  /** Teams settings instead of those from the config and environment (tests). */
  teamsSettings?: TeamsSettings;
  /** Outgoing Bot Framework credentials (tests: no cloud identity service). */
  teamsCredentialsFactory?: ServiceClientCredentialsFactory;
  /** Browser login settings instead of those from the environment (tests). */
  authSettings?: AuthSettings;
  /** Dev login (POST /auth/dev) regardless of devMode (tests); defaults to devMode. */
  devLogin?: boolean;
  /** The Temporal Web UI's URL, for links to each request's workflow; defaults to GRANTFLOW_TEMPORAL_UI_URL. */
  temporalUiUrl?: string;
  /** The built portal's folder (tests); defaults to dist/portal. */
  portalDir?: string;
  /** Seconds between background connector checks (0: on demand only). @default GRANTFLOW_INTEGRATION_CHECK_INTERVAL, else 300 */
  integrationCheckIntervalSeconds?: number;
}

export interface ApiServer {
  url: string;
  slack?: SlackIntegration;
  teams: TeamsIntegration;
  /** The state of every integration (the admin Integrations page), and the routing warnings. */
  integrations: IntegrationsService;
  /** Every route registered after start-up hooks (method and URL pattern). */
  routes: { method: string; url: string }[];
  /** Shutdown has begun: /readyz answers 503 from now on, while requests are still served. */
  beginShutdown(): void;
  /** Stops Slack's Socket Mode, then stops accepting connections and lets in-flight requests finish. */
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { ctx, log } = options;
  const drain: DrainState = { draining: false };
  const app = buildServer({
    log,
    metrics: options.metrics,
    checks: standardChecks(ctx.store, ctx.client),
    drain,
  });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
  });
  registerApi(app, ctx, { temporalUi: options.temporalUiUrl ?? process.env.GRANTFLOW_TEMPORAL_UI_URL });
  const portal = registerPortal(app, options.portalDir);
  if (!portal.built) log.warn('the portal is not built (run npm run build): / explains how');
  // Dev login (pick any identity) only in dev mode and only on loopback, like Teams' unauthenticated mode.
  const devLogin = options.devLogin ?? (options.devMode === true && isLoopback(options.host));
  registerAuth(app, {
    ctx,
    settings: options.authSettings ?? authSettingsFromEnv(process.env, `http://localhost:${options.port}`),
    devLogin,
  });
  registerCodecEndpoint(app, {
    ctx,
    metrics: options.metrics,
    allowedOrigins: [options.temporalUiUrl ?? process.env.GRANTFLOW_TEMPORAL_UI_URL],
  });
  if (devLogin)
    log.warn('dev login is on: anyone who reaches this server can log in as any identity (/auth/dev)');
  const settings = slackSettings(ctx.config());
  const keyring = keyringFromEnv();
  const installations = new KnexInstallationStore(ctx.store.knex, () => keyring);
  const connection = settings
    ? new SlackConnection(settings, installations, slackClientOptions(settings, options.slackRetries))
    : undefined;
  let slack: SlackIntegration | undefined;
  if (settings) {
    slack = createSlackApp({ settings, ctx, log, retries: options.slackRetries, connection });
    slack.mount(app);
    try {
      await slack.start();
    } catch (err) {
      await app.close();
      throw err;
    }
    log.info(settings.appToken ? 'Slack is on (Socket Mode)' : 'Slack is on: POST /slack/events');
    if (settings.oauth)
      log.info('Connect Slack is on: GET /slack/install (admins, from the Integrations page)');
  } else {
    log.info(SLACK_OFF_MESSAGE);
  }
  const teams = mountTeams(app, options);
  const integrations = new IntegrationsService({
    ctx,
    log,
    slack: { settings, connection },
    installations,
    teams: options.teamsSettings ?? teamsSettings(ctx.config()),
    keyring: () => keyring,
    checkIntervalSeconds: options.integrationCheckIntervalSeconds ?? checkIntervalFromEnv(),
  });
  app.addHook('onClose', async () => integrations.close());
  registerIntegrationRoutes(app, ctx, integrations);
  registerSlackOAuth(app, {
    ctx,
    log,
    oauth: settings?.oauth,
    missing: missingOAuthSettings(),
    connection,
    installations,
    keyring: () => keyring,
    service: integrations,
  });
  await app.listen({ port: options.port, host: options.host });
  integrations.startPeriodicChecks();
  // Flows that notify where nobody will see it: said once at start (npm start prints it too), and on the page.
  void integrations.routing(true).then(
    (warnings) => {
      for (const w of warnings)
        log.warn({ platform: w.platform, channel: w.channel, flows: w.flows, problem: w.problem }, w.message);
    },
    (err: unknown) => log.warn({ err: String(err) }, 'could not check where flows send notifications'),
  );
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${options.host === '0.0.0.0' ? 'localhost' : options.host}:${port}`,
    slack,
    teams,
    integrations,
    routes,
    beginShutdown() {
      drain.draining = true;
    },
    async close() {
      drain.draining = true;
      await slack?.stop(); // Socket Mode: no new events
      await app.close();
    },
  };
}

export interface HealthServerOptions {
  log: Logger;
  metrics: Metrics;
  checks: ReadinessCheck[];
  port: number;
  host: string;
}

export interface HealthServer {
  url: string;
  /** Shutdown has begun: /readyz answers 503 from now on; /livez and /metrics still answer. */
  beginShutdown(): void;
  close(): Promise<void>;
}

/** The worker process's health listener: /livez, /readyz (its checks), /metrics (the process's registry). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const drain: DrainState = { draining: false };
  const app = buildServer({ ...options, drain, traceRequests: false });
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${options.host === '0.0.0.0' ? 'localhost' : options.host}:${port}`,
    beginShutdown() {
      drain.draining = true;
    },
    close: () => app.close(),
  };
}

function mountTeams(app: FastifyInstance, options: ApiServerOptions): TeamsIntegration {
  const { ctx, log } = options;
  const settings = options.teamsSettings ?? teamsSettings(ctx.config());
  const loopback = isLoopback(options.host);
  const allowUnauthenticated = !settings.appId && options.devMode === true && loopback;
  const teams = createTeamsApp({
    settings,
    ctx,
    log,
    allowUnauthenticated,
    credentialsFactory: options.teamsCredentialsFactory,
  });
  teams.mount(app);
  if (settings.appId) log.info('Teams is on: POST /api/messages');
  else if (allowUnauthenticated)
    log.warn(
      'Teams has no app id: dev mode accepts UNAUTHENTICATED activities on loopback at /api/messages (Bot Framework Emulator)',
    );
  else log.info(TEAMS_OFF_MESSAGE);
  return teams;
}

function isLoopback(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1'].includes(host);
}
