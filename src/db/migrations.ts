import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { eventsMigration } from '../audit/migration.js';
import { bootstrapMigration } from '../bootstrap/migration.js';
import { certExpiryMigration, certsMigration } from '../certs/migration.js';
import { enrollmentsMigration } from '../enrollments/migration.js';
import { groupsMigration } from '../groups/migration.js';
import { idempotencyMigration } from '../idempotency/migration.js';
import { layoutsMigration } from '../layouts/migration.js';
import type { Database, Dialect } from './schema.js';

/**
 * Versioned migrations, applied at start-up. Each one is written for both dialects;
 * the schema is the same, only the JSON type and the triggers differ.
 */
function exec(db: Kysely<any>, statements: string[]) {
  return statements.reduce(
    (p, s) => p.then(() => sql.raw(s).execute(db)).then(() => undefined),
    Promise.resolve(),
  );
}

const COUNT_SHARDS = 64;

function core(dialect: Dialect): Migration {
  const json = dialect === 'postgres' ? 'jsonb' : 'text';
  const common = [
    `CREATE TABLE users (
      id text PRIMARY KEY,
      email text NOT NULL UNIQUE,
      password text NOT NULL,
      metadata ${json} NOT NULL DEFAULT '{}',
      created_at text NOT NULL)`,
    `CREATE TABLE keys (
      id text NOT NULL,
      type integer NOT NULL,
      issuer_id text NOT NULL,
      subject text NOT NULL,
      issued_at text NOT NULL,
      expires_at text,
      PRIMARY KEY (id, issuer_id))`,
    `CREATE TABLE things (
      id text PRIMARY KEY,
      owner text NOT NULL,
      name text NOT NULL DEFAULT '',
      key text NOT NULL UNIQUE,
      metadata ${json} NOT NULL DEFAULT '{}')`,
    'CREATE INDEX things_owner_id ON things (owner, id)',
    'CREATE INDEX things_owner_name ON things (owner, name, id)',
    `CREATE TABLE channels (
      id text PRIMARY KEY,
      owner text NOT NULL,
      name text NOT NULL DEFAULT '',
      metadata ${json} NOT NULL DEFAULT '{}')`,
    'CREATE INDEX channels_owner_id ON channels (owner, id)',
    'CREATE INDEX channels_owner_name ON channels (owner, name, id)',
    `CREATE TABLE connections (
      channel_id text NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
      thing_id text NOT NULL REFERENCES things (id) ON DELETE CASCADE,
      owner text NOT NULL,
      PRIMARY KEY (channel_id, thing_id))`,
    'CREATE INDEX connections_thing ON connections (thing_id, channel_id)',
    `CREATE TABLE entity_counts (
      owner text NOT NULL,
      kind text NOT NULL,
      shard integer NOT NULL,
      n bigint NOT NULL,
      writes bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (owner, kind, shard))`,
  ];
  const postgres = [
    'CREATE INDEX things_metadata ON things USING gin (metadata jsonb_path_ops)',
    'CREATE INDEX channels_metadata ON channels USING gin (metadata jsonb_path_ops)',
    // Each database connection counts in its own shard (by backend pid), so concurrent
    // inserts by one owner on different connections do not queue on one counter row.
    `CREATE FUNCTION tethys_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO entity_counts (owner, kind, shard, n, writes)
         SELECT owner, TG_TABLE_NAME, (pg_backend_pid() % ${COUNT_SHARDS}), count(*), count(*) FROM new_rows GROUP BY owner
       ON CONFLICT (owner, kind, shard) DO UPDATE SET n = entity_counts.n + EXCLUDED.n, writes = entity_counts.writes + EXCLUDED.writes;
       RETURN NULL;
     END $$`,
    `CREATE FUNCTION tethys_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO entity_counts (owner, kind, shard, n, writes)
         SELECT owner, TG_TABLE_NAME, (pg_backend_pid() % ${COUNT_SHARDS}), -count(*), count(*) FROM old_rows GROUP BY owner
       ON CONFLICT (owner, kind, shard) DO UPDATE SET n = entity_counts.n + EXCLUDED.n, writes = entity_counts.writes + EXCLUDED.writes;
       RETURN NULL;
     END $$`,
    // A rename moves a row in name order: it counts as a write for the page anchors.
    `CREATE FUNCTION tethys_count_rename() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO entity_counts (owner, kind, shard, n, writes)
         VALUES (NEW.owner, TG_TABLE_NAME, (pg_backend_pid() % ${COUNT_SHARDS}), 0, 1)
       ON CONFLICT (owner, kind, shard) DO UPDATE SET writes = entity_counts.writes + 1;
       RETURN NULL;
     END $$`,
    ...['things', 'channels'].flatMap((t) => [
      `CREATE TRIGGER ${t}_count_insert AFTER INSERT ON ${t} REFERENCING NEW TABLE AS new_rows
         FOR EACH STATEMENT EXECUTE FUNCTION tethys_count_insert()`,
      `CREATE TRIGGER ${t}_count_delete AFTER DELETE ON ${t} REFERENCING OLD TABLE AS old_rows
         FOR EACH STATEMENT EXECUTE FUNCTION tethys_count_delete()`,
      `CREATE TRIGGER ${t}_count_rename AFTER UPDATE OF name ON ${t}
         FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION tethys_count_rename()`,
    ]),
  ];
  // SQLite has no containment operator: top-level metadata pairs are indexed in a side
  // table kept by triggers, so a metadata filter is an index lookup, not a scan.
  const sqlite = ['things', 'channels'].flatMap((t) => {
    const single = t.slice(0, -1);
    const fill = `INSERT INTO ${single}_meta (${single}_id, owner, k, t, v)
        SELECT NEW.id, NEW.owner, key, type, CASE WHEN type IN ('object', 'array') THEN NULL ELSE atom END
        FROM json_each(NEW.metadata);`;
    return [
      `CREATE TABLE ${single}_meta (
        ${single}_id text NOT NULL REFERENCES ${t} (id) ON DELETE CASCADE,
        owner text NOT NULL, k text NOT NULL, t text NOT NULL, v)`,
      `CREATE INDEX ${single}_meta_lookup ON ${single}_meta (owner, k, v, ${single}_id)`,
      `CREATE INDEX ${single}_meta_entity ON ${single}_meta (${single}_id)`,
      `CREATE TRIGGER ${t}_meta_insert AFTER INSERT ON ${t} BEGIN ${fill} END`,
      `CREATE TRIGGER ${t}_meta_update AFTER UPDATE OF metadata ON ${t} BEGIN
         DELETE FROM ${single}_meta WHERE ${single}_id = OLD.id; ${fill} END`,
      `CREATE TRIGGER ${t}_count_insert AFTER INSERT ON ${t} BEGIN
         INSERT INTO entity_counts (owner, kind, shard, n, writes) VALUES (NEW.owner, '${t}', 0, 1, 1)
         ON CONFLICT (owner, kind, shard) DO UPDATE SET n = n + 1, writes = writes + 1; END`,
      `CREATE TRIGGER ${t}_count_delete AFTER DELETE ON ${t} BEGIN
         UPDATE entity_counts SET n = n - 1, writes = writes + 1 WHERE owner = OLD.owner AND kind = '${t}' AND shard = 0; END`,
      `CREATE TRIGGER ${t}_count_rename AFTER UPDATE OF name ON ${t} WHEN OLD.name IS NOT NEW.name BEGIN
         UPDATE entity_counts SET writes = writes + 1 WHERE owner = OLD.owner AND kind = '${t}' AND shard = 0; END`,
    ];
  });
  return {
    up: async (db) => {
      await exec(db, [...common, ...(dialect === 'postgres' ? postgres : sqlite)]);
    },
  };
}

