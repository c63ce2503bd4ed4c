/**
 * The first schema: the requests index, sent chat messages, access holders, named locks, the audit
 * chain and loaded config versions. Every timestamp is an ISO-8601 UTC string with milliseconds, and
 * every string column is `text`, so SQLite and PostgreSQL store and compare values identically
 * (ISO strings of one format sort in time order).
 */
import type { Knex } from 'knex';

async function createRequests(knex: Knex): Promise<void> {
  await knex.schema.createTable('requests', (t) => {
    t.text('id').primary();
    t.text('workflow_id').notNullable();
    t.text('requester').notNullable();
    t.text('flow').notNullable();
    t.text('resource').notNullable();
    t.text('permission').notNullable();
    t.text('integration').notNullable();
    t.text('status').notNullable();
    t.text('reason').notNullable();
    t.bigInteger('duration_ms').notNullable();
    t.text('channel').notNullable();
    t.text('idempotency_key').nullable();
    t.text('created_at').notNullable();
    t.text('updated_at').notNullable();
    t.text('granted_at').nullable();
    t.text('expires_at').nullable();
    t.text('decided_by').nullable();
    t.index(['requester'], 'requests_requester_idx');
    t.index(['status'], 'requests_status_idx');
    t.index(['created_at'], 'requests_created_at_idx');
    t.index(['requester', 'flow', 'resource', 'permission', 'status'], 'requests_lookup_idx');
    // Keys are per person: the same key from two people must not return one person's request to the other.
    t.unique(['requester', 'idempotency_key'], { indexName: 'requests_idempotency_key_unique' });
    // At most one pending request per person and access; makes insertRequest race-free.
    t.unique(['requester', 'flow', 'resource', 'permission'], {
      indexName: 'requests_one_pending_unique',
      useConstraint: false,
      predicate: knex.whereRaw("?? = 'PENDING_APPROVAL'", ['status']),
    });
  });
}

async function createMessagesAndHolders(knex: Knex): Promise<void> {
  await knex.schema.createTable('sent_messages', (t) => {
    t.increments('id');
    t.text('request_id').notNullable();
    t.text('platform').notNullable();
    t.text('audience').notNullable();
    t.text('conversation_id').notNullable();
    t.text('message_id').notNullable();
    t.text('extra').nullable();
    t.text('created_at').notNullable();
    t.unique(['platform', 'conversation_id', 'message_id'], { indexName: 'sent_messages_ref_unique' });
    t.index(['request_id'], 'sent_messages_request_idx');
  });
  await knex.schema.createTable('access_holders', (t) => {
    t.text('access_key').notNullable();
    t.text('request_id').notNullable();
    t.text('expires_at').notNullable();
    t.text('created_at').notNullable();
    t.primary(['access_key', 'request_id']);
    t.index(['request_id'], 'access_holders_request_idx');
  });
  await knex.schema.createTable('locks', (t) => {
    t.text('name').primary();
    t.bigInteger('n').notNullable().defaultTo(0);
  });
}

async function createAuditAndConfig(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_events', (t) => {
    t.increments('seq');
    t.text('event_key').notNullable().unique({ indexName: 'audit_events_event_key_unique' });
    t.text('type').notNullable();
    t.text('actor').notNullable();
    t.text('request_id').nullable();
    t.text('channel').nullable();
    t.text('at').notNullable();
    t.text('details').notNullable();
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable();
    t.index(['request_id'], 'audit_events_request_idx');
    t.index(['at'], 'audit_events_at_idx');
    // verifyAudit follows prev_hash links back to explain reordered rows.
    t.index(['hash'], 'audit_events_hash_idx');
  });
  await knex.schema.createTable('config_versions', (t) => {
    t.integer('version').primary();
    t.text('loaded_at').notNullable();
    t.text('file').notNullable();
    t.text('text').notNullable();
  });
}

/** Creates every table of the first schema. */
export async function up(knex: Knex): Promise<void> {
  await createRequests(knex);
  await createMessagesAndHolders(knex);
  await createAuditAndConfig(knex);
}

/** Drops every table of the first schema. */
export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'config_versions',
    'audit_events',
    'locks',
    'access_holders',
    'sent_messages',
    'requests',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
