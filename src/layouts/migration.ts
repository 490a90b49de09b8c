import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * Named provision layouts (issue 19): a user's TOML and the parameters it declares (as
 * read, for listings), one name per owner. The server's own layout, `default`, is not
 * stored: it is the file (or the built-in one) read at start.
 */
export function layoutsMigration(dialect: Dialect): Migration {
  const json = dialect === 'postgres' ? 'jsonb' : 'text';
  const statements = [
    `CREATE TABLE layouts (
      owner text NOT NULL,
      name text NOT NULL,
      toml text NOT NULL,
      parameters ${json} NOT NULL DEFAULT '[]',
      created_at text NOT NULL,
      updated_at text NOT NULL,
      PRIMARY KEY (owner, name))`,
  ];
  return {
    up: async (db) => {
      for (const s of statements) await sql.raw(s).execute(db);
    },
  };
}