/** Trigram index for case-insensitive substring search on names, where pg_trgm exists. */
function nameSearch(dialect: Dialect): Migration {
  return {
    up: async (db) => {
      if (dialect !== 'postgres') return;
      const available = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'pg_trgm'`.execute(db);
      if (!available.rows[0]?.n) return;
      await exec(db, [
        'CREATE EXTENSION IF NOT EXISTS pg_trgm',
        'CREATE INDEX things_name_trgm ON things USING gin (name gin_trgm_ops)',
        'CREATE INDEX channels_name_trgm ON channels USING gin (name gin_trgm_ops)',
      ]);
    },
  };
}

/**
 * PostgreSQL: inserts count themselves. The statement trigger built a transition table
 * of the new rows for every INSERT (about a tenth of a bulk insert's time); the
 * repository's INSERT now carries the counter update in the same statement (a CTE),
 * which is the only way rows enter things and channels. Deletes and renames keep their
 * triggers (cascades delete rows no repository statement names). SQLite is unchanged.
 */
function insertsCountThemselves(dialect: Dialect): Migration {
  return {
    up: async (db) => {
      if (dialect !== 'postgres') return;
      await exec(db, [
        'DROP TRIGGER things_count_insert ON things',
        'DROP TRIGGER channels_count_insert ON channels',
        'DROP FUNCTION tethys_count_insert()',
      ]);
    },
  };
}

/**
 * PostgreSQL: thing keys and bootstrap external ids are unique through a hash index
 * (an exclusion constraint: no two rows with equal values) instead of a B-tree. A
 * B-tree entry holds the whole value and PostgreSQL refuses one over 2,704 bytes, so a
 * caller-chosen key of 4,096 random characters (which the contract accepts) or a long
 * external id failed the insert; a hash index entry is 4 bytes whatever the value, and
 * it serves the lookups by key (equality only) as well. A duplicate is now error 23P01,
 * which `isUniqueViolation` reads as the 23505 it replaces.
 */
function uniqueByHash(dialect: Dialect): Migration {
  return {
    up: async (db) => {
      if (dialect !== 'postgres') return;
      await exec(db, [
        'ALTER TABLE things DROP CONSTRAINT things_key_key',
        'ALTER TABLE things ADD CONSTRAINT things_key_unique EXCLUDE USING hash (key WITH =)',
        'ALTER TABLE bootstrap_configs DROP CONSTRAINT bootstrap_configs_external_id_key',
        'ALTER TABLE bootstrap_configs ADD CONSTRAINT bootstrap_configs_external_id_unique EXCLUDE USING hash (external_id WITH =)',
      ]);
    },
  };
}

/**
 * PostgreSQL: `tethys_duplicate(what)` raises a unique violation (23505). Inserts into the
 * exclusion-constrained tables (migration 0006) use ON CONFLICT DO NOTHING, because two
 * concurrent plain inserts of one value into an exclusion constraint each wait for the
 * other and deadlock (a second later, 40P01), where speculative insertion does not; the
 * statement then calls this when a row was left out, so it fails whole as before.
 */
function duplicateError(dialect: Dialect): Migration {
  return {
    up: async (db) => {
      if (dialect !== 'postgres') return;
      await exec(db, [
        `CREATE FUNCTION tethys_duplicate(what text) RETURNS integer LANGUAGE plpgsql AS $$
         BEGIN RAISE unique_violation USING MESSAGE = what || ' already exists'; END $$`,
      ]);
    },
  };
}

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_core': core(dialect),
    '0002_name_search': nameSearch(dialect),
    '0003_certs': certsMigration(dialect),
    '0004_bootstrap': bootstrapMigration(dialect),
    '0005_inserts_count_themselves': insertsCountThemselves(dialect),
    '0006_unique_by_hash': uniqueByHash(dialect),
    '0007_groups': groupsMigration(dialect),
    '0008_duplicate_error': duplicateError(dialect),
    '0009_layouts': layoutsMigration(dialect),
    '0010_idempotency': idempotencyMigration(dialect),
    '0011_enrollments': enrollmentsMigration(dialect),
    '0012_cert_expiry': certExpiryMigration(dialect),
    '0013_events': eventsMigration(dialect),
  };
}

export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrationsFor(dialect) },
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(
      `database migration ${failed?.migrationName ?? ''} failed: ${(error as Error)?.message ?? error}`,
      {
        cause: error,
      },
    );
  }
}
