import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * Idempotency keys (the `Idempotency-Key` header): per caller (`scope`) and key, the
 * fingerprint of the request that used it, whether it is still running, and its answer
 * once it has one. `claim` names the execution holding a running row, so only it can
 * record the answer or let go. Times are ISO 8601 UTC text, so they sort as text;
 * `expires_at` is the end of a running row's lease, then of a done row's retention.
 */
export function idempotencyMigration(dialect: Dialect): Migration {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    up: async (db) => {
      await sql
        .raw(`CREATE TABLE idempotency_keys (
          scope text NOT NULL,
          key text NOT NULL,
          fingerprint text NOT NULL,
          claim text NOT NULL,
          state text NOT NULL,
          status integer,
          headers text,
          body ${bytes},
          created_at text NOT NULL,
          expires_at text NOT NULL,
          PRIMARY KEY (scope, key))`)
        .execute(db);
      await sql.raw('CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at)').execute(db);
    },
  };
}
