/**
 * Chat conversations in progress (a request made step by step in a direct message), kept in the database so
 * that a restart or a second replica carries them on.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('chat_conversations', (t) => {
    t.text('platform').notNullable();
    t.text('user_id').notNullable();
    t.text('state').notNullable();
    t.text('updated_at').notNullable();
    t.primary(['platform', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('chat_conversations');
}
