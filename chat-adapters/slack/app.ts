/**
 * The Slack app: Bolt over the API server's POST /slack/events (or Socket Mode with an app-level token), with
 * an `authorize` function over a token source, so the environment's token works now and an installation
 * store can supply tokens later. The listeners only translate between Slack and the request use cases.
 */
import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppContext } from '../../core/context';
import { SlackDirectory } from './directory';
import { registerCommand } from './listeners/command';
import { registerDecisions } from './listeners/decisions';
import { registerDirectMessages } from './listeners/direct-message';
import { registerHome } from './listeners/home';
import { registerRequestModal } from './listeners/request-modal';
import { FastifySlackReceiver } from './receiver';
import type { SlackSettings } from './settings';

/** Where bot tokens come from: the environment now, an installation store later. */
export interface TokenSource {
  botToken(teamId?: string): Promise<string>;
}

export interface SlackAppOptions {
  settings: SlackSettings;
  ctx: AppContext;
  log: Logger;
  /** Retries of Web API calls; tests use 0. @default Slack's own policy */
  retries?: number;
  tokens?: TokenSource;
}

export interface SlackIntegration {
  app: App;
  client: WebClient;
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

export function createSlackApp(options: SlackAppOptions): SlackIntegration {
  const { settings, ctx } = options;
  const log = options.log.child({ component: 'slack' });
  const tokens: TokenSource = options.tokens ?? { botToken: async () => settings.botToken };
  const clientOptions = slackClientOptions(settings, options.retries);
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
      ids = new WebClient(botToken, clientOptions).auth
        .test()
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
      const botToken = await tokens.botToken(source.teamId);
      return { botToken, ...(await idsFor(botToken)) };
    },
    clientOptions,
    logger: boltLogger(log),
  });
  const client = new WebClient(settings.botToken, clientOptions);
  const directory = new SlackDirectory(ctx.config, client, () => settings.matchUsersByEmail);
  const deps = { ctx, directory };
  registerCommand(app, deps);
  registerRequestModal(app, deps);
  registerDecisions(app, deps);
  registerDirectMessages(app, deps);
  registerHome(app, deps);
  app.error(async (err) => {
    log.error({ err: err.message, code: (err as { code?: string }).code }, 'Slack listener error');
  });
  return {
    app,
    client,
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
