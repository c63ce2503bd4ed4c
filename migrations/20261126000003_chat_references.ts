/**
 * Conversation references of chat platforms that can only message people proactively through one (Teams):
 * kept when a person first talks to the bot, or when the bot is installed in a team or chat.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('chat_references', (t) => {
    t.text('platform').notNullable();
    /** `user:<platform user id>` or `channel:<channel id>`. */
    t.text('ref_key').notNullable();
    t.text('reference').notNullable();
    t.text('updated_at').notNullable();
    t.primary(['platform', 'ref_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('chat_references');
}
