import { type Migration, sql } from 'kysely';
import type { Dialect } from '../db/schema.js';

/**
 * Enrollment groups and their registrations. A registration names the thing it made;
 * the thing belongs to the things domain, so no foreign key points there: a removed
 * thing's registration is dropped on its `thing.removed` event. A group going takes
 * its registrations with it and leaves the devices as they are.
 */
export function enrollmentsMigration(dialect: Dialect): Migration {
  const json = dialect === 'postgres' ? 'jsonb' : 'text';
  const statements = [
    `CREATE TABLE enrollments (
      id text PRIMARY KEY,
      owner_id text NOT NULL,
      owner text NOT NULL,
      name text NOT NULL,
      attestation text NOT NULL,
      group_key text,
      ca_cert text,
      layout text NOT NULL,
      parameters ${json} NOT NULL,
      registration_id_pattern text NOT NULL,
      max_devices integer,
      certificate ${json},
      enabled integer NOT NULL,
      registered integer NOT NULL DEFAULT 0,
      created_at text NOT NULL,
      updated_at text NOT NULL,
      UNIQUE (owner_id, name))`,
    `CREATE TABLE enrollment_registrations (
      enrollment_id text NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
      registration_id text NOT NULL,
      thing_id text NOT NULL,
      external_key text NOT NULL,
      first_enrolled text NOT NULL,
      last_enrolled text NOT NULL,
      count integer NOT NULL,
      PRIMARY KEY (enrollment_id, registration_id))`,
    'CREATE INDEX enrollment_registrations_thing ON enrollment_registrations (thing_id)',
  ];
  return {
    up: async (db) => {
      for (const s of statements) await sql.raw(s).execute(db);
    },
  };
}
