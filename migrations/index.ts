/**
 * The list of Grantflow's migrations, imported statically so it works the same from source (tsx)
 * and compiled in dist/, with no directory scanning. Append new migrations at the end; never rename one
 * (its name is recorded in knex_migrations).
 */
import type { Knex } from 'knex';
import * as initial from './20261126000001_initial';
import * as chatConversations from './20261126000002_chat_conversations';
import * as chatReferences from './20261126000003_chat_references';
import * as apiTokens from './20261126000004_api_tokens';
import * as sessions from './20261126000005_sessions';
import * as grantCredentials from './20261126000006_grant_credentials';
import * as integrations from './20261126000007_integrations';

/** One migration: the name recorded in knex_migrations and its module. */
export interface GrantflowMigration {
  name: string;
  migration: Knex.Migration;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly GrantflowMigration[] = [
  { name: '20261126000001_initial', migration: initial },
  { name: '20261126000002_chat_conversations', migration: chatConversations },
  { name: '20261126000003_chat_references', migration: chatReferences },
  { name: '20261126000004_api_tokens', migration: apiTokens },
  { name: '20261126000005_sessions', migration: sessions },
  { name: '20261126000006_grant_credentials', migration: grantCredentials },
  { name: '20261126000007_integrations', migration: integrations },
];

/** A knex MigrationSource over MIGRATIONS, for `knex.migrate.latest({ migrationSource })`. */
export const migrationSource: Knex.MigrationSource<GrantflowMigration> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m.migration,
};
