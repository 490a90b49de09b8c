import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * The audit trail's events (issue 21). The id is time-ordered (UUIDv7's layout), so it
 * is the order of the trail, its page keys and its time bounds (`from`/`to` become id
 * ranges) without an index on time; pruning walks the primary key from the oldest.
 * The indexes are those the reads filter by: an entity (as the entity or the related
 * one) and an owner (what a user may read). A row is written with every change, so
 * it is kept small (its time is in its id, its entity type in its action) and nothing
 * else is indexed: an action or actor filter is read along one of these.
 * `event_cursors` keeps a sink's place in the trail (the webhook delivers after it).
 */
export function eventsMigration(dialect: Dialect): Migration {
  const json = dialect === 'postgres' ? 'jsonb' : 'text';
  // PostgreSQL keeps ids as uuid (16 bytes in the row and in every index, compared as
  // bytes: the order of their hex text); SQLite as text.
  const idType = dialect === 'postgres' ? 'uuid' : 'text';
  const statements = [
    `CREATE TABLE events (
      id ${idType} PRIMARY KEY,
      actor text NOT NULL,
      actor_user text,
      action text NOT NULL,
      entity_id text NOT NULL,
      related_id text,
      owner text,
      source text,
      request_id text,
      details ${json} NOT NULL)`,
    'CREATE INDEX events_entity ON events (entity_id, id)',
    'CREATE INDEX events_related ON events (related_id, id) WHERE related_id IS NOT NULL',
    'CREATE INDEX events_owner ON events (owner, id)',
    // Where each sink (the webhook) has delivered to, and which instance delivers now.
    `CREATE TABLE event_cursors (
      sink text PRIMARY KEY,
      last_id ${idType} NOT NULL,
      holder text,
      lease_until text NOT NULL)`,
  ];
  return {
    up: async (db) => {
      for (const s of statements) await sql.raw(s).execute(db);
    },
  };
}
