/**
 * The Teams endpoint: Bot Framework activities at POST /api/messages on the API server, through botbuilder's
 * CloudAdapter. Each activity is authenticated first (issuer, audience, signing keys, endorsement, service
 * URL), and every failure of that step is a 401 — botbuilder itself answers 500 for a token signed by an
 * unknown key. Without an app id, Teams is off and every activity gets 401, except in dev mode on loopback,
 * where unauthenticated activities (e.g. from the Bot Framework Emulator) are accepted, with a warning.
 */
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  ConfigurationServiceClientCredentialFactory,
  type Activity,
  type TurnContext,
} from 'botbuilder';
import type {
  AuthenticateRequestResult,
  BotFrameworkAuthentication,
  ServiceClientCredentialsFactory,
} from 'botframework-connector';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppContext } from '../../core/context';
import { GrantflowTeamsBot } from './bot';
import { TeamsDirectory } from './directory';
import type { TeamsSettings } from './settings';

/** How often the time of the last activity from Teams is written down. */
const ACTIVITY_NOTE_INTERVAL_MS = 60_000;

/** CloudAdapter that takes a request already authenticated by us. */
export class GrantflowCloudAdapter extends CloudAdapter {
  processAuthenticated(
    result: AuthenticateRequestResult,
    activity: Activity,
    logic: (c: TurnContext) => Promise<void>,
  ) {
    return this.processActivity(result, activity, logic);
  }
}

/** botbuilder's authentication from our settings; tests pass a credentials factory that needs no cloud. */
export function botFrameworkAuthentication(
  settings: TeamsSettings,
  credentialsFactory?: ServiceClientCredentialsFactory,
): BotFrameworkAuthentication {
  const config = {
    MicrosoftAppId: settings.appId ?? '',
    MicrosoftAppPassword: settings.appPassword ?? '',
    MicrosoftAppType: settings.appType,
    MicrosoftAppTenantId: settings.tenantId,
    ...(settings.openIdMetadataUrl ? { ToBotFromChannelOpenIdMetadataUrl: settings.openIdMetadataUrl } : {}),
    ...(settings.tokenIssuer ? { ToBotFromChannelTokenIssuer: settings.tokenIssuer } : {}),
  };
  return new ConfigurationBotFrameworkAuthentication(
    config,
    credentialsFactory ?? new ConfigurationServiceClientCredentialFactory(config),
  );
}

export interface TeamsAppOptions {
  settings: TeamsSettings;
  ctx: AppContext;
  log: Logger;
  /** Accept unauthenticated activities when no app id is set (dev mode on loopback only). */
  allowUnauthenticated?: boolean;
  credentialsFactory?: ServiceClientCredentialsFactory;
}

export interface TeamsIntegration {
  adapter: GrantflowCloudAdapter;
  directory: TeamsDirectory;
  mount(server: FastifyInstance, path?: string): void;
}

export function createTeamsApp(options: TeamsAppOptions): TeamsIntegration {
  const { settings, ctx } = options;
  const log = options.log.child({ component: 'teams' });
  const auth = botFrameworkAuthentication(settings, options.credentialsFactory);
  const adapter = new GrantflowCloudAdapter(auth);
  adapter.onTurnError = async (_context, err) => {
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'Teams turn failed');
  };
  const directory = new TeamsDirectory(ctx.config, ctx.store, () => settings.matchUsersByEmail);
  const bot = new GrantflowTeamsBot(ctx, directory);
  const enabled = Boolean(settings.appId) || options.allowUnauthenticated === true;
  // When Teams last reached the bot, for the Integrations page: written at most once a minute per process.
  let lastNoted = 0;
  const noteActivity = (type: string) => {
    const now = Date.now();
    if (now - lastNoted < ACTIVITY_NOTE_INTERVAL_MS) return;
    lastNoted = now;
    ctx.store
      .putIntegrationStatus('teams', { lastActivityAt: new Date(now).toISOString(), lastActivityType: type })
      .catch((err: unknown) => {
        lastNoted = 0;
        log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'could not note a Teams activity',
        );
      });
  };

  return {
    adapter,
    directory,
    mount(server, path = '/api/messages') {
      server.post(path, async (req, reply) => {
        if (!enabled) return reply.code(401).send({ error: 'Teams is not configured' });
        const activity = req.body as Activity;
        if (!activity || typeof activity !== 'object' || !activity.type)
          return reply.code(400).send({ error: 'expected a Bot Framework activity' });
        let result: AuthenticateRequestResult;
        try {
          result = await auth.authenticateRequest(activity, String(req.headers.authorization ?? ''));
        } catch (err) {
          log.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'refused an unauthenticated Teams activity',
          );
          return reply.code(401).send({ error: 'unauthorized' });
        }
        noteActivity(String(activity.type));
        const invoke = await adapter.processAuthenticated(result, activity, (context) => bot.run(context));
        return reply.code(invoke?.status ?? 200).send(invoke?.body ?? '');
      });
    },
  };
}
