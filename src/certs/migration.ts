import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * Certificate records (MODEL.md §2.8): who got which serial for which thing, until
 * when, and whether it was revoked. Private keys are never stored. Records outlive
 * their thing (no foreign key): a revoked serial stays in the CRL until it expires.
 * Times are ISO 8601 UTC text in both dialects, so they sort as text.
 */
export function certsMigration(_dialect: Dialect): Migration {
  return {
    up: async (db) => {
      for (const statement of [
        `CREATE TABLE certs (
          serial text PRIMARY KEY,
          thing_id text NOT NULL,
          owner text NOT NULL,
          key_type text NOT NULL,
          expires_at text NOT NULL,
          revoked_at text,
          created_at text NOT NULL)`,
        'CREATE INDEX certs_thing ON certs (thing_id, expires_at)',
        'CREATE INDEX certs_owner ON certs (owner, thing_id)',
        'CREATE INDEX certs_revoked ON certs (revoked_at) WHERE revoked_at IS NOT NULL',
      ]) {
        await sql.raw(statement).execute(db);
      }
    },
  };
}

/**
 * Certificates about to expire (renewal, `GET /certs?expiring_within=`, the metrics):
 * valid records by expiry, everyone's and an owner's.
 */
export function certExpiryMigration(_dialect: Dialect): Migration {
  return {
    up: async (db) => {
      for (const statement of [
        'CREATE INDEX certs_expiry ON certs (expires_at) WHERE revoked_at IS NULL',
        'CREATE INDEX certs_owner_expiry ON certs (owner, expires_at) WHERE revoked_at IS NULL',
      ]) {
        await sql.raw(statement).execute(db);
      }
    },
  };
}
