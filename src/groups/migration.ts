import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * Groups (MODEL.md §2.3): a tree per owner, at most five levels, `path` the ancestor
 * ids and the group's own joined by `.`, so a subtree is a prefix match. Members are
 * free-form (id, type) pairs, a member at most once a group. A group's parent going
 * takes the group with it; members go with their group. (`groups` is an SQL keyword.)
 */
export function groupsMigration(dialect: Dialect): Migration {
  const json = dialect === 'postgres' ? 'jsonb' : 'text';
  const statements = [
    `CREATE TABLE user_groups (
      id text PRIMARY KEY,
      owner_id text NOT NULL,
      parent_id text REFERENCES user_groups (id) ON DELETE CASCADE,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      metadata ${json} NOT NULL DEFAULT '{}',
      path text NOT NULL,
      level integer NOT NULL,
      created_at text NOT NULL,
      updated_at text NOT NULL,
      UNIQUE (owner_id, parent_id, name))`,
    'CREATE INDEX user_groups_owner_path ON user_groups (owner_id, path)',
    'CREATE INDEX user_groups_parent ON user_groups (parent_id)',
    `CREATE TABLE group_members (
      group_id text NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
      member_id text NOT NULL,
      type text NOT NULL,${dialect === 'postgres' ? '\n      seq bigserial,' : ''}
      PRIMARY KEY (group_id, member_id))`,
    'CREATE INDEX group_members_member ON group_members (member_id, type)',
    // Assignment order: a sequence on PostgreSQL, the rowid (which every index ends with) on SQLite.
    `CREATE INDEX group_members_order ON group_members (group_id, type${dialect === 'postgres' ? ', seq' : ''})`,
  ];
  return {
    up: async (db) => {
      for (const s of statements) await sql.raw(s).execute(db);
    },
  };
}
