/**
 * The Slack app: Bolt over the API server's POST /slack/events (or Socket Mode with an app-level token), with
 * an `authorize` function over the Slack connection: the workspace connected from the portal (OAuth), else
 * SLACK_BOT_TOKEN. The listeners only translate between Slack and the request use cases.
 */
import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppContext } from '../../core/context';
import { SlackDirectory } from './directory';
import { registerCommand } from './listeners/command';
import { registerDecisions } from './listeners/decisions';
import { registerDirectMessages } from './listeners/direct-message';
import { registerHome } from './listeners/home';
import { registerRequestModal } from './listeners/request-modal';
import { registerUninstall } from './listeners/uninstall';
import { FastifySlackReceiver } from './receiver';
import type { SlackSettings } from './settings';
import { SlackConnection } from './connection';
import { SlackOffError } from './errors';
import { KnexInstallationStore } from './installation-store';
import type { Knex } from 'knex';
import { keyringFromEnv, type Keyring } from '../../core/keyring';

export interface SlackAppOptions {
  settings: SlackSettings;
  ctx: AppContext;
  log: Logger;
  /** Retries of Web API calls; tests use 0. @default Slack's own policy */
  retries?: number;
  /** Where the bot token comes from. @default the connected workspace (OAuth), else SLACK_BOT_TOKEN */
  connection?: SlackConnection;
}

export interface SlackIntegration {
  app: App;
  /** The bot token in use and a client with it, asked afresh each time. */
  connection: SlackConnection;
  directory: SlackDirectory;
  /** Adds POST /slack/events to the API server (HTTP mode). */
  mount(server: FastifyInstance): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function slackClientOptions(settings: SlackSettings, retries?: number): WebClientOptions {
  return {
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
    ...(retries !== undefined ? { retryConfig: { retries } } : {}),
  };
}

/**
 * The connection every Slack user in a process shares: workspaces connected with OAuth (in Grantflow's database,
 * sealed with the keyring) first, then SLACK_BOT_TOKEN.
 */
export function slackConnection(
  settings: SlackSettings,
  knex: Knex | undefined,
  keyring: () => Keyring | undefined,
  retries?: number,
): SlackConnection {
  return new SlackConnection(
    settings,
    knex ? new KnexInstallationStore(knex, keyring) : undefined,
    slackClientOptions(settings, retries),
  );
}

export function createSlackApp(options: SlackAppOptions): SlackIntegration {
  const { settings, ctx } = options;
  const log = options.log.child({ component: 'slack' });
  const clientOptions = slackClientOptions(settings, options.retries);
  const connection =
    options.connection ?? slackConnection(settings, ctx.store.knex, keyringFromEnv, options.retries);
  const httpReceiver = settings.appToken
    ? undefined
    : new FastifySlackReceiver(settings.signingSecret ?? '', log);
  const receiver =
    httpReceiver ??
    new SocketModeReceiver({
      appToken: settings.appToken as string,
      logger: boltLogger(log),
      // apps.connections.open goes to the same (possibly proxied or fake) Web API as every other call.
      installerOptions: { clientOptions },
    });
  // The bot's own ids (one auth.test per token) let Bolt ignore the bot's own messages.
  const botIds = new Map<string, Promise<{ botUserId?: string; botId?: string }>>();
  const idsFor = (botToken: string) => {
    let ids = botIds.get(botToken);
    if (!ids) {
      ids = connection
        .clientFor(botToken)
        .auth.test()
        .then((r) => ({ botUserId: r.user_id, botId: r.bot_id }))
        .catch((err: unknown) => {
          botIds.delete(botToken);
          throw err;
        });
      botIds.set(botToken, ids);
    }
    return ids;
  };
  const app = new App({
    receiver,
    authorize: async (source) => {
      const found = await connection.botToken(source.teamId, source.enterpriseId);
      if (!found) throw new SlackOffError('authorize');
      return { botToken: found.token, ...(await idsFor(found.token)) };
    },
    clientOptions,
    logger: boltLogger(log),
  });
  const directory = new SlackDirectory(
    ctx.config,
    () => connection.client(),
    () => settings.matchUsersByEmail,
  );
  const deps = { ctx, directory };
  registerCommand(app, deps);
  registerRequestModal(app, deps);
  registerDecisions(app, deps);
  registerDirectMessages(app, deps);
  registerHome(app, deps);
  registerUninstall(app, { ctx, installations: connection.installations, log });
  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'Slack listener error');
  });
  return {
    app,
    connection,
    directory,
    mount(server) {
      httpReceiver?.register(server);
    },
    async start() {
      if (!httpReceiver) await app.start();
    },
    async stop() {
      if (!httpReceiver) await app.stop();
    },
  };
}

/** Bolt's logger interface over pino. */
function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg) => log.debug(text(msg)),
    info: (...msg) => log.info(text(msg)),
    warn: (...msg) => log.warn(text(msg)),
    error: (...msg) => log.error(text(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
