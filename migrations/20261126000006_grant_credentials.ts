/**
 * Sign-in details made for one grant (temporary users), kept for their requester only until the grant ends.
 * `sealed` is AES-256-GCM ciphertext (core/keyring.ts) bound to the request id; nothing here is readable alone.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('grant_credentials', (t) => {
    t.text('request_id').primary();
    /** The only person who may read them. */
    t.text('requester').notNullable();
    t.text('sealed').notNullable();
    t.text('created_at').notNullable();
    /** When they stop being useful (the grant's latest possible end); rows are deleted at revoke. */
    t.text('expires_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('grant_credentials');
}
