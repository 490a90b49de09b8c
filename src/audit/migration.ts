import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * The audit trail's events (issue 21). The id is time-ordered (UUIDv7's layout), so it
 * is the order of the trail, its page keys and its time bounds (`from`/`to` become id
 * ranges) without an index on time; pruning walks the primary key from the oldest.
 * The indexes are those the reads filter by: an entity (as the entity or the related
 * one), an owner (what a user may read), an actor. Written with every change, so
 * nothing else is indexed: an action filter is read along one of these.
 * `event_cursors` keeps a sink's place in the trail (the webhook delivers after it).
 */
export function eventsMigration(dialect: Dialect): Migration {
  const json = dialect === 'postgres' ? 'jsonb' : 'text';
  // Ids and bounds compare byte by byte (a locale's collation would skip the hyphens).
  const bytes = dialect === 'postgres' ? ' COLLATE "C"' : '';
  const statements = [
    `CREATE TABLE events (
      id text${bytes} PRIMARY KEY,
      time text NOT NULL,
      actor text NOT NULL,
      actor_user text,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text NOT NULL,
      related_id text,
      owner text,
      source text,
      request_id text,
      details ${json} NOT NULL)`,
    'CREATE INDEX events_entity ON events (entity_id, id)',
    'CREATE INDEX events_related ON events (related_id, id) WHERE related_id IS NOT NULL',
    'CREATE INDEX events_owner ON events (owner, id)',
    'CREATE INDEX events_actor ON events (actor, id)',
    // Where each sink (the webhook) has delivered to, and which instance delivers now.
    `CREATE TABLE event_cursors (
      sink text PRIMARY KEY,
      last_id text${bytes} NOT NULL,
      holder text,
      lease_until text NOT NULL)`,
  ];
  return {
    up: async (db) => {
      for (const s of statements) await sql.raw(s).execute(db);
    },
  };
}
