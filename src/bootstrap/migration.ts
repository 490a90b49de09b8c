import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * Bootstrap configs reference the thing and the channels they configure instead of
 * keeping copies (Mainflux's separate service had to): deleting a thing deletes its
 * config, deleting a channel drops it from every config's list, and a renamed channel
 * or a changed key is what the gateway gets next.
 */
export function bootstrapMigration(_dialect: Dialect): Migration {
  const statements = [
    `CREATE TABLE bootstrap_configs (
      thing_id text PRIMARY KEY REFERENCES things (id) ON DELETE CASCADE,
      owner text NOT NULL,
      external_id text NOT NULL UNIQUE,
      external_key text NOT NULL,
      name text NOT NULL DEFAULT '',
      content text NOT NULL DEFAULT '',
      client_cert text NOT NULL DEFAULT '',
      client_key text NOT NULL DEFAULT '',
      ca_cert text NOT NULL DEFAULT '',
      state integer NOT NULL DEFAULT 0)`,
    'CREATE INDEX bootstrap_configs_owner ON bootstrap_configs (owner, thing_id)',
    `CREATE TABLE bootstrap_channels (
      thing_id text NOT NULL REFERENCES bootstrap_configs (thing_id) ON DELETE CASCADE,
      channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
      position integer NOT NULL,
      PRIMARY KEY (thing_id, channel_id))`,
    'CREATE INDEX bootstrap_channels_channel ON bootstrap_channels (channel_id)',
  ];
  return {
    up: async (db) => {
      for (const s of statements) await sql.raw(s).execute(db);
    },
  };
}
