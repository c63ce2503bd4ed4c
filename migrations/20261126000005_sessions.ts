/**
 * Browser login sessions for the portal, kept in the database so restarts and replicas keep people logged in.
 * Only the SHA-256 of the cookie value is kept: a copy of the database must not let anyone act as a person.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sessions', (t) => {
    /** SHA-256 hex of the `gf_session` cookie value; never the value itself. */
    t.text('id_hash').primary();
    t.text('email').notNullable();
    /** The synchronizer token state-changing calls must echo in `x-csrf-token`. */
    t.text('csrf_token').notNullable();
    /** When the person authenticated at the identity provider (the ID token's auth_time). */
    t.text('auth_time').notNullable();
    t.text('created_at').notNullable();
    t.text('expires_at').notNullable();
    t.text('last_seen_at').nullable();
    t.index(['expires_at'], 'sessions_expires_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sessions');
}
