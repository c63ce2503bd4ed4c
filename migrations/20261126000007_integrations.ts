/**
 * Integrations connected from the portal, and what Grantflow last learned about each one:
 * - `slack_installations`: a Slack workspace connected with OAuth v2 ("Connect Slack"). The whole installation
 *   (bot token included) is sealed with GRANTFLOW_ENCRYPTION_KEYS (core/keyring.ts) in `sealed`; the other
 *   columns repeat what the Integrations page shows, never a token.
 * - `slack_oauth_states`: the OAuth `state` values handed out and not used yet (by SHA-256), so that each one
 *   completes at most one install.
 * - `integration_status`: the last health check of each connector, and when Teams last sent an activity.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('slack_installations', (t) => {
    /** The enterprise id for an org-wide install, else the team (workspace) id. */
    t.text('install_key').primary();
    t.text('team_id');
    t.text('team_name');
    t.text('enterprise_id');
    t.text('enterprise_name');
    t.boolean('is_enterprise_install').notNullable().defaultTo(false);
    t.text('app_id');
    t.text('bot_user_id');
    t.text('bot_id');
    /** Comma-separated, as Slack sends them. */
    t.text('scopes').notNullable().defaultTo('');
    /** The Grantflow identity (admin) who connected it. */
    t.text('installed_by').notNullable();
    t.text('installed_at').notNullable();
    /** `keyId.ciphertext` of the installation's JSON, bound to install_key. */
    t.text('sealed').notNullable();
    t.text('key_id').notNullable();
  });
  await knex.schema.createTable('slack_oauth_states', (t) => {
    t.text('state_hash').primary();
    t.text('expires_at').notNullable();
  });
  await knex.schema.createTable('integration_status', (t) => {
    /** `connector:<name>` or a chat platform (`teams`). */
    t.text('subject').primary();
    t.text('status').notNullable();
    t.text('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('integration_status');
  await knex.schema.dropTable('slack_oauth_states');
  await knex.schema.dropTable('slack_installations');
}
