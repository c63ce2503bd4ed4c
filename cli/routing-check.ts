/**
 * `grantflow flows validate`'s routing check: does every flow's notification target lead somewhere? It asks what
 * the servers would: the Slack token in use (a workspace connected in the portal, found in Grantflow's database,
 * else SLACK_BOT_TOKEN), whether the bot is in each Slack channel, whether Teams is configured and has been
 * added to each Teams channel's team. What it cannot see from here (no database, unresolved secrets) it says
 * in a note rather than guessing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { routingProbe, routingWarnings } from '../chat-adapters/routing';
import { slackConnection } from '../chat-adapters/slack/app';
import { slackSettings } from '../chat-adapters/slack/settings';
import { teamsSettings } from '../chat-adapters/teams/settings';
import { loadConfig } from '../config/load';
import type { GrantflowConfig } from '../config/types';
import { keyringFromEnv } from '../core/keyring';
import type { RoutingWarning } from '../server/integrations/types';
import type { Store } from '../store/types';
import { dataDir, openStoreFromEnv } from './context';

export interface RoutingCheck {
  warnings: RoutingWarning[];
  /** What could not be checked, and why. */
  notes: string[];
}

export async function checkRouting(
  file: string,
  unresolved: GrantflowConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RoutingCheck> {
  const notes: string[] = [];
  const usesChat = unresolved.flows.some((f) => f.notify.some((t) => t.platform !== 'log'));
  if (!usesChat) return { warnings: [], notes };
  // Tokens in grantflow.yaml may be secret references: resolve them if this machine can.
  let config = unresolved;
  try {
    config = loadConfig(file, env);
  } catch (err) {
    notes.push(
      `secrets in ${path.basename(file)} could not be resolved here (${messageOf(err)}): tokens set there were not tried`,
    );
  }
  const store = await openMigratedStore(notes);
  try {
    let slack;
    try {
      const settings = slackSettings(config, env);
      slack = settings
        ? await slackConnection(settings, store?.knex, () => keyringFromEnv(env), 0).checkClient()
        : undefined;
    } catch (err) {
      notes.push(`Slack could not be checked: ${messageOf(err)}`);
    }
    const probe = routingProbe({ slack, teamsAppId: teamsSettings(config, env).appId, store });
    return { warnings: await routingWarnings(config, probe), notes };
  } finally {
    await store?.close();
  }
}

/** Grantflow's database, when there is one here and it is migrated; otherwise a note and undefined. */
async function openMigratedStore(notes: string[]): Promise<Store | undefined> {
  const sqlite = path.join(dataDir(), 'grantflow.sqlite');
  if (!process.env.DATABASE_URL && !existsSync(sqlite)) {
    notes.push(
      'no Grantflow database here (DATABASE_URL, or the dev data folder): a Slack workspace connected in the portal, and Teams channels, are not seen',
    );
    return undefined;
  }
  try {
    const store = await openStoreFromEnv();
    if (await store.knex.schema.hasTable('slack_installations')) return store;
    await store.close();
    notes.push(
      "Grantflow's database is not migrated to this version (grantflow migrate): connected workspaces are not seen",
    );
  } catch (err) {
    notes.push(
      `Grantflow's database could not be opened (${messageOf(err)}): connected workspaces are not seen`,
    );
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
