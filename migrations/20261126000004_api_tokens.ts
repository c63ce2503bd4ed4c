/**
 * API tokens for scripts calling the HTTP API (`Authorization: Bearer`). Only the SHA-256 of a token is
 * kept: a copy of the database must not let anyone act as the token's owner.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_tokens', (t) => {
    /** `tok_` + 12 random base32 characters: what people list and revoke by. */
    t.text('id').primary();
    /** SHA-256 hex of the token; never the token itself. */
    t.text('token_hash').notNullable().unique({ indexName: 'api_tokens_token_hash_unique' });
    t.text('email').notNullable();
    t.text('name').nullable();
    t.text('created_by').notNullable();
    t.text('created_at').notNullable();
    t.text('last_used_at').nullable();
    t.text('revoked_at').nullable();
    t.index(['email'], 'api_tokens_email_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_tokens');
}
